// One regression test per numbered case of issue #10 ("memory safety at the kernel boundary"). Each
// case that crashed the process (or corrupted its heap) runs in a child process: a crash there fails
// the test instead of killing the runner, and the child checks guard bytes around every buffer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBtf } from '../../src/btf/index.js';
import { ElfError } from '../../src/elf/errors.js';
import { EbpfMap, MapBatchCursor, MapType } from '../../src/map/index.js';
import { MockMap } from '../../src/mock/index.js';
import { native } from '../../src/sys/native.js';
import { BtfBuilder } from '../btf/btf-builder.js';
import { kernelSkipReason, kernelSuite } from '../kernel/support.js';
import { describeChild, isolated, srcUrl } from './support.js';

/** A child script's prelude: the library, and `check(cond, what)` that fails the child. */
const prelude = `
import { EbpfMap, MapBatchCursor, MapType } from '${srcUrl}/map/index.js';
import { Program, ProgramType } from '${srcUrl}/program/index.js';
import { native } from '${srcUrl}/sys/native.js';
const check = (cond, what) => { if (!cond) { console.error('FAILED: ' + what); process.exit(1); } };
const throwsLike = (fn, type, pattern, what) => {
  try { fn(); } catch (e) { check(e instanceof type && pattern.test(e.message), what + ': threw ' + e); return; }
  check(false, what + ': did not throw');
};
const guarded = (size) => {
  const all = new Uint8Array(size + 128).fill(0xa5);
  return { view: all.subarray(64, 64 + size), intact: () => all.subarray(0, 64).every((b) => b === 0xa5) && all.subarray(64 + size).every((b) => b === 0xa5) };
};
`;

function runChild(name: string, body: string): void {
  const r = isolated(prelude + body);
  assert.is(r.status, 0, `${name}: ${describeChild(r)}`);
  assert.match(r.stdout, /done/, `${name}: ${describeChild(r)}`);
}

const kernel = kernelSuite('issue #10 cases that reach the kernel');

kernel('1. a negative or NaN batch count is refused before the kernel writes through it', () => {
  runChild('case 1', `
    const m = EbpfMap.create({ type: MapType.Array, valueSize: 8, maxEntries: 4096 });
    const keys = guarded(4), values = guarded(8);
    for (const into of ['lookupBatchInto', 'lookupAndDeleteBatchInto']) {
      throwsLike(() => m[into](new MapBatchCursor(4), keys.view, values.view, -1), RangeError, /batch count -1 is out of range/, into + ' -1');
      throwsLike(() => m[into](new MapBatchCursor(4), keys.view, values.view, NaN), TypeError, /batch count must be an integer/, into + ' NaN');
      throwsLike(() => m[into](new MapBatchCursor(4), keys.view, values.view, 2), RangeError, /too small for 2 keys/, into + ' 2');
    }
    check(keys.intact() && values.intact(), 'guard bytes');
    console.log('done');
  `);
});

kernel('2. an iterator resumed after close() throws instead of reading the map that reuses the fd', () => {
  runChild('case 2', `
    const m = EbpfMap.create({ type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 8 });
    for (let i = 0; i < 4; i++) m.upsert(i, i);
    const it = m.entries();
    check(!it.next().done, 'first entry');
    const fd = m.fd;
    m.close();
    const big = EbpfMap.create({ type: MapType.Hash, keySize: 4, valueSize: 65536, maxEntries: 8 });
    for (let i = 0; i < 4; i++) big.upsert(i, new Uint8Array(65536).fill(7));
    check(big.fd === fd, 'the fd number was reused (' + big.fd + ' vs ' + fd + ')');
    throwsLike(() => it.next(), Error, /closed during iteration/, 'resumed iterator');
    console.log('done');
  `);
});

kernel('3. a batch cursor is checked against the map: key size, owner, real cursor objects', () => {
  runChild('case 3', `
    const lpm = EbpfMap.create({ type: MapType.LPMTrie, keySize: 20, valueSize: 4, maxEntries: 8 });
    lpm.upsert(Uint8Array.from([32, 0, 0, 0, ...new Uint8Array(16).fill(1)]), 1);
    const keys = guarded(20 * 4), values = guarded(16);
    throwsLike(() => lpm.lookupBatchInto(new MapBatchCursor(4), keys.view, values.view, 4), RangeError, /made for 4-byte keys; this map's keys are 20 bytes/, 'small cursor');
    const fake = { token: new Uint8Array(1), started: true, done: false };
    throwsLike(() => lpm.lookupBatchInto(fake, keys.view, values.view, 4), TypeError, /must be a MapBatchCursor/, 'fake cursor');
    const other = EbpfMap.create({ type: MapType.Hash, keySize: 20, valueSize: 4, maxEntries: 8 });
    const cursor = new MapBatchCursor(20);
    try { other.lookupBatchInto(cursor, keys.view, values.view, 4); } catch {}
    throwsLike(() => lpm.lookupBatchInto(cursor, keys.view, values.view, 4), TypeError, /belongs to another map/, 'foreign cursor');
    // The bridge checks the token itself: a 1-byte token for a 20-byte-key map.
    const attr = new Uint8Array(56);
    new DataView(attr.buffer).setUint32(32, 4, true);
    new DataView(attr.buffer).setUint32(36, lpm.fd, true);
    const token = guarded(1);
    throwsLike(() => native().bpf(24, attr, 8, token.view, 16, keys.view, 24, values.view), RangeError, /holds 1 bytes; the kernel would access 20/, 'bridge token');
    check(keys.intact() && values.intact() && token.intact(), 'guard bytes');
    console.log('done');
  `);
});

kernel('4. lengths come from the real buffers, not from a lying byteLength getter', () => {
  runChild('case 4', `
    class Liar extends Uint8Array { get byteLength() { return 3000; } get length() { return 3000; } }
    const insns = Uint8Array.from([0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    const prog = new Program({ name: 'pass', type: ProgramType.XDP, license: 'GPL', instructions: new Liar(insns.buffer, 0, 16) }).load();
    const data = new Liar(new ArrayBuffer(64), 0, 64);
    const result = prog.testRun({ data });
    check(result.retval === 2, 'XDP_PASS');
    check(result.data.length === 64, 'the kernel read the real 64 bytes, not 3000 (got ' + result.data.length + ')');
    const m = EbpfMap.create({ type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 64 });
    const keys = guarded(8), values = guarded(8);
    throwsLike(() => m.updateBatch(new Liar(keys.view.buffer, keys.view.byteOffset, 8), new Liar(values.view.buffer, values.view.byteOffset, 8)), RangeError, /key buffer of 8 bytes is too small for 750 keys/, 'lying batch buffers');
    const n = m.lookupBatchInto(new MapBatchCursor(4), new Liar(keys.view.buffer, keys.view.byteOffset, 8), new Liar(values.view.buffer, values.view.byteOffset, 8));
    check(n === 0, 'an empty map');
    check(keys.intact() && values.intact(), 'guard bytes');
    console.log('done');
  `);
});

test('5. chunkSize NaN is a TypeError, not a hang (EbpfMap and MockMap)', () => {
  const mock = MockMap.create({ type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 4 });
  assert.throws(() => mock.lookupBatch({ chunkSize: NaN }), /chunkSize must be an integer, not NaN/);
  assert.throws(() => mock.lookupAndDeleteBatch({ chunkSize: 0 }), /chunkSize 0 is out of range/);
  if (kernelSkipReason() !== undefined) return;
  using m = EbpfMap.create({ type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 4 });
  assert.throws(() => m.lookupBatch({ chunkSize: NaN }), TypeError);
  assert.throws(() => m.lookupBatch({ chunkSize: 1.5 }), TypeError);
});

test('6. numbers are refused, never wrapped: repeat, flags, mapExtra, batch counts', () => {
  assert.throws(() => new EbpfMap({ type: MapType.BloomFilter, valueSize: 4, maxEntries: 1, mapExtra: 2n ** 64n }), RangeError);
  assert.throws(() => new EbpfMap({ type: MapType.BloomFilter, valueSize: 4, maxEntries: 1, mapExtra: -1n }), RangeError);
  const mock = MockMap.create({ type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 4 });
  for (const flags of [2 ** 53, 1.5, NaN, -1]) assert.throws(() => mock.upsert(1, 1, flags), flags === -1 || flags === 2 ** 53 ? RangeError : TypeError);
  assert.throws(() => mock.lookupBatchInto(new MapBatchCursor(4), new Uint8Array(8), new Uint8Array(8), 1.5), TypeError);
  if (kernelSkipReason() !== undefined) return;
  using m = EbpfMap.create({ type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 4 });
  assert.throws(() => m.upsert(1, 1, 2 ** 53), RangeError);
  assert.throws(() => m.upsert(1, 1, 1.5), TypeError);
  assert.throws(() => m.lookup(1, NaN), TypeError);
  assert.throws(() => m.updateBatch([1], [1], { flags: -1 }), RangeError);
  assert.throws(() => m.lookupBatchInto(new MapBatchCursor(4), new Uint8Array(8), new Uint8Array(8), NaN), TypeError);
  assert.throws(() => m.lookupBatchInto(new MapBatchCursor(4), new Uint8Array(8), new Uint8Array(8), 1.5), TypeError);
  const r = isolated(`${prelude}
    const insns = Uint8Array.from([0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    const prog = new Program({ name: 'pass', type: ProgramType.XDP, license: 'GPL', instructions: insns }).load();
    const data = new Uint8Array(64);
    throwsLike(() => prog.testRun({ data, repeat: -1 }), RangeError, /repeat -1 is out of range/, 'repeat -1');
    throwsLike(() => prog.testRun({ data, repeat: 2 ** 32 }), RangeError, /repeat/, 'repeat 2^32');
    throwsLike(() => prog.testRun({ data, flags: NaN }), TypeError, /flags must be an integer/, 'flags NaN');
    throwsLike(() => prog.testRun({ data, dataSizeOut: 1.5 }), TypeError, /dataSizeOut/, 'dataSizeOut 1.5');
    console.log('done');
  `);
  assert.is(r.status, 0, describeChild(r));
});

test('7. BTF rendering is bounded in bytes: a long name behind many pointers is an ElfError naming the limit', () => {
  const b = new BtfBuilder();
  const named = b.struct('n'.repeat(160_000), 4, []);
  let t = named;
  const members: { name: string; type: number }[] = [];
  for (let i = 0; i < 200; i++) {
    t = b.ptr(t);
    members.push({ name: `m${i}`, type: t });
  }
  const top = b.struct('top', 8, members.map((m, i) => ({ ...m, bitOffset: i * 64 })));
  const start = Date.now();
  try {
    parseBtf(b.build());
    assert.unreachable('rendered without a limit');
  } catch (e) {
    assert.instance(e, ElfError);
    assert.match((e as Error).message, new RegExp(`type \\[${top}\\] renders to more than the limit of 1048576 bytes of C for one type`));
  }
  assert.ok(Date.now() - start < 5000, 'bounded in time too');
});

test('8. WASM memory is capped, and its out-of-memory errors name the cap', () => {
  assert.match(new ElfError('out of WASM memory for a 5-byte object', 5).message, /limited to 1024 MiB/);
});

test('8. WASM pointers are read unsigned (a pointer past 2 GiB is not negative)', () => {
  // A stand-in core (in a child: the module is process-wide) whose ebpf_btf_render returns
  // 0x80000010, a negative i32 to JS.
  const r = isolated(`
    import { loadCoreSync, setCoreSource } from '${srcUrl}/wasm/core.js';
    const leb = (n) => { const out = []; for (;;) { const byte = n & 0x7f; n >>= 7;
      if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte]; out.push(byte | 0x80); } };
    const name = (s) => [s.length, ...new TextEncoder().encode(s)];
    const section = (id, body) => [id, body.length, ...body];
    const bodies = [[0x00, 0x41, ...leb(1), 0x0b], [0x00, 0x41, ...leb(0x80000010 | 0), 0x0b]];
    const bytes = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      ...section(1, [1, 0x60, 0, 1, 0x7f]), ...section(3, [2, 0, 0]), ...section(5, [1, 0, 1]),
      ...section(6, [1, 0x7f, 0, 0x41, ...leb(65536), 0x0b]),
      ...section(7, [4, ...name('memory'), 2, 0, ...name('__heap_base'), 3, 0, ...name('ebpf_abi_version'), 0, 0, ...name('ebpf_btf_render'), 0, 1]),
      ...section(10, [2, ...bodies.flatMap((b) => [b.length, ...b])])]);
    setCoreSource(bytes);
    const ptr = loadCoreSync().ebpf_btf_render(0, 0);
    if (ptr !== 0x80000010) { console.error('read as ' + ptr); process.exit(1); }
    console.log('done');
  `);
  assert.is(r.status, 0, describeChild(r));
});

kernel('9. the bridge: mmap past a file end, ioctl FIONREAD into 1 byte, perf attr.size past the view, prepared attr after a transfer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-safety-'));
  try {
    const path = join(dir, 'small');
    writeFileSync(path, new Uint8Array(100));
    const fd = openSync(path, 'r+');
    try {
      assert.throws(() => native().mmap(fd, 8192, 1, 1, 0), /past the end of the file \(100 bytes\)/);
      assert.throws(() => native().mmap(fd, 4096, 1, 1, 4096), RangeError);
      const ok = native().mmap(fd, 100, 1, 1, 0);
      assert.instance(ok, ArrayBuffer);
      native().munmap(ok as ArrayBuffer);
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => native().ioctl(0, 0x541b, new Uint8Array(1)), /accesses 4 bytes; the buffer holds 1/);
  assert.throws(() => native().ioctl(0, 0x541b, 12345), /takes a buffer/);
  const attr = new Uint8Array(128);
  new DataView(attr.buffer).setUint32(4, 4096, true);
  assert.throws(() => native().perfEventOpen(attr, -1, -1, -1, 0), /attr.size 4096/);
  runChild('case 9 (prepared + transfer + GC)', `
    import { setFlagsFromString } from 'node:v8';
    import { runInNewContext } from 'node:vm';
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc');
    const m = EbpfMap.create({ type: MapType.Array, valueSize: 65536, maxEntries: 2 });
    const bridge = native();
    const attr = new Uint8Array(32);
    new DataView(attr.buffer).setUint32(0, m.fd, true);
    const scratch = bridge.scratch(8 + 65536);
    const p = bridge.bpfPrepare(1, attr, 8, new Uint32Array(scratch, 0, 1), 16, new Uint8Array(scratch, 8, 65536));
    structuredClone(attr.buffer, { transfer: [attr.buffer] });
    try { structuredClone(scratch, { transfer: [scratch] }); } catch {}
    for (let i = 0; i < 5; i++) { gc(); await new Promise((r) => setImmediate(r)); new Uint8Array(1 << 20).fill(1); }
    for (let i = 0; i < 100; i++) check((bridge.bpfRun(p) ?? 0) === 0, 'run ' + i);
    bridge.bpfRelease(p);
    console.log('done');
  `);
});

kernel('10. fromFd duplicates; a map whose fd was closed behind its back cannot close another file', () => {
  using m = EbpfMap.create({ type: MapType.Array, valueSize: 4, maxEntries: 1 });
  m.upsert(0, 7);
  const second = EbpfMap.fromFd(m.fd);
  assert.is.not(second.fd, m.fd);
  second.close();
  assert.is(m.lookupInt(0), 7, 'the first map still works after the second closed');
  const victim = EbpfMap.create({ type: MapType.Array, valueSize: 4, maxEntries: 1 });
  const fd = victim.fd;
  native().close(fd); // behind its back
  using reuser = EbpfMap.create({ type: MapType.Array, valueSize: 8, maxEntries: 1 });
  assert.is(reuser.fd, fd, 'the number was reused');
  assert.throws(() => victim.close(), /closed behind its owner's back and now refers to another file: not closing it/);
  reuser.upsert(0, 1n);
  assert.is(reuser.lookupInt(0), 1, 'the reusing map is still open');
  // adoptFd hands a number over: the map closes it.
  const raw = native().dup(m.fd);
  const adopted = EbpfMap.adoptFd(raw);
  assert.is(adopted.fd, raw);
  adopted.close();
  assert.is(native().close(raw), -9);
});

test.run();
kernel.run();
