// Event readers next to libbpf's, in one run: a producer makes a program of test/fixtures/events.o
// write one record per run (BPF_PROG_TEST_RUN with repeat; bpf_perf_event_output or
// bpf_ringbuf_output of 16, 256 or 4096 bytes; the loop of bench/c/test_run_producer.h on both sides)
// while the reader on the main thread consumes them: ebpf's PerfEvents / RingBuffer (onBatch's packed
// form: a wakeup's records per call, zero-copy, no object per record; the producer is a process, test_run_producer.c, given the
// program's fd) and libbpf's perf_buffer__poll / ring_buffer__poll (bench/c/ring_consumer.c, its own
// process with a producer thread) on the same object, program and ring sizes (perf: 64 pages per CPU;
// ring buffer: 256 KB). libbpf runs twice: its callback reads a record's first byte where it lies in
// the ring (touch), or first copies the record into a buffer of its own (copy), the work ebpf's reader
// does for every record (the core frames records copied out of the ring into WASM memory).
// A fourth side, the floor (bench/events-floor.ts), is woken through Node's loop as ebpf's reader is
// and releases what is ready without copying or framing it: its loss is what a reader woken through
// Node's event loop loses on this machine at least, so the part of ebpf's loss that is its own work
// is the distance from the floor, and the part that is Node's wakeup the floor's distance from libbpf.
// Events/s = records received / wall time from the producer's start to the last record read; lost =
// outputs the program saw fail (the ring was full) / outputs. Reader CPU = the reading thread's CPU
// time per received record. Per case, each side runs a warm-up round (not counted: ebpf's reader code
// is compiled by the JIT while it runs, libbpf's is compiled ahead) and then ROUNDS rounds, alternating;
// the table has each side's median events/s and median loss, the loss range beside it, and the ratio
// of the medians (ebpf / libbpf touch). A round that saw more than STEAL_LIMIT_MS of steal time on the
// reader's or producer's CPU is measured again (see measure()). On a machine with 2 CPUs or more, every side pins the reading
// thread to CPU 0 and the producer to CPU 1, so that the scheduler's placement (which can queue a woken
// reader behind the producer on one CPU while the other idles) moves no side's numbers.
import { execFileSync, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PerfEvents } from '../src/events/perf.js';
import type { EventReader } from '../src/events/reader.js';
import { RingBuffer } from '../src/events/ringbuf.js';
import type { EbpfMap } from '../src/map/map.js';
import { System } from '../src/program/system.js';
import { nativeUnavailableReason } from '../src/sys/native.js';
import { FloorReader } from './events-floor.js';
import type { BenchEntry } from './run.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const OBJECT = join(root, 'test', 'fixtures', 'events.o');
const PERF_PAGES = 64;
const REPEAT = 10_000;
const ROUNDS = 7;
/** Reader and producer CPUs when pinning (see above). */
const READER_CPU = 0;
const PRODUCER_CPU = 1;
/** EBPF_BENCH_THREAD=1: ebpf's readers drain their rings on a thread of their own ({ thread: true }). */
const THREAD = process.env.EBPF_BENCH_THREAD === '1';
const CASES: Array<{ kind: 'perf' | 'ringbuf'; size: number; events: number; target: number }> = [
  { kind: 'perf', size: 16, events: 200_000, target: 0.9 },
  { kind: 'perf', size: 256, events: 200_000, target: 0.9 },
  { kind: 'perf', size: 4096, events: 100_000, target: 0.9 },
  { kind: 'ringbuf', size: 16, events: 200_000, target: 0.7 },
  { kind: 'ringbuf', size: 256, events: 200_000, target: 0.7 },
  { kind: 'ringbuf', size: 4096, events: 100_000, target: 0.7 },
];

interface Result {
  received: number;
  lost: number;
  wallNs: number;
  cpuNs: number;
}

/**
 * A round the hypervisor took more than this from the reader's or the producer's CPU (steal time)
 * is measured again, up to ATTEMPTS times (the least stolen one is kept): on this VM a round with
 * 100 ms stolen from the reader lost 86% where the rounds around it lost 20-30%, for every side.
 */
const STEAL_LIMIT_MS = 10;
const ATTEMPTS = 3;

let tick: number | undefined;
/** ms per /proc/stat tick (USER_HZ, 100 unless getconf says otherwise). */
function tickMs(): number {
  if (tick === undefined) {
    let hz = 100;
    try {
      hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'latin1' }).trim()) || 100;
    } catch {
      // no getconf: Linux's USER_HZ is 100
    }
    tick = 1000 / hz;
  }
  return tick;
}

/** Steal time (ms) of `cpus` so far (/proc/stat's 8th value per CPU), or of all CPUs (undefined). */
function stealMs(cpus: readonly number[] | undefined): number {
  const lines = readFileSync('/proc/stat', 'latin1').split('\n');
  const names = cpus === undefined ? ['cpu'] : cpus.map((cpu) => `cpu${cpu}`);
  let ticks = 0;
  for (const line of lines) {
    const fields = line.split(/\s+/);
    if (names.includes(fields[0]!)) ticks += Number(fields[8] ?? 0);
  }
  return ticks * tickMs();
}

/** A side's round, with the steal time it saw and how many times it was measured again. */
interface Measured {
  result: Result;
  stealMs: number;
  again: number;
}

/** Runs `round` until it sees at most STEAL_LIMIT_MS of steal (ATTEMPTS at most; the least stolen kept). */
async function measure(round: () => Result | Promise<Result>, cpus: readonly number[] | undefined): Promise<Measured> {
  let kept: { result: Result; stealMs: number } | undefined;
  let attempt = 0;
  for (; attempt < ATTEMPTS; attempt++) {
    const before = stealMs(cpus);
    const result = await round();
    const steal = stealMs(cpus) - before;
    if (kept === undefined || steal < kept.stealMs) kept = { result, stealMs: steal };
    if (steal <= STEAL_LIMIT_MS) break;
  }
  return { ...kept!, again: Math.min(attempt, ATTEMPTS - 1) };
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

/** bench/c's programs, compiled for the run. */
interface Binaries {
  consumer: string;
  producer: string;
}

function runC(binaries: Binaries, kind: string, size: number, events: number, consumer: 'touch' | 'copy', pin: boolean): Result {
  const cpus = pin ? [String(READER_CPU), String(PRODUCER_CPU)] : [];
  const out = execFileSync(binaries.consumer, [OBJECT, kind, String(size), String(events), String(PERF_PAGES), String(REPEAT), consumer, ...cpus], { encoding: 'latin1' });
  const [received, lost, wallNs, cpuNs] = out.trim().split(/\s+/).map(Number) as [number, number, number, number];
  return { received, lost, wallNs, cpuNs };
}

/** The Node side: ebpf's reader, or (`floor`) the floor reader of bench/events-floor.ts. */
type NodeReader = 'ebpf' | 'floor';

async function runEbpf(binaries: Binaries, kind: 'perf' | 'ringbuf', size: number, events: number, pin: boolean, side: NodeReader = 'ebpf'): Promise<Result> {
  // Pinned first: threads the reader starts (its drain thread, with { thread: true }) inherit the CPU.
  const restore = pin ? pinThread(process.pid, String(READER_CPU)) : undefined; // the main thread's tid is the pid
  try {
    return await readRound(binaries, kind, size, events, pin, side);
  } finally {
    if (restore !== undefined) execFileSync('taskset', ['-p', restore, String(process.pid)], { stdio: 'ignore' });
  }
}

/** ebpf's reader for a round: onBatch's packed form, each record's first byte read in place (as libbpf's callback does). */
function ebpfReader(system: System, kind: 'perf' | 'ringbuf', counts: { received: number; sink: number }): EventReader {
  const reader: EventReader =
    kind === 'perf'
      ? new PerfEvents(system.getMapByName('perf')!).startForAllProcessesAndCPUs(0, { thread: THREAD, pages: PERF_PAGES }) // pages, as the C side gets them
      : new RingBuffer(system.getMapByName('rb')!, { thread: THREAD });
  reader.onBatch((batch) => {
    const { bytes, offsets, count } = batch;
    let sink = counts.sink;
    for (let i = 0; i < count; i++) sink ^= bytes[offsets[i]!]!;
    counts.sink = sink;
    counts.received += count;
  });
  return reader;
}

/** One round of a Node side: a fresh object, reader and producer. */
async function readRound(binaries: Binaries, kind: 'perf' | 'ringbuf', size: number, events: number, pin: boolean, side: NodeReader): Promise<Result> {
  using system = new System().loadElf(OBJECT);
  const program = system.getProgramByName(`${kind}_${size}`)!.load();
  const counts = { received: 0, sink: 0 };
  const reader: EventReader | FloorReader =
    side === 'ebpf'
      ? ebpfReader(system, kind, counts)
      : kind === 'perf'
        ? FloorReader.perfEvents(system.getMapByName('perf') as EbpfMap, PERF_PAGES)
        : FloorReader.ringBuffer(system.getMapByName('rb') as EbpfMap);
  try {
    // The producer gets the program as its fd 3, pins itself, says "ready", starts at the first
    // byte on stdin and says "done" when its runs are over.
    const producer = spawn(binaries.producer, [String(events), String(REPEAT), ...(pin ? [String(PRODUCER_CPU)] : [])], { stdio: ['pipe', 'pipe', 'inherit', program.fd] });
    const { stdin, stdout } = producer;
    if (stdin === null || stdout === null) throw new Error('the producer has no stdin/stdout pipes');
    const exited = new Promise<number | null>((resolve, reject) => producer.once('exit', resolve).once('error', reject));
    const lines = createInterface({ input: stdout })[Symbol.asyncIterator]();
    const expect = async (want: string): Promise<void> => {
      const next = await lines.next();
      if (next.done === true || next.value !== want) throw new Error(`${binaries.producer}: expected "${want}", got ${next.done === true ? `exit ${await exited}` : `"${next.value}"`}`);
    };
    await expect('ready');
    const wall0 = process.hrtime.bigint();
    const cpu0 = threadCpuNs();
    stdin.end('g');
    await expect('done');
    reader.flush();
    const wallNs = Number(process.hrtime.bigint() - wall0);
    const cpuNs = threadCpuNs() - cpu0;
    if ((await exited) !== 0) throw new Error(`${binaries.producer} failed`);
    const bss = system.getMapByName('.bss') as EbpfMap;
    const lost = Number(new DataView(bss.lookup(0).buffer).getBigUint64(8, true));
    if (counts.sink < 0) console.log(counts.sink);
    // The floor counts no records: it received every output that did not fail (all were read by then).
    return { received: side === 'ebpf' ? counts.received : events - lost, lost, wallNs, cpuNs };
  } finally {
    if (reader instanceof FloorReader) reader.close();
    else reader.stop();
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
  stealMs: number;
  again: number;
}

function summarize(rounds: Measured[], events: number): Summary {
  const results = rounds.map((r) => r.result);
  const lost = results.map((r) => (100 * r.lost) / events);
  return {
    rate: median(results.map((r) => r.received / (r.wallNs / 1e9))),
    lost: median(lost),
    lostMin: Math.min(...lost),
    lostMax: Math.max(...lost),
    nsPerEvent: median(results.map((r) => r.cpuNs / Math.max(r.received, 1))),
    stealMs: median(rounds.map((r) => r.stealMs)),
    again: rounds.reduce((sum, r) => sum + r.again, 0),
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
      const binaries: Binaries = { consumer: join(dir, 'ring_consumer'), producer: join(dir, 'test_run_producer') };
      const cc = (out: string, source: string): void => {
        execFileSync(process.env.CC ?? 'cc', ['-std=c11', '-O2', '-o', out, join(root, 'bench', 'c', source), '-lbpf', '-lpthread'], { stdio: 'inherit' });
      };
      cc(binaries.consumer, 'ring_consumer.c');
      cc(binaries.producer, 'test_run_producer.c');
      const pin = canPin();
      const cpus = pin ? [READER_CPU, PRODUCER_CPU] : undefined; // whose steal time decides a re-run
      // EBPF_BENCH_CASES=ringbuf256,perf4096 runs only those cases.
      const only = process.env.EBPF_BENCH_CASES?.split(',');
      console.log(
        `  producer: BPF_PROG_TEST_RUN (repeat ${REPEAT}) in a loop; perf rings ${PERF_PAGES} pages per CPU, ring buffer 256 KB; ` +
          `a warm-up round, then medians of ${ROUNDS} rounds (a round with more than ${STEAL_LIMIT_MS} ms of steal time measured again, ${ATTEMPTS} times at most); ebpf reads on ${THREAD ? 'a drain thread ({ thread: true })' : 'the main thread'}; ${pin ? `reader pinned to CPU ${READER_CPU}, producer to CPU ${PRODUCER_CPU}` : 'not pinned (one CPU, or no taskset)'}`,
      );
      console.log(
        `  ${'case'.padEnd(14)}${'events'.padStart(7)}${'libbpf ev/s'.padStart(12)}${'touch: lost'.padStart(19)}${'copy: lost'.padStart(19)}${'ebpf ev/s'.padStart(10)}${'lost'.padStart(19)}` +
          `${'ratio'.padStart(6)}${'target'.padStart(7)}${'C ns/ev'.padStart(8)}${'copy'.padStart(6)}${'ebpf'.padStart(6)}${'floor: lost'.padStart(19)}`,
      );
      const loss = (s: Summary): string => `${s.lost.toFixed(1)}% (${s.lostMin.toFixed(0)}-${s.lostMax.toFixed(0)})`;
      for (const c of CASES.filter((c) => only === undefined || only.includes(`${c.kind}${c.size}`))) {
        const rounds = { touch: [] as Measured[], copy: [] as Measured[], ebpf: [] as Measured[], floor: [] as Measured[] };
        for (let round = 0; round <= ROUNDS; round++) {
          const touch = await measure(() => runC(binaries, c.kind, c.size, c.events, 'touch', pin), cpus);
          const copy = await measure(() => runC(binaries, c.kind, c.size, c.events, 'copy', pin), cpus);
          const ebpf = await measure(() => runEbpf(binaries, c.kind, c.size, c.events, pin), cpus);
          const floor = await measure(() => runEbpf(binaries, c.kind, c.size, c.events, pin, 'floor'), cpus);
          if (round === 0) continue; // the warm-up round
          rounds.touch.push(touch);
          rounds.copy.push(copy);
          rounds.ebpf.push(ebpf);
          rounds.floor.push(floor);
        }
        const [ts, cs, es, fs] = [summarize(rounds.touch, c.events), summarize(rounds.copy, c.events), summarize(rounds.ebpf, c.events), summarize(rounds.floor, c.events)];
        console.log(
          `  ${`${c.kind} ${c.size} B`.padEnd(14)}${String(c.events).padStart(7)}${ts.rate.toFixed(0).padStart(12)}${loss(ts).padStart(19)}${loss(cs).padStart(19)}${es.rate.toFixed(0).padStart(10)}${loss(es).padStart(19)}` +
            `${(es.rate / ts.rate).toFixed(2).padStart(6)}${`≥${c.target}`.padStart(7)}${ts.nsPerEvent.toFixed(0).padStart(8)}${cs.nsPerEvent.toFixed(0).padStart(6)}${es.nsPerEvent.toFixed(0).padStart(6)}${loss(fs).padStart(19)}`,
        );
        const stolen = (s: Summary): string => `${s.stealMs.toFixed(0)} ms, ${s.again} again`;
        console.log(`  ${''.padEnd(14)}steal (median per kept round; rounds measured again): touch ${stolen(ts)}; copy ${stolen(cs)}; ebpf ${stolen(es)}; floor ${stolen(fs)}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default entry;
