// The names libbpf gives BTF attach targets, by attach type (no kernel needed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { attachBtfId, attachTargetType, KernelSymbolError } from '../../src/program/kernel-btf.js';
import { AttachType } from '../../src/sys/generated.js';

test('tp_btf: typedef btf_trace_<name>; lsm and lsm_cgroup: bpf_lsm_<hook>; iter: bpf_iter_<name>; others the function', () => {
  assert.equal(attachTargetType(AttachType.TraceRawTp, 'sched_switch'), { name: 'btf_trace_sched_switch', kind: 'typedef' });
  assert.equal(attachTargetType(AttachType.LSMMac, 'file_open'), { name: 'bpf_lsm_file_open', kind: 'func' });
  assert.equal(attachTargetType(AttachType.LSMCgroup, 'socket_bind'), { name: 'bpf_lsm_socket_bind', kind: 'func' });
  assert.equal(attachTargetType(AttachType.TraceIter, 'task'), { name: 'bpf_iter_task', kind: 'func' });
  for (const type of [AttachType.TraceFentry, AttachType.TraceFexit, AttachType.ModifyReturn, undefined]) {
    assert.equal(attachTargetType(type, 'do_unlinkat'), { name: 'do_unlinkat', kind: 'func' });
  }
});

test('no target in the section name, or a module\'s: an error naming the program before any BTF is read', () => {
  const spec = { name: 'f', section: 'fentry', expectedAttachType: AttachType.TraceFentry };
  assert.throws(() => attachBtfId({ ...spec, attachTarget: null }), (e: unknown) => e instanceof KernelSymbolError &&
    e.message === 'program \'f\' (section \'fentry\'): the section name gives no attach target (as in "fentry/<function>")');
  assert.throws(() => attachBtfId({ ...spec, section: 'fentry/bpf_testmod:fn', attachTarget: 'bpf_testmod:fn' }), (e: unknown) => e instanceof KernelSymbolError &&
    /^program 'f' \(section 'fentry\/bpf_testmod:fn'\): attach target 'bpf_testmod:fn' names a kernel module; only the kernel's own BTF/.test(e.message));
});

test.run();
