// MockProgram.attach without a kernel: the same plan as Program.attach (hook from type and section,
// AttachError for bad input, a wrong type, a program not loaded or closed), MockAttachments of the
// kernel's shape, goebpf's attached state, and detach/close.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AttachError, AttachType, MockAttachment, MockProgram, MockSystem, ProgramType, SyscallError } from '../../src/mock/index.js';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/attach_trace.o', import.meta.url));

test('a tracepoint program from an object attaches where its section says, with a PerfEvent link', () => {
  using system = new MockSystem().loadElf(FIXTURE);
  const program = system.getProgramByName('count_execve')!;
  assert.throws(() => program.attach(), (e: unknown) => e instanceof AttachError && /count_execve.*tracepoint syscalls\/sys_enter_execve: the program is not loaded/.test(e.message));
  program.load();
  const attachment = program.attach();
  assert.instance(attachment, MockAttachment);
  const info = attachment.info();
  assert.equal([info.kind, info.target, info.legacy, info.linkType], ['tracepoint', 'syscalls/sys_enter_execve', false, 'perf_event']);
  assert.ok(info.linkId! > 0);
  assert.ok(program.attached);
  assert.equal(program.attachments, [attachment]);
  const legacy = program.attach('sched/sched_process_exec', { legacy: true });
  assert.equal([legacy.info().legacy, legacy.info().linkId], [true, undefined]);
  program.detach();
  assert.ok(attachment.detached && legacy.detached);
  assert.is(program.attached, false);
  assert.throws(() => program.attach('nope'), (e: unknown) => e instanceof AttachError && /"<category>\/<name>"/.test(e.message));
});

test('wrong program type, bad cgroup hook, double legacy cgroup attach: the kernel\'s errors', () => {
  const p = new MockProgram({ name: 'egress', type: ProgramType.CgroupSKB, section: 'cgroup_skb/egress', expectedAttachType: AttachType.CgroupInetEgress }).load();
  assert.throws(() => p.attach({ cgroup: '/sys/fs/cgroup/unified/x', attachType: AttachType.CgroupInet4Connect }), /cgroup_inet4_connect is not a hook of cgroup_skb programs/);
  assert.throws(() => p.attach(), /give a cgroup path or fd/);
  const a = p.attach('/sys/fs/cgroup/unified/x', { legacy: true });
  assert.throws(() => p.attach('/sys/fs/cgroup/unified/x', { legacy: true }), (e: unknown) => e instanceof SyscallError && e.code === 'EINVAL' && e.syscall === 'BPF_PROG_ATTACH');
  assert.throws(() => a.pin('/sys/fs/bpf/x'), /only bpf_link attachments can be pinned/);
  const link = p.attach('/sys/fs/cgroup/unified/x');
  link.pin('/sys/fs/bpf/x');
  assert.is(link.pinnedPath, '/sys/fs/bpf/x');
  p.close();
  assert.ok(a.detached && link.detached);
  assert.throws(() => p.attach('/sys/fs/cgroup/unified/x'), /not loaded \(load\(\) it first\) or was closed/);
  const raw = new MockProgram({ name: 'raw', type: ProgramType.RawTracepoint }).load();
  assert.throws(() => raw.attach('a/b'), /a raw tracepoint is the kernel tracepoint's name/);
  const rawLink = raw.attach('sched_switch');
  assert.throws(() => rawLink.update(raw), (e: unknown) => e instanceof SyscallError && e.code === 'EINVAL');
  raw.close();
  const kprobe = new MockProgram({ name: 'k', type: ProgramType.Kprobe, section: 'kretprobe/do_unlinkat', sectionTarget: 'do_unlinkat' }).load();
  assert.is(kprobe.attach().kind, 'kretprobe');
  const uprobe = new MockProgram({ name: 'u', type: ProgramType.Kprobe, section: 'uprobe' }).load();
  assert.is(uprobe.attach('/bin/true:main').target, '/bin/true:main');
  assert.throws(() => uprobe.attach({ path: '/bin/true' }), /give a symbol or an offset/);
  const usdt = new MockProgram({ name: 'd', type: ProgramType.Kprobe, section: 'usdt' }).load();
  assert.equal([usdt.attach('/bin/app:prov:probe').kind, usdt.attach({ path: '/bin/app', provider: 'p', name: 'n' }).target], ['usdt', '/bin/app:p:n']);
  assert.throws(() => usdt.attach('/bin/app:only-two'), /a USDT target is "<path>:<provider>:<name>"/);
});

test('odd targets are AttachErrors naming what is wrong, never a crash', () => {
  const cgroupSkb = new MockProgram({ name: 'c', type: ProgramType.CgroupSKB, expectedAttachType: AttachType.CgroupInetEgress }).load();
  for (const bad of [5.5, -1, '', [], {}, { cgroup: null }]) {
    assert.throws(() => cgroupSkb.attach(bad as never), (e: unknown) => e instanceof AttachError && /give a cgroup path or fd/.test(e.message), JSON.stringify(bad));
  }
  const tp = new MockProgram({ name: 't', type: ProgramType.Tracepoint }).load();
  for (const bad of [5, [], { category: 1, name: 2 }, 'a/b/c', '', { category: 'a', name: '..' }]) {
    assert.throws(() => tp.attach(bad as never), (e: unknown) => e instanceof AttachError, JSON.stringify(bad));
  }
  const lookup = new MockProgram({ name: 'l', type: ProgramType.SKLookup }).load();
  assert.is(lookup.attach().target, '/proc/self/ns/net');
  assert.throws(() => lookup.attach(-3), /give a network namespace path/);
  const syscall = new MockProgram({ name: 's', type: ProgramType.Syscall }).load();
  assert.throws(() => syscall.attach('x'), /does not attach syscall programs yet/);
});

test.run();
