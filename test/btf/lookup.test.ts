// BtfLookup: a raw BTF held open in the core and searched by name and kind through its name index
// (several types sharing a name, every kind), on built BTF in both byte orders and on the kernel's.
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BtfLookup } from '../../src/btf/index.js';
import { ElfError } from '../../src/elf/errors.js';
import { BtfBuilder } from './btf-builder.js';

function sample(): { b: BtfBuilder; ids: Record<string, number> } {
  const b = new BtfBuilder();
  const int = b.int('int', 4, 32, 1);
  const task = b.struct('task', 8, [{ name: 'pid', type: int }]);
  const taskFwd = b.fwd('task');
  const proto = b.funcProto(int, [['a', int], ['b', int]]);
  const func = b.func('task', proto); // a function named like the struct
  const later = b.func('other', proto);
  const again = b.func('other', proto); // the same name and kind twice: the lowest id wins
  const td = b.typedef('btf_trace_task', b.ptr(func));
  const v = b.var('task_count', int);
  return { b, ids: { int, task, taskFwd, proto, func, later, again, td, v } };
}

for (const bigEndian of [false, true]) {
  test(`${bigEndian ? 'big' : 'little'}-endian BTF: find by name and kind, type heads`, () => {
    const { b, ids } = sample();
    using btf = BtfLookup.open(b.build(bigEndian));
    assert.is(btf.typeCount, b.types.length + 1);
    assert.is(btf.find('task', 'struct'), ids.task);
    assert.is(btf.find('task', 'fwd'), ids.taskFwd);
    assert.is(btf.find('task', 'func'), ids.func);
    assert.is(btf.find('other', 'func'), ids.later);
    assert.is(btf.find('btf_trace_task', 'typedef'), ids.td);
    assert.is(btf.find('task_count', 'var'), ids.v);
    for (const [name, kind] of [['task', 'union'], ['tas', 'struct'], ['', 'ptr'], ['nope', 'func']] as const) assert.is(btf.find(name, kind), 0);
    assert.equal(btf.type(ids.func!), { id: ids.func, kind: 'func', name: 'task', type: ids.proto, vlen: 0 }); // a func's vlen field is its linkage
    assert.equal(btf.type(ids.proto!), { id: ids.proto, kind: 'func_proto', name: '', type: ids.int, vlen: 2 });
    assert.is(btf.type(btf.typeCount), undefined);
  });
}

test('malformed BTF is an ElfError; a closed lookup says so', () => {
  assert.throws(() => BtfLookup.open(new Uint8Array([1, 2, 3])), (e: unknown) => e instanceof ElfError && /BTF/.test(e.message));
  const btf = BtfLookup.open(sample().b.build());
  btf.close();
  btf.close();
  assert.ok(btf.closed);
  assert.throws(() => btf.find('task', 'struct'), /the BTF was closed/);
});

const VMLINUX = '/sys/kernel/btf/vmlinux';
test('the kernel\'s BTF: attach targets, kfuncs and variables by name', () => {
  if (!existsSync(VMLINUX)) return console.log(`  (skipped: no ${VMLINUX})`);
  using btf = BtfLookup.open(readFileSync(VMLINUX));
  assert.ok(btf.typeCount > 10000);
  for (const [name, kind] of [['task_struct', 'struct'], ['bpf_iter_task', 'func'], ['btf_trace_sched_switch', 'typedef'], ['bpf_prog_active', 'var']] as const) {
    const id = btf.find(name, kind);
    assert.ok(id > 0, `${kind} ${name}`);
    assert.is(btf.type(id)!.name, name);
    assert.is(btf.type(id)!.kind, kind);
  }
  assert.is(btf.find('task_struct', 'func'), 0);
});

test.run();
