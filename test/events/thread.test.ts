// Readers with a drain thread ({ thread: true }) against the kernel: the same records as the main-thread
// readers (exactly N, in order, intact); records keep flowing into the queue while the main thread is
// busy (where a main-thread reader loses them); stop() leaves no fd or mapping behind.
import { Worker } from 'node:worker_threads';
import * as assert from 'uvu/assert';
import { PerfEvents } from '../../src/events/perf.js';
import { RingBuffer } from '../../src/events/ringbuf.js';
import { System } from '../../src/program/system.js';
import { kernelSuite } from '../kernel/support.js';
import { checkRecord, EVENTS, fds, globals, PACKET, records, ringMappings, take, waitWhile } from './events-kernel.js';

const test = kernelSuite('events with a drain thread (kernel)');
const NATIVE = new URL('../../src/sys/native.js', import.meta.url).href;
const GENERATED = new URL('../../src/sys/generated.js', import.meta.url).href;

/**
 * A producer on a worker thread: `bursts` of `repeat` test runs (a record each), one every `everyMs` ms,
 * so that records keep coming while the main thread is busy. Resolves when it is done.
 */
async function produceInBackground(progFd: number, bursts: number, repeat: number, everyMs: number): Promise<{ done: Promise<void> }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    Promise.all([import(${JSON.stringify(NATIVE)}), import(${JSON.stringify(GENERATED)})]).then(([{ native }, { ATTR, BpfCmd }]) => {
      const F = ATTR.PROG_TEST_RUN;
      const packet = new Uint8Array(64);
      const sleeper = new Int32Array(new SharedArrayBuffer(4));
      parentPort.postMessage('started');
      for (let burst = 0; burst < workerData.bursts; burst++) {
        // One record per test run: a repeat above 1 makes each XDP test run wait for an RCU grace
        // period (the XDP dispatcher is swapped), which would pace the producer instead of everyMs.
        for (let i = 0; i < workerData.repeat; i++) {
          const attr = new Uint8Array(F.SIZE);
          const view = new DataView(attr.buffer);
          view.setUint32(F.prog_fd.offset, workerData.progFd, true);
          view.setUint32(F.data_size_in.offset, packet.byteLength, true);
          const ret = native().bpf(BpfCmd.ProgTestRun, attr, F.data_in.offset, packet);
          if (ret < 0) throw new Error('BPF_PROG_TEST_RUN: ' + ret);
        }
        Atomics.wait(sleeper, 0, 0, workerData.everyMs);
      }
      parentPort.postMessage('done');
    });`;
  const worker = new Worker(code, { eval: true, workerData: { progFd, bursts, repeat, everyMs } });
  const message = (): Promise<void> =>
    new Promise((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
  await message(); // started: its first burst is being written
  return { done: message().then(() => worker.terminate().then(() => undefined)) };
}

/** Keeps this thread busy (no event loop turn) for `ms`. */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

test('ring buffer with a drain thread: testRun({ repeat: N }) delivers exactly N records, in order, intact', async () => {
  using system = new System().loadElf(EVENTS);
  using reader = new RingBuffer(system.getMapByName('rb')!, { thread: true });
  for (const [name, size, n] of [['ringbuf_16', 16, 5000], ['ringbuf_256', 256, 900], ['ringbuf_4096', 4096, 60]] as const) {
    const first = globals(system).seq;
    system.getProgramByName(name)!.load().testRun({ data: PACKET, repeat: n });
    const got = records(await take(reader, (items) => records(items).length >= n));
    got.forEach((r, i) => {
      assert.is(r.cpu, 0);
      assert.is(checkRecord(r.data, size), first + BigInt(i), `${name} record ${i}`);
    });
  }
  assert.is(globals(system).failures, 0n);
});

test('perf event array with a drain thread: N intact records, every one once', async () => {
  using system = new System().loadElf(EVENTS);
  using perf = new PerfEvents(system.getMapByName('perf')!).startForAllProcessesAndCPUs(512 * 1024, { thread: true });
  const first = globals(system).seq;
  system.getProgramByName('perf_256')!.load().testRun({ data: PACKET, repeat: 900 });
  const seqs = records(await take(perf, (items) => records(items).length >= 900)).map((r) => checkRecord(r.data, 256)).sort((a, b) => (a < b ? -1 : 1));
  assert.equal(seqs, Array.from({ length: 900 }, (_, i) => first + BigInt(i)));
  assert.is(perf.eventsLost, 0);
});

test('a busy main thread: the drain thread keeps taking records (a main-thread reader loses them)', async () => {
  using system = new System().loadElf(EVENTS);
  const program = system.getProgramByName('ringbuf_256')!.load();
  // 40 bursts of 100 records (26 KB each), one every 2 ms, into a 256 KB ring: a reader that does not
  // run for the 80 ms the main thread is busy finds the ring full after ~20 ms.
  const run = async (thread: boolean): Promise<{ received: number; failed: bigint }> => {
    const before = globals(system).failures;
    using reader = new RingBuffer(system.getMapByName('rb')!, { thread });
    let received = 0;
    reader.onBatch((batch) => {
      received += batch.records.length;
    });
    await new Promise((resolve) => setTimeout(resolve, 100)); // the drain thread is up
    const producer = await produceInBackground(program.fd, 40, 100, 2);
    busy(80);
    await producer.done;
    reader.flush();
    return { received, failed: globals(system).failures - before };
  };
  const threaded = await run(true);
  assert.is(threaded.failed, 0n, 'no output failed with a drain thread');
  assert.is(threaded.received, 4000);
  const loop = await run(false);
  assert.ok(loop.failed > 0n, `the main-thread reader lost ${loop.failed} (it is the case the option is for)`);
  assert.is(BigInt(loop.received) + loop.failed, 4000n);
});

test('stop() of a reader with a drain thread: every ring unmapped and every fd closed when it returns', async () => {
  using system = new System().loadElf(EVENTS);
  const ringProgram = system.getProgramByName('ringbuf_16')!.load();
  assert.throws(() => system.getMapByName('perf')!.delete(0), /ENOENT/); // the map's private fd, opened once
  const fdsBefore = fds();
  const mapsBefore = ringMappings();
  const perf = new PerfEvents(system.getMapByName('perf')!).startForAllProcessesAndCPUs(8192, { thread: true });
  const ring = new RingBuffer(system.getMapByName('rb')!, { thread: true });
  let fromRing = 0;
  ring.on('data', () => {
    if (++fromRing === 30) ring.stop();
  });
  perf.on('data', () => undefined);
  ringProgram.testRun({ data: PACKET, repeat: 100 });
  await waitWhile(() => fromRing < 30);
  assert.ok(ringMappings().length > mapsBefore.length, 'the perf rings are mapped');
  perf.stop();
  ring.stop();
  assert.is(fromRing, 30, 'nothing delivered after stop()');
  assert.equal(ringMappings(), mapsBefore, 'no ring left mapped');
  // The workers' own event loop fds go with their threads, just after stop() returns.
  await waitWhile(() => [...fds()].some((fd) => !fdsBefore.has(fd)), 2000, 10);
  assert.equal([...fds()].filter((fd) => !fdsBefore.has(fd)), [], 'no new fd left open');
  assert.throws(() => system.getMapByName('perf')!.delete(0), /ENOENT/, 'the CPU slots are cleared');
});

test('drain thread options: overwritable rings and a queue smaller than twice the ring are refused', () => {
  using system = new System().loadElf(EVENTS);
  assert.throws(() => new PerfEvents(system.getMapByName('perf')!).startForAllProcessesAndCPUs(4096, { thread: true, overwritable: true }), /pass one of thread and overwritable/);
  assert.throws(() => new RingBuffer(system.getMapByName('rb')!, { thread: true, queueBytes: 4096 }), /queueBytes 4096 must be a power of two from twice the largest ring/);
});

test.run();
