// A raw BTF (the kernel's /sys/kernel/btf/vmlinux, typically) kept open in the WASM core and searched
// by name and kind through the core's name index, built once on the first search. Browser-safe.
import { RecordReader } from '../elf/decode.js';
import { ElfError, Status } from '../elf/errors.js';
import { loadCoreSync, type CoreExports } from '../wasm/core.js';
import { BTF_KINDS } from './decode.js';
import type { BtfKind } from './types.js';

const NONE = 0xffffffff;
const TYPE_SIZE = 40;

/** What a lookup needs of one type: its kind, name, referenced type and member count. */
export interface BtfTypeHead {
  id: number;
  kind: BtfKind;
  name: string;
  /** The referenced type (ptr, typedef, func, var, ...; a func_proto's return type). */
  type: number;
  /** Members, parameters, enumerators or datasec entries (0 for a func, whose vlen field is its linkage). */
  vlen: number;
}

/** A BTF blob parsed by the core and held open for lookups until close(). */
export class BtfLookup implements Disposable {
  readonly #core: CoreExports;
  #data: number;
  #result: number;
  readonly #info: number;
  /** Type ids run from 1 to typeCount - 1. */
  readonly typeCount: number;

  private constructor(core: CoreExports, data: number, result: number, info: number) {
    this.#core = core;
    this.#data = data;
    this.#result = result;
    this.#info = info;
    this.typeCount = new RecordReader(core).u32(info + 4);
  }

  /** Copies the bytes of a .BTF (either byte order) into WASM memory and parses them; ElfError when malformed. */
  static open(bytes: Uint8Array): BtfLookup {
    const core = loadCoreSync();
    const data = core.ebpf_alloc(Math.max(bytes.length, 1));
    if (!data) throw new ElfError(`out of WASM memory for ${bytes.length} bytes of BTF`, Status.NoMem);
    let result = 0;
    try {
      new Uint8Array(core.memory.buffer, data, bytes.length).set(bytes);
      result = core.ebpf_btf_open(data, bytes.length, 0, 0);
      if (!result) throw new ElfError('out of WASM memory while reading BTF', Status.NoMem);
      const r = new RecordReader(core);
      const status = r.u32(result);
      if (status !== 0) throw new ElfError(r.str(result + 4), status);
      return new BtfLookup(core, data, result, r.u32(result + 12));
    } catch (e) {
      if (result) core.ebpf_btf_close(result);
      core.ebpf_free(data);
      throw e;
    }
  }

  /** The lowest id of a type with this name and kind, or 0 when there is none. */
  find(name: string, kind: BtfKind): number {
    const core = this.#core;
    this.#live();
    const encoded = new TextEncoder().encode(name);
    const at = core.ebpf_alloc(Math.max(encoded.length, 1));
    if (!at) throw new ElfError('out of WASM memory for a BTF name', Status.NoMem);
    try {
      new Uint8Array(core.memory.buffer, at, encoded.length).set(encoded);
      const id = core.ebpf_btf_find(this.#info, at, encoded.length, BTF_KINDS.indexOf(kind)) >>> 0;
      if (id === NONE) throw new ElfError('out of WASM memory for the BTF name index', Status.NoMem);
      return id;
    } finally {
      core.ebpf_free(at);
    }
  }

  /** Kind, name, referenced type and member count of type id (undefined when out of range). */
  type(id: number): BtfTypeHead | undefined {
    this.#live();
    if (!Number.isInteger(id) || id < 0 || id >= this.typeCount) return undefined;
    const r = new RecordReader(this.#core);
    const at = r.u32(this.#info + 12) + id * TYPE_SIZE;
    return { id, kind: BTF_KINDS[r.u32(at + 8)] ?? 'void', name: r.str(at), type: r.u32(at + 24), vlen: r.u32(at + 16) };
  }

  /** Address of the core's ebpf_btf_info of this BTF, for core calls that compare against it. */
  get coreInfo(): number {
    this.#live();
    return this.#info;
  }

  get closed(): boolean {
    return this.#result === 0;
  }

  /** Frees the parsed BTF and its bytes (idempotent). */
  close(): void {
    if (this.#result === 0) return;
    this.#core.ebpf_btf_close(this.#result);
    this.#core.ebpf_free(this.#data);
    this.#result = 0;
    this.#data = 0;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #live(): void {
    if (this.#result === 0) throw new Error('the BTF was closed');
  }
}
