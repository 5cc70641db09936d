// Event readers next to libbpf's, in one run: a producer thread makes a program of
// test/fixtures/events.o write one record per run (BPF_PROG_TEST_RUN with repeat; bpf_perf_event_output
// or bpf_ringbuf_output of 16, 256 or 4096 bytes) while the reader on the main thread consumes them:
// ebpf's PerfEvents / RingBuffer (onBatch: zero-copy views, a wakeup's records per call) and libbpf's
// perf_buffer__poll / ring_buffer__poll (bench/c/ring_consumer.c, its own process with a producer
// thread) on the same object, program and ring sizes (perf: 64 pages per CPU; ring buffer: 256 KB).
// Events/s = records received / wall time from the producer's start to the last record read; lost =
// outputs the program saw fail (the ring was full) / outputs. Reader CPU = the reading thread's CPU
// time per received record. Ratios are ebpf / libbpf events/s. Each side keeps its best of ROUNDS.
import { execFileSync } from 'node:child_process';
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
const ROUNDS = 2;
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

function runC(binary: string, kind: string, size: number, events: number): Result {
  const out = execFileSync(binary, [OBJECT, kind, String(size), String(events), String(PERF_PAGES), String(REPEAT)], { encoding: 'latin1' });
  const [received, lost, wallNs, cpuNs] = out.trim().split(/\s+/).map(Number) as [number, number, number, number];
  return { received, lost, wallNs, cpuNs };
}

async function runEbpf(kind: 'perf' | 'ringbuf', size: number, events: number): Promise<Result> {
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
    const message = (): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      });
    await message(); // ready
    const wall0 = process.hrtime.bigint();
    const cpu0 = threadCpuNs();
    worker.postMessage('go');
    await message(); // done
    await worker.terminate();
    reader.flush();
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

const best = (results: Result[]): Result => results.reduce((a, b) => (b.received / b.wallNs > a.received / a.wallNs ? b : a));

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
      console.log(`  producer: a thread running BPF_PROG_TEST_RUN (repeat ${REPEAT}); perf rings ${PERF_PAGES} pages per CPU, ring buffer 256 KB; best of ${ROUNDS}`);
      console.log(`  ${'case'.padEnd(14)}${'events'.padStart(8)}${'libbpf ev/s'.padStart(13)}${'lost'.padStart(8)}${'ebpf ev/s'.padStart(12)}${'lost'.padStart(8)}${'ratio'.padStart(7)}${'target'.padStart(8)}${'C ns/ev'.padStart(9)}${'ebpf ns/ev'.padStart(11)}`);
      for (const c of CASES) {
        const cResults: Result[] = [];
        const eResults: Result[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          cResults.push(runC(binary, c.kind, c.size, c.events));
          eResults.push(await runEbpf(c.kind, c.size, c.events));
        }
        const cr = best(cResults);
        const er = best(eResults);
        const rate = (r: Result): number => r.received / (r.wallNs / 1e9);
        const lost = (r: Result): string => `${((100 * r.lost) / c.events).toFixed(1)}%`;
        const ratio = rate(er) / rate(cr);
        console.log(
          `  ${`${c.kind} ${c.size} B`.padEnd(14)}${String(c.events).padStart(8)}${rate(cr).toFixed(0).padStart(13)}${lost(cr).padStart(8)}${rate(er).toFixed(0).padStart(12)}${lost(er).padStart(8)}` +
            `${ratio.toFixed(2).padStart(7)}${`≥${c.target}`.padStart(8)}${(cr.cpuNs / Math.max(cr.received, 1)).toFixed(0).padStart(9)}${(er.cpuNs / Math.max(er.received, 1)).toFixed(0).padStart(11)}`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default entry;
