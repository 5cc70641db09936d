// What PerfEvents and RingBuffer share: readiness from the bridge's uv_poll on Node's own event loop
// (no thread, no spinning, no timer), the statistics, and the four ways records are delivered.
import { EventEmitter } from 'node:events';
import { native, UV_READABLE } from '../sys/native.js';
import { errnoCode } from '../sys/errors.js';
import { Framer, RECORD_LOST, type FrameResult } from './framer.js';

/** A record: the bytes a program output (bpf_perf_event_output / bpf_ringbuf_output ...). */
export interface EventRecord {
  readonly kind: 'record';
  /** The CPU whose ring it came from (perf); for ring buffers, the index of the ring in the reader. */
  readonly cpu: number;
  readonly data: Uint8Array;
}

/** Records the kernel dropped because the ring was full (perf's PERF_RECORD_LOST). */
export interface LostRecords {
  readonly kind: 'lost';
  readonly cpu: number;
  /** How many records were dropped. */
  readonly lost: number;
}

/** What the async iterator yields: a record (a copy) or a lost-records notice, in ring order. */
export type EventItem = EventRecord | LostRecords;

/**
 * All records ready at one wakeup of one ring, for `onBatch`, in two forms: `records` (objects, made on
 * first use) and the packed form (`bytes`, `offsets`, `sizes`: no object or view per record, the
 * fastest). Everything in it is ZERO-COPY, on the reader's WASM memory, and valid only until the
 * callback returns: the views are detached (length 0; `slice()`/`subarray()` throw) once the wakeup's
 * reads end, before any other code runs (until then a view kept from an earlier batch of the same
 * wakeup still shows its own record, never another's), and reading `records` or the packed form of a
 * batch after its callback throws. Copy (`data.slice()`) what must outlive it.
 */
export interface EventBatch {
  readonly cpu: number;
  /** The records, each with a view of its bytes. */
  readonly records: readonly EventRecord[];
  /** Lost-record notices framed at this wakeup (also counted in `eventsLost`). */
  readonly lost: readonly LostRecords[];
  /** How many records the batch holds. */
  readonly count: number;
  /**
   * The records' bytes: record i is `bytes.subarray(offsets[i], offsets[i] + sizes[i])`, or read in
   * place (`bytes[offsets[i]]`, a DataView at `bytes.byteOffset + offsets[i]`).
   */
  readonly bytes: Uint8Array;
  readonly offsets: Uint32Array;
  readonly sizes: Uint32Array;
}

/**
 * An EventBatch over the framer's packed index, valid while `live`: its views are made on first
 * use, so a consumer of the packed form pays nothing per record.
 */
class Batch implements EventBatch {
  #live = true;
  readonly #framer: Framer;
  // Each view is made on first use (a consumer of offsets and bytes pays for no sizes view).
  #records: EventRecord[] | undefined;
  #bytes: Uint8Array | undefined;
  #offsets: Uint32Array | undefined;
  #sizes: Uint32Array | undefined;

  constructor(
    readonly cpu: number,
    readonly count: number,
    readonly lost: readonly LostRecords[],
    framer: Framer,
  ) {
    this.#framer = framer;
  }

  /** Called when the callback returned: the framer's memory is about to be reused. */
  end(): void {
    this.#live = false;
  }

  #check(what: string): void {
    if (!this.#live) throw new Error(`EventBatch.${what}: read after the onBatch callback returned (its views are detached; copy what must outlive the callback)`);
  }

  get records(): readonly EventRecord[] {
    if (this.#records === undefined) {
      this.#check('records');
      const records = new Array<EventRecord>(this.count);
      for (let n = 0; n < this.count; n++) records[n] = { kind: 'record', cpu: this.cpu, data: this.#framer.packedView(n) };
      this.#records = records;
    }
    return this.#records;
  }

  get bytes(): Uint8Array {
    if (this.#bytes === undefined) {
      this.#check('bytes');
      this.#bytes = this.#framer.packedBytes();
    }
    return this.#bytes;
  }

  get offsets(): Uint32Array {
    if (this.#offsets === undefined) {
      this.#check('offsets');
      this.#offsets = this.#framer.packedIndex(0, this.count);
    }
    return this.#offsets;
  }

  get sizes(): Uint32Array {
    if (this.#sizes === undefined) {
      this.#check('sizes');
      this.#sizes = this.#framer.packedIndex(1, this.count);
    }
    return this.#sizes;
  }
}

/** Options of `records()`. */
export interface RecordsOptions {
  /** Ends the iteration (the reader keeps running for its other consumers). */
  signal?: AbortSignal;
  /**
   * Records the iterator may hold unread (default 65536): past it the reader stops taking records
   * from the rings (after the current wakeup's, so by at most a ring's worth more) until the iterator
   * catches up, so a slow consumer makes the kernel drop (and count) records instead of this process
   * growing without bound. Records an iterator holds when it ends (break, return, abort) are dropped
   * with it.
   */
  highWaterMark?: number;
}

/** Counters of a reader, as goebpf's PerfEvents has them. */
export interface EventStats {
  eventsReceived: number;
  eventsLost: number;
  eventsUnknownType: number;
  /** Ring buffer records the program discarded (bpf_ringbuf_discard), skipped. */
  eventsDiscarded: number;
}

interface Waiter {
  resolve(result: IteratorResult<EventItem>): void;
  reject(error: unknown): void;
}

class Iteration {
  readonly queue: EventItem[] = [];
  waiter: Waiter | undefined;
  done = false;
  error: unknown;
  constructor(readonly highWaterMark: number) {}
}

/** A ring the reader polls: its fd, its read, and its index (CPU or ring number). */
export interface PolledRing {
  readonly fd: number;
  /** The index of the records being delivered (read at each delivery: a queue's changes per chunk). */
  readonly cpu: number;
  /** Reads what is ready; returns the bytes consumed. */
  read(framer: Framer, deliver: (result: FrameResult) => boolean): number;
  /** Readiness other than uv_poll on `fd` (a drain thread's queue): calls onReady, returns the stop. */
  watch?(onReady: () => void): () => void;
  /** Before a read on demand (`flush()`): has the ring's source catch up (a drain thread takes what the kernel rings hold). */
  flush?(): void;
}

/**
 * One wakeup of a ring reads it again while each read finds new records (as libbpf's
 * ringbuf_process_ring does), so that under load batches grow instead of wakeups multiplying, up to
 * this many rings' worth of bytes (the framer's capacity: the largest ring) ...
 */
export const WAKEUP_RINGS = 4;
/**
 * ... or until this many ms passed since the second read, whichever comes first: the event loop's
 * other work (timers, I/O, the other rings) waits at most this plus two reads for a flooded ring. A
 * ring left with records is ready again at once (level-triggered poll), so nothing is lost by it.
 */
const WAKEUP_MS = 1;
/** The `lost` of every batch without lost notices. */
const NO_LOST: readonly LostRecords[] = Object.freeze([]);

/** A polled ring and its delivery callback, made once. */
interface RingEntry {
  readonly ring: PolledRing;
  readonly deliver: (result: FrameResult) => boolean;
}

/**
 * The delivery side of an event reader. Consumers:
 * - `onBatch(fn)`: all records of one wakeup, as objects with zero-copy views or packed (fastest);
 * - `onRecord(fn)`: a call per record with a zero-copy view, no promise or object per record;
 * - `on('data' | 'lost' | 'error', ...)`: goebpf-style events with copies;
 * - `records()` / `for await`: an async iterator of copies, ending at `stop()` or an AbortSignal.
 * A reader reads its rings only while it has a consumer; lost records are counted in `eventsLost` and
 * delivered to every consumer as notices (without a consumer for them, a process warning says so).
 */
export abstract class EventReader extends EventEmitter implements AsyncIterable<EventItem>, Disposable {
  eventsReceived = 0;
  eventsLost = 0;
  eventsUnknownType = 0;
  eventsDiscarded = 0;

  #framer: Framer | undefined;
  /** The framer of the read in progress (reads never nest), for #deliver. */
  #reading: Framer | undefined;
  #rings: RingEntry[] = [];
  #polls: Array<() => void> = [];
  #started = false;
  #stopped = false;
  #batchHandler: ((batch: EventBatch) => void) | undefined;
  #recordHandler: ((cpu: number, data: Uint8Array) => void) | undefined;
  #lostHandler: ((lost: LostRecords) => void) | undefined;
  readonly #iterations = new Set<Iteration>();
  #warnedLost = false;
  #resumeScheduled = false;

  constructor() {
    super();
    // 'data' listeners are consumers: polling follows them (the listener is added after this event).
    const listenersChanged = (event: string | symbol): void => {
      if (event === 'data') queueMicrotask(() => this.#updatePolling());
    };
    this.on('newListener', listenersChanged);
    this.on('removeListener', listenersChanged);
  }

  /** Names the reader in errors. */
  protected abstract describe(): string;

  /** Whether stop() was called: a stopped reader does not start again. */
  protected get stopped(): boolean {
    return this.#stopped;
  }

  /** Starts reading `rings` through a framer of `capacity` bytes (the largest ring). */
  protected startReading(rings: PolledRing[], capacity: number): void {
    this.#framer = new Framer(capacity);
    this.#rings = rings.map((ring) => this.#entry(ring));
    this.#started = true;
    this.#updatePolling();
  }

  /** Adds a ring to a started reader (RingBuffer.add). */
  protected addRing(ring: PolledRing, capacity: number): void {
    if (this.#framer === undefined || this.#framer.capacity < capacity) this.#framer = new Framer(capacity);
    const entry = this.#entry(ring);
    this.#rings.push(entry);
    this.#started = true;
    if (this.#polls.length > 0) this.#pollRing(entry);
    else this.#updatePolling();
  }

  #entry(ring: PolledRing): RingEntry {
    // ring.cpu is read at each delivery: a drain thread's queue changes it per chunk.
    return { ring, deliver: (result) => this.#deliver(ring.cpu, result) };
  }

  /** Reads one ring now and delivers its records (rings read on demand, as overwritable ones). */
  protected readOnce(ring: PolledRing): void {
    const framer = this.#framer;
    if (framer === undefined) throw new Error(`${this.describe()}: not started`);
    if (this.#reading !== undefined) throw new Error(`${this.describe()}: cannot read the rings from inside a delivery callback`);
    this.#reading = framer;
    try {
      ring.read(framer, this.#entry(ring).deliver);
    } finally {
      this.#reading = undefined;
      framer.invalidate();
    }
  }

  protected get running(): boolean {
    return this.#started && !this.#stopped;
  }

  /** Stops polling and ends every iteration; the subclass then releases its rings. */
  protected stopReading(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopPolls();
    for (const it of this.#iterations) this.#finish(it);
    this.#iterations.clear();
  }

  get stats(): EventStats {
    return {
      eventsReceived: this.eventsReceived,
      eventsLost: this.eventsLost,
      eventsUnknownType: this.eventsUnknownType,
      eventsDiscarded: this.eventsDiscarded,
    };
  }

  /**
   * Calls fn with all records ready at each wakeup of a ring, as zero-copy views valid until fn
   * returns, as records or packed (see EventBatch). Replaces an earlier batch handler; `undefined`
   * removes it.
   */
  onBatch(fn: ((batch: EventBatch) => void) | undefined): this {
    this.#batchHandler = fn;
    this.#updatePolling();
    return this;
  }

  /**
   * Calls fn(cpu, data) for each record, synchronously, with a zero-copy view valid until fn returns
   * (it is detached after the wakeup's records). Lost notices go to `onLost`, 'lost' listeners or
   * the other consumers. Replaces an earlier record handler; `undefined` removes it.
   */
  onRecord(fn: ((cpu: number, data: Uint8Array) => void) | undefined, onLost?: (lost: LostRecords) => void): this {
    this.#recordHandler = fn;
    this.#lostHandler = onLost;
    this.#updatePolling();
    return this;
  }

  /** An async iterator of copies of the records and lost notices, ending at stop() or options.signal. */
  records(options: RecordsOptions = {}): AsyncIterableIterator<EventItem> {
    const it = new Iteration(options.highWaterMark ?? 65536);
    const signal = options.signal;
    const end = (): void => {
      this.#iterations.delete(it);
      this.#finish(it);
      this.#updatePolling();
    };
    if (this.#stopped || signal?.aborted) it.done = true;
    else {
      this.#iterations.add(it);
      signal?.addEventListener('abort', end, { once: true });
      this.#updatePolling();
    }
    const next = (): Promise<IteratorResult<EventItem>> => {
      if (it.queue.length > 0) {
        const value = it.queue.shift() as EventItem;
        if (it.queue.length === 0) this.#scheduleResume();
        return Promise.resolve({ value, done: false });
      }
      if (it.error !== undefined) {
        const error = it.error;
        it.error = undefined;
        it.done = true;
        return Promise.reject(error);
      }
      if (it.done) return Promise.resolve({ value: undefined, done: true });
      this.#scheduleResume();
      return new Promise((resolve, reject) => {
        it.waiter = { resolve, reject };
      });
    };
    const iterator: AsyncIterableIterator<EventItem> = {
      next,
      return: (): Promise<IteratorResult<EventItem>> => {
        signal?.removeEventListener('abort', end);
        end();
        it.queue.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<EventItem> {
    return this.records();
  }

  /**
   * Reads every ring now, without waiting for a wakeup (records under a watermark, overwritable
   * rings); with `thread`, after the drain thread took what the kernel rings hold. Inside a delivery
   * callback it reads nothing: the read in progress goes on while records come, and the other rings
   * are read at their wakeups.
   */
  flush(): void {
    for (const entry of this.#rings) entry.ring.flush?.();
    this.#readAll();
  }

  #readAll(): void {
    if (!this.running || this.#framer === undefined || this.#reading !== undefined) return;
    for (const entry of this.#rings) this.#readRing(entry);
  }

  abstract stop(): void;

  [Symbol.dispose](): void {
    this.stop();
  }

  // ---- polling ----

  #hasConsumer(): boolean {
    return this.#batchHandler !== undefined || this.#recordHandler !== undefined || this.listenerCount('data') > 0 || this.#iterations.size > 0;
  }

  #backpressured(): boolean {
    if (this.#iterations.size === 0) return false;
    for (const it of this.#iterations) if (it.queue.length >= it.highWaterMark) return true;
    return false;
  }

  #updatePolling(): void {
    const want = this.running && this.#hasConsumer() && !this.#backpressured();
    if (want && this.#polls.length === 0) {
      for (const ring of this.#rings) this.#pollRing(ring);
      this.#scheduleResume(); // records that arrived while no one polled raise no new wakeup
    } else if (!want && this.#polls.length > 0) {
      this.#stopPolls();
    }
  }

  #pollRing(entry: RingEntry): void {
    const ring = entry.ring;
    if (ring.watch !== undefined) {
      this.#polls.push(ring.watch(() => this.#readRing(entry)));
      return;
    }
    const handle = native().poll(ring.fd, UV_READABLE, (status) => {
      if (status < 0) {
        this.#fail(new Error(`${this.describe()}: polling the ring of ${ring.cpu} failed: ${errnoCode(-status)}`));
        return;
      }
      this.#readRing(entry);
    });
    if (typeof handle === 'number') throw new Error(`${this.describe()}: cannot poll fd ${ring.fd}: ${errnoCode(-handle)}`);
    this.#polls.push(() => native().pollStop(handle));
  }

  #stopPolls(): void {
    const polls = this.#polls;
    this.#polls = [];
    for (const stop of polls) stop();
  }

  #scheduleResume(): void {
    if (this.#resumeScheduled || !this.running) return;
    this.#resumeScheduled = true;
    setImmediate(() => {
      this.#resumeScheduled = false;
      this.#updatePolling();
      if (this.#polls.length > 0) this.#readAll();
    });
  }

  #readRing(entry: RingEntry): void {
    const framer = this.#framer;
    if (this.#reading !== undefined) return; // flush() from a callback: this read goes on
    if (framer === undefined || !this.running || !this.#hasConsumer() || this.#backpressured()) {
      this.#updatePolling();
      return;
    }
    const { ring, deliver } = entry;
    this.#reading = framer;
    let failed = false;
    let error: unknown;
    try {
      // Records that arrived during a read are read in the same wakeup, within the budget (see
      // WAKEUP_RINGS, WAKEUP_MS); a read that finds nothing ends it (no waiting for records).
      // The clock is read only once reads keep finding records (from the second one on).
      const budget = WAKEUP_RINGS * framer.capacity;
      let bytes = ring.read(framer, deliver);
      let deadline = 0;
      while (bytes > 0 && bytes < budget && this.running && !this.#backpressured()) {
        const got = ring.read(framer, deliver);
        if (got === 0) break;
        bytes += got;
        if (deadline === 0) deadline = performance.now() + WAKEUP_MS;
        else if (performance.now() >= deadline) break;
      }
    } catch (e) {
      failed = true;
      error = e;
    }
    this.#reading = undefined;
    framer.invalidate(); // every view handed out is detached before any other code runs
    if (failed) this.#fail(error);
    this.#updatePolling();
  }

  /** Ends the iterations with `error`, or emits it ('error'; thrown without a listener). */
  protected failWith(error: unknown): void {
    this.#fail(error);
  }

  #fail(error: unknown): void {
    if (this.#iterations.size > 0) {
      for (const it of this.#iterations) {
        it.error = error;
        this.#wake(it);
      }
      this.#iterations.clear();
      if (this.listenerCount('error') === 0) return;
    }
    this.emit('error', error); // without a listener: thrown, as EventEmitter does
  }

  // ---- delivery ----

  /**
   * Delivers the framed records of the read in progress; false once the reader is stopped (by a
   * consumer, meanwhile). The zero-copy views stay attached until the read ends (or the framer's data
   * area is used up): both invalidate, and no other code runs in between.
   */
  #deliver(cpu: number, result: FrameResult): boolean {
    const framer = this.#reading as Framer;
    const count = result.count;
    this.eventsUnknownType += result.unknown;
    this.eventsDiscarded += result.discarded;
    const batch = this.#batchHandler;
    const perRecord = this.#recordHandler;
    const copies = this.#iterations.size > 0 || this.listenerCount('data') > 0;
    let n = 0;
    let lost: LostRecords[] | undefined;
    if (batch !== undefined && perRecord === undefined && !copies) {
      // Only a batch handler: the samples are in the packed index already (the core made it while
      // framing); the (rare) lost notices are taken from the records.
      n = result.samples;
      this.eventsReceived += n;
      if (n < count) {
        for (let i = 0; i < count; i++) if (framer.kind(i) === RECORD_LOST) (lost ??= []).push(this.#lost(cpu, framer, i, true));
      }
    } else {
      let i = 0;
      for (; i < count && !this.#stopped; i++) {
        if (framer.kind(i) === RECORD_LOST) {
          (lost ??= []).push(this.#lost(cpu, framer, i, batch !== undefined)); // in order among the copies
          continue;
        }
        this.eventsReceived++;
        if (perRecord !== undefined) perRecord(cpu, framer.view(i));
        if (copies) this.#deliverCopy({ kind: 'record', cpu, data: framer.copy(i) });
      }
      if (batch !== undefined) n = framer.samplesBefore(i); // the samples delivered before a stop
    }
    if (batch !== undefined && (n > 0 || lost !== undefined)) {
      const delivered = new Batch(cpu, n, lost ?? NO_LOST, framer);
      try {
        batch(delivered);
      } finally {
        delivered.end();
      }
    }
    return !this.#stopped;
  }

  #deliverCopy(item: EventItem): void {
    if (item.kind === 'record') this.emit('data', item);
    else this.emit('lost', item);
    for (const it of this.#iterations) {
      it.queue.push(item);
      this.#wake(it);
    }
  }

  /** Counts and delivers lost-records notice i of the framer's batch; returns it for the batch. */
  #lost(cpu: number, framer: Framer, i: number, seenByBatch: boolean): LostRecords {
    const notice: LostRecords = { kind: 'lost', cpu, lost: framer.lost(i) };
    this.eventsLost += notice.lost;
    this.#deliverLost(notice, seenByBatch);
    return notice;
  }

  #deliverLost(notice: LostRecords, seenByBatch: boolean): void {
    this.#lostHandler?.(notice);
    const heard = seenByBatch || this.#lostHandler !== undefined || this.listenerCount('lost') > 0 || this.#iterations.size > 0;
    this.#deliverCopy(notice);
    if (!heard && !this.#warnedLost) {
      this.#warnedLost = true;
      process.emitWarning(`${this.describe()}: the kernel dropped ${notice.lost} records on ${notice.cpu} (see eventsLost; listen for 'lost' to handle it)`, 'EbpfEventsLost');
    }
  }

  #wake(it: Iteration): void {
    const waiter = it.waiter;
    if (waiter === undefined) return;
    it.waiter = undefined;
    if (it.error !== undefined) {
      const error = it.error;
      it.error = undefined;
      it.done = true;
      waiter.reject(error);
    } else if (it.queue.length > 0) {
      waiter.resolve({ value: it.queue.shift() as EventItem, done: false });
    } else if (it.done) {
      waiter.resolve({ value: undefined, done: true });
    }
  }

  #finish(it: Iteration): void {
    it.done = true;
    this.#wake(it);
  }
}
