// program.attach(target): plan.ts picks the hook from the program's type (and, for kprobe-type
// programs, its section: kprobe/kretprobe or uprobe/uretprobe) and checks the target without a
// kernel call; this file executes the plan. goebpf's shape: a string for the obvious target of each
// type, a params object otherwise, nothing when the section names the target
// (`tracepoint/syscalls/sys_enter_execve`, `raw_tp/sched_switch`, `kprobe/do_unlinkat`, `uprobe//bin/bash:readline`).
//
// | program type | target | hook |
// |---|---|---|
// | Tracepoint | 'category/name' or { category, name } | tracepoint.ts (perf link) |
// | RawTracepoint(Writable) | 'name' | BPF_RAW_TRACEPOINT_OPEN |
// | Kprobe, section kprobe/kretprobe | 'function' or KprobeTarget | kprobe.ts |
// | Kprobe, section uprobe/uretprobe | 'path:symbol' or UprobeTarget | uprobe.ts |
// | Tracing (tp_btf, fentry, fexit, fmod_ret), LSM | none (fixed at load) | BPF_RAW_TRACEPOINT_OPEN |
// | Tracing iter/... | none or IterTarget | BPF_LINK_CREATE, readable |
// | PerfEvent | PerfEventTarget | perf link per CPU |
// | cgroup types, SockOps | cgroup path, fd, or CgroupTarget | BPF_LINK_CREATE / BPF_PROG_ATTACH |
// | SKLookup, FlowDissector | netns path, fd, or NetnsTarget | BPF_LINK_CREATE |
// | XDP, SchedCLS/ACT, SocketFilter, SKReusePort | not yet: see NETWORK_PROGRAM_TYPES in plan.ts | xdp.ts, tc.ts, socket-filter.ts |
import type { Attachment } from './attachment.js';
import { attachCgroup, attachIter, attachNetns, attachPerfEvent } from './cgroup.js';
import { attachKprobe } from './kprobe.js';
import { planAttach, type AttachOptions, type AttachTarget } from './plan.js';
import { attachRawTracepoint, attachTracepoint, attachTracing } from './tracepoint.js';
import type { AttachableProgram } from './target.js';
import { attachUprobe } from './uprobe.js';

export type { AttachOptions, AttachTarget };

/** Attaches program where its type says, to target (see the table above). */
export function attachProgram(program: AttachableProgram, target?: AttachTarget, options: AttachOptions = {}): Attachment {
  // EXTENSION POINT (attachnet): before planAttach, dispatch XDP → attachXdp(program, params),
  // SchedCLS/SchedACT → attachTc(program, params), SocketFilter/SKReusePort → attachSocketFilter(program,
  // params) (then drop those types from NETWORK_PROGRAM_TYPES in plan.ts, which refuses them now).
  const plan = planAttach(program, target, options);
  switch (plan.hook) {
    case 'tracepoint': {
      const { pid, ...tp } = plan.tracepoint;
      return attachTracepoint(program, tp, { ...plan.options, ...(pid !== undefined ? { pid } : {}) });
    }
    case 'raw_tracepoint':
      return attachRawTracepoint(program, plan.name);
    case 'kprobe':
    case 'kretprobe':
      return attachKprobe(program, plan.kprobe);
    case 'uprobe':
    case 'uretprobe':
      return attachUprobe(program, plan.uprobe);
    case 'tp_btf':
    case 'fentry':
    case 'fexit':
    case 'fmod_ret':
    case 'lsm':
      return attachTracing(program);
    case 'iter':
      return attachIter(program, plan.iter);
    case 'perf_event':
      return attachPerfEvent(program, plan.perfEvent);
    case 'cgroup':
      return attachCgroup(program, { ...plan.cgroup, attachType: plan.attachType });
    case 'sk_lookup':
    case 'flow_dissector':
      return attachNetns(program, plan.netns);
  }
}
