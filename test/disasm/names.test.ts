// What the disassembler names: helpers, kfuncs, subprograms, maps, global data, kconfig and ksym
// externs, jump labels and source lines, in both byte orders; the text layout; bad input.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ElfError, HELPER_NAMES, disassembleInstructions, disassembleProgram, formatDisassembly, helperName,
} from '../../src/inspect.js';
import { fixturesDir } from '../elf/fixture-files.js';

const fixture = (name: string): Uint8Array => readFileSync(join(fixturesDir, name));

test('the helper table comes from the UAPI header: ids as the kernel numbers them', () => {
  assert.is(HELPER_NAMES[1], 'bpf_map_lookup_elem');
  assert.is(helperName(12), 'bpf_tail_call');
  assert.is(helperName(181), 'bpf_loop');
  assert.is(helperName(0), undefined);
  assert.is(helperName(100000), undefined);
});

for (const suffix of ['.o', '.bpfeb.o']) {
  test(`relocs${suffix}: helpers, subprograms, maps, data and labels by name`, () => {
    const insns = disassembleProgram(fixture(`relocs${suffix}`), 'record');
    const at = (slot: number) => insns.find((i) => i.index === slot)!;
    assert.is(at(0).label, 'record');
    assert.equal(at(4).reference, { kind: 'map', name: 'results' });
    assert.is(at(4).text, 'r1 = results ll');
    assert.is(at(4).llvm, 'r1 = 0x0 ll');
    assert.equal(at(6).call, { kind: 'helper', name: 'bpf_map_lookup_elem', id: 1 });
    assert.is(at(6).text, 'call bpf_map_lookup_elem');
    assert.equal(at(10).call, { kind: 'subprog', name: 'scale', id: 8 });
    assert.is(at(8).jumpTarget, 14);
    assert.is(at(14).label, 'LBB0_0');
    assert.is(at(8).text, 'if r7 == 0x0 goto +0x5 <LBB0_0>');
    assert.equal(at(15).reference, { kind: 'data', name: 'calls', offset: 0, map: '.data' });
    assert.equal(at(4).source, { file: './test/fixtures/relocs.c', line: 35, column: 17, text: '  __u64 *cell = bpf_map_lookup_elem(&results, &slot);' });
    const xdp = disassembleProgram(fixture(`relocs${suffix}`), 'xdp_sum');
    assert.equal(xdp.find((i) => i.index === 11)!.call, { kind: 'subprog', name: 'add_index' });
    assert.is(xdp.find((i) => i.index === 11)!.text, 'r2 = add_index ll');
    assert.is(xdp.find((i) => i.index === 14)!.text, 'call bpf_loop');
  });

  test(`ksyms${suffix} and core_kconfig${suffix}: kfuncs, ksym and kconfig externs`, () => {
    const ksyms = disassembleProgram(fixture(`ksyms${suffix}`), 'weak_absent');
    assert.equal(ksyms.find((i) => i.index === 12)!.call, { kind: 'kfunc', name: 'bpf_rcu_read_lock' });
    assert.equal(ksyms.find((i) => i.index === 0)!.reference, { kind: 'ksym', name: 'ebpf_fixture_absent_kfunc' });
    const kconfig = disassembleProgram(fixture(`core_kconfig${suffix}`), 'exec_task');
    const ref = kconfig.map((i) => i.reference).find((r) => r?.kind === 'kconfig');
    assert.equal(ref, { kind: 'kconfig', name: 'CONFIG_BPF_JIT', offset: 4, map: '.kconfig' });
    const core = disassembleProgram(fixture(`core_kconfig${suffix}`), 'exec_task').filter((i) => i.core).map((i) => i.core);
    assert.equal(core, [
      { kind: 'field_exists', typeId: 6, access: '0:3', spec: 'struct task_struct.comm' },
      { kind: 'byte_off', typeId: 6, access: '0:0', spec: 'struct task_struct.pid' },
    ]);
  });
}

test('raw instructions: jumps, bpf-to-bpf calls as functions, pseudo map loads', () => {
  const insn = (code: number, regs: number, off: number, imm: number): number[] =>
    [code, regs, off & 0xff, (off >> 8) & 0xff, imm & 0xff, (imm >> 8) & 0xff, (imm >> 16) & 0xff, (imm >>> 24) & 0xff];
  const bytes = new Uint8Array([
    ...insn(0x18, 0x11, 0, 7), ...insn(0, 0, 0, 0), // r1 = map fd 7
    ...insn(0x85, 0x10, 0, 2), // call func at 5
    ...insn(0x15, 0x01, 1, 0), // if r1 == 0 goto +1
    ...insn(0x95, 0, 0, 0),
    ...insn(0x95, 0, 0, 0),
    ...insn(0xb7, 0x00, 0, 1), // func: r0 = 1
    ...insn(0x95, 0, 0, 0),
  ]);
  const out = disassembleInstructions(bytes, { mapName: (fd) => (fd === 7 ? 'counts' : undefined) });
  assert.equal(out.map((i) => [i.index, i.label ?? '', i.text]), [
    [0, 'func_0', 'r1 = counts ll'],
    [2, '', 'call func_5'],
    [3, '', 'if r1 == 0x0 goto +0x1 <func_5>'],
    [4, '', 'exit'],
    [5, 'func_5', 'exit'],
    [6, '', 'r0 = 0x1'],
    [7, '', 'exit'],
  ]);
  assert.equal(out[0]!.reference, { kind: 'map', name: 'counts' });
  assert.equal(out[1]!.call, { kind: 'subprog', name: 'func_5', id: 2, target: 5 });
  assert.is(out[2]!.jumpTarget, 5);
  const unnamed = disassembleInstructions(bytes.subarray(0, 16), { mapImmediate: 'id' });
  assert.equal([unnamed[0]!.text, unnamed[0]!.llvm, unnamed[0]!.reference], ['r1 = map[id:7] ll', 'ld_pseudo\tr1, 0x1, 0x7', { kind: 'map', name: 'map[id:7]', mapId: 7 }]);
});

test('text layout: labels, source comments, bytes', () => {
  const text = formatDisassembly(disassembleProgram(fixture('relocs.o'), 'is_long'));
  assert.is(text.split('\n')[0], 'is_long:');
  assert.match(text, /^; .*is_long.* @ \.\/test\/fixtures\/relocs\.c:44:0$/m);
  assert.match(text, /^ {7}3:\t25 01 01 00 63 00 00 00\tif r1 > 0x63 goto \+0x1 <LBB0_0>$/m);
  assert.match(text, /^LBB0_0:$/m);
  assert.not.match(formatDisassembly(disassembleProgram(fixture('relocs.o'), 'is_long'), { source: false, raw: false }), /;|25 01/);
});

test('bad input: unknown program, truncated and undecodable instructions', () => {
  assert.throws(() => disassembleProgram(fixture('relocs.o'), 'nope'), (e: unknown) => e instanceof ElfError && /no program 'nope'.*xdp_sum/.test(e.message));
  const out = disassembleInstructions(new Uint8Array([0x18, 0x01, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff]));
  assert.equal(out.map((i) => [i.index, i.llvm]), [[0, '<unknown>'], [1, '<unknown>']]);
  assert.is(disassembleInstructions(new Uint8Array(8).fill(0xff))[0]!.llvm, '<unknown>');
});

test('the kernel\'s per-CPU address move (mov64 with off -1, only in xlated programs) reads as bpftool prints it', () => {
  // BPF_ALU64 | BPF_MOV | BPF_X, dst r0, src r1, off 0xffff: BPF_MOV64_PERCPU_REG(r0, r1).
  const insn = Uint8Array.of(0xbf, 0x10, 0xff, 0xff, 0, 0, 0, 0);
  assert.is(disassembleInstructions(insn)[0]!.text, 'r0 = &(void __percpu *)(r1)');
});

test.run();
