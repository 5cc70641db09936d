// The drain thread of a reader started with `{ thread: true }`: a worker with its own event loop that
// watches the kernel rings (uv_poll, as the main-thread reader does) and, at each wakeup, copies what
// they hold into the shared queue and hands the space back to the kernel at once. It does no framing
// and no delivery: its work per record is a header load and a copy, so it keeps up with a producer
// the way libbpf's reading thread does, whatever the main thread is busy with. The main thread frames
// the queue's chunks in the WASM core (src/events/thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { errnoCode } from '../sys/errors.js';
import { native, type PollHandle } from '../sys/native.js';
import { CHUNK_HEADER, chunkSpace, Control, copyIntoQueue, type DrainRing, type DrainSetup, type FromDrain, type ToDrain } from './queue.js';
import { PERF_DATA_HEAD, PERF_DATA_TAIL } from './rings.js';

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const UV_READABLE = 1;
const BUSY = 0x80000000;
const DISCARD = 0x40000000;

const setup = workerData as DrainSetup;
const control = new Int32Array(setup.control);
const queue = new Uint8Array(setup.queue);
const queueView = new DataView(setup.queue);
const bridge = native();

/** One kernel ring as the drain thread sees it. */
interface Ring {
  readonly spec: DrainRing;
  readonly mappings: ArrayBuffer[];
  /** Copies what is ready into the queue: bytes taken, or -1 when the queue has no room for it. */
  drain(): number;
  poll: PollHandle | undefined;
}

const rings: Ring[] = [];
let stopped = false;

function fail(message: string): void {
  const out: FromDrain = { error: message };
  parentPort?.postMessage(out);
}

function mmap(fd: number, length: number, prot: number, offset: number, what: string): ArrayBuffer {
  const mapping = bridge.mmap(fd, length, prot, MAP_SHARED, offset);
  if (typeof mapping === 'number') throw new Error(`${what}: mmap failed: ${errnoCode(-mapping)}`);
  return mapping;
}

/** Room left in the queue now. */
function room(): number {
  return queue.byteLength - ((Atomics.load(control, Control.Write) - Atomics.load(control, Control.Read)) >>> 0);
}

/** Appends one chunk (parts of one ring's bytes) and publishes it. */
function publish(index: number, position: number, parts: readonly Uint8Array[]): void {
  const write = Atomics.load(control, Control.Write) >>> 0;
  let length = 0;
  for (const part of parts) {
    copyIntoQueue(queue, write + CHUNK_HEADER + length, part);
    length += part.byteLength;
  }
  const at = write & (queue.byteLength - 1);
  queueView.setUint32(at, index, true);
  queueView.setUint32(at + 4, length, true);
  queueView.setFloat64(at + 8, position, true);
  Atomics.store(control, Control.Write, (write + chunkSpace(length)) | 0);
  Atomics.notify(control, Control.Write);
}

/** A perf event ring: everything between data_tail and data_head is complete records. */
function perfRing(spec: DrainRing): Ring {
  const length = setup.pageSize + spec.size;
  const mapping = mmap(spec.fd, length, PROT_READ | PROT_WRITE, 0, spec.what);
  const meta = new BigUint64Array(mapping, 0, PERF_DATA_TAIL / 8 + 1);
  const data = new Uint8Array(mapping, setup.pageSize, spec.size);
  let tail = Number(meta[PERF_DATA_TAIL / 8]);
  return {
    spec,
    mappings: [mapping],
    poll: undefined,
    drain(): number {
      const head = Number(Atomics.load(meta, PERF_DATA_HEAD / 8));
      const available = head - tail;
      if (available < 0 || available > spec.size) throw new Error(`${spec.what}: data_head ${head} is ${available} bytes from data_tail ${tail}, outside [0, ${spec.size}]: a torn or corrupt producer position`);
      if (available === 0) return 0;
      if (chunkSpace(available) > room()) return -1;
      const start = tail & (spec.size - 1);
      const end = start + available;
      publish(spec.index, tail, end <= spec.size ? [data.subarray(start, end)] : [data.subarray(start), data.subarray(0, end - spec.size)]);
      tail = head;
      bridge.storeReleaseU64(mapping, PERF_DATA_TAIL, BigInt(tail));
      return available;
    },
  };
}

/** A BPF ring buffer: committed records from consumer_pos on; the data area is mapped twice in a row. */
function bpfRing(spec: DrainRing): Ring {
  const consumer = mmap(spec.fd, setup.pageSize, PROT_READ | PROT_WRITE, 0, `${spec.what}: consumer page`);
  let producerMapping: ArrayBuffer;
  try {
    producerMapping = mmap(spec.fd, setup.pageSize + 2 * spec.size, PROT_READ, setup.pageSize, `${spec.what}: producer page and data`);
  } catch (e) {
    bridge.munmap(consumer);
    throw e;
  }
  const producer = new BigUint64Array(producerMapping, 0, 1);
  const data = new Uint8Array(producerMapping, setup.pageSize, 2 * spec.size);
  const headers = new Uint32Array(producerMapping, setup.pageSize, spec.size >>> 2);
  const mask = spec.size - 1;
  let position = Number(new BigUint64Array(consumer, 0, 1)[0]);
  return {
    spec,
    mappings: [consumer, producerMapping],
    poll: undefined,
    drain(): number {
      const end = Number(Atomics.load(producer, 0));
      if (end < position || end - position > spec.size) throw new Error(`${spec.what}: producer_pos ${end} is ${end - position} bytes from consumer_pos ${position}, outside [0, ${spec.size}]: a torn or corrupt producer position`);
      const limit = Math.min(room() - CHUNK_HEADER - 15, spec.size);
      let committed = position;
      let full = false;
      // Each header is loaded atomically before its record is copied (libbpf's smp_load_acquire).
      while (committed < end) {
        const header = Atomics.load(headers, (committed & mask) >>> 2);
        if ((header & BUSY) !== 0) break;
        const total = (((header & ~(BUSY | DISCARD)) >>> 0) + 8 + 7) & ~7;
        if (committed + total > end) break;
        if (committed + total - position > limit) {
          full = true;
          break;
        }
        committed += total;
      }
      if (committed === position) return full ? -1 : 0;
      const start = position & mask;
      publish(spec.index, position, [data.subarray(start, start + committed - position)]);
      const taken = committed - position;
      position = committed;
      bridge.storeReleaseU64(consumer, 0, BigInt(position));
      return taken;
    },
  };
}

/**
 * Drains of one ring per wakeup at most while each finds more: the thread goes back to its event loop
 * (a stop message, the next wakeup) at least this often under a producer that never pauses.
 */
const DRAIN_PASSES = 64;

/** Drains every ring while it has more; stops watching the rings when the queue is full. */
function drainAll(): void {
  let blocked = false;
  for (const ring of rings) {
    for (let pass = 0; pass < DRAIN_PASSES && !stopped && Atomics.load(control, Control.Stop) === 0; pass++) {
      const taken = ring.drain();
      if (taken < 0) {
        blocked = true;
        break;
      }
      if (taken === 0) break;
    }
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
  const ring = setup.format === 'perf' ? perfRing(spec) : bpfRing(spec);
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
    for (const mapping of ring.mappings) if (mapping.byteLength > 0) bridge.munmap(mapping);
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
