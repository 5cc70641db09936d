// `ebpf/mock` needs neither the addon nor any module on the kernel path: imported by its package name
// from a copy of the package without build/ and without the kernel-side modules, it loads a real
// object into a MockSystem and runs a program's stand-in against the object's maps.
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { importGraph } from '../support/import-graph.js';
import { runInPackageCopy } from '../support/package-copy.js';

const distSrc = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** The modules that make kernel calls or load the addon: deleted from the copy, so importing any fails. */
const KERNEL_PATH = [
  'dist/src/index.js', 'dist/src/sys/native.js', 'dist/src/sys/bpf.js', 'dist/src/map/map.js',
  'dist/src/program/program.js', 'dist/src/program/system.js', 'dist/src/program/info.js', 'dist/src/program/object-program.js',
];

const probe = `
import { MockSystem, MapType, SyscallError } from 'ebpf/mock';
const system = new MockSystem({ possibleCpus: 2 }).loadElf('test/fixtures/xdp_goebpf.o');
const drops = system.getMapByName('drops');
const program = system.getProgramByName('xdp_drop').load();
program.run = () => { drops.upsert(0, [drops.lookupPerCpu(0)[0][0] + 1, 0]); return 1; };
const retval = program.testRun({ data: new Uint8Array(64), repeat: 5 }).retval;
let code;
try { drops.delete(0); } catch (e) { code = e instanceof SyscallError ? e.code : String(e); }
console.log(JSON.stringify({
  maps: [...system.getMaps()].map(([name, m]) => [name, MapType[m.type], m.keySize, m.valueSize, m.maxEntries]),
  programs: [...system.getPrograms().keys()],
  retval, drops: drops.lookupInt(0), code,
}));
system.close();
`;

test('ebpf/mock works without the addon and without the kernel-side modules', () => {
  const out = JSON.parse(runInPackageCopy(probe, { remove: KERNEL_PATH })) as Record<string, unknown>;
  assert.equal(out.maps, [
    ['drops', 'PerCPUArray', 4, 8, 1],
    ['inner', 'Array', 4, 4, 4],
    ['outer', 'ArrayOfMaps', 4, 4, 8],
    ['pinned_counts', 'Hash', 4, 8, 1024],
    ['events', 'PerfEventArray', 4, 4, 64],
    ['.rodata.str1.1', 'Array', 4, 34, 1],
  ]);
  assert.equal(out.programs, ['xdp_drop', 'socket_count', 'kprobe_execve', 'kretprobe_execve', 'tc_mark', 'tp_exec']);
  assert.equal([out.retval, out.drops, out.code], [1, 5, 'EINVAL']);
});

test('the compiled ebpf/mock reaches no kernel-side module, no addon and no package but node: built-ins', () => {
  const graph = importGraph(resolve(distSrc, 'mock', 'index.js'));
  assert.ok(graph.size >= 10, `only ${graph.size} modules found: is the import scan broken?`);
  const reached = [...graph.keys()].map((file) => `dist/src/${relative(distSrc, file)}`);
  for (const file of KERNEL_PATH) assert.not.ok(reached.includes(file), `ebpf/mock reaches ${file}`);
  for (const [file, specs] of graph) {
    for (const s of specs) {
      assert.ok(s.startsWith('./') || s.startsWith('../') || s.startsWith('node:'), `${file} imports ${s}`);
      assert.not.match(s, /\.node$|bridge|native/, `${file} imports ${s}`);
    }
  }
});

test.run();
