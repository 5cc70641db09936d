// The core's record framing (core-c/src/ring_perf.c, ring_bpf.c) over a private instance of the WASM
// core: a ring's unread bytes are copied into its memory once per read, framed there, and handed out
// as views on that memory or as copies. The instance is private so that `invalidate()` can detach its
// memory's buffer (WebAssembly.Memory.grow(0) does) after a wakeup's reads: every zero-copy view
// handed out then has length 0 and its slice()/subarray() throw, instead of showing later bytes. Until
// then the chunks of one wakeup go one after the other in the data area, so a view never shows
// another record's bytes and the detach (~0.5 µs) is paid once a wakeup, not once a chunk.
import { newCoreInstanceSync, type CoreExports } from '../wasm/core.js';

/**
 * What the core reports for one framing call. The framer hands out the same object each time: its
 * fields are those of the last `frame()` (read what you need before framing again).
 */
export interface FrameResult {
  /** Records framed (samples and lost notices), see `kind`/`offset`/`size`/`lost`. */
  count: number;
  /** Samples among them, in the packed index in order (see `packedView`, `packedIndex`). */
  samples: number;
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
/** ebpf_event_batch (core-c/include/ebpf_core_events.h): its size and its message's offset. */
const BATCH_SIZE = 256;
const BATCH_MESSAGE = 40;
/** Records framed per core call at most; more wait for the next call (the caller loops). */
const RECORD_CAPACITY = 4096;
/**
 * Bytes the data area has beyond one largest ring (at most): chunks framed while views of earlier ones
 * are out go after them (see frame()), so a wakeup that frames several chunks detaches the views once,
 * at its end. Up to a ring more, so that a large ring does not double the memory.
 */
const SPARE_AREA = 1 << 20;
/** A view that is never attached: stands for "no view of the current buffer yet". */
const NONE = new Uint32Array(0);

export type RingFormat = 'perf' | 'ringbuf';

/** Copies bytes [from, to) of `first` then `second` (one range, in two parts) to u8 at chunk + from. */
function copyPart(u8: Uint8Array, chunk: number, first: Uint8Array, second: Uint8Array | undefined, from: number, to: number): void {
  if (from >= to) return;
  const split = first.byteLength;
  if (from < split) u8.set(from === 0 && to >= split ? first : first.subarray(from, Math.min(to, split)), chunk + from);
  if (to > split && second !== undefined) {
    const start = Math.max(from, split) - split;
    u8.set(start === 0 && to - split === second.byteLength ? second : second.subarray(start, to - split), chunk + split + start);
  }
}

/** What a ring's read hands its bytes to: a Framer, or a drain thread's queue (drain-worker.ts). */
export type FrameSink = Pick<Framer, 'capacity' | 'maxRecords' | 'frame'>;

/**
 * Lets a ring take back space while a frame's bytes are copied: after the copy reaches each cut (a
 * record boundary, as a byte offset into the range, ascending), `release(cut)` is called, before the
 * rest is copied and anything is framed. A sink may ignore it (the ring releases after the frame).
 */
export interface CopyCuts {
  readonly offsets: ArrayLike<number>;
  readonly count: number;
  release(offset: number): void;
}

/** One framer per reader: a data area of the largest ring it reads and some spare, and the record array. */
export class Framer {
  readonly #core: CoreExports;
  readonly capacity: number;
  /** Records one frame() takes at most; those after them are left for the next call (not consumed). */
  readonly maxRecords: number = RECORD_CAPACITY;
  /** The data area (#area bytes), where the last frame() put its bytes, and where the next may. */
  readonly #data: number;
  readonly #area: number;
  #chunk: number;
  #free: number;
  /** u32 index of the record array and of the batch struct in the memory. */
  readonly #records: number;
  readonly #batch: number;
  /** u32 index of the packed offsets (RECORD_CAPACITY of them), then of the packed sizes: the core fills them as it frames. */
  readonly #packed: number;
  /** Bytes copied by the last frame(). */
  #size = 0;
  // Views of the memory's current buffer, made again only after it changed (a detached view has
  // length 0: invalidate() and any growth of the memory detach them).
  #buffer: ArrayBuffer;
  #u8: Uint8Array = new Uint8Array(0);
  #u32: Uint32Array = NONE;
  #viewsOut = false;
  readonly #result: FrameResult = { count: 0, samples: 0, consumed: 0, unknown: 0, discarded: 0, incomplete: false };

  constructor(capacity: number) {
    this.#core = newCoreInstanceSync();
    this.capacity = capacity;
    this.#area = capacity + Math.min(capacity, SPARE_AREA);
    this.#data = this.#alloc(this.#area);
    this.#chunk = this.#data;
    this.#free = this.#data;
    this.#records = this.#alloc(RECORD_CAPACITY * RECORD_SIZE) >>> 2;
    this.#batch = this.#alloc(BATCH_SIZE);
    this.#packed = this.#alloc(2 * RECORD_CAPACITY * 4) >>> 2;
    this.#buffer = this.#core.memory.buffer;
  }

  #alloc(size: number): number {
    const ptr = this.#core.ebpf_alloc(size);
    if (ptr === 0) throw new Error(`ebpf events: cannot allocate ${size} bytes of WASM memory for ring records`);
    return ptr;
  }

  #attach(): void {
    this.#buffer = this.#core.memory.buffer;
    this.#u8 = new Uint8Array(this.#buffer);
    this.#u32 = new Uint32Array(this.#buffer);
  }

  /**
   * Copies `first` then `second` (the two parts of a wrapped range; together at most `capacity`
   * bytes) into the data area and frames them. While views handed out before are attached, the bytes
   * go after theirs, so those views keep showing their own records; when the area is used up they are
   * detached first (`invalidate()`). With `cuts`, the copy stops at each cut to call its release.
   * Throws an Error naming `what` for a malformed record. The result is the framer's own object,
   * valid until the next call.
   */
  frame(format: RingFormat, first: Uint8Array, second: Uint8Array | undefined, position: number | bigint, what: string, cuts?: CopyCuts): FrameResult {
    const size = second === undefined ? first.byteLength : first.byteLength + second.byteLength;
    if (size > this.capacity) throw new RangeError(`${what}: ${size} bytes to frame, more than the ${this.capacity}-byte area`);
    if (!this.#viewsOut) this.#free = this.#data;
    else if (this.#free + size > this.#data + this.#area) this.invalidate();
    if (this.#u32.length === 0) this.#attach();
    const chunk = this.#free;
    this.#chunk = chunk;
    this.#free = (chunk + size + 7) & ~7;
    const u8 = this.#u8;
    this.#size = size;
    let from = 0;
    if (cuts !== undefined) {
      for (let i = 0; i < cuts.count; i++) {
        const to = cuts.offsets[i]!;
        copyPart(u8, chunk, first, second, from, to);
        cuts.release(to);
        from = to;
      }
    }
    copyPart(u8, chunk, first, second, from, size);
    const core = this.#core;
    const parse = format === 'perf' ? core.ebpf_perf_parse : core.ebpf_ringbuf_parse;
    // The position only names records in error messages: 0n (no BigInt made) while all is well,
    // the real one when framing again for the message.
    const status = parse(chunk, size, 0n, this.#records << 2, RECORD_CAPACITY, this.#packed << 2, this.#batch);
    if (this.#u32.length === 0) this.#attach(); // the core grew its memory (it does not, but never read a stale view)
    if (status !== 0) {
      parse(chunk, size, BigInt(position), this.#records << 2, RECORD_CAPACITY, 0, this.#batch);
      const bytes = new Uint8Array(core.memory.buffer, this.#batch + BATCH_MESSAGE, BATCH_SIZE - BATCH_MESSAGE);
      const message = new TextDecoder().decode(bytes.subarray(0, Math.max(0, bytes.indexOf(0))));
      throw new Error(`${what}: ${message}`);
    }
    const u32 = this.#u32;
    const b = this.#batch >>> 2;
    const result = this.#result;
    result.count = u32[b + 1];
    result.consumed = u32[b + 2];
    result.unknown = u32[b + 3];
    result.discarded = u32[b + 4];
    result.incomplete = u32[b + 5] !== 0;
    result.samples = u32[b + 6];
    return result;
  }

  /** Record i of the last frame(): RECORD_SAMPLE or RECORD_LOST. */
  kind(i: number): number {
    return this.#u32[this.#records + i * 6];
  }

  /** Lost count of record i (a RECORD_LOST). */
  lost(i: number): number {
    const at = this.#records + i * 6;
    return this.#u32[at + 4] + this.#u32[at + 5] * 2 ** 32;
  }

  /** A zero-copy view of sample i's data, valid until `invalidate()` (or the next `frame()`). */
  view(i: number): Uint8Array {
    const at = this.#records + i * 6;
    this.#viewsOut = true;
    return new Uint8Array(this.#buffer, this.#chunk + this.#u32[at + 1], this.#u32[at + 2]);
  }

  /** Samples among the first `count` records of the last frame(): how many of the packed index they fill. */
  samplesBefore(count: number): number {
    if (count >= this.#result.count) return this.#result.samples;
    const u32 = this.#u32;
    let n = 0;
    for (let i = 0, at = this.#records; i < count; i++, at += 6) if (u32[at] === RECORD_SAMPLE) n++;
    return n;
  }

  /** A zero-copy view of the sample at packed slot n, valid until `invalidate()`. */
  packedView(n: number): Uint8Array {
    const u32 = this.#u32;
    this.#viewsOut = true;
    return new Uint8Array(this.#buffer, this.#chunk + u32[this.#packed + n], u32[this.#packed + RECORD_CAPACITY + n]);
  }

  /** A zero-copy view of the last frame()'s bytes (the packed offsets point into it), valid until `invalidate()`. */
  packedBytes(): Uint8Array {
    this.#viewsOut = true;
    return new Uint8Array(this.#buffer, this.#chunk, this.#size);
  }

  /** A zero-copy view of the first `n` packed offsets (`which` 0) or sizes (1), valid until `invalidate()`. */
  packedIndex(which: 0 | 1, n: number): Uint32Array {
    this.#viewsOut = true;
    return new Uint32Array(this.#buffer, (this.#packed + which * RECORD_CAPACITY) << 2, n);
  }

  /** A copy of sample i's data (its own ArrayBuffer). */
  copy(i: number): Uint8Array {
    const at = this.#records + i * 6;
    const start = this.#chunk + this.#u32[at + 1];
    return this.#u8.slice(start, start + this.#u32[at + 2]);
  }

  /** Detaches every view handed out since the last call (their length becomes 0). */
  invalidate(): void {
    if (!this.#viewsOut) return;
    this.#viewsOut = false;
    this.#core.memory.grow(0); // detaches #u8 and #u32 too: the next frame() makes them again
    this.#free = this.#data;
  }
}
