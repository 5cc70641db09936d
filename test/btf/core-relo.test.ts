// CO-RE relocation without a kernel: the core_relos fixture (little- and big-endian) relocated
// against a target BTF written here, in both byte orders, in which fields moved, shrank, vanished
// and changed signedness, types and enumerators vanished, flavors agree or disagree; each result
// is checked, and so are the instructions patched with them.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openTargetBtf } from '../../src/btf/core-relo.js';
import { CoreObject } from '../../src/elf/open.js';
import { relocate, type CoreRelocationResult } from '../../src/inspect.js';
import { fixturesDir } from '../elf/fixture-files.js';
import { BtfBuilder } from './btf-builder.js';

const SIGNED = 1;

/** A small kernel: task_struct reshuffled, sk_buff's `next` inside anonymous members, enums changed. */
function targetBtf(bigEndian: boolean, variant: 'plain' | 'agreeing-flavor' | 'ambiguous-flavor' = 'plain'): Uint8Array {
  const b = new BtfBuilder();
  const int = b.int('int', 4, 32, SIGNED), uint = b.int('unsigned int', 4), ushort = b.int('unsigned short', 2);
  const long = b.int('long', 8, 64, SIGNED), ulong = b.int('unsigned long', 8), char = b.int('char', 1), uchar = b.int('unsigned char', 1);
  const comm = b.array(char, int, 8);
  const taskPtr = b.ptr(0);
  const task = (name: string, pidAt: number): number => b.struct(name, 40, [
    { name: 'flags', type: uint, bitOffset: 0 }, // unsigned long in the program: the load shrinks to 4 bytes
    { name: 'pid', type: uint, bitOffset: pidAt }, // int in the program: signedness changed
    { name: 'tgid', type: ushort, bitOffset: 96 }, // int in the program: shrank (a signed load cannot)
    { name: 'real_parent', type: taskPtr, bitOffset: 128 },
    { name: 'comm', type: comm, bitOffset: 192 }, // char[16] in the program
    { name: 'in_execve', type: uint, bitOffset: 261, bitfieldSize: 1 },
  ], false, true); // ebpf_fixture_no_such_field and ebpf_fixture_gone vanished
  const taskId = task('task_struct', 64);
  b.types[taskPtr - 1]![2] = taskId;
  if (variant === 'agreeing-flavor') task('task_struct___2', 64);
  if (variant === 'ambiguous-flavor') task('task_struct___2', 32);
  const skbPtr = b.ptr(0);
  const inner = b.struct('', 8, [{ name: 'next', type: skbPtr, bitOffset: 0 }]);
  const anon = b.struct('', 8, [{ name: '', type: inner, bitOffset: 0 }], true);
  const skb = b.struct('sk_buff', 24, [{ name: 'len', type: uint, bitOffset: 32 }, { name: '', type: anon, bitOffset: 128 }]);
  b.types[skbPtr - 1]![2] = skb;
  const listPtr = b.ptr(0);
  b.types[listPtr - 1]![2] = b.struct('list_head', 16, [{ name: 'next', type: listPtr, bitOffset: 0 }, { name: 'prev', type: listPtr, bitOffset: 64 }]);
  const entry = b.struct('trace_entry', 8, [
    { name: 'type', type: ushort, bitOffset: 0 }, { name: 'flags', type: uchar, bitOffset: 16 },
    { name: 'preempt_count', type: uchar, bitOffset: 24 }, { name: 'pid', type: int, bitOffset: 32 },
  ]);
  b.struct('trace_event_raw_sys_enter', 80, [
    { name: 'ent', type: entry, bitOffset: 0 }, { name: 'id', type: long, bitOffset: 128 }, { name: 'args', type: b.array(ulong, int, 6), bitOffset: 256 },
  ]);
  b.enum('pid_type', 4, [['PIDTYPE_PID', 0], ['PIDTYPE_TGID', 1], ['PIDTYPE_PGID', 2], ['PIDTYPE_SID', 30]]); // no PIDTYPE_MAX
  b.enum64('perf_callchain_context', [['PERF_CONTEXT_KERNEL', 0x80n], ['PERF_CONTEXT_USER', 0x1234567890n]]);
  return b.build(bigEndian);
}

type Expected = [program: string, kind: string, access: string, status: CoreRelocationResult['status'], value: number | bigint, sizes?: [number, number]];

const bitfieldShift = (bigEndian: boolean): number => (bigEndian ? (8 - 4) * 8 + (261 - 256) : 64 - (261 + 1 - 256));

function expected(bigEndian: boolean): Expected[] {
  return [
    ['field_reads', 'byte_off', '0:1', 'relocated', 8, [4, 4]],
    ['field_reads', 'byte_off', '0:3', 'relocated', 16, [8, 8]],
    ['field_reads', 'byte_off', '0:2', 'relocated', 12, [4, 2]],
    ['field_reads', 'signed', '0:1', 'relocated', 0],
    ['field_reads', 'byte_sz', '0:4', 'relocated', 8],
    ['field_reads', 'byte_off', '0:4:2', 'relocated', 26, [1, 1]],
    ['field_exists', 'field_exists', '0:1', 'relocated', 1],
    ['field_exists', 'field_exists', '0:6', 'relocated', 0],
    ['field_exists', 'field_exists', '0:6', 'relocated', 0],
    ['field_exists', 'byte_off', '0:6', 'poisoned', 0],
    ['field_exists', 'field_exists', '0:1', 'relocated', 0],
    ['field_exists', 'byte_off', '0:1', 'poisoned', 0],
    ['field_exists', 'byte_off', '0:0', 'relocated', 8, [4, 4]],
    ['bitfields', 'byte_off', '0:5', 'relocated', 32],
    ...(bigEndian ? [['bitfields', 'byte_sz', '0:5', 'relocated', 4] as Expected] : []),
    ['bitfields', 'byte_sz', '0:5', 'relocated', 4],
    ['bitfields', 'lshift_u64', '0:5', 'relocated', bitfieldShift(bigEndian)],
    ['bitfields', 'signed', '0:5', 'relocated', 0],
    ['bitfields', 'rshift_u64', '0:5', 'relocated', 63],
    ['bitfields', 'rshift_u64', '0:5', 'relocated', 63],
    ['nested', 'byte_off', '0:0', 'relocated', 16, [8, 8]],
    ['nested', 'byte_off', '0:1', 'relocated', 4, [4, 4]],
    ['types', 'target_type_id', '0', 'relocated', 10],
    ['types', 'local_type_id', '0', 'relocated', 5],
    ['types', 'type_exists', '0', 'relocated', 1],
    ['types', 'type_exists', '0', 'relocated', 0],
    ['types', 'type_size', '0', 'relocated', 40],
    ['types', 'type_matches', '0', 'relocated', 1],
    ['types', 'type_matches', '0', 'relocated', 1],
    ['types', 'type_matches', '0', 'relocated', 0],
    ['enums', 'enumval_value', '1', 'relocated', 0x1234567890n],
    ['enums', 'enumval_value', '3', 'relocated', 30],
    ['enums', 'enumval_exists', '4', 'relocated', 0],
    ['enums', 'enumval_exists', '0', 'relocated', 0],
    ['btf_loads', 'byte_off', '0:0', 'relocated', 0, [8, 4]],
    ['btf_loads', 'byte_off', '0:1', 'relocated', 8, [4, 4]],
    ['btf_loads', 'byte_sz', '0:2', 'relocated', 2],
    ['btf_loads', 'byte_off', '0:2', 'poisoned', 12, [4, 2]],
    ['btf_loads', 'byte_off', '0:5', 'relocated', 32], // BPF_CORE_READ_BITFIELD: direct loads
    ['btf_loads', 'byte_sz', '0:5', 'relocated', 4],
    ['btf_loads', 'lshift_u64', '0:5', 'relocated', bitfieldShift(bigEndian)],
    ['btf_loads', 'signed', '0:5', 'relocated', 0],
    ['btf_loads', 'rshift_u64', '0:5', 'relocated', 63],
    ['btf_loads', 'rshift_u64', '0:5', 'relocated', 63],
    ['tracepoint', 'byte_off', '0:1', 'relocated', 16, [8, 8]],
    ['tracepoint', 'byte_off', '0:2:1', 'relocated', 40, [8, 8]],
  ];
}

const summary = (r: CoreRelocationResult): Expected => {
  const row: Expected = [r.program ?? '', r.kind, r.access, r.status, r.value];
  if (r.kind === 'byte_off' && r.size !== 0) row.push([r.originalSize, r.size]);
  return row;
};
const normalize = (rows: Expected[]): string[] => rows.map(([p, k, a, s, v, sizes]) => JSON.stringify([p, k, a, s, String(v), sizes]));

for (const bigEndian of [false, true]) {
  const order = bigEndian ? 'big-endian' : 'little-endian';
  const object = readFileSync(fixturesDir + '/' + (bigEndian ? 'core_relos.bpfeb.o' : 'core_relos.o'));

  test(`${order}: each relocation against a target where fields moved, shrank, vanished and changed signedness`, () => {
    const results = relocate(object, targetBtf(bigEndian));
    assert.equal(normalize(results.map(summary)), normalize(expected(bigEndian)));
    // the other byte order of the target gives the same results
    assert.equal(normalize(relocate(object, targetBtf(!bigEndian)).map(summary)), normalize(results.map(summary)));
  });

  test(`${order}: poisoned relocations say why, naming program, instruction, access string and type`, () => {
    const results = relocate(object, targetBtf(bigEndian));
    const reasons = results.filter((r) => r.status === 'poisoned').map((r) => r.reason);
    assert.equal(reasons, [
      "program 'field_exists': instruction 12: byte_off relocation on struct 'task_struct' [5], access string '0:6', poisoned: none of the 1 candidate types of the target BTF has a matching field",
      "program 'field_exists': instruction 25: byte_off relocation on struct 'task_struct___old' [14], access string '0:1', poisoned: none of the 1 candidate types of the target BTF has a matching field",
      "program 'btf_loads': instruction 11: byte_off relocation on struct 'task_struct' [5], access string '0:2', poisoned: the load/store would change size from 4 to 2 bytes on a field that is neither a pointer nor an unsigned integer",
    ]);
    const pid = results.find((r) => r.program === 'field_reads' && r.access === '0:1')!;
    assert.is(pid.localSpec, '<byte_off> [5] struct task_struct.pid (0:1 @ offset 8)');
    assert.is(pid.targetSpec, '<byte_off> [10] struct task_struct.pid (0:1 @ offset 8)');
    const next = results.find((r) => r.program === 'nested' && r.access === '0:0')!;
    assert.is(next.targetSpec, '<byte_off> [14] struct sk_buff.next (0:1:0:0 @ offset 16)');
  });

  test(`${order}: instructions patched as libbpf patches them (ALU imm, load size and offset, ld_imm64, poison)`, () => {
    using obj = CoreObject.open(object);
    using target = openTargetBtf(targetBtf(bigEndian));
    obj.coreRelocate(target);
    const fds = new Int32Array(obj.info.maps.length).fill(7);
    const insns = (program: string): DataView => obj.relocate(obj.info.programs.findIndex((p) => p.name === program), fds, (image) => new DataView(image.instructions.slice().buffer));
    const le = !bigEndian;
    const off = (v: DataView, i: number): number => v.getInt16(i * 8 + 2, le);
    const imm = (v: DataView, i: number): number => v.getInt32(i * 8 + 4, le);
    const loads = insns('btf_loads');
    assert.is(loads.getUint8(8), 0x61, 'flags: LDX DW became LDX W'); // BPF_LDX | BPF_MEM | BPF_W
    assert.is(off(loads, 1), 0);
    assert.is(off(loads, 2), 8, 'pid');
    assert.is(loads.getUint8(11 * 8), 0x85, 'tgid: poisoned');
    assert.is(imm(loads, 11), 0xbad2310);
    const enums = insns('enums');
    assert.is(enums.getUint8(0), 0x18);
    assert.is(imm(enums, 0), 0x34567890);
    assert.is(imm(enums, 1), 0x12);
    const reads = insns('field_reads');
    assert.is(imm(reads, 2), 8, 'BPF_CORE_READ(task, pid): the add of the offset');
    const exists = insns('field_exists');
    assert.is(exists.getUint8(12 * 8), 0x85);
    assert.is(imm(exists, 12), 0xbad2310);
  });
}

test('candidates found by scanning the types (first searches) and through the name index agree', () => {
  for (const variant of ['plain', 'agreeing-flavor', 'ambiguous-flavor'] as const) {
    const bytes = targetBtf(false, variant);
    using obj = CoreObject.open(readFileSync(fixturesDir + '/core_relos.o'));
    using scanned = openTargetBtf(bytes);
    const linear = obj.coreRelocate(scanned);
    using indexed = openTargetBtf(bytes);
    for (let i = 0; i < 9; i++) indexed.find('task_struct', 'struct'); // past the first lookups: the index is built
    assert.equal(obj.coreRelocate(indexed), linear, variant);
  }
});

test('several candidates: accepted when they agree, an ambiguity error naming both otherwise', () => {
  const object = readFileSync(fixturesDir + '/' + 'core_relos.o');
  const agreeing = relocate(object, targetBtf(false, 'agreeing-flavor')).find((r) => r.program === 'field_reads' && r.access === '0:1')!;
  assert.is(agreeing.status, 'relocated');
  assert.is(agreeing.candidates, 2);
  const ambiguous = relocate(object, targetBtf(false, 'ambiguous-flavor')).find((r) => r.program === 'field_reads' && r.access === '0:1')!;
  assert.is(ambiguous.status, 'failed');
  assert.match(ambiguous.reason!, /^program 'field_reads': instruction 2: byte_off relocation on struct 'task_struct' \[5\], access string '0:1', failed: field offset ambiguity: candidates \[10\] and \[\d+\] put it at bit 64 and 32$/);
  using obj = CoreObject.open(object);
  using target = openTargetBtf(targetBtf(false, 'ambiguous-flavor'));
  obj.coreRelocate(target);
  assert.throws(() => obj.relocate(obj.info.programs.findIndex((p) => p.name === 'field_reads'), new Int32Array(obj.info.maps.length).fill(7), () => 0),
    /^CO-RE: program 'field_reads': instruction 2: .*field offset ambiguity/);
});

test('a kernel module\'s split BTF: searched for types the kernel\'s lacks, its ids continuing the kernel\'s', () => {
  const base = new BtfBuilder();
  const uint = base.int('unsigned int', 4);
  base.struct('task_struct', 8, [{ name: 'pid', type: uint, bitOffset: 32 }]);
  const module = new BtfBuilder({ typeCount: base.typeCount, stringSize: base.stringSize });
  const skbPtr = module.ptr(0);
  const skb = module.struct('sk_buff', 24, [{ name: 'next', type: skbPtr, bitOffset: 64 }, { name: 'len', type: uint, bitOffset: 128 }]);
  module.types[0]![2] = skb;
  for (const bigEndian of [false, true]) {
    const object = readFileSync(fixturesDir + '/' + (bigEndian ? 'core_relos.bpfeb.o' : 'core_relos.o'));
    const results = relocate(object, base.build(bigEndian), { mymod: module.build(bigEndian) });
    const nested = results.filter((r) => r.program === 'nested');
    assert.equal(nested.map((r) => [r.access, r.status, r.value, r.targetTypeId, r.targetModule]),
      [['0:0', 'relocated', 8n, skb, 'mymod'], ['0:1', 'relocated', 16n, skb, 'mymod']]);
    assert.is(nested[0]!.targetSpec, `<byte_off> [${skb}] struct sk_buff.next (0:0 @ offset 8)`);
    const pid = results.find((r) => r.program === 'field_reads' && r.access === '0:1')!;
    assert.equal([pid.value, pid.targetModule], [4n, undefined]); // the kernel's has task_struct: modules not searched
    // without the module, sk_buff is nowhere: poisoned
    assert.ok(relocate(object, base.build(bigEndian)).filter((r) => r.program === 'nested').every((r) => r.status === 'poisoned'));
  }
});

test('a target BTF inside an ELF (.BTF section) relocates as the raw BTF; malformed targets are errors', () => {
  const object = readFileSync(fixturesDir + '/' + 'core_relos.o');
  const elfWithBtf = readFileSync(fixturesDir + '/' + 'maps_btf.o'); // any object: its .BTF is a BTF like any other
  assert.ok(relocate(object, elfWithBtf).every((r) => r.status !== 'failed' || r.reason !== undefined));
  assert.throws(() => relocate(object, new Uint8Array([1, 2, 3])), /BTF/);
  assert.equal(relocate(readFileSync(fixturesDir + '/' + 'globals.o'), new Uint8Array(0)), []);
});

test.run();
