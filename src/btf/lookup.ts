// A raw BTF (the kernel's /sys/kernel/btf/vmlinux, typically) kept open in the WASM core and searched
// by name and kind through the core's name index, built once on the first search. The core opens it
// lazily: one pass over the types, each decoded when first asked for. Browser-safe.
import { RecordReader } from '../elf/decode.js';
import { ElfError, Status } from '../elf/errors.js';
import { loadCoreSync, type CoreExports } from '../wasm/core.js';
import { BTF_KINDS } from './decode.js';
import type { BtfKind } from './types.js';

const NONE = 0xffffffff;
const NAME_ROOM = 256; // names up to this many bytes go through a buffer kept in WASM memory
const encoder = new TextEncoder();

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
  /** Where find() writes names: NAME_ROOM bytes of WASM memory, freed with the BTF. */
  #name = 0;
  /** Type ids run from 1 to typeCount - 1. */
  readonly typeCount: number;

  private constructor(core: CoreExports, data: number, result: number, info: number) {
    this.#core = core;
    this.#data = data;
    this.#result = result;
    this.#info = info;
    this.typeCount = new DataView(core.memory.buffer).getUint32(info + 4, true);
  }

  /** Copies the bytes of a .BTF (either byte order) into WASM memory and parses them; ElfError when malformed. */
  static open(bytes: Uint8Array, base?: BtfLookup): BtfLookup {
    return BtfLookup.openWith(bytes.length, (view) => view.set(bytes), base);
  }

  /**
   * Opens `size` bytes of BTF that `fill` writes straight into WASM memory (a file read into the
   * view: no copy on the way); ElfError when malformed. With `base` (the kernel's BTF, which must stay
   * open as long as this one), the bytes are a split BTF: a kernel module's, whose ids and strings
   * continue the base's; find() then searches the module's own types.
   */
  static openWith(size: number, fill: (view: Uint8Array) => void, base?: BtfLookup): BtfLookup {
    const core = loadCoreSync();
    const data = core.ebpf_alloc(Math.max(size, 1));
    if (!data) throw new ElfError(`out of WASM memory for ${size} bytes of BTF`, Status.NoMem);
    let result = 0;
    try {
      fill(new Uint8Array(core.memory.buffer, data, size));
      result = base === undefined ? core.ebpf_btf_open_lazy(data, size) : core.ebpf_btf_open_split(base.coreInfo, data, size);
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
    if (name.length * 3 > NAME_ROOM) return this.#findLong(name, kind);
    if (this.#name === 0) {
      this.#name = core.ebpf_alloc(NAME_ROOM);
      if (!this.#name) throw new ElfError('out of WASM memory for a BTF name', Status.NoMem);
    }
    const { written } = encoder.encodeInto(name, new Uint8Array(core.memory.buffer, this.#name, NAME_ROOM));
    return this.#found(core.ebpf_btf_find(this.#info, this.#name, written, BTF_KINDS.indexOf(kind)));
  }

  #findLong(name: string, kind: BtfKind): number {
    const core = this.#core;
    const encoded = encoder.encode(name);
    const at = core.ebpf_alloc(encoded.length);
    if (!at) throw new ElfError('out of WASM memory for a BTF name', Status.NoMem);
    try {
      new Uint8Array(core.memory.buffer, at, encoded.length).set(encoded);
      return this.#found(core.ebpf_btf_find(this.#info, at, encoded.length, BTF_KINDS.indexOf(kind)));
    } finally {
      core.ebpf_free(at);
    }
  }

  #found(id: number): number {
    if (id >>> 0 === NONE) throw new ElfError('out of WASM memory for the BTF name index', Status.NoMem);
    return id >>> 0;
  }

  /** Kind, name, referenced type and member count of type id (undefined when out of range). */
  type(id: number): BtfTypeHead | undefined {
    this.#live();
    if (!Number.isInteger(id) || id < 0 || id >= this.typeCount) return undefined;
    const at = this.#core.ebpf_btf_type_at(this.#info, id);
    if (!at) return undefined; // malformed: the core decodes a type when first asked for
    const r = new RecordReader(this.#core);
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
    if (this.#name !== 0) this.#core.ebpf_free(this.#name);
    this.#name = 0;
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
