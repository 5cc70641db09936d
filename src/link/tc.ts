// TC: a program on an interface's ingress or egress, after the stack built the skb. Two ways: tcx links
// (BPF_LINK_CREATE with BPF_TCX_INGRESS/EGRESS, Linux 6.6+, ordered with before/after; gone with their
// fd) and the classic clsact qdisc + cls_bpf filter in direct-action mode over rtnetlink (what `tc`
// does; stays after the process exits until detached).
import { FD, linkCreateAttr } from '../sys/bpf.js';
import { SyscallError } from '../sys/errors.js';
import { ATTR, AttachType, BpfCmd, LinkType, ProgramType } from '../sys/generated.js';
import { haveLinkType } from '../features/link.js';
import { native } from '../sys/native.js';
import { getInterface } from '../netlink/link.js';
import { addBpfFilter, addClsact, deleteClsact, deleteFilter, getFilter, listFilters, type TcDirection } from '../netlink/tc.js';
import { Attachment, LinkAttachment, type AttachmentInfo } from './attachment.js';
import { checkInterfaceRef } from './xdp.js';
import { attachError, badInput, checkProgram, describePlace, programId, type AttachableProgram, type AttachPlace } from './attach-error.js';

export type { TcDirection } from '../netlink/tc.js';

/** mprog flags of BPF_LINK_CREATE / BPF_PROG_QUERY (linux/bpf.h #defines, which BTF does not carry). */
const BPF_F_BEFORE = 1 << 3;
const BPF_F_AFTER = 1 << 4;
const BPF_F_ID = 1 << 5;
const BPF_F_LINK = 1 << 13;

/**
 * Where a tcx program goes relative to another on the same hook: a program (its fd), an attachment
 * (a tcx link), or their kernel ids. `true` means before all / after all.
 */
export type TcxAnchor = { readonly fd: number; readonly type: ProgramType } | LinkAttachment | { programId: number } | { linkId: number } | true;

/** Where and how to attach a TC program. */
export interface TcAttachParams {
  /** The interface's name (or index), in the caller's network namespace. */
  interface: string | number;
  direction: TcDirection;
  /** 'tcx' (a bpf_link, default on Linux 6.6+) or 'classic' (clsact + cls_bpf, default before). */
  method?: 'tcx' | 'classic';
  /** tcx: run before this program/link (true: first). */
  before?: TcxAnchor;
  /** tcx: run after this program/link (true: last; the default order is last). */
  after?: TcxAnchor;
  /** tcx: fail unless the hook's revision is this one (BPF_PROG_QUERY gives it), so nothing changed meanwhile. */
  expectedRevision?: bigint;
  /** classic: the filter's priority, 1..65535 (default: the kernel's choice, 49152 then lower). */
  priority?: number;
  /** classic: the filter's handle (default: the kernel's choice). */
  handle?: number;
  /** classic: replace the filter at this priority and handle instead of failing with EEXIST. */
  replace?: boolean;
}

/** tcx links came with Linux 6.6: the default method falls back to classic filters before. */
function kernelHasTcx(): boolean {
  return haveLinkType(LinkType.TCX).supported;
}

const TCX_HINTS: Partial<Record<string, string>> = {
  EEXIST: 'this program is attached to this hook already (tcx runs each program once per hook)',
  ENOENT: 'the program or link named by before/after is not attached to this hook',
  ESTALE: 'expectedRevision does not match: the hook changed since it was read',
  EINVAL: 'the kernel refused the request: tcx needs Linux 6.6+, and before/after cannot both be given with different anchors',
  ENODEV: 'no such interface in this network namespace',
  EPERM: 'attaching TC programs needs CAP_NET_ADMIN (and CAP_BPF)',
};

const CLASSIC_HINTS: Partial<Record<string, string>> = {
  EEXIST: 'a filter exists at this priority and handle: pass `replace: true`, or another priority/handle',
  EINVAL: 'the kernel refused the filter (a program that is not SCHED_CLS, or a priority/handle it does not accept)',
  ENODEV: 'no such interface in this network namespace',
  ENOENT: 'the clsact qdisc went away meanwhile',
  EPERM: 'attaching TC programs needs CAP_NET_ADMIN',
};

function checkDirection(direction: unknown, where: AttachPlace): TcDirection {
  if (direction !== 'ingress' && direction !== 'egress') throw badInput(where, `direction ${JSON.stringify(direction)} is neither 'ingress' nor 'egress'`);
  return direction;
}

function checkU16(value: number | undefined, what: string, where: AttachPlace): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > 0xffff)) throw badInput(where, `${what} ${value} is not an integer in 0..65535`);
}

/**
 * Attaches a SCHED_CLS program to an interface's ingress or egress (libbpf's bpf_tc_attach /
 * bpf_program__attach_tcx, cilium/ebpf's AttachTCX). Bad input is refused before any attach.
 */
export function attachTc(program: AttachableProgram, params: TcAttachParams): Attachment {
  if (params === null || typeof params !== 'object') throw badInput({ program: program?.name, hook: 'tc', target: '' }, `expected TcAttachParams { interface, direction }, got ${String(params)}`);
  const where0: AttachPlace = { program: program?.name, hook: 'tc', target: `${String(params.interface)} ${String(params.direction)}` };
  const direction = checkDirection(params.direction, where0);
  const tcxAsked = params.before !== undefined || params.after !== undefined || params.expectedRevision !== undefined;
  const classicAsked = params.priority !== undefined || params.handle !== undefined || params.replace !== undefined;
  if (params.method !== undefined && params.method !== 'tcx' && params.method !== 'classic') throw badInput(where0, `method ${JSON.stringify(params.method)} is neither 'tcx' nor 'classic'`);
  if (tcxAsked && classicAsked) throw badInput(where0, `before/after/expectedRevision are tcx options, priority/handle/replace classic ones: not both`);
  const method = params.method ?? (classicAsked ? 'classic' : tcxAsked || kernelHasTcx() ? 'tcx' : 'classic');
  if (method === 'classic' && tcxAsked) throw badInput(where0, `before/after/expectedRevision need method 'tcx'`);
  if (method === 'tcx' && classicAsked) throw badInput(where0, `priority/handle/replace need method 'classic'`);
  checkU16(params.priority, 'priority', where0);
  const where1: AttachPlace = { ...where0, hook: method === 'tcx' ? 'tcx' : 'tc' };
  if (params.handle !== undefined && (!Number.isInteger(params.handle) || params.handle < 0 || params.handle > 0xffffffff)) throw badInput(where1, `handle ${params.handle} is not a u32`);
  checkInterfaceRef(params.interface, where1);
  const fd = checkProgram(program, [ProgramType.SchedCLS], where1, "'tc', 'tcx/ingress', 'tcx/egress' or 'classifier'");
  let ifindex: number;
  let ifname: string;
  try {
    ({ index: ifindex, name: ifname } = getInterface(params.interface));
  } catch (e) {
    throw attachError(e, where1, { ENODEV: `no interface ${typeof params.interface === 'number' ? `with index ${params.interface}` : `named ${JSON.stringify(params.interface)}`} in this network namespace` });
  }
  const where: AttachPlace = { ...where1, target: `${ifname} ${direction}` };
  if (method === 'tcx') return attachTcx(program, fd, ifindex, direction, params, where);
  return TcFilterAttachment.attach(program, fd, ifindex, direction, params, where);
}

function anchorFlags(anchor: TcxAnchor, where: AttachPlace, what: string): { flags: number; relative: number } {
  if (anchor === true) return { flags: 0, relative: 0 };
  if (anchor instanceof LinkAttachment) return { flags: BPF_F_LINK, relative: anchor.fd };
  if (typeof anchor === 'object' && anchor !== null) {
    if ('linkId' in anchor && Number.isInteger(anchor.linkId) && anchor.linkId > 0) return { flags: BPF_F_LINK | BPF_F_ID, relative: anchor.linkId };
    if ('programId' in anchor && Number.isInteger(anchor.programId) && anchor.programId > 0) return { flags: BPF_F_ID, relative: anchor.programId };
    if ('fd' in anchor) {
      let fd: number;
      try {
        fd = anchor.fd;
      } catch (e) {
        throw badInput(where, `the program given as ${what} is not loaded (${e instanceof Error ? e.message : String(e)})`);
      }
      if (Number.isInteger(fd) && fd >= 0) return { flags: 0, relative: fd };
    }
  }
  throw badInput(where, `${what} must be a loaded program, a tcx attachment, { programId } or { linkId }`);
}

function attachTcx(program: AttachableProgram, fd: number, ifindex: number, direction: TcDirection, params: TcAttachParams, where: AttachPlace): Attachment {
  const L = ATTR.LINK_CREATE;
  const { attr, view } = linkCreateAttr(fd, ifindex, direction === 'ingress' ? AttachType.TCXIngress : AttachType.TCXEgress);
  if (params.before !== undefined && params.after !== undefined) throw badInput(where, `give before or after, not both`);
  let flags = 0;
  if (params.before !== undefined || params.after !== undefined) {
    const before = params.before !== undefined;
    const anchor = anchorFlags((params.before ?? params.after) as TcxAnchor, where, before ? 'before' : 'after');
    flags = anchor.flags | (before ? BPF_F_BEFORE : BPF_F_AFTER);
    view.setUint32(L.tcx.relative_fd.offset, anchor.relative, true);
  }
  view.setUint32(L.flags.offset, flags, true);
  if (params.expectedRevision !== undefined) view.setBigUint64(L.tcx.expected_revision.offset, BigInt(params.expectedRevision), true);
  const ret = native().bpf(BpfCmd.LinkCreate, attr);
  if (ret < 0) throw attachError(new SyscallError(-ret, 'BPF_LINK_CREATE'), where, TCX_HINTS);
  return new LinkAttachment(where.hook, program.name, where.target, new FD(ret));
}

/** The programs on a tcx hook, in the order they run, and the hook's revision (BPF_PROG_QUERY). */
export interface TcxQuery {
  revision: bigint;
  programs: Array<{ programId: number; linkId: number }>;
}

/** What runs on an interface's tcx ingress or egress, first to last. */
export function queryTcx(iface: string | number, direction: TcDirection): TcxQuery {
  const { index } = getInterface(iface);
  const Q = ATTR.PROG_QUERY;
  for (let capacity = 16; ; capacity *= 4) {
    const attr = new Uint8Array(Q.SIZE);
    const view = new DataView(attr.buffer);
    view.setUint32(Q.target_ifindex.offset, index, true);
    view.setUint32(Q.attach_type.offset, direction === 'ingress' ? AttachType.TCXIngress : AttachType.TCXEgress, true);
    view.setUint32(Q.count.offset, capacity, true);
    const progIds = new Uint32Array(capacity);
    const linkIds = new Uint32Array(capacity);
    const ret = native().bpf(BpfCmd.ProgQuery, attr, Q.prog_ids.offset, progIds, Q.link_ids.offset, linkIds);
    const count = view.getUint32(Q.count.offset, true);
    if (ret === -28 /* ENOSPC */ && count > capacity) continue;
    if (ret < 0) throw new SyscallError(-ret, 'BPF_PROG_QUERY', `tcx ${direction} of interface ${String(iface)}`);
    const programs = [];
    for (let i = 0; i < count; i++) programs.push({ programId: progIds[i] ?? 0, linkId: linkIds[i] ?? 0 });
    return { revision: view.getBigUint64(Q.revision.offset, true), programs };
  }
}

/** Interfaces whose clsact qdisc this process created, with how many of its filters use it. */
const ourClsact = new Map<number, number>();

/**
 * A cls_bpf filter (direct action) on an interface's clsact hook. It outlives the process: detach()
 * removes the filter only while it still runs our program, and the clsact qdisc only if this process
 * created it and no filter is left on it.
 */
export class TcFilterAttachment extends Attachment {
  readonly ifindex: number;
  readonly direction: TcDirection;
  readonly priority: number;
  readonly handle: number;
  #programId: number;
  #programName: string;

  private constructor(where: AttachPlace, ifindex: number, direction: TcDirection, priority: number, handle: number, id: number) {
    super('tc', where.program, where.target);
    this.ifindex = ifindex;
    this.direction = direction;
    this.priority = priority;
    this.handle = handle;
    this.#programId = id;
    this.#programName = where.program;
  }

  static attach(program: AttachableProgram, fd: number, ifindex: number, direction: TcDirection, params: TcAttachParams, where: AttachPlace): TcFilterAttachment {
    const id = programId(fd);
    let created: boolean;
    try {
      created = addClsact(ifindex);
    } catch (e) {
      throw attachError(e, where, CLASSIC_HINTS);
    }
    if (created) ourClsact.set(ifindex, 0);
    const shared = ourClsact.get(ifindex);
    if (shared !== undefined) ourClsact.set(ifindex, shared + 1);
    try {
      const placed = addBpfFilter(ifindex, direction, { fd, name: program.name, priority: params.priority, handle: params.handle, replace: params.replace });
      return new TcFilterAttachment(where, ifindex, direction, placed.priority, placed.handle, id);
    } catch (e) {
      releaseClsact(ifindex);
      throw attachError(e, where, CLASSIC_HINTS);
    }
  }

  override info(): AttachmentInfo {
    return { ...super.info(), target: `${this.target} prio ${this.priority} handle 0x${this.handle.toString(16)}`, legacy: true };
  }

  /** Puts another program in this filter's place (NLM_F_REPLACE), if the filter still runs ours. */
  override update(program: { readonly fd: number; readonly name: string }): void {
    if (this.detached) throw new Error(`${this.describe()}: detached, cannot update to '${program.name}'`);
    const where = { program: program.name, hook: this.kind, target: this.target };
    if (getFilter(this.ifindex, this.direction, this.priority, this.handle)?.bpf?.progId !== this.#programId) {
      throw new Error(`${describePlace(where)}: the filter at priority ${this.priority} handle 0x${this.handle.toString(16)} no longer runs '${this.#programName}'`);
    }
    const id = programId(program.fd);
    try {
      addBpfFilter(this.ifindex, this.direction, { fd: program.fd, name: program.name, priority: this.priority, handle: this.handle, replace: true });
    } catch (e) {
      throw attachError(e, where, CLASSIC_HINTS);
    }
    this.#programId = id;
    this.#programName = program.name;
  }

  protected release(): void {
    try {
      const filter = getFilter(this.ifindex, this.direction, this.priority, this.handle);
      if (filter?.bpf?.progId === this.#programId) deleteFilter(this.ifindex, this.direction, this.priority, this.handle);
    } catch (e) {
      if (!(e instanceof SyscallError && (e.code === 'ENODEV' || e.code === 'ENOENT'))) throw attachError(e, { program: this.#programName, hook: this.kind, target: this.target }, CLASSIC_HINTS);
    } finally {
      releaseClsact(this.ifindex);
    }
  }
}

/** One filter of ours less on the interface's clsact: deletes it when we created it and it is empty. */
function releaseClsact(ifindex: number): void {
  const users = ourClsact.get(ifindex);
  if (users === undefined) return;
  if (users > 1) {
    ourClsact.set(ifindex, users - 1);
    return;
  }
  ourClsact.delete(ifindex);
  try {
    if (listFilters(ifindex, 'ingress').length === 0 && listFilters(ifindex, 'egress').length === 0) deleteClsact(ifindex);
  } catch (e) {
    if (!(e instanceof SyscallError && (e.code === 'ENODEV' || e.code === 'ENOENT' || e.code === 'EINVAL'))) throw e;
  }
}
