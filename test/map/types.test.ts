// Kernel test: every map type this kernel supports is created, filled to maxEntries, looked up,
// iterated and emptied through EbpfMap, with real bpf() calls.
import { closeSync, openSync, readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { EbpfMap, MapType, type MapSpec } from '../../src/map/index.js';
import { getNumOfPossibleCpus } from '../../src/map/host.js';
import { SyscallError } from '../../src/sys/errors.js';
import { native } from '../../src/sys/native.js';
import { BPF_F_MMAPABLE, BPF_F_NO_COMMON_LRU } from '../../src/sys/generated.js';
import { kernelSkipReason, kernelSuite, testNeeding } from '../kernel/support.js';
import { haveMapType } from '../../src/features/index.js';

const suite = kernelSuite('map types');

/** How one map type is exercised. */
interface TypeCase {
  spec: MapSpec;
  /** key/value of entry i; absent for maps user space cannot fill. */
  entry?: (i: number) => [number | string, number | bigint | { fd: number }];
  /** The value lookup returns for entry i, as an integer (undefined: lookup not supported from user space). */
  read?: (i: number) => number | bigint | 'any';
  /** LRU: inserting may evict before the map is full (per-CPU free lists), so fewer keys may remain. */
  evicts?: boolean;
  /** Slots always exist (arrays): delete fails with EINVAL and iteration sees maxEntries keys. */
  indexed?: boolean;
  /** Lookup from user space is unsupported (fd arrays): iterate keys only. */
  keysOnly?: boolean;
  /** Values are cgroup v2 directory fds: skipped without a cgroup2 mount. */
  needsCgroup2?: boolean;
  /** The error code of an insert past maxEntries (E2BIG for most). */
  fullCode?: string;
  /** Why this type is created but not filled. */
  emptyBecause?: string;
}

let cgroupFd = -1;
const sockets: number[] = [];

function udpSocket(): number {
  const n = native();
  const fd = n.socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */, 0);
  assert.ok(fd >= 0, `socket: ${fd}`);
  const sa = new Uint8Array(16);
  new DataView(sa.buffer).setUint16(0, 2, true);
  sa.set([127, 0, 0, 1], 4);
  assert.is(n.bind(fd, sa), 0);
  sockets.push(fd);
  return fd;
}

const N = 16;
/** Read at load time for the table; 1 where kernel tests are skipped (there may be no /sys). */
const NCPU = kernelSkipReason() === undefined ? getNumOfPossibleCpus() : 1;
const cases: Array<[string, TypeCase]> = [
  ['Hash', { spec: { type: MapType.Hash, keySize: 4, valueSize: 8, maxEntries: N }, entry: (i) => [i * 7 + 1, BigInt(i) * 1000n], read: (i) => BigInt(i) * 1000n }],
  ['Array', { spec: { type: MapType.Array, valueSize: 8, maxEntries: N }, entry: (i) => [i, i + 5], read: (i) => BigInt(i + 5), indexed: true }],
  ['PerCPUHash', { spec: { type: MapType.PerCPUHash, keySize: 4, valueSize: 4, maxEntries: N }, entry: (i) => [i + 100, i], read: (i) => BigInt(i * NCPU) }],
  ['PerCPUArray', { spec: { type: MapType.PerCPUArray, valueSize: 8, maxEntries: N }, entry: (i) => [i, 3], read: () => BigInt(3 * NCPU), indexed: true }],
  ['LRUHash', { spec: { type: MapType.LRUHash, keySize: 8, valueSize: 8, maxEntries: N }, entry: (i) => [i, i], read: (i) => BigInt(i), evicts: true }],
  ['LRUPerCPUHash', { spec: { type: MapType.LRUPerCPUHash, keySize: 4, valueSize: 8, maxEntries: N, flags: BPF_F_NO_COMMON_LRU }, entry: (i) => [i, 1], read: () => BigInt(NCPU), evicts: true }],
  ['LPMTrie', { spec: { type: MapType.LPMTrie, keySize: 8, valueSize: 4, maxEntries: N }, entry: (i) => [`10.${i}.0.0/16`, i], read: (i) => BigInt(i), fullCode: 'ENOSPC' }],
  ['ArrayOfMaps', { spec: { type: MapType.ArrayOfMaps, maxEntries: N, innerMap: { type: MapType.Array, valueSize: 4, maxEntries: 2 } }, entry: innerMapEntry, read: () => 'any', indexed: true }],
  ['HashOfMaps', { spec: { type: MapType.HashOfMaps, keySize: 4, maxEntries: N, innerMap: { type: MapType.Array, valueSize: 4, maxEntries: 2 } }, entry: innerMapEntry, read: () => 'any' }],
  ['ProgArray', { spec: { type: MapType.ProgArray, maxEntries: N }, indexed: true, emptyBecause: 'its values are programs (loaded by the program module)' }],
  ['PerfEventArray', { spec: { type: MapType.PerfEventArray }, indexed: true, keysOnly: true, emptyBecause: 'its values are perf event fds (the perf reader fills it)' }],
  ['StackTrace', { spec: { type: MapType.StackTrace, keySize: 4, valueSize: 8 * 16, maxEntries: N }, emptyBecause: 'only programs add stack traces' }],
  ['CgroupArray', { spec: { type: MapType.CgroupArray, maxEntries: N }, entry: (i) => [i, { fd: cgroupFd }], indexed: true, keysOnly: true, needsCgroup2: true }],
  ['DevMap', { spec: { type: MapType.DevMap, valueSize: 4, maxEntries: N }, entry: (i) => [i, 1 /* lo */], read: () => 1n, indexed: true }],
  ['DevMapHash', { spec: { type: MapType.DevMapHash, keySize: 4, valueSize: 4, maxEntries: N }, entry: (i) => [i * 3, 1], read: () => 1n }],
  ['CPUMap', { spec: { type: MapType.CPUMap, valueSize: 4, maxEntries: NCPU }, entry: (i) => [i, 64 /* queue size */], read: () => 64n, indexed: true }],
  ['SockMap', { spec: { type: MapType.SockMap, valueSize: 8, maxEntries: N }, entry: (i) => [i, udpSocket()], read: () => 'any', indexed: true }],
  ['SockHash', { spec: { type: MapType.SockHash, keySize: 4, valueSize: 8, maxEntries: N }, entry: (i) => [i + 1000, udpSocket()], read: () => 'any' }],
  ['XSKMap', { spec: { type: MapType.XSKMap, maxEntries: N, valueSize: 4 }, indexed: true, keysOnly: true, emptyBecause: 'its values are AF_XDP sockets bound to a queue' }],
  ['ReusePortSockArray', { spec: { type: MapType.ReusePortSockArray, valueSize: 8, maxEntries: N }, indexed: true, keysOnly: true, emptyBecause: 'its values are SO_REUSEPORT listeners' }],
  ['CgroupStorage', { spec: { type: MapType.CgroupStorage, keySize: 16, valueSize: 8, maxEntries: 0 }, emptyBecause: 'entries appear when a program is attached to a cgroup' }],
  ['PerCPUCgroupStorage', { spec: { type: MapType.PerCPUCgroupStorage, keySize: 16, valueSize: 8, maxEntries: 0 }, emptyBecause: 'entries appear when a program is attached to a cgroup' }],
  ['Queue', { spec: { type: MapType.Queue, valueSize: 8, maxEntries: N }, emptyBecause: 'keyless: push/pop (see ops.test)' }],
  ['Stack', { spec: { type: MapType.Stack, valueSize: 8, maxEntries: N }, emptyBecause: 'keyless: push/pop (see ops.test)' }],
  ['BloomFilter', { spec: { type: MapType.BloomFilter, valueSize: 8, maxEntries: N, mapExtra: 3n }, emptyBecause: 'keyless: push/contains (see ops.test)' }],
  ['RingBuf', { spec: { type: MapType.RingBuf, maxEntries: 4096 * 4 }, emptyBecause: 'a ring: its reader comes with the ringbuf module' }],
  ['UserRingBuf', { spec: { type: MapType.UserRingBuf, maxEntries: 4096 * 4 }, emptyBecause: 'a ring written through mmap' }],
  ['Arena', { spec: { type: MapType.Arena, maxEntries: 4, flags: BPF_F_MMAPABLE }, emptyBecause: 'memory pages, used through mmap' }],
];

/** Types created elsewhere or impossible without what this module does not have. */
const notHere: Record<string, string> = {
  Unspec: 'not a map type',
  SKStorage: 'needs BTF for key and value: storage.test.ts',
  InodeStorage: 'needs BTF for key and value: storage.test.ts',
  TaskStorage: 'needs BTF for key and value: storage.test.ts',
  CgrpStorage: 'needs BTF for key and value: storage.test.ts',
  StructOps: 'needs a vmlinux BTF struct_ops value type and a loaded program',
};

function innerMapEntry(i: number): [number, EbpfMap] {
  const inner = innerTemplate!.cloneTemplate().create();
  inners.push(inner);
  return [i, inner];
}
let innerTemplate: EbpfMap | undefined;
const inners: EbpfMap[] = [];

/** A cgroup v2 mount point from /proc/mounts (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts). */
function cgroup2Mount(): string | undefined {
  const line = readFileSync('/proc/mounts', 'latin1').split('\n').find((l) => l.split(' ')[2] === 'cgroup2');
  return line?.split(' ')[1];
}

suite.before(() => {
  const cg = cgroup2Mount();
  if (cg !== undefined) cgroupFd = openSync(cg, 'r');
  innerTemplate = new EbpfMap({ type: MapType.Array, valueSize: 4, maxEntries: 2 });
});

suite.after(() => {
  if (cgroupFd >= 0) closeSync(cgroupFd);
  for (const fd of sockets) native().close(fd);
  for (const m of inners) m.close();
});

suite('the table covers every MapType the kernel header has', () => {
  const covered = new Set([...cases.map(([n]) => n), ...Object.keys(notHere)]);
  const missing = Object.keys(MapType).filter((k) => Number.isNaN(Number(k)) && !covered.has(k));
  assert.equal(missing, [], `map types with no test: ${missing.join(', ')}`);
});

for (const [name, c] of cases) {
  // A type the kernel lacks or forbids (the arena map is EPERM on some builds) is skipped with the probe's reason.
  testNeeding(suite, `${name}: create, fill to maxEntries, look up, iterate, delete`, () => [haveMapType(c.spec.type)], () => {
    using m = EbpfMap.create({ name: `t_${name}`.slice(0, 15), ...c.spec });
    const info = m.info();
    assert.is(info.type, c.spec.type);
    assert.is(info.keySize, m.keySize);
    assert.is(info.valueSize, m.valueSize);
    assert.is(info.maxEntries, m.maxEntries);
    assert.ok(info.id > 0);
    if (c.needsCgroup2 && cgroupFd < 0) {
      console.log(`  (${name}: not filled: no cgroup v2 mount in /proc/mounts)`);
      return;
    }
    if (c.entry === undefined) {
      if (!c.indexed) assert.equal([...m.keys()], [], 'a fresh map has no keys');
      else assert.is([...m.keys()].length, m.maxEntries);
      return;
    }
    const keys: Array<number | string> = [];
    for (let i = 0; i < m.maxEntries; i++) {
      const [k, v] = c.entry(i);
      m.upsert(k, v);
      keys.push(k);
    }
    if (c.evicts) {
      // LRU maps make room by evicting: what remains must read back right, the newest key included.
      const present = [...m.keys()].map((k) => Number(Buffer.from(k).readUIntLE(0, Math.min(6, m.keySize))));
      assert.ok(present.length >= 1 && present.length <= m.maxEntries);
      assert.ok(present.includes(keys.at(-1) as number), 'the newest key survives');
      for (const k of present) assert.is(m.lookupUint64(k), c.read!(k));
      for (const k of present) m.delete(k);
      assert.equal([...m.keys()], []);
      return;
    }
    if (!c.indexed) {
      const [k, v] = c.entry(m.maxEntries);
      try {
        m.insert(k, v);
        assert.unreachable(`${name}: insert past maxEntries succeeded`);
      } catch (e) {
        assert.instance(e, SyscallError);
        assert.is((e as SyscallError).code, c.fullCode ?? 'E2BIG');
      }
    }
    if (c.read !== undefined && !c.keysOnly) {
      for (let i = 0; i < keys.length; i++) {
        const want = c.read(i);
        if (want === 'any') m.lookup(keys[i]!);
        else assert.is(m.lookupUint64(keys[i]!), want, `${name} lookup #${i}`);
      }
    }
    const iterated = [...m.keys()];
    assert.is(iterated.length, m.maxEntries, `${name}: iteration sees every key`);
    if (!c.keysOnly && c.read !== undefined) assert.is([...m.entries()].length, m.maxEntries);
    if (c.indexed) {
      if (c.spec.type === MapType.Array || c.spec.type === MapType.PerCPUArray) {
        assert.throws(() => m.delete(0), (e: unknown) => e instanceof SyscallError && e.code === 'EINVAL');
      } else {
        for (const k of keys) m.delete(k);
      }
      return;
    }
    for (const k of keys) m.delete(k);
    assert.equal([...m.keys()], [], `${name}: empty after deleting every key`);
  });
}

suite.run();
