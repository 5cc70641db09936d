// perf events as attach points: perf_event_open on a PMU (tracepoint, kprobe, uprobe, or a sampling
// event), then the program attached with a perf bpf_link (BPF_LINK_CREATE with BPF_PERF_EVENT, kernel
// 5.15+) or, on older kernels or when asked, PERF_EVENT_IOC_SET_BPF + PERF_EVENT_IOC_ENABLE. Either
// way the attachment ends with the perf event's fd: neither form outlives the process (a legacy
// tracefs probe event does: see probe.ts).
import { constants } from 'node:os';
import { FD, linkCreateAttr } from '../sys/bpf.js';
import { check, SyscallError } from '../sys/errors.js';
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

/** sizeof(struct perf_event_attr) as of PERF_ATTR_SIZE_VER7. */
const PERF_ATTR_SIZE = 128;
const ATTR_OFF = { type: 0, size: 4, config: 8, samplePeriod: 16, sampleType: 24, flags: 40, wakeupEvents: 48, config1: 56, config2: 64 } as const;
/** perf_event_attr flag bits. */
const FLAG_FREQ = 1n << 10n;
const PERF_FLAG_FD_CLOEXEC = 8;
/** _IOW('$', 8, __u32), _IO('$', 0), _IO('$', 1). */
const PERF_EVENT_IOC_SET_BPF = 0x40042408;
const PERF_EVENT_IOC_ENABLE = 0x2400;
const PERF_EVENT_IOC_DISABLE = 0x2401;

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
  const attr = new Uint8Array(PERF_ATTR_SIZE);
  const view = new DataView(attr.buffer);
  view.setUint32(ATTR_OFF.type, spec.type, true);
  view.setUint32(ATTR_OFF.size, PERF_ATTR_SIZE, true);
  view.setBigUint64(ATTR_OFF.config, BigInt(spec.config), true);
  let flags = 0n;
  if (spec.sampleFrequency !== undefined) {
    view.setBigUint64(ATTR_OFF.samplePeriod, BigInt(spec.sampleFrequency), true);
    flags |= FLAG_FREQ;
  } else {
    view.setBigUint64(ATTR_OFF.samplePeriod, BigInt(spec.samplePeriod ?? 1), true);
  }
  view.setBigUint64(ATTR_OFF.flags, flags, true);
  view.setUint32(ATTR_OFF.wakeupEvents, 1, true);
  if (spec.config2 !== undefined) view.setBigUint64(ATTR_OFF.config2, spec.config2, true);
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
    if (ret !== -constants.errno.EINVAL || options.cookie !== undefined) {
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
  if (errno === constants.errno.EINVAL) return ' (is the program of the type the event needs? tracepoint programs on tracepoints, kprobe programs on kprobes and uprobes, perf_event programs on sampling events)';
  if (errno === constants.errno.EEXIST) return ' (a program is already on this perf event)';
  if (errno === constants.errno.EPERM || errno === constants.errno.EACCES) return ' (needs root: CAP_PERFMON and CAP_BPF)';
  return '';
}
