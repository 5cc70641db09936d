// Opening and loading whole objects: System.loadElf + every program's load() + close, next to
// libbpf's bpf_object__open_file + bpf_object__load + bpf_object__close on the same file
// (bench/c/load_object.c, linked with Debian's -lbpf), in one run. Objects: maps_btf.o (10 BTF maps
// of 8 kinds, maps of maps, a map pinned by name, 5 programs), globals.o (.data/.rodata/.bss,
// bpf-to-bpf calls, 2 programs) and the generated large.o (200 programs, 50 maps, shared
// subprograms), where the kernel's verifier and JIT weigh most. Pinned maps go to a private bpffs,
// reused after the first load by both sides. The C program runs beside the bench and the sides
// alternate rounds after a warm-up; each keeps its best round. Times are CPU time (user + system: the kernel's
// verifier runs in the loading process), not wall time, since the machine is shared.
// Ratio = ebpf / libbpf; target <= 1.2. maps_btf.o puts a map in a map-of-maps slot, as libbpf
// does: the kernel then waits for an RCU grace period (synchronize_rcu in maybe_wait_bpf_programs,
// ~8-14 ms asleep, on both sides). Any such sleep costs CPU afterwards (cold caches; measured with a
// plain 10 ms sleep in its place: ebpf ~500 -> ~1400 µs, and libbpf's globals.o ~250 -> ~600 µs with
// one before its close), and ebpf does more user-space work after it than libbpf, so that row's
// ratio is mostly this effect; the output says so. The warm-up is by time and by count: at ~14 ms of
// wall time per load, 1.5 s is ~100 loads, before V8 has optimized the load path.
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
const OBJECTS = [
  { name: 'maps_btf.o', iterations: 20, note: 'fills a map-of-maps slot: both sides sleep in synchronize_rcu per load and run colder after it' },
  { name: 'globals.o', iterations: 30 },
  { name: 'large.o', iterations: 2 },
];
const ROUNDS = 15;
/** Warm-up per object and side before the timed rounds (both bounds): V8 optimizes the load path after some hundred loads. */
const WARM_UP_MS = 1500;
const WARM_UP_LOADS = 400;
const TARGET = 1.2;

/** One side: runs `iterations` open + load + close, returns CPU ns per iteration. */
type Runner = (iterations: number) => Promise<number> | number;

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
      if (!/^\d+$/.test(answer)) throw new Error(`libbpf: ${answer}`);
      return Number(answer);
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
      const start = cpuNs();
      for (let i = 0; i < iterations; i++) loadWithSystem(file, pinRoot);
      return (cpuNs() - start) / iterations;
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

const entry: BenchEntry = {
  name: `load: System.loadElf + program.load() vs libbpf bpf_object__open_file + __load; best of ${ROUNDS} alternating rounds`,
  async run() {
    const why = nativeUnavailableReason();
    if (why !== undefined || process.getuid?.() !== 0) {
      console.log(`  skipped: ${why ?? 'needs root for bpf()'}`);
      return;
    }
    console.log(`CPU µs per open + load + close; ratio = ebpf / libbpf (target <= ${TARGET})`);
    console.log(['object'.padEnd(12), 'ebpf µs'.padStart(10), 'libbpf µs'.padStart(10), 'ratio'.padStart(7)].join(' '));
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
            const until = Date.now() + WARM_UP_MS;
            for (let loads = 0; loads < WARM_UP_LOADS || Date.now() < until; loads += iterations) await side.run(iterations);
          }
          let ours = Infinity;
          let theirs = Infinity;
          for (let round = 0; round < ROUNDS; round++) {
            if (ebpf) ours = Math.min(ours, await ebpf.run(iterations));
            theirs = Math.min(theirs, await libbpf.run(iterations));
          }
          const libbpfUs = (theirs / 1000).toFixed(0).padStart(10);
          if (!ebpf) {
            console.log([name.padEnd(12), '-'.padStart(10), libbpfUs, '-'.padStart(7), ` ebpf cannot load it: ${ebpfError}`].join(' '));
            return;
          }
          const ratio = ours / theirs;
          console.log([name.padEnd(12), (ours / 1000).toFixed(0).padStart(10), libbpfUs, ratio.toFixed(2).padStart(7),
            ratio <= TARGET ? '' : ` above the ${TARGET} target`].join(' ') + (note === undefined ? '' : ` (${note})`));
        } finally {
          libbpf.stop();
        }
      });
    }
  },
};

export default entry;
