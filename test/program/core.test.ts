// CO-RE against the running kernel, with libbpf as the oracle: every program of the fixtures with
// CO-RE relocations is loaded by `bpftool prog loadall` (libbpf) and through System, and the
// kernel's translated instructions of both (`bpftool prog dump xlated`) must be identical once map
// ids are normalized. Then programs of the kinds real tools are made of, written against this
// machine's vmlinux.h (generated and compiled at test time, never committed): they load through
// System and test-run where the kernel allows.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { relocate } from '../../src/inspect.js';
import { System } from '../../src/program/system.js';
import { kernelSuite, withBpffs } from '../kernel/support.js';

const test = kernelSuite('program CO-RE');
const fixturesDir = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
// relocs.o has CO-RE too, but libbpf refuses its static program in 'xdp' before relocating anything.
const CORE_FIXTURES = ['core_relos.o', 'core_kconfig.o'];
const STRICT = process.env.EBPF_TEST_STRICT === '1';

/** Why an outside tool cannot be used here, or undefined (one small function, for skipUnless later). */
function missingTool(tool: string, args: string[]): string | undefined {
  try {
    execFileSync(tool, args, { stdio: 'ignore' });
    return undefined;
  } catch {
    return `${tool} is not installed`;
  }
}

function skipped(reason: string | undefined): boolean {
  if (reason === undefined) return false;
  if (STRICT) assert.unreachable(reason);
  console.log(`  skipped: ${reason}`);
  return true;
}

const bpftool = (...args: string[]): string => execFileSync('bpftool', args, { encoding: 'utf8', maxBuffer: 1 << 26 });

/** xlated text with what differs between two loads of the same object (map ids) normalized. */
const normalize = (xlated: string): string => xlated.replace(/map\[id:\d+\]/g, 'map[id:N]');

test('every CO-RE fixture program translates as libbpf loads it (bpftool prog dump xlated identical)', async () => {
  if (skipped(missingTool('bpftool', ['version']))) return;
  let compared = 0;
  await withBpffs((dir) => {
    for (const name of CORE_FIXTURES) {
      const pins = join(dir, name.replace('.o', ''));
      bpftool('prog', 'loadall', fixturesDir + name, pins);
      using system = new System().loadElf(fixturesDir + name, { pinRoot: dir });
      for (const [program, p] of system.getPrograms()) {
        p.load();
        const theirs = normalize(bpftool('prog', 'dump', 'xlated', 'pinned', join(pins, program)));
        const ours = normalize(bpftool('prog', 'dump', 'xlated', 'id', String(p.info().id)));
        assert.fixture(ours, theirs, `${name} ${program}`);
        compared++;
      }
    }
  });
  assert.ok(compared >= 10, `${compared} programs compared`);
});

test('System warns about poisoned relocations, naming program, instruction, access string and type', () => {
  using system = new System().loadElf(fixturesDir + 'core_relos.o');
  const poisoned = system.warnings.filter((w) => w.startsWith('CO-RE: '));
  assert.equal(poisoned, [
    "CO-RE: program 'field_exists': instruction 12: byte_off relocation on struct 'task_struct' [5], access string '0:6', poisoned: none of the 1 candidate types of the target BTF has a matching field",
    "CO-RE: program 'field_exists': instruction 25: byte_off relocation on struct 'task_struct___old' [14], access string '0:1', poisoned: none of the 1 candidate types of the target BTF has a matching field",
  ]);
  system.getProgramByName('field_exists')!.load(); // the poisoned reads are dead code: the verifier drops them
});

test('kernelBtf: a path or bytes of raw BTF or of an ELF holding .BTF relocate as the kernel\'s own', () => {
  const vmlinux = readFileSync('/sys/kernel/btf/vmlinux');
  const expected = relocate(readFileSync(fixturesDir + 'core_relos.o'), vmlinux);
  for (const kernelBtf of ['/sys/kernel/btf/vmlinux', vmlinux]) {
    using system = new System().loadElf(fixturesDir + 'core_relos.o', { kernelBtf });
    system.getProgramByName('field_reads')!.load();
  }
  assert.ok(expected.every((r) => r.status === 'relocated' || r.status === 'poisoned'));
  assert.throws(() => new System().loadElf(fixturesDir + 'core_relos.o', { kernelBtf: '/nonexistent/vmlinux' }), /cannot read the target BTF \/nonexistent\/vmlinux: ENOENT/);
});

/** Programs as real tools write them, against vmlinux.h. */
const TOOLS_SOURCE = `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct event { __u32 pid, ppid, exit_code; char comm[16]; __u64 start; };
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } events SEC(".maps");
__u64 seen;

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 0;
  e->pid = BPF_CORE_READ(task, tgid);
  e->ppid = BPF_CORE_READ(task, real_parent, tgid);
  e->start = BPF_CORE_READ(task, start_time);
  unsigned fname_off = ctx->__data_loc_filename & 0xFFFF;
  bpf_probe_read_str(&e->comm, sizeof(e->comm), (void *)ctx + fname_off);
  bpf_ringbuf_submit(e, 0);
  return 0;
}

SEC("tp/sched/sched_process_exit")
int handle_exit(struct trace_event_raw_sched_process_template *ctx) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  if (BPF_CORE_READ(task, pid) != BPF_CORE_READ(task, tgid)) return 0;
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 0;
  e->pid = ctx->pid;
  e->exit_code = (BPF_CORE_READ(task, exit_code) >> 8) & 0xff;
  BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
  bpf_ringbuf_submit(e, 0);
  return 0;
}

struct task_struct___pre61 { long state; } __attribute__((preserve_access_index));

SEC("raw_tp/sys_enter")
int fallbacks(void *ctx) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  long state;
  if (bpf_core_field_exists(task->__state)) state = BPF_CORE_READ(task, __state);
  else state = BPF_CORE_READ((struct task_struct___pre61 *)task, state);
  seen = state + BPF_CORE_READ_BITFIELD_PROBED(task, in_execve) + bpf_core_type_size(struct task_struct);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

/** Compiles source against this machine's vmlinux.h (generated now, never committed). */
function buildAgainstVmlinux(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-core-'));
  try {
    writeFileSync(join(dir, 'vmlinux.h'), bpftool('btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'));
    writeFileSync(join(dir, 'prog.bpf.c'), source);
    execFileSync('clang-19', ['-target', 'bpf', '-D__TARGET_ARCH_x86', '-O2', '-g', '-I', dir, '-c', join(dir, 'prog.bpf.c'), '-o', join(dir, 'prog.bpf.o')], { stdio: ['ignore', 'ignore', 'pipe'] });
    return readFileSync(join(dir, 'prog.bpf.o'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const toolsMissing = (): string | undefined => missingTool('clang-19', ['--version']) ?? missingTool('bpftool', ['version']);

test('exec/exit tracer, tracepoint fields, bitfields and field-exists fallbacks against vmlinux.h load through System', async () => {
  if (skipped(toolsMissing())) return;
  const bytes = buildAgainstVmlinux(TOOLS_SOURCE);
  const results = relocate(bytes, readFileSync('/sys/kernel/btf/vmlinux'));
  assert.ok(results.length > 10);
  assert.equal(results.filter((r) => r.status === 'failed'), []);
  using system = new System().load(bytes);
  for (const name of ['handle_exec', 'handle_exit', 'fallbacks']) system.getProgramByName(name)!.load();
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-core-'));
  try {
    writeFileSync(join(dir, 'tools.bpf.o'), bytes);
    await withBpffs((pins) => { // libbpf as the oracle here too
      bpftool('prog', 'loadall', join(dir, 'tools.bpf.o'), join(pins, 'tools'));
      for (const [name, p] of system.getPrograms()) {
        const theirs = normalize(bpftool('prog', 'dump', 'xlated', 'pinned', join(pins, 'tools', name)));
        assert.fixture(normalize(bpftool('prog', 'dump', 'xlated', 'id', String(p.info().id))), theirs, name);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // raw_tp test runs take the tracepoint's arguments as ctx, and nothing else
  const run = system.getProgramByName('fallbacks')!.testRun({ ctx: new Uint8Array(16), ctxSizeOut: 0, dataSizeOut: 0, repeat: 0 });
  assert.is(run.retval, 0);
  assert.ok(system.getMapByName('.bss')!.lookup(0).some((b) => b !== 0), 'fallbacks wrote seen');
});

/** The README's CO-RE example (the lead's): BPF_CORE_READ of task_struct, loaded and test-run. */
const README_SOURCE = `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

__u32 parent_tgid;

SEC("raw_tp/sys_enter")
int parent(void *ctx) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
`;

test('README example: BPF_CORE_READ(task, real_parent, tgid) relocated for this kernel reads our parent process id', () => {
  if (skipped(toolsMissing())) return;
  using system = new System().load(buildAgainstVmlinux(README_SOURCE));
  const program = system.getProgramByName('parent')!.load();
  program.testRun({ ctx: new Uint8Array(16), ctxSizeOut: 0, dataSizeOut: 0, repeat: 0 });
  const bss = system.getMapByName('.bss')!.lookup(0);
  assert.is(new DataView(bss.buffer, bss.byteOffset).getUint32(0, true), process.ppid);
});

test.run();
