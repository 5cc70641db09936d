// An eBPF object kept open in the WASM core: its description, its BTF as the kernel takes it, and
// programs relocated on demand. Browser-safe (no node: imports): relocation is computation only.
import { loadCoreSync, type CoreExports } from '../wasm/core.js';
import { RecordReader, btfInfoPointer, decodeObjectInfo, objectStatus } from './decode.js';
import { attachBtf, type BtfOptions } from './btf-link.js';
import type { BtfLookup } from '../btf/lookup.js';
import { decodeCoreResults } from '../btf/core-relo.js';
import type { CoreRelocationResult } from '../btf/types.js';
import type { ModuleBtf } from '../btf/core-relo.js';
import { ElfError, Status } from './errors.js';
import { INSTRUCTION_SIZE, type ObjectInfo } from './types.js';


/**
 * A program's instructions as BPF_PROG_LOAD takes them: its own, then every function it calls,
 * patched with map fds and call offsets; with func_info and line_info rebased to that layout. The
 * arrays are views on WASM memory, valid only inside the callback of `CoreObject.relocate`.
 */
export interface RelocatedProgram {
  instructions: Uint8Array;
  /** struct bpf_func_info records (8 bytes each), or undefined when the object has none for it. */
  funcInfo: Uint8Array | undefined;
  funcInfoRecSize: number;
  /** struct bpf_line_info records (16 bytes each), or undefined. */
  lineInfo: Uint8Array | undefined;
  lineInfoRecSize: number;
  /** Functions placed: the program and the subprograms it reaches. */
  functionCount: number;
}

export type KconfigKind = 'unknown' | 'bool' | 'char' | 'tristate' | 'int' | 'char-array';
const KCONFIG_KINDS: readonly KconfigKind[] = ['unknown', 'bool', 'char', 'tristate', 'int', 'char-array'];
const KCONFIG_WEAK = 1, KCONFIG_SIGNED = 2, KCONFIG_VAR_SIZE = 24;

/** An extern __kconfig variable: where its value goes in the .kconfig map and how it is written. */
export interface KconfigVariable {
  name: string;
  /** Byte offset in the .kconfig map's value. */
  offset: number;
  size: number;
  kind: KconfigKind;
  /** __weak: no value is no error (it stays 0). */
  weak: boolean;
  signed: boolean;
}

export type KernelSymbolKind = 'kfunc' | 'variable' | 'untyped';
const KSYM_KINDS: readonly (KernelSymbolKind | undefined)[] = [undefined, 'kfunc', 'variable', 'untyped'];
const KSYM_WEAK = 1, KSYM_SIZE = 24, NONE = 0xffffffff;

/** An extern kernel symbol of the object (a kfunc or a __ksym variable), resolved by the loader. */
export interface KernelSymbol {
  name: string;
  /** kfunc: its value is a FUNC id of the kernel's BTF; variable: a VAR id; untyped: an address. */
  kind: KernelSymbolKind;
  /** __weak: a kernel without it gives 0. */
  weak: boolean;
  /** The FUNC or VAR of the object's BTF (0 without BTF). */
  btfId: number;
  /** kfunc: the parameters of its prototype in the object's BTF (undefined without BTF). */
  paramCount: number | undefined;
}

/** A ksym value meaning "not resolved": instructions referring to it fail to relocate. */
export const KSYM_UNRESOLVED = 0xffffffffffffffffn;

/** A relocation that failed on a kernel symbol with no value (EBPF_KSYM_UNRESOLVED). */
export class UnresolvedSymbolError extends ElfError {
  /** Index of the symbol in CoreObject.kernelSymbols(). */
  readonly symbol: number;

  constructor(message: string, status: number, symbol: number) {
    super(message, status);
    this.symbol = symbol;
  }
}

// Frees what a collected CoreObject left open. Only a safety net: close() is the contract.
const leaked = new FinalizationRegistry<{ core: CoreExports; obj: number; data: number }>(({ core, obj, data }) => {
  core.ebpf_object_close(obj);
  core.ebpf_free(data);
});

/** An object opened by the core, held until close() (or, as a last resort, garbage collection). */
export class CoreObject implements Disposable {
  readonly info: ObjectInfo;
  readonly #core: CoreExports;
  #data: number;
  #obj: number;

  private constructor(core: CoreExports, data: number, obj: number, info: ObjectInfo) {
    this.#core = core;
    this.#data = data;
    this.#obj = obj;
    this.info = info;
    leaked.register(this, { core, obj, data }, this);
  }

  /** Copies bytes into WASM memory once and parses them; throws ElfError for malformed input. */
  static open(bytes: Uint8Array, options: BtfOptions = {}): CoreObject {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
    const core = loadCoreSync();
    const data = core.ebpf_alloc(bytes.length);
    if (!data) throw new ElfError(`out of WASM memory for a ${bytes.length}-byte object`, Status.NoMem);
    let obj = 0;
    try {
      new Uint8Array(core.memory.buffer, data, bytes.length).set(bytes);
      obj = core.ebpf_object_open(data, bytes.length);
      if (!obj) throw new ElfError(`out of WASM memory while reading a ${bytes.length}-byte object`, Status.NoMem);
      const infoPtr = core.ebpf_object_get_info(obj);
      const reader = new RecordReader(core); // after the calls: memory may have grown
      const { status, message } = objectStatus(reader, infoPtr);
      if (status !== 0) throw new ElfError(message, status);
      const info = decodeObjectInfo(reader, infoPtr);
      const btf = btfInfoPointer(reader, infoPtr);
      if (btf) attachBtf(core, reader, btf, info, options);
      return new CoreObject(core, data, obj, info);
    } catch (e) {
      if (obj) core.ebpf_object_close(obj);
      core.ebpf_free(data);
      throw e;
    }
  }

  get closed(): boolean {
    return this.#obj === 0;
  }

  /**
   * The object's .BTF as BPF_BTF_LOAD takes it (DATASEC sizes and offsets filled in), as a view on
   * WASM memory handed to fn; undefined when the object has no BTF.
   */
  withKernelBtf<T>(fn: (blob: Uint8Array | undefined) => T): T {
    const ptr = this.#core.ebpf_btf_kernel_blob(this.#live());
    if (!ptr) return fn(undefined);
    const view = new DataView(this.#core.memory.buffer);
    return fn(new Uint8Array(this.#core.memory.buffer, view.getUint32(ptr, true), view.getUint32(ptr + 4, true)));
  }

  /**
   * Relocates program `index` (into info.programs) with `mapFds[i]` the fd of info.maps[i] (-1 when
   * not created) and `ksymValues[i]` the value of kernelSymbols()[i] (KSYM_UNRESOLVED when none: an
   * instruction using it throws an UnresolvedSymbolError) and hands the result to fn, whose views must not outlive the call (nor see another
   * call into the core). Throws an ElfError (status 4, relocation, when the program cannot be
   * relocated: the message names the program, the instruction and the symbol).
   */
  relocate<T>(index: number, mapFds: Int32Array, fn: (program: RelocatedProgram) => T, ksymValues: BigUint64Array = new BigUint64Array(0)): T {
    const core = this.#core;
    const obj = this.#live();
    const fds = core.ebpf_alloc(mapFds.byteLength + 4 + ksymValues.byteLength);
    if (!fds) throw new ElfError('out of WASM memory for map fds', Status.NoMem);
    let image = 0;
    try {
      const ksyms = (fds + mapFds.byteLength + 7) & ~7; // malloc aligns to 8: at most 4 bytes of padding
      new Int32Array(core.memory.buffer, fds, mapFds.length).set(mapFds);
      new BigUint64Array(core.memory.buffer, ksyms, ksymValues.length).set(ksymValues);
      image = core.ebpf_program_relocate(obj, index, fds, mapFds.length, ksyms, ksymValues.length);
      if (!image) throw new ElfError('out of WASM memory while relocating', Status.NoMem);
      const r = new RecordReader(core);
      const status = r.u32(image);
      const unresolved = r.u32(image + 48);
      if (status !== 0 && unresolved !== NONE) throw new UnresolvedSymbolError(r.str(image + 4), status, unresolved);
      if (status !== 0) throw new ElfError(r.str(image + 4), status);
      const buffer = core.memory.buffer;
      const records = (at: number, size: number): Uint8Array | undefined => {
        const count = r.u32(at + 4);
        return count === 0 ? undefined : new Uint8Array(buffer, r.u32(at), count * size);
      };
      const funcInfoRecSize = r.u32(image + 28), lineInfoRecSize = r.u32(image + 40);
      return fn({
        instructions: new Uint8Array(buffer, r.u32(image + 12), r.u32(image + 16) * INSTRUCTION_SIZE),
        funcInfo: records(image + 20, funcInfoRecSize),
        funcInfoRecSize,
        lineInfo: records(image + 32, lineInfoRecSize),
        lineInfoRecSize,
        functionCount: r.u32(image + 44),
      });
    } finally {
      if (image) core.ebpf_program_image_free(image);
      core.ebpf_free(fds);
    }
  }

  /** How many CO-RE relocation records the object's .BTF.ext holds (0 without BTF). */
  get coreRelocationCount(): number {
    const obj = this.#live();
    const view = new DataView(this.#core.memory.buffer);
    const btf = view.getUint32(this.#core.ebpf_object_get_info(obj) + 88, true);
    return btf === 0 ? 0 : view.getUint32(btf + 56, true);
  }

  /**
   * Resolves the object's CO-RE relocations against `target` (the kernel's BTF or one given) as
   * libbpf does; relocate() then patches programs with these results (a program holding a 'failed'
   * one does not relocate). `modules` (kernel modules' split BTFs on top of `target`) are searched
   * for a local type `target` has no candidate for, as libbpf does. The BTFs must stay open while
   * programs relocate. Throws ElfError when the core refuses the call (out of memory).
   */
  coreRelocate(target: BtfLookup, modules: readonly ModuleBtf[] = []): CoreRelocationResult[] {
    const core = this.#core;
    const obj = this.#live();
    const list = modules.length === 0 ? 0 : core.ebpf_alloc(modules.length * 4);
    if (modules.length > 0 && !list) throw new ElfError('out of WASM memory for module BTFs', Status.NoMem);
    let ptr: number;
    try {
      if (list) new Uint32Array(core.memory.buffer, list, modules.length).set(modules.map((m) => m.btf.coreInfo));
      ptr = core.ebpf_object_core_relocate_modules(obj, target.coreInfo, list, modules.length);
    } finally {
      if (list) core.ebpf_free(list);
    }
    if (!ptr) throw new ElfError('out of WASM memory for CO-RE relocation', Status.NoMem);
    const btf = new DataView(core.memory.buffer).getUint32(core.ebpf_object_get_info(obj) + 88, true);
    const programs = this.info.programs.map((p) => ({ name: p.name, section: p.section }));
    const sections: Array<{ name: string } | undefined> = [];
    for (const s of this.info.sections) sections[s.index] = s;
    return decodeCoreResults(core, ptr, btf, { programs, sections, modules: modules.map((m) => m.name) });
  }

  /** The extern __kconfig variables, as the .kconfig map lays them out (empty when none). */
  kconfigVariables(): KconfigVariable[] {
    const ptr = this.#core.ebpf_object_kconfig(this.#live());
    if (!ptr) return [];
    const r = new RecordReader(this.#core);
    const out: KconfigVariable[] = [];
    for (let i = 0, base = r.u32(ptr); i < r.u32(ptr + 4); i++) {
      const at = base + i * KCONFIG_VAR_SIZE, flags = r.u32(at + 20);
      out.push({
        name: r.str(at), offset: r.u32(at + 8), size: r.u32(at + 12), kind: KCONFIG_KINDS[r.u32(at + 16)] ?? 'unknown',
        weak: (flags & KCONFIG_WEAK) !== 0, signed: (flags & KCONFIG_SIGNED) !== 0,
      });
    }
    return out;
  }

  /** The extern kernel symbols (kfuncs, __ksym variables): relocate() takes a value for each, in this order. */
  kernelSymbols(): KernelSymbol[] {
    const ptr = this.#core.ebpf_object_ksyms(this.#live());
    // Most objects have none: answered without a RecordReader (its views and string caches).
    if (!ptr || new DataView(this.#core.memory.buffer).getUint32(ptr + 4, true) === 0) return [];
    const r = new RecordReader(this.#core);
    const out: KernelSymbol[] = [];
    for (let i = 0, base = r.u32(ptr); i < r.u32(ptr + 4); i++) {
      const at = base + i * KSYM_SIZE, params = r.u32(at + 20);
      out.push({
        name: r.str(at), kind: KSYM_KINDS[r.u32(at + 8)] ?? 'untyped', weak: (r.u32(at + 12) & KSYM_WEAK) !== 0,
        btfId: r.u32(at + 16), paramCount: params === NONE ? undefined : params,
      });
    }
    return out;
  }

  /**
   * Whether kernelSymbols()[index] is declared compatibly with type `kernelId` of `kernel` (the
   * kernel's FUNC for a kfunc, its VAR for a typed variable) as libbpf judges it: equal kinds past
   * modifiers and typedefs, prototypes of as many parameters of compatible types. True without BTF.
   */
  kernelSymbolCompatible(index: number, kernel: BtfLookup, kernelId: number): boolean {
    return this.#core.ebpf_ksym_compatible(this.#live(), index, kernel.coreInfo, kernelId) !== 0;
  }

  /** Frees the object and its copy of the bytes (idempotent). */
  close(): void {
    if (this.#obj === 0) return;
    leaked.unregister(this);
    this.#core.ebpf_object_close(this.#obj);
    this.#core.ebpf_free(this.#data);
    this.#obj = 0;
    this.#data = 0;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #live(): number {
    if (this.#obj === 0) throw new Error('the object was closed');
    return this.#obj;
  }
}
