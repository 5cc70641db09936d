// Opening and loading whole objects: System.loadElf + every program's load() + close, next to
// libbpf's bpf_object__open_file + bpf_object__load + bpf_object__close on the same file
// (bench/c/load_object.c, linked with Debian's -lbpf), in one run. Objects: maps_btf.o (10 BTF maps
// of 8 kinds, maps of maps, a map pinned by name, 5 programs), globals.o (.data/.rodata/.bss,
// bpf-to-bpf calls, 2 programs) and the generated large.o (200 programs, 50 maps, shared
// subprograms), where the kernel's verifier and JIT weigh most. Pinned maps go to a private bpffs,
// reused after the first load by both sides. The C program runs beside the bench and the sides
// alternate rounds after a warm-up; each keeps its best round, for each measure.
//
// Two measures per load. Wall time is the time a load takes, what the target (<= 1.2) is
// about: user space, the kernel's verifier and JIT, and whatever the kernel waits for. CPU time
// (user + system of the loading process) leaves the waits out and shows what each loader's own work
// costs. They part on maps_btf.o, whose kernel work is light (10 small maps, 5 short programs):
// there ebpf's user space (ELF parsing in WASM, the object's description as JS objects, one
// Node-API call per syscall) weighs, and its CPU time is ~1.7x libbpf's (the same with its slot fill
// taken out of the object); but it puts a map in a map-of-maps slot, as libbpf does, and the kernel
// then waits for an RCU grace period (synchronize_rcu in maybe_wait_bpf_programs, ~10 ms asleep on
// both sides), which dominates its wall time. Where the verifier works (large.o) the two measures
// agree. Both sides warm up for 1.5 s; ebpf's then goes on to 2000 loads (at most 15 s): V8 keeps
// optimizing the load path for that long (--trace-opt on maps_btf.o without its slot fill: 33
// functions optimized in the first 250 loads, 8 in loads 500-750, 3-4 per 250 loads up to 1500),
// and its background compiles would otherwise land in the timed rounds.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { System } from '../src/program/system.js';
import { nativeUnavailableReason } from '../src/sys/native.js';
import type { BenchEntry } from './run.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OBJECTS: Array<{ name: string; iterations: number; note?: string }> = [
  { name: 'maps_btf.o', iterations: 20, note: 'light kernel work, so user space weighs in CPU time; its map-of-maps slot fill makes the kernel sleep ~10 ms per load on both sides (wall time)' },
  { name: 'globals.o', iterations: 30 },
  { name: 'large.o', iterations: 2 },
];
const ROUNDS = 15;
/** Warm-up per object and side before the timed rounds: at least this long... */
const WARM_UP_MS = 1500;
/** ...and for ebpf, until this many loads (V8 optimizes the load path over ~2000) or WARM_UP_MAX_MS. */
const EBPF_WARM_UP_LOADS = 2000;
const WARM_UP_MAX_MS = 15_000;
const TARGET = 1.2;

/** Nanoseconds per open + load + close. */
interface Times {
  cpu: number;
  wall: number;
}

/** One side: runs `iterations` open + load + close. */
type Runner = (iterations: number) => Promise<Times> | Times;

function cpuNs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

/** Compiles bench/c/load_object.c and starts it on `file`; rejects with libbpf's error if it cannot load it. */
async function startLibbpf(dir: string, file: string, pinRoot: string): Promise<{ run: Runner; stop(): void }> {
  const binary = join(dir, 'load_object');
  execFileSync(process.env.CC ?? 'cc', ['-O2', '-o', binary, join(root, 'bench/c/load_object.c'), '-lbpf'], { stdio: 'inherit' });
  const child = spawn(binary, [file, pinRoot], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const line = await lines.next();
    if (line.done) throw new Error(`bench/c/load_object exited (status ${child.exitCode})`);
    return line.value;
  };
  const first = await next();
  if (first !== 'ok') {
    child.stdin.end();
    throw new Error(`libbpf: ${first}`);
  }
  return {
    async run(iterations) {
      child.stdin.write(`${iterations}\n`);
      const answer = await next();
      const numbers = /^(\d+) (\d+)$/.exec(answer);
      if (!numbers) throw new Error(`libbpf: ${answer}`);
      return { cpu: Number(numbers[1]), wall: Number(numbers[2]) };
    },
    stop() {
      child.stdin.end();
    },
  };
}

/** Loads the object and all its programs through a System, then closes everything. */
function loadWithSystem(file: string, pinRoot: string): void {
  using system = new System().loadElf(file, { pinRoot });
  for (const program of system.getPrograms().values()) program.load();
}

function startEbpf(file: string, pinRoot: string): { run: Runner } {
  loadWithSystem(file, pinRoot); // fails here, before any timing, if ebpf cannot load the object
  return {
    run(iterations) {
      const cpuStart = cpuNs();
      const wallStart = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) loadWithSystem(file, pinRoot);
      return { cpu: (cpuNs() - cpuStart) / iterations, wall: Number(process.hrtime.bigint() - wallStart) / iterations };
    },
  };
}

/** Runs fn with a private bpffs on a temp dir (for LIBBPF_PIN_BY_NAME maps), removed afterwards. */
async function withPinRoot<R>(fn: (dir: string, pinRoot: string) => Promise<R>): Promise<R> {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-load-bench-'));
  const pinRoot = join(dir, 'bpffs');
  try {
    execFileSync('mkdir', [pinRoot]);
    execFileSync('mount', ['-t', 'bpf', 'bpf', pinRoot]);
    try {
      return await fn(dir, pinRoot);
    } finally {
      execFileSync('umount', ['-l', pinRoot]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const us = (ns: number): string => (ns / 1000).toFixed(0);

const entry: BenchEntry = {
  name: `load: System.loadElf + program.load() vs libbpf bpf_object__open_file + __load; best of ${ROUNDS} alternating rounds`,
  async run() {
    const why = nativeUnavailableReason();
    if (why !== undefined || process.getuid?.() !== 0) {
      console.log(`  skipped: ${why ?? 'needs root for bpf()'}`);
      return;
    }
    console.log(`µs per open + load + close; ratio = ebpf / libbpf; target: wall-time ratio <= ${TARGET}`);
    console.log(['object'.padEnd(12), 'wall: ebpf'.padStart(10), 'libbpf'.padStart(8), 'ratio'.padStart(6), ' |', 'CPU: ebpf'.padStart(10), 'libbpf'.padStart(8), 'ratio'.padStart(6)].join(' '));
    const notes: string[] = [];
    for (const { name, iterations, note } of OBJECTS) {
      const file = join(root, 'test/fixtures', name);
      await withPinRoot(async (dir, pinRoot) => {
        let ebpf: { run: Runner } | undefined;
        let ebpfError = '';
        try {
          ebpf = startEbpf(file, pinRoot);
        } catch (e) {
          ebpfError = (e as Error).message;
        }
        let libbpf: { run: Runner; stop(): void };
        try {
          libbpf = await startLibbpf(dir, file, pinRoot);
        } catch (e) {
          console.log(`${name.padEnd(12)} ${(e as Error).message}`);
          return;
        }
        try {
          for (const side of [ebpf, libbpf]) {
            if (!side) continue;
            const start = Date.now();
            const loads = side === ebpf ? EBPF_WARM_UP_LOADS : 0;
            for (let done = 0; Date.now() - start < WARM_UP_MS || (done < loads && Date.now() - start < WARM_UP_MAX_MS); done += iterations) await side.run(iterations);
          }
          const best = (side: { run: Runner } | undefined, all: Times[]): Times | undefined => side && {
            cpu: Math.min(...all.map((t) => t.cpu)),
            wall: Math.min(...all.map((t) => t.wall)),
          };
          const ours: Times[] = [];
          const theirs: Times[] = [];
          for (let round = 0; round < ROUNDS; round++) {
            if (ebpf) ours.push(await ebpf.run(iterations));
            theirs.push(await libbpf.run(iterations));
          }
          const a = best(ebpf, ours), b = best(libbpf, theirs)!;
          if (a === undefined) {
            console.log([name.padEnd(12), '-'.padStart(10), us(b.wall).padStart(8), '-'.padStart(6), ' |', '-'.padStart(10), us(b.cpu).padStart(8), '-'.padStart(6), ` ebpf cannot load it: ${ebpfError}`].join(' '));
            return;
          }
          const wallRatio = a.wall / b.wall, cpuRatio = a.cpu / b.cpu;
          const verdict = wallRatio <= TARGET ? '' : ` wall time above the ${TARGET} target`;
          console.log([name.padEnd(12), us(a.wall).padStart(10), us(b.wall).padStart(8), wallRatio.toFixed(2).padStart(6), ' |',
            us(a.cpu).padStart(10), us(b.cpu).padStart(8), cpuRatio.toFixed(2).padStart(6)].join(' ') + verdict);
          if (note !== undefined) notes.push(`${name}: ${note}`);
        } finally {
          libbpf.stop();
        }
      });
    }
    for (const note of notes) console.log(`  ${note}`);
  },
};

export default entry;
