// System: goebpf's entry point. Reads an eBPF ELF object (inspect(), the WASM core), creates its maps
// and describes its programs, ready to load. Relocation belongs to the C core and is not there yet:
// programs that need it (map references, global data, bpf-to-bpf calls, CO-RE) refuse to load with an
// UnsupportedError naming the program and the relocation, instead of a verifier dump.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect, mapInitialData, type MapSpec as ElfMapSpec, type ObjectInfo, type ProgramSpec as ElfProgramSpec, type RelocationInfo } from '../inspect.js';
import { EbpfMap, type MapSpec } from '../map/map.js';
import { MapType } from '../sys/generated.js';
import { kernelObjectName } from './name.js';
import { INSTRUCTION_SIZE, Program, ProgramType, type LoadOptions, type ProgramSpec } from './program.js';
import { describeProgram } from './verifier.js';
import type { SystemLike } from './like.js';

/** Something in an object that this version of ebpf cannot load yet; the message says what and where. */
export class UnsupportedError extends Error {
  override name = 'UnsupportedError';
}

/** libbpf's LIBBPF_PIN_BY_NAME: the map is pinned under the pin root by its name. */
const PIN_BY_NAME = 1;
const DEFAULT_PIN_ROOT = '/sys/fs/bpf';

export interface SystemLoadOptions {
  /** Types of programs whose section name says none (SEC("anything")), by program name. */
  programTypes?: Record<string, ProgramType>;
  /** Where maps with `pinning: LIBBPF_PIN_BY_NAME` are reused from or pinned to (default /sys/fs/bpf). */
  pinRoot?: string;
}

/** A program of the object that cannot be loaded yet; load() says why. */
class UnloadableProgram extends Program {
  readonly #reason: string;

  constructor(spec: ProgramSpec, reason: string) {
    super(spec);
    this.#reason = reason;
  }

  override load(_options?: LoadOptions): this {
    throw new UnsupportedError(`${describeProgram({ program: this.name, section: this.section })}: ${this.#reason}`);
  }
}

/** goebpf's System: the maps and programs of the objects it loaded, closed together. */
export class System implements SystemLike {
  readonly #maps = new Map<string, EbpfMap>();
  readonly #programs = new Map<string, Program>();

  /** Reads the object at path and loads it (see load). */
  loadElf(path: string, options: SystemLoadOptions = {}): this {
    return this.load(readFileSync(path), options);
  }

  /**
   * Creates the object's maps (reusing pinned ones: persistent_path, LIBBPF_PIN_BY_NAME; global data
   * written, .rodata frozen) and makes its programs, which load with program.load(). Programs keep
   * views on `bytes` for their instructions: do not modify bytes afterwards. All or nothing: if a map
   * cannot be created, the maps created so far are closed.
   */
  load(bytes: Uint8Array, options: SystemLoadOptions = {}): this {
    const object = inspect(bytes);
    if (object.endian !== 'little') throw new UnsupportedError(`the object is ${object.endian}-endian; this kernel runs little-endian eBPF`);
    const maps = new Map<string, EbpfMap>();
    try {
      for (const spec of object.maps) {
        if (spec.innerTemplate || spec.origin === 'kconfig') continue;
        if (this.#maps.has(spec.name) || maps.has(spec.name)) throw new Error(`map "${spec.name}" is already in this System`);
        maps.set(spec.name, createMap(bytes, object, spec, options));
      }
    } catch (e) {
      for (const map of maps.values()) map.close();
      throw e;
    }
    const programs = new Map<string, Program>();
    for (const spec of object.programs) {
      if (spec.subprogram) continue;
      if (this.#programs.has(spec.name) || programs.has(spec.name)) {
        for (const map of maps.values()) map.close();
        throw new Error(`program "${spec.name}" is already in this System`);
      }
      programs.set(spec.name, makeProgram(bytes, object, spec, options));
    }
    for (const [name, map] of maps) this.#maps.set(name, map);
    for (const [name, program] of programs) this.#programs.set(name, program);
    return this;
  }

  /** Every map, by its name in the object. */
  getMaps(): ReadonlyMap<string, EbpfMap> {
    return this.#maps;
  }

  /** Every program (not the .text subprograms), by function name. */
  getPrograms(): ReadonlyMap<string, Program> {
    return this.#programs;
  }

  getMapByName(name: string): EbpfMap | undefined {
    return this.#maps.get(name);
  }

  getProgramByName(name: string): Program | undefined {
    return this.#programs.get(name);
  }

  /** Closes every program and map this System made (pins stay). Idempotent. */
  close(): void {
    for (const program of this.#programs.values()) program.close();
    for (const map of this.#maps.values()) map.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** goebpf's NewDefaultEbpfSystem. */
export function createSystem(): System {
  return new System();
}

/** The kernel-side spec of an ELF map; an inner template becomes a spec the outer map uses briefly. */
function kernelMapSpec(object: ObjectInfo, spec: ElfMapSpec, options: SystemLoadOptions): MapSpec {
  const persistentPath = spec.persistentPath ?? (spec.pinning === PIN_BY_NAME ? join(options.pinRoot ?? DEFAULT_PIN_ROOT, spec.name) : undefined);
  const inner = spec.innerMap === null ? undefined : object.maps[spec.innerMap];
  return {
    name: kernelObjectName(spec.name),
    type: spec.type as MapType,
    keySize: spec.keySize,
    valueSize: spec.valueSize,
    // 0 lets EbpfMap choose (possible CPUs for perf event arrays, 0 where the kernel wants 0).
    maxEntries: spec.maxEntries === 0 ? undefined : spec.maxEntries,
    flags: spec.flags,
    numaNode: spec.numaNode === 0 ? undefined : spec.numaNode,
    mapExtra: BigInt(spec.mapExtra),
    persistentPath: persistentPath ?? undefined,
    innerMap: inner === undefined ? undefined : kernelMapSpec(object, { ...inner, persistentPath: null, pinning: 0 }, options),
  };
}

function createMap(bytes: Uint8Array, object: ObjectInfo, spec: ElfMapSpec, options: SystemLoadOptions): EbpfMap {
  const map = EbpfMap.create(kernelMapSpec(object, spec, options));
  try {
    const data = mapInitialData(bytes, spec);
    if (data !== null) map.update(0, data);
    if (spec.origin === 'rodata') map.freeze();
  } catch (e) {
    map.close();
    throw e;
  }
  return map;
}

function makeProgram(bytes: Uint8Array, object: ObjectInfo, spec: ElfProgramSpec, options: SystemLoadOptions): Program {
  const type = options.programTypes?.[spec.name] ?? (spec.type as ProgramType);
  const programSpec: ProgramSpec = {
    name: spec.name,
    section: spec.section,
    type,
    license: object.license ?? '',
    // A view on the caller's bytes: BPF_PROG_LOAD reads the instructions in place.
    instructions: bytes.subarray(spec.fileOffset, spec.fileOffset + spec.insnCount * INSTRUCTION_SIZE),
  };
  if (spec.expectedAttachType !== null) programSpec.expectedAttachType = spec.expectedAttachType;
  if (object.kernelVersion !== null) programSpec.kernVersion = object.kernelVersion;
  if (spec.loadFlags !== 0) programSpec.flags = spec.loadFlags;
  const relocations = object.relocations.slice(spec.relocationStart, spec.relocationStart + spec.relocationCount);
  const reason = whyUnloadable(spec, type, relocations);
  return reason === undefined ? new Program(programSpec) : new UnloadableProgram(programSpec, reason);
}

function whyUnloadable(spec: ElfProgramSpec, type: ProgramType, relocations: RelocationInfo[]): string | undefined {
  if (relocations.length > 0) {
    const first = relocations[0]!;
    const insn = (first.offset - spec.insnOffset) / INSTRUCTION_SIZE;
    const more = relocations.length > 1 ? ` (and ${relocations.length - 1} more)` : '';
    return `instruction ${insn} needs a ${first.kind} relocation against "${first.symbol}"${more}; relocation is not supported yet`;
  }
  if (type === ProgramType.Unspec) return 'the section name gives no program type: pass one in programTypes';
  if (spec.needsBtfTarget) return `attaching to "${spec.attachTarget ?? ''}" needs its BTF id from the kernel's BTF, which is not supported yet`;
  return undefined;
}
