// The kernel side of an object a System loads: its BTF (BPF_BTF_LOAD once per object), BTF for its
// maps, and its programs, relocated by the WASM core at load() with the fds of the System's maps and
// the values of its kernel symbols, and handed to BPF_PROG_LOAD straight from WASM memory with their
// func and line info.
import { ElfError, Status } from '../elf/errors.js';
import { UnresolvedSymbolError, type CoreObject } from '../elf/open.js';
import type { MapSpec as ElfMapSpec } from '../elf/types.js';
import type { EbpfMap, MapSpec } from '../map/map.js';
import { FD } from '../sys/bpf.js';
import { errnoCode, withObject } from '../sys/errors.js';
import { ATTR, BpfCmd } from '../sys/generated.js';
import { native } from '../sys/native.js';
import { attachBtfId, KernelSymbolError } from './kernel-btf.js';
import type { KernelSymbolValues } from './ksyms.js';
import type { ProgramSlots } from './elf-map.js';
import { logLines } from './verifier.js';
import { Program, type LoadOptions, type ProgramSpec } from './program.js';

/** Something in an object that this version of ebpf cannot load yet; the message says what and where. */
export class UnsupportedError extends Error {
  override name = 'UnsupportedError';
}

/** enum ebpf_status: a relocation the core cannot apply. */
const BTF_LOG_SIZE = 64 * 1024;

/** The object's BTF in the kernel, or why the kernel refused it (the object then loads without BTF). */
export type ObjectBtf = { fd: FD; refused?: undefined } | { fd?: undefined; refused: string } | { fd?: undefined; refused?: undefined };

/**
 * BPF_BTF_LOAD of the object's .BTF as the core prepares it for the kernel (DATASEC sizes and offsets
 * filled in), straight from WASM memory. A refusal is not fatal: libbpf too loads without BTF then.
 */
export function loadObjectBtf(object: CoreObject): ObjectBtf {
  return object.withKernelBtf((blob): ObjectBtf => {
    if (blob === undefined) return {};
    const F = ATTR.BTF_LOAD;
    const attr = new Uint8Array(F.SIZE);
    const view = new DataView(attr.buffer);
    view.setUint32(F.btf_size.offset, blob.byteLength, true);
    const fd = native().bpf(BpfCmd.BtfLoad, attr, F.btf.offset, blob);
    if (fd >= 0) return { fd: new FD(fd) };
    // Again with a log, for the reason.
    const log = new Uint8Array(BTF_LOG_SIZE);
    view.setUint32(F.btf_log_size.offset, log.byteLength, true);
    view.setUint32(F.btf_log_level.offset, 1, true);
    const again = native().bpf(BpfCmd.BtfLoad, attr, F.btf.offset, blob, F.btf_log_buf.offset, log);
    if (again >= 0) return { fd: new FD(again) };
    const end = log.indexOf(0);
    const last = logLines(new TextDecoder().decode(log.subarray(0, end < 0 ? log.length : end))).pop();
    return { refused: `the kernel refused the object's BTF (BPF_BTF_LOAD: ${errnoCode(-fd)}${last ? `: ${last.trim()}` : ''}); its maps and programs load without BTF` };
  });
}

/** The BTF ids of a map's key and value in the object's BTF, when it has them (BTF maps, global data). */
export function mapBtf(spec: ElfMapSpec, btf: ObjectBtf): MapSpec['btf'] {
  if (btf.fd === undefined || (spec.keyTypeId === 0 && spec.valueTypeId === 0)) return undefined;
  return { fd: btf.fd.fd, keyTypeId: spec.keyTypeId, valueTypeId: spec.valueTypeId };
}

/**
 * The fds of an object's maps in object.info.maps order, as relocate takes them: one array shared by
 * the object's programs, re-read from the maps at each load (a map closed or created again since has
 * another fd; -1 for templates and maps not created).
 */
export class MapFdTable {
  readonly #maps: ReadonlyArray<EbpfMap | undefined>;
  readonly #fds: Int32Array;

  constructor(maps: ReadonlyArray<EbpfMap | undefined>) {
    this.#maps = maps;
    this.#fds = new Int32Array(maps.length);
  }

  /** The maps' fds now; valid until the next call. */
  current(): Int32Array {
    const maps = this.#maps, fds = this.#fds;
    for (let i = 0; i < maps.length; i++) fds[i] = maps[i]?.fd ?? -1;
    return fds;
  }
}

/**
 * A program of an object opened by a System, relocated when it loads: the kernel gets the core's
 * image (the function, then the subprograms it reaches, patched with the maps' current fds), and
 * programs attached through BTF (fentry, tp_btf, lsm, iter, ...) their target's id in the kernel's BTF.
 * `instructions` and `size` stay those of the function as the ELF has it. Once loaded, the program
 * goes into the program array slots of its object that name it (`.values = { [i] = (void *)&prog }`,
 * see ProgramSlots); it stays there when closed (the array holds its own reference) until the slot
 * is deleted or the array goes away.
 */
export class ObjectProgram extends Program {
  readonly #object: CoreObject;
  readonly #index: number;
  readonly #maps: MapFdTable;
  readonly #btf: FD | undefined;
  readonly #kernelSymbols: () => KernelSymbolValues;
  readonly #slots: ProgramSlots;
  readonly #objectName: string | undefined;

  /**
   * `index`: the program's index in object.info.programs; `maps`: the fds of the maps created for
   * object.info.maps; `btf`: the object's BTF fd;
   * `kernelSymbols`: the values of the object's kfuncs and __ksym variables (resolved once, on demand);
   * `slots`: the object's program array slots, which this program fills when it loads;
   * `objectName`: the object's path or name, first in the errors of load() when given.
   */
  constructor(spec: ProgramSpec, object: CoreObject, index: number, maps: MapFdTable, btf: FD | undefined,
    kernelSymbols: () => KernelSymbolValues, slots: ProgramSlots, objectName?: string) {
    super(spec);
    this.#object = object;
    this.#index = index;
    this.#maps = maps;
    this.#btf = btf;
    this.#kernelSymbols = kernelSymbols;
    this.#slots = slots;
    this.#objectName = objectName;
  }

  /** Loads the program, then puts it in the program array slots that name it (closed again if one refuses it). */
  override load(options?: LoadOptions): this {
    try {
      super.load(options);
      this.#slots.fill(this.#index, this);
    } catch (e) {
      throw withObject(e, this.#objectName);
    }
    return this;
  }

  protected override withLoadSpec(spec: ProgramSpec, load: (spec: ProgramSpec) => this): this {
    const elf = this.#object.info.programs[this.#index]!;
    if (elf.needsBtfTarget && spec.attachBtfId === undefined) {
      spec = { ...spec, attachBtfId: attachBtfId({ ...spec, attachTarget: elf.attachTarget }) };
    }
    const fds = this.#maps.current();
    const ksyms = this.#kernelSymbols();
    try {
      return this.#object.relocate(this.#index, fds, (image) => {
        const relocated: ProgramSpec = { ...spec, instructions: image.instructions };
        const btf = this.#btf;
        if (btf !== undefined && !btf.closed) {
          relocated.btf = {
            fd: btf.fd,
            funcInfo: image.funcInfo, funcInfoRecSize: image.funcInfoRecSize,
            lineInfo: image.lineInfo, lineInfoRecSize: image.lineInfoRecSize,
          };
        }
        return load(relocated);
      }, ksyms.values);
    } catch (e) {
      if (e instanceof UnresolvedSymbolError) throw new KernelSymbolError(`${e.message}: ${ksyms.reasons[e.symbol] ?? 'no value'}`);
      if (e instanceof ElfError && e.status === Status.Relocation) throw new UnsupportedError(e.message);
      throw e;
    }
  }
}
