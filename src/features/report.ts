// Every probe at once, for `ebpf feature probe` and for anyone wanting the whole picture.
import { AttachType, LinkType, MapType, ProgramType } from '../sys/generated.js';
import { kernelConfig, kernelVersion, type KernelVersion } from './kernel.js';
import { haveBpfLink, haveLinkType, havePmu } from './link.js';
import { haveMapType } from './map.js';
import { haveAttachType, haveProgramType } from './program.js';
import type { FeatureResult } from './result.js';

/** What `probeAll` finds. */
export interface FeatureReport {
  kernel: KernelVersion;
  /** The BPF-related part of the kernel config (CONFIG_BPF*, *BTF*, KPROBES, UPROBES, ...), when readable. */
  config: Record<string, string> | null;
  bpfLink: FeatureResult;
  mapTypes: FeatureResult[];
  programTypes: FeatureResult[];
  attachTypes: FeatureResult[];
  linkTypes: FeatureResult[];
  pmus: FeatureResult[];
}

const CONFIG_OF_INTEREST = /^CONFIG_(BPF|DEBUG_INFO_BTF|KPROBE|UPROBE|FTRACE|FUNCTION_TRACER|DYNAMIC_FTRACE|HAVE_EBPF_JIT|CGROUP_BPF|NET_CLS_BPF|NET_ACT_BPF|NET_SCH_INGRESS|XDP_SOCKETS|LWTUNNEL_BPF|PERF_EVENTS|TRACING|FPROBE|NETFILTER_BPF_LINK|IKCONFIG)/;

/** Values of a numeric enum, without the Unspec member. */
function members(e: Record<string, string | number>): number[] {
  return Object.values(e).filter((v): v is number => typeof v === 'number' && v !== 0);
}

/** Runs every probe (about a hundred map creations and program loads; cached, so a second call is free). */
export function probeAll(): FeatureReport {
  const config = kernelConfig();
  return {
    kernel: kernelVersion(),
    config: config === undefined ? null : Object.fromEntries([...config].filter(([k, v]) => CONFIG_OF_INTEREST.test(k) && v !== 'n')),
    bpfLink: haveBpfLink(),
    mapTypes: members(MapType).map((t) => haveMapType(t)),
    programTypes: members(ProgramType).map((t) => haveProgramType(t)),
    // Attach type 0 (cgroup inet ingress) is a real one.
    attachTypes: [0, ...members(AttachType)].map((t) => haveAttachType(t)),
    linkTypes: members(LinkType).map((t) => haveLinkType(t)),
    pmus: ['tracepoint', 'kprobe', 'uprobe'].map((name) => havePmu(name)),
  };
}
