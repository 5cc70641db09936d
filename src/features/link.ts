// bpf_link probes: BPF_LINK_CREATE with a probe program and a target that cannot exist. A kernel that
// knows the link type stops at the target (EBADF, ENODEV); one that does not refuses the attach type
// (EINVAL). Link types whose target check also answers EINVAL are judged by kernel version, and say so.
import { quoted } from '../sys/describe.js';
import { existsSync, readFileSync } from 'node:fs';
import { Program } from '../program/program.js';
import { AttachType, BpfCmd, LinkType, linkTypeName, ProgramType } from '../sys/generated.js';
import { linkCreateAttr } from '../sys/bpf.js';
import { errnoCode } from '../sys/errors.js';
import { native } from '../sys/native.js';
import { kernelAtLeast } from './kernel.js';
import { haveAttachType, haveProgramType } from './program.js';
import { cached, supported, unsupported, type FeatureResult } from './result.js';

const BAD = 0x7fffffff;

/** BPF_LINK_CREATE with these fds; -errno or the new fd (closed here). */
function linkCreate(progFd: number, target: number, attachType: AttachType): number {
  const { attr } = linkCreateAttr(progFd, target, attachType);
  const ret = native().bpf(BpfCmd.LinkCreate, attr);
  if (ret >= 0) native().close(ret);
  return ret;
}

/** Whether the kernel has bpf_link (BPF_LINK_CREATE, 5.7+), as cilium/ebpf probes it. */
export function haveBpfLink(): FeatureResult {
  const feature = 'bpf_link (BPF_LINK_CREATE)';
  return cached(feature, () => {
    const ret = linkCreate(0xffffffff, 0xffffffff, AttachType.CgroupInetIngress);
    const code = errnoCode(-ret);
    return code === 'EBADF' ? supported(feature) : unsupported(feature, `BPF_LINK_CREATE: ${code}`);
  });
}

/** How a link type is probed: a program and a target the kernel must refuse, or a kernel version. */
type LinkProbe =
  | { program: ProgramType; attach: AttachType; expectedAttachType?: AttachType; known: readonly string[]; target?: number }
  | { since: [number, number]; needs?: ProgramType; needsAttach?: AttachType };

const LINK_PROBES: Partial<Record<LinkType, LinkProbe>> = {
  [LinkType.Cgroup]: { program: ProgramType.CgroupSKB, attach: AttachType.CgroupInetIngress, known: ['EBADF'] },
  [LinkType.Netns]: { program: ProgramType.FlowDissector, attach: AttachType.FlowDissector, known: ['EBADF'] },
  [LinkType.PerfEvent]: { program: ProgramType.Tracepoint, attach: AttachType.PerfEvent, known: ['EBADF'] },
  [LinkType.TCX]: { program: ProgramType.SchedCLS, attach: AttachType.TCXIngress, known: ['ENODEV'] },
  [LinkType.Netkit]: { since: [6, 7], needs: ProgramType.SchedCLS },
  [LinkType.SockMap]: { program: ProgramType.SKMsg, attach: AttachType.SKMsgVerdict, expectedAttachType: AttachType.SKMsgVerdict, known: ['EBADF'] },
  [LinkType.KprobeMulti]: { program: ProgramType.Kprobe, attach: AttachType.TraceKprobeMulti, expectedAttachType: AttachType.TraceKprobeMulti, known: ['EINVAL'], target: 0 },
  [LinkType.UprobeMulti]: { program: ProgramType.Kprobe, attach: AttachType.TraceUprobeMulti, expectedAttachType: AttachType.TraceUprobeMulti, known: ['EINVAL'], target: 0 },
  [LinkType.XDP]: { since: [5, 9], needs: ProgramType.XDP },
  [LinkType.RawTracepoint]: { since: [5, 8], needs: ProgramType.RawTracepoint },
  [LinkType.Tracing]: { since: [5, 8], needs: ProgramType.Tracing },
  [LinkType.Iter]: { since: [5, 9], needsAttach: AttachType.TraceIter },
  [LinkType.StructOps]: { since: [6, 4], needs: ProgramType.StructOps },
  [LinkType.Netfilter]: { since: [6, 4], needs: ProgramType.Netfilter },
};

/** Whether the kernel makes bpf_links of this type (cached per process). */
export function haveLinkType(type: LinkType): FeatureResult {
  const feature = `link type ${linkTypeName(type)}`;
  return cached(feature, () => {
    const probe = LINK_PROBES[type];
    if (probe === undefined) return unsupported(feature, 'not a link type');
    const link = haveBpfLink();
    if (!link.supported) return unsupported(feature, link.reason ?? 'no bpf_link');
    if ('since' in probe) {
      const [major, minor] = probe.since;
      if (probe.needs !== undefined) {
        const needs = haveProgramType(probe.needs);
        if (!needs.supported) return unsupported(feature, needs.reason ?? '');
      }
      if (probe.needsAttach !== undefined) {
        const needs = haveAttachType(probe.needsAttach);
        if (!needs.supported) return unsupported(feature, needs.reason ?? '');
      }
      const why = `by kernel version (a probe link would need a real target): ${major}.${minor}+`;
      return kernelAtLeast(major, minor) ? supported(feature, why) : unsupported(feature, why);
    }
    const type_ = haveProgramType(probe.program);
    if (!type_.supported) return unsupported(feature, type_.reason ?? '');
    const p = new Program({
      name: 'ebpf_probe',
      type: probe.program,
      license: 'GPL',
      instructions: Uint8Array.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]),
      ...(probe.expectedAttachType === undefined ? {} : { expectedAttachType: probe.expectedAttachType }),
    });
    try {
      p.load();
      const code = errnoCode(-linkCreate(p.fd, probe.target ?? BAD, probe.attach));
      return probe.known.includes(code) ? supported(feature) : unsupported(feature, `BPF_LINK_CREATE: ${code}`);
    } finally {
      p.close();
    }
  });
}

/**
 * Whether a perf event source (PMU) exists: "tracepoint", "kprobe", "uprobe", ... as listed in
 * /sys/bus/event_source/devices. kprobe's is missing where the kernel was built without kprobes.
 */
export function havePmu(name: string): FeatureResult {
  const feature = `perf event source ${quoted(name)}`;
  return cached(feature, () => {
    const path = `/sys/bus/event_source/devices/${name}/type`;
    if (!existsSync(path)) return unsupported(feature, `${path} does not exist${name === 'kprobe' ? ' (the kernel was built without CONFIG_KPROBES)' : ''}`);
    return /^\d+\s*$/.test(readFileSync(path, 'latin1')) ? supported(feature) : unsupported(feature, `${path} holds no PMU type`);
  });
}
