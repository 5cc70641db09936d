// MockSystem: goebpf's MockSystem (Programs, Maps, ErrorLoadElf), loading real objects the way System
// does: the object is read with the real inspect(), and each map gets the sizes, initial contents
// (constants set before load included), frozen state and map-of-maps slots System would give it, as a
// MockMap; each program becomes a MockProgram that, as System's programs do, goes into the program
// array slots naming it when it loads. So a test gets the object's real names and sizes.
import { describeMap } from '../sys/describe.js';
import { readFileSync } from 'node:fs';
import { inspect } from '../inspect.js';
import type { MapSpec } from '../map/map.js';
import { checkConstantValues, type Constants } from '../program/constants.js';
import { fillInitialSlots, ProgramSlots } from '../program/elf-map.js';
import { planLoad, type SystemLoadOptions } from '../program/plan.js';
import type { SystemLike } from '../program/like.js';
import type { LoadOptions } from '../program/program.js';
import { Errno, errnoError, withObject } from '../sys/errors.js';
import { DEFAULT_POSSIBLE_CPUS, MockMap, type MockMapSpec } from './map.js';
import { MockProgram, type MockProgramSpec } from './program.js';
import { objectById } from './registry.js';

/** How a MockSystem makes its maps: possible CPUs and page size, fixed so tests are deterministic. */
export interface MockSystemOptions {
  /** Slots of per-CPU values in the maps it makes (default: MockMap's default, 2). */
  possibleCpus?: number;
  /** The page size ring buffer sizes are rounded to (default 4096, whatever the host's). */
  pageSize?: number;
}

const DEFAULT_PAGE_SIZE = 4096;

/** A MockProgram of an object: loaded, it goes into the program array slots naming it (ObjectProgram's load). */
class ObjectMockProgram extends MockProgram {
  readonly #index: number;
  readonly #slots: ProgramSlots;
  readonly #objectName: string | undefined;

  constructor(spec: MockProgramSpec, index: number, slots: ProgramSlots, objectName: string | undefined) {
    super(spec);
    this.#index = index;
    this.#slots = slots;
    this.#objectName = objectName;
  }

  override load(options?: LoadOptions): this {
    try {
      super.load(options);
      this.#slots.fill(this.#index, this);
    } catch (e) {
      throw withObject(e, this.#objectName);
    }
    return this;
  }
}

/** BPF_PROG_GET_FD_BY_ID for mocks: the live MockProgram with this id, not owned (close does nothing). */
function openMockProgram(id: number): { fd: number; close(): void } {
  const program = objectById(id);
  if (!(program instanceof MockProgram)) throw errnoError(Errno.ENOENT, 'BPF_PROG_GET_FD_BY_ID', `program id ${id}`);
  return { fd: program.fd, close() {} };
}

/** goebpf's MockSystem: loads real objects as System plans them, into MockMaps and MockPrograms. */
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
    try {
      return this.#load(bytes, options);
    } catch (e) {
      throw withObject(e, options.objectName);
    }
  }

  #load(bytes: Uint8Array, options: SystemLoadOptions): this {
    const constants = { ...this.#constants, ...options.constants };
    const object = inspect(bytes, { btfTypes: Object.keys(constants).length > 0, withoutC: true });
    const possibleCpus = this.#possibleCpus ?? DEFAULT_POSSIBLE_CPUS;
    const plan = planLoad(bytes, object, { ...options, constants }, {
      pageSize: () => this.#pageSize,
      possibleCpus: () => possibleCpus,
      hasMap: (name) => this.#maps.has(name),
      hasProgram: (name) => this.#programs.has(name),
    });
    const maps = new Map<string, MockMap>();
    const byIndex: Array<MockMap | undefined> = object.maps.map(() => undefined);
    const programs = new Map<string, MockProgram>();
    const borrowed = new Set<MockMap>();
    try {
      for (const m of plan.maps) {
        let map: MockMap;
        if (m.replaceWith !== undefined) {
          // As System: the given map as it is, left open when this MockSystem closes.
          if (!(m.replaceWith instanceof MockMap)) throw new TypeError(`${describeMap(m.elf.name)}: replaceWith must be a MockMap`);
          map = m.replaceWith;
          borrowed.add(map);
        } else {
          map = MockMap.create(this.#mockSpec(m.spec));
          if (m.initial !== null) map.update(0, m.initial);
          if (m.freeze) map.freeze();
        }
        maps.set(m.elf.name, map);
        byIndex[m.elf.index] = map;
      }
      fillInitialSlots(plan.slots, byIndex);
      const programSlots = new ProgramSlots(plan.programSlots, byIndex, openMockProgram);
      for (const p of plan.programs) {
        const programSpec: MockProgramSpec = {
          name: p.name,
          section: p.section,
          sectionTarget: p.elf.attachTarget ?? undefined,
          type: p.type,
          license: p.license,
          instructions: p.instructions.slice(),
        };
        if (p.expectedAttachType !== undefined) programSpec.expectedAttachType = p.expectedAttachType;
        programs.set(p.name, new ObjectMockProgram(programSpec, p.elf.index, programSlots, options.objectName));
      }
    } catch (e) {
      for (const map of maps.values()) if (!borrowed.has(map)) map.close();
      throw e;
    }
    for (const [name, map] of maps) this.#maps.set(name, map);
    for (const map of borrowed) this.#borrowed.add(map);
    for (const [name, program] of programs) this.#programs.set(name, program);
    this.#warnings.push(...plan.warnings);
    return this;
  }

  /** The planned map spec as a MockMap's: undefined fields dropped, this system's possible CPUs. */
  #mockSpec(spec: MapSpec): MockMapSpec {
    const mock: MockMapSpec = { type: spec.type };
    for (const [key, value] of Object.entries(spec) as Array<[keyof MapSpec, unknown]>) {
      if (value === undefined) continue;
      if (key === 'innerMap') mock.innerMap = this.#mockSpec(value as MapSpec);
      else (mock as unknown as Record<string, unknown>)[key] = value;
    }
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
