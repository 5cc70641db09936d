// The main-thread side of a reader started with `{ thread: true }`: it starts the drain thread
// (src/events/drain-worker.ts), tells it which kernel rings to drain, and reads the shared queue as one
// more ring: its chunks are framed in the WASM core and delivered exactly as a kernel ring's records.
import { Worker } from 'node:worker_threads';
import { isPowerOfTwo, powerOfTwoAtLeast } from '../sys/integers.js';
import type { Framer, FrameResult } from './framer.js';
import { CHUNK_HEADER, chunkSpace, Control, CONTROL_SLOTS, type DrainRing, type DrainSetup, type FromDrain, type ToDrain } from './queue.js';
import type { PolledRing } from './reader.js';
import { u64Position } from './rings.js';

/** How long stop() and flush() wait for the drain thread at most. */
const WAIT_MS = 5000;

/** Options of a reader's drain thread. */
export interface ThreadOptions {
  /**
   * Drain the kernel rings on a thread of their own (a worker with its own event loop), which copies
   * their records into a shared queue as soon as the kernel signals them and hands the space back to
   * the kernel at once, as libbpf's reading thread does; the main thread then frames and delivers the
   * queue's records. Records are lost only when the queue is full too, not when the main thread is
   * busy for a while (GC, your own work). Costs a worker (~30 ms to start, its memory) and one more
   * copy per record. Default false: the rings are read on the main thread's event loop.
   */
  thread?: boolean;
  /**
   * Bytes of the shared queue with `thread` (a power of two, at least twice the largest ring; default
   * 4 MiB or four times the largest ring).
   */
  queueBytes?: number;
}

/** The drain thread and the queue, seen from the main thread. */
export class DrainThread {
  readonly #worker: Worker;
  readonly #control: Int32Array;
  readonly #queue: Uint8Array;
  readonly #view: DataView;
  readonly #what: string;
  #stopped = false;

  /** `largestRing`: bytes of the largest ring it will drain (the queue is sized from it). */
  constructor(format: 'perf' | 'ringbuf', largestRing: number, pageSize: number, options: ThreadOptions, what: string, onError: (error: Error) => void) {
    this.#what = what;
    const bytes = options.queueBytes ?? Math.max(4 << 20, powerOfTwoAtLeast(4 * largestRing));
    if (!isPowerOfTwo(bytes) || bytes < 2 * largestRing || bytes > 1 << 30) {
      throw new RangeError(`${what}: queueBytes ${bytes} must be a power of two from twice the largest ring (${2 * largestRing}) to 1 GiB`);
    }
    const queue = new SharedArrayBuffer(bytes);
    const control = new SharedArrayBuffer(CONTROL_SLOTS * 4);
    this.#control = new Int32Array(control);
    this.#queue = new Uint8Array(queue);
    this.#view = new DataView(queue);
    const setup: DrainSetup = { format, queue, control, pageSize };
    this.#worker = new Worker(new URL('./drain-worker.js', import.meta.url), { workerData: setup });
    this.#worker.on('message', (message: FromDrain) => onError(new Error(message.error)));
    this.#worker.on('error', (e: Error) => onError(new Error(`${what}: the drain thread failed: ${e.message}`)));
  }

  /** Starts draining a kernel ring. */
  add(ring: DrainRing): void {
    this.#send({ add: ring });
  }

  /** Bytes of the largest ring the queue takes (half of it). */
  get capacity(): number {
    return this.#queue.byteLength >>> 1;
  }

  #send(message: ToDrain): void {
    this.#worker.postMessage(message);
  }

  /** Asks the drain thread to take what the kernel rings hold (records under a watermark), without waiting. */
  drainSoon(): void {
    if (!this.#stopped) this.#send({ flush: true });
  }

  /** Has the drain thread take what the kernel rings hold now (waits for it: at most a few ms). */
  flush(): void {
    if (this.#stopped) return;
    const request = (Atomics.add(this.#control, Control.FlushRequest, 1) + 1) | 0;
    this.#send({ flush: true });
    this.#waitFor(Control.FlushDone, (done) => done === request);
  }

  /** Blocks until the control slot's value satisfies `done`, WAIT_MS at most; whether it did. */
  #waitFor(slot: number, done: (value: number) => boolean): boolean {
    const deadline = Date.now() + WAIT_MS;
    for (let value = Atomics.load(this.#control, slot); !done(value); value = Atomics.load(this.#control, slot)) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      Atomics.wait(this.#control, slot, value, left);
    }
    return true;
  }

  /**
   * Stops the drain thread: it stops watching and unmaps every ring before this returns (it waits up
   * to a few seconds for that); the thread itself ends right after.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    Atomics.store(this.#control, Control.Stop, 1);
    this.#send({ stop: true });
    if (!this.#waitFor(Control.Done, (done) => done !== 0)) process.emitWarning(`${this.#what}: the drain thread did not stop within ${WAIT_MS} ms`, 'EbpfEvents');
    void this.#worker.terminate();
  }

  /** The queue as a ring of the reader: `cpu` is the ring index of the chunk being delivered. */
  ring(format: 'perf' | 'ringbuf', cpuOf: (index: number) => number, describe: (index: number) => string): PolledRing & { cpu: number } {
    return new QueueRing(this.#control, this.#queue, this.#view, format, cpuOf, describe, () => this.flush());
  }
}

class QueueRing implements PolledRing {
  readonly fd = -1;
  cpu = 0;
  #read = 0;

  constructor(
    readonly control: Int32Array,
    readonly queue: Uint8Array,
    readonly view: DataView,
    readonly format: 'perf' | 'ringbuf',
    readonly cpuOf: (index: number) => number,
    readonly describe: (index: number) => string,
    /** The drain thread's flush: it takes what the kernel rings hold before the queue is read. */
    readonly flush: () => void,
  ) {}

  /** Calls onReady whenever the queue has chunks (Atomics.waitAsync: no thread, no timer); returns the stop. */
  watch(onReady: () => void): () => void {
    let active = true;
    const ready = (): void => {
      if (!active) return;
      onReady();
      arm();
    };
    const arm = (): void => {
      if (!active) return;
      const seen = Atomics.load(this.control, Control.Write);
      const wait = seen >>> 0 !== this.#read ? undefined : Atomics.waitAsync(this.control, Control.Write, seen);
      if (wait?.async === true) void wait.value.then(ready);
      else setImmediate(ready); // chunks are there already
    };
    arm();
    return () => {
      active = false;
    };
  }

  /** Frames and delivers every chunk in the queue; returns the bytes taken. */
  read(framer: Framer, deliver: (result: FrameResult) => boolean): number {
    const size = this.queue.byteLength;
    let taken = 0;
    while ((Atomics.load(this.control, Control.Write) >>> 0) !== this.#read) {
      const at = this.#read & (size - 1);
      const index = this.view.getUint32(at, true);
      const length = this.view.getUint32(at + 4, true);
      const low = this.view.getUint32(at + 8, true);
      const high = this.view.getUint32(at + 12, true);
      const what = this.describe(index);
      this.cpu = this.cpuOf(index);
      for (let offset = 0; offset < length; ) {
        const start = (at + CHUNK_HEADER + offset) & (size - 1);
        const rest = length - offset;
        const end = start + rest;
        const first = this.queue.subarray(start, Math.min(end, size));
        const second = end > size ? this.queue.subarray(0, end - size) : undefined;
        const position = u64Position(high, low + offset);
        const result = framer.frame(this.format, first, second, position, what);
        if (result.consumed === 0 && result.count === 0) throw new Error(`${what}: ${rest} bytes at ring position ${position} hold no complete record`);
        offset += result.consumed;
        if (!deliver(result)) return taken;
      }
      this.#read = (this.#read + chunkSpace(length)) >>> 0;
      Atomics.store(this.control, Control.Read, this.#read | 0);
      if (Atomics.load(this.control, Control.WaitingForRoom) === 1) Atomics.notify(this.control, Control.Read);
      taken += length;
    }
    return taken;
  }
}
