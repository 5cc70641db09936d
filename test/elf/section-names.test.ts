// Program type, expected attach type and attach target from section names: libbpf's SEC() names,
// goebpf's names and the older "name/anything" forms. One function per section, byte-built.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inspect } from '../../src/inspect.js';
import { SHF, STT, buildElf, concat, exit, mov0 } from './elf-builder.js';

// [section, type, expected attach type (null: none), attach target, extra flags]
type Row = [string, string, string | null, string | null, ...('ret' | 'sleepable' | 'frags' | 'btf' | 'unknown')[]];
const rows: Row[] = [
  ['xdp', 'xdp', 'xdp', null],
  ['xdp/ingress_filter', 'xdp', 'xdp', 'ingress_filter'],
  ['xdp.frags', 'xdp', 'xdp', null, 'frags'],
  ['xdp/devmap', 'xdp', 'xdp_devmap', null],
  ['xdp.frags/cpumap', 'xdp', 'xdp_cpumap', null, 'frags'],
  ['socket', 'socket_filter', null, null],
  ['socket_filter', 'socket_filter', null, null],
  ['socket/2', 'socket_filter', null, '2'],
  ['kprobe/do_sys_open', 'kprobe', null, 'do_sys_open'],
  ['kretprobe/do_sys_open', 'kprobe', null, 'do_sys_open', 'ret'],
  ['uprobe//bin/bash:readline', 'kprobe', null, '/bin/bash:readline'],
  ['uretprobe.s//lib/libc.so.6:malloc', 'kprobe', null, '/lib/libc.so.6:malloc', 'ret', 'sleepable'],
  ['ksyscall/openat', 'kprobe', null, 'openat'],
  ['kretsyscall/openat', 'kprobe', null, 'openat', 'ret'],
  ['kprobe.multi/tcp_*', 'kprobe', 'trace_kprobe_multi', 'tcp_*'],
  ['kretprobe.multi/tcp_*', 'kprobe', 'trace_kprobe_multi', 'tcp_*', 'ret'],
  ['uprobe.multi//bin/x:f*', 'kprobe', 'trace_uprobe_multi', '/bin/x:f*'],
  ['usdt/libc:setjmp', 'kprobe', null, 'libc:setjmp'],
  ['tracepoint/syscalls/sys_enter_openat', 'tracepoint', null, 'syscalls/sys_enter_openat'],
  ['tp/sched/sched_switch', 'tracepoint', null, 'sched/sched_switch'],
  ['raw_tp/sys_enter', 'raw_tracepoint', null, 'sys_enter'],
  ['raw_tracepoint/sys_exit', 'raw_tracepoint', null, 'sys_exit'],
  ['raw_tp.w/bpf_test_finish', 'raw_tracepoint_writable', null, 'bpf_test_finish'],
  ['tp_btf/sched_switch', 'tracing', 'trace_raw_tp', 'sched_switch', 'btf'],
  ['fentry/do_unlinkat', 'tracing', 'trace_fentry', 'do_unlinkat', 'btf'],
  ['fexit/do_unlinkat', 'tracing', 'trace_fexit', 'do_unlinkat', 'btf'],
  ['fmod_ret/security_x', 'tracing', 'modify_return', 'security_x', 'btf'],
  ['fentry.s/do_unlinkat', 'tracing', 'trace_fentry', 'do_unlinkat', 'btf', 'sleepable'],
  ['freplace/handler', 'ext', null, 'handler', 'btf'],
  ['lsm/file_open', 'lsm', 'lsm_mac', 'file_open', 'btf'],
  ['lsm.s/file_open', 'lsm', 'lsm_mac', 'file_open', 'btf', 'sleepable'],
  ['lsm_cgroup/socket_bind', 'lsm', 'lsm_cgroup', 'socket_bind', 'btf'],
  ['iter/task', 'tracing', 'trace_iter', 'task', 'btf'],
  ['iter.s/task_vma', 'tracing', 'trace_iter', 'task_vma', 'btf', 'sleepable'],
  ['struct_ops/test_1', 'struct_ops', null, 'test_1'],
  ['struct_ops.s/test_2', 'struct_ops', null, 'test_2', 'sleepable'],
  ['syscall', 'syscall', null, null, 'sleepable'],
  ['tc', 'sched_cls', null, null],
  ['classifier', 'sched_cls', null, null],
  ['classifier/ingress', 'sched_cls', null, 'ingress'],
  ['tc_cls', 'sched_cls', null, null],
  ['tc_act', 'sched_act', null, null],
  ['action', 'sched_act', null, null],
  ['tc/ingress', 'sched_cls', 'tcx_ingress', null],
  ['tcx/ingress', 'sched_cls', 'tcx_ingress', null],
  ['tcx/egress', 'sched_cls', 'tcx_egress', null],
  ['netkit/primary', 'sched_cls', 'netkit_primary', null],
  ['netkit/peer', 'sched_cls', 'netkit_peer', null],
  ['perf_event', 'perf_event', null, null],
  ['lwt_in', 'lwt_in', null, null],
  ['lwt_out', 'lwt_out', null, null],
  ['lwt_xmit', 'lwt_xmit', null, null],
  ['lwt_seg6local', 'lwt_seg6local', null, null],
  ['sockops', 'sock_ops', 'cgroup_sock_ops', null],
  ['sk_skb/stream_parser', 'sk_skb', 'sk_skb_stream_parser', null],
  ['sk_skb/stream_verdict', 'sk_skb', 'sk_skb_stream_verdict', null],
  ['sk_skb/verdict', 'sk_skb', 'sk_skb_verdict', null],
  ['sk_skb', 'sk_skb', null, null],
  ['sk_msg', 'sk_msg', 'sk_msg_verdict', null],
  ['lirc_mode2', 'lirc_mode2', 'lirc_mode2', null],
  ['flow_dissector', 'flow_dissector', 'flow_dissector', null],
  ['cgroup_skb/ingress', 'cgroup_skb', 'cgroup_inet_ingress', null],
  ['cgroup_skb/egress', 'cgroup_skb', 'cgroup_inet_egress', null],
  ['cgroup/skb', 'cgroup_skb', null, null],
  ['cgroup/sock_create', 'cgroup_sock', 'cgroup_inet_sock_create', null],
  ['cgroup/sock_release', 'cgroup_sock', 'cgroup_inet_sock_release', null],
  ['cgroup/sock', 'cgroup_sock', 'cgroup_inet_sock_create', null],
  ['cgroup/post_bind4', 'cgroup_sock', 'cgroup_inet4_post_bind', null],
  ['cgroup/post_bind6', 'cgroup_sock', 'cgroup_inet6_post_bind', null],
  ['cgroup/bind4', 'cgroup_sock_addr', 'cgroup_inet4_bind', null],
  ['cgroup/bind6', 'cgroup_sock_addr', 'cgroup_inet6_bind', null],
  ['cgroup/connect4', 'cgroup_sock_addr', 'cgroup_inet4_connect', null],
  ['cgroup/connect6', 'cgroup_sock_addr', 'cgroup_inet6_connect', null],
  ['cgroup/connect_unix', 'cgroup_sock_addr', 'cgroup_unix_connect', null],
  ['cgroup/sendmsg4', 'cgroup_sock_addr', 'cgroup_udp4_sendmsg', null],
  ['cgroup/sendmsg6', 'cgroup_sock_addr', 'cgroup_udp6_sendmsg', null],
  ['cgroup/sendmsg_unix', 'cgroup_sock_addr', 'cgroup_unix_sendmsg', null],
  ['cgroup/recvmsg4', 'cgroup_sock_addr', 'cgroup_udp4_recvmsg', null],
  ['cgroup/recvmsg6', 'cgroup_sock_addr', 'cgroup_udp6_recvmsg', null],
  ['cgroup/recvmsg_unix', 'cgroup_sock_addr', 'cgroup_unix_recvmsg', null],
  ['cgroup/getpeername4', 'cgroup_sock_addr', 'cgroup_inet4_getpeername', null],
  ['cgroup/getpeername6', 'cgroup_sock_addr', 'cgroup_inet6_getpeername', null],
  ['cgroup/getpeername_unix', 'cgroup_sock_addr', 'cgroup_unix_getpeername', null],
  ['cgroup/getsockname4', 'cgroup_sock_addr', 'cgroup_inet4_getsockname', null],
  ['cgroup/getsockname6', 'cgroup_sock_addr', 'cgroup_inet6_getsockname', null],
  ['cgroup/getsockname_unix', 'cgroup_sock_addr', 'cgroup_unix_getsockname', null],
  ['cgroup/sysctl', 'cgroup_sysctl', 'cgroup_sysctl', null],
  ['cgroup/getsockopt', 'cgroup_sockopt', 'cgroup_getsockopt', null],
  ['cgroup/setsockopt', 'cgroup_sockopt', 'cgroup_setsockopt', null],
  ['cgroup/dev', 'cgroup_device', 'cgroup_device', null],
  ['sk_lookup', 'sk_lookup', 'sk_lookup', null],
  ['netfilter', 'netfilter', 'netfilter', null],
  ['sk_reuseport', 'sk_reuseport', 'sk_reuseport_select', null],
  ['sk_reuseport/migrate', 'sk_reuseport', 'sk_reuseport_select_or_migrate', null],
  ['my_custom_section', 'unspec', null, null, 'unknown'],
  ['xdpfoo', 'unspec', null, null, 'unknown'],
];

const code = concat(mov0(), exit());
const built = buildElf({
  sections: rows.map(([name]) => ({ name, flags: SHF.ALLOC | SHF.EXECINSTR, data: code })),
  symbols: rows.map(([name], i) => ({ name: `f${i}`, section: name, value: 0, size: 16, type: STT.FUNC })),
});
const info = inspect(built.bytes);

test('every section gives one program', () => {
  assert.is(info.programs.length, rows.length);
});

rows.forEach(([section, type, attach, target, ...flags], i) => {
  test(`SEC("${section}")`, () => {
    const p = info.programs[i]!;
    assert.is(p.section, section);
    assert.is(p.name, `f${i}`);
    assert.equal(
      [p.typeName, p.expectedAttachTypeName, p.attachTarget, p.retprobe, p.sleepable, p.xdpFrags, p.needsBtfTarget, p.unknownSection],
      [type, attach, target, flags.includes('ret'), flags.includes('sleepable'), flags.includes('frags'), flags.includes('btf'), flags.includes('unknown')]);
  });
});

test('cgroup_skb/ingress carries attach type 0 explicitly', () => {
  assert.is(info.programs.find((p) => p.section === 'cgroup_skb/ingress')!.expectedAttachType, 0);
});

test('unknown sections are reported once each, not fatal', () => {
  assert.equal(info.diagnostics.map((d) => d.kind), ['unknown-section', 'unknown-section']);
  assert.match(info.diagnostics[1]!.message, /'xdpfoo'/);
});

test.run();
