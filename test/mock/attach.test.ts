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
  assert.equal([info.kind, info.target, info.legacy, info.linkType], ['tracepoint', 'syscalls/sys_enter_execve', false, 'PerfEvent']);
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
  assert.throws(() => p.attach({ cgroup: '/sys/fs/cgroup/unified/x', attachType: AttachType.CgroupInet4Connect }), /CgroupInet4Connect is not a hook of CgroupSKB programs/);
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
});

test.run();
