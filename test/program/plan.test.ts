// The pure plan of a load (planLoad, in ebpf/inspect): what System and MockSystem then create, with
// every check that needs no kernel done before anything is made. Runs anywhere.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inspect, planLoad, type PlanTarget } from '../../src/inspect.js';
import { MockMap } from '../../src/mock/index.js';
import { MapType } from '../../src/sys/generated.js';

const fixture = (name: string): Uint8Array => readFileSync(fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url)));
const target = (over: Partial<PlanTarget> = {}): PlanTarget => ({ pageSize: () => 4096, possibleCpus: () => 2, hasMap: () => false, hasProgram: () => false, ...over });

test('xdp_goebpf.o: maps with sizes, pin paths and initial data; programs with their types; nothing made', () => {
  const bytes = fixture('xdp_goebpf.o');
  const plan = planLoad(bytes, inspect(bytes), { maps: { pinned_counts: { persistentPath: '/tmp/x/counts' } } }, target());
  const byName = new Map(plan.maps.map((m) => [m.elf.name, m]));
  assert.equal([...byName.keys()].sort(), ['.rodata.str1.1', 'drops', 'events', 'inner', 'outer', 'pinned_counts']);
  assert.is(byName.get('drops')!.spec.type, MapType.PerCPUArray);
  assert.is(byName.get('pinned_counts')!.spec.persistentPath, '/tmp/x/counts');
  const inner = byName.get('outer')!.spec.innerMap as { type: MapType; persistentPath?: string };
  assert.is(inner.type, MapType.Array, 'the inner template rides along, unpinned');
  assert.is(inner.persistentPath, undefined);
  const rodata = byName.get('.rodata.str1.1')!;
  assert.ok(rodata.freeze && rodata.initial !== null);
  assert.equal(plan.programs.map((p) => p.name), ['xdp_drop', 'socket_count', 'kprobe_execve', 'kretprobe_execve', 'tc_mark', 'tp_exec']);
  assert.ok(plan.programs.every((p) => p.unloadable === undefined && p.instructions.byteLength > 0));
  assert.equal(plan.warnings, []);
});

test('every check runs before anything is made: taken names, a misnamed option, a replacement of another shape', () => {
  const bytes = fixture('xdp_goebpf.o');
  const object = inspect(bytes);
  assert.throws(() => planLoad(bytes, object, {}, target({ hasMap: (n) => n === 'drops' })), /map 'drops' is already in this System/);
  assert.throws(() => planLoad(bytes, object, {}, target({ hasProgram: (n) => n === 'tc_mark' })), /program 'tc_mark' \(section 'tc'\) is already in this System/);
  assert.throws(() => planLoad(bytes, object, { maps: { nope: { maxEntries: 2 } } }, target()), /^map 'nope': options.maps names no map of the object \(its maps: /);
  const wrong = MockMap.create({ type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 1 });
  assert.throws(() => planLoad(bytes, object, { maps: { drops: { replaceWith: wrong } } }, target()), /the map given to replace it is/);
});

test('.kconfig: made where the target can read the kernel config, else left out with a warning', () => {
  const bytes = fixture('core_kconfig.o');
  const object = inspect(bytes);
  const without = planLoad(bytes, object, {}, target());
  assert.ok(without.warnings.some((w) => /\.kconfig.* is not created/.test(w)));
  const withKconfig = planLoad(bytes, object, {}, target({ kconfig: (size) => new Uint8Array(size).fill(1) }));
  const kconfig = withKconfig.maps.find((m) => m.elf.origin === 'kconfig')!;
  assert.ok(kconfig.freeze);
  assert.ok(kconfig.initial!.every((b) => b === 1));
});

test.run();
