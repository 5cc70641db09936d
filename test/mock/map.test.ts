// MockMap without a kernel: every method, the kernel's errors (same SyscallError as EbpfMap's), per-CPU
// values, LPM longest-prefix match, arrays, queue/stack, bloom filter, maps of maps and prog arrays.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EbpfMap } from '../../src/index.js';
import { BPF_EXIST, MapBatchCursor, MapType, MockMap, MockProgram, ProgramType, SyscallError, createLpmTrieKey, type MapLike } from '../../src/mock/index.js';

/** The errno code of the SyscallError fn throws, checking its syscall name. */
function code(syscall: string, fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    assert.is(e.syscall, syscall);
    return e.code;
  }
  throw new Error(`expected ${syscall} to fail`);
}

const u32 = (b: Uint8Array | undefined): number => new DataView(b!.buffer, b!.byteOffset, 4).getUint32(0, true);
const hash = (maxEntries = 4): MockMap => MockMap.create({ name: 'h', type: MapType.Hash, keySize: 4, valueSize: 8, maxEntries });

test('a function typed against MapLike takes a MockMap and an EbpfMap', () => {
  const total = (m: MapLike): number => [...m.keys()].reduce((sum, k) => sum + m.lookupInt(k), 0);
  const m = hash();
  m.upsert(1, 2);
  m.upsert(3, 4);
  assert.is(total(m), 6);
  const typed: (m: EbpfMap) => number = total; // EbpfMap implements MapLike: this line type-checks
  assert.type(typed, 'function');
});

test('spec defaults, fd, id, info, toString, name check', () => {
  const m = new MockMap({ name: 'arr', type: MapType.Array, valueSize: 8, maxEntries: 2 });
  assert.is(m.fd, -1);
  assert.throws(() => m.lookup(0), /map 'arr': not created/);
  assert.is(m.create(), m);
  assert.is(m.create().fd, m.fd, 'create is idempotent');
  assert.ok(m.fd >= 1 << 24);
  assert.is(m.keySize, 4, 'arrays default to 4-byte keys');
  assert.is(m.maxEntries, 2);
  assert.is(m.flags, 0);
  assert.is(m.perCpu, false);
  const info = m.info();
  assert.equal([info.type, info.id, info.keySize, info.valueSize, info.maxEntries, info.name], [MapType.Array, m.id, 4, 8, 2, 'arr']);
  assert.match(m.toString(), /MockMap\(map 'arr' \(array, key 4 B, value 8 B, 2 entries, flags 0x0\), fd \d+\)/);
  assert.is(MockMap.create({ type: MapType.LPMTrie, keySize: 8, valueSize: 4, maxEntries: 1 }).flags, 1, 'LPM tries get BPF_F_NO_PREALLOC');
  assert.throws(() => MockMap.create({ name: 'a_name_of_16_chr', type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 1 }), /name is longer than 15 bytes/);
  assert.throws(() => new MockMap({ type: MapType.Hash, keySize: -1 }), /keySize -1 is out of range/);
  assert.throws(() => new MockMap({ type: MapType.PerCPUArray, possibleCpus: 0 }), /possibleCpus 0 is not a positive integer/);
});

test('create refuses what BPF_MAP_CREATE refuses (EINVAL)', () => {
  for (const spec of [
    { type: MapType.Hash, keySize: 0, valueSize: 4, maxEntries: 1 },
    { type: MapType.Hash, keySize: 4, valueSize: 0, maxEntries: 1 },
    { type: MapType.Hash, keySize: 4, valueSize: 4 },
    { type: MapType.Array, keySize: 8, valueSize: 4, maxEntries: 1 },
    { type: MapType.Queue, keySize: 4, valueSize: 4, maxEntries: 1 },
    { type: MapType.LPMTrie, keySize: 4, valueSize: 4, maxEntries: 1 },
    { type: MapType.ArrayOfMaps, maxEntries: 1 },
  ]) {
    assert.is(code('BPF_MAP_CREATE', () => MockMap.create(spec)), 'EINVAL', JSON.stringify(spec));
  }
});

test('close: idempotent, later calls say closed, create again starts empty; using disposes', () => {
  const m = hash();
  m.upsert(1, 1);
  m.close();
  m.close();
  assert.is(m.fd, -1);
  assert.throws(() => m.lookup(1), /map 'h': closed/);
  m.create();
  assert.is(code('BPF_MAP_LOOKUP_ELEM', () => m.lookup(1)), 'ENOENT');
  let inner: MockMap;
  {
    using scoped = hash();
    inner = scoped;
  }
  assert.is(inner.fd, -1);
});

test('hash: insert/update/upsert/delete/lookup* and their errors', () => {
  const m = hash(3);
  assert.is(code('BPF_MAP_LOOKUP_ELEM', () => m.lookup(1)), 'ENOENT');
  m.insert(1, 10);
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => m.insert(1, 11)), 'EEXIST');
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => m.update(2, 1)), 'ENOENT');
  m.upsert(2, 'hi');
  m.upsert(3, 0xffff_ffff_ffff_ffffn);
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => m.upsert(4, 1)), 'E2BIG');
  m.update(1, 12);
  assert.is(m.lookupInt(1), 12);
  assert.is(m.lookupUint64(3), 0xffff_ffff_ffff_ffffn);
  assert.throws(() => m.lookupInt(3), (e: unknown) => e instanceof RangeError && /use lookupUint64/.test(e.message));
  assert.is(m.lookupString(2), 'hi');
  assert.equal(m.lookup(1), new Uint8Array([12, 0, 0, 0, 0, 0, 0, 0]));
  assert.is(code('BPF_MAP_LOOKUP_ELEM', () => m.lookup(1, 1)), 'EINVAL');
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => m.upsert(1, 1, 3)), 'EINVAL');
  assert.throws(() => m.insert(0x1_0000_0000, 1), (e: unknown) => e instanceof TypeError && e.message === 'map \'h\': key 4294967296 needs 5 bytes but the key size is 4');
  assert.throws(() => m.upsert(1, 'nine bytes'), /map 'h': value "nine bytes" needs 10 bytes but the value size is 8/);
  assert.throws(() => m.lookupPerCpu(1), /is not a per-CPU map/);
  assert.is(code('BPF_MAP_DELETE_ELEM', () => m.delete(9)), 'ENOENT');
  m.delete(2);
  assert.equal(m.lookupAndDelete(1), new Uint8Array([12, 0, 0, 0, 0, 0, 0, 0]));
  assert.is(code('BPF_MAP_LOOKUP_AND_DELETE_ELEM', () => m.lookupAndDelete(1)), 'ENOENT');
  assert.is(m.size, 1);
  const err = (() => { try { m.lookup(7); } catch (e) { return e as SyscallError; } })()!;
  assert.equal([err.errno, err.code, err.syscall], [2, 'ENOENT', 'BPF_MAP_LOOKUP_ELEM']);
  assert.is(err.message, 'BPF_MAP_LOOKUP_ELEM: ENOENT (No such file or directory): map \'h\' key 7');
});

test('keys as goebpf encodes them: strings, bigints, byte arrays', () => {
  const m = MockMap.create({ type: MapType.Hash, keySize: 8, valueSize: 4, maxEntries: 8 });
  m.upsert('ab', 1);
  m.upsert(2n, 2);
  m.upsert(new Uint8Array([3]), 3);
  assert.is(m.lookupInt(new Uint8Array([0x61, 0x62])), 1);
  assert.is(m.lookupInt(2), 2);
  assert.is(m.lookupInt(3n), 3);
  assert.is(m.getNextKeyString(), 'ab');
  assert.is(m.getNextKeyUint64('ab'), 2n);
  assert.is(m.getNextKeyInt(2), 3);
  assert.is(m.getNextKey(3), undefined);
  assert.equal(m.getNextKey('absent'), new Uint8Array([0x61, 0x62, 0, 0, 0, 0, 0, 0]), 'an absent key restarts at the first');
});

test('iteration: keys, entries, for..of; deletes during the walk are skipped, nothing twice', () => {
  const m = hash(8);
  for (let i = 1; i <= 5; i++) m.upsert(i, i * 10);
  assert.equal([...m.keys()].map(u32), [1, 2, 3, 4, 5]);
  const seen: number[] = [];
  for (const [key, value] of m) {
    seen.push(u32(key), u32(value));
    if (u32(key) === 2) {
      m.delete(3);
      m.delete(2);
    }
  }
  assert.equal(seen, [1, 10, 2, 20, 4, 40, 5, 50]);
  assert.equal([...m.entries()].length, 3);
});

test('LRU hash evicts the least recently used entry instead of E2BIG', () => {
  const m = MockMap.create({ type: MapType.LRUHash, keySize: 4, valueSize: 4, maxEntries: 2 });
  m.upsert(1, 1);
  m.upsert(2, 2);
  m.lookup(1);
  m.upsert(3, 3);
  assert.equal([...m.keys()].map(u32).sort(), [1, 3]);
});

test('per-CPU: one slot per possible CPU (option), sums, per-CPU writes', () => {
  const m = MockMap.create({ type: MapType.PerCPUHash, keySize: 4, valueSize: 4, maxEntries: 4, possibleCpus: 3 });
  assert.is(m.possibleCpus, 3);
  m.upsert(1, 5);
  assert.is(m.lookup(1).length, 24, 'roundUp(4, 8) * 3');
  assert.is(m.lookupInt(1), 15);
  m.upsert(2, [1, 2, 3]);
  assert.equal(m.lookupPerCpu(2).map(u32), [1, 2, 3]);
  assert.is(m.lookupUint64(2), 6n);
  assert.throws(() => m.upsert(2, [1, 2]), /2 per-CPU values given, expected one per possible CPU \(3\)/);
  // A raw buffer: one CPU's value (copied to each), or the kernel's whole layout (3 × 8 bytes here).
  const whole = new Uint8Array(24);
  whole.set([7], 0); whole.set([8], 8); whole.set([9], 16);
  m.upsert(4, whole);
  assert.equal(m.lookupPerCpu(4).map(u32), [7, 8, 9]);
  assert.throws(() => m.upsert(4, new Uint8Array(16)), /a per-CPU value of 16 bytes is neither one CPU's \(4 bytes, copied to every CPU\) nor every CPU's \(3 × 8 = 24 bytes\); pass an array of 3 values/);
  assert.throws(() => m.lookupString(2), /lookupString does not apply to per-CPU maps/);
  assert.is(m.lookupAndDelete(2).length, 24);
  assert.is(MockMap.create({ type: MapType.PerCPUArray, valueSize: 8, maxEntries: 1 }).possibleCpus, 2, 'default: 2');
});

test('array: every slot exists and starts zeroed; delete is EINVAL; bounds', () => {
  const m = MockMap.create({ type: MapType.Array, valueSize: 4, maxEntries: 3 });
  assert.equal(m.lookup(2), new Uint8Array(4));
  assert.is(code('BPF_MAP_LOOKUP_ELEM', () => m.lookup(3)), 'ENOENT');
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => m.insert(0, 1)), 'EEXIST');
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => m.upsert(3, 1)), 'E2BIG');
  assert.is(code('BPF_MAP_DELETE_ELEM', () => m.delete(0)), 'EINVAL');
  assert.is(code('BPF_MAP_LOOKUP_AND_DELETE_ELEM', () => m.lookupAndDelete(0)), 'ENOTSUPP');
  m.update(1, 7);
  assert.equal([...m].map(([k, v]) => [u32(k), u32(v)]), [[0, 0], [1, 7], [2, 0]]);
  assert.equal([m.getNextKeyInt(), m.getNextKeyInt(1), m.getNextKeyInt(2), m.getNextKeyInt(99)], [0, 2, undefined, 0]);
  m.clear();
  assert.is(m.lookupInt(1), 0, 'clear() zeroes an array');
  assert.is(m.size, 3);
});

test('LPM trie: longest prefix match, exact update/delete, post-order keys, ENOSPC when full', () => {
  const m = MockMap.create({ name: 'routes', type: MapType.LPMTrie, keySize: 8, valueSize: 4, maxEntries: 3 });
  m.insert(createLpmTrieKey('192.168.0.0/16'), 16);
  m.insert('192.168.0.0/24', 24);
  assert.is(m.lookupInt('192.168.0.10'), 24, "goebpf's example: the /24 wins");
  assert.is(m.lookupInt('192.168.1.10'), 16);
  assert.is(m.lookupInt('192.168.0.10/16'), 16, 'the lookup key’s own prefix bounds the match');
  assert.is(code('BPF_MAP_LOOKUP_ELEM', () => m.lookup('10.0.0.1')), 'ENOENT');
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => m.insert('192.168.0.0/16', 1)), 'EEXIST');
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => m.update('192.168.0.0/17', 1)), 'ENOENT');
  m.insert('192.168.128.0/24', 128);
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => m.insert('10.0.0.0/8', 8)), 'ENOSPC');
  m.upsert('192.168.0.0/24', 25);
  const text = (k: Uint8Array | undefined): string => `${[...k!.subarray(4)].join('.')}/${u32(k)}`;
  assert.equal([...m.keys()].map(text), ['192.168.0.0/24', '192.168.128.0/24', '192.168.0.0/16'], "the kernel's post-order");
  assert.is(text(m.getNextKey('192.168.128.0/24')), '192.168.0.0/16');
  assert.is(code('BPF_MAP_DELETE_ELEM', () => m.delete('192.168.0.0/23')), 'ENOENT');
  m.delete('192.168.0.0/24');
  assert.is(m.lookupInt('192.168.0.10'), 16);
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => m.upsert(new Uint8Array([33, 0, 0, 0, 1, 2, 3, 4]), 1)), 'EINVAL');
  assert.is(code('BPF_MAP_LOOKUP_AND_DELETE_ELEM', () => m.lookupAndDelete('192.168.0.0/16')), 'ENOTSUPP');
  const v6 = MockMap.create({ type: MapType.LPMTrie, keySize: 20, valueSize: 4, maxEntries: 4 });
  v6.upsert('2001:db8::/32', 32);
  v6.upsert('2001:db8:1::/48', 48);
  assert.equal([v6.lookupInt('2001:db8:1::5'), v6.lookupInt('2001:db8:2::5')], [48, 32]);
});

test('queue and stack: push/pop/peek, full, BPF_EXIST, keyed calls are EINVAL', () => {
  const q = MockMap.create({ type: MapType.Queue, valueSize: 4, maxEntries: 2 });
  assert.is(q.keySize, 0);
  assert.is(q.pop(), undefined);
  q.push(1);
  q.push(2);
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => q.push(3)), 'E2BIG');
  q.push(3, BPF_EXIST);
  assert.is(u32(q.peek()), 2);
  assert.is(q.contains(0), true);
  assert.equal([u32(q.pop()), u32(q.pop()), q.pop()], [2, 3, undefined]);
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => q.insert(0, 1)), 'EINVAL');
  assert.is(code('BPF_MAP_LOOKUP_ELEM', () => q.lookup(0)), 'EINVAL');
  assert.is(code('BPF_MAP_GET_NEXT_KEY', () => q.getNextKey()), 'EINVAL');
  assert.equal([...q.keys()], []);
  const s = MockMap.create({ type: MapType.Stack, valueSize: 4, maxEntries: 2 });
  s.push(1);
  s.push(2);
  assert.equal([u32(s.peek()), u32(s.pop()), u32(s.pop())], [2, 2, 1]);
  const h = hash();
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => h.push(1)), 'EFAULT', 'a keyless call on a keyed map');
});

test('bloom filter: push and contains; no pop', () => {
  const b = MockMap.create({ type: MapType.BloomFilter, valueSize: 4, maxEntries: 8 });
  b.push(42);
  assert.equal([b.contains(42), b.contains(7)], [true, false]);
  assert.throws(() => b.peek(), /bloom filter has no next value to peek; use contains/);
  assert.is(code('BPF_MAP_LOOKUP_AND_DELETE_ELEM', () => b.pop()), 'ENOTSUPP');
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => b.push(1, BPF_EXIST)), 'EINVAL');
});

test('array and hash of maps hold MockMaps; lookups give the inner id, lookupInnerMap the map', () => {
  const inner = MockMap.create({ name: 'inner', type: MapType.Array, valueSize: 4, maxEntries: 4 });
  const outer = MockMap.create({ name: 'outer', type: MapType.ArrayOfMaps, maxEntries: 2, innerMap: inner });
  assert.is(code('BPF_MAP_LOOKUP_ELEM', () => outer.lookup(0)), 'ENOENT');
  outer.insert(0, inner);
  outer.insert(0, inner); // fd maps take BPF_ANY
  assert.is(outer.lookupInt(0), inner.id);
  assert.is(outer.lookupInnerMap(0), inner);
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => outer.insert(2, inner)), 'E2BIG');
  const other = MockMap.create({ type: MapType.Array, valueSize: 8, maxEntries: 4 });
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => outer.insert(1, other)), 'EINVAL', 'incompatible with the inner template');
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => outer.insert(1, 12345)), 'EBADF', 'not an open mock fd');
  const spare = inner.cloneTemplate();
  assert.is(spare.fd, -1);
  outer.insert(1, spare.create().fd);
  assert.equal([...outer].map(([k]) => u32(k)), [0, 1]);
  outer.delete(1);
  assert.is(code('BPF_MAP_DELETE_ELEM', () => outer.delete(1)), 'ENOENT');
  assert.equal([...outer.entries()].length, 1, 'empty slots have no value');
  assert.equal([...outer.keys()].length, 2, 'but are keys');
  const byFd = MockMap.create({ type: MapType.HashOfMaps, keySize: 4, maxEntries: 2, innerMapFd: inner.fd });
  byFd.insert(7, inner);
  assert.is(byFd.lookupInnerMap(7), inner);
  assert.is(code('BPF_MAP_LOOKUP_ELEM', () => hash().lookupInnerMap(1)), 'ENOENT');
});

test('prog array holds loaded MockPrograms; lookup gives the program id', () => {
  const progs = MockMap.create({ type: MapType.ProgArray, maxEntries: 4 });
  const p = new MockProgram({ name: 'tail', type: ProgramType.XDP }).load();
  progs.insert(0, p);
  assert.is(progs.lookupInt(0), p.id);
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => progs.insert(1, hash())), 'EINVAL');
  assert.throws(() => progs.insert(1, new MockProgram({ name: 'x', type: ProgramType.XDP })), /not loaded/);
});

test('batches: cursors in chunks, lookup-and-delete, update and delete with `processed`', () => {
  const m = hash(8);
  assert.is(m.updateBatch([1, 2, 3, 4, 5], [10, 20, 30, 40, 50]), 5);
  const cursor = new MapBatchCursor(4);
  const keys = new Uint8Array(2 * 4);
  const values = new Uint8Array(2 * 8);
  const got: number[] = [];
  while (!cursor.done) {
    const n = m.lookupBatchInto(cursor, keys, values, 2);
    for (let i = 0; i < n; i++) got.push(u32(keys.subarray(i * 4)));
  }
  assert.equal(got, [1, 2, 3, 4, 5]);
  assert.equal(m.lookupBatch({ chunkSize: 3 }).map(([k, v]) => [u32(k), u32(v)]), [[1, 10], [2, 20], [3, 30], [4, 40], [5, 50]]);
  const c2 = new MapBatchCursor(4);
  assert.is(m.lookupAndDeleteBatchInto(c2, keys, values, 2), 2);
  assert.is(m.size, 3);
  assert.is(m.deleteBatch([3]), 1);
  try {
    m.deleteBatch([4, 99, 5]);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, SyscallError);
    assert.equal([(e as SyscallError).code, (e as SyscallError & { processed: number }).processed], ['ENOENT', 1]);
  }
  assert.equal(m.lookupAndDeleteBatch().map(([k]) => u32(k)), [5]);
  assert.is(m.size, 0);
  assert.throws(() => m.lookupBatchInto(new MapBatchCursor(4), new Uint8Array(4), new Uint8Array(4), 1), /value buffer of 4 bytes is too small for 1 values of 8 bytes/);
  assert.is(code('BPF_MAP_UPDATE_BATCH', () => m.updateBatch([1], [1], { flags: 1 })), 'EINVAL');
  const arr = MockMap.create({ type: MapType.Array, valueSize: 4, maxEntries: 2 });
  assert.is(code('BPF_MAP_DELETE_BATCH', () => arr.deleteBatch([0])), 'ENOTSUPP');
  assert.is(code('BPF_MAP_LOOKUP_AND_DELETE_BATCH', () => arr.lookupAndDeleteBatch()), 'ENOTSUPP');
  const q = MockMap.create({ type: MapType.Queue, valueSize: 4, maxEntries: 2 });
  assert.is(code('BPF_MAP_LOOKUP_BATCH', () => q.lookupBatch()), 'ENOTSUPP');
});

test('freeze: writes from user space fail with EPERM, reads work, twice is EPERM', () => {
  const m = hash();
  m.upsert(1, 1);
  m.freeze();
  assert.is(m.frozen, true);
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => m.upsert(1, 2)), 'EPERM');
  assert.is(code('BPF_MAP_DELETE_ELEM', () => m.delete(1)), 'EPERM');
  assert.is(code('BPF_MAP_LOOKUP_AND_DELETE_ELEM', () => m.lookupAndDelete(1)), 'EPERM');
  assert.is(code('BPF_MAP_UPDATE_BATCH', () => m.updateBatch([1], [1])), 'EPERM');
  assert.is(code('BPF_MAP_FREEZE', () => m.freeze()), 'EPERM');
  assert.is(m.lookupInt(1), 1);
  const q = MockMap.create({ type: MapType.Queue, valueSize: 4, maxEntries: 2 });
  q.push(1);
  q.freeze();
  assert.is(code('BPF_MAP_UPDATE_ELEM', () => q.push(1)), 'EPERM');
  assert.is(code('BPF_MAP_LOOKUP_AND_DELETE_ELEM', () => q.pop()), 'EPERM');
  assert.is(u32(q.peek()), 1);
});

test('pin/unpin record the path; persistentPath shows as pinned', () => {
  const m = hash();
  m.pin('/sys/fs/bpf/x');
  assert.is(m.pinnedPath, '/sys/fs/bpf/x');
  m.unpin();
  assert.is(m.pinnedPath, undefined);
  assert.is(MockMap.create({ type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 1, persistentPath: '/sys/fs/bpf/p' }).pinnedPath, '/sys/fs/bpf/p');
});

test('types the mock does not model say so on element calls', () => {
  const m = MockMap.create({ name: 'events', type: MapType.PerfEventArray, maxEntries: 4 });
  assert.throws(() => m.lookup(0), /MockMap does not model elements of perf_event_array maps/);
  assert.is(m.info().maxEntries, 4);
});

test.run();
