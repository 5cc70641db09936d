// The core's record framing (core-c/src/ring_perf.c, ring_bpf.c) over a private instance of the WASM
// core: a ring's unread bytes are copied into its memory once per read, framed there, and handed out
// as views on that memory or as copies. The instance is private so that `invalidate()` can detach its
// memory's buffer (WebAssembly.Memory.grow(0) does) after a batch: every zero-copy view handed out
// then has length 0 and its slice()/subarray() throw, instead of showing the next batch's bytes.
import { newCoreInstanceSync, type CoreExports } from '../wasm/core.js';

/** What the core reports for one framing call. */
export interface FrameResult {
  /** Records framed (samples and lost notices), see `kind`/`offset`/`size`/`lost`. */
  count: number;
  /** Bytes of the copy consumed: add to the ring's tail. */
  consumed: number;
  unknown: number;
  discarded: number;
  /** The copy ended inside a record or at a busy (uncommitted) ring buffer record. */
  incomplete: boolean;
}

export const RECORD_SAMPLE = 0;
export const RECORD_LOST = 1;
const RECORD_SIZE = 24;
const BATCH_SIZE = 256;
/** Records framed per core call at most; more wait for the next call (the caller loops). */
const RECORD_CAPACITY = 4096;

export type RingFormat = 'perf' | 'ringbuf';

/** One framer per reader: a data area as large as the largest ring it reads, and the record array. */
export class Framer {
  readonly #core: CoreExports;
  readonly capacity: number;
  readonly #data: number;
  readonly #records: number;
  readonly #batch: number;
  #u32 = new Uint32Array(0);
  #viewsOut = false;

  constructor(capacity: number) {
    this.#core = newCoreInstanceSync();
    this.capacity = capacity;
    this.#data = this.#alloc(capacity);
    this.#records = this.#alloc(RECORD_CAPACITY * RECORD_SIZE);
    this.#batch = this.#alloc(BATCH_SIZE);
  }

  #alloc(size: number): number {
    const ptr = this.#core.ebpf_alloc(size);
    if (ptr === 0) throw new Error(`ebpf events: cannot allocate ${size} bytes of WASM memory for ring records`);
    return ptr;
  }

  /**
   * Copies `first` then `second` (the two parts of a wrapped range; together at most `capacity`
   * bytes) into the data area and frames them. Throws an Error naming `what` for a malformed record.
   */
  frame(format: RingFormat, first: Uint8Array, second: Uint8Array | undefined, position: number, what: string): FrameResult {
    const memory = this.#core.memory.buffer;
    const size = first.byteLength + (second?.byteLength ?? 0);
    if (size > this.capacity) throw new RangeError(`${what}: ${size} bytes to frame, more than the ${this.capacity}-byte area`);
    const area = new Uint8Array(memory, this.#data, size);
    area.set(first);
    if (second !== undefined) area.set(second, first.byteLength);
    const parse = format === 'perf' ? this.#core.ebpf_perf_parse : this.#core.ebpf_ringbuf_parse;
    const status = parse(this.#data, size, BigInt(position), this.#records, RECORD_CAPACITY, this.#batch);
    const buffer = this.#core.memory.buffer;
    if (this.#u32.buffer !== buffer) this.#u32 = new Uint32Array(buffer);
    const u32 = this.#u32;
    const b = this.#batch >>> 2;
    if (status !== 0) {
      const bytes = new Uint8Array(this.#core.memory.buffer, this.#batch + 32, 224);
      const message = new TextDecoder().decode(bytes.subarray(0, Math.max(0, bytes.indexOf(0))));
      throw new Error(`${what}: ${message}`);
    }
    return { count: u32[b + 1], consumed: u32[b + 2], unknown: u32[b + 3], discarded: u32[b + 4], incomplete: u32[b + 5] !== 0 };
  }

  /** Record i of the last frame(): RECORD_SAMPLE or RECORD_LOST. */
  kind(i: number): number {
    return this.#u32[(this.#records >>> 2) + i * 6];
  }

  /** Lost count of record i (a RECORD_LOST). */
  lost(i: number): number {
    const at = (this.#records >>> 2) + i * 6;
    return this.#u32[at + 4] + this.#u32[at + 5] * 2 ** 32;
  }

  /** A zero-copy view of sample i's data, valid until `invalidate()`. */
  view(i: number): Uint8Array {
    const at = (this.#records >>> 2) + i * 6;
    this.#viewsOut = true;
    return new Uint8Array(this.#core.memory.buffer, this.#data + this.#u32[at + 1], this.#u32[at + 2]);
  }

  /** A copy of sample i's data (its own ArrayBuffer). */
  copy(i: number): Uint8Array {
    const at = (this.#records >>> 2) + i * 6;
    const start = this.#data + this.#u32[at + 1];
    return new Uint8Array(this.#core.memory.buffer.slice(start, start + this.#u32[at + 2]));
  }

  /** Detaches every view handed out since the last call (their length becomes 0). */
  invalidate(): void {
    if (!this.#viewsOut) return;
    this.#viewsOut = false;
    this.#core.memory.grow(0);
    this.#u32 = new Uint32Array(0);
  }
}
