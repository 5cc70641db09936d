// Netlink messages encoded and decoded in TypeScript: nlmsghdr, the rtnetlink fixed headers (ifinfomsg,
// tcmsg), attributes (nested too), and the kernel's error/ack with its extended-ack TLVs. Pure code:
// no I/O, no node: import (the socket is in socket.ts). Netlink is host-endian.

/** Whether this machine is little-endian (netlink's integers are in host order). */
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** nlmsghdr message types, flags and the rtnetlink message types this library sends (linux/netlink.h, linux/rtnetlink.h). */
export const NL = {
  HDRLEN: 16,
  NOOP: 1,
  ERROR: 2,
  DONE: 3,
  OVERRUN: 4,
  F_REQUEST: 0x1,
  F_MULTI: 0x2,
  F_ACK: 0x4,
  F_ECHO: 0x8,
  F_DUMP_INTR: 0x10,
  /** GET requests: NLM_F_ROOT | NLM_F_MATCH. */
  F_DUMP: 0x300,
  /** NEW requests. */
  F_REPLACE: 0x100,
  F_EXCL: 0x200,
  F_CREATE: 0x400,
  /** Flags of an NLMSG_ERROR: the request is capped to its header; extended-ack TLVs follow. */
  F_CAPPED: 0x100,
  F_ACK_TLVS: 0x200,
} as const;

/** rtnetlink message types (enum in linux/rtnetlink.h). */
export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWQDISC: 36,
  DELQDISC: 37,
  GETQDISC: 38,
  NEWTFILTER: 44,
  DELTFILTER: 45,
  GETTFILTER: 46,
} as const;

const RTM_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(RTM).map(([name, value]) => [value, `RTM_${name}`]));

/** 'RTM_SETLINK' for 19, 'nlmsg type N' for a type this table does not name. */
export function rtmName(type: number): string {
  return RTM_NAMES[type] ?? `nlmsg type ${type}`;
}

/** struct nlmsgerr's extended-ack attributes (enum nlmsgerr_attrs). */
export const NLMSGERR_ATTR = { MSG: 1, OFFS: 2, COOKIE: 3, POLICY: 4, MISS_TYPE: 5, MISS_NEST: 6 } as const;

/** An attribute's type bits: NLA_F_NESTED and NLA_F_NET_BYTEORDER are flags above them. */
export const NLA_F_NESTED = 0x8000;
const NLA_TYPE_MASK = 0x3fff;

/** Netlink aligns messages and attributes to 4 bytes. */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** One attribute to encode: raw bytes, or nested attributes. */
export interface Attr {
  type: number;
  value: Uint8Array | Attr[];
}

/** A u32 attribute. */
export function u32Attr(type: number, value: number): Attr {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value >>> 0, HOST_LE);
  return { type, value: bytes };
}

/** An s32 attribute (fds, where -1 means none). */
export function s32Attr(type: number, value: number): Attr {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setInt32(0, value, HOST_LE);
  return { type, value: bytes };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A NUL-terminated string attribute. */
export function stringAttr(type: number, value: string): Attr {
  return { type, value: encoder.encode(`${value}\0`) };
}

/** A nested attribute (NLA_F_NESTED is set, as the kernel's strict validation wants). */
export function nestedAttr(type: number, attrs: Attr[]): Attr {
  return { type: type | NLA_F_NESTED, value: attrs };
}

function attrLength(attr: Attr): number {
  const payload = attr.value instanceof Uint8Array ? attr.value.byteLength : attrsLength(attr.value);
  return 4 + payload;
}

function attrsLength(attrs: Attr[]): number {
  let length = 0;
  for (const attr of attrs) length += align4(attrLength(attr));
  return length;
}

function writeAttrs(out: Uint8Array, offset: number, attrs: Attr[]): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const attr of attrs) {
    const length = attrLength(attr);
    view.setUint16(offset, length, HOST_LE);
    view.setUint16(offset + 2, attr.type, HOST_LE);
    if (attr.value instanceof Uint8Array) out.set(attr.value, offset + 4);
    else writeAttrs(out, offset + 4, attr.value);
    offset += align4(length);
  }
  return offset;
}

/** Encodes attributes alone (for a nested value built by hand, or tests). */
export function encodeAttrs(attrs: Attr[]): Uint8Array {
  const out = new Uint8Array(attrsLength(attrs));
  writeAttrs(out, 0, attrs);
  return out;
}

/** A request to encode: type, flags (NLM_F_REQUEST is added), the fixed header and attributes. */
export interface Request {
  type: number;
  flags: number;
  header: Uint8Array;
  attrs?: Attr[];
}

/** nlmsghdr + fixed header (padded to 4) + attributes, with this sequence number; port id 0 (the kernel fills it). */
export function encodeRequest(request: Request, seq: number): Uint8Array {
  const attrs = request.attrs ?? [];
  const headerEnd = NL.HDRLEN + align4(request.header.byteLength);
  const out = new Uint8Array(headerEnd + attrsLength(attrs));
  const view = new DataView(out.buffer);
  view.setUint32(0, out.byteLength, HOST_LE);
  view.setUint16(4, request.type, HOST_LE);
  view.setUint16(6, request.flags | NL.F_REQUEST, HOST_LE);
  view.setUint32(8, seq >>> 0, HOST_LE);
  view.setUint32(12, 0, HOST_LE);
  out.set(request.header, NL.HDRLEN);
  writeAttrs(out, headerEnd, attrs);
  return out;
}

/** A received message: its header fields and the payload after nlmsghdr (a view into the receive buffer). */
export interface Message {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Uint8Array;
}

/** Splits a datagram into messages; a length running past the buffer is an error (never a read past it). */
export function decodeMessages(data: Uint8Array): Message[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const messages: Message[] = [];
  let offset = 0;
  while (offset + NL.HDRLEN <= data.byteLength) {
    const length = view.getUint32(offset, HOST_LE);
    if (length < NL.HDRLEN || offset + length > data.byteLength) {
      throw new Error(`netlink message at byte ${offset} says it is ${length} bytes, the datagram has ${data.byteLength - offset} left`);
    }
    messages.push({
      type: view.getUint16(offset + 4, HOST_LE),
      flags: view.getUint16(offset + 6, HOST_LE),
      seq: view.getUint32(offset + 8, HOST_LE),
      pid: view.getUint32(offset + 12, HOST_LE),
      payload: data.subarray(offset + NL.HDRLEN, offset + length),
    });
    offset += align4(length);
  }
  return messages;
}

/** Decoded attributes: by type (flags masked off); a repeated type keeps every value in `all`. */
export class Attrs {
  readonly all: Array<{ type: number; value: Uint8Array }> = [];
  readonly #byType = new Map<number, Uint8Array>();

  /** Decodes the attributes in bytes; a length running past them is an error. */
  constructor(bytes: Uint8Array) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 0;
    while (offset + 4 <= bytes.byteLength) {
      const length = view.getUint16(offset, HOST_LE);
      if (length < 4 || offset + length > bytes.byteLength) {
        throw new Error(`netlink attribute at byte ${offset} says it is ${length} bytes, ${bytes.byteLength - offset} are left`);
      }
      const type = view.getUint16(offset + 2, HOST_LE) & NLA_TYPE_MASK;
      const value = bytes.subarray(offset + 4, offset + length);
      this.all.push({ type, value });
      if (!this.#byType.has(type)) this.#byType.set(type, value);
      offset += align4(length);
    }
  }

  has(type: number): boolean {
    return this.#byType.has(type);
  }

  bytes(type: number): Uint8Array | undefined {
    return this.#byType.get(type);
  }

  u8(type: number): number | undefined {
    const value = this.#byType.get(type);
    return value !== undefined && value.byteLength >= 1 ? value[0] : undefined;
  }

  u32(type: number): number | undefined {
    const value = this.#byType.get(type);
    if (value === undefined || value.byteLength < 4) return undefined;
    return new DataView(value.buffer, value.byteOffset, 4).getUint32(0, HOST_LE);
  }

  s32(type: number): number | undefined {
    const value = this.#byType.get(type);
    if (value === undefined || value.byteLength < 4) return undefined;
    return new DataView(value.buffer, value.byteOffset, 4).getInt32(0, HOST_LE);
  }

  /** A string attribute (up to its first NUL). */
  string(type: number): string | undefined {
    const value = this.#byType.get(type);
    if (value === undefined) return undefined;
    const nul = value.indexOf(0);
    return decoder.decode(nul < 0 ? value : value.subarray(0, nul));
  }

  /** A nested attribute's own attributes. */
  nested(type: number): Attrs | undefined {
    const value = this.#byType.get(type);
    return value === undefined ? undefined : new Attrs(value);
  }
}

/** What an NLMSG_ERROR says: errno (0 for an ack) and the kernel's extended-ack message, if any. */
export interface ErrorReply {
  /** Positive errno, 0 for success. */
  errno: number;
  /** Sequence number of the request it answers. */
  seq: number;
  /** NLMSGERR_ATTR_MSG: the kernel's explanation, e.g. "Native and generic XDP can't be active at the same time." */
  message?: string;
  /** NLMSGERR_ATTR_OFFS: byte offset in the request of the attribute the kernel refused. */
  offset?: number;
}

/** Decodes an NLMSG_ERROR message (struct nlmsgerr, then the extended-ack TLVs when flagged). */
export function decodeError(message: Message): ErrorReply {
  const { payload } = message;
  if (payload.byteLength < 4 + NL.HDRLEN) throw new Error(`netlink NLMSG_ERROR of ${payload.byteLength} bytes is shorter than struct nlmsgerr`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const error = view.getInt32(0, HOST_LE);
  const requestLength = view.getUint32(4, HOST_LE);
  const seq = view.getUint32(4 + 8, HOST_LE);
  const reply: ErrorReply = { errno: -error, seq };
  if ((message.flags & NL.F_ACK_TLVS) === 0) return reply;
  // Without NLM_F_CAPPED the whole request is echoed back before the TLVs.
  const tlvStart = 4 + ((message.flags & NL.F_CAPPED) !== 0 ? NL.HDRLEN : align4(requestLength));
  if (tlvStart > payload.byteLength) return reply;
  const tlvs = new Attrs(payload.subarray(tlvStart));
  const text = tlvs.string(NLMSGERR_ATTR.MSG);
  if (text !== undefined && text !== '') reply.message = text;
  const offset = tlvs.u32(NLMSGERR_ATTR.OFFS);
  if (offset !== undefined) reply.offset = offset;
  return reply;
}

/** A fixed header as bytes, from its fields' (offset, size, value) in host order. */
export function fixedHeader(size: number, fields: Array<[offset: number, bytes: 1 | 2 | 4, value: number]>): Uint8Array {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  for (const [offset, bytes, value] of fields) {
    if (bytes === 1) view.setUint8(offset, value);
    else if (bytes === 2) view.setUint16(offset, value, HOST_LE);
    else view.setUint32(offset, value >>> 0, HOST_LE);
  }
  return out;
}

/** A u32 at offset of bytes, in host order. */
export function readU32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, HOST_LE);
}

/** An s32 at offset of bytes, in host order. */
export function readS32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(offset, HOST_LE);
}

/** A u16 from host to network byte order (htons). */
export function htons(value: number): number {
  return HOST_LE ? ((value & 0xff) << 8) | ((value >> 8) & 0xff) : value & 0xffff;
}

/** A u16 at offset of bytes, in host order. */
export function readU16(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(offset, HOST_LE);
}
