// Traffic control over rtnetlink: the clsact qdisc and cls_bpf filters in direct-action mode on its
// ingress and egress hooks (what `tc qdisc add dev X clsact` and `tc filter add dev X ingress bpf da`
// do), listed, checked and deleted one by one.
import { withNetlink } from './socket.js';
import { Attrs, fixedHeader, htons, NL, nestedAttr, readS32, readU32, RTM, stringAttr, u32Attr, type Attr, type Message } from './message.js';

const TCMSG_SIZE = 20;
/** Traffic-control attributes (enum in linux/rtnetlink.h). */
const TCA = { KIND: 1, OPTIONS: 2, CHAIN: 11 } as const;
/** cls_bpf's attributes (linux/pkt_cls.h). */
const TCA_BPF = { CLASSID: 3, FD: 6, NAME: 7, FLAGS: 8, FLAGS_GEN: 9, TAG: 10, ID: 11 } as const;
const TCA_BPF_FLAG_ACT_DIRECT = 1;
/** TC_H_CLSACT (= TC_H_INGRESS): the clsact qdisc's parent; its handle is ffff:0. */
const TC_H_CLSACT = 0xfffffff1;
const CLSACT_HANDLE = 0xffff0000;
const TC_H_MIN_INGRESS = 0xfff2;
const TC_H_MIN_EGRESS = 0xfff3;
const ETH_P_ALL = 0x0003;

/** Which clsact hook: packets coming in, or going out. */
export type TcDirection = 'ingress' | 'egress';

/** The parent of a filter on clsact's hook: TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_{INGRESS,EGRESS}). */
function hookParent(direction: TcDirection): number {
  return ((TC_H_CLSACT & 0xffff0000) | (direction === 'ingress' ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS)) >>> 0;
}

function tcmsg(ifindex: number, handle: number, parent: number, info: number): Uint8Array {
  return fixedHeader(TCMSG_SIZE, [[4, 4, ifindex], [8, 4, handle], [12, 4, parent], [16, 4, info]]);
}

/** tcm_info of a filter: its priority in the high half, its protocol (network order) in the low. */
function filterInfo(priority: number, protocol = ETH_P_ALL): number {
  return ((priority << 16) | htons(protocol)) >>> 0;
}

/** A qdisc of an interface. */
export interface Qdisc {
  ifindex: number;
  kind: string;
  handle: number;
  parent: number;
}

function decodeQdisc(message: Message): Qdisc {
  const attrs = new Attrs(message.payload.subarray(TCMSG_SIZE));
  return { ifindex: readS32(message.payload, 4), handle: readU32(message.payload, 8), parent: readU32(message.payload, 12), kind: attrs.string(TCA.KIND) ?? '' };
}

/** The qdiscs of an interface (an RTM_GETQDISC dump, filtered by index). */
export function listQdiscs(ifindex: number): Qdisc[] {
  return withNetlink((socket) =>
    socket
      .request({ type: RTM.GETQDISC, flags: NL.F_DUMP, header: tcmsg(ifindex, 0, 0, 0) }, `qdiscs of interface ${ifindex}`)
      .filter((message) => message.type === RTM.NEWQDISC && message.payload.byteLength >= TCMSG_SIZE)
      .map(decodeQdisc)
      .filter((qdisc) => qdisc.ifindex === ifindex),
  );
}

/** Whether the interface has a clsact qdisc. */
export function hasClsact(ifindex: number): boolean {
  return listQdiscs(ifindex).some((qdisc) => qdisc.kind === 'clsact');
}

/**
 * Adds the clsact qdisc (NLM_F_EXCL): true when this call created it, false when it was there
 * already (then it is someone else's, and deleting it is theirs to do).
 */
export function addClsact(ifindex: number, context?: string): boolean {
  return withNetlink((socket) => {
    try {
      socket.request({ type: RTM.NEWQDISC, flags: NL.F_CREATE | NL.F_EXCL, header: tcmsg(ifindex, CLSACT_HANDLE, TC_H_CLSACT, 0), attrs: [stringAttr(TCA.KIND, 'clsact')] }, context);
      return true;
    } catch (e) {
      if (e instanceof Error && 'code' in e && e.code === 'EEXIST') return false;
      throw e;
    }
  });
}

/** Deletes the clsact qdisc (and with it every filter on its hooks). */
export function deleteClsact(ifindex: number, context?: string): void {
  withNetlink((socket) => socket.request({ type: RTM.DELQDISC, flags: 0, header: tcmsg(ifindex, CLSACT_HANDLE, TC_H_CLSACT, 0), attrs: [stringAttr(TCA.KIND, 'clsact')] }, context));
}

/** A filter on a clsact hook; `bpf` is set for cls_bpf filters. */
export interface TcFilter {
  ifindex: number;
  direction: TcDirection;
  priority: number;
  handle: number;
  kind: string;
  bpf?: { progId: number; name: string; directAction: boolean };
}

function decodeFilter(message: Message, direction: TcDirection): TcFilter {
  const info = readU32(message.payload, 16);
  const attrs = new Attrs(message.payload.subarray(TCMSG_SIZE));
  const filter: TcFilter = {
    ifindex: readS32(message.payload, 4),
    direction,
    priority: info >>> 16,
    handle: readU32(message.payload, 8),
    kind: attrs.string(TCA.KIND) ?? '',
  };
  const options = filter.kind === 'bpf' ? attrs.nested(TCA.OPTIONS) : undefined;
  if (options !== undefined) {
    filter.bpf = {
      progId: options.u32(TCA_BPF.ID) ?? 0,
      name: options.string(TCA_BPF.NAME) ?? '',
      directAction: ((options.u32(TCA_BPF.FLAGS) ?? 0) & TCA_BPF_FLAG_ACT_DIRECT) !== 0,
    };
  }
  return filter;
}

/** The filters on a clsact hook of the interface (RTM_GETTFILTER dump); none when it has no clsact. */
export function listFilters(ifindex: number, direction: TcDirection): TcFilter[] {
  return withNetlink((socket) => {
    try {
      return socket
        .request({ type: RTM.GETTFILTER, flags: NL.F_DUMP, header: tcmsg(ifindex, 0, hookParent(direction), 0) }, `${direction} filters of interface ${ifindex}`)
        .filter((message) => message.type === RTM.NEWTFILTER && message.payload.byteLength >= TCMSG_SIZE)
        .map((message) => decodeFilter(message, direction))
        .filter((filter) => filter.handle !== 0); // the per-priority head entries carry no filter
    } catch (e) {
      // No clsact qdisc: no hook to list.
      if (e instanceof Error && 'code' in e && (e.code === 'EINVAL' || e.code === 'ENOENT')) return [];
      throw e;
    }
  });
}

/** Options of addBpfFilter. */
export interface BpfFilterOptions {
  /** The program's fd. */
  fd: number;
  /** Shown by `tc filter show` (TCA_BPF_NAME). */
  name: string;
  /** 1..65535; 0 lets the kernel choose (from 49152 down). */
  priority?: number;
  /** The filter's handle; 0 lets the kernel choose. */
  handle?: number;
  /** Replace a filter at the same priority and handle (NLM_F_REPLACE) instead of failing with EEXIST. */
  replace?: boolean;
  context?: string;
}

/**
 * Adds a cls_bpf filter in direct-action mode on the clsact hook (which must exist), for every
 * protocol. Returns the priority and handle the filter got (the kernel's choice where 0 was given).
 */
export function addBpfFilter(ifindex: number, direction: TcDirection, options: BpfFilterOptions): { priority: number; handle: number } {
  const priority = options.priority ?? 0;
  const handle = options.handle ?? 0;
  const bpfAttrs: Attr[] = [u32Attr(TCA_BPF.FD, options.fd), stringAttr(TCA_BPF.NAME, options.name), u32Attr(TCA_BPF.FLAGS, TCA_BPF_FLAG_ACT_DIRECT)];
  const flags = NL.F_CREATE | NL.F_ECHO | (options.replace === true ? NL.F_REPLACE : NL.F_EXCL);
  const replies = withNetlink((socket) =>
    socket.request(
      {
        type: RTM.NEWTFILTER,
        flags,
        header: tcmsg(ifindex, handle, hookParent(direction), filterInfo(priority)),
        attrs: [stringAttr(TCA.KIND, 'bpf'), nestedAttr(TCA.OPTIONS, bpfAttrs)],
      },
      options.context,
    ),
  );
  const echo = replies.find((message) => message.type === RTM.NEWTFILTER && message.payload.byteLength >= TCMSG_SIZE);
  if (echo === undefined) return { priority, handle };
  const filter = decodeFilter(echo, direction);
  return { priority: filter.priority, handle: filter.handle };
}

/** The filter at this priority and handle, or undefined when there is none. */
export function getFilter(ifindex: number, direction: TcDirection, priority: number, handle: number): TcFilter | undefined {
  return withNetlink((socket) => {
    try {
      const [reply] = socket.request({ type: RTM.GETTFILTER, flags: 0, header: tcmsg(ifindex, handle, hookParent(direction), filterInfo(priority)), attrs: [stringAttr(TCA.KIND, 'bpf')] });
      return reply === undefined ? undefined : decodeFilter(reply, direction);
    } catch (e) {
      if (e instanceof Error && 'code' in e && (e.code === 'ENOENT' || e.code === 'EINVAL' || e.code === 'ENODEV')) return undefined;
      throw e;
    }
  });
}

/** Deletes the cls_bpf filter at this priority and handle. */
export function deleteFilter(ifindex: number, direction: TcDirection, priority: number, handle: number, context?: string): void {
  withNetlink((socket) => socket.request({ type: RTM.DELTFILTER, flags: 0, header: tcmsg(ifindex, handle, hookParent(direction), filterInfo(priority)), attrs: [stringAttr(TCA.KIND, 'bpf')] }, context));
}
