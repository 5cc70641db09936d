// The drain thread of a reader started with `{ thread: true }`: a worker with its own event loop that
// watches the kernel rings (uv_poll, as the main-thread reader does) and, at each wakeup, copies what
// they hold into the shared queue and hands the space back to the kernel at once, whatever the main
// thread is busy with. It reads the rings with rings.ts's readers, as the main thread does, but does
// no framing and no delivery: its work per record is a header load and a copy. The main thread frames
// the queue's chunks in the WASM core (src/events/thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { errnoCode } from '../sys/errors.js';
import { native, UV_READABLE, type PollHandle } from '../sys/native.js';
import type { FrameResult, FrameSink, RingFormat } from './framer.js';
import { KernelRing, mapBpfRing, mapPerfRing } from './mapping.js';
import { CHUNK_HEADER, chunkSpace, Control, copyIntoQueue, type DrainRing, type DrainSetup, type FromDrain, type ToDrain } from './queue.js';
import type { BpfRing, PerfRing } from './rings.js';

const setup = workerData as DrainSetup;
const control = new Int32Array(setup.control);
const queue = new Uint8Array(setup.queue);
const queueView = new DataView(setup.queue);
const bridge = native();

/** Room left in the queue now. */
function room(): number {
  return queue.byteLength - ((Atomics.load(control, Control.Write) - Atomics.load(control, Control.Read)) >>> 0);
}

/**
 * Where a ring's reads (rings.ts, as on the main thread) put their bytes: one chunk in the queue per
 * read, not framed. Its capacity is the ring's size, so a read hands over everything it has in one
 * part or two, always whole records; when the queue has no room for them, nothing is taken (`full`)
 * and they wait in the kernel's ring.
 */
class QueueSink implements FrameSink {
  readonly #result: FrameResult = { count: 0, samples: 0, consumed: 0, unknown: 0, discarded: 0, incomplete: false };
  full = false;
  /** The queue takes bytes, not framed records: a chunk holds any number of them. */
  readonly maxRecords = Number.MAX_SAFE_INTEGER;

  constructor(
    readonly index: number,
    readonly capacity: number,
  ) {}

  frame(_format: RingFormat, first: Uint8Array, second: Uint8Array | undefined, position: number | bigint): FrameResult {
    const length = first.byteLength + (second?.byteLength ?? 0);
    if (chunkSpace(length) > room()) {
      this.full = true;
      this.#result.consumed = 0;
      return this.#result;
    }
    const write = Atomics.load(control, Control.Write) >>> 0;
    copyIntoQueue(queue, write + CHUNK_HEADER, first);
    if (second !== undefined) copyIntoQueue(queue, write + CHUNK_HEADER + first.byteLength, second);
    const at = write & (queue.byteLength - 1);
    queueView.setUint32(at, this.index, true);
    queueView.setUint32(at + 4, length, true);
    // The position as its two u32 halves (a number is below 2^53, a bigint a u64).
    const big = typeof position === 'bigint';
    queueView.setUint32(at + 8, big ? Number(position & 0xffffffffn) : position % 2 ** 32, true);
    queueView.setUint32(at + 12, big ? Number(position >> 32n) : Math.floor(position / 2 ** 32), true);
    Atomics.store(control, Control.Write, (write + chunkSpace(length)) | 0);
    Atomics.notify(control, Control.Write);
    this.#result.consumed = length;
    return this.#result;
  }
}

/** One kernel ring as the drain thread sees it: mapped and read as on the main thread, into its sink. */
interface Ring {
  readonly spec: DrainRing;
  readonly kernel: KernelRing<PerfRing | BpfRing>;
  readonly sink: QueueSink;
  poll: PollHandle | undefined;
}

const rings: Ring[] = [];
let stopped = false;

function fail(message: string): void {
  const out: FromDrain = { error: message };
  parentPort?.postMessage(out);
}

/** The read's chunks are in the queue once it returns: nothing more to hand over per chunk. */
const delivered = (): boolean => true;

/**
 * Drains of one ring per wakeup at most while each finds more: the thread goes back to its event loop
 * (a stop message, the next wakeup) at least this often under a producer that never pauses.
 */
const DRAIN_PASSES = 64;

/** Drains every ring while it has more; stops watching the rings when the queue is full. */
function drainAll(): void {
  let blocked = false;
  for (const ring of rings) {
    ring.sink.full = false;
    for (let pass = 0; pass < DRAIN_PASSES && !stopped && Atomics.load(control, Control.Stop) === 0; pass++) {
      if (ring.kernel.read(ring.sink, delivered) === 0) break;
    }
    if (ring.sink.full) blocked = true;
  }
  if (blocked) waitForRoom();
}

let waitingForRoom = false;

/** Stops watching the rings until the main thread has read from the queue (their records wait in the kernel's ring). */
function waitForRoom(): void {
  if (waitingForRoom || stopped) return;
  waitingForRoom = true;
  for (const ring of rings) unwatch(ring);
  Atomics.store(control, Control.WaitingForRoom, 1);
  const seen = Atomics.load(control, Control.Read);
  const resume = (): void => {
    Atomics.store(control, Control.WaitingForRoom, 0);
    waitingForRoom = false;
    if (stopped) return;
    for (const ring of rings) watch(ring);
    guarded(drainAll);
  };
  // The main thread may have read everything between the drain and the flag: then nothing wakes us.
  const largest = Math.max(...rings.map((r) => r.spec.size));
  if (room() >= chunkSpace(largest)) {
    setImmediate(resume);
    return;
  }
  const wait = Atomics.waitAsync(control, Control.Read, seen);
  if (wait.async) void wait.value.then(resume);
  else setImmediate(resume);
}

function guarded(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
    stop();
  }
}

function watch(ring: Ring): void {
  if (ring.poll !== undefined) return;
  const handle = bridge.poll(ring.spec.fd, UV_READABLE, (status) => {
    if (status < 0) {
      fail(`${ring.spec.what}: polling failed: ${errnoCode(-status)}`);
      stop();
      return;
    }
    if (!waitingForRoom) guarded(drainAll);
  });
  if (typeof handle === 'number') throw new Error(`${ring.spec.what}: cannot poll fd ${ring.spec.fd}: ${errnoCode(-handle)}`);
  ring.poll = handle;
}

function unwatch(ring: Ring): void {
  if (ring.poll !== undefined) bridge.pollStop(ring.poll);
  ring.poll = undefined;
}

function add(spec: DrainRing): void {
  let kernel: KernelRing<PerfRing | BpfRing>;
  if (setup.format === 'perf') {
    const { mapping, ring } = mapPerfRing(spec.fd, spec.size / setup.pageSize, setup.pageSize, true, spec.what);
    kernel = new KernelRing(spec.index, spec.fd, [mapping], ring, spec.what);
  } else {
    const { consumer, producer, ring } = mapBpfRing(spec.fd, spec.size, setup.pageSize, spec.what);
    kernel = new KernelRing(spec.index, spec.fd, [consumer, producer], ring, spec.what);
  }
  const ring: Ring = { spec, kernel, sink: new QueueSink(spec.index, spec.size), poll: undefined };
  rings.push(ring);
  if (!waitingForRoom) {
    watch(ring);
    drainAll(); // records written before the watch raise no wakeup of their own
  }
}

/** Unmaps every ring, tells the main thread (Done) and lets the thread end. */
function stop(): void {
  if (stopped) return;
  stopped = true;
  for (const ring of rings) {
    unwatch(ring);
    ring.kernel.unmap();
  }
  rings.length = 0;
  Atomics.store(control, Control.Done, 1);
  Atomics.notify(control, Control.Done);
  parentPort?.close();
}

parentPort?.on('message', (message: ToDrain) => {
  if ('stop' in message) stop();
  else if (stopped) return;
  else if ('add' in message) guarded(() => add(message.add));
  else if ('flush' in message) {
    guarded(drainAll);
    Atomics.store(control, Control.FlushDone, Atomics.load(control, Control.FlushRequest));
    Atomics.notify(control, Control.FlushDone);
  }
});
if (Atomics.load(control, Control.Stop) === 1) stop();
