// Keeps the mock honest: the same scripted operations run against a real kernel map (EbpfMap) and a
// MockMap of the same spec must give identical results and identical errors (syscall and errno code,
// TypeError messages); and a System and a MockSystem loading the same object fill the same program
// array slots. Kernel test: skips without root / bpf().
import { mkdirSync, rmdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Attachment } from '../../src/link/attachment-base.js';
import * as assert from 'uvu/assert';
import { AttachType, BPF_EXIST, BPF_F_LOCK, BPF_F_ZERO_SEED, BPF_NOEXIST } from '../../src/sys/generated.js';
import { SyscallError } from '../../src/sys/errors.js';
import { EbpfMap, MapType, System, getNumOfPossibleCpus, type MapLike, type MapSpec, type SystemLike } from '../../src/index.js';
import { MockMap, MockSystem } from '../../src/mock/index.js';
import { getPageSize } from '../../src/map/host.js';
import { ringBufferSize } from '../../src/program/elf-map.js';
import { kernelSuite, withBpffs } from '../kernel/support.js';

const honesty = kernelSuite('mock honesty');

/** The other maps of one side (kernel or mock) a step may use, e.g. inner maps to store. */
interface Side {
  inner: MapLike[];
}

type Step = [label: string, op: (m: MapLike, side: Side) => unknown];

/** A comparable form of a result: bytes as hex, bigints marked, nested arrays kept. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return value.map(plain);
  if (value === undefined) return '(undefined)';
  return value;
}

/** Results whose order the kernel does not fix (hash buckets): sorted. */
const sorted = (items: unknown[]): unknown[] => items.map((item) => JSON.stringify(plain(item))).sort();

/** Errors each element of a batch can hit: there the count processed before it is part of the result. */
const PER_ELEMENT = new Set(['E2BIG', 'ENOENT', 'EEXIST', 'ENOSPC']);

function outcome(m: MapLike, side: Side, op: Step[1]): unknown {
  try {
    return { ok: plain(op(m, side)) };
  } catch (e) {
    if (e instanceof SyscallError) {
      const processed = (e as SyscallError & { processed?: number }).processed;
      return { error: `${e.syscall} ${e.code}`, ...(PER_ELEMENT.has(e.code) && processed !== undefined ? { processed } : {}) };
    }
    if (e instanceof TypeError || e instanceof RangeError) return { error: `${e.name}: ${e.message}` };
    throw e;
  }
}

/**
 * Runs `steps` on a kernel map and a mock of `spec`. `innerSpecs` are created on each side first (as
 * EbpfMaps / MockMaps) and handed to the steps; a spec's innerMap, if any, is the first of them.
 */
function compare(spec: MapSpec, steps: Step[], innerSpecs: MapSpec[] = []): void {
  const possibleCpus = getNumOfPossibleCpus();
  const realSide: Side = { inner: [] };
  const mockSide: Side = { inner: [] };
  const opened: MapLike[] = [];
  try {
    for (const inner of innerSpecs) {
      opened.push(EbpfMap.create(inner), MockMap.create({ ...inner, possibleCpus }));
      realSide.inner.push(opened.at(-2)!);
      mockSide.inner.push(opened.at(-1)!);
    }
    const real = EbpfMap.create(innerSpecs.length > 0 ? { ...spec, innerMap: realSide.inner[0] as EbpfMap } : spec);
    opened.push(real);
    const mock = MockMap.create({ ...spec, possibleCpus, ...(innerSpecs.length > 0 ? { innerMap: mockSide.inner[0] as MockMap } : {}) });
    opened.push(mock);
    for (const [label, op] of steps) {
      const expected = outcome(real, realSide, op);
      const got = outcome(mock, mockSide, op);
      assert.equal(got, expected, `${spec.name}: ${label}: kernel ${JSON.stringify(expected)}, mock ${JSON.stringify(got)}`);
    }
  } finally {
    for (const map of opened) map.close();
  }
}

/** Steps every keyed map shares at the end: freezing stops writes from user space, not reads. */
const frozenSteps = (key: number | string, value: number): Step[] => [
  ['freeze', (m) => m.freeze()],
  ['write when frozen', (m) => m.upsert(key, value)],
  ['delete when frozen', (m) => m.delete(key)],
  ['batch update when frozen', (m) => m.updateBatch([key], [value])],
  ['freeze twice', (m) => m.freeze()],
];

honesty('hash', () => {
  compare({ name: 'h_hash', type: MapType.Hash, keySize: 4, valueSize: 8, maxEntries: 4 }, [
    ['lookup absent', (m) => m.lookup(1)],
    ['insert', (m) => m.insert(1, 10)],
    ['insert present', (m) => m.insert(1, 11)],
    ['update absent', (m) => m.update(2, 5)],
    ['upsert', (m) => { m.upsert(2, 20); m.upsert(3, 30n); m.upsert(4, new Uint8Array([40])); }],
    ['upsert when full', (m) => m.upsert(5, 50)],
    ['update when full', (m) => m.update(4, 41)],
    ['lookupInt', (m) => m.lookupInt(4)],
    ['lookupUint64', (m) => m.lookupUint64(1)],
    ['lookup', (m) => m.lookup(3)],
    ['lookupString', (m) => m.lookupString(1)],
    ['lookup with flags', (m) => m.lookup(1, 1)],
    ['upsert with bad flags', (m) => m.upsert(1, 1, 3)],
    ['upsert with BPF_F_LOCK', (m) => m.upsert(1, 1, BPF_F_LOCK)],
    ['upsert BPF_NOEXIST', (m) => m.upsert(1, 1, BPF_NOEXIST)],
    ['upsert BPF_EXIST absent', (m) => m.upsert(9, 1, BPF_EXIST)],
    ['key too large', (m) => m.insert(0x1_0000_0000, 1)],
    ['value too large', (m) => m.insert(1, 'nine bytes')],
    ['per-CPU values on a plain map', (m) => m.upsert(1, [1, 2])],
    ['lookupPerCpu', (m) => m.lookupPerCpu(1)],
    ['delete absent', (m) => m.delete(9)],
    ['delete', (m) => m.delete(3)],
    ['lookupAndDelete', (m) => m.lookupAndDelete(2)],
    ['lookupAndDelete absent', (m) => m.lookupAndDelete(2)],
    ['keys', (m) => sorted([...m.keys()])],
    ['entries', (m) => sorted([...m])],
    ['getNextKey of the last key', (m) => { const keys = [...m.keys()]; return m.getNextKey(keys[keys.length - 1]!); }],
    ['updateBatch', (m) => m.updateBatch([6, 7], [60, 70])],
    ['updateBatch when full', (m) => m.updateBatch([8], [80])],
    ['updateBatch with BPF_NOEXIST', (m) => m.updateBatch([1], [1], { flags: BPF_NOEXIST })],
    ['updateBatch key/value count mismatch', (m) => m.updateBatch([1, 4], [1])],
    ['deleteBatch stops at an absent key', (m) => m.deleteBatch([6, 99, 7])],
    ['lookupBatch', (m) => sorted(m.lookupBatch({ chunkSize: 1 }))],
    ['lookupAndDeleteBatch', (m) => sorted(m.lookupAndDeleteBatch())],
    ['empty', (m) => [...m.keys()]],
    ['getNextKey of an empty map', (m) => m.getNextKey()],
    ['refill', (m) => m.upsert(1, 1)],
    ['getNextKeyInt', (m) => m.getNextKeyInt()],
    ['getNextKeyInt of an absent key', (m) => m.getNextKeyInt(1234)],
    ...frozenSteps(1, 2),
    ['lookup when frozen', (m) => m.lookupInt(1)],
    ['lookupAndDelete when frozen', (m) => m.lookupAndDelete(1)],
  ]);
});

honesty('array', () => {
  compare({ name: 'h_array', type: MapType.Array, keySize: 4, valueSize: 4, maxEntries: 3 }, [
    ['lookup (zero-filled)', (m) => m.lookup(0)],
    ['lookup past the end', (m) => m.lookup(3)],
    ['insert (every slot exists)', (m) => m.insert(0, 1)],
    ['insert past the end', (m) => m.insert(5, 1)],
    ['update', (m) => m.update(0, 7)],
    ['upsert', (m) => m.upsert(1, 8)],
    ['upsert past the end', (m) => m.upsert(3, 8)],
    ['upsert with bad flags', (m) => m.upsert(1, 1, 3)],
    ['lookupInt', (m) => [m.lookupInt(0), m.lookupInt(1), m.lookupInt(2)]],
    ['delete', (m) => m.delete(0)],
    ['delete past the end', (m) => m.delete(7)],
    ['lookupAndDelete', (m) => m.lookupAndDelete(0)],
    ['getNextKeyInt', (m) => [m.getNextKeyInt(), m.getNextKeyInt(0), m.getNextKeyInt(1), m.getNextKeyInt(2), m.getNextKeyInt(9)]],
    ['getNextKeyUint64', (m) => m.getNextKeyUint64(0)],
    ['keys', (m) => [...m.keys()]],
    ['entries', (m) => [...m.entries()]],
    ['lookupBatch', (m) => m.lookupBatch({ chunkSize: 2 })],
    ['updateBatch', (m) => m.updateBatch([1, 2], [11, 12])],
    ['updateBatch past the end', (m) => m.updateBatch([2, 3], [1, 1])],
    ['deleteBatch', (m) => m.deleteBatch([0])],
    ['lookupAndDeleteBatch', (m) => m.lookupAndDeleteBatch()],
    ['after batches', (m) => [...m]],
    ['push on an array', (m) => m.push(1)],
    ['key too large', (m) => m.lookup(-1)],
    ...frozenSteps(1, 2),
  ]);
});

honesty('per-CPU array', () => {
  const cpus = getNumOfPossibleCpus();
  const perCpu = Array.from({ length: cpus }, (_, i) => i + 1);
  compare({ name: 'h_percpu', type: MapType.PerCPUArray, keySize: 4, valueSize: 4, maxEntries: 2 }, [
    ['lookup (zero-filled, a slot per CPU)', (m) => m.lookup(0)],
    ['lookupPerCpu', (m) => m.lookupPerCpu(0)],
    ['upsert one value (every CPU)', (m) => m.upsert(0, 5)],
    ['lookupInt sums the CPUs', (m) => m.lookupInt(0)],
    ['upsert one value per CPU', (m) => m.upsert(1, perCpu)],
    ['lookupPerCpu', (m) => m.lookupPerCpu(1)],
    ['lookupUint64 sums the CPUs', (m) => m.lookupUint64(1)],
    ['wrong number of per-CPU values', (m) => m.upsert(1, [...perCpu, 1])],
    ['lookupString', (m) => m.lookupString(1)],
    ['lookupAndDelete', (m) => m.lookupAndDelete(1)],
    ['delete', (m) => m.delete(1)],
    ['insert', (m) => m.insert(1, 1)],
    ['entries', (m) => [...m]],
    ['lookupBatch', (m) => m.lookupBatch()],
    ['updateBatch', (m) => m.updateBatch([0, 1], [perCpu, 9])],
    ['after updateBatch', (m) => [m.lookupInt(0), m.lookupInt(1)]],
    ['deleteBatch', (m) => m.deleteBatch([0])],
    ...frozenSteps(0, 1),
  ]);
});

honesty('LPM trie', () => {
  compare({ name: 'h_lpm', type: MapType.LPMTrie, keySize: 8, valueSize: 4, maxEntries: 3 }, [
    ['lookup in an empty trie', (m) => m.lookup('10.1.2.3')],
    ['getNextKey in an empty trie', (m) => m.getNextKey()],
    ['upsert', (m) => { m.upsert('10.0.0.0/8', 8); m.upsert('10.1.0.0/16', 16); }],
    ['insert present', (m) => m.insert('10.0.0.0/8', 1)],
    ['update absent', (m) => m.update('192.168.0.0/16', 1)],
    ['longest prefix wins', (m) => m.lookupInt('10.1.2.3')],
    ['the shorter prefix', (m) => m.lookupInt('10.2.0.1')],
    ['a lookup key with a shorter prefix', (m) => m.lookupInt('10.1.2.3/8')],
    ['a lookup key shorter than every prefix', (m) => m.lookup('10.1.2.3/4')],
    ['no match', (m) => m.lookup('11.0.0.1')],
    ['keys (more specific first)', (m) => [...m.keys()]],
    ['getNextKey', (m) => [m.getNextKey(), m.getNextKey('10.1.0.0/16'), m.getNextKey('10.0.0.0/8'), m.getNextKey('1.2.3.4/32')]],
    ['a third prefix', (m) => m.upsert('10.1.1.0/24', 24)],
    ['full', (m) => m.upsert('10.1.1.128/25', 25)],
    ['replace when full', (m) => m.upsert('10.1.1.0/24', 240)],
    ['entries', (m) => [...m]],
    ['lookupInt', (m) => [m.lookupInt('10.1.1.1'), m.lookupInt('10.1.2.1'), m.lookupInt('10.9.9.9')]],
    ['delete absent', (m) => m.delete('10.0.0.0/9')],
    ['delete', (m) => m.delete('10.1.0.0/16')],
    ['after delete', (m) => [m.lookupInt('10.1.9.9'), m.lookupInt('10.1.1.9')]],
    ['lookupAndDelete', (m) => m.lookupAndDelete('10.0.0.0/8')],
    ['prefix longer than the key', (m) => m.upsert(new Uint8Array([33, 0, 0, 0, 10, 0, 0, 0]), 1)],
    ['upsert with bad flags', (m) => m.upsert('10.0.0.0/8', 1, 3)],
    ['not an address', (m) => m.lookup('10.0.0.256')],
    ['an IPv6 key in an IPv4 trie', (m) => m.lookup('fe80::1/64')],
    ['lookupBatch', (m) => m.lookupBatch({ chunkSize: 1 })],
    ['deleteBatch stops at an absent key', (m) => m.deleteBatch(['10.0.0.0/8', '10.0.0.0/8'])],
    ['updateBatch', (m) => m.updateBatch(['10.0.0.0/8', '172.16.0.0/12'], [8, 12])],
    ['lookupAndDeleteBatch', (m) => m.lookupAndDeleteBatch()],
    ['after batches', (m) => [...m]],
    ...frozenSteps('10.0.0.0/8', 1),
  ]);
});

honesty('per-CPU hash', () => {
  const cpus = getNumOfPossibleCpus();
  compare({ name: 'h_percpu_hash', type: MapType.PerCPUHash, keySize: 4, valueSize: 8, maxEntries: 2 }, [
    ['lookup absent', (m) => m.lookup(1)],
    ['insert one value (every CPU)', (m) => m.insert(1, 3)],
    ['insert one value per CPU', (m) => m.insert(2, Array.from({ length: cpus }, (_, i) => i))],
    ['full', (m) => m.insert(3, 1)],
    ['lookup', (m) => [m.lookup(1), m.lookupPerCpu(2), m.lookupInt(1), m.lookupUint64(2)]],
    ['lookupAndDelete', (m) => m.lookupAndDelete(1)],
    ['entries', (m) => sorted([...m])],
    ['updateBatch', (m) => m.updateBatch([5], [7])],
    ['lookupAndDeleteBatch', (m) => sorted(m.lookupAndDeleteBatch())],
    ['deleteBatch of an absent key', (m) => m.deleteBatch([5])],
  ]);
});

const innerArray: MapSpec = { name: 'h_inner', type: MapType.Array, keySize: 4, valueSize: 4, maxEntries: 4 };

honesty('array of maps', () => {
  compare({ name: 'h_aom', type: MapType.ArrayOfMaps, keySize: 4, valueSize: 4, maxEntries: 2 }, [
    ['lookup an empty slot', (m) => m.lookup(0)],
    ['delete an empty slot', (m) => m.delete(0)],
    ['insert a map', (m, side) => m.insert(0, side.inner[0]!)],
    ['insert again (fd maps replace)', (m, side) => m.insert(0, side.inner[0]!)],
    ['lookup gives the inner map id', (m, side) => m.lookupInt(0) === side.inner[0]!.info().id],
    ['insert past the end', (m, side) => m.insert(2, side.inner[0]!)],
    ['insert an incompatible map', (m, side) => m.insert(1, side.inner[1]!)],
    ['insert a hash', (m, side) => m.insert(1, side.inner[2]!)],
    ['upsert with BPF_NOEXIST', (m, side) => m.upsert(1, side.inner[0]!, BPF_NOEXIST)],
    ['keys', (m) => [...m.keys()]],
    ['entries skip empty slots', (m) => [...m.entries()].map(([k]) => k)],
    ['lookupBatch', (m) => m.lookupBatch().map(([k]) => k)],
    ['lookupAndDelete', (m) => m.lookupAndDelete(0)],
    ['delete', (m) => m.delete(0)],
    ['empty again', (m) => [...m.entries()]],
  ], [innerArray, { ...innerArray, name: 'h_inner8', maxEntries: 8 }, { ...innerArray, name: 'h_inner_hash', type: MapType.Hash }]);
});

honesty('hash of maps', () => {
  compare({ name: 'h_hom', type: MapType.HashOfMaps, keySize: 4, valueSize: 4, maxEntries: 2 }, [
    ['lookup absent', (m) => m.lookup(7)],
    ['insert', (m, side) => m.insert(7, side.inner[0]!)],
    ['insert again', (m, side) => m.insert(7, side.inner[0]!)],
    ['update absent (fd maps take BPF_ANY)', (m, side) => m.update(8, side.inner[0]!)],
    ['full', (m, side) => m.insert(9, side.inner[0]!)],
    ['lookup gives the inner map id', (m, side) => m.lookupInt(7) === side.inner[0]!.info().id],
    ['incompatible', (m, side) => m.upsert(7, side.inner[1]!)],
    ['keys', (m) => sorted([...m.keys()])],
    ['lookupAndDelete', (m) => m.lookupAndDelete(7)],
    ['delete', (m) => m.delete(7)],
    ['delete absent', (m) => m.delete(7)],
    ['updateBatch', (m, side) => m.updateBatch([1, 2], [side.inner[0]!, side.inner[0]!])],
    ['deleteBatch', (m) => m.deleteBatch([1])],
    ['lookupAndDeleteBatch', (m) => m.lookupAndDeleteBatch().map(([k]) => k)],
    ['emptied', (m) => [...m.keys()]],
  ], [innerArray, { ...innerArray, name: 'h_inner_v8', valueSize: 8 }]);
});

honesty('bloom filter', () => {
  // BPF_F_ZERO_SEED: the kernel's hashes are the same every run, so its (rare) false positives are too.
  compare({ name: 'h_bloom', type: MapType.BloomFilter, valueSize: 4, maxEntries: 16, flags: BPF_F_ZERO_SEED }, [
    ['contains when empty', (m) => m.contains(1)],
    ['push', (m) => { m.push(1); m.push(2); m.push(3); }],
    ['contains', (m) => [1, 2, 3, 4, 5, 1000].map((v) => m.contains(v))],
    ['push with BPF_EXIST', (m) => m.push(1, BPF_EXIST)],
    ['peek', (m) => m.peek()],
    ['pop', (m) => m.pop()],
    ['lookup with a key', (m) => m.lookup(0)],
    ['delete', (m) => m.delete(0)],
    ['getNextKey', (m) => m.getNextKey()],
    ['keys', (m) => [...m.keys()]],
    ['lookupBatch', (m) => m.lookupBatch()],
    ['freeze', (m) => m.freeze()],
    ['push when frozen', (m) => m.push(9)],
    ['contains when frozen', (m) => m.contains(2)],
  ]);
});

for (const type of [MapType.Queue, MapType.Stack]) {
  honesty(`${MapType[type]}`, () => {
    compare({ name: `h_${MapType[type]}`, type, valueSize: 4, maxEntries: 2 }, [
      ['pop when empty', (m) => m.pop()],
      ['peek when empty', (m) => m.peek()],
      ['contains when empty', (m) => m.contains(1)],
      ['push', (m) => { m.push(1); m.push(2); }],
      ['push when full', (m) => m.push(3)],
      ['peek', (m) => m.peek()],
      ['push with BPF_EXIST drops the oldest', (m) => m.push(3, BPF_EXIST)],
      ['pop', (m) => [m.pop(), m.pop(), m.pop()]],
      ['push with BPF_NOEXIST', (m) => m.push(1, BPF_NOEXIST)],
      ['value too large', (m) => m.push(0x1_0000_0000)],
      ['insert with a key', (m) => m.insert(0, 1)],
      ['upsert with a key', (m) => m.upsert(0, 1)],
      ['lookup with a key', (m) => m.lookup(0)],
      ['delete', (m) => m.delete(0)],
      ['lookupAndDelete', (m) => m.lookupAndDelete(0)],
      ['getNextKey', (m) => m.getNextKey()],
      ['keys', (m) => [...m.keys()]],
      ['lookupBatch', (m) => m.lookupBatch()],
      ['lookupAndDeleteBatch', (m) => m.lookupAndDeleteBatch()],
      ['push again', (m) => { m.push(7); m.push(8); }],
      ['contains', (m) => m.contains(1)],
      ['freeze', (m) => m.freeze()],
      ['push when frozen', (m) => m.push(1)],
      ['pop when frozen', (m) => m.pop()],
      ['peek when frozen', (m) => m.peek()],
    ]);
  });
}

honesty('map options a load gives (sizes, flags, an inner map template) make the same maps (System and MockSystem)', async () => {
  const object = fileURLToPath(new URL('../../../test/fixtures/maps_btf.o', import.meta.url));
  const shape = { type: MapType.Array, keySize: 4, valueSize: 4, maxEntries: 4 };
  using realInner = EbpfMap.create({ name: 'h_tmpl', ...shape });
  using mockInner = MockMap.create({ name: 'h_tmpl', ...shape });
  await withBpffs((pinRoot) => {
    const options = (inner: { fd: number }) => ({ pinRoot, maps: { flows: { maxEntries: 42, flags: 0 }, ring: { maxEntries: 5000 }, pending: { maxEntries: 7 }, hash_of_maps: { innerMap: inner } } });
    using real = new System().loadElf(object, options(realInner));
    using mock = new MockSystem({ pageSize: getPageSize() }).loadElf(object, options(mockInner));
    const made = (system: SystemLike): unknown => ['flows', 'ring', 'pending', 'routes'].map((name) => {
      const m = system.getMapByName(name)!;
      return [name, m.maxEntries, m.flags, m.keySize, m.valueSize];
    });
    assert.equal(made(real), [['flows', 42, 0, 16, 8], ['ring', ringBufferSize(5000, getPageSize()), 0, 0, 0], ['pending', 7, 0, 0, 8], ['routes', 256, 1, 8, 4]]);
    assert.equal(made(mock), made(real));
    // The template's shape is what hash_of_maps takes: a map of it goes in, a map of another shape does not.
    using realFits = EbpfMap.create({ name: 'h_fits', ...shape });
    using mockFits = MockMap.create({ name: 'h_fits', ...shape });
    using realOther = EbpfMap.create({ name: 'h_other', ...shape, maxEntries: 64 });
    using mockOther = MockMap.create({ name: 'h_other', ...shape, maxEntries: 64 });
    const put = (system: SystemLike, fits: MapLike, other: MapLike): unknown => [fits, other].map((inner) => outcome(system.getMapByName('hash_of_maps')!, { inner: [] }, (m) => m.upsert(1, inner)));
    assert.equal(put(real, realFits, realOther), [{ ok: '(undefined)' }, { error: 'BPF_MAP_UPDATE_ELEM EINVAL' }]);
    assert.equal(put(mock, mockFits, mockOther), put(real, realFits, realOther));
  });
});

honesty('maps given in place of the object\'s (replaceWith): used as they are, left open by close (System and MockSystem)', async () => {
  const object = fileURLToPath(new URL('../../../test/fixtures/maps_btf.o', import.meta.url));
  const flowsShape = { name: 'h_flows', type: MapType.Hash, keySize: 16, valueSize: 8, maxEntries: 4096, flags: 1 };
  const outerShape = { name: 'h_outer', type: MapType.ArrayOfMaps, keySize: 4, valueSize: 4, maxEntries: 4 };
  const innerShape = { type: MapType.Array, keySize: 4, valueSize: 4, maxEntries: 4 };
  await withBpffs((pinRoot) => {
    const sides = [
      { make: new System(), flows: EbpfMap.create(flowsShape), mine: EbpfMap.create({ name: 'h_mine', ...innerShape }), outer: undefined as MapLike | undefined, small: EbpfMap.create({ ...flowsShape, maxEntries: 16 }) },
      { make: new MockSystem(), flows: MockMap.create(flowsShape), mine: MockMap.create({ name: 'h_mine', ...innerShape }), outer: undefined as MapLike | undefined, small: MockMap.create({ ...flowsShape, maxEntries: 16 }) },
    ];
    try {
      const results = sides.map((side) => {
        const outer = side.make instanceof System
          ? EbpfMap.create({ ...outerShape, innerMap: side.mine as EbpfMap })
          : MockMap.create({ ...outerShape, innerMap: side.mine as MockMap });
        side.outer = outer;
        outer.upsert(1, side.mine);
        side.flows.upsert(Uint8Array.from({ length: 16 }, (_, i) => i), 5);
        let refused = '';
        try {
          side.make.loadElf(object, { pinRoot, maps: { flows: { replaceWith: side.small } } });
        } catch (e) {
          refused = (e as Error).message;
        }
        const system = side.make.loadElf(object, { pinRoot, maps: { flows: { replaceWith: side.flows }, array_of_maps: { replaceWith: outer } } });
        const flows = system.getMapByName('flows')!;
        const seen = [...flows.entries()].map(([k, v]) => [plain(k), plain(v)]);
        // Slot 1 held a map already: kept, as for a map reused from a pin (inner_b does not replace it).
        const slot1 = outer.lookupInt(1) === (side.mine instanceof EbpfMap ? side.mine.info().id : (side.mine as MockMap).id);
        system.close();
        const afterClose = side.flows.lookupInt(Uint8Array.from({ length: 16 }, (_, i) => i));
        return { refused, seen, slot1, afterClose };
      });
      assert.is(results[0]!.refused, `${object}: map 'flows': the map given to replace it is hash with key 16 B, value 8 B, 16 entries; the object makes map 'flows' (hash, key 16 B, value 8 B, 4096 entries, flags 0x1)`);
      assert.equal([results[0]!.slot1, results[0]!.afterClose, results[0]!.seen.length], [true, 5, 1]);
      assert.equal(results[1], results[0]);
    } finally {
      for (const side of sides) for (const m of [side.flows, side.mine, side.outer, side.small]) m?.close();
    }
  });
});

honesty('program array slots an object fills as its programs load (System and MockSystem)', async () => {
  const object = fileURLToPath(new URL('../../../test/fixtures/tail_calls.o', import.meta.url));
  await withBpffs((pinRoot) => {
    using real = new System().loadElf(object, { pinRoot });
    using mock = new MockSystem().loadElf(object, { pinRoot });
    /** Each filled slot of each program array, with the name of the program it holds. */
    const slots = (system: SystemLike): unknown => ['jumps', 'pinned_jumps'].map((name) => {
      const map = system.getMapByName(name)!;
      const byId = new Map([...system.getPrograms()].filter(([, p]) => p.loaded).map(([n, p]) => [p.info().id, n]));
      return [name, [...map.entries()].map(([key, value]) => [plain(key), byId.get(new DataView(value.buffer, value.byteOffset).getUint32(0, true))])];
    });
    for (const step of [[], ['tail_b'], ['entry', 'tail_a']]) {
      for (const system of [real, mock]) for (const name of step) system.getProgramByName(name)!.load();
      assert.equal(slots(mock), slots(real), `after loading ${step.join(', ') || 'nothing'}`);
    }
  });
});

honesty('attach and detach: one script against System and MockSystem gives the same attachments and errors', async () => {
  const object = fileURLToPath(new URL('../../../test/fixtures/attach_trace.o', import.meta.url));
  const cgroup = `/sys/fs/cgroup/unified/ebpf-test-${process.pid}-honesty`;
  mkdirSync(cgroup);
  try {
    const script = (system: SystemLike): unknown[] => {
      const out: unknown[] = [];
      const step = (fn: () => unknown): void => {
        try {
          out.push({ ok: fn() });
        } catch (e) {
          if (e instanceof SyscallError) out.push({ error: `${e.syscall} ${e.code}`, message: e.message });
          else out.push({ error: (e as Error).name, message: (e as Error).message });
        }
      };
      const shape = (a: Attachment): unknown => {
        const info = a.info();
        return [info.kind, info.program, info.target, info.legacy, info.linkType, typeof info.linkId];
      };
      const tp = system.getProgramByName('count_execve')!;
      const raw = system.getProgramByName('count_exec_raw')!;
      const egress = system.getProgramByName('count_egress')!;
      step(() => tp.attach());
      step(() => tp.load().attach('bad'));
      step(() => shape(tp.attach()));
      step(() => shape(tp.attach({ category: 'sched', name: 'sched_process_exec' }, { legacy: true })));
      step(() => tp.attachments.length);
      step(() => { tp.detach(); return [tp.attachments.length, tp.attachments]; });
      step(() => raw.load().attach('a/b'));
      const rawLink = raw.attach('sched_switch');
      step(() => shape(rawLink));
      step(() => rawLink.update(raw));
      step(() => egress.load().attach({ cgroup, attachType: AttachType.CgroupInet4Connect }));
      step(() => shape(egress.attach(cgroup, { legacy: true })));
      step(() => egress.attach(cgroup, { legacy: true }));
      step(() => shape(egress.attach(cgroup)));
      step(() => { egress.close(); return egress.attachments.length; });
      step(() => egress.attach(cgroup));
      step(() => { rawLink.detach(); rawLink.detach(); return rawLink.detached; });
      system.close();
      return out;
    };
    const real = script(new System().loadElf(object));
    const mock = script(new MockSystem().loadElf(object));
    assert.equal(mock, real);
  } finally {
    rmdirSync(cgroup);
  }
});

honesty.run();
