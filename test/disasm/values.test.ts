// Library plumbing for tools showing an object: BTF value formatting (as bpftool map dump), global
// data formatted through BTF, the section/symbol view, one type rendered as C; and `ebpf inspect
// --disasm/--btf/--json` with errors naming the file.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  disassembleProgram, formatBtfValue, formatDisassembly, formatGlobalData, inspect, renderBtfType, sectionContents,
  sectionSymbols, stringifyBtfValue, symbolAt, type BtfType,
} from '../../src/inspect.js';
import { fixturesDir } from '../elf/fixture-files.js';

const fixture = (name: string): Uint8Array => readFileSync(join(fixturesDir, name));
const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

for (const name of ['globals.o', 'globals.bpfeb.o']) {
  test(`${name}: global data formatted through BTF, as bpftool map dump shows it`, () => {
    const bytes = fixture(name);
    const info = inspect(bytes, { btfTypes: true, withoutC: true });
    const byName = (n: string) => info.maps.find((m) => m.name === n)!;
    assert.equal(formatGlobalData(bytes, info, byName('.rodata')), { '.rodata': [{ snap_len: 64 }, { weights: [1, 2, 4, 8] }] });
    assert.equal(formatGlobalData(bytes, info, byName('.data')), { '.data': [{ packets_seen: 100 }] });
    assert.equal(formatGlobalData(bytes, info, byName('.bss')), { '.bss': [{ last_pid: 0 }, { bytes_seen: 0 }] });
    assert.is(formatGlobalData(bytes, inspect(bytes), byName('.data')), undefined, 'without BTF types');
  });
}

/** A type table built by hand: the kinds the formatter distinguishes. */
function types(): BtfType[] {
  const t = (id: number, rest: Omit<BtfType, 'id' | 'c'>): BtfType => ({ id, c: '', ...rest });
  return [
    t(0, { kind: 'void', name: '' }),
    t(1, { kind: 'int', name: 'unsigned int', size: 4, encoding: { bits: 32, offset: 0, signed: false, char: false, bool: false } }),
    t(2, { kind: 'int', name: 'char', size: 1, encoding: { bits: 8, offset: 0, signed: true, char: false, bool: false } }),
    t(3, { kind: 'array', name: '', type: 2, indexType: 1, nelems: 6 }),
    t(4, { kind: 'enum', name: 'color', size: 4, kindFlag: false, values: [{ name: 'RED', value: 0 }, { name: 'BLUE', value: 2 }] }),
    t(5, { kind: 'struct', name: 's', size: 24, kindFlag: true, members: [
      { name: 'n', type: 1, bitOffset: 0, bitfieldSize: 0 },
      { name: 'name', type: 3, bitOffset: 32, bitfieldSize: 0 },
      { name: 'color', type: 4, bitOffset: 96, bitfieldSize: 0 },
      { name: 'flag', type: 1, bitOffset: 128, bitfieldSize: 3 },
      { name: 'big', type: 6, bitOffset: 0, bitfieldSize: 0 },
    ] }),
    t(6, { kind: 'int', name: 'long long int', size: 8, encoding: { bits: 64, offset: 0, signed: true, char: false, bool: false } }),
    t(7, { kind: 'int', name: '_Bool', size: 1, encoding: { bits: 8, offset: 0, signed: false, char: false, bool: true } }),
  ];
}

test('formatBtfValue: ints, char arrays as strings, enums by name, bitfields in hex, signed 64-bit, bools', () => {
  const bytes = new Uint8Array(24);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, 7, true);
  bytes.set(new TextEncoder().encode('hello\0'), 4);
  v.setUint32(12, 2, true);
  bytes[16] = 0b101;
  const value = formatBtfValue(types(), 5, bytes);
  // 'big' overlays n/name (offset 0): the first 8 bytes as a signed 64-bit integer.
  assert.equal(value, { n: 7, name: 'hello', color: 'BLUE', flag: '0x5', big: new DataView(bytes.buffer).getBigInt64(0, true) });
  v.setUint32(12, 9, true);
  assert.is((formatBtfValue(types(), 5, bytes) as { color: unknown }).color, 9, 'an enum value without a name');
  assert.is(formatBtfValue(types(), 7, new Uint8Array([1])), true);
  const huge = formatBtfValue(types(), 6, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]));
  assert.is(huge, 0x7fffffffffffffffn);
  assert.is(stringifyBtfValue({ v: huge }), '{"v":9223372036854775807}');
  assert.equal(formatBtfValue(types(), 3, new TextEncoder().encode('ab\x01\0\0\0')), ['a', 'b', '\x01', '\0', '\0', '\0'].map((c) => c.charCodeAt(0)));
});

test('section and symbol view; one type rendered with what it needs', () => {
  const bytes = fixture('maps_btf.o');
  const info = inspect(bytes, { btfTypes: true, withoutC: true });
  const xdp = info.programs.find((p) => p.name === 'xdp_count')!;
  assert.equal(sectionSymbols(info, xdp.sectionIndex).map((s) => s.name).slice(0, 2), ['xdp_count', 'xdp_route']);
  assert.is(symbolAt(info, xdp.sectionIndex, xdp.insnOffset + 8)?.name, 'xdp_count');
  assert.is(sectionContents(bytes, info.sections[xdp.sectionIndex]!)?.length, info.sections[xdp.sectionIndex]!.size);
  const bss = info.sections.find((s) => s.name === '.bss');
  if (bss) assert.is(sectionContents(bytes, bss), null);
  const key = info.btf!.types!.find((t) => t.name === 'flow_key')!;
  assert.is(renderBtfType(info.btf!.types!, key.id),
    'typedef unsigned int __u32;\n\ntypedef unsigned short __u16;\n\nstruct flow_key {\n\t__u32 saddr;\n\t__u32 daddr;\n\t__u16 sport;\n\t__u16 dport;\n\t__u32 proto;\n};\n\n');
});

test('ebpf inspect --disasm [--program] [--json], --btf, and errors naming the file', () => {
  const path = join(fixturesDir, 'relocs.o');
  const text = run('inspect', '--disasm', '--program', 'record', path);
  assert.is(text.status, 0, text.stderr);
  assert.is(text.stdout, `Disassembly of record (section .text):\n${formatDisassembly(disassembleProgram(fixture('relocs.o'), 'record'))}\n`);
  const all = run('inspect', '-d', path);
  assert.match(all.stdout, /Disassembly of xdp_sum \(section xdp\):\nxdp_sum:\n/);
  assert.match(all.stdout, /Disassembly of scale \(section \.text\)/);
  const json = run('inspect', path, '--disasm', '--json', '--program', 'is_long');
  const parsed = JSON.parse(json.stdout) as { program: string; instructions: { text: string }[] }[];
  assert.equal(parsed.map((p) => [p.program, p.instructions.length]), [['is_long', 6]]);
  assert.match(run('inspect', '--btf', join(fixturesDir, 'maps_btf.o')).stdout, /^#ifndef __VMLINUX_H__/);
  assert.ok(Array.isArray(JSON.parse(run('inspect', '--btf', '-j', join(fixturesDir, 'maps_btf.o')).stdout)));
  assert.match(run('inspect', '-p', path).stdout, /^\{\n {2}"endian": "little"/);
  for (const [args, message] of [
    [['inspect', '--json', 'trunc.o'], /^ebpf: cannot read trunc\.o: no such file\n$/],
    [['inspect', '--json', join(fixturesDir, 'relocs.c')], /^ebpf: .*relocs\.c: not an ELF file/],
    [['inspect', '--disasm', '--program', 'nope', path], /^ebpf: .*relocs\.o: no program 'nope' \(programs: .*xdp_sum/],
    [['inspect', '--program', 'x', path], /^ebpf: --program goes with --disasm\n$/],
    [['inspect', '--program'], /^ebpf: inspect: Option '--program <value>' argument missing\n$/],
    [['btf', 'dump', join(fixturesDir, 'nope.o')], /^ebpf: cannot read .*nope\.o: no such file\n$/],
    [['btf', 'dump', path, 'format', 'x'], /^ebpf: btf dump: format "x": c or raw\n$/],
    [['btf', 'frob'], /^ebpf: btf: unknown verb "frob"/],
  ] as const) {
    const r = run(...args);
    assert.is(r.status, 1, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
    assert.is(r.stdout, '');
  }
  for (const object of ['inspect', 'prog', 'map', 'btf']) {
    const r = run(object, '--help');
    assert.is(r.status, 0);
    assert.match(r.stdout, new RegExp(`^usage: ebpf ${object}`));
  }
});

test.run();
