// Rings laid out as the kernel lays them out, in plain ArrayBuffers, with a producer written in TS:
// for testing the framing and the readers' position handling on any OS.
import { PERF_DATA_HEAD, PERF_DATA_TAIL, type RingWords } from '../../src/events/rings.js';

/** Plain loads and stores (a test has no second thread). */
export const plainWords: RingWords = {
  storeReleaseU64: (buffer, offset, value) => new DataView(buffer).setBigUint64(offset, BigInt(value), true),
};

const U64 = (1n << 64n) - 1n;

/** The u64 a ring holds for position `position` counted from `base`. */
function word(base: bigint, position: number): bigint {
  return (base + BigInt(position)) & U64;
}

/** Bytes from `base` to the u64 `value` (mod 2^64). */
function from(base: bigint, value: bigint): number {
  return Number((value - base) & U64);
}

/** Writes `bytes` at ring position `position` (wrapping). */
function writeWrapped(data: Uint8Array, position: number, bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) data[(position + i) % data.length] = bytes[i]!;
}

/** A payload of n bytes whose content depends on seed, for checking what comes out. */
export function payload(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (seed * 131 + i * 7 + 1) & 0xff;
  return out;
}

/**
 * A perf ring: the metadata page (data_head, data_tail) and `size` data bytes. Positions are numbers
 * counted from `base` (a multiple of `size`; the u64s in the page are `base` + the position, mod 2^64),
 * so that a test can put the ring past 2^53 or at the u64's wrap.
 */
export class SyntheticPerfRing {
  readonly meta = new ArrayBuffer(4096);
  readonly data: Uint8Array;
  head: number;

  constructor(
    size: number,
    start = 0,
    readonly base = 0n,
  ) {
    this.data = new Uint8Array(size);
    this.head = start;
    this.setTail(start);
    this.publish();
  }

  setTail(position: number): void {
    new DataView(this.meta).setBigUint64(PERF_DATA_TAIL, word(this.base, position), true);
  }

  get tail(): number {
    return from(this.base, new DataView(this.meta).getBigUint64(PERF_DATA_TAIL, true));
  }

  /** Publishes `head` (or a given value, to tear it) as data_head. */
  publish(head = this.head): void {
    new DataView(this.meta).setBigUint64(PERF_DATA_HEAD, word(this.base, head), true);
  }

  record(type: number, body: Uint8Array): number {
    const size = (8 + body.length + 7) & ~7;
    const bytes = new Uint8Array(size);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, type, true);
    view.setUint16(6, size, true);
    bytes.set(body, 8);
    writeWrapped(this.data, this.head, bytes);
    this.head += size;
    return size;
  }

  /** PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW: u32 size, then the data (padded as the kernel pads). */
  sample(raw: Uint8Array): number {
    const body = new Uint8Array(4 + raw.length);
    new DataView(body.buffer).setUint32(0, ((4 + raw.length + 7) & ~7) - 4, true);
    body.set(raw, 4);
    // The kernel's raw size counts the padding too: keep the data's own length recoverable by
    // padding with zeros, as bpf_perf_event_output does.
    return this.record(9, body);
  }

  lost(count: bigint): number {
    const body = new Uint8Array(16);
    new DataView(body.buffer).setBigUint64(8, count, true);
    return this.record(2, body);
  }
}

/** A BPF ring buffer: consumer page, producer page, `size` data bytes; positions from `base` as in SyntheticPerfRing. */
export class SyntheticBpfRing {
  readonly consumer = new ArrayBuffer(4096);
  readonly producer = new ArrayBuffer(4096);
  readonly data: Uint8Array;
  position: number;

  constructor(
    size: number,
    start = 0,
    readonly base = 0n,
  ) {
    this.data = new Uint8Array(size);
    this.position = start;
    new DataView(this.consumer).setBigUint64(0, word(base, start), true);
    this.publish();
  }

  get consumerPos(): number {
    return from(this.base, new DataView(this.consumer).getBigUint64(0, true));
  }

  publish(position = this.position): void {
    new DataView(this.producer).setBigUint64(0, word(this.base, position), true);
  }

  /** Reserves and writes a record; flags: 'busy' leaves it uncommitted, 'discard' discards it. Returns its header position. */
  record(data: Uint8Array, flag?: 'busy' | 'discard'): number {
    const at = this.position;
    const total = (8 + data.length + 7) & ~7;
    const bytes = new Uint8Array(total);
    const bits = flag === 'busy' ? 0x80000000 : flag === 'discard' ? 0x40000000 : 0;
    new DataView(bytes.buffer).setUint32(0, (data.length | bits) >>> 0, true);
    bytes.set(data, 8);
    writeWrapped(this.data, at, bytes);
    this.position += total;
    return at;
  }

  commit(at: number): void {
    const i = at % this.data.length;
    const view = new DataView(this.data.buffer, this.data.byteOffset);
    view.setUint32(i, view.getUint32(i, true) & 0x7fffffff, true);
  }
}
