// System: goebpf's entry point. Opens an eBPF ELF object in the WASM core, loads its BTF into the
// kernel, creates its maps and makes its programs, which the core relocates when they load (map
// references, global data, bpf-to-bpf calls; attach targets, kfuncs and __ksym externs are looked up
// in the running kernel; CO-RE relocations resolved against the kernel's BTF or one given, as libbpf
// does). What the core cannot relocate is refused with an UnsupportedError naming the program,
// instruction and symbol.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { CoreObject } from '../elf/open.js';
import { getNumOfPossibleCpus, getPageSize } from '../map/host.js';
import type { MapLike } from '../map/like.js';
import { EbpfMap } from '../map/map.js';
import { FD } from '../sys/bpf.js';
import { check, withObject } from '../sys/errors.js';
import { native } from '../sys/native.js';
import { checkConstantValues, type Constants } from './constants.js';
import { fillInitialSlots, ProgramSlots } from './elf-map.js';
import { planLoad, type MapPlan, type ProgramPlan, type SystemLoadOptions } from './plan.js';
import { kconfigValue, readKernelConfig } from './kconfig.js';
import { coreTargetBtf, kernelModuleBtfs, KernelSymbolError } from './kernel-btf.js';
import type { BtfLookup } from '../btf/lookup.js';
import type { CoreRelocationResult } from '../btf/types.js';
import { resolveKernelSymbols, type KernelSymbolValues } from './ksyms.js';
import { loadObjectBtf, MapFdTable, mapBtf, ObjectProgram, UnsupportedError, type ObjectBtf } from './object-program.js';
import { Program, ProgramType, type LoadOptions, type ProgramSpec } from './program.js';
import { describeMap, describeProgram, inObject } from '../sys/describe.js';
import type { SystemLike } from './like.js';
import type { Attachment } from '../link/attachment-base.js';

export { UnsupportedError, KernelSymbolError };
export type { SystemLoadOptions };


/** A program of the object that cannot be loaded yet; load() says why. */
class UnloadableProgram extends Program {
  readonly #reason: string;
  readonly #objectName: string | undefined;

  constructor(spec: ProgramSpec, reason: string, objectName: string | undefined) {
    super(spec);
    this.#reason = reason;
    this.#objectName = objectName;
  }

  override load(_options?: LoadOptions): this {
    throw new UnsupportedError(inObject(this.#objectName, `${describeProgram({ program: this.name, section: this.section })}: ${this.#reason}`));
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
   * with options.maps) keeps the maps its slots hold; a reused program array gets the new programs
   * (a new version of a program takes over its tail calls). A closed program stays in its slots until
   * they are deleted or the array goes. A slot its map cannot hold (a map in a program array, a
   * subprogram) is an error naming map, slot and symbol.
   */
  load(bytes: Uint8Array, options: SystemLoadOptions = {}): this {
    try {
      return this.#load(bytes, options);
    } catch (e) {
      throw withObject(e, options.objectName);
    }
  }

  #load(bytes: Uint8Array, options: SystemLoadOptions): this {
    const constants = { ...this.#constants, ...options.constants };
    const core = CoreObject.open(bytes, { btfTypes: Object.keys(constants).length > 0, withoutC: true });
    const object = core.info;
    const maps = new Map<string, EbpfMap>();
    let btf: ObjectBtf = {};
    const warnings: string[] = [];
    let target: { btf: BtfLookup; owned: boolean } | undefined;
    try {
      if (object.endian !== 'little') throw new UnsupportedError(`the object is ${object.endian}-endian; this kernel runs little-endian eBPF`);
      const plan = planLoad(bytes, object, { ...options, constants }, {
        pageSize: getPageSize,
        possibleCpus: getNumOfPossibleCpus,
        kconfig: (size) => kconfigValue(core.kconfigVariables(), size, { config: readKernelConfig(), release: release() }),
        hasMap: (name) => this.#maps.has(name),
        hasProgram: (name) => this.#programs.has(name),
      });
      warnings.push(...plan.warnings);
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
      for (const m of plan.maps) {
        const map = m.replaceWith === undefined ? createMap(m, btf) : replacementMap(m.elf.name, m.replaceWith);
        maps.set(m.elf.name, map);
        byIndex[m.elf.index] = map;
      }
      fillInitialSlots(plan.slots, byIndex);
      const programSlots = new ProgramSlots(plan.programSlots, byIndex, (id) => Program.fromId(id));
      let kernelSymbols: KernelSymbolValues | undefined;
      const symbols = (): KernelSymbolValues => (kernelSymbols ??= resolveKernelSymbols(core));
      const mapFds = new MapFdTable(byIndex);
      for (const p of plan.programs) this.#programs.set(p.name, makeProgram(p, core, mapFds, btf.fd, symbols, programSlots, options.objectName));
      for (const [name, map] of maps) this.#maps.set(name, map);
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

  /**
   * What a load skipped without failing: BTF the kernel refused (maps and programs then load without
   * it, as with libbpf), a struct_ops map, a .kconfig map without values, and CO-RE relocations
   * poisoned because the kernel has no matching field or type ("CO-RE: program 'p': instruction N:
   * ... poisoned: ..."; only a program reaching that instruction fails, in the verifier).
   */
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

  /**
   * Attaches every kprobe-type program (sections kprobe/, kretprobe/, uprobe/, uretprobe/) where its
   * section says, loading those not loaded yet (goebpf's AttachProbes). All or nothing: if one fails,
   * those attached by this call are detached again and the error is thrown.
   */
  attachProbes(): Attachment[] {
    const made: Attachment[] = [];
    try {
      for (const program of this.#programs.values()) {
        if (program.type !== ProgramType.Kprobe) continue;
        if (!program.loaded) program.load();
        made.push(program.attach());
      }
    } catch (e) {
      for (const attachment of made) attachment.detach();
      throw e;
    }
    return made;
  }

  /** Detaches what the kprobe-type programs attached (goebpf's DetachProbes). */
  detachProbes(): void {
    let first: unknown;
    for (const program of this.#programs.values()) {
      if (program.type !== ProgramType.Kprobe) continue;
      try {
        program.detach();
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== undefined) throw first;
  }

  /**
   * Detaches what its programs attached, closes every program, map and BTF this System made (pins
   * stay) and frees its objects. Idempotent.
   */
  close(): void {
    let first: unknown;
    for (const program of this.#programs.values()) {
      // A detach that fails (a legacy attachment someone else removed, say) does not keep the rest open.
      try {
        program.close();
      } catch (e) {
        first ??= e;
      }
    }
    for (const map of this.#maps.values()) map.close();
    for (const btf of this.#btfs) btf.close();
    for (const object of this.#objects) object.close();
    for (const target of this.#targets) target.close();
    if (first !== undefined) throw first;
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

/** Creates a planned map with its initial value (global data, .kconfig) written; .rodata and .kconfig are frozen. */
function createMap(plan: MapPlan, btf: ObjectBtf): EbpfMap {
  const kernelSpec = { ...plan.spec };
  const withBtf = plan.withBtf ? mapBtf(plan.elf, btf) : undefined;
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
    if (plan.initial !== null) map.update(0, plan.initial);
    if (plan.freeze) map.freeze();
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
 * The map given in place of one of the object's (MapOptions.replaceWith; the plan checked its shape);
 * the System gets its own fd (a dup), so closing the System leaves the given map open.
 */
function replacementMap(name: string, given: MapLike): EbpfMap {
  if (!(given instanceof EbpfMap)) throw new TypeError(`${describeMap(name)}: replaceWith must be an EbpfMap`);
  return EbpfMap.fromFd(new FD(check(native().dup(given.fd), 'dup', `${describeMap(name)} given to replace it`)));
}

function makeProgram(plan: ProgramPlan, core: CoreObject, maps: MapFdTable, btf: FD | undefined, kernelSymbols: () => KernelSymbolValues, slots: ProgramSlots, objectName: string | undefined): Program {
  // Every field present, undefined or not: the specs of all programs (and the copies load() makes of
  // them) then share one shape, and BPF_PROG_LOAD's encoding reads them without property-lookup misses.
  const programSpec: ProgramSpec = {
    name: plan.name,
    section: plan.section,
    sectionTarget: plan.elf.attachTarget ?? undefined,
    type: plan.type,
    expectedAttachType: plan.expectedAttachType,
    license: plan.license,
    // The instructions as in the ELF (a view on the caller's bytes); load() relocates a copy.
    instructions: plan.instructions,
    kernVersion: plan.kernVersion,
    btf: undefined,
    attachBtfId: undefined,
    attachFd: undefined,
    flags: plan.flags,
    ifindex: undefined,
  };
  return plan.unloadable === undefined ? new ObjectProgram(programSpec, core, plan.elf.index, maps, btf, kernelSymbols, slots, objectName) : new UnloadableProgram(programSpec, plan.unloadable, objectName);
}
