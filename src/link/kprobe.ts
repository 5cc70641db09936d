// Kprobes: a kprobe-type program on a kernel function's entry (kprobe) or return (kretprobe), through
// the kprobe PMU, or legacy tracefs kprobe_events (named ebpf_<pid>/..., removed by cleanupProbes).
// goebpf's KprobeAttachType picks entry or return. On a kernel without kprobes (CONFIG_KPROBES off)
// the attach fails saying so, before any syscall.
import { ProgramType } from '../sys/generated.js';
import type { PerfEventAttachment } from './perf.js';
import { KprobeAttachType } from './kprobe-type.js';
import { attachProbe, probeEventsFile, probePmu } from './probe.js';
import { AttachError, describe, programFd, type AttachableProgram } from './target.js';
import type { KprobeTarget } from './plan.js';

export type { KprobeTarget };

/** Whether this kernel has kprobes (a kprobe PMU or tracefs kprobe_events), and why not. */
export function kprobesUnavailableReason(): string | undefined {
  if (probePmu('kprobe') !== undefined) return undefined;
  try {
    if (probeEventsFile('kprobe') !== undefined) return undefined;
  } catch (e) {
    return `no kprobe PMU in /sys/bus/event_source/devices and tracefs is not available (${(e as Error).message})`;
  }
  return 'this kernel has no kprobes (CONFIG_KPROBES is off: no kprobe PMU in /sys/bus/event_source/devices/kprobe, no kprobe_events in tracefs)';
}

/** Attaches a kprobe-type program to a kernel function (cilium/ebpf's link.Kprobe / Kretprobe). */
export function attachKprobe(program: AttachableProgram, target: KprobeTarget): PerfEventAttachment {
  const attachType = target.attachType ?? (program.section?.startsWith('kretprobe') === true ? KprobeAttachType.Return : KprobeAttachType.Entry);
  const hook = KprobeAttachType.toString(attachType);
  const m = typeof target.symbol === 'string' ? /^([A-Za-z_][A-Za-z0-9_.]*)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(target.symbol) : null;
  if (m === null) throw new AttachError(program, hook, JSON.stringify(target.symbol), 'a kprobe target is a kernel function name (as in /proc/kallsyms), optionally +offset');
  const fd = programFd(program, hook, target.symbol, [ProgramType.Kprobe]);
  const missing = kprobesUnavailableReason();
  if (missing !== undefined) throw new AttachError(program, hook, target.symbol, missing);
  const offset = m[2] === undefined ? 0n : BigInt(m[2]);
  return attachProbe(fd, program.name, {
    kind: 'kprobe', retprobe: attachType === KprobeAttachType.Return, location: m[1]!, offset, symbol: target.symbol,
    legacy: target.legacy, attach: { legacy: target.legacy, cookie: target.cookie },
  }, target.symbol, `${describe(program)} on ${hook} ${target.symbol}`);
}
