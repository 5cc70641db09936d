// Attach targets, kfuncs and __ksym variables found in the running kernel (real bpf(), root): the
// kernel reports the attach_btf_id System found, kfunc calls run, an untyped __ksym holds the
// address /proc/kallsyms gives, weak symbols the kernel lacks are 0, and what is missing says so.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { kernelBtf } from '../../src/program/kernel-btf.js';
import { KernelSymbolError, System } from '../../src/program/system.js';
import { kernelSuite, loadsUnlessKernelLacks, testNeeding } from '../kernel/support.js';

const test = kernelSuite('program btf targets and kernel symbols');
const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));
const RAW_TP_RUN = { ctx: new Uint8Array(8), dataSizeOut: 0, ctxSizeOut: 0, repeat: 0 };

testNeeding(test, 'tp_btf and iter programs load with the BTF id of their target; the kernel reports it', ['bpftool'], () => {
  using system = new System().loadElf(fixture('btf_targets.o'));
  using tp = system.getProgramByName('tp_btf_switch')!.load();
  assert.is(tp.info().attachBtfId, kernelBtf().find('btf_trace_sched_switch', 'typedef'));
  const btfObject = execFileSync('bpftool', ['btf', 'show', 'id', String(tp.info().attachBtfObjId)], { encoding: 'utf8' });
  assert.match(btfObject, /name \[vmlinux\]/); // the kernel's own BTF
  using iter = system.getProgramByName('iter_maps')!.load();
  assert.is(iter.info().attachBtfId, kernelBtf().find('bpf_iter_bpf_map', 'func'));
  // iter.s/: BPF_F_SLEEPABLE, without which the verifier refuses its bpf_copy_from_user call
  using sleepable = system.getProgramByName('iter_task_sleepable')!.load();
  assert.is(sleepable.info().attachBtfId, kernelBtf().find('bpf_iter_task', 'func'));
});

test('fentry, fexit, fmod_ret and lsm programs reach the kernel with their target (BPF trampolines permitting)', () => {
  using system = new System().loadElf(fixture('btf_targets.o'));
  const expected: Record<string, [string, 'func']> = {
    fentry_unlinkat: ['do_unlinkat', 'func'], fexit_unlinkat: ['do_unlinkat', 'func'],
    fmod_ret_file_open: ['security_file_open', 'func'], lsm_file_open: ['bpf_lsm_file_open', 'func'],
  };
  for (const [name, [target, kind]] of Object.entries(expected)) {
    const p = system.getProgramByName(name)!;
    assert.ok(kernelBtf().find(target, kind) > 0, target);
    if (loadsUnlessKernelLacks(p, 'trampolines')) assert.is(p.info().attachBtfId, kernelBtf().find(target, kind));
  }
});

test('a target the kernel lacks: a KernelSymbolError naming the program, its section and the target', () => {
  using system = new System().loadElf(fixture('btf_targets.o'));
  assert.throws(() => system.getProgramByName('fentry_missing')!.load(), (e: unknown) => e instanceof KernelSymbolError &&
    e.message === `${fixture('btf_targets.o')}: ` + 'program \'fentry_missing\' (section \'fentry/ebpf_fixture_no_such_function\'): attach target \'ebpf_fixture_no_such_function\' not found: the kernel\'s BTF (/sys/kernel/btf/vmlinux) has no func \'ebpf_fixture_no_such_function\'');
  assert.throws(() => system.getProgramByName('tp_btf_missing')!.load(), (e: unknown) => e instanceof KernelSymbolError && /has no typedef 'btf_trace_ebpf_fixture_no_such_tracepoint'$/.test(e.message));
  // the others of the object are not affected
  using tp = system.getProgramByName('tp_btf_switch')!.load();
  assert.ok(tp.info().id > 0);
});

testNeeding(test, 'kfunc calls load and run; the kernel shows the calls to the kernel functions', ['bpftool'], () => {
  using system = new System().loadElf(fixture('externs.o'));
  using kfunc = system.getProgramByName('kfunc_call')!.load();
  assert.is(kfunc.testRun(RAW_TP_RUN).retval, 0);
  const dump = execFileSync('bpftool', ['prog', 'dump', 'xlated', 'id', String(kfunc.info().id)], { encoding: 'utf8' });
  assert.match(dump, /call (bpf_rcu_read_lock|unknown)#/);
});

test('a typed __ksym reaches the kernel as the BTF id of its variable (placed where kallsyms lists variables)', () => {
  using system = new System().loadElf(fixture('externs.o'));
  if (loadsUnlessKernelLacks(system.getProgramByName('ksym_read')!, 'kallsymsVariables')) {
    const program = system.getProgramByName('ksym_read')!;
    assert.is(program.testRun(RAW_TP_RUN).retval, 0);
    assert.ok(new DataView(system.getMapByName('.bss')!.lookup(0).buffer).getBigUint64(0, true) !== 0n);
  }
});

testNeeding(test, 'an untyped __ksym is its /proc/kallsyms address; weak symbols the kernel lacks are 0, a weak kfunc call is dropped', ['bpftool'], () => {
  using system = new System().loadElf(fixture('ksyms.o'));
  assert.equal(system.warnings, []);
  using untyped = system.getProgramByName('untyped_address')!.load();
  using weak = system.getProgramByName('weak_absent')!.load();
  const bss = system.getMapByName('.bss')!;
  bss.update(0, new Uint8Array(bss.valueSize).fill(0xff));
  assert.is(untyped.testRun(RAW_TP_RUN).retval, 0);
  assert.is(weak.testRun(RAW_TP_RUN).retval, 0);
  const addresses = new DataView(bss.lookup(0).buffer);
  const line = readFileSync('/proc/kallsyms', 'latin1').split('\n').find((l) => / do_unlinkat$/.test(l))!;
  assert.is(addresses.getBigUint64(16, true), BigInt(`0x${line.split(' ')[0]!}`));
  assert.is(addresses.getBigUint64(0, true), 0n); // ebpf_fixture_absent_var
  assert.is(addresses.getBigUint64(8, true), 0n); // ebpf_fixture_absent_addr
  const dump = execFileSync('bpftool', ['prog', 'dump', 'xlated', 'id', String(weak.info().id)], { encoding: 'utf8' });
  assert.not.match(dump, /2002000/); // the poisoned call was dead code
});

test('a kfunc or __ksym the kernel lacks fails only the programs using it, saying why', () => {
  using system = new System().loadElf(fixture('ksyms.o'));
  assert.throws(() => system.getProgramByName('missing_kfunc')!.load(), (e: unknown) => e instanceof KernelSymbolError &&
    e.message === `${fixture('ksyms.o')}: ` + 'program \'missing_kfunc\': instruction 0: kfunc \'ebpf_fixture_missing_kfunc\' is not resolved: the kernel\'s BTF (/sys/kernel/btf/vmlinux) has no function \'ebpf_fixture_missing_kfunc\'');
  assert.throws(() => system.getProgramByName('missing_address')!.load(), (e: unknown) => e instanceof KernelSymbolError &&
    /'ebpf_fixture_missing_addr' is not resolved: \/proc\/kallsyms has no symbol 'ebpf_fixture_missing_addr'$/.test(e.message));
  assert.throws(() => system.getProgramByName('kfunc_other_prototype')!.load(), (e: unknown) => e instanceof KernelSymbolError &&
    /'bpf_rcu_read_lock___two_args' is not resolved: it is declared with 2 parameter\(s\), the kernel's 'bpf_rcu_read_lock' \[\d+\] takes 0$/.test(e.message));
  using fine = system.getProgramByName('untyped_address')!.load();
  assert.ok(fine.info().id > 0);
});

test.run();
