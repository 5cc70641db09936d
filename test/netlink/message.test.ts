// Netlink encoding and decoding without a kernel: byte layouts of requests and nested attributes, the
// kernel's error/ack with extended-ack TLVs, and malformed input refused (never read past).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Attrs, decodeError, decodeMessages, encodeAttrs, encodeRequest, nestedAttr, NL, RTM, s32Attr, stringAttr, u32Attr, fixedHeader } from '../../src/netlink/message.js';

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function u32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(offset, LE);
}

function u16(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint16(offset, LE);
}

test('a request: nlmsghdr, the fixed header padded, attributes aligned to 4, nested ones flagged', () => {
  const header = fixedHeader(16, [[4, 4, 7]]);
  const bytes = encodeRequest({ type: RTM.SETLINK, flags: NL.F_ACK, header, attrs: [stringAttr(3, 'eth0'), nestedAttr(43, [s32Attr(1, -1), u32Attr(3, 2)])] }, 42);
  assert.is(u32(bytes, 0), bytes.byteLength);
  assert.is(u16(bytes, 4), 19);
  assert.is(u16(bytes, 6), NL.F_REQUEST | NL.F_ACK);
  assert.is(u32(bytes, 8), 42);
  assert.is(u32(bytes, 16 + 4), 7); // ifi_index
  // IFLA_IFNAME "eth0\0": length 9, padded to 12.
  assert.is(u16(bytes, 32), 9);
  assert.is(u16(bytes, 34), 3);
  assert.equal([...bytes.subarray(36, 41)], [0x65, 0x74, 0x68, 0x30, 0]);
  // IFLA_XDP nested at 44: 4 + 8 + 8 bytes, NLA_F_NESTED set.
  assert.is(u16(bytes, 44), 20);
  assert.is(u16(bytes, 46), 43 | 0x8000);
  assert.is(new DataView(bytes.buffer).getInt32(52, LE), -1);
  assert.is(bytes.byteLength, 64);
  const attrs = new Attrs(bytes.subarray(32));
  assert.is(attrs.string(3), 'eth0');
  assert.is(attrs.nested(43)?.s32(1), -1);
  assert.is(attrs.nested(43)?.u32(3), 2);
  assert.is(attrs.u32(99), undefined);
});

/** An NLMSG_ERROR for seq with errno, capped, with an extended-ack message. */
function errorMessage(errno: number, seq: number, text?: string): Uint8Array {
  const tlvs = text === undefined ? new Uint8Array(0) : encodeAttrs([stringAttr(1, text), u32Attr(2, 36)]);
  const payload = new Uint8Array(4 + 16 + tlvs.byteLength);
  const view = new DataView(payload.buffer);
  view.setInt32(0, -errno, LE);
  view.setUint32(4, 60, LE); // the request's length (only its header is echoed: capped)
  view.setUint32(12, seq, LE);
  payload.set(tlvs, 20);
  const message = new Uint8Array(16 + payload.byteLength);
  const header = new DataView(message.buffer);
  header.setUint32(0, message.byteLength, LE);
  header.setUint16(4, NL.ERROR, LE);
  header.setUint16(6, text === undefined ? NL.F_CAPPED : NL.F_CAPPED | NL.F_ACK_TLVS, LE);
  header.setUint32(8, seq, LE);
  message.set(payload, 16);
  return message;
}

test('an error with extended ack: errno, the kernel\'s message and the offending attribute\'s offset', () => {
  const [message] = decodeMessages(errorMessage(95, 9, 'Underlying driver does not support XDP in native mode'));
  assert.equal(decodeError(message!), { errno: 95, seq: 9, message: 'Underlying driver does not support XDP in native mode', offset: 36 });
  const [ack] = decodeMessages(errorMessage(0, 10));
  assert.equal(decodeError(ack!), { errno: 0, seq: 10 });
});

test('two messages in one datagram are split; lengths running past the data are errors', () => {
  const one = errorMessage(0, 1);
  const two = errorMessage(16, 2, 'busy');
  const both = new Uint8Array(one.byteLength + two.byteLength);
  both.set(one);
  both.set(two, one.byteLength);
  assert.equal(decodeMessages(both).map((m) => m.seq), [1, 2]);
  const truncated = both.slice(0, both.byteLength - 4);
  assert.throws(() => decodeMessages(truncated), /says it is \d+ bytes, the datagram has \d+ left/);
  const badAttr = new Uint8Array([200, 0, 1, 0, 0, 0, 0, 0]);
  assert.throws(() => new Attrs(badAttr), /attribute at byte 0 says it is 200 bytes, 8 are left/);
  assert.throws(() => decodeError({ type: NL.ERROR, flags: 0, seq: 0, pid: 0, payload: new Uint8Array(8) }), /shorter than struct nlmsgerr/);
});

test.run();
