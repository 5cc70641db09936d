// Attaching programs (src/link): the common Attachment and one file per hook.
export { Attachment, LinkAttachment, linkInfo, type AttachmentInfo } from './attachment.js';
export { attachProgram } from './attach.js';
export { planAttach, parseTracepoint, parseUprobe, type AttachPlan, type AttachTarget, type AttachOptions, type TracepointTarget, type UprobeTarget, type KprobeTarget, type CgroupRef, type CgroupTarget, type NetnsTarget, type PerfEventTarget, type IterTarget } from './plan.js';
export { AttachError, type AttachableProgram } from './target.js';
export { attachTracepoint, attachRawTracepoint, attachTracing, type TracepointOptions } from './tracepoint.js';
export { attachUprobe, uprobeOffset } from './uprobe.js';
export { attachKprobe, kprobesUnavailableReason } from './kprobe.js';
export { KprobeAttachType } from './kprobe-type.js';
export { cleanupProbes, listProbes, type ProbeEvent } from './probe.js';
export { attachCgroup, attachNetns, attachPerfEvent, attachIter, onlineCpus, CgroupLegacyAttachment, IterAttachment } from './cgroup.js';
export { PerfEventAttachment, PerfType, type PerfAttachOptions } from './perf.js';
export { listLinks, linkInfoByFd, type LinkInfo } from './links.js';
export { resolveSymbol, functionSymbolNames, type ResolvedSymbol } from './elf-symbols.js';
export { tracefsDir } from './tracefs.js';
