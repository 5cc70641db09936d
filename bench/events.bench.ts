// Event readers next to libbpf's, in one run: a producer thread makes a program of
// test/fixtures/events.o write one record per run (BPF_PROG_TEST_RUN with repeat; bpf_perf_event_output
// or bpf_ringbuf_output of 16, 256 or 4096 bytes) while the reader on the main thread consumes them:
// ebpf's PerfEvents / RingBuffer (onBatch: zero-copy views, a wakeup's records per call) and libbpf's
// perf_buffer__poll / ring_buffer__poll (bench/c/ring_consumer.c, its own process with a producer
// thread) on the same object, program and ring sizes (perf: 64 pages per CPU; ring buffer: 256 KB).
// Events/s = records received / wall time from the producer's start to the last record read; lost =
// outputs the program saw fail (the ring was full) / outputs. Reader CPU = the reading thread's CPU
// time per received record. Per case, each side runs a warm-up round (not counted: ebpf's reader code
// is compiled by the JIT while it runs, libbpf's is compiled ahead) and then ROUNDS rounds, alternating;
// the table has each side's median events/s and median loss, the loss range beside it, and the ratio
// of the medians. On a machine with 2 CPUs or more, both sides pin the reading thread to CPU 0 and the
// producer to CPU 1, so that the scheduler's placement (which can queue a woken reader behind the
// producer on one CPU while the other idles) moves neither side's numbers.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PerfEvents } from '../src/events/perf.js';
import type { EventReader } from '../src/events/reader.js';
import { RingBuffer } from '../src/events/ringbuf.js';
import type { EbpfMap } from '../src/map/map.js';
import { System } from '../src/program/system.js';
import { nativeUnavailableReason } from '../src/sys/native.js';
import type { BenchEntry } from './run.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const OBJECT = join(root, 'test', 'fixtures', 'events.o');
const PERF_PAGES = 64;
const REPEAT = 10_000;
const ROUNDS = 5;
/** Reader and producer CPUs when pinning (see above). */
const READER_CPU = 0;
const PRODUCER_CPU = 1;
const CASES: Array<{ kind: 'perf' | 'ringbuf'; size: number; events: number; target: number }> = [
  { kind: 'perf', size: 16, events: 200_000, target: 0.9 },
  { kind: 'perf', size: 256, events: 100_000, target: 0.9 },
  { kind: 'perf', size: 4096, events: 20_000, target: 0.9 },
  { kind: 'ringbuf', size: 16, events: 200_000, target: 0.7 },
  { kind: 'ringbuf', size: 256, events: 100_000, target: 0.7 },
  { kind: 'ringbuf', size: 4096, events: 20_000, target: 0.7 },
];

interface Result {
  received: number;
  lost: number;
  wallNs: number;
  cpuNs: number;
}

/** CPU ns the calling thread has run (/proc/thread-self/schedstat: its first field). */
function threadCpuNs(): number {
  return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
}

/** Pins thread `tid` to `cpus` (a taskset list); returns its previous mask to restore, or undefined. */
function pinThread(tid: number, cpus: string): string | undefined {
  const before = /:\s*([0-9a-f,]+)\s*$/.exec(execFileSync('taskset', ['-p', String(tid)], { encoding: 'latin1' }))?.[1];
  execFileSync('taskset', ['-pc', cpus, String(tid)], { stdio: 'ignore' });
  return before;
}

/** Whether to pin (2 CPUs or more, and taskset from util-linux is there). */
function canPin(): boolean {
  if (availableParallelism() < 2) return false;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function runC(binary: string, kind: string, size: number, events: number, pin: boolean): Result {
  const cpus = pin ? [String(READER_CPU), String(PRODUCER_CPU)] : [];
  const out = execFileSync(binary, [OBJECT, kind, String(size), String(events), String(PERF_PAGES), String(REPEAT), ...cpus], { encoding: 'latin1' });
  const [received, lost, wallNs, cpuNs] = out.trim().split(/\s+/).map(Number) as [number, number, number, number];
  return { received, lost, wallNs, cpuNs };
}

async function runEbpf(kind: 'perf' | 'ringbuf', size: number, events: number, pin: boolean): Promise<Result> {
  using system = new System().loadElf(OBJECT);
  const program = system.getProgramByName(`${kind}_${size}`)!.load();
  const reader: EventReader =
    kind === 'perf' ? new PerfEvents(system.getMapByName('perf')!).startForAllProcessesAndCPUs(PERF_PAGES * 4096) : new RingBuffer(system.getMapByName('rb')!);
  let received = 0;
  let sink = 0;
  reader.onBatch((batch) => {
    for (const r of batch.records) sink ^= r.data[0]!; // touch the record, as a consumer would
    received += batch.records.length;
  });
  try {
    const worker = new Worker(new URL('./events-producer.js', import.meta.url), { workerData: { progFd: program.fd, events, repeat: REPEAT } });
    const message = (): Promise<unknown> =>
      new Promise<unknown>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    const ready = (await message()) as { tid: number };
    const restore = pin ? pinThread(process.pid, String(READER_CPU)) : undefined; // the main thread's tid is the pid
    if (pin) pinThread(ready.tid, String(PRODUCER_CPU));
    const wall0 = process.hrtime.bigint();
    const cpu0 = threadCpuNs();
    worker.postMessage('go');
    await message(); // done
    await worker.terminate();
    reader.flush();
    if (restore !== undefined) execFileSync('taskset', ['-p', restore, String(process.pid)], { stdio: 'ignore' });
    const wallNs = Number(process.hrtime.bigint() - wall0);
    const cpuNs = threadCpuNs() - cpu0;
    const bss = system.getMapByName('.bss') as EbpfMap;
    const lost = Number(new DataView(bss.lookup(0).buffer).getBigUint64(8, true));
    if (sink < 0) console.log(sink);
    return { received, lost, wallNs, cpuNs };
  } finally {
    reader.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Summary {
  rate: number;
  lost: number;
  lostMin: number;
  lostMax: number;
  nsPerEvent: number;
}

function summarize(results: Result[], events: number): Summary {
  const lost = results.map((r) => (100 * r.lost) / events);
  return {
    rate: median(results.map((r) => r.received / (r.wallNs / 1e9))),
    lost: median(lost),
    lostMin: Math.min(...lost),
    lostMax: Math.max(...lost),
    nsPerEvent: median(results.map((r) => r.cpuNs / Math.max(r.received, 1))),
  };
}

const entry: BenchEntry = {
  name: 'events: PerfEvents / RingBuffer vs libbpf perf_buffer__poll / ring_buffer__poll',
  async run() {
    const why = nativeUnavailableReason();
    if (why !== undefined || process.getuid?.() !== 0) {
      console.log(`  skipped: ${why ?? 'needs root for bpf()'}`);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'ebpf-bench-events-'));
    try {
      const binary = join(dir, 'ring_consumer');
      execFileSync(process.env.CC ?? 'cc', ['-std=c11', '-O2', '-o', binary, join(root, 'bench', 'c', 'ring_consumer.c'), '-lbpf', '-lpthread'], { stdio: 'inherit' });
      const pin = canPin();
      console.log(
        `  producer: a thread running BPF_PROG_TEST_RUN (repeat ${REPEAT}); perf rings ${PERF_PAGES} pages per CPU, ring buffer 256 KB; ` +
          `a warm-up round, then medians of ${ROUNDS} rounds; ${pin ? `reader pinned to CPU ${READER_CPU}, producer to CPU ${PRODUCER_CPU}` : 'not pinned (one CPU, or no taskset)'}`,
      );
      console.log(
        `  ${'case'.padEnd(14)}${'events'.padStart(8)}${'libbpf ev/s'.padStart(13)}${'lost (range)'.padStart(20)}${'ebpf ev/s'.padStart(12)}${'lost (range)'.padStart(20)}${'ratio'.padStart(7)}${'target'.padStart(8)}${'C ns/ev'.padStart(9)}${'ebpf ns/ev'.padStart(11)}`,
      );
      const loss = (s: Summary): string => `${s.lost.toFixed(1)}% (${s.lostMin.toFixed(0)}-${s.lostMax.toFixed(0)})`;
      for (const c of CASES) {
        runC(binary, c.kind, c.size, c.events, pin);
        await runEbpf(c.kind, c.size, c.events, pin);
        const cResults: Result[] = [];
        const eResults: Result[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          cResults.push(runC(binary, c.kind, c.size, c.events, pin));
          eResults.push(await runEbpf(c.kind, c.size, c.events, pin));
        }
        const cs = summarize(cResults, c.events);
        const es = summarize(eResults, c.events);
        console.log(
          `  ${`${c.kind} ${c.size} B`.padEnd(14)}${String(c.events).padStart(8)}${cs.rate.toFixed(0).padStart(13)}${loss(cs).padStart(20)}${es.rate.toFixed(0).padStart(12)}${loss(es).padStart(20)}` +
            `${(es.rate / cs.rate).toFixed(2).padStart(7)}${`≥${c.target}`.padStart(8)}${cs.nsPerEvent.toFixed(0).padStart(9)}${es.nsPerEvent.toFixed(0).padStart(11)}`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default entry;
