// MockSystem: goebpf's MockSystem (Programs, Maps, ErrorLoadElf), loading real objects the way System
// does: the object is read with the real inspect(), and each map gets the sizes, initial contents
// (constants set before load included), frozen state and map-of-maps slots System would give it, as a
// MockMap; each program becomes a MockProgram that, as System's programs do, goes into the program
// array slots naming it when it loads. So a test gets the object's real names and sizes.
import { readFileSync } from 'node:fs';
import { inspect, mapInitialData, type MapSpec as ElfMapSpec, type ObjectInfo } from '../inspect.js';
import { checkConstantValues, rodataWithConstants, type Constants } from '../program/constants.js';
import { checkMapOptions, checkReplacement, elfMapSizes, fillInitialSlots, initialSlots, innerTemplateOf, ProgramSlots, withMapOptions } from '../program/elf-map.js';
import type { SystemLike } from '../program/like.js';
import type { LoadOptions } from '../program/program.js';
import type { SystemLoadOptions } from '../program/system.js';
import { checkObjectLimits } from '../program/limits.js';
import { kernelObjectName } from '../program/name.js';
import { errnoError } from '../sys/errors.js';
import type { AttachType, MapType, ProgramType } from '../sys/generated.js';
import { DEFAULT_POSSIBLE_CPUS, MockMap, type MockMapSpec } from './map.js';
import { INSTRUCTION_SIZE, MockProgram, type MockProgramSpec } from './program.js';
import { objectById } from './registry.js';

export interface MockSystemOptions {
  /** Slots of per-CPU values in the maps it makes (default: MockMap's default, 2). */
  possibleCpus?: number;
  /** The page size ring buffer sizes are rounded to (default 4096, whatever the host's). */
  pageSize?: number;
}

/** libbpf's LIBBPF_PIN_BY_NAME. */
const PIN_BY_NAME = 1;
const DEFAULT_PIN_ROOT = '/sys/fs/bpf';
const DEFAULT_PAGE_SIZE = 4096;
const ENOENT = 2;

/** A MockProgram of an object: loaded, it goes into the program array slots naming it (ObjectProgram's load). */
class ObjectMockProgram extends MockProgram {
  readonly #index: number;
  readonly #slots: ProgramSlots;

  constructor(spec: MockProgramSpec, index: number, slots: ProgramSlots) {
    super(spec);
    this.#index = index;
    this.#slots = slots;
  }

  override load(options?: LoadOptions): this {
    super.load(options);
    this.#slots.fill(this.#index, this);
    return this;
  }
}

/** BPF_PROG_GET_FD_BY_ID for mocks: the live MockProgram with this id, not owned (close does nothing). */
function openMockProgram(id: number): { fd: number; close(): void } {
  const program = objectById(id);
  if (!(program instanceof MockProgram)) throw errnoError(ENOENT, 'BPF_PROG_GET_FD_BY_ID', `program id ${id}`);
  return { fd: program.fd, close() {} };
}

export class MockSystem implements SystemLike {
  /** goebpf's ErrorLoadElf: while set, loadElf and load throw it. */
  errorLoadElf: Error | undefined;
  readonly #possibleCpus: number | undefined;
  readonly #pageSize: number;
  readonly #maps = new Map<string, MockMap>();
  readonly #programs = new Map<string, MockProgram>();
  /** Maps given in place of the object's (MapOptions.replaceWith): the caller's, left open by close(). */
  readonly #borrowed = new Set<MockMap>();
  readonly #warnings: string[] = [];
  #constants: Constants = {};

  constructor(options: MockSystemOptions = {}) {
    this.#possibleCpus = options.possibleCpus;
    this.#pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  }

  /** As System.setConstants: `.rodata` variables written into later loads, checked against BTF. */
  setConstants(constants: Constants): this {
    checkConstantValues(constants);
    this.#constants = { ...constants };
    return this;
  }

  loadElf(path: string, options: SystemLoadOptions = {}): this {
    if (this.errorLoadElf !== undefined) throw this.errorLoadElf;
    return this.load(readFileSync(path), { objectName: path, ...options });
  }

  /**
   * Makes a created MockMap per map System would create (global data filled, constants written,
   * .rodata frozen, map-of-maps slots filled) and an unloaded MockProgram per program (not the .text
   * subprograms), which goes into the program array slots naming it when it loads, as with System.
   * All or nothing, as System.load. The .kconfig map (the running kernel's config) and struct_ops
   * maps are left out with a warning.
   */
  load(bytes: Uint8Array, options: SystemLoadOptions = {}): this {
    if (this.errorLoadElf !== undefined) throw this.errorLoadElf;
    const constants = { ...this.#constants, ...options.constants };
    const object = inspect(bytes, { btfTypes: Object.keys(constants).length > 0, withoutC: true });
    const rodata = rodataWithConstants(bytes, object, constants, options.objectName);
    checkMapOptions(object, options.maps, options.objectName);
    checkObjectLimits(object, options.maps, options.limits, options.objectName, () => this.#possibleCpus ?? DEFAULT_POSSIBLE_CPUS);
    const slots = initialSlots(object, options.maps);
    const warnings: string[] = [];
    const maps = new Map<string, MockMap>();
    const byIndex: Array<MockMap | undefined> = object.maps.map(() => undefined);
    const programs = new Map<string, MockProgram>();
    const borrowed = new Set<MockMap>();
    try {
      for (const spec of object.maps) {
        if (spec.innerTemplate) continue;
        if (spec.origin === 'struct-ops' || spec.origin === 'kconfig') {
          warnings.push(`map "${spec.name}" is not created: MockSystem does not make ${spec.origin === 'kconfig' ? 'the .kconfig map (the running kernel\'s config)' : 'struct_ops maps'}`);
          continue;
        }
        if (this.#maps.has(spec.name) || maps.has(spec.name)) throw new Error(`map "${spec.name}" is already in this System`);
        const mapOptions = options.maps?.[spec.name];
        const mapSpec = this.#mapSpec(object, withMapOptions(spec, mapOptions), options);
        const given = mapOptions?.replaceWith;
        if (given !== undefined) {
          // As System: the given map as it is, left open when this MockSystem closes.
          if (!(given instanceof MockMap)) throw new TypeError(`maps: "${spec.name}": replaceWith must be a MockMap`);
          checkReplacement(spec.name, mapSpec, given, () => mapSpec.possibleCpus ?? DEFAULT_POSSIBLE_CPUS);
          borrowed.add(given);
          maps.set(spec.name, given);
          byIndex[spec.index] = given;
          continue;
        }
        const map = MockMap.create(mapSpec);
        maps.set(spec.name, map);
        byIndex[spec.index] = map;
        const initial = rodata.get(spec.index) ?? mapInitialData(bytes, spec);
        if (initial !== null) map.update(0, initial);
        if (spec.origin === 'rodata') map.freeze();
      }
      fillInitialSlots(slots.slots, byIndex);
      const programSlots = new ProgramSlots(slots.programSlots, byIndex, openMockProgram);
      for (const spec of object.programs) {
        if (spec.subprogram) continue;
        if (this.#programs.has(spec.name) || programs.has(spec.name)) throw new Error(`program "${spec.name}" is already in this System`);
        const programSpec: MockProgramSpec = {
          name: spec.name,
          section: spec.section,
          type: options.programTypes?.[spec.name] ?? (spec.type as ProgramType),
          license: object.license ?? '',
          instructions: bytes.slice(spec.fileOffset, spec.fileOffset + spec.insnCount * INSTRUCTION_SIZE),
        };
        if (spec.expectedAttachType !== null) programSpec.expectedAttachType = spec.expectedAttachType as AttachType;
        programs.set(spec.name, new ObjectMockProgram(programSpec, spec.index, programSlots));
      }
    } catch (e) {
      for (const map of maps.values()) if (!borrowed.has(map)) map.close();
      throw e;
    }
    for (const [name, map] of maps) this.#maps.set(name, map);
    for (const map of borrowed) this.#borrowed.add(map);
    for (const [name, program] of programs) this.#programs.set(name, program);
    this.#warnings.push(...warnings);
    return this;
  }

  /** What System would create for an ELF map (its kernelMapSpec, with the same elfMapSizes). */
  #mapSpec(object: ObjectInfo, spec: ElfMapSpec, options: SystemLoadOptions): MockMapSpec {
    const { innerMapFd, inner } = innerTemplateOf(object, spec, options.maps);
    const persistentPath = spec.persistentPath ?? (spec.pinning === PIN_BY_NAME ? `${options.pinRoot ?? DEFAULT_PIN_ROOT}/${spec.name}` : undefined);
    const mock: MockMapSpec = {
      name: kernelObjectName(spec.name),
      type: spec.type as MapType,
      ...elfMapSizes(spec, () => this.#pageSize),
      flags: spec.flags,
      numaNode: spec.numaNode === 0 ? undefined : spec.numaNode,
      mapExtra: BigInt(spec.mapExtra),
      persistentPath,
      innerMap: inner === undefined ? undefined : this.#mapSpec(object, inner, options),
    };
    if (innerMapFd !== undefined) mock.innerMapFd = innerMapFd;
    if (this.#possibleCpus !== undefined) mock.possibleCpus = this.#possibleCpus;
    return mock;
  }

  /** What went wrong without failing a load (maps left out). */
  get warnings(): readonly string[] {
    return this.#warnings;
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
    for (const map of this.#maps.values()) if (!this.#borrowed.has(map)) map.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
