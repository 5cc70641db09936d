// ebpf_program_relocate on the fixtures, with made-up map fds (no kernel): map references and global
// data patched, kernel symbols (kfuncs, __ksym) patched with made-up values, every reachable function
// appended once with its call offsets fixed, func/line info rebased, both byte orders alike, and clear
// errors for what cannot be relocated.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ElfError } from '../../src/elf/errors.js';
import { CoreObject, KSYM_UNRESOLVED, UnresolvedSymbolError, type RelocatedProgram } from '../../src/elf/open.js';
import { R_BPF, SHF, STT, buildElf, call, concat, cstr, exit, ldImm64, mov0 } from './elf-builder.js';
import { fixtureObjects, fixturesDir } from './fixture-files.js';
import { loadCoreSync } from '../../src/wasm/core.js';
import { BtfLookup } from '../../src/btf/lookup.js';
import { BtfBuilder } from '../btf/btf-builder.js';

const LD_IMM64 = 0x18, CALL = 0x85;
const PSEUDO_MAP_FD = 1, PSEUDO_MAP_VALUE = 2, PSEUDO_BTF_ID = 3, PSEUDO_CALL = 1, PSEUDO_KFUNC_CALL = 2, PSEUDO_FUNC = 4;
/** Made-up fds: map i gets 100 + i. */
const FD_BASE = 100;

interface Insn { index: number; code: number; src: number; imm: number }

function decode(image: RelocatedProgram, bigEndian = false): Insn[] {
  const view = new DataView(image.instructions.buffer, image.instructions.byteOffset, image.instructions.byteLength);
  const out: Insn[] = [];
  for (let i = 0; i < image.instructions.byteLength / 8; i++) {
    const regs = view.getUint8(i * 8 + 1);
    out.push({ index: i, code: view.getUint8(i * 8), src: bigEndian ? regs & 0xf : regs >> 4, imm: view.getInt32(i * 8 + 4, !bigEndian) });
  }
  return out;
}

function records(bytes: Uint8Array | undefined, size: number, bigEndian = false): number[][] {
  if (bytes === undefined) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[][] = [];
  for (let at = 0; at < bytes.byteLength; at += size) {
    const rec: number[] = [];
    for (let w = 0; w < size; w += 4) rec.push(view.getUint32(at + w, !bigEndian));
    out.push(rec);
  }
  return out;
}

interface Relocated { insns: Insn[]; funcInfo: number[][]; lineInfo: number[][]; functionCount: number }

function open(name: string): CoreObject {
  return CoreObject.open(readFileSync(join(fixturesDir, name)));
}

function fakeFds(object: CoreObject): Int32Array {
  return Int32Array.from(object.info.maps, (_m, i) => FD_BASE + i);
}

function relocate(object: CoreObject, program: string, fds = fakeFds(object), ksyms?: BigUint64Array): Relocated {
  const index = object.info.programs.findIndex((p) => p.name === program);
  assert.ok(index >= 0, `no program ${program}`);
  const be = object.info.endian === 'big';
  return object.relocate(index, fds, (image) => ({
    insns: decode(image, be), funcInfo: records(image.funcInfo, image.funcInfoRecSize, be),
    lineInfo: records(image.lineInfo, image.lineInfoRecSize, be), functionCount: image.functionCount,
  }), ksyms);
}

const mapFd = (object: CoreObject, name: string): number => FD_BASE + object.info.maps.findIndex((m) => m.name === name);
const calls = (r: Relocated): Insn[] => r.insns.filter((i) => i.code === CALL && i.src === PSEUDO_CALL);
const loads = (r: Relocated): Insn[] => r.insns.filter((i, k) => i.code === LD_IMM64 && r.insns[k - 1]?.code !== LD_IMM64);
/** Start of every function in the image: its func_info. */
const starts = (r: Relocated): number[] => r.funcInfo.map(([insn]) => insn!);

test('globals.o socket_snap: global data as map values, four functions placed once, calls land on their starts', () => {
  using object = open('globals.o');
  const r = relocate(object, 'socket_snap');
  assert.is(r.functionCount, 4); // socket_snap, account, clamp_len, weigh
  assert.equal(starts(r).length, 4);
  assert.is(starts(r)[0], 0);
  for (const call of calls(r)) assert.ok(starts(r).includes(call.index + call.imm + 1), `call at ${call.index} lands inside a function`);
  const data = loads(r).map((i) => [i.src, i.imm, r.insns[i.index + 1]!.imm]);
  assert.equal(data.sort(), [
    [PSEUDO_MAP_VALUE, mapFd(object, '.bss'), 8], // bytes_seen
    [PSEUDO_MAP_VALUE, mapFd(object, '.data'), 0], // packets_seen
    [PSEUDO_MAP_VALUE, mapFd(object, '.rodata'), 0], // snap_len
    [PSEUDO_MAP_VALUE, mapFd(object, '.rodata'), 4], // weights
  ].sort());
  // line info: sorted, one at each function start, string offsets into .BTF
  assert.ok(r.lineInfo.length > r.functionCount);
  for (const start of starts(r)) assert.ok(r.lineInfo.some(([insn]) => insn === start));
  for (let i = 1; i < r.lineInfo.length; i++) assert.ok(r.lineInfo[i]![0]! > r.lineInfo[i - 1]![0]!);
});

test('globals.o: a subprogram shared by two programs is placed in each, a global function too', () => {
  using object = open('globals.o');
  const a = relocate(object, 'socket_snap'), b = relocate(object, 'tp_getppid');
  assert.is(b.functionCount, 4);
  assert.equal(a.funcInfo.map(([, type]) => type).slice(1).sort(), b.funcInfo.map(([, type]) => type).slice(1).sort());
});

test('xdp_goebpf.o: a legacy map reference becomes BPF_PSEUDO_MAP_FD with the fd', () => {
  using object = open('xdp_goebpf.o');
  const r = relocate(object, 'xdp_drop');
  assert.equal(loads(r).map((i) => [i.src, i.imm, r.insns[i.index + 1]!.imm]), [[PSEUDO_MAP_FD, mapFd(object, 'drops'), 0]]);
  assert.is(r.functionCount, 1);
});

test('relocs.o xdp_sum: a pc-relative call without relocation, a bpf_loop callback, subprograms calling subprograms', () => {
  using object = open('relocs.o');
  const r = relocate(object, 'xdp_sum');
  assert.is(r.functionCount, 6); // xdp_sum, packet_length, add_index, record, is_long, scale
  const funcs = starts(r);
  assert.is(funcs.length, 6);
  const first = r.insns[0]!; // the call to packet_length, which clang left unrelocated
  assert.is(first.code, CALL);
  assert.ok(funcs.includes(first.index + first.imm + 1));
  const callback = loads(r).find((i) => i.src === PSEUDO_FUNC)!;
  assert.ok(callback !== undefined);
  assert.ok(funcs.includes(callback.index + callback.imm + 1));
  for (const call of calls(r)) assert.ok(funcs.includes(call.index + call.imm + 1));
  assert.ok(loads(r).some((i) => i.src === PSEUDO_MAP_FD && i.imm === mapFd(object, 'results')));
});

test('big-endian objects relocate to the same image, in their byte order', () => {
  for (const [name, program] of [['globals', 'socket_snap'], ['relocs', 'xdp_sum'], ['xdp_goebpf', 'xdp_drop']] as const) {
    using le = open(`${name}.o`);
    using be = open(`${name}.bpfeb.o`);
    const a = relocate(le, program), b = relocate(be, program);
    assert.equal(b.insns.map((i) => [i.code, i.src, i.imm]), a.insns.map((i) => [i.code, i.src, i.imm]), name);
    assert.equal(b.funcInfo, a.funcInfo);
    assert.equal(b.lineInfo.map(([insn]) => insn), a.lineInfo.map(([insn]) => insn));
  }
});

function relocationError(object: CoreObject, program: string, fds?: Int32Array): string {
  try {
    relocate(object, program, fds);
  } catch (e) {
    assert.instance(e, ElfError);
    assert.is((e as ElfError).statusName, 'relocation');
    return (e as ElfError).message;
  }
  assert.unreachable(`${program} relocated`);
  return '';
}

test('what cannot be relocated is an error naming program, instruction and symbol', () => {
  using relocs = open('relocs.o');
  assert.match(relocationError(relocs, 'core_read'), /^program 'core_read': instruction \d+: CO-RE relocations need a target BTF \(byte_off relocation, access string '0:0', on struct 'task_struct' \[\d+\]\)$/);
  const noResults = fakeFds(relocs);
  noResults[relocs.info.maps.findIndex((m) => m.name === 'results')] = -1;
  assert.match(relocationError(relocs, 'xdp_sum', noResults), /^program 'xdp_sum': instruction \d+ \(\d+ of function 'record' in '\.text'\): 'results' refers to map 'results', which has no fd \(not created, or closed\)$/);
  using externs = open('externs.o');
  const noKconfig = fakeFds(externs);
  noKconfig[externs.info.maps.findIndex((m) => m.origin === 'kconfig')] = -1;
  assert.match(relocationError(externs, 'kconfig_read', noKconfig), /'(LINUX_KERNEL_VERSION|CONFIG_\w+)' refers to map '\.kconfig', which has no fd/);
});

const KSYM_VALUES: Record<string, bigint> = {
  bpf_rcu_read_lock: 111n, bpf_rcu_read_unlock: 112n, bpf_rcu_read_lock___two_args: 113n, bpf_prog_active: 115n,
  ebpf_fixture_absent_kfunc: 0n, ebpf_fixture_absent_var: 0n, ebpf_fixture_absent_addr: 0n,
  do_unlinkat: 0xffffffff816d2cd0n, ebpf_fixture_missing_kfunc: 114n, ebpf_fixture_missing_addr: KSYM_UNRESOLVED,
};
const POISON_CALL_KFUNC_BASE = 2002000000;

function ksymValues(object: CoreObject): BigUint64Array {
  return BigUint64Array.from(object.kernelSymbols(), (s) => KSYM_VALUES[s.name] ?? KSYM_UNRESOLVED);
}

test('kernel symbols: listed once each, with their kind, weak flag and prototype size', () => {
  for (const name of ['ksyms.o', 'ksyms.bpfeb.o']) {
    using ksyms = open(name);
    assert.equal(ksyms.kernelSymbols().map((s) => [s.name, s.kind, s.weak, s.paramCount, s.btfId > 0]).sort(), [
      ['bpf_cgroup_release___by_id', 'kfunc', false, 1, true], ['bpf_prog_active', 'variable', false, undefined, true],
      ['bpf_rcu_read_lock', 'kfunc', false, 0, true], ['bpf_rcu_read_lock___two_args', 'kfunc', false, 2, true],
      ['bpf_rcu_read_unlock', 'kfunc', false, 0, true], ['do_unlinkat', 'untyped', false, undefined, true],
      ['ebpf_fixture_absent_addr', 'untyped', true, undefined, true], ['ebpf_fixture_absent_kfunc', 'kfunc', true, 0, true],
      ['ebpf_fixture_absent_var', 'variable', true, undefined, true], ['ebpf_fixture_missing_addr', 'untyped', false, undefined, true],
      ['ebpf_fixture_missing_kfunc', 'kfunc', false, 0, true],
    ], name);
    assert.equal(ksyms.info.relocations.filter((r) => r.kind === 'extern').map((r) => ksyms.kernelSymbols()[r.targetOffset]!.name).sort(),
      ['bpf_cgroup_release___by_id', 'bpf_prog_active', 'bpf_rcu_read_lock', 'bpf_rcu_read_lock___two_args', 'bpf_rcu_read_unlock', 'do_unlinkat', 'ebpf_fixture_absent_addr',
        'ebpf_fixture_absent_kfunc', 'ebpf_fixture_absent_kfunc', 'ebpf_fixture_absent_var', 'ebpf_fixture_missing_addr', 'ebpf_fixture_missing_kfunc']);
  }
  using externs = open('externs.o');
  assert.equal(externs.kernelSymbols().map((s) => [s.name, s.kind]), [['bpf_rcu_read_lock', 'kfunc'], ['bpf_rcu_read_unlock', 'kfunc'], ['bpf_prog_active', 'variable']]);
});

test('kernel symbols are checked against the kernel\'s declarations as libbpf does (kinds, parameter counts and types)', () => {
  const b = new BtfBuilder();
  const int = b.int('int', 4, 32, 1);
  const cgroup = b.struct('cgroup', 8, [{ name: 'id', type: int }]);
  const lock = b.func('bpf_rcu_read_lock', b.funcProto(0, []));
  const release = b.func('bpf_cgroup_release', b.funcProto(0, [['cgrp', b.ptr(cgroup)]]));
  const active = b.var('bpf_prog_active', b.typedef('int_t', int));
  using kernel = BtfLookup.open(b.build());
  for (const name of ['ksyms.o', 'ksyms.bpfeb.o']) {
    using ksyms = open(name);
    const compatible = (symbol: string, id: number): boolean => ksyms.kernelSymbolCompatible(ksyms.kernelSymbols().findIndex((s) => s.name === symbol), kernel, id);
    assert.ok(compatible('bpf_rcu_read_lock', lock));
    assert.ok(compatible('bpf_rcu_read_unlock', lock)); // the same prototype: void (void)
    assert.not.ok(compatible('bpf_rcu_read_lock___two_args', lock)); // two parameters, the kernel's none
    assert.not.ok(compatible('bpf_cgroup_release___by_id', release)); // an int where the kernel takes a pointer
    assert.not.ok(compatible('bpf_prog_active', active)); // a pointer, the kernel's an int
    assert.ok(compatible('ebpf_fixture_absent_var', active)); // const int and a typedef of int
    assert.not.ok(compatible('bpf_rcu_read_lock', active)); // a kfunc is no variable
    assert.not.ok(compatible('ebpf_fixture_absent_var', lock));
  }
});

test('kernel symbols are patched with their values: kfunc calls, BTF ids, addresses, weak ones absent', () => {
  for (const name of ['ksyms.o', 'ksyms.bpfeb.o']) {
    using ksyms = open(name);
    const values = ksymValues(ksyms);
    const index = (symbol: string): number => ksyms.kernelSymbols().findIndex((s) => s.name === symbol);
    const weak = relocate(ksyms, 'weak_absent', fakeFds(ksyms), values).insns;
    const kfuncCalls = weak.filter((i) => i.code === CALL && i.src === PSEUDO_KFUNC_CALL).map((i) => i.imm);
    assert.equal(kfuncCalls, [111, 112], name);
    // the absent kfunc: its address is the constant 0, its call one the verifier rejects only if reached
    assert.equal(weak.filter((i) => i.code === CALL && i.src === 0).map((i) => i.imm), [POISON_CALL_KFUNC_BASE + index('ebpf_fixture_absent_kfunc')]);
    const loads = weak.filter((i) => i.code === LD_IMM64);
    assert.ok(loads.length >= 3);
    for (const l of loads.filter((i) => i.src !== PSEUDO_MAP_VALUE)) assert.equal([l.src, l.imm, weak[l.index + 1]!.imm], [0, 0, 0]);
    const untyped = relocate(ksyms, 'untyped_address', fakeFds(ksyms), values).insns.find((i) => i.code === LD_IMM64 && i.src === 0)!;
    const image = relocate(ksyms, 'untyped_address', fakeFds(ksyms), values).insns;
    assert.equal([untyped.imm >>> 0, image[untyped.index + 1]!.imm >>> 0], [0x816d2cd0, 0xffffffff]);
    assert.equal(relocate(ksyms, 'missing_kfunc', fakeFds(ksyms), values).insns[0], { index: 0, code: CALL, src: PSEUDO_KFUNC_CALL, imm: 114 });
    // an unresolved symbol fails the programs that use it, naming it
    assert.throws(() => relocate(ksyms, 'missing_address', fakeFds(ksyms), values), (e: unknown) => e instanceof UnresolvedSymbolError &&
      e.symbol === index('ebpf_fixture_missing_addr') && /^program 'missing_address': instruction \d+: untyped __ksym variable 'ebpf_fixture_missing_addr' is not resolved$/.test(e.message));
    assert.throws(() => relocate(ksyms, 'missing_kfunc', fakeFds(ksyms), new BigUint64Array(values.length).fill(KSYM_UNRESOLVED)),
      (e: unknown) => e instanceof UnresolvedSymbolError && e.message === "program 'missing_kfunc': instruction 0: kfunc 'ebpf_fixture_missing_kfunc' is not resolved");
    assert.throws(() => relocate(ksyms, 'missing_kfunc', fakeFds(ksyms)), (e: unknown) => e instanceof ElfError && !(e instanceof UnresolvedSymbolError) &&
      /^kernel symbol \d+ \('ebpf_fixture_missing_kfunc'\) is outside the 0 values given$/.test(e.message));
  }
  using externs = open('externs.o');
  const typed = relocate(externs, 'ksym_read', fakeFds(externs), ksymValues(externs)).insns;
  const load = typed.find((i) => i.code === LD_IMM64 && i.src === PSEUDO_BTF_ID)!;
  assert.equal([load.imm, typed[load.index + 1]!.imm], [115, 0]);
});

test('a .kconfig extern is a map value of the .kconfig map; the variables say how their values are written', () => {
  using externs = open('externs.o');
  const vars = externs.kconfigVariables().map((k) => [k.name, k.kind, k.size, k.weak, k.signed]);
  assert.equal(vars.sort(), [
    ['CONFIG_BPF_SYSCALL', 'bool', 1, false, false], ['CONFIG_DEFAULT_HOSTNAME', 'char-array', 16, true, false],
    ['CONFIG_EBPF_FIXTURE_ABSENT', 'tristate', 4, true, false], ['CONFIG_HZ', 'int', 4, true, true],
    ['LINUX_KERNEL_VERSION', 'int', 4, false, false],
  ]);
  const layout = externs.kconfigVariables();
  const kconfigMap = externs.info.maps.find((m) => m.origin === 'kconfig')!;
  for (const k of layout) assert.ok(k.offset % Math.min(k.size, 8) === 0 || k.kind === 'char-array', k.name);
  assert.ok(Math.max(...layout.map((k) => k.offset + k.size)) <= kconfigMap.valueSize);
  const r = relocate(externs, 'kconfig_read');
  const kconfig = loads(r).find((i) => i.imm === mapFd(externs, '.kconfig'))!;
  assert.is(kconfig.src, PSEUDO_MAP_VALUE);
});

test('bad arguments: a program index out of range, too few fds, a closed object', () => {
  const object = open('globals.o');
  assert.throws(() => object.relocate(99, fakeFds(object), () => 0), (e: unknown) => e instanceof ElfError && /program index 99 is out of range/.test(e.message));
  assert.throws(() => relocate(object, 'socket_snap', new Int32Array(1)), /outside the 1 map fds given/);
  object.close();
  object.close();
  assert.throws(() => relocate(object, 'socket_snap'), /the object was closed/);
});

/** An object with one XDP program `main` (code as given) and .text functions `f` and `g`. */
function synthetic(code: Uint8Array, relocs: Array<{ offset: number; symbol: string; type?: number }> = []): CoreObject {
  const text = concat(mov0(), exit(), call(1, -3), exit()); // f: return 0; g: calls f pc-relative
  return CoreObject.open(buildElf({
    sections: [
      { name: 'xdp', flags: SHF.ALLOC | SHF.EXECINSTR, data: code },
      { name: '.text', flags: SHF.ALLOC | SHF.EXECINSTR, data: text },
      { name: 'license', flags: SHF.ALLOC, data: cstr('GPL') },
    ],
    symbols: [
      { name: 'main', section: 'xdp', value: 0, size: code.length, type: STT.FUNC },
      { name: 'f', section: '.text', value: 0, size: 16, type: STT.FUNC },
      { name: 'g', section: '.text', value: 16, size: 16, type: STT.FUNC },
      { name: '_license', section: 'license', value: 0, size: 4, type: STT.OBJECT },
    ],
    relocs: relocs.map((r) => ({ section: 'xdp', type: R_BPF.R64_64, ...r })),
  }).bytes);
}

test('synthetic: a subprogram calling another pc-relative inside .text, and a function called twice, placed once', () => {
  using object = synthetic(concat(call(1, -1), call(1, -1), exit()), [
    { offset: 0, symbol: 'g', type: R_BPF.R64_32 }, { offset: 8, symbol: 'f', type: R_BPF.R64_32 },
  ]);
  const r = relocate(object, 'main');
  assert.is(r.functionCount, 3);
  assert.equal(calls(r).map((c) => c.index + c.imm + 1), [3, 5, 5]); // main -> g (3), main -> f (5), g -> f (5)
});

test('synthetic: what is neither map, data nor code, a callback without relocation, a cut ld_imm64, a call into a function', () => {
  using license = synthetic(concat(ldImm64(1, 0, 0), mov0(), exit()), [{ offset: 0, symbol: '_license' }]);
  assert.match(relocationError(license, 'main'), "program 'main': instruction 0: relocation against '_license' in section 'license', which holds neither maps, global data nor code");
  using callback = synthetic(concat(ldImm64(1, 4, 0), mov0(), exit()));
  assert.match(relocationError(callback, 'main'), "program 'main': instruction 0: a callback address (BPF_PSEUDO_FUNC) without a relocation");
  // main's last instruction is the first half of an ld_imm64; the second half is the next function's
  using cut = CoreObject.open(buildElf({
    sections: [{ name: 'xdp', flags: SHF.ALLOC | SHF.EXECINSTR, data: concat(mov0(), ldImm64(1, 0, 0), exit()) }, { name: '.data', flags: SHF.ALLOC | SHF.WRITE, data: new Uint8Array(8) }],
    symbols: [
      { name: 'main', section: 'xdp', value: 0, size: 16, type: STT.FUNC },
      { name: 'next', section: 'xdp', value: 16, size: 16, type: STT.FUNC },
      { name: 'x', section: '.data', value: 0, size: 8, type: STT.OBJECT },
    ],
    relocs: [{ section: 'xdp', offset: 8, symbol: 'x', type: R_BPF.R64_64 }],
  }).bytes);
  assert.match(relocationError(cut, 'main'), "program 'main': instruction 1: ld_imm64 of 'x' is cut off by the end of the function");
  using inside = synthetic(concat(call(1, 0), mov0(), exit()));
  assert.match(relocationError(inside, 'main'), "program 'main': instruction 0: call targets offset 8 of 'xdp', where no function starts");
});

test('images and objects are freed: relocating and reopening many times does not grow WASM memory', () => {
  const bytes = readFileSync(join(fixturesDir, 'globals.o'));
  const round = (): void => {
    for (let i = 0; i < 50; i++) {
      using object = CoreObject.open(bytes);
      for (let k = 0; k < 10; k++) relocate(object, 'socket_snap');
    }
  };
  round();
  const memory = loadCoreSync().memory;
  const before = memory.buffer.byteLength;
  for (let i = 0; i < 5; i++) round();
  assert.is(memory.buffer.byteLength, before);
});

test('every program of every fixture relocates or says why, in both byte orders', () => {
  for (const path of fixtureObjects()) {
    using object = CoreObject.open(readFileSync(path));
    object.info.programs.forEach((p, i) => {
      try {
        object.relocate(i, fakeFds(object), (image) => assert.ok(image.instructions.byteLength >= p.insnCount * 8), ksymValues(object));
      } catch (e) {
        assert.instance(e, ElfError, `${path} ${p.name}`);
        assert.match((e as Error).message, `program '${p.name}'`);
      }
    });
  }
});

test.run();
