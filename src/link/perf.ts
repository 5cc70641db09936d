// perf events as attach points: perf_event_open on a PMU (tracepoint, kprobe, uprobe, or a sampling
// event), then the program attached with a perf bpf_link (BPF_LINK_CREATE with BPF_PERF_EVENT, kernel
// 5.15+) or, on older kernels or when asked, PERF_EVENT_IOC_SET_BPF + PERF_EVENT_IOC_ENABLE. Either
// way the attachment ends with the perf event's fd: neither form outlives the process (a legacy
// tracefs probe event does: see probe.ts).
import { FD, linkCreateAttr, objPin } from '../sys/bpf.js';
import { PERF_ATTR, PERF_ATTR_FLAG, PERF_EVENT_IOC_DISABLE, PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_SET_BPF, PERF_FLAG_FD_CLOEXEC, perfEventAttr } from '../sys/perf-event.js';
import { check, SyscallError, Errno } from '../sys/errors.js';
import { ATTR, AttachType, BpfCmd } from '../sys/generated.js';
import { native } from '../sys/native.js';
import { Attachment, linkInfo, type AttachmentInfo } from './attachment.js';
import { linkTypeName } from '../sys/generated.js';

/** PERF_TYPE_* (include/uapi/linux/perf_event.h). */
export const PerfType = {
  Hardware: 0,
  Software: 1,
  Tracepoint: 2,
  HwCache: 3,
  Raw: 4,
  Breakpoint: 5,
} as const;


/** What perf_event_open is asked for. */
export interface PerfEventSpec {
  type: number;
  config: bigint | number;
  /** A kprobe/uprobe PMU's config1: the function name or binary path (NUL-terminated, kept alive by the caller). */
  config1String?: Uint8Array;
  config2?: bigint;
  /** Sampling: every N events (default 1). */
  samplePeriod?: bigint | number;
  /** Sampling: N times a second (instead of samplePeriod). */
  sampleFrequency?: number;
  /** Process to watch (-1: all). */
  pid?: number;
  /** CPU to watch (-1: any, needs a pid). */
  cpu?: number;
}

/** perf_event_open(spec); throws a SyscallError naming `context`. */
export function perfEventOpen(spec: PerfEventSpec, context: string): FD {
  // sample_period and sample_freq are one union field; attr.freq says which it is
  const period = spec.sampleFrequency !== undefined ? BigInt(spec.sampleFrequency) : BigInt(spec.samplePeriod ?? 1);
  const { attr, view } = perfEventAttr(spec.type, BigInt(spec.config), period);
  view.setBigUint64(PERF_ATTR.flags, spec.sampleFrequency !== undefined ? PERF_ATTR_FLAG.freq : 0n, true);
  view.setUint32(PERF_ATTR.wakeupEvents, 1, true);
  if (spec.config2 !== undefined) view.setBigUint64(PERF_ATTR.config2, spec.config2, true);
  const pid = spec.pid ?? -1;
  const cpu = spec.cpu ?? (pid < 0 ? 0 : -1);
  const ret = native().perfEventOpen(attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC, spec.config1String ?? null);
  return new FD(check(ret, 'perf_event_open', context));
}

/** How a program is put on a perf event. */
export interface PerfAttachOptions {
  /** PERF_EVENT_IOC_SET_BPF instead of a bpf_link (kernels before 5.15 have only that). */
  legacy?: boolean;
  /** bpf_get_attach_cookie()'s value (bpf_link form only). */
  cookie?: bigint;
}

/** Runs once after the perf event's fd is closed (removes a legacy tracefs probe event, say). */
type AfterClose = () => void;

/**
 * A program on a perf event: a perf bpf_link or the ioctl form. `extra` are more events of the same
 * attachment (a sampling program on every CPU), released with it.
 */
export class PerfEventAttachment extends Attachment {
  readonly #events: FD[];
  readonly #links: FD[];
  readonly #afterClose: AfterClose | undefined;
  readonly #legacyEvent: boolean;

  /** @internal */
  constructor(kind: string, program: string, target: string, events: FD[], links: FD[], afterClose?: AfterClose, legacyEvent = false) {
    super(kind, program, target);
    this.#events = events;
    this.#links = links;
    this.#afterClose = afterClose;
    this.#legacyEvent = legacyEvent;
  }

  /** The perf event fds (one per CPU for sampling programs). */
  get perfEventFds(): number[] {
    return this.#events.map((fd) => fd.fd);
  }

  override info(): AttachmentInfo {
    const base = { ...super.info(), legacy: this.#links.length === 0 || this.#legacyEvent };
    const link = this.#links[0];
    if (link === undefined || link.closed) return base;
    const head = linkInfo(link);
    return { ...base, linkId: head.id, linkType: linkTypeName(head.type) };
  }

  /** Pins the perf bpf_link (a perf event attached with the ioctl form has none to pin). */
  override pin(path: string): void {
    const link = this.#links[0];
    if (link === undefined || this.#links.length > 1) return super.pin(path);
    objPin(link, path);
  }

  protected release(): void {
    const errors: unknown[] = [];
    for (const fd of this.#links) collect(errors, () => fd.close());
    for (const fd of this.#events) {
      if (this.#links.length === 0 && !fd.closed) native().ioctl(fd.fd, PERF_EVENT_IOC_DISABLE, 0);
      collect(errors, () => fd.close());
    }
    if (this.#afterClose !== undefined) collect(errors, this.#afterClose);
    if (errors.length > 0) throw errors[0];
  }
}

function collect(errors: unknown[], fn: () => void): void {
  try {
    fn();
  } catch (e) {
    errors.push(e);
  }
}

/**
 * Puts program on the perf event `event` (owned: closed on failure). Returns the link fd, or
 * undefined for the ioctl form (options.legacy, or a kernel without perf links: EINVAL).
 */
export function attachToPerfEvent(programFd: number, event: FD, options: PerfAttachOptions, context: string): FD | undefined {
  if (!options.legacy) {
    const { attr, view } = linkCreateAttr(programFd, event.fd, AttachType.PerfEvent);
    if (options.cookie !== undefined) view.setBigUint64(ATTR.LINK_CREATE.perf_event.bpf_cookie.offset, options.cookie, true);
    const ret = native().bpf(BpfCmd.LinkCreate, attr);
    if (ret >= 0) return new FD(ret);
    // Kernels before 5.15 have no perf links: fall back to the ioctl, as libbpf does.
    if (ret !== -Errno.EINVAL || options.cookie !== undefined) {
      event.close();
      throw new SyscallError(-ret, 'BPF_LINK_CREATE', `${context}${hint(-ret)}`);
    }
  }
  let ret = native().ioctl(event.fd, PERF_EVENT_IOC_SET_BPF, programFd);
  if (ret >= 0) ret = native().ioctl(event.fd, PERF_EVENT_IOC_ENABLE, 0);
  if (ret < 0) {
    event.close();
    throw new SyscallError(-ret, 'ioctl(PERF_EVENT_IOC_SET_BPF)', `${context}${hint(-ret)}`);
  }
  return undefined;
}

/** The usual causes of a refused perf attach. */
function hint(errno: number): string {
  if (errno === Errno.EINVAL) return ' (is the program of the type the event needs? tracepoint programs on tracepoints, kprobe programs on kprobes and uprobes, perf_event programs on sampling events)';
  if (errno === Errno.EEXIST) return ' (a program is already on this perf event)';
  if (errno === Errno.EPERM || errno === Errno.EACCES) return ' (needs root: CAP_PERFMON and CAP_BPF)';
  return '';
}
