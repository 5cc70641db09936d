// inspect() of each little-endian BTF fixture and the generated large object, next to libbpf's
// bpf_object__open_mem + close on the same bytes (bench/c/open_mem.c, built by `make bench-c`).
// The C program runs beside the bench and the sides alternate short rounds on each object; each
// side keeps its best round. Times are CPU time (user + system) of each process per open, not wall
// time: the machine is shared, and waiting for a core is no part of an open's cost.
// inspect() is timed as users call it (bytes in, ObjectInfo out) and, in a second column, with
// `{ btfExt: true }` (every program's func info, line info and CO-RE records decoded into objects,
// which libbpf's open leaves as raw .BTF.ext). goebpf's legacy `maps` objects and big-endian ones
// are left out: libbpf 1.x refuses them. Targets: ratio ≤ 1.5, wasm/ebpf_core.wasm < 150 KB.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { inspect, type InspectOptions } from '../src/inspect.js';
import type { BenchEntry } from './run.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OBJECTS = ['core_kconfig.o', 'globals.o', 'maps_btf.o', 'sections.o', 'struct_ops.o', 'large.o']
  .map((name) => join(root, 'test/fixtures', name));
const ROUNDS = 100;
const BATCH_BYTES = 1_000_000; // bytes opened per round and side: ~0.5-3 ms rounds whatever the object size
const TARGET = 1.5;

const iterationsFor = (size: number): number => Math.max(5, Math.round(BATCH_BYTES / size));

/** CPU time of this process (user + system) in µs. */
function cpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** CPU µs per inspect() over `iterations` calls. */
function timeInspect(bytes: Uint8Array, iterations: number, options: InspectOptions): number {
  const start = cpuUs();
  for (let i = 0; i < iterations; i++) inspect(bytes, options);
  return (cpuUs() - start) / iterations;
}

/** bench/c/open_mem, started once with every object; `run` times one round of one object. */
interface Libbpf {
  /** Per object (OBJECTS order): undefined when libbpf opens it, else why not. */
  errors: (string | undefined)[];
  run(index: number, iterations: number): Promise<number>;
  stop(): void;
}

async function startLibbpf(): Promise<Libbpf | string> {
  const make = spawnSync('make', ['-s', '-C', root, 'bench-c'], { encoding: 'utf8' });
  if (make.status !== 0) return `make bench-c failed: ${make.stderr.trim()}`;
  const child = spawn(join(root, 'build/bench/open_mem'), OBJECTS, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (what: string): Promise<string> => {
    const line = await lines.next();
    if (line.done) throw new Error(`bench/c/open_mem exited (status ${child.exitCode}) during ${what}`);
    return line.value;
  };
  const errors: (string | undefined)[] = [];
  for (const file of OBJECTS) {
    const status = JSON.parse(await next(`the check of ${basename(file)}`)) as { ok?: boolean; error?: string };
    errors.push(status.ok ? undefined : status.error ?? 'no result');
  }
  return {
    errors,
    async run(index, iterations) {
      child.stdin.write(`${index} ${iterations}\n`);
      const answer = await next(`a round of ${basename(OBJECTS[index]!)}`);
      const us = Number(answer);
      if (!Number.isFinite(us)) throw new Error(`bench/c/open_mem answered "${answer}"`);
      return us;
    },
    stop() {
      child.stdin.end();
    },
  };
}

const entry: BenchEntry = {
  name: 'inspect() vs libbpf bpf_object__open_mem',
  async run(): Promise<void> {
    const wasmBytes = statSync(join(root, 'wasm/ebpf_core.wasm')).size;
    console.log(`wasm/ebpf_core.wasm: ${(wasmBytes / 1024).toFixed(1)} KB (target < 150 KB)`);
    console.log(`  CPU µs per open, best of ${ROUNDS} alternating rounds; ratio = ebpf / libbpf (target <= ${TARGET})`);
    console.log(['  object'.padEnd(18), 'bytes'.padStart(8), 'ebpf µs'.padStart(9), 'libbpf µs'.padStart(10), 'ratio'.padStart(6),
      '+btfExt µs'.padStart(11), 'ratio'.padStart(6)].join(' '));
    const libbpf = await startLibbpf();
    try {
      for (const [index, file] of OBJECTS.entries()) {
        const bytes = new Uint8Array(readFileSync(file));
        const iterations = iterationsFor(bytes.length);
        const cells = [`  ${basename(file)}`.padEnd(18), String(bytes.length).padStart(8)];
        const error = typeof libbpf === 'string' ? libbpf : libbpf.errors[index];
        if (typeof libbpf === 'string' || error !== undefined) {
          cells.push(`${timeInspect(bytes, iterations, {}).toFixed(1).padStart(9)}  libbpf: ${error}`);
          console.log(cells.join(' '));
          continue;
        }
        await libbpf.run(index, iterations); // warm-up: libbpf's caches
        // Two phases, each alternating with libbpf: the garbage of { btfExt: true } rounds (line
        // info objects) would otherwise be collected during the plain rounds and billed to them.
        let theirs = Infinity;
        const best = async (options: InspectOptions): Promise<number> => {
          timeInspect(bytes, iterations, options); // warm-up: JIT tiers of the TypeScript and the WASM
          let ours = Infinity;
          for (let round = 0; round < ROUNDS; round++) {
            ours = Math.min(ours, timeInspect(bytes, iterations, options));
            theirs = Math.min(theirs, await libbpf.run(index, iterations));
          }
          return ours;
        };
        const ours = await best({});
        const withExt = await best({ btfExt: true });
        const ratio = ours / theirs;
        cells.push(ours.toFixed(1).padStart(9), theirs.toFixed(1).padStart(10), ratio.toFixed(2).padStart(6),
          withExt.toFixed(1).padStart(11), (withExt / theirs).toFixed(2).padStart(6));
        if (ratio > TARGET) cells.push(' ABOVE TARGET');
        console.log(cells.join(' '));
      }
    } finally {
      if (typeof libbpf !== 'string') libbpf.stop();
    }
  },
};

export default entry;
