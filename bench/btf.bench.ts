// The kernel's BTF (/sys/kernel/btf/vmlinux, ~5.5 MB, ~126k types) read and made searchable, next to
// libbpf's btf__load_vmlinux_btf and btf__find_by_name_kind (bench/c/vmlinux_btf.c, built by
// `make bench-c`) in the same run, alternating rounds; wall time, best round of each side.
// - load: openBtfFile (read straight into WASM memory, one pass over the types) + find('task_struct')
//   against btf__load_vmlinux_btf. Target: ratio <= 2.
// - first use: the same in a fresh Node process, WebAssembly compile included (module imports and
//   the native addon's load shown apart: System has loaded it by then). Target: < 30 ms.
// - find: per lookup of a struct by name once the name index is built, against
//   btf__find_by_name_kind (a linear scan: its cost grows with the type's id). Target: ratio <= 2.
// - CO-RE: ebpf_object_core_relocate of test/fixtures/core_relos.o against the kernel's BTF (warm).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CoreObject } from '../src/elf/open.js';
import { openBtfFile, VMLINUX_BTF } from '../src/program/kernel-btf.js';
import type { BenchEntry } from './run.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ROUNDS = 15;
const LOADS_PER_ROUND = 3;
const FRESH_PROCESSES = 7;
const LOOKUPS = 200_000;
const NAMES = ['task_struct', 'sk_buff', 'bpf_map_ops'];

interface Libbpf {
  ask(line: string): Promise<string>;
  stop(): void;
}

async function startLibbpf(): Promise<Libbpf | string> {
  const make = spawnSync('make', ['-s', '-C', root, 'build/bench/vmlinux_btf'], { encoding: 'utf8' });
  if (make.status !== 0) return `make bench-c failed: ${make.stderr.trim()}`;
  const child = spawn(join(root, 'build/bench/vmlinux_btf'), [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async ask(line) {
      child.stdin.write(`${line}\n`);
      const answer = await lines.next();
      if (answer.done || answer.value === 'error') throw new Error(`bench/c/vmlinux_btf failed on "${line}"`);
      return answer.value;
    },
    stop() {
      child.stdin.end();
    },
  };
}

/** Best wall ms of `n` open + find. */
function bestLoad(n: number): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const btf = openBtfFile(VMLINUX_BTF);
    btf.find('task_struct', 'struct');
    best = Math.min(best, performance.now() - start);
    btf.close();
  }
  return best;
}

const FRESH = `
const t0 = performance.now();
const { openBtfFile } = await import(${JSON.stringify(join(root, 'dist/src/program/kernel-btf.js'))});
(await import(${JSON.stringify(join(root, 'dist/src/sys/native.js'))})).nativeUnavailableReason(); // as System has, by then
const t1 = performance.now(), c1 = process.cpuUsage();
const id = openBtfFile('/sys/kernel/btf/vmlinux').find('task_struct', 'struct');
const t2 = performance.now(), c2 = process.cpuUsage(c1);
console.log(JSON.stringify({ imports: t1 - t0, firstUse: t2 - t1, cpu: (c2.user + c2.system) / 1000, id }));`;

/** The same for CO-RE: the kernel's BTF read, its name index built, core_relos.o relocated. */
const FRESH_CORE = `
const t0 = performance.now();
const { openBtfFile } = await import(${JSON.stringify(join(root, 'dist/src/program/kernel-btf.js'))});
const { CoreObject } = await import(${JSON.stringify(join(root, 'dist/src/elf/open.js'))});
(await import(${JSON.stringify(join(root, 'dist/src/sys/native.js'))})).nativeUnavailableReason();
const { readFileSync } = await import('node:fs');
const bytes = readFileSync(${JSON.stringify(join(root, 'test/fixtures/core_relos.o'))});
const t1 = performance.now(), c1 = process.cpuUsage();
const n = CoreObject.open(bytes).coreRelocate(openBtfFile('/sys/kernel/btf/vmlinux')).length;
const t2 = performance.now(), c2 = process.cpuUsage(c1);
console.log(JSON.stringify({ imports: t1 - t0, firstUse: t2 - t1, cpu: (c2.user + c2.system) / 1000, n }));`;

interface Fresh { imports: number; firstUse: number; cpu: number }

function freshProcess(script = FRESH): Fresh {
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`fresh process failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as Fresh;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ratioCell = (ours: number, theirs: number, target: number): string =>
  `${(ours / theirs).toFixed(2)}${ours / theirs > target ? '  ABOVE TARGET' : ''}`;

const entry: BenchEntry = {
  name: "the kernel's BTF vs libbpf btf__load_vmlinux_btf / btf__find_by_name_kind",
  async run(): Promise<void> {
    if (!existsSync(VMLINUX_BTF)) {
      console.log(`  skipped: ${VMLINUX_BTF} does not exist`);
      return;
    }
    const libbpf = await startLibbpf();
    if (typeof libbpf === 'string') console.log(`  libbpf side skipped: ${libbpf}`);
    try {
      bestLoad(2); // warm-up: JIT tiers of the TypeScript and the WASM
      let ours = Infinity, theirs = Infinity;
      for (let round = 0; round < ROUNDS; round++) {
        ours = Math.min(ours, bestLoad(LOADS_PER_ROUND));
        if (typeof libbpf !== 'string') theirs = Math.min(theirs, Number(await libbpf.ask(`load ${LOADS_PER_ROUND}`)));
      }
      console.log(`  load + find(task_struct), best of ${ROUNDS * LOADS_PER_ROUND}: ebpf ${ours.toFixed(2)} ms, libbpf btf__load_vmlinux_btf ${theirs.toFixed(2)} ms, ratio ${ratioCell(ours, theirs, 2)}`);

      const fresh = Array.from({ length: FRESH_PROCESSES }, () => freshProcess());
      const firstUse = fresh.map((f) => f.firstUse);
      const verdict = median(firstUse) < 30 ? '' : '  ABOVE TARGET';
      console.log(`  first use in a fresh process (WASM compile + read + find), ${FRESH_PROCESSES} processes: median ${median(firstUse).toFixed(1)} ms, best ${Math.min(...firstUse).toFixed(1)} ms (target < 30 ms; CPU median ${median(fresh.map((f) => f.cpu)).toFixed(1)} ms, V8's compile threads included; module imports apart: median ${median(fresh.map((f) => f.imports)).toFixed(1)} ms)${verdict}`);

      const freshCore = Array.from({ length: FRESH_PROCESSES }, () => freshProcess(FRESH_CORE)).map((f) => f.firstUse);
      console.log(`  first CO-RE in a fresh process (read + name index + core_relos.o relocated): median ${median(freshCore).toFixed(1)} ms, best ${Math.min(...freshCore).toFixed(1)} ms`);

      const btf = openBtfFile(VMLINUX_BTF);
      for (let i = 0; i < 16; i++) btf.find('task_struct', 'struct'); // past the linear first finds: the index is built
      for (const name of NAMES) {
        let best = Infinity;
        for (let round = 0; round < 5; round++) {
          const start = performance.now();
          for (let i = 0; i < LOOKUPS; i++) btf.find(name, 'struct');
          best = Math.min(best, ((performance.now() - start) * 1000) / LOOKUPS);
        }
        let c = NaN;
        if (typeof libbpf !== 'string') c = Number((await libbpf.ask(`find ${name} 4 ${name === 'task_struct' ? LOOKUPS : 20_000}`)).split(' ')[0]);
        console.log(`  find(${name}) [${btf.find(name, 'struct')}]: ebpf ${best.toFixed(3)} µs, libbpf ${c.toFixed(3)} µs, ratio ${ratioCell(best, c, 2)}`);
      }

      const object = CoreObject.open(readFileSync(join(root, 'test/fixtures/core_relos.o')));
      let relocated = 0, best = Infinity;
      for (let round = 0; round < 20; round++) {
        const start = performance.now();
        relocated = object.coreRelocate(btf).length;
        best = Math.min(best, performance.now() - start);
      }
      console.log(`  CO-RE: ${relocated} relocations of core_relos.o against the kernel's BTF: ${(best * 1000).toFixed(0)} µs (warm, best of 20)`);
      object.close();
      btf.close();
    } finally {
      if (typeof libbpf !== 'string') libbpf.stop();
    }
  },
};

export default entry;
