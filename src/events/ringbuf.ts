// BPF ring buffers (BPF_MAP_TYPE_RINGBUF, kernel 5.8+): one reader over one or more of them, as
// libbpf's ring_buffer__new/__add; and the writer side of BPF_MAP_TYPE_USER_RINGBUF (kernel 6.1+),
// whose records a program consumes with bpf_user_ringbuf_drain.
import { describeMap } from '../sys/describe.js';
import { getPageSize } from '../map/host.js';
import type { MapLike } from '../map/like.js';
import { MapType, mapTypeName } from '../sys/generated.js';
import { native } from '../sys/native.js';
import { EventReader } from './reader.js';
import { KernelRing, mapBpfRing, mapRingBufferPages } from './mapping.js';
import { RINGBUF_BUSY, RINGBUF_DISCARD, RINGBUF_HEADER, RingCursor, type BpfRing } from './rings.js';
import { DrainThread, type ThreadOptions } from './thread.js';

/** A ring buffer map's ring, mapped by this reader. */
class MappedRing extends KernelRing<BpfRing> {
  constructor(
    index: number,
    readonly map: MapLike,
    consumer: ArrayBuffer,
    producer: ArrayBuffer,
    ring: BpfRing,
    what: string,
  ) {
    super(index, map.fd, [producer, consumer], ring, what);
  }
}

function ringMap(map: MapLike, type: MapType, who: string): void {
  if (map.type !== type) throw new TypeError(`${describeMap(map.name)} is a ${mapTypeName(map.type)} map, not a ${mapTypeName(type)} (${who})`);
  if (map.fd < 0) throw new Error(`${describeMap(map.name)} is not created or is closed (${who})`);
}

/**
 * Reads BPF ring buffers: the records programs submit with bpf_ringbuf_output / bpf_ringbuf_submit.
 * Each ring's consumer page is mapped read-write, its producer page and data read-only (the data
 * twice in a row, as the kernel lays it out); records are framed in the WASM core. The `cpu` of a
 * record is the index of its ring in this reader (0 for the first `add`). Deliveries: see
 * EventReader. The kernel keeps no count of records it could not fit (bpf_ringbuf_output returns
 * -EAGAIN to the program), so `eventsLost` stays 0 here: count failures in the program. A reader
 * with a consumer keeps the process alive (it watches its rings on the event loop) until `stop()`.
 *
 * ```ts
 * const reader = new RingBuffer(system.getMapByName('events')!);
 * for await (const event of reader) if (event.kind === 'record') handle(event.data);
 * ```
 */
export class RingBuffer extends EventReader {
  #rings: MappedRing[] = [];
  #stopped = false;
  readonly #options: ThreadOptions;
  /** With `thread`: the drain thread, and the maps it drains (in `add` order). */
  #drain: DrainThread | undefined;
  readonly #drained: MapLike[] = [];

  /** `options.thread`: drain the rings on a thread of their own (see ThreadOptions). */
  constructor(map?: MapLike, options: ThreadOptions = {}) {
    super();
    this.#options = options;
    if (map !== undefined) this.add(map);
  }

  protected describe(): string {
    const maps = this.#options.thread === true ? this.#drained : this.#rings.map((r) => r.map);
    return `RingBuffer(${maps.map((m) => `'${m.name}'`).join(', ') || 'no map'})`;
  }

  /** Adds a ring buffer map (libbpf's ring_buffer__add); returns its index (the records' `cpu`). */
  add(map: MapLike): number {
    const who = 'RingBuffer.add';
    if (this.#stopped) throw new Error(`${who}: the reader is stopped`);
    ringMap(map, MapType.RingBuf, who);
    const pageSize = getPageSize();
    const size = map.maxEntries;
    const what = `${describeMap(map.name)} (RingBuffer)`;
    if (this.#options.thread === true) return this.#addDrained(map, size, pageSize, what);
    const { consumer, producer, ring: bpfRing } = mapBpfRing(map.fd, size, pageSize, what);
    const index = this.#rings.length;
    const ring = new MappedRing(index, map, consumer, producer, bpfRing, what);
    this.#rings.push(ring);
    this.addRing(ring, size);
    return index;
  }

  #addDrained(map: MapLike, size: number, pageSize: number, what: string): number {
    let drain = this.#drain;
    if (drain === undefined) {
      drain = new DrainThread('ringbuf', size, pageSize, this.#options, what, (e) => this.failWith(e));
      this.#drain = drain;
      const names = this.#drained;
      this.addRing(
        drain.ring('ringbuf', (index) => index, (index) => `${describeMap(names[index]?.name ?? '?')} (RingBuffer)`),
        drain.capacity,
      );
    }
    if (size > drain.capacity) throw new RangeError(`${what}: a ${size}-byte ring does not fit this reader's queue: pass queueBytes of at least ${2 * size}`);
    const index = this.#drained.length;
    this.#drained.push(map);
    drain.add({ index, fd: map.fd, size, what });
    return index;
  }

  /**
   * Stops reading and unmaps every ring (the maps stay open: they are their owners'). With `thread`,
   * the drain thread has unmapped them when this returns.
   */
  stop(): void {
    this.#stopped = true;
    this.stopReading();
    this.#drain?.stop();
    const rings = this.#rings;
    this.#rings = [];
    for (const ring of rings) ring.unmap();
  }
}

/** A record reserved in a UserRingBuffer: fill `data`, then submit or discard it. */
export interface UserRingSample {
  /** The record's bytes, a view on the ring itself: do not touch it after submit/discard. */
  readonly data: Uint8Array;
}

interface Reservation {
  header: number; // u32 index of its header in the data area
  size: number;
  done: boolean;
}

/**
 * Writes records to a BPF_MAP_TYPE_USER_RINGBUF for a program to consume with
 * bpf_user_ringbuf_drain (libbpf's user_ring_buffer). One writer per ring: reserve, fill, submit.
 */
export class UserRingBuffer implements Disposable {
  readonly #map: MapLike;
  readonly #consumer: ArrayBuffer;
  readonly #producer: ArrayBuffer;
  readonly #data: Uint8Array;
  readonly #headers: Uint32Array;
  readonly #reservations = new WeakMap<UserRingSample, Reservation>();
  readonly #consumer32: Uint32Array;
  readonly #position: RingCursor;
  #closed = false;

  constructor(map: MapLike) {
    ringMap(map, MapType.UserRingBuf, 'UserRingBuffer');
    const pageSize = getPageSize();
    const size = map.maxEntries;
    const what = `${describeMap(map.name)} (UserRingBuffer)`;
    this.#map = map;
    const { consumer, producer } = mapRingBufferPages(map.fd, size, pageSize, 'producer', what);
    this.#consumer = consumer;
    this.#producer = producer;
    this.#data = new Uint8Array(this.#producer, pageSize, 2 * size);
    this.#headers = new Uint32Array(this.#producer, pageSize, size >>> 2);
    this.#consumer32 = new Uint32Array(consumer, 0, 2);
    this.#position = new RingCursor(new Uint32Array(producer, 0, 2), 0);
  }

  get #size(): number {
    return this.#map.maxEntries;
  }

  /** Bytes free for records now. */
  get available(): number {
    this.#checkOpen();
    return this.#size + this.#position.distanceTo(this.#consumer32, 0); // the consumer is behind (or at) us
  }

  /**
   * Reserves a record of `size` bytes; undefined when the ring has no room for it now (ENOSPC: the
   * program has not drained enough yet). Records are submitted in any order but consumed in the order
   * reserved: an unsubmitted record holds back the ones after it.
   */
  reserve(size: number): UserRingSample | undefined {
    this.#checkOpen();
    if (!Number.isInteger(size) || size <= 0 || size + RINGBUF_HEADER > this.#size || size >= RINGBUF_DISCARD) {
      throw new RangeError(`${describeMap(this.#map.name)} (UserRingBuffer): a ${size}-byte record cannot fit the ${this.#size}-byte ring`);
    }
    const total = (size + RINGBUF_HEADER + 7) & ~7;
    if (total > this.available) return undefined;
    const offset = this.#position.at & (this.#size - 1);
    const header = offset >>> 2;
    Atomics.store(this.#headers, header, (size | RINGBUF_BUSY) >>> 0);
    Atomics.store(this.#headers, header + 1, 0);
    this.#position.advance(total);
    native().storeReleaseU64(this.#producer, 0, this.#position.position());
    const sample: UserRingSample = { data: this.#data.subarray(offset + RINGBUF_HEADER, offset + RINGBUF_HEADER + size) };
    this.#reservations.set(sample, { header, size, done: false });
    return sample;
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error(`${describeMap(this.#map.name)} (UserRingBuffer) is closed`);
  }

  #finish(sample: UserRingSample, bits: number, how: string): void {
    const reservation = this.#reservations.get(sample);
    if (reservation === undefined) throw new Error(`UserRingBuffer.${how}: the sample was not reserved from ${describeMap(this.#map.name)}`);
    if (reservation.done) throw new Error(`UserRingBuffer.${how}: the sample was already submitted or discarded`);
    reservation.done = true;
    Atomics.exchange(this.#headers, reservation.header, (reservation.size | bits) >>> 0);
  }

  /** Hands the record to the kernel. */
  submit(sample: UserRingSample): void {
    this.#finish(sample, 0, 'submit');
  }

  /** Gives the record up: the kernel skips it. */
  discard(sample: UserRingSample): void {
    this.#finish(sample, RINGBUF_DISCARD, 'discard');
  }

  /** Reserves, copies `data` in and submits; false when the ring has no room now. */
  write(data: Uint8Array): boolean {
    const sample = this.reserve(data.byteLength);
    if (sample === undefined) return false;
    sample.data.set(data);
    this.submit(sample);
    return true;
  }

  /** Unmaps the ring (the map stays open: it is its owner's). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const mapping of [this.#producer, this.#consumer]) if (mapping.byteLength > 0) native().munmap(mapping);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
