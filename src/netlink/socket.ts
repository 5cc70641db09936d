// An rtnetlink socket over the bridge's socket/bind/setsockopt/sendmsg/recvmsg: one request at a time,
// answered by its messages and an ack (or an error carrying the kernel's extended-ack text).
import { FD } from '../sys/bpf.js';
import { check, SyscallError, Errno } from '../sys/errors.js';
import { native } from '../sys/native.js';
import { decodeError, decodeMessages, encodeRequest, NL, readS32, rtmName, type Message, type Request } from './message.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const NETLINK_ROUTE = 0;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const MSG_TRUNC = 0x20;
/** A reply not arriving within this long is an error, never a hang. */
const RECEIVE_TIMEOUT_MS = 5000;
/** Dump parts are at most a page or two; 64 KiB leaves room (a truncated read is detected, not misparsed). */
const RECEIVE_BUFFER = 64 * 1024;

/** A netlink request the kernel refused: errno, the request type, and the kernel's own explanation. */
export class NetlinkError extends SyscallError {
  override name = 'NetlinkError';
  /** The kernel's extended-ack message (NLMSGERR_ATTR_MSG), e.g. "Underlying driver does not support XDP in native mode". */
  readonly extack: string | undefined;

  constructor(errno: number, syscall: string, context: string | undefined, extack: string | undefined) {
    super(errno, syscall, [context, extack].filter((part) => part !== undefined && part !== '').join(': ') || undefined);
    this.extack = extack;
  }
}

/** struct sockaddr_nl of the kernel (port id 0, no groups). */
const KERNEL_ADDRESS = (() => {
  const address = new Uint8Array(12);
  new Uint16Array(address.buffer, 0, 1)[0] = AF_NETLINK; // sa_family, host order
  return address;
})();

/** An open NETLINK_ROUTE socket with extended acks on. close() / `using` closes it. */
export class NetlinkSocket implements Disposable {
  readonly #fd: FD;
  readonly #buffer = new Uint8Array(RECEIVE_BUFFER);
  #seq = Math.floor(Math.random() * 0x7fffffff);

  private constructor(fd: FD) {
    this.#fd = fd;
  }

  /** socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), bound, with extended acks and a receive timeout. */
  static open(): NetlinkSocket {
    const bridge = native();
    const fd = new FD(check(bridge.socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), 'socket', 'AF_NETLINK NETLINK_ROUTE'));
    try {
      const one = new Int32Array([1]);
      check(bridge.setsockopt(fd.fd, SOL_NETLINK, NETLINK_EXT_ACK, one), 'setsockopt', 'NETLINK_EXT_ACK');
      // Errors echo only the request's header, not the whole request (extended acks still follow).
      bridge.setsockopt(fd.fd, SOL_NETLINK, NETLINK_CAP_ACK, one);
      const timeout = new BigInt64Array([BigInt(Math.floor(RECEIVE_TIMEOUT_MS / 1000)), BigInt((RECEIVE_TIMEOUT_MS % 1000) * 1000)]);
      check(bridge.setsockopt(fd.fd, SOL_SOCKET, SO_RCVTIMEO, timeout), 'setsockopt', 'SO_RCVTIMEO');
      check(bridge.bind(fd.fd, KERNEL_ADDRESS), 'bind', 'AF_NETLINK');
      return new NetlinkSocket(fd);
    } catch (e) {
      fd.close();
      throw e;
    }
  }

  /**
   * Sends the request with NLM_F_ACK and returns the messages answering it (a dump's parts, an echo),
   * once the kernel acked it or ended the dump. A refusal throws a NetlinkError naming the request
   * type, `context` and the kernel's extended-ack text.
   */
  request(request: Request, context?: string): Message[] {
    const seq = (this.#seq = (this.#seq + 1) >>> 0);
    const dump = (request.flags & NL.F_DUMP) === NL.F_DUMP;
    const bytes = encodeRequest({ ...request, flags: request.flags | NL.F_ACK }, seq);
    const syscall = rtmName(request.type);
    const bridge = native();
    const sent = bridge.sendmsg(this.#fd.fd, bytes, KERNEL_ADDRESS);
    check(sent, 'sendmsg', `${syscall}${context ? `: ${context}` : ''}`);
    const replies: Message[] = [];
    for (;;) {
      const received = bridge.recvmsg(this.#fd.fd, this.#buffer, MSG_TRUNC);
      if (received === -Errno.EAGAIN) throw new SyscallError(Errno.EAGAIN, syscall, `${context ?? ''}: no netlink reply within ${RECEIVE_TIMEOUT_MS} ms`.replace(/^: /, ''));
      check(received, 'recvmsg', syscall);
      if (received > this.#buffer.byteLength) throw new Error(`${syscall}: a netlink reply of ${received} bytes does not fit in ${this.#buffer.byteLength}`);
      for (const message of decodeMessages(this.#buffer.subarray(0, received))) {
        if (message.seq !== seq) continue; // a late answer to an earlier request
        if (message.type === NL.ERROR) {
          const reply = decodeError(message);
          if (reply.errno !== 0) throw new NetlinkError(reply.errno, syscall, context, reply.message);
          if (!dump) return replies;
          continue;
        }
        if (message.type === NL.DONE) {
          // A dump that failed midway says so in NLMSG_DONE's int.
          const error = message.payload.byteLength >= 4 ? readS32(message.payload, 0) : 0;
          if (error < 0) throw new NetlinkError(-error, syscall, context, undefined);
          return replies;
        }
        if (message.type === NL.NOOP || message.type === NL.OVERRUN) continue;
        // Copied: the receive buffer is reused by the next read.
        replies.push({ ...message, payload: message.payload.slice() });
      }
    }
  }

  close(): void {
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Runs fn with a fresh socket, closed afterwards. */
export function withNetlink<R>(fn: (socket: NetlinkSocket) => R): R {
  using socket = NetlinkSocket.open();
  return fn(socket);
}
