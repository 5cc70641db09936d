// Reading one ring: a perf event ring (one per CPU) or a BPF ring buffer, mapped by the bridge or, in
// tests on any OS, plain ArrayBuffers laid out the same way. A read copies the unread bytes into the
// framer once (two parts when they wrap the ring's end), frames them in the core, writes the new
// consumer position back with release ordering, and hands the framed records to `deliver`.
import type { Framer, FrameResult } from './framer.js';

/**
 * How the consumer position is written back: the bridge's release store on a mapping, or a plain
 * store in tests. (Producer positions and record headers are read with Atomics.load, a sequentially
 * consistent load, which is at least the acquire the protocol needs, with no call into the addon.)
 */
export interface RingWords {
  storeReleaseU64(buffer: ArrayBuffer, offset: number, value: bigint): void;
}

/** An atomic load of the u64 at byte offset `offset` (8-aligned) of `words`. */
function loadU64(words: BigUint64Array, offset: number): number {
  return Number(Atomics.load(words, offset >>> 3));
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
  if (size <= 0 || (size & (size - 1)) !== 0) throw new RangeError(`${what}: ring data size ${size} is not a power of two`);
}

/** Copies [position, position + length) of a ring (length ≤ ring size) into the framer and frames it. */
function frameRange(framer: Framer, format: 'perf' | 'ringbuf', ring: Uint8Array, position: number, length: number, what: string): FrameResult {
  const size = ring.byteLength;
  const start = position % size;
  const end = start + length;
  if (end <= size) return framer.frame(format, ring.subarray(start, end), undefined, position, what);
  return framer.frame(format, ring.subarray(start, size), ring.subarray(0, end - size), position, what);
}

/** A perf event ring: the metadata page and the data area after it (`data`, a power of two long). */
export class PerfRing {
  readonly #meta: ArrayBuffer;
  readonly #meta64: BigUint64Array;
  readonly #data: Uint8Array;
  readonly #words: RingWords;
  #tail: number;

  constructor(meta: ArrayBuffer, data: Uint8Array, words: RingWords, what: string) {
    checkRingSize(data.byteLength, what);
    this.#meta = meta;
    this.#meta64 = new BigUint64Array(meta, 0, PERF_DATA_SIZE / 8 + 1);
    this.#data = data;
    this.#words = words;
    this.#tail = Number(new DataView(meta).getBigUint64(PERF_DATA_TAIL, true));
  }

  get size(): number {
    return this.#data.byteLength;
  }

  /** Unread bytes now (data_head - data_tail). */
  pending(): number {
    return loadU64(this.#meta64, PERF_DATA_HEAD) - this.#tail;
  }

  /**
   * Frames every complete record between data_tail and data_head, in chunks of at most the framer's
   * capacity, advancing data_tail after each chunk (the records are in WASM memory by then). Returns
   * the bytes consumed. A producer position behind the tail or more than a ring ahead is an error.
   */
  read(framer: Framer, deliver: Deliver, what: string): number {
    const head = loadU64(this.#meta64, PERF_DATA_HEAD);
    let available = head - this.#tail;
    if (available < 0 || available > this.size) {
      throw new Error(`${what}: data_head ${head} is ${available} bytes from data_tail ${this.#tail}, outside [0, ${this.size}]: a torn or corrupt producer position`);
    }
    let consumed = 0;
    while (available > 0) {
      const result = frameRange(framer, 'perf', this.#data, this.#tail, Math.min(available, framer.capacity), what);
      this.#tail += result.consumed;
      this.#words.storeReleaseU64(this.#meta, PERF_DATA_TAIL, BigInt(this.#tail));
      consumed += result.consumed;
      available -= result.consumed;
      if (!deliver(result) || result.consumed === 0) break; // stopped, or an incomplete record: the rest comes with the next head
    }
    return consumed;
  }

  /**
   * An overwritable (write_backward) ring, paused by the caller: frames the records from data_head on,
   * newest first, up to one ring's worth (the oldest one cut by the wrap is left out).
   */
  readBackward(framer: Framer, deliver: Deliver, what: string): void {
    const head = Atomics.load(this.#meta64, PERF_DATA_HEAD / 8);
    const written = Number((U64 + 1n - head) & U64);
    const length = Math.min(written, this.size, framer.capacity);
    if (length === 0) return;
    const start = Number(head & BigInt(this.size - 1));
    deliver(frameRange(framer, 'perf', this.#data, start, length, what));
  }
}

const BUSY = 0x80000000;
const DISCARD = 0x40000000;

/**
 * A BPF ring buffer: the consumer page (consumer_pos at 0, written by us), the producer page
 * (producer_pos at 0) and the data area (`data`, a power of two long; the kernel maps it twice in a
 * row, of which only the first copy is read here).
 */
export class BpfRing {
  readonly #consumer: ArrayBuffer;
  readonly #producer: BigUint64Array;
  readonly #data: Uint8Array;
  readonly #headers: Uint32Array;
  readonly #words: RingWords;
  #position: number;

  constructor(consumer: ArrayBuffer, producer: ArrayBuffer, data: Uint8Array, words: RingWords, what: string) {
    checkRingSize(data.byteLength, what);
    this.#consumer = consumer;
    this.#producer = new BigUint64Array(producer, 0, 1);
    this.#data = data;
    this.#headers = new Uint32Array(data.buffer, data.byteOffset, data.byteLength >>> 2);
    this.#words = words;
    this.#position = loadU64(new BigUint64Array(consumer, 0, 1), 0);
  }

  get size(): number {
    return this.#data.byteLength;
  }

  /** Bytes between consumer_pos and producer_pos now (committed or not). */
  pending(): number {
    return loadU64(this.#producer, 0) - this.#position;
  }

  /**
   * How far the committed records from `from` reach (at most `limit` bytes): each header is read with
   * an atomic load before any of its data is copied, as libbpf's smp_load_acquire, so a record is
   * copied only after the kernel committed it.
   */
  #committedEnd(from: number, producer: number, limit: number): number {
    const mask = this.size - 1;
    let end = from;
    while (end < producer) {
      const header = Atomics.load(this.#headers, (end & mask) >>> 2);
      if ((header & BUSY) !== 0) break;
      const total = (((header & ~(BUSY | DISCARD)) >>> 0) + 8 + 7) & ~7;
      if (end + total > producer || end + total - from > limit) break;
      end += total;
    }
    return end;
  }

  /** Frames the committed records from consumer_pos on; returns the bytes consumed. */
  read(framer: Framer, deliver: Deliver, what: string): number {
    const producer = loadU64(this.#producer, 0);
    if (producer < this.#position || producer - this.#position > this.size) {
      throw new Error(`${what}: producer_pos ${producer} is ${producer - this.#position} bytes from consumer_pos ${this.#position}, outside [0, ${this.size}]: a torn or corrupt producer position`);
    }
    let consumed = 0;
    for (;;) {
      const end = this.#committedEnd(this.#position, producer, framer.capacity);
      if (end === this.#position) break;
      const result = frameRange(framer, 'ringbuf', this.#data, this.#position, end - this.#position, what);
      this.#position += result.consumed;
      this.#words.storeReleaseU64(this.#consumer, 0, BigInt(this.#position));
      consumed += result.consumed;
      if (!deliver(result) || result.consumed === 0) break;
    }
    return consumed;
  }
}
