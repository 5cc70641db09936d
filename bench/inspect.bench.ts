// inspect() of each little-endian BTF fixture and the generated large object, next to libbpf's
// bpf_object__open_mem + close on the same bytes (bench/c/open_mem.c, built by `make bench-c`),
// both timed in this run as the median of batches. goebpf's legacy `maps` objects and big-endian
// ones are left out: libbpf 1.x refuses them. Targets: ratio ≤ 1.5, wasm/ebpf_core.wasm < 150 KB.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from '../src/inspect.js';
import type { BenchEntry } from './run.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OBJECTS = ['core_kconfig.o', 'globals.o', 'maps_btf.o', 'sections.o', 'struct_ops.o', 'large.o']
  .map((name) => join(root, 'test/fixtures', name));
const SAMPLES = 31;
const BATCH_BYTES = 4_000_000; // bytes opened per batch: ~1-10 ms batches whatever the object size

const iterationsFor = (size: number): number => Math.max(5, Math.round(BATCH_BYTES / size));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

function timeInspect(bytes: Uint8Array, iterations: number): number {
  for (let i = 0; i < iterations; i++) inspect(bytes); // warm-up: JIT and WASM memory growth
  const batches: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) inspect(bytes);
    batches.push(Number(process.hrtime.bigint() - start) / 1000 / iterations);
  }
  return median(batches);
}

type Baseline = { us: number } | { error: string };

function timeLibbpf(file: string, iterations: number): Baseline {
  const make = spawnSync('make', ['-s', '-C', root, 'bench-c'], { encoding: 'utf8' });
  if (make.status !== 0) return { error: `make bench-c failed: ${make.stderr.trim()}` };
  const run = spawnSync(join(root, 'build/bench/open_mem'), [String(iterations), String(SAMPLES), file], { encoding: 'utf8' });
  if (run.status !== 0) return { error: `open_mem failed: ${run.stderr.trim()}` };
  const line = JSON.parse(run.stdout.trim()) as { us?: number; error?: string };
  return line.us !== undefined ? { us: line.us } : { error: line.error ?? 'no result' };
}

const entry: BenchEntry = {
  name: 'inspect() vs libbpf bpf_object__open_mem',
  async run(): Promise<void> {
    const wasmBytes = statSync(join(root, 'wasm/ebpf_core.wasm')).size;
    console.log(`wasm/ebpf_core.wasm: ${(wasmBytes / 1024).toFixed(1)} KB (target < 150 KB)`);
    console.log(`median of ${SAMPLES} batches per object; ratio = ebpf / libbpf (target <= 1.5)`);
    console.log(['object'.padEnd(16), 'bytes'.padStart(8), 'ebpf µs'.padStart(10), 'libbpf µs'.padStart(10), 'ratio'.padStart(7)].join(' '));
    for (const file of OBJECTS) {
      const bytes = new Uint8Array(readFileSync(file));
      const iterations = iterationsFor(bytes.length);
      const ours = timeInspect(bytes, iterations);
      const theirs = timeLibbpf(file, iterations);
      const cells = [basename(file).padEnd(16), String(bytes.length).padStart(8), ours.toFixed(1).padStart(10)];
      if ('us' in theirs) cells.push(theirs.us.toFixed(1).padStart(10), (ours / theirs.us).toFixed(2).padStart(7));
      else cells.push(`libbpf: ${theirs.error}`);
      console.log(cells.join(' '));
    }
  },
};

export default entry;
