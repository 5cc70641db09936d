// Tracepoints: `tracepoint/<category>/<name>` programs on the tracepoint PMU (perf_event_open with
// PERF_TYPE_TRACEPOINT and the event's id from tracefs, then a perf link or the ioctl); raw
// tracepoints (`raw_tracepoint/<name>`) and BTF-typed ones (`tp_btf/<name>`, and fentry/fexit/lsm
// programs whose target was fixed at load) through BPF_RAW_TRACEPOINT_OPEN, which gives a bpf_link.
import { FD } from '../sys/bpf.js';
import { SyscallError, Errno } from '../sys/errors.js';
import { ATTR, BpfCmd, ProgramType } from '../sys/generated.js';
import { native } from '../sys/native.js';
import { LinkAttachment } from './attachment.js';
import { attachToPerfEvent, perfEventOpen, PerfEventAttachment, PerfType, type PerfAttachOptions } from './perf.js';
import { AttachError, describe, programFd, type AttachableProgram } from './target.js';
import { traceEventId } from './tracefs.js';
import { parseTracepoint, tracingHook, type TracepointTarget } from './plan.js';

export type { TracepointTarget };

/** How a tracepoint is attached: perf options (legacy ioctl, cookie) and an optional pid. */
export interface TracepointOptions extends PerfAttachOptions {
  /** Only this process (default: every process). */
  pid?: number;
}

/** Attaches a tracepoint program to category/name (cilium/ebpf's link.Tracepoint). */
export function attachTracepoint(program: AttachableProgram, target: string | TracepointTarget, options: TracepointOptions = {}): PerfEventAttachment {
  const tp = parseTracepoint(program, target);
  const text = `${tp.category}/${tp.name}`;
  const fd = programFd(program, 'tracepoint', text, [ProgramType.Tracepoint]);
  const context = `${describe(program)} on tracepoint ${text}`;
  const id = traceEventId(tp.category, tp.name, context);
  const event = perfEventOpen({ type: PerfType.Tracepoint, config: id, pid: options.pid }, context);
  const link = attachToPerfEvent(fd, event, options, context);
  return new PerfEventAttachment('tracepoint', program.name, text, [event], link === undefined ? [] : [link]);
}

/** BPF_RAW_TRACEPOINT_OPEN: name for raw tracepoints, null for programs whose target came with their load. */
function rawTracepointOpen(programFd: number, name: string | null, context: string, causes: string): FD {
  const F = ATTR.RAW_TRACEPOINT_OPEN;
  const attr = new Uint8Array(F.SIZE);
  new DataView(attr.buffer).setUint32(F.prog_fd.offset, programFd, true);
  const ret = native().bpf(BpfCmd.RawTracepointOpen, attr, F.name.offset, name === null ? null : new TextEncoder().encode(`${name}\0`));
  if (ret < 0) throw new SyscallError(-ret, 'BPF_RAW_TRACEPOINT_OPEN', `${context}${causes ? ` (${causes})` : ''}`);
  return new FD(ret);
}

/** Attaches a raw tracepoint program (`raw_tracepoint/<name>`, `raw_tp/<name>`) to the kernel tracepoint `name`. */
export function attachRawTracepoint(program: AttachableProgram, name: string): LinkAttachment {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_]+$/.test(name)) {
    throw new AttachError(program, 'raw_tracepoint', JSON.stringify(name), 'a raw tracepoint is the kernel tracepoint\'s name, e.g. "sched_process_exec"');
  }
  const fd = programFd(program, 'raw_tracepoint', name, [ProgramType.RawTracepoint, ProgramType.RawTracepointWritable]);
  const context = `${describe(program)} on raw_tracepoint ${name}`;
  return new LinkAttachment('raw_tracepoint', program.name, name, rawTracepointOpen(fd, name, context, 'ENOENT: the kernel has no tracepoint of that name'));
}

/**
 * Attaches a program whose target was fixed when it loaded (its BTF id): `tp_btf/`, `fentry/`,
 * `fexit/`, `fmod_ret/` (Tracing programs) and `lsm/` (LSM programs), through a bpf_link.
 */
export function attachTracing(program: AttachableProgram): LinkAttachment {
  const hook = tracingHook(program) ?? 'tracing';
  const target = program.sectionTarget ?? '';
  const fd = programFd(program, hook, target, [ProgramType.Tracing, ProgramType.LSM]);
  if (tracingHook(program) === undefined) {
    throw new AttachError(program, hook, target, 'a Tracing program attaches as tp_btf/fentry/fexit/fmod_ret (iter programs: attachIter)');
  }
  const context = `${describe(program)} on ${hook} ${target}`;
  try {
    return new LinkAttachment(hook, program.name, target, rawTracepointOpen(fd, null, context, ''));
  } catch (e) {
    if (e instanceof SyscallError && (e.errno === Errno.EPERM || e.errno === Errno.ENOTSUPP)) {
      throw new SyscallError(e.errno, e.syscall, `${context} (${hook} needs BPF trampolines, which this kernel refuses: JIT off, no ftrace direct calls (CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS), lockdown, or a VM that forbids them${hook === 'lsm' ? '; lsm also needs "bpf" in the lsm= boot parameter' : ''})`);
    }
    throw e;
  }
}
