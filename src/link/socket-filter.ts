// Socket filters: a SOCKET_FILTER program on one socket (SO_ATTACH_BPF: it decides how much of each
// packet the socket gets), or on a SO_REUSEPORT group (SO_ATTACH_REUSEPORT_EBPF: it picks the socket).
// goebpf's SocketFilterAttachParams; the socket is a raw fd or a Node dgram/net socket. Detached with
// SO_DETACH_BPF / SO_DETACH_REUSEPORT_BPF; it also goes when the socket closes.
import { check } from '../sys/errors.js';
import { ProgramType } from '../sys/generated.js';
import { native } from '../sys/native.js';
import { Attachment } from './attachment.js';
import { attachError, badInput, checkProgram, type AttachableProgram, type AttachPlace } from './attach-error.js';

const SOL_SOCKET = 1;
const SO_DETACH_FILTER = 27;
const SO_ATTACH_BPF = 50;
const SO_ATTACH_REUSEPORT_EBPF = 52;
const SO_DETACH_REUSEPORT_BPF = 68;
const SO_TYPE = 3;

/** How a socket filter attaches (goebpf's SocketFilterAttachType: the setsockopt option). */
export const SocketFilterAttachType = {
  /** SO_ATTACH_BPF: filter the packets of one socket. */
  Filter: SO_ATTACH_BPF,
  /** SO_ATTACH_REUSEPORT_EBPF: choose the socket of a SO_REUSEPORT group (the program returns its index). */
  ReusePort: SO_ATTACH_REUSEPORT_EBPF,
} as const;
export type SocketFilterAttachType = (typeof SocketFilterAttachType)[keyof typeof SocketFilterAttachType];

/**
 * A socket filter's return value: how many bytes of the packet the socket keeps. goebpf's values:
 * Deny (0) drops it, Allow (1) keeps it (cut to 1 byte, as goebpf's SOCKET_FILTER_ALLOW does);
 * KeepAll (0xffffffff, or return `skb->len`) keeps the whole packet.
 */
export const SocketFilterResult = { Deny: 0, Allow: 1, KeepAll: 0xffffffff } as const;
export type SocketFilterResult = (typeof SocketFilterResult)[keyof typeof SocketFilterResult];

/** A Node socket whose fd can be read off its handle: net.Socket / net.Server (`_handle.fd`) or dgram.Socket. */
export interface NodeSocketLike {
  readonly _handle?: { readonly fd?: number } | null;
}

/** Where a socket filter goes (goebpf's SocketFilterAttachParams). */
export interface SocketFilterAttachParams {
  /** The socket: a file descriptor, or a bound/connected Node dgram or net socket. */
  socketFd: number | NodeSocketLike | object;
  /** SocketFilterAttachType.Filter (default) or ReusePort (default for sk_reuseport programs). */
  attachType?: SocketFilterAttachType;
}

/**
 * The fd of a Node socket, read from its libuv handle (net: `_handle.fd`; dgram keeps the handle in
 * its state under a symbol). An unbound dgram socket has no fd yet: bind it first.
 */
export function socketFdOf(socket: number | NodeSocketLike | object): number {
  if (typeof socket === 'number') return socket;
  if (socket === null || typeof socket !== 'object') throw new TypeError(`socket filter: expected a socket fd or a Node socket, got ${String(socket)}`);
  // A dgram socket keeps its handle behind its state symbol (its _handle getter is deprecated,
  // DEP0112, and warns); a net socket has a plain _handle.
  let handle: unknown;
  const state = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'state symbol');
  const value: unknown = state === undefined ? undefined : (socket as Record<symbol, unknown>)[state];
  if (value !== null && typeof value === 'object' && 'handle' in value) handle = value.handle;
  else handle = (socket as NodeSocketLike)._handle;
  const fd: unknown = handle !== null && typeof handle === 'object' && 'fd' in handle ? handle.fd : undefined;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
    throw new TypeError(`socket filter: the Node socket has no file descriptor yet${handle === null ? ' (it is closed)' : ' (bind or connect it first)'}`);
  }
  return fd;
}

const HINTS: Partial<Record<string, string>> = {
  ENOTSOCK: 'the fd is not a socket',
  EBADF: 'the fd is not open',
  EINVAL: 'the kernel refused the program for this socket option (SO_ATTACH_REUSEPORT_EBPF wants a socket with SO_REUSEPORT set, bound)',
  EPERM: 'the socket\'s filter is locked (SO_LOCK_FILTER)',
  ENOMEM: 'the socket\'s option memory (net.core.optmem_max) is too small',
};

/**
 * Attaches a socket filter (goebpf's `program.Attach(SocketFilterAttachParams{...})`). Also accepts a
 * bare fd or Node socket. The filter stays while the socket is open; detach() removes it.
 */
export function attachSocketFilter(program: AttachableProgram, params: SocketFilterAttachParams | number | NodeSocketLike | object): Attachment {
  const options: SocketFilterAttachParams = typeof params === 'number' || (typeof params === 'object' && params !== null && !('socketFd' in params)) ? { socketFd: params } : (params as SocketFilterAttachParams);
  // An sk_reuseport program can only go on a reuseport group: that is its default.
  const attachType = options.attachType ?? (program?.type === ProgramType.SKReusePort ? SocketFilterAttachType.ReusePort : SocketFilterAttachType.Filter);
  const where0: AttachPlace = { program: program?.name, hook: attachType === SocketFilterAttachType.ReusePort ? 'sk_reuseport' : 'socket_filter', target: 'socket' };
  if (attachType !== SocketFilterAttachType.Filter && attachType !== SocketFilterAttachType.ReusePort) {
    throw badInput(where0, `attachType ${String(attachType)} is not a SocketFilterAttachType (Filter ${SO_ATTACH_BPF}, ReusePort ${SO_ATTACH_REUSEPORT_EBPF})`);
  }
  const socketFd = socketFdOf(options.socketFd);
  const where: AttachPlace = { ...where0, target: `socket fd ${socketFd}` };
  const types = attachType === SocketFilterAttachType.ReusePort ? [ProgramType.SocketFilter, ProgramType.SKReusePort] : [ProgramType.SocketFilter];
  const fd = checkProgram(program, types, where, attachType === SocketFilterAttachType.ReusePort ? "'socket' or 'sk_reuseport'" : "'socket' or 'socket_filter'");
  const bridge = native();
  // Refuse a non-socket before attaching: getsockopt(SO_TYPE) answers ENOTSOCK / EBADF.
  try {
    check(bridge.getsockopt(socketFd, SOL_SOCKET, SO_TYPE, new Int32Array(1)), 'getsockopt', 'SO_TYPE');
    check(bridge.setsockopt(socketFd, SOL_SOCKET, attachType, new Int32Array([fd])), attachType === SO_ATTACH_BPF ? 'SO_ATTACH_BPF' : 'SO_ATTACH_REUSEPORT_EBPF');
  } catch (e) {
    throw attachError(e, where, HINTS);
  }
  return new SocketFilterAttachment(where, socketFd, attachType);
}

/** A program filtering a socket. detach() takes it off (the socket then gets every packet again). */
export class SocketFilterAttachment extends Attachment {
  readonly socketFd: number;
  readonly attachType: SocketFilterAttachType;

  constructor(where: AttachPlace, socketFd: number, attachType: SocketFilterAttachType) {
    super(where.hook, where.program, where.target);
    this.socketFd = socketFd;
    this.attachType = attachType;
  }

  /** Attaches another program in place of this one (the kernel swaps the filter atomically). */
  override update(program: { readonly fd: number; readonly name: string }): void {
    if (this.detached) throw new Error(`${this.describe()}: detached, cannot update to '${program.name}'`);
    try {
      check(native().setsockopt(this.socketFd, SOL_SOCKET, this.attachType, new Int32Array([program.fd])), this.attachType === SO_ATTACH_BPF ? 'SO_ATTACH_BPF' : 'SO_ATTACH_REUSEPORT_EBPF');
    } catch (e) {
      throw attachError(e, { program: program.name, hook: this.kind, target: this.target }, HINTS);
    }
  }

  protected release(): void {
    const option = this.attachType === SO_ATTACH_BPF ? SO_DETACH_FILTER : SO_DETACH_REUSEPORT_BPF;
    const ret = native().setsockopt(this.socketFd, SOL_SOCKET, option, new Int32Array(1));
    // ENOENT: no filter any more; EBADF/ENOTSOCK: the socket closed, and the filter with it.
    if (ret >= 0 || [2, 9, 88].includes(-ret)) return;
    try {
      check(ret, option === SO_DETACH_FILTER ? 'SO_DETACH_BPF' : 'SO_DETACH_REUSEPORT_BPF');
    } catch (e) {
      throw attachError(e, { program: this.program, hook: this.kind, target: this.target }, HINTS);
    }
  }
}
