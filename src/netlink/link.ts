// Network interfaces over rtnetlink: name ↔ index (RTM_GETLINK), listing, and the XDP program of an
// interface (IFLA_XDP: attach/replace/detach with RTM_SETLINK, and what is attached, with its mode).
import { NetlinkError, withNetlink, type NetlinkSocket } from './socket.js';
import { Attrs, fixedHeader, NL, nestedAttr, readS32, readU32, RTM, s32Attr, stringAttr, u32Attr, type Attr, type Message } from './message.js';

/** Interface attributes (enum in linux/if_link.h). */
const IFLA = { IFNAME: 3, MTU: 4, EXT_MASK: 29, XDP: 43 } as const;
/** IFLA_XDP's nested attributes. */
const IFLA_XDP = { FD: 1, ATTACHED: 2, FLAGS: 3, PROG_ID: 4, DRV_PROG_ID: 5, SKB_PROG_ID: 6, HW_PROG_ID: 7, EXPECTED_FD: 8 } as const;
/** Dumps leave out the (large) statistics. */
const RTEXT_FILTER_SKIP_STATS = 1 << 3;
const IFINFOMSG_SIZE = 16;
/** IFNAMSIZ: names are at most 15 bytes and a NUL. */
const IFNAMSIZ = 16;

/** XDP flags of IFLA_XDP_FLAGS and BPF_LINK_CREATE (linux/if_link.h). */
export const XDP_FLAGS = {
  UPDATE_IF_NOEXIST: 1 << 0,
  SKB_MODE: 1 << 1,
  DRV_MODE: 1 << 2,
  HW_MODE: 1 << 3,
  REPLACE: 1 << 4,
  MODES: (1 << 1) | (1 << 2) | (1 << 3),
} as const;

/** How an XDP program is attached to an interface (IFLA_XDP_ATTACHED). */
export type XdpAttachedMode = 'none' | 'driver' | 'generic' | 'offload' | 'multi';
const ATTACHED_MODES: readonly XdpAttachedMode[] = ['none', 'driver', 'generic', 'offload', 'multi'];

/** The XDP programs on an interface, by mode (0: none). */
export interface XdpState {
  mode: XdpAttachedMode;
  /** The program's id when one mode is attached (IFLA_XDP_PROG_ID), else 0. */
  progId: number;
  driverProgId: number;
  genericProgId: number;
  offloadProgId: number;
}

/** A network interface as RTM_GETLINK describes it. */
export interface Interface {
  index: number;
  name: string;
  /** IFF_* flags (IFF_UP = 1). */
  flags: number;
  mtu: number | undefined;
  xdp: XdpState;
}

/**
 * Checks an interface name as the kernel would (dev_valid_name): 1 to 15 bytes, not "." or "..", no
 * '/', ':' or whitespace. Throws a TypeError naming `what` and the name, before any syscall.
 */
export function checkInterfaceName(name: string, what = 'interface'): void {
  const bytes = typeof name === 'string' ? new TextEncoder().encode(name).byteLength : 0;
  if (typeof name !== 'string' || bytes === 0 || bytes >= IFNAMSIZ || name === '.' || name === '..' || /[/:\s\0]/.test(name)) {
    throw new TypeError(`${what} ${typeof name === 'string' ? JSON.stringify(name) : String(name)} is not a valid interface name (1 to ${IFNAMSIZ - 1} bytes, no '/', ':' or whitespace)`);
  }
}

function ifinfomsg(index: number): Uint8Array {
  // family AF_UNSPEC, type 0, index, flags 0, change 0.
  return fixedHeader(IFINFOMSG_SIZE, [[4, 4, index]]);
}

function decodeXdp(attrs: Attrs | undefined): XdpState {
  const mode = ATTACHED_MODES[attrs?.u8(IFLA_XDP.ATTACHED) ?? 0] ?? 'none';
  return {
    mode,
    progId: attrs?.u32(IFLA_XDP.PROG_ID) ?? 0,
    driverProgId: attrs?.u32(IFLA_XDP.DRV_PROG_ID) ?? (mode === 'driver' ? attrs?.u32(IFLA_XDP.PROG_ID) ?? 0 : 0),
    genericProgId: attrs?.u32(IFLA_XDP.SKB_PROG_ID) ?? (mode === 'generic' ? attrs?.u32(IFLA_XDP.PROG_ID) ?? 0 : 0),
    offloadProgId: attrs?.u32(IFLA_XDP.HW_PROG_ID) ?? (mode === 'offload' ? attrs?.u32(IFLA_XDP.PROG_ID) ?? 0 : 0),
  };
}

function decodeLink(message: Message): Interface {
  if (message.type !== RTM.NEWLINK || message.payload.byteLength < IFINFOMSG_SIZE) {
    throw new Error(`expected an RTM_NEWLINK netlink message of at least ${IFINFOMSG_SIZE} bytes, got type ${message.type} of ${message.payload.byteLength}`);
  }
  const attrs = new Attrs(message.payload.subarray(IFINFOMSG_SIZE));
  return {
    index: readS32(message.payload, 4),
    name: attrs.string(IFLA.IFNAME) ?? '',
    flags: readU32(message.payload, 8),
    mtu: attrs.u32(IFLA.MTU),
    xdp: decodeXdp(attrs.nested(IFLA.XDP)),
  };
}

function getLinkWith(socket: NetlinkSocket, ref: string | number): Interface {
  const byName = typeof ref === 'string';
  if (byName) checkInterfaceName(ref);
  else if (!Number.isInteger(ref) || ref <= 0 || ref > 0x7fffffff) throw new TypeError(`interface index ${ref} is not a positive integer`);
  const attrs: Attr[] = [u32Attr(IFLA.EXT_MASK, RTEXT_FILTER_SKIP_STATS)];
  if (byName) attrs.push(stringAttr(IFLA.IFNAME, ref));
  try {
    const [reply] = socket.request({ type: RTM.GETLINK, flags: 0, header: ifinfomsg(byName ? 0 : ref), attrs }, `interface ${ref}`);
    if (reply === undefined) throw new Error(`RTM_GETLINK: no reply for interface ${ref}`);
    return decodeLink(reply);
  } catch (e) {
    if (e instanceof NetlinkError && e.code === 'ENODEV') {
      throw new NetlinkError(e.errno, 'RTM_GETLINK', `no interface ${byName ? `named ${JSON.stringify(ref)}` : `with index ${ref}`} in this network namespace`, e.extack);
    }
    throw e;
  }
}

/** The interface with this name or index (in the caller's network namespace); ENODEV says there is none. */
export function getInterface(ref: string | number): Interface {
  return withNetlink((socket) => getLinkWith(socket, ref));
}

/** if_nametoindex over netlink: the index of the interface named `name`. */
export function interfaceIndex(name: string): number {
  return getInterface(name).index;
}

/** if_indextoname over netlink: the name of the interface with this index. */
export function interfaceName(index: number): string {
  return getInterface(index).name;
}

/** Every interface of the caller's network namespace (an RTM_GETLINK dump). */
export function listInterfaces(): Interface[] {
  return withNetlink((socket) =>
    socket
      .request({ type: RTM.GETLINK, flags: NL.F_DUMP, header: ifinfomsg(0), attrs: [u32Attr(IFLA.EXT_MASK, RTEXT_FILTER_SKIP_STATS)] }, 'all interfaces')
      .filter((message) => message.type === RTM.NEWLINK)
      .map(decodeLink),
  );
}

/** What XDP programs an interface has (IFLA_XDP of RTM_GETLINK), by name or index. */
export function queryXdp(ref: string | number): XdpState {
  return getInterface(ref).xdp;
}

/** Options of setXdp. */
export interface SetXdpOptions {
  /** XDP_FLAGS_* (mode, UPDATE_IF_NOEXIST, REPLACE). */
  flags: number;
  /** With XDP_FLAGS_REPLACE: the fd of the program expected to be attached now (-1: none). */
  expectedFd?: number;
  /** Names the request in errors, e.g. "program 'xdp_count' on xdp veth0". */
  context?: string;
}

/**
 * RTM_SETLINK with IFLA_XDP: puts the program behind `fd` on the interface (fd -1 removes it).
 * The kernel's extended-ack text is in the NetlinkError it throws on refusal.
 */
export function setXdp(ifindex: number, fd: number, options: SetXdpOptions): void {
  const xdp: Attr[] = [s32Attr(IFLA_XDP.FD, fd), u32Attr(IFLA_XDP.FLAGS, options.flags)];
  if (options.expectedFd !== undefined) xdp.push(s32Attr(IFLA_XDP.EXPECTED_FD, options.expectedFd));
  withNetlink((socket) => socket.request({ type: RTM.SETLINK, flags: 0, header: ifinfomsg(ifindex), attrs: [nestedAttr(IFLA.XDP, xdp)] }, options.context));
}
