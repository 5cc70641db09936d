// The readers against the kernel: test/fixtures/events.c's programs, run with BPF_PROG_TEST_RUN,
// write records that PerfEvents and RingBuffer deliver: exactly as many as runs, in order, with their
// checksummed content; lost records counted and delivered; stop() leaves no fd or mapping behind.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { RecordDecoder } from '../../src/events/decode.js';
import { PerfEvents } from '../../src/events/perf.js';
import type { EventBatch, EventItem, EventRecord } from '../../src/events/reader.js';
import { RingBuffer, UserRingBuffer } from '../../src/events/ringbuf.js';
import { getNumOfPossibleCpus, ktimeToDate } from '../../src/map/host.js';
import type { Program } from '../../src/program/program.js';
import { System } from '../../src/program/system.js';
import { bpf } from '../../src/sys/bpf.js';
import { ATTR, BpfCmd } from '../../src/sys/generated.js';
import { kernelSuite } from '../kernel/support.js';
import { checkRecord, EVENTS, fds, globals, PACKET, records, ringMappings, take, waitWhile } from './events-kernel.js';

const test = kernelSuite('events (kernel)');
const BPF_F_TEST_RUN_ON_CPU = 1;




/** BPF_PROG_TEST_RUN of a raw_tp program on one CPU: no data in or out (raw_tp refuses both). */
function testRunOnCpu(program: Program, cpu: number): void {
  const F = ATTR.PROG_TEST_RUN;
  const attr = new Uint8Array(F.SIZE);
  const view = new DataView(attr.buffer);
  view.setUint32(F.prog_fd.offset, program.fd, true);
  view.setUint32(F.flags.offset, BPF_F_TEST_RUN_ON_CPU, true);
  view.setUint32(F.cpu.offset, cpu, true);
  bpf(BpfCmd.ProgTestRun, attr);
}


test('ring buffer: testRun({ repeat: N }) delivers exactly N records, in order, intact', async () => {
  using system = new System().loadElf(EVENTS);
  for (const [name, size, n] of [['ringbuf_16', 16, 5000], ['ringbuf_256', 256, 900], ['ringbuf_4096', 4096, 60]] as const) {
    const reader = new RingBuffer(system.getMapByName('rb')!);
    try {
      const first = globals(system).seq;
      system.getProgramByName(name)!.load().testRun({ data: PACKET, repeat: n });
      const got = records(await take(reader, (items) => items.length >= n));
      assert.is(got.length, n);
      got.forEach((r, i) => {
        assert.is(r.data.byteLength, size);
        assert.is(checkRecord(r.data, size), first + BigInt(i), `${name} record ${i}`);
      });
      assert.is(reader.eventsReceived, n);
      assert.is(globals(system).failures, 0n);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.is(reader.eventsReceived, n, 'no record more');
    } finally {
      reader.stop();
    }
  }
});

test('perf event array: records on every CPU (BPF_F_TEST_RUN_ON_CPU), in order per CPU', async () => {
  using system = new System().loadElf(EVENTS);
  const program = system.getProgramByName('perf_on_cpu')!.load();
  using perf = new PerfEvents(system.getMapByName('perf')!).startForAllProcessesAndCPUs(64 * 1024);
  const cpus = getNumOfPossibleCpus();
  assert.equal(perf.cpus, Array.from({ length: cpus }, (_, i) => i));
  const perCpu = 100;
  const seen = new Map<number, bigint[]>();
  perf.onBatch((batch) => {
    for (const r of batch.records) {
      const view = new DataView(r.data.buffer, r.data.byteOffset, r.data.byteLength);
      assert.is(Number(view.getBigUint64(8, true)), r.cpu, 'the record ran on the CPU of its ring');
      seen.set(r.cpu, [...(seen.get(r.cpu) ?? []), view.getBigUint64(0, true)]);
    }
  });
  for (let cpu = 0; cpu < cpus; cpu++) for (let i = 0; i < perCpu; i++) testRunOnCpu(program, cpu);
  await waitWhile(() => perf.eventsReceived < perCpu * cpus);
  assert.is(perf.eventsReceived, perCpu * cpus);
  assert.is(perf.eventsLost, 0);
  for (let cpu = 0; cpu < cpus; cpu++) {
    const seqs = seen.get(cpu) ?? [];
    assert.is(seqs.length, perCpu, `CPU ${cpu}`);
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `CPU ${cpu}: in order`);
  }
});

test('perf event array: testRun({ repeat: N }) delivers N intact records (raw data padded to 8 bytes with its size word)', async () => {
  using system = new System().loadElf(EVENTS);
  using perf = new PerfEvents(system.getMapByName('perf')!).startForAllProcessesAndCPUs(512 * 1024);
  for (const [name, size, n] of [['perf_16', 16, 5000], ['perf_256', 256, 900], ['perf_4096', 4096, 100]] as const) {
    const first = globals(system).seq;
    system.getProgramByName(name)!.load().testRun({ data: PACKET, repeat: n });
    const got = records(await take(perf, (items) => records(items).length >= n));
    // The test run may move between CPUs between repeats: in order per CPU, all of them in all.
    const last = new Map<number, bigint>();
    const seqs = got.map((r) => {
      assert.is(r.data.byteLength, ((size + 4 + 7) & ~7) - 4);
      const seq = checkRecord(r.data, size);
      assert.ok(seq > (last.get(r.cpu) ?? -1n), `${name}: record ${seq} in order on CPU ${r.cpu}`);
      last.set(r.cpu, seq);
      return seq;
    });
    assert.equal(seqs.sort((a, b) => (a < b ? -1 : 1)), Array.from({ length: n }, (_, i) => first + BigInt(i)), `${name}: every record once`);
  }
  assert.is(globals(system).failures, 0n);
  assert.is(perf.eventsLost, 0);
});

test('perf event array: a stalled consumer sees lost records counted and delivered, then recovers', async () => {
  using system = new System().loadElf(EVENTS);
  const program = system.getProgramByName('perf_256')!.load();
  using perf = new PerfEvents(system.getMapByName('perf')!).startForAllProcessesAndCPUs(4096);
  const lostNotices: number[] = [];
  perf.on('lost', (notice: { lost: number }) => lostNotices.push(notice.lost));
  // The test run blocks this thread: nothing is read while 100 records (26 KB) meet a 4 KB ring.
  program.testRun({ data: PACKET, repeat: 100 });
  const failed = Number(globals(system).failures);
  assert.ok(failed > 0, 'the program saw the ring full');
  const stalled = records(await take(perf, (items) => records(items).length >= 100 - failed));
  assert.is(stalled.length, 100 - failed);
  // The kernel reports the drops with the next record that fits on that CPU's ring: run until the
  // thread lands on that CPU again (it may move between test runs).
  const after: EventItem[] = [];
  for (let round = 0; round < 200 && perf.eventsLost < failed; round++) {
    const first = globals(system).seq;
    program.testRun({ data: PACKET, repeat: 5 });
    const got = await take(perf, (items) => records(items).length >= 5);
    assert.equal(records(got).map((r) => checkRecord(r.data, 256)), [0n, 1n, 2n, 3n, 4n].map((i) => first + i), 'recovered: intact and in order');
    after.push(...got);
  }
  // One notice per CPU the stalled run wrote on (the thread may move between repeats).
  const lost = after.flatMap((i) => (i.kind === 'lost' ? [i.lost] : []));
  assert.ok(lost.length >= 1 && lost.length <= getNumOfPossibleCpus(), `${lost.length} notices`);
  assert.is(lost.reduce((a, b) => a + b, 0), failed);
  assert.is(perf.eventsLost, failed);
  assert.equal(lostNotices, lost);
});

test('ring buffer: several maps in one reader; discarded records are skipped and counted; event-emitter form', async () => {
  using system = new System().loadElf(EVENTS);
  const reader = new RingBuffer(system.getMapByName('rb')!);
  try {
    assert.is(reader.add(system.getMapByName('rb_small')!), 1);
    const got: Array<[number, bigint]> = [];
    reader.on('data', (r: EventRecord) => got.push([r.cpu, checkRecord(r.data, r.cpu === 0 ? 16 : 64)]));
    system.getProgramByName('ringbuf_16')!.load().testRun({ data: PACKET, repeat: 10 });
    system.getProgramByName('ringbuf_small')!.load().testRun({ data: PACKET, repeat: 20 });
    await waitWhile(() => got.length < 10 + 20 - Number(globals(system).failures));
    const small = got.filter(([ring]) => ring === 1);
    assert.is(got.filter(([ring]) => ring === 0).length, 10);
    assert.is(small.length, 20 - Number(globals(system).failures), 'rb_small (4 KB, 88 bytes a run) keeps what fits');
    assert.ok(reader.eventsDiscarded >= small.length, 'a discarded record before each kept one');
  } finally {
    reader.stop();
  }
});

test('onBatch: zero-copy views are detached once the callback returns; onRecord sees each record', async () => {
  using system = new System().loadElf(EVENTS);
  const reader = new RingBuffer(system.getMapByName('rb')!);
  try {
    const kept: Uint8Array[] = [];
    let perRecord = 0;
    reader.onBatch((batch) => {
      for (const r of batch.records) {
        assert.is(r.data.byteLength, 16);
        kept.push(r.data);
      }
    });
    reader.onRecord(() => perRecord++);
    system.getProgramByName('ringbuf_16')!.load().testRun({ data: PACKET, repeat: 50 });
    await waitWhile(() => kept.length < 50);
    assert.is(kept.length, 50);
    assert.is(perRecord, 50);
    assert.ok(kept.every((view) => view.byteLength === 0), 'every view is detached');
    assert.throws(() => kept[0]!.slice(), TypeError);
  } finally {
    reader.stop();
  }
});

test('onBatch packed form: bytes/offsets/sizes hold the records in order, no view per record; all detached after the callback, and a batch read later throws', async () => {
  using system = new System().loadElf(EVENTS);
  const program = system.getProgramByName('ringbuf_256')!.load();
  const reader = new RingBuffer(system.getMapByName('rb')!);
  try {
    const first = globals(system).seq;
    const seqs: bigint[] = [];
    const kept: Array<Uint8Array | Uint32Array> = [];
    let late: EventBatch | undefined;
    reader.onBatch((batch) => {
      const { bytes, offsets, sizes, count } = batch;
      assert.is(offsets.length, count);
      assert.is(sizes.length, count);
      for (let i = 0; i < count; i++) {
        assert.is(sizes[i], 256);
        seqs.push(checkRecord(bytes.subarray(offsets[i]!, offsets[i]! + sizes[i]!), 256));
      }
      // The two forms agree: records made after the packed form view the same bytes.
      assert.equal(batch.records.map((r) => r.data.byteOffset), Array.from(offsets, (o) => bytes.byteOffset + o));
      kept.push(bytes, offsets, sizes);
      late = batch;
    });
    program.testRun({ data: PACKET, repeat: 300 });
    await waitWhile(() => seqs.length < 300);
    assert.equal(seqs, Array.from({ length: 300 }, (_, i) => first + BigInt(i)));
    assert.ok(kept.every((view) => view.length === 0), 'bytes, offsets and sizes are detached');
    assert.is(late!.bytes.length, 0, 'views made during the callback stay detached');
    // A batch whose packed form was not read in its callback cannot make views afterwards.
    let unread: EventBatch | undefined;
    reader.onBatch((batch) => {
      unread = batch;
    });
    program.testRun({ data: PACKET, repeat: 1 });
    await waitWhile(() => unread === undefined);
    assert.throws(() => unread!.offsets, /read after the onBatch callback returned/);
    assert.throws(() => unread!.records, /read after the onBatch callback returned/);
  } finally {
    reader.stop();
  }
});

test('one wakeup reads again while records keep coming, within its budget; views kept from earlier batches show their own records until the read ends', async () => {
  using system = new System().loadElf(EVENTS);
  const program = system.getProgramByName('ringbuf_16')!.load();
  const reader = new RingBuffer(system.getMapByName('rb')!);
  try {
    let batches = 0;
    let received = 0;
    // Every view kept so far, with the sequence number its record held when delivered.
    let kept: Array<{ view: Uint8Array; seq: bigint }> = [];
    let changed = 0;
    let produce = true;
    const seqOf = (view: Uint8Array): bigint => new DataView(view.buffer, view.byteOffset).getBigUint64(0, true);
    reader.onBatch((batch) => {
      batches++;
      received += batch.records.length;
      for (const { view, seq } of kept) if (view.byteLength !== 0 && seqOf(view) !== seq) changed++;
      kept.push(...batch.records.map((r) => ({ view: r.data, seq: seqOf(r.data) })));
      if (produce) program.testRun({ data: PACKET, repeat: 10 }); // a producer as fast as the reader
    });
    program.testRun({ data: PACKET, repeat: 10 });
    reader.flush(); // one read of the ring, synchronous: it ends although records keep coming
    assert.ok(batches > 1, `the records produced meanwhile were read in the same call (${batches} batches)`);
    assert.ok(received * 24 <= 4 * 256 * 1024 + 240, `at most 4 rings' worth and one read more (${received} records)`);
    assert.is(changed, 0, 'no kept view showed another record\'s bytes');
    assert.ok(kept.every(({ view }) => view.byteLength === 0), 'all detached once the read ended');
    kept = [];
    produce = false;
    const total = Number(globals(system).seq);
    await waitWhile(() => received < total);
    assert.is(received, total, 'the rest came at the next wakeups');
    assert.is(changed, 0);
  } finally {
    reader.stop();
  }
});

test('ring buffer: records wrapping the ring\'s end arrive whole and in order, lap after lap; flush() in a callback changes nothing', async () => {
  using system = new System().loadElf(EVENTS);
  const program = system.getProgramByName('ringbuf_4096')!.load();
  const reader = new RingBuffer(system.getMapByName('rb')!);
  try {
    const first = globals(system).seq;
    const seqs: bigint[] = [];
    let detachedInCallback = 0;
    reader.onBatch((batch) => {
      for (const r of batch.records) seqs.push(checkRecord(r.data, 4096)); // the zero-copy views
      reader.flush(); // inside a callback: does nothing (the read in progress goes on)
      for (const r of batch.records) if (r.data.byteLength !== 4096) detachedInCallback++;
    });
    // 4104 bytes a record: the 256 KB ring's end cuts one at a different offset each lap.
    for (let round = 0; round < 10; round++) {
      program.testRun({ data: PACKET, repeat: 60 });
      await waitWhile(() => seqs.length < 60 * (round + 1), 5000, 2);
    }
    assert.equal(seqs, Array.from({ length: 600 }, (_, i) => first + BigInt(i)));
    assert.is(detachedInCallback, 0, 'views stay attached for the whole callback');
    assert.is(globals(system).failures, 0n);
  } finally {
    reader.stop();
  }
});

test('records(): a slow consumer past highWaterMark still gets every record, in order', async () => {
  using system = new System().loadElf(EVENTS);
  const reader = new RingBuffer(system.getMapByName('rb')!);
  try {
    const first = globals(system).seq;
    system.getProgramByName('ringbuf_16')!.load().testRun({ data: PACKET, repeat: 200 });
    const seqs: bigint[] = [];
    for await (const item of reader.records({ highWaterMark: 10, signal: AbortSignal.timeout(5000) })) {
      if (item.kind === 'record') seqs.push(checkRecord(item.data, 16));
      await new Promise((resolve) => setImmediate(resolve)); // a slow consumer
      if (seqs.length === 200) break;
    }
    assert.equal(seqs, Array.from({ length: 200 }, (_, i) => first + BigInt(i)));
    assert.is(reader.eventsReceived, 200);
  } finally {
    reader.stop();
  }
});

test('records(): while the iterator holds highWaterMark records, new ones stay in the ring', async () => {
  using system = new System().loadElf(EVENTS);
  const program = system.getProgramByName('ringbuf_16')!.load();
  const reader = new RingBuffer(system.getMapByName('rb')!);
  try {
    program.testRun({ data: PACKET, repeat: 100 });
    const iterator = reader.records({ highWaterMark: 10 });
    await iterator.next(); // the first wakeup's read queues all 100
    assert.is(reader.eventsReceived, 100);
    program.testRun({ data: PACKET, repeat: 100 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.is(reader.eventsReceived, 100, 'not read while 99 wait in the iterator');
    let taken = 1;
    while (taken < 200) {
      const next = await Promise.race([iterator.next(), new Promise<undefined>((resolve) => setTimeout(resolve, 5000))]);
      assert.ok(next !== undefined && !next.done, `record ${taken} came`);
      taken++;
    }
    assert.is(reader.eventsReceived, 200);
    await iterator.return?.();
  } finally {
    reader.stop();
  }
});

test('an AbortSignal ends the iteration; stop() ends it too', async () => {
  using system = new System().loadElf(EVENTS);
  const reader = new RingBuffer(system.getMapByName('rb')!);
  const controller = new AbortController();
  const iteration = (async () => {
    let n = 0;
    for await (const _ of reader.records({ signal: controller.signal })) n++;
    return n;
  })();
  system.getProgramByName('ringbuf_16')!.load().testRun({ data: PACKET, repeat: 3 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  controller.abort();
  assert.is(await iteration, 3);
  const second = (async () => {
    let n = 0;
    for await (const _ of reader) n++;
    return n;
  })();
  setTimeout(() => reader.stop(), 20);
  assert.is(await second, 0);
});



test('stop() mid-stream closes every fd and unmaps every ring', async () => {
  using system = new System().loadElf(EVENTS);
  const perfProgram = system.getProgramByName('perf_16')!.load();
  const ringProgram = system.getProgramByName('ringbuf_16')!.load();
  // A map's first element call opens the bridge's private fd for its prepared calls (kept until the
  // map closes): made here, so it is not counted as the reader's.
  assert.throws(() => system.getMapByName('perf')!.delete(0), /ENOENT/);
  const fdsBefore = fds();
  const mapsBefore = ringMappings();
  const perf = new PerfEvents(system.getMapByName('perf')!).startForAllProcessesAndCPUs(8192);
  const ring = new RingBuffer(system.getMapByName('rb')!);
  assert.ok(ringMappings().length > mapsBefore.length, 'rings are mapped');
  assert.ok(fds().size > fdsBefore.size, 'perf events are open');
  try {
    let fromPerf = 0;
    let fromRing = 0;
    perf.on('data', () => {
      if (++fromPerf === 10) perf.stop();
    });
    ring.on('data', () => {
      if (++fromRing === 30) ring.stop();
    });
    perfProgram.testRun({ data: PACKET, repeat: 100 });
    ringProgram.testRun({ data: PACKET, repeat: 100 });
    await waitWhile(() => fromPerf < 10 || fromRing < 30);
    assert.is(fromPerf, 10, 'nothing delivered after stop()');
    assert.is(fromRing, 30, 'nothing delivered after stop()');
  } finally {
    perf.stop();
    ring.stop();
  }
  assert.equal(perf.cpus, [], 'no ring left');
  assert.equal([...fds()].filter((fd) => !fdsBefore.has(fd)), [], 'no new fd left open');
  assert.equal(ringMappings(), mapsBefore, 'no ring left mapped');
  assert.throws(() => system.getMapByName('perf')!.delete(0), /ENOENT/, 'the CPU slots are cleared');
});

test('UserRingBuffer: records reserved, submitted or discarded reach bpf_user_ringbuf_drain', () => {
  using system = new System().loadElf(EVENTS);
  using writer = new UserRingBuffer(system.getMapByName('user_rb')!);
  const values = [3n, 5n, 7n, 11n];
  for (const v of values) {
    const sample = writer.reserve(8)!;
    new DataView(sample.data.buffer, sample.data.byteOffset).setBigUint64(0, v, true);
    writer.submit(sample);
  }
  const dropped = writer.reserve(16)!;
  writer.discard(dropped);
  assert.throws(() => writer.submit(dropped), /already submitted or discarded/);
  assert.ok(writer.write(new Uint8Array([100, 0, 0, 0, 0, 0, 0, 0])));
  system.getProgramByName('user_drain')!.load().testRun({ data: PACKET });
  const g = globals(system);
  assert.is(g.userCount, 5n);
  assert.is(g.userSum, 126n);
  assert.ok(writer.available > 4000, 'the kernel consumed them');
  assert.throws(() => writer.reserve(5000), /cannot fit the 4096-byte ring/);
});

test('typed records: struct event decoded from the object BTF; ktimeToDate', async () => {
  using system = new System().loadElf(EVENTS);
  const decoder = RecordDecoder.fromObject(readFileSync(EVENTS), 'struct event');
  const reader = new RingBuffer(system.getMapByName('rb')!);
  try {
    system.getProgramByName('typed_event')!.load().testRun({ data: PACKET });
    const [item] = await take(reader, (items) => items.length >= 1);
    const event = decoder.decode((item as EventRecord).data);
    assert.equal({ ...event, ktime: undefined }, {
      ktime: undefined, pid: 4242, delta: -7, comm: 'ebpf-test', where: { port: 8080, flags: [1, 2] }, counts: [10, 20, 30], kind: 5, urgent: 1,
    });
    const when = ktimeToDate(event.ktime as bigint);
    assert.ok(Math.abs(when.getTime() - Date.now()) < 5000, `${when.toISOString()} is now`);
  } finally {
    reader.stop();
  }
});

test('PerfEvents refuses a map that is not a perf event array', () => {
  using system = new System().loadElf(EVENTS);
  assert.throws(() => new PerfEvents(system.getMapByName('rb')!), /^map 'rb' is a ringbuf map, not a perf_event_array \(PerfEvents\)$/);
  assert.throws(() => new RingBuffer(system.getMapByName('perf')!), /^map 'perf' is a perf_event_array map, not a ringbuf \(RingBuffer.add\)$/);
});

test('perf options: overwritable rings keep the newest records; a CPU subset; wakeupEvents with the poll timeout', async () => {
  using system = new System().loadElf(EVENTS);
  const program = system.getProgramByName('perf_on_cpu')!.load();
  const cpus = getNumOfPossibleCpus();
  {
    using perf = new PerfEvents(system.getMapByName('perf')!).startForAllProcessesAndCPUs(4096, { overwritable: true, cpus: [0] });
    assert.equal(perf.cpus, [0]);
    const first = globals(system).seq;
    for (let i = 0; i < 300; i++) testRunOnCpu(program, 0); // 300 x 32 bytes in a 4 KB ring: the oldest are overwritten
    const seen: bigint[] = [];
    perf.onBatch((batch) => {
      for (const r of batch.records) seen.push(new DataView(r.data.buffer, r.data.byteOffset).getBigUint64(0, true));
    });
    perf.readOverwritable();
    assert.ok(seen.length > 100 && seen.length < 130, `${seen.length} records fit a 4 KB ring`);
    assert.equal(seen, Array.from({ length: seen.length }, (_, i) => first + 299n - BigInt(i)), 'the newest first, none missing');
    assert.is(perf.eventsLost, 0, 'overwritten records are not lost records');
  }
  if (cpus > 1) {
    using perf = new PerfEvents(system.getMapByName('perf')!).startForAllProcessesAndCPUs(4096, { cpus: [1], wakeupEvents: 1000 });
    perf.pollTimeoutMs = 20;
    let received = 0;
    perf.onRecord(() => received++);
    for (let i = 0; i < 5; i++) testRunOnCpu(program, 1);
    const failures = globals(system).failures;
    testRunOnCpu(program, 0);
    assert.is(globals(system).failures, failures + 1n, 'no ring on CPU 0: the output fails');
    await waitWhile(() => received < 5, 3000, 10);
    assert.is(received, 5, 'records under the wakeup threshold come with the poll timeout');
  }
});

test('a tracepoint program streams exec events while the test starts processes', async () => {
  using system = new System().loadElf(EVENTS);
  const program = system.getProgramByName('exec_events')!.load();
  const decoder = RecordDecoder.fromObject(readFileSync(EVENTS), 'struct exec_event');
  const reader = new RingBuffer(system.getMapByName('execs')!);
  try {
    using _attachment = program.attach();
    const pids = new Set<number>();
    const seen = new Map<number, { comm: string; filename: string }>();
    reader.on('data', (r: EventRecord) => {
      const e = decoder.decode(r.data) as { pid: number; comm: string; filename: string };
      seen.set(e.pid, e);
    });
    for (let i = 0; i < 5; i++) {
      const child = spawn('/bin/true', [], { stdio: 'ignore' });
      pids.add(child.pid!);
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await waitWhile(() => [...pids].some((pid) => !seen.has(pid)), 5000, 10);
    for (const pid of pids) {
      assert.ok(seen.has(pid), `an exec event for process ${pid}`);
      assert.is(seen.get(pid)!.filename, '/bin/true');
    }
  } finally {
    reader.stop();
  }
});

test.run();
