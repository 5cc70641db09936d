// MockSystem: goebpf's MockSystem (Programs, Maps, ErrorLoadElf), loading real objects: loadElf/load
// read the object with the real inspect() and make a MockMap per map and a MockProgram per program,
// so a test gets the object's real names, types and sizes (and global data's initial contents).
import { readFileSync } from 'node:fs';
import { inspect, mapInitialData, type MapSpec as ElfMapSpec, type ObjectInfo } from '../inspect.js';
import type { SystemLike } from '../program/like.js';
import type { SystemLoadOptions } from '../program/system.js';
import { kernelObjectName } from '../program/name.js';
import type { AttachType, MapType, ProgramType } from '../sys/generated.js';
import { MockMap, type MockMapSpec } from './map.js';
import { INSTRUCTION_SIZE, MockProgram, type MockProgramSpec } from './program.js';

export interface MockSystemOptions {
  /** Slots of per-CPU values in the maps it makes (default: MockMap's default, 2). */
  possibleCpus?: number;
}

/** libbpf's LIBBPF_PIN_BY_NAME. */
const PIN_BY_NAME = 1;
const DEFAULT_PIN_ROOT = '/sys/fs/bpf';

export class MockSystem implements SystemLike {
  /** goebpf's ErrorLoadElf: while set, loadElf and load throw it. */
  errorLoadElf: Error | undefined;
  readonly #possibleCpus: number | undefined;
  readonly #maps = new Map<string, MockMap>();
  readonly #programs = new Map<string, MockProgram>();

  constructor(options: MockSystemOptions = {}) {
    this.#possibleCpus = options.possibleCpus;
  }

  loadElf(path: string, options: SystemLoadOptions = {}): this {
    if (this.errorLoadElf !== undefined) throw this.errorLoadElf;
    return this.load(readFileSync(path), options);
  }

  /**
   * Makes a created MockMap per map of the object (global data filled, .rodata frozen) and an unloaded
   * MockProgram per program (not the .text subprograms). All or nothing, as System.load.
   */
  load(bytes: Uint8Array, options: SystemLoadOptions = {}): this {
    if (this.errorLoadElf !== undefined) throw this.errorLoadElf;
    const object = inspect(bytes);
    const maps = new Map<string, MockMap>();
    try {
      for (const spec of object.maps) {
        if (spec.innerTemplate || spec.origin === 'kconfig') continue;
        if (this.#maps.has(spec.name) || maps.has(spec.name)) throw new Error(`map "${spec.name}" is already in this System`);
        const map = MockMap.create(this.#mapSpec(object, spec, options));
        maps.set(spec.name, map);
        const data = mapInitialData(bytes, spec);
        if (data !== null) map.update(0, data);
        if (spec.origin === 'rodata') map.freeze();
      }
    } catch (e) {
      for (const map of maps.values()) map.close();
      throw e;
    }
    const programs = new Map<string, MockProgram>();
    for (const spec of object.programs) {
      if (spec.subprogram) continue;
      if (this.#programs.has(spec.name) || programs.has(spec.name)) {
        for (const map of maps.values()) map.close();
        throw new Error(`program "${spec.name}" is already in this System`);
      }
      const programSpec: MockProgramSpec = {
        name: spec.name,
        section: spec.section,
        type: options.programTypes?.[spec.name] ?? (spec.type as ProgramType),
        license: object.license ?? '',
        instructions: bytes.slice(spec.fileOffset, spec.fileOffset + spec.insnCount * INSTRUCTION_SIZE),
      };
      if (spec.expectedAttachType !== null) programSpec.expectedAttachType = spec.expectedAttachType as AttachType;
      const program = new MockProgram(programSpec);
      programs.set(spec.name, program);
    }
    for (const [name, map] of maps) this.#maps.set(name, map);
    for (const [name, program] of programs) this.#programs.set(name, program);
    return this;
  }

  #mapSpec(object: ObjectInfo, spec: ElfMapSpec, options: SystemLoadOptions): MockMapSpec {
    const inner = spec.innerMap === null ? undefined : object.maps[spec.innerMap];
    const persistentPath = spec.persistentPath ?? (spec.pinning === PIN_BY_NAME ? `${options.pinRoot ?? DEFAULT_PIN_ROOT}/${spec.name}` : undefined);
    const mock: MockMapSpec = {
      name: kernelObjectName(spec.name),
      type: spec.type as MapType,
      keySize: spec.keySize,
      valueSize: spec.valueSize,
      maxEntries: spec.maxEntries === 0 ? undefined : spec.maxEntries,
      flags: spec.flags,
      numaNode: spec.numaNode === 0 ? undefined : spec.numaNode,
      mapExtra: BigInt(spec.mapExtra),
      persistentPath,
      innerMap: inner === undefined ? undefined : this.#mapSpec(object, { ...inner, persistentPath: null, pinning: 0 }, options),
    };
    if (this.#possibleCpus !== undefined) mock.possibleCpus = this.#possibleCpus;
    return mock;
  }

  /** Adds a hand-made map under `name` (default: its name), as goebpf's MockSystem.Maps[name] = m. */
  addMap(map: MockMap, name = map.name): this {
    this.#maps.set(name, map);
    return this;
  }

  /** Adds a hand-made program under `name` (default: its name). */
  addProgram(program: MockProgram, name = program.name): this {
    this.#programs.set(name, program);
    return this;
  }

  getMaps(): ReadonlyMap<string, MockMap> {
    return this.#maps;
  }

  getPrograms(): ReadonlyMap<string, MockProgram> {
    return this.#programs;
  }

  getMapByName(name: string): MockMap | undefined {
    return this.#maps.get(name);
  }

  getProgramByName(name: string): MockProgram | undefined {
    return this.#programs.get(name);
  }

  /** Closes every program and map (idempotent). */
  close(): void {
    for (const program of this.#programs.values()) program.close();
    for (const map of this.#maps.values()) map.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
