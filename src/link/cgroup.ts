// cgroup hooks (cgroup_skb/ingress|egress, cgroup/sock_create, cgroup/connect4, sockops, device,
// sysctl, sockopt, ...) by cgroup path or fd: a bpf_link by default (BPF_LINK_CREATE: gone with its
// fd), or BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI (legacy: the program STAYS attached to the cgroup
// after the process exits, until detached or the cgroup is removed). Also the network-namespace
// hooks (sk_lookup, flow_dissector) through links, perf_event programs on a sampling event, and
// iterators (iter/...) whose links are read as a stream.
import { createReadStream, openSync, readFileSync, readSync, type ReadStream } from 'node:fs';
import { constants as fsConstants } from 'node:fs';
import { FD, linkCreateAttr } from '../sys/bpf.js';
import { check, SyscallError, Errno } from '../sys/errors.js';
import { ATTR, AttachType, attachTypeName, BPF_F_ALLOW_MULTI, BpfCmd, ProgramType } from '../sys/generated.js';
import { native } from '../sys/native.js';
import { Attachment, LinkAttachment } from './attachment.js';
import { attachToPerfEvent, perfEventOpen, PerfEventAttachment } from './perf.js';
import { AttachError, describe, programFd, type AttachableProgram } from './target.js';
import { cgroupAttachType, cgroupCauses, withCauses, CGROUP_PROGRAM_TYPES, type CgroupRef, type CgroupTarget, type IterTarget, type NetnsTarget, type PerfEventTarget } from './plan.js';

export type { CgroupRef, CgroupTarget, IterTarget, NetnsTarget, PerfEventTarget };

/** The attr of BPF_PROG_ATTACH and BPF_PROG_DETACH (one struct): target, program, hook, flags. */
function progAttachAttr(targetFd: number, programFd: number, attachType: AttachType, flags = 0): Uint8Array {
  const F = ATTR.PROG_ATTACH;
  const attr = new Uint8Array(F.SIZE);
  const view = new DataView(attr.buffer);
  view.setUint32(F.target_fd.offset, targetFd, true);
  view.setUint32(F.attach_bpf_fd.offset, programFd, true);
  view.setUint32(F.attach_type.offset, attachType, true);
  view.setUint32(F.attach_flags.offset, flags, true);
  return attr;
}

/** Opens a path as a directory fd (O_RDONLY|O_DIRECTORY) for cgroup / netns targets; a number is used as is. */
function openTarget(program: AttachableProgram, hook: string, ref: CgroupRef, directory: boolean): { fd: number; owned: FD | undefined; text: string } {
  if (typeof ref === 'number') {
    if (!Number.isInteger(ref) || ref < 0) throw new AttachError(program, hook, String(ref), 'not a file descriptor');
    return { fd: ref, owned: undefined, text: `fd ${ref}` };
  }
  if (typeof ref !== 'string' || ref === '') throw new AttachError(program, hook, JSON.stringify(ref), 'give a path or an fd');
  let fd: number;
  try {
    fd = openSync(ref, directory ? fsConstants.O_RDONLY | fsConstants.O_DIRECTORY : 'r');
  } catch (e) {
    throw new AttachError(program, hook, ref, `cannot open it: ${(e as Error).message}${directory ? ' (a cgroup is a directory of a cgroup v2 mount, e.g. /sys/fs/cgroup/unified/NAME)' : ''}`);
  }
  return { fd, owned: new FD(fd), text: ref };
}


/** A program attached to a cgroup with BPF_PROG_ATTACH: outlives the process until detach() or the cgroup goes. */
export class CgroupLegacyAttachment extends Attachment {
  readonly #cgroup: FD;
  readonly #programFd: FD;
  readonly #attachType: AttachType;

  /** @internal */
  constructor(program: string, target: string, cgroup: FD, programFd: FD, attachType: AttachType) {
    super('cgroup', program, target);
    this.#cgroup = cgroup;
    this.#programFd = programFd;
    this.#attachType = attachType;
  }

  /** The cgroup hook (BPF_CGROUP_INET_EGRESS, ...). */
  get attachType(): AttachType {
    return this.#attachType;
  }

  protected release(): void {
    try {
      const attr = progAttachAttr(this.#cgroup.fd, this.#programFd.fd, this.#attachType);
      const ret = native().bpf(BpfCmd.ProgDetach, attr);
      // ENOENT: already gone (the cgroup was removed, or someone detached it).
      if (ret < 0 && ret !== -Errno.ENOENT) throw new SyscallError(-ret, 'BPF_PROG_DETACH', this.describe());
    } finally {
      this.#programFd.close();
      this.#cgroup.close();
    }
  }
}

/** Attaches a cgroup program to a cgroup (cilium/ebpf's link.AttachCgroup). */
export function attachCgroup(program: AttachableProgram, target: CgroupTarget): Attachment {
  const text = typeof target.cgroup === 'number' ? `fd ${target.cgroup}` : String(target.cgroup);
  const attachType = cgroupAttachType(program, target.attachType, text);
  const fd = programFd(program, 'cgroup', text, CGROUP_PROGRAM_TYPES);
  const hook = `cgroup ${attachTypeName(attachType)}`;
  const cgroup = openTarget(program, hook, target.cgroup, true);
  const context = `${describe(program)} on ${hook} ${cgroup.text}`;
  try {
    if (!target.legacy) {
      const { attr } = linkCreateAttr(fd, cgroup.fd, attachType);
      const ret = native().bpf(BpfCmd.LinkCreate, attr);
      if (ret < 0) throw new SyscallError(-ret, 'BPF_LINK_CREATE', withCauses(context, cgroupCauses(-ret, false)));
      return new LinkAttachment('cgroup', program.name, cgroup.text, new FD(ret));
    }
    const attr = progAttachAttr(cgroup.fd, fd, attachType, BPF_F_ALLOW_MULTI);
    const ret = native().bpf(BpfCmd.ProgAttach, attr);
    if (ret < 0) throw new SyscallError(-ret, 'BPF_PROG_ATTACH', withCauses(context, cgroupCauses(-ret, true)));
    // The detach needs the cgroup and the program: both kept open (the program by a dup of its fd).
    const owned = cgroup.owned ?? new FD(check(native().dup(cgroup.fd), 'dup', context));
    const programDup = new FD(check(native().dup(fd), 'dup', context));
    cgroup.owned = undefined;
    return new CgroupLegacyAttachment(program.name, cgroup.text, owned, programDup, attachType);
  } finally {
    cgroup.owned?.close();
  }
}


/** Attaches an sk_lookup or flow_dissector program to a network namespace through a bpf_link. */
export function attachNetns(program: AttachableProgram, target: NetnsTarget): LinkAttachment {
  const text = typeof target.netns === 'number' ? `fd ${target.netns}` : String(target.netns);
  const hook = program.type === ProgramType.FlowDissector ? 'flow_dissector' : 'sk_lookup';
  const fd = programFd(program, hook, text, [ProgramType.SKLookup, ProgramType.FlowDissector]);
  const attachType = program.type === ProgramType.FlowDissector ? AttachType.FlowDissector : AttachType.SKLookup;
  const netns = openTarget(program, hook, target.netns, false);
  try {
    const { attr } = linkCreateAttr(fd, netns.fd, attachType);
    const ret = native().bpf(BpfCmd.LinkCreate, attr);
    if (ret < 0) throw new SyscallError(-ret, 'BPF_LINK_CREATE', `${describe(program)} on ${hook} netns ${netns.text} (EINVAL: not a network namespace fd; EEXIST: a flow dissector is already attached there)`);
    return new LinkAttachment(hook, program.name, netns.text, new FD(ret));
  } finally {
    netns.owned?.close();
  }
}


/** The online CPUs (/sys/devices/system/cpu/online, e.g. "0-3,5"). */
export function onlineCpus(): number[] {
  const text = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  const cpus: number[] = [];
  for (const part of text.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || !Number.isInteger(a)) continue;
    for (let c = a; c <= (b ?? a); c++) cpus.push(c);
  }
  return cpus;
}

/** Attaches a perf_event program to a sampling event on one or every CPU. */
export function attachPerfEvent(program: AttachableProgram, target: PerfEventTarget): PerfEventAttachment {
  const text = `type ${target.type} config ${target.config}`;
  const fd = programFd(program, 'perf_event', text, [ProgramType.PerfEvent]);
  if (target.samplePeriod === undefined && target.sampleFrequency === undefined) {
    throw new AttachError(program, 'perf_event', text, 'give samplePeriod or sampleFrequency');
  }
  const cpus = target.cpu !== undefined ? [target.cpu] : target.pid !== undefined ? [-1] : onlineCpus();
  const events: FD[] = [];
  const links: FD[] = [];
  try {
    for (const cpu of cpus) {
      const context = `${describe(program)} on perf_event ${text} cpu ${cpu}`;
      const spec = { type: target.type, config: target.config, cpu, ...(target.pid !== undefined ? { pid: target.pid } : {}),
        ...(target.sampleFrequency !== undefined ? { sampleFrequency: target.sampleFrequency } : { samplePeriod: target.samplePeriod ?? 1 }) };
      const event = perfEventOpen(spec, context);
      const link = attachToPerfEvent(fd, event, { legacy: target.legacy, cookie: target.cookie }, context);
      events.push(event);
      if (link !== undefined) links.push(link);
    }
  } catch (e) {
    for (const f of [...links, ...events]) f.close();
    throw e;
  }
  return new PerfEventAttachment('perf_event', program.name, text, events, links);
}


/** An iterator link: each open() starts a walk whose output is read like a file. */
export class IterAttachment extends LinkAttachment {
  /** BPF_ITER_CREATE: a new walk, read with read()/readSync until EOF. */
  open(): FD {
    const F = ATTR.ITER_CREATE;
    const attr = new Uint8Array(F.SIZE);
    new DataView(attr.buffer).setUint32(F.link_fd.offset, this.fd, true);
    return new FD(check(native().bpf(BpfCmd.IterCreate, attr), 'BPF_ITER_CREATE', this.describe()));
  }

  /** Runs one walk and returns all its output (at most maxBytes: longer output is an error). */
  read(maxBytes = 64 << 20): Uint8Array {
    const fd = this.open();
    try {
      const chunks: Uint8Array[] = [];
      let total = 0;
      for (;;) {
        const chunk = new Uint8Array(64 * 1024);
        const n = readSync(fd.fd, chunk, 0, chunk.length, null);
        if (n === 0) break;
        total += n;
        if (total > maxBytes) throw new RangeError(`${this.describe()}: the iterator's output passed ${maxBytes} bytes`);
        chunks.push(chunk.subarray(0, n));
      }
      return Buffer.concat(chunks);
    } finally {
      fd.close();
    }
  }

  /** One walk's output as text. */
  text(maxBytes?: number): string {
    return new TextDecoder().decode(this.read(maxBytes));
  }

  /** One walk as a Node stream (closes its fd at the end). */
  stream(): ReadStream {
    const fd = this.open();
    // The stream owns a dup (closed by the stream), and ours closes now.
    const own = check(native().dup(fd.fd), 'dup', this.describe());
    fd.close();
    return createReadStream('', { fd: own, autoClose: true });
  }
}

/** Attaches an iterator program (iter/task, iter/bpf_map, iter/bpf_map_elem, ...) as a link. */
export function attachIter(program: AttachableProgram, target: IterTarget = {}): IterAttachment {
  const name = program.sectionTarget ?? 'iter';
  const fd = programFd(program, 'iter', name, [ProgramType.Tracing]);
  if (program.expectedAttachType !== AttachType.TraceIter) throw new AttachError(program, 'iter', name, 'the program is not an iterator (section iter/...)');
  const F = ATTR.LINK_CREATE;
  const { attr, view } = linkCreateAttr(fd, 0, AttachType.TraceIter);
  // union bpf_iter_link_info: map { map_fd } | cgroup { order, cgroup_fd, cgroup_id } | task { tid, pid, pid_fd }.
  let info: Uint8Array | null = null;
  if (target.mapFd !== undefined || target.tid !== undefined || target.pid !== undefined) {
    info = new Uint8Array(16);
    const iv = new DataView(info.buffer);
    if (target.mapFd !== undefined) iv.setUint32(0, target.mapFd, true);
    else {
      iv.setUint32(0, target.tid ?? 0, true);
      iv.setUint32(4, target.pid ?? 0, true);
    }
    view.setUint32(F.iter_info_len.offset, info.byteLength, true);
  }
  const ret = native().bpf(BpfCmd.LinkCreate, attr, F.iter_info.offset, info);
  if (ret < 0) throw new SyscallError(-ret, 'BPF_LINK_CREATE', `${describe(program)} on iter ${name} (EINVAL: the iterator needs a map or another target, or this one takes none)`);
  return new IterAttachment('iter', program.name, name, new FD(ret));
}
