// Reading one ring: a perf event ring (one per CPU) or a BPF ring buffer, mapped by the bridge or, in
// tests on any OS, plain ArrayBuffers laid out the same way. A read copies the unread bytes into the
// framer once (two parts when they wrap the ring's end, one from a ring buffer's double mapping),
// frames them in the core, writes the new consumer position back with release ordering (a ring
// buffer's also while it copies, every RELEASE_EVERY bytes), and hands the framed records to `deliver`.
import type { CopyCuts, FrameResult, FrameSink } from './framer.js';
import { isPowerOfTwo } from '../sys/integers.js';

/**
 * How the consumer position is written back: the bridge's release store on a mapping, or a plain
 * store in tests; the position is a number (no BigInt made per read). (Producer positions are read
 * with Atomics.load, a sequentially consistent load, which is at least the acquire the protocol
 * needs, with no call into the addon; record headers too, or plain loads where those are acquire
 * loads: see PLAIN_ACQUIRE.)
 */
export interface RingWords {
  storeReleaseU64(buffer: ArrayBuffer, offset: number, value: number): void;
}

/** Index of the low and high u32 halves of a u64 in host byte order. */
const LOW = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
const HIGH = 1 - LOW;

/**
 * The u64 at u32 index `at` (8-aligned) of `words`, a position that only grows, as a Number, with
 * no BigInt made: the high half, the low half, the high half again, each an atomic load (so at least
 * acquire); while the two high halves agree the pair is one value the word held (it kept that high
 * half throughout), else the load is tried again.
 */
function loadPosition(words: Uint32Array, at: number): number {
  for (;;) {
    const high = Atomics.load(words, at + HIGH);
    const low = Atomics.load(words, at + LOW);
    if (Atomics.load(words, at + HIGH) === high) return high * 2 ** 32 + low;
  }
}

/**
 * Called once per framed chunk with the framer holding its records; false when the reader stopped
 * meanwhile (its rings may be unmapped: the read must not touch them again).
 */
export type Deliver = (result: FrameResult) => boolean;

/** struct perf_event_mmap_page: data_head, data_tail, data_offset, data_size. */
export const PERF_DATA_HEAD = 1024;
export const PERF_DATA_TAIL = 1032;
export const PERF_DATA_OFFSET = 1040;
export const PERF_DATA_SIZE = 1048;

const U64 = (1n << 64n) - 1n;

function checkRingSize(size: number, what: string): void {
  if (!isPowerOfTwo(size)) throw new RangeError(`${what}: ring data size ${size} is not a power of two`);
}

/**
 * Copies [position, position + length) of a ring of `size` bytes (length ≤ size) into the framer and
 * frames it. `data` is the ring, or (`doubled`) the ring mapped twice in a row, where every range is
 * one contiguous part.
 */
function frameRange(framer: FrameSink, format: 'perf' | 'ringbuf', data: Uint8Array, size: number, doubled: boolean, position: number, length: number, what: string, cuts?: CopyCuts): FrameResult {
  const start = position & (size - 1);
  const end = start + length;
  if (end <= size || doubled) return framer.frame(format, data.subarray(start, end), undefined, position, what, cuts);
  return framer.frame(format, data.subarray(start, size), data.subarray(0, end - size), position, what, cuts);
}

/** A perf event ring: the metadata page and the data area after it (`data`, a power of two long). */
export class PerfRing {
  readonly #meta: ArrayBuffer;
  readonly #meta32: Uint32Array;
  readonly #meta64: BigUint64Array;
  readonly #data: Uint8Array;
  readonly #words: RingWords;
  #tail: number;

  constructor(meta: ArrayBuffer, data: Uint8Array, words: RingWords, what: string) {
    checkRingSize(data.byteLength, what);
    this.#meta = meta;
    this.#meta32 = new Uint32Array(meta, 0, PERF_DATA_SIZE / 4 + 2);
    this.#meta64 = new BigUint64Array(meta, 0, PERF_DATA_SIZE / 8 + 1);
    this.#data = data;
    this.#words = words;
    this.#tail = loadPosition(this.#meta32, PERF_DATA_TAIL / 4);
  }

  get size(): number {
    return this.#data.byteLength;
  }

  /** Unread bytes now (data_head - data_tail). */
  pending(): number {
    return loadPosition(this.#meta32, PERF_DATA_HEAD / 4) - this.#tail;
  }

  /**
   * Frames every complete record between data_tail and data_head, in chunks of at most the framer's
   * capacity, advancing data_tail after each chunk (the records are in WASM memory by then). Returns
   * the bytes consumed. A producer position behind the tail or more than a ring ahead is an error.
   */
  read(framer: FrameSink, deliver: Deliver, what: string): number {
    const head = loadPosition(this.#meta32, PERF_DATA_HEAD / 4);
    const size = this.#data.byteLength;
    let available = head - this.#tail;
    if (available < 0 || available > size) {
      throw new Error(`${what}: data_head ${head} is ${available} bytes from data_tail ${this.#tail}, outside [0, ${size}]: a torn or corrupt producer position`);
    }
    let consumed = 0;
    while (available > 0) {
      const result = frameRange(framer, 'perf', this.#data, size, false, this.#tail, Math.min(available, framer.capacity), what);
      const done = result.consumed;
      this.#tail += done;
      this.#words.storeReleaseU64(this.#meta, PERF_DATA_TAIL, this.#tail);
      consumed += done;
      available -= done;
      if (!deliver(result) || done === 0) break; // stopped, or an incomplete record: the rest comes with the next head
    }
    return consumed;
  }

  /**
   * An overwritable (write_backward) ring, paused by the caller: frames the records from data_head on,
   * newest first, up to one ring's worth (the oldest one cut by the wrap is left out).
   */
  readBackward(framer: FrameSink, deliver: Deliver, what: string): void {
    const head = Atomics.load(this.#meta64, PERF_DATA_HEAD / 8);
    const written = Number((U64 + 1n - head) & U64);
    const length = Math.min(written, this.size, framer.capacity);
    if (length === 0) return;
    const start = Number(head & BigInt(this.size - 1));
    deliver(frameRange(framer, 'perf', this.#data, this.size, false, start, length, what));
  }
}

/** A BPF ring buffer record's header (kernel/bpf/ringbuf.c): u32 length with these two bits, u32 page offset. */
export const RINGBUF_BUSY = 0x80000000;
export const RINGBUF_DISCARD = 0x40000000;
export const RINGBUF_HEADER = 8;

/**
 * Whether a plain load of a record header is an acquire load: on x86-64 a load is never reordered
 * with later loads (TSO), and V8 keeps typed-array loads in program order with the copy that follows
 * (a call), so the plain load of a header that reads committed orders the copy of its data after the
 * commit, as libbpf's smp_load_acquire does. A walk loads each header once, and walks are separated
 * by calls, so the JIT cannot reuse an earlier load of the same header (loadPosition, which loads a
 * word twice, keeps Atomics.load for that). It costs a fifth of Atomics.load, which Node 20's V8 does
 * not inline (~15 ns a header, a tenth of a small record's whole cost). Elsewhere: Atomics.load.
 */
const PLAIN_ACQUIRE = typeof process !== 'undefined' && process.arch === 'x64';

/**
 * A ring buffer read gives space back to the producer every this many bytes copied (at the next
 * record boundary), not only once the whole read is copied and framed: libbpf's ring buffer consumer
 * gives back each record as it goes, and a producer flooding a full ring fails every output until
 * space comes back. Each give-back is a release store through the bridge (~0.1 µs). (A perf ring is
 * given back after the read, as libbpf's perf buffer does: giving it back while copying measured no
 * different with 4 KB records.)
 */
const RELEASE_EVERY = 16 * 1024;

/**
 * The cuts of one read (see CopyCuts, RELEASE_EVERY): the ring's walk notes each record's end, and
 * the framer's copy calls release() at every cut, which stores `base + offset` as the consumer's
 * position.
 */
class ReadCuts implements CopyCuts {
  readonly offsets: number[] = [];
  count = 0;
  #released = 0;
  #base = 0;
  #next = 0;

  constructor(readonly store: (position: number) => void) {}

  /** Starts the walk of a read from ring position `base`. */
  begin(base: number): void {
    this.#base = base;
    this.count = 0;
    this.#released = 0;
    this.#next = RELEASE_EVERY;
  }

  /** A record ends `offset` bytes into the read. */
  note(offset: number): void {
    if (offset < this.#next) return;
    this.offsets[this.count++] = offset;
    this.#next = offset + RELEASE_EVERY;
  }

  /** The walk ended `offset` bytes in: a cut there is dropped (the read's own release follows the frame). */
  end(offset: number): void {
    if (this.count > 0 && this.offsets[this.count - 1] === offset) this.count--;
  }

  release(offset: number): void {
    this.#released = offset;
    this.store(this.#base + offset);
  }

  /** Throws if the frame took fewer bytes than the read gave back (cannot happen: see BpfRing's walk). */
  checkFramed(consumed: number, what: string): void {
    if (consumed < this.#released) {
      throw new Error(`${what}: ${this.#released} bytes given back to the producer but only ${consumed} framed at position ${this.#base}`);
    }
  }
}

/**
 * A BPF ring buffer: the consumer page (consumer_pos at 0, written by us), the producer page
 * (producer_pos at 0) and the data area (a power of two long). The kernel maps the data twice in a
 * row: with `doubled`, `data` is both copies (twice the ring's size) and a record range that wraps
 * the end is read as one part; without (synthetic rings), `data` is the ring alone.
 */
export class BpfRing {
  readonly #consumer: ArrayBuffer;
  readonly #producer: Uint32Array;
  readonly #data: Uint8Array;
  readonly #doubled: boolean;
  readonly #size: number;
  readonly #headers: Uint32Array;
  readonly #words: RingWords;
  #position: number;
  /** Where the read in progress gives space back (see RELEASE_EVERY). */
  readonly #cuts: ReadCuts;

  constructor(consumer: ArrayBuffer, producer: ArrayBuffer, data: Uint8Array, words: RingWords, what: string, doubled = false) {
    const size = doubled ? data.byteLength / 2 : data.byteLength;
    checkRingSize(size, what);
    this.#consumer = consumer;
    this.#producer = new Uint32Array(producer, 0, 2);
    this.#data = data;
    this.#doubled = doubled;
    this.#size = size;
    this.#headers = new Uint32Array(data.buffer, data.byteOffset, size >>> 2);
    this.#words = words;
    this.#position = loadPosition(new Uint32Array(consumer, 0, 2), 0);
    this.#cuts = new ReadCuts((position) => this.#words.storeReleaseU64(this.#consumer, 0, position));
  }

  get size(): number {
    return this.#size;
  }

  /** Bytes between consumer_pos and producer_pos now (committed or not). */
  pending(): number {
    return loadPosition(this.#producer, 0) - this.#position;
  }

  /**
   * How far the committed records from `from` reach (at most `limit` bytes and `maxRecords` records,
   * so that one frame takes them all): each header is read with an acquire load (see PLAIN_ACQUIRE)
   * before any of its data is copied, as libbpf's smp_load_acquire, so a record is copied only after
   * the kernel committed it. Notes the record boundaries where the copy gives space back in #cuts.
   */
  #committedEnd(from: number, producer: number, limit: number, maxRecords: number): number {
    const mask = this.#size - 1;
    const headers = this.#headers;
    const cuts = this.#cuts;
    cuts.begin(from);
    let records = 0;
    let end = from;
    while (end < producer && records < maxRecords) {
      const header = PLAIN_ACQUIRE ? headers[(end & mask) >>> 2]! : Atomics.load(headers, (end & mask) >>> 2);
      if ((header & RINGBUF_BUSY) !== 0) break;
      const total = (((header & ~(RINGBUF_BUSY | RINGBUF_DISCARD)) >>> 0) + RINGBUF_HEADER + 7) & ~7;
      if (end + total > producer || end + total - from > limit) break;
      end += total;
      records++;
      cuts.note(end - from);
    }
    cuts.end(end - from);
    return end;
  }

  /** Frames the committed records from consumer_pos on; returns the bytes consumed. */
  read(framer: FrameSink, deliver: Deliver, what: string): number {
    const producer = loadPosition(this.#producer, 0);
    const size = this.#size;
    if (producer < this.#position || producer - this.#position > size) {
      throw new Error(`${what}: producer_pos ${producer} is ${producer - this.#position} bytes from consumer_pos ${this.#position}, outside [0, ${size}]: a torn or corrupt producer position`);
    }
    let consumed = 0;
    for (;;) {
      const end = this.#committedEnd(this.#position, producer, framer.capacity, framer.maxRecords);
      if (end === this.#position) break;
      const result = frameRange(framer, 'ringbuf', this.#data, size, this.#doubled, this.#position, end - this.#position, what, this.#cuts);
      const done = result.consumed;
      this.#cuts.checkFramed(done, what); // the walk took whole committed records: one frame takes them all
      this.#position += done;
      this.#words.storeReleaseU64(this.#consumer, 0, this.#position);
      consumed += done;
      if (!deliver(result) || done === 0) break;
    }
    return consumed;
  }
}
