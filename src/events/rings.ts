// Reading one ring: a perf event ring (one per CPU) or a BPF ring buffer, mapped by the bridge or, in
// tests on any OS, plain ArrayBuffers laid out the same way. A read copies the unread bytes into the
// framer once (two parts when they wrap the ring's end, one from a ring buffer's double mapping),
// frames them in the core, writes the new consumer position back with release ordering (a ring
// buffer's also while it copies, every RELEASE_EVERY bytes), and hands the framed records to `deliver`.
import type { CopyCuts, FrameResult, FrameSink } from './framer.js';
import { isPowerOfTwo } from '../sys/integers.js';

/**
 * How the consumer position is written back: the bridge's release store on a mapping, or a plain
 * store in tests; a number while the position is below 2^53 (no BigInt made per read), a bigint past
 * it. (Producer positions are read with Atomics.load, a sequentially consistent load, which is at
 * least the acquire the protocol needs, with no call into the addon; record headers too, or plain
 * loads where those are acquire loads: see PLAIN_ACQUIRE.)
 */
export interface RingWords {
  storeReleaseU64(buffer: ArrayBuffer, offset: number, value: number | bigint): void;
}

/** Index of the low and high u32 halves of a u64 in host byte order. */
const LOW = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
const HIGH = 1 - LOW;

const U64 = (1n << 64n) - 1n;

/** A cursor counts at most this far from its base before moving the base up (see RingCursor). */
const REBASE_AT = 2 ** 52;

/** `high * 2^32 + bytes`, wrapped at 2^64: a number when below 2^53, else a bigint. */
export function u64Position(high: number, bytes: number): number | bigint {
  // Exact test: a sum of integers whose true value is below 2^53 is computed exactly, and one at or
  // above it never rounds below 2^53.
  const value = high * 2 ** 32 + bytes;
  if (value <= Number.MAX_SAFE_INTEGER) return value;
  const wrapped = ((BigInt(high) << 32n) + BigInt(bytes)) & U64;
  return wrapped <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(wrapped) : wrapped; // small again past the wrap
}

/**
 * A ring position: a u64 that only grows (the kernel's arithmetic wraps it at 2^64), kept as a number
 * `at` counted from `high * 2^32`, so that a read's arithmetic is on numbers (no BigInt made) and
 * stays exact at any position, past 2^53 bytes and across the wrap. `at` is below 2^52 plus a ring
 * (the base moves up as it passes 2^52) and `at & mask` is the offset in a ring of at most 2^31 bytes.
 */
export class RingCursor {
  #high = 0;
  #at = 0;

  /** Starts at the u64 at u32 index `index` (8-aligned) of `words`. */
  constructor(words: Uint32Array, index: number) {
    // Counted from the high half seen first: a word that moved on meanwhile is still counted exactly.
    this.#high = Atomics.load(words, index + HIGH);
    this.#at = this.distanceTo(words, index);
  }

  /** Bytes from `high * 2^32` to the position. */
  get at(): number {
    return this.#at;
  }

  /**
   * How far the u64 at `index` of `words` is ahead of this cursor: exact within ±2^52; a word further
   * away (corrupt) never reads as near. The word is read as the high half, the low half, the high half
   * again, each an atomic load (so at least acquire): while the two high halves agree the pair is one
   * value the word held.
   */
  distanceTo(words: Uint32Array, index: number): number {
    for (;;) {
      const high = Atomics.load(words, index + HIGH);
      const low = Atomics.load(words, index + LOW);
      if (Atomics.load(words, index + HIGH) === high) return ((high - this.#high) | 0) * 2 ** 32 + low - this.#at;
    }
  }

  advance(bytes: number): void {
    this.#at += bytes;
    if (this.#at < REBASE_AT) return;
    const words = Math.floor(this.#at / 2 ** 32);
    this.#high = (this.#high + words) >>> 0;
    this.#at -= words * 2 ** 32;
  }

  /** The position `offset` bytes on, as a u64 (a number while below 2^53). */
  position(offset = 0): number | bigint {
    return u64Position(this.#high, this.#at + offset);
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

/** Largest ring the readers take: a ring offset is `position & mask` on 32 bits (a kernel ring buffer's size is a u32 power of two). */
const MAX_RING = 2 ** 31;

function checkRingSize(size: number, what: string): void {
  if (!isPowerOfTwo(size)) throw new RangeError(`${what}: ring data size ${size} is not a power of two`);
  if (size > MAX_RING) throw new RangeError(`${what}: ring data size ${size} is more than ${MAX_RING} bytes`);
}

/** The u64 at u32 index `index` of `words`, as a bigint (for messages: a torn value is as good as any). */
function loadU64(words: Uint32Array, index: number): bigint {
  return (BigInt(Atomics.load(words, index + HIGH)) << 32n) | BigInt(Atomics.load(words, index + LOW));
}

/** "`name` P is D bytes from `from` Q, outside [0, size]": the message for a producer position a reader cannot take. */
function tornPosition(name: string, position: bigint, from: string, cursor: RingCursor, size: number, what: string): Error {
  const start = BigInt(cursor.position());
  return new Error(`${what}: ${name} ${position} is ${BigInt.asIntN(64, position - start)} bytes from ${from} ${start}, outside [0, ${size}]: a torn or corrupt producer position`);
}

/**
 * Copies `length` bytes (≤ size) of a ring of `size` bytes from ring offset `at & (size - 1)` into the
 * framer and frames them; `position` (the u64 they start at) names records in messages. `data` is the
 * ring, or (`doubled`) the ring mapped twice in a row, where every range is one contiguous part.
 */
function frameRange(framer: FrameSink, format: 'perf' | 'ringbuf', data: Uint8Array, size: number, doubled: boolean, at: number, position: number | bigint, length: number, what: string, cuts?: CopyCuts): FrameResult {
  const start = at & (size - 1);
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
  readonly #tail: RingCursor;

  constructor(meta: ArrayBuffer, data: Uint8Array, words: RingWords, what: string) {
    checkRingSize(data.byteLength, what);
    this.#meta = meta;
    this.#meta32 = new Uint32Array(meta, 0, PERF_DATA_SIZE / 4 + 2);
    this.#meta64 = new BigUint64Array(meta, 0, PERF_DATA_SIZE / 8 + 1);
    this.#data = data;
    this.#words = words;
    this.#tail = new RingCursor(this.#meta32, PERF_DATA_TAIL / 4);
  }

  get size(): number {
    return this.#data.byteLength;
  }

  /**
   * Frames every complete record between data_tail and data_head, in chunks of at most the framer's
   * capacity, advancing data_tail after each chunk (the records are in WASM memory by then). Returns
   * the bytes consumed. A producer position behind the tail or more than a ring ahead is an error.
   */
  read(framer: FrameSink, deliver: Deliver, what: string): number {
    const tail = this.#tail;
    const size = this.#data.byteLength;
    let available = tail.distanceTo(this.#meta32, PERF_DATA_HEAD / 4);
    if (!(available >= 0 && available <= size)) {
      throw tornPosition('data_head', loadU64(this.#meta32, PERF_DATA_HEAD / 4), 'data_tail', tail, size, what);
    }
    let consumed = 0;
    while (available > 0) {
      const result = frameRange(framer, 'perf', this.#data, size, false, tail.at, tail.position(), Math.min(available, framer.capacity), what);
      const done = result.consumed;
      tail.advance(done);
      this.#words.storeReleaseU64(this.#meta, PERF_DATA_TAIL, tail.position());
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
    deliver(frameRange(framer, 'perf', this.#data, this.size, false, start, head, length, what));
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
 * by calls, so the JIT cannot reuse an earlier load of the same header (RingCursor, which loads a
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
 * the framer's copy calls release() at every cut, which stores the cursor's position plus the cut's
 * offset as the consumer's position (the cursor moves once the read is framed).
 */
class ReadCuts implements CopyCuts {
  readonly offsets: number[] = [];
  count = 0;
  #released = 0;
  #next = 0;

  constructor(
    readonly cursor: RingCursor,
    readonly store: (position: number | bigint) => void,
  ) {}

  /** Starts the walk of a read from the cursor's position. */
  begin(): void {
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
    this.store(this.cursor.position(offset));
  }

  /** Throws if the frame took fewer bytes than the read gave back (cannot happen: see BpfRing's walk). */
  checkFramed(consumed: number, what: string): void {
    if (consumed < this.#released) {
      throw new Error(`${what}: ${this.#released} bytes given back to the producer but only ${consumed} framed at position ${this.cursor.position()}`);
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
  readonly #position: RingCursor;
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
    this.#position = new RingCursor(new Uint32Array(consumer, 0, 2), 0);
    this.#cuts = new ReadCuts(this.#position, (position) => this.#words.storeReleaseU64(this.#consumer, 0, position));
  }

  get size(): number {
    return this.#size;
  }

  /**
   * How far the committed records from `from` (the cursor's `at`) reach (at most `limit` bytes and `maxRecords` records,
   * so that one frame takes them all): each header is read with an acquire load (see PLAIN_ACQUIRE)
   * before any of its data is copied, as libbpf's smp_load_acquire, so a record is copied only after
   * the kernel committed it. Notes the record boundaries where the copy gives space back in #cuts.
   */
  #committedEnd(from: number, producer: number, limit: number, maxRecords: number): number {
    const mask = this.#size - 1;
    const headers = this.#headers;
    const cuts = this.#cuts;
    cuts.begin();
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
    const cursor = this.#position;
    const size = this.#size;
    const available = cursor.distanceTo(this.#producer, 0);
    if (!(available >= 0 && available <= size)) {
      throw tornPosition('producer_pos', loadU64(this.#producer, 0), 'consumer_pos', cursor, size, what);
    }
    let consumed = 0;
    for (;;) {
      // Relative to the cursor's `at` each time: advance() may move its base.
      const end = this.#committedEnd(cursor.at, cursor.at + available - consumed, framer.capacity, framer.maxRecords);
      if (end === cursor.at) break;
      const result = frameRange(framer, 'ringbuf', this.#data, size, this.#doubled, cursor.at, cursor.position(), end - cursor.at, what, this.#cuts);
      const done = result.consumed;
      this.#cuts.checkFramed(done, what); // the walk took whole committed records: one frame takes them all
      cursor.advance(done);
      this.#words.storeReleaseU64(this.#consumer, 0, cursor.position());
      consumed += done;
      if (!deliver(result) || done === 0) break;
    }
    return consumed;
  }
}
