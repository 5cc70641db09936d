// System: goebpf's entry point. Opens an eBPF ELF object in the WASM core, loads its BTF into the
// kernel, creates its maps and makes its programs, which the core relocates when they load (map
// references, global data, bpf-to-bpf calls; attach targets, kfuncs and __ksym externs are looked up
// in the running kernel; CO-RE relocations resolved against the kernel's BTF or one given, as libbpf
// does). What the core cannot relocate is refused with an UnsupportedError naming the program,
// instruction and symbol.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { CoreObject } from '../elf/open.js';
import { mapInitialData, type MapSpec as ElfMapSpec, type ObjectInfo, type ProgramSpec as ElfProgramSpec } from '../inspect.js';
import { getNumOfPossibleCpus } from '../map/host.js';
import type { MapLike } from '../map/like.js';
import { EbpfMap, type MapSpec } from '../map/map.js';
import { FD } from '../sys/bpf.js';
import { check } from '../sys/errors.js';
import { MapType } from '../sys/generated.js';
import { native } from '../sys/native.js';
import { checkConstantValues, rodataWithConstants, type Constants } from './constants.js';
import { checkMapOptions, checkReplacement, elfMapSizes, elfMapTakesBtf, fillInitialSlots, initialSlots, innerTemplateOf, ProgramSlots, withMapOptions, type MapOptions } from './elf-map.js';
import { kconfigValue, readKernelConfig } from './kconfig.js';
import { coreTargetBtf, kernelModuleBtfs, KernelSymbolError, type KernelBtfSource } from './kernel-btf.js';
import type { BtfLookup } from '../btf/lookup.js';
import type { CoreRelocationResult } from '../btf/types.js';
import { resolveKernelSymbols, type KernelSymbolValues } from './ksyms.js';
import { kernelObjectName } from './name.js';
import { loadObjectBtf, MapFdTable, mapBtf, ObjectProgram, UnsupportedError, type ObjectBtf } from './object-program.js';
import { INSTRUCTION_SIZE, Program, ProgramType, type LoadOptions, type ProgramSpec } from './program.js';
import { describeProgram } from './verifier.js';
import type { SystemLike } from './like.js';

export { UnsupportedError, KernelSymbolError };

/** libbpf's LIBBPF_PIN_BY_NAME: the map is pinned under the pin root by its name. */
const PIN_BY_NAME = 1;
const DEFAULT_PIN_ROOT = '/sys/fs/bpf';

export interface SystemLoadOptions {
  /** Types of programs whose section name says none (SEC("anything")), by program name. */
  programTypes?: Record<string, ProgramType>;
  /** Where maps with `pinning: LIBBPF_PIN_BY_NAME` are reused from or pinned to (default /sys/fs/bpf). */
  pinRoot?: string;
  /** `.rodata` variables to set before load, on top of (and overriding) those of setConstants. */
  constants?: Constants;
  /** The object's name in error messages (loadElf: its path). */
  objectName?: string;
  /** Sizes, flags or the inner map template to give maps of the object, by name, before they are created; or a map to use in place of one. */
  maps?: Readonly<Record<string, MapOptions>>;
  /**
   * The BTF CO-RE relocations resolve against, for kernels without /sys/kernel/btf/vmlinux (or to
   * relocate for another kernel): a path or the bytes of raw BTF or of an ELF holding .BTF (BTFHub's
   * files). Default: the running kernel's /sys/kernel/btf/vmlinux, read once per process.
   */
  kernelBtf?: KernelBtfSource;
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
  readonly #objects: CoreObject[] = [];
  readonly #btfs: FD[] = [];
  readonly #targets: BtfLookup[] = [];
  readonly #warnings: string[] = [];
  #constants: Constants = {};

  /**
   * Values for `const volatile` variables in `.rodata` / `.rodata.*`, written into every later load
   * before the maps are frozen (libbpf skeleton rodata, cilium/ebpf's RewriteConstants). Replaces the
   * constants set before; `setConstants({})` clears them. A load fails with a ConstantError if a name
   * is not a `.rodata` variable of its object or a value does not fit the variable's BTF type.
   */
  setConstants(constants: Constants): this {
    checkConstantValues(constants);
    this.#constants = { ...constants };
    return this;
  }

  /** Reads the object at path and loads it (see load). */
  loadElf(path: string, options: SystemLoadOptions = {}): this {
    return this.load(readFileSync(path), { objectName: path, ...options });
  }

  /**
   * Loads the object's BTF into the kernel (without it if refused: see warnings), creates its maps
   * (reusing pinned ones: persistent_path, LIBBPF_PIN_BY_NAME; global data written, .rodata frozen) and
   * makes its programs, which the core relocates when they load with program.load(). CO-RE relocations
   * are resolved here, as libbpf does before a load, against the kernel's BTF (or options.kernelBtf);
   * one that cannot be satisfied poisons its instruction (a warning says which), so only a program
   * reaching it fails, in the verifier; an ambiguous one fails its program's load. The object stays
   * open in the WASM core until close(). All or nothing: if a map cannot be created, what was made so
   * far is closed, and the pins it made are removed (those it reused stay). Slots a definition fills
   * (`.values = { [i] = ... }`) are filled as libbpf does, but lazily for programs: maps of maps get
   * their inner maps here, program arrays get each program when it loads (so a tail call reaches the
   * targets loaded so far, whatever the order of loads). A map of maps reused from a pin (or given
   * with options.maps) keeps the maps its slots hold; a reused program array gets the new programs.
   */
  load(bytes: Uint8Array, options: SystemLoadOptions = {}): this {
    const constants = { ...this.#constants, ...options.constants };
    const core = CoreObject.open(bytes, { btfTypes: Object.keys(constants).length > 0, withoutC: true });
    const object = core.info;
    const maps = new Map<string, EbpfMap>();
    const warnings: string[] = [];
    let btf: ObjectBtf = {};
    let target: { btf: BtfLookup; owned: boolean } | undefined;
    try {
      if (object.endian !== 'little') throw new UnsupportedError(`the object is ${object.endian}-endian; this kernel runs little-endian eBPF`);
      const rodata = rodataWithConstants(bytes, object, constants, options.objectName);
      checkMapOptions(object, options.maps, options.objectName);
      const slots = initialSlots(object, options.maps);
      btf = loadObjectBtf(core);
      if (core.coreRelocationCount > 0) {
        target = coreTargetBtf(options.kernelBtf);
        let results = core.coreRelocate(target.btf);
        // As libbpf: the modules' BTF is searched for types the kernel's lacks (not with a BTF given).
        if (options.kernelBtf === undefined && results.some(unmatched)) {
          const modules = kernelModuleBtfs();
          if (modules.length > 0) results = core.coreRelocate(target.btf, modules);
        }
        for (const r of results) if (r.status === 'poisoned' && r.reason !== undefined) warnings.push(`CO-RE: ${r.reason}`);
      }
      const byIndex: Array<EbpfMap | undefined> = object.maps.map(() => undefined);
      for (const spec of object.maps) {
        if (spec.innerTemplate) continue;
        if (spec.origin === 'struct-ops') {
          warnings.push(`map "${spec.name}" (${object.sections[spec.sectionIndex]?.name ?? 'struct_ops'}) is not created: struct_ops maps need the kernel's BTF for their type, which is not supported yet`);
          continue;
        }
        if (this.#maps.has(spec.name) || maps.has(spec.name)) throw new Error(`map "${spec.name}" is already in this System`);
        const mapOptions = options.maps?.[spec.name];
        if (mapOptions?.replaceWith !== undefined) {
          const map = replacementMap(object, withMapOptions(spec, mapOptions), options, mapOptions.replaceWith);
          maps.set(spec.name, map);
          byIndex[spec.index] = map;
          continue;
        }
        let initial = rodata.get(spec.index) ?? mapInitialData(bytes, spec);
        if (spec.origin === 'kconfig') {
          try {
            initial = kconfigValue(core.kconfigVariables(), spec.valueSize, { config: readKernelConfig(), release: release() });
          } catch (e) {
            warnings.push(`map ".kconfig" is not created: ${(e as Error).message}`);
            continue;
          }
        }
        const map = createMap(object, withMapOptions(spec, mapOptions), options, btf, initial);
        maps.set(spec.name, map);
        byIndex[spec.index] = map;
      }
      fillInitialSlots(slots.slots, byIndex);
      const programSlots = new ProgramSlots(slots.programSlots, byIndex, (id) => Program.fromId(id));
      const programs = new Map<string, Program>();
      let kernelSymbols: KernelSymbolValues | undefined;
      const symbols = (): KernelSymbolValues => (kernelSymbols ??= resolveKernelSymbols(core));
      const mapFds = new MapFdTable(byIndex);
      for (const spec of object.programs) {
        if (spec.subprogram) continue;
        if (this.#programs.has(spec.name) || programs.has(spec.name)) throw new Error(`program "${spec.name}" is already in this System`);
        programs.set(spec.name, makeProgram(bytes, core, spec, options, mapFds, btf.fd, symbols, programSlots));
      }
      for (const [name, map] of maps) this.#maps.set(name, map);
      for (const [name, program] of programs) this.#programs.set(name, program);
    } catch (e) {
      // As libbpf does when a load fails: the pins this load made go too (not those it reused).
      for (const map of maps.values()) {
        if (map.pinnedPath !== undefined && !map.reused) unpinAfterFailure(map, e);
        map.close();
      }
      btf.fd?.close();
      core.close();
      if (target?.owned === true) target.btf.close();
      throw e;
    }
    this.#objects.push(core);
    if (target?.owned === true) this.#targets.push(target.btf);
    if (btf.fd !== undefined) this.#btfs.push(btf.fd);
    if (btf.refused !== undefined) this.#warnings.push(btf.refused);
    this.#warnings.push(...warnings);
    return this;
  }

  /** What went wrong without failing a load (the kernel refused an object's BTF, ...). */
  get warnings(): readonly string[] {
    return this.#warnings;
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

  /** Closes every program, map and BTF this System made (pins stay) and frees its objects. Idempotent. */
  close(): void {
    for (const program of this.#programs.values()) program.close();
    for (const map of this.#maps.values()) map.close();
    for (const btf of this.#btfs) btf.close();
    for (const object of this.#objects) object.close();
    for (const target of this.#targets) target.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A relocation no type of the kernel's BTF matched: one a module's might. */
function unmatched(r: CoreRelocationResult): boolean {
  return r.targetTypeId === 0 && r.kind !== 'local_type_id' && r.status !== 'skipped';
}

/** goebpf's NewDefaultEbpfSystem. */
export function createSystem(): System {
  return new System();
}

/**
 * The kernel-side spec of an ELF map; an inner template becomes a spec the outer map uses briefly.
 * Every field is present, undefined or not (btf is set by createMap): all specs share one shape, so
 * EbpfMap reads them without property-lookup misses.
 */
function kernelMapSpec(object: ObjectInfo, spec: ElfMapSpec, options: SystemLoadOptions): MapSpec {
  const persistentPath = spec.persistentPath ?? (spec.pinning === PIN_BY_NAME ? join(options.pinRoot ?? DEFAULT_PIN_ROOT, spec.name) : undefined);
  const { innerMapFd, inner } = innerTemplateOf(object, spec, options.maps);
  const sizes = elfMapSizes(spec);
  return {
    name: kernelObjectName(spec.name),
    type: spec.type as MapType,
    keySize: sizes.keySize,
    valueSize: sizes.valueSize,
    maxEntries: sizes.maxEntries,
    flags: spec.flags,
    innerMap: inner === undefined ? undefined : kernelMapSpec(object, inner, options),
    innerMapFd,
    persistentPath,
    numaNode: spec.numaNode === 0 ? undefined : spec.numaNode,
    mapExtra: BigInt(spec.mapExtra),
    ifindex: undefined,
    btf: undefined,
  };
}

/** Creates the map of spec with its initial value (global data, .kconfig) written; .rodata and .kconfig are frozen. */
function createMap(object: ObjectInfo, spec: ElfMapSpec, options: SystemLoadOptions, btf: ObjectBtf, initial: Uint8Array | null): EbpfMap {
  const kernelSpec = kernelMapSpec(object, spec, options);
  const withBtf = elfMapTakesBtf(spec) ? mapBtf(spec, btf) : undefined;
  let map: EbpfMap;
  try {
    if (withBtf !== undefined) kernelSpec.btf = withBtf;
    map = EbpfMap.create(kernelSpec);
  } catch (e) {
    // As libbpf does: a map whose BTF the kernel refuses is tried again without it.
    if (withBtf === undefined) throw e;
    kernelSpec.btf = undefined;
    map = EbpfMap.create(kernelSpec);
  }
  try {
    if (initial !== null) map.update(0, initial);
    if (spec.origin === 'rodata' || spec.origin === 'kconfig') map.freeze();
  } catch (e) {
    map.close();
    throw e;
  }
  return map;
}

/** Removes a pin the failed load made; if that fails too, the load's error says so (it stays the one thrown). */
function unpinAfterFailure(map: EbpfMap, loadError: unknown): void {
  const path = map.pinnedPath;
  try {
    map.unpin();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // removed by someone else already
    if (loadError instanceof Error) loadError.message += `; the pin it made at ${path} could not be removed: ${(e as Error).message}`;
  }
}

/**
 * The map given in place of the object's map spec (MapOptions.replaceWith), checked against what
 * the load would create; the System gets its own fd (a dup), so closing the System leaves the given
 * map open.
 */
function replacementMap(object: ObjectInfo, spec: ElfMapSpec, options: SystemLoadOptions, given: MapLike): EbpfMap {
  if (!(given instanceof EbpfMap)) throw new TypeError(`maps: "${spec.name}": replaceWith must be an EbpfMap`);
  checkReplacement(spec.name, kernelMapSpec(object, spec, options), given, getNumOfPossibleCpus);
  return EbpfMap.fromFd(new FD(check(native().dup(given.fd), 'dup', `map "${spec.name}" given to replace it`)));
}

function makeProgram(bytes: Uint8Array, core: CoreObject, spec: ElfProgramSpec, options: SystemLoadOptions,
  maps: MapFdTable, btf: FD | undefined, kernelSymbols: () => KernelSymbolValues, slots: ProgramSlots): Program {
  const object = core.info;
  const type = options.programTypes?.[spec.name] ?? (spec.type as ProgramType);
  // Every field present, undefined or not: the specs of all programs (and the copies load() makes of
  // them) then share one shape, and BPF_PROG_LOAD's encoding reads them without property-lookup misses.
  const programSpec: ProgramSpec = {
    name: spec.name,
    section: spec.section,
    type,
    expectedAttachType: spec.expectedAttachType ?? undefined,
    license: object.license ?? '',
    // The instructions as in the ELF (a view on the caller's bytes); load() relocates a copy.
    instructions: bytes.subarray(spec.fileOffset, spec.fileOffset + spec.insnCount * INSTRUCTION_SIZE),
    kernVersion: object.kernelVersion ?? undefined,
    btf: undefined,
    attachBtfId: undefined,
    attachFd: undefined,
    flags: spec.loadFlags === 0 ? undefined : spec.loadFlags,
    ifindex: undefined,
  };
  const reason = whyUnloadable(type);
  return reason === undefined ? new ObjectProgram(programSpec, core, spec.index, maps, btf, kernelSymbols, slots) : new UnloadableProgram(programSpec, reason);
}

function whyUnloadable(type: ProgramType): string | undefined {
  if (type === ProgramType.Unspec) return 'the section name gives no program type: pass one in programTypes';
  if (type === ProgramType.StructOps) return 'struct_ops programs need the BTF id of their kernel operations table, which is not supported yet';
  if (type === ProgramType.Ext) return 'freplace programs need the program they replace (its fd and function), which is not supported yet';
  return undefined;
}
