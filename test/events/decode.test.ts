// Typed records (any OS): RecordDecoder from a user layout and from the BTF of test/fixtures/events.o.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { layoutSize, RecordDecoder } from '../../src/events/decode.js';

const EVENTS = fileURLToPath(new URL('../../../test/fixtures/events.o', import.meta.url));

/** struct event of events.c, as the program fills it (little-endian, natural alignment). */
function eventBytes(): Uint8Array {
  const bytes = new Uint8Array(56);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, 123456789n, true);
  view.setUint32(8, 4242, true);
  view.setInt32(12, -7, true);
  bytes.set(new TextEncoder().encode('ebpf-test'), 16);
  view.setUint16(32, 8080, true);
  bytes[34] = 1;
  bytes[35] = 2;
  view.setUint32(36, 10, true);
  view.setUint32(40, 20, true);
  view.setUint32(44, 30, true);
  bytes[48] = 5 | (1 << 3);
  return bytes;
}

const WANT = { ktime: 123456789n, pid: 4242, delta: -7, comm: 'ebpf-test', where: { port: 8080, flags: [1, 2] }, counts: [10, 20, 30], kind: 5, urgent: 1 };

test('from the object BTF: integers, char arrays as strings, nested structs, arrays, bitfields', () => {
  const decoder = RecordDecoder.fromObject(readFileSync(EVENTS), 'struct event');
  assert.is(decoder.size, 56);
  assert.equal(decoder.decode(eventBytes()), WANT);
  assert.equal(RecordDecoder.fromObject(readFileSync(EVENTS), 'event').decode(eventBytes()), WANT, "the name without 'struct'");
});

test('from a user layout', () => {
  const decoder = new RecordDecoder({
    fields: [
      { name: 'ktime', offset: 0, layout: 'u64' },
      { name: 'pid', offset: 8, layout: 'u32' },
      { name: 'delta', offset: 12, layout: 'i32' },
      { name: 'comm', offset: 16, layout: { string: 16 } },
      { name: 'where', offset: 32, layout: { fields: [{ name: 'port', offset: 0, layout: 'u16' }, { name: 'flags', offset: 2, layout: { array: 'u8', length: 2 } }] } },
      { name: 'counts', offset: 36, layout: { array: 'u32', length: 3 } },
      { name: 'kind', offset: 48, layout: 'u8', bits: { offset: 0, size: 3 } },
      { name: 'urgent', offset: 48, layout: 'u8', bits: { offset: 3, size: 1 } },
    ],
    size: 56,
  });
  assert.equal(decoder.decode(eventBytes()), WANT);
  assert.is(layoutSize({ array: { fields: [{ name: 'a', offset: 4, layout: 'u32' }] }, length: 3 }), 24);
});

test('a record in place: decode(bytes, offset, size) reads it inside a larger buffer (a batch\'s packed form)', () => {
  const decoder = RecordDecoder.fromObject(readFileSync(EVENTS), 'struct event');
  const one = eventBytes();
  const bytes = new Uint8Array(3 + 2 * 64);
  bytes.set(one, 3);
  bytes.set(one, 3 + 64);
  assert.equal(decoder.decode(bytes, 3, 56), WANT);
  assert.equal(decoder.decode(bytes.subarray(1), 2 + 64), WANT, 'size defaults to the rest of the buffer');
  assert.throws(() => decoder.decode(bytes, 3 + 64 + 10), /a 54-byte record is shorter than the 56-byte layout/);
  assert.throws(() => decoder.decode(bytes, 100, 56), /RecordDecoder\(struct event\): 56 bytes at offset 100 are outside the 131-byte buffer/);
  assert.throws(() => decoder.decode(bytes, -1, 56), /56 bytes at offset -1 are outside/);
});

test('a short record or an unknown type name is a clear error', () => {
  const decoder = RecordDecoder.fromObject(readFileSync(EVENTS), 'struct event');
  assert.throws(() => decoder.decode(new Uint8Array(10)), /RecordDecoder\(struct event\): a 10-byte record is shorter than the 56-byte layout/);
  assert.throws(() => RecordDecoder.fromObject(readFileSync(EVENTS), 'struct nothing'), /^no BTF type named 'struct nothing' to decode records as$/);
});

test.run();
