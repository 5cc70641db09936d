// Kernel test: EbpfMap operations and their error paths with real bpf() calls.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { EbpfMap, MapBatchCursor, MapType, createLpmTrieKey } from '../../src/map/index.js';
import { getNumOfPossibleCpus } from '../../src/map/host.js';
import { SyscallError, errnoError } from '../../src/sys/errors.js';
import { native } from '../../src/sys/native.js';
import { BpfCmd } from '../../src/sys/generated.js';
import { kernelSuite } from '../kernel/support.js';

const suite = kernelSuite('map operations');
const BPF_EXIST = 2;

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof SyscallError) return e.code;
    throw e;
  }
  throw new Error('expected a SyscallError, but the call returned');
}

const u32 = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, b.length).getUint32(0, true);

suite('hash: insert / update / upsert / delete and their errno', () => {
  using m = EbpfMap.create({ name: 'ops_hash', type: MapType.Hash, keySize: 4, valueSize: 8, maxEntries: 4 });
  m.insert(1, 10);
  assert.is(code(() => m.insert(1, 11)), 'EEXIST');
  assert.is(m.lookupInt(1), 10);
  m.update(1, 12);
  assert.is(m.lookupInt(1), 12);
  assert.is(code(() => m.update(2, 1)), 'ENOENT');
  m.upsert(2, 2n ** 60n);
  assert.is(m.lookupUint64(2), 2n ** 60n);
  assert.throws(() => m.lookupInt(2), /does not fit a number; use lookupUint64/);
  assert.equal(m.lookup(1), Uint8Array.from([12, 0, 0, 0, 0, 0, 0, 0]));
  assert.is(code(() => m.lookup(3)), 'ENOENT');
  m.upsert(3, 2 ** 40 + 7);
  assert.is(m.lookupInt(3), 2 ** 40 + 7);
  m.upsert(3, 'hi');
  assert.is(m.lookupString(3), 'hi');
  m.upsert(4, 4);
  assert.is(code(() => m.insert(5, 5)), 'E2BIG');
  m.delete(4);
  assert.is(code(() => m.delete(4)), 'ENOENT');
  assert.equal(m.lookupAndDelete(3), Uint8Array.from([0x68, 0x69, 0, 0, 0, 0, 0, 0]));
  assert.is(code(() => m.lookup(3)), 'ENOENT');
  const err = (() => { try { m.lookup(77); } catch (e) { return e as SyscallError; } })()!;
  assert.is(err.syscall, 'BPF_MAP_LOOKUP_ELEM');
  assert.match(err.message, /map 'ops_hash' key 77/);
});

suite('getNextKey and its Int / Uint64 / String forms walk every key once', () => {
  using m = EbpfMap.create({ name: 'ops_next', type: MapType.Hash, keySize: 8, valueSize: 1, maxEntries: 8 });
  for (const k of [5, 6, 7]) m.insert(k, 1);
  const seen: number[] = [];
  for (let k = m.getNextKeyInt(); k !== undefined; k = m.getNextKeyInt(k)) seen.push(k);
  assert.equal(seen.sort(), [5, 6, 7]);
  assert.is(typeof m.getNextKeyUint64(), 'bigint');
  assert.is(m.getNextKey()!.length, 8);
  using s = EbpfMap.create({ type: MapType.Hash, keySize: 8, valueSize: 1, maxEntries: 2 });
  s.insert('abc', 1);
  assert.is(s.getNextKeyString(), 'abc');
  assert.is(s.getNextKeyString('abc'), undefined);
});

suite('wrong key or value size is a TypeError before any syscall', () => {
  using m = EbpfMap.create({ name: 'ops_sizes', type: MapType.Hash, keySize: 2, valueSize: 2, maxEntries: 2 });
  assert.throws(() => m.insert(0x1ffff, 1), (e: unknown) => e instanceof TypeError && e.message === 'map \'ops_sizes\': key 131071 needs 3 bytes but the key size is 2');
  assert.throws(() => m.insert(1, 'abc'), (e: unknown) => e instanceof TypeError && /map 'ops_sizes': value "abc" needs 3 bytes but the value size is 2/.test(e.message));
  assert.throws(() => m.lookup(new Uint8Array(3)), TypeError);
  assert.throws(() => m.insert(1, [1, 2]), /only for per-CPU maps/);
  using four = EbpfMap.create({ name: 'ops_u32', type: MapType.Array, valueSize: 4, maxEntries: 1 });
  assert.throws(() => four.update(0, 2 ** 32), (e: unknown) => e instanceof TypeError && /value 4294967296 needs 5 bytes but the value size is 4/.test(e.message));
  four.update(0, 2 ** 32 - 1);
  assert.is(four.lookupInt(0), 2 ** 32 - 1);
  assert.equal([...m.keys()], []);
});

suite('closed maps and closed fds', () => {
  const m = EbpfMap.create({ name: 'ops_closed', type: MapType.Array, valueSize: 4, maxEntries: 1 });
  const fd = m.fd;
  assert.ok(fd >= 0);
  m.close();
  m.close();
  assert.is(m.fd, -1);
  assert.throws(() => m.lookup(0), /map 'ops_closed': closed/);
  assert.throws(() => new EbpfMap({ type: MapType.Array, valueSize: 4, maxEntries: 1 }).lookup(0), /not created/);
  // fromFd borrows (duplicates) the fd: a closed one fails at the dup.
  assert.throws(() => EbpfMap.fromFd(fd), (e: unknown) => e instanceof SyscallError && e.syscall === 'dup' && e.code === 'EBADF');
  // adoptFd takes it as is: BPF_OBJ_GET_INFO_BY_FD on a closed fd is EBADF on older kernels, EBADFD (77) on this one.
  assert.throws(() => EbpfMap.adoptFd(fd), (e: unknown) => e instanceof SyscallError && e.syscall === 'BPF_OBJ_GET_INFO_BY_FD' && (e.code === 'EBADF' || e.code === 'EBADFD'));
  assert.throws(() => EbpfMap.fromFd(0), (e: unknown) => e instanceof SyscallError && e.code === 'EINVAL', 'stdin is not a BPF object');
});

suite('fromFd / fromId / ids / info read the real parameters from the kernel', () => {
  using m = EbpfMap.create({ name: 'ops_info', type: MapType.LRUHash, keySize: 12, valueSize: 20, maxEntries: 33 });
  const info = m.info();
  assert.is(info.name, 'ops_info');
  assert.is(info.type, MapType.LRUHash);
  assert.equal([info.keySize, info.valueSize, info.maxEntries], [12, 20, 33]);
  assert.ok([...EbpfMap.ids()].includes(info.id));
  assert.equal([...EbpfMap.list()].find((i) => i.id === info.id), info);
  using byId = EbpfMap.fromId(info.id);
  assert.equal([byId.name, byId.type, byId.keySize, byId.valueSize, byId.maxEntries], ['ops_info', MapType.LRUHash, 12, 20, 33]);
  byId.upsert('k', 'v');
  assert.is(m.lookupString('k'), 'v');
  assert.is(code(() => EbpfMap.fromId(0x7ffffff0)), 'ENOENT');
});

suite('iteration survives deleting the current key and keys ahead, never repeating a key', () => {
  using m = EbpfMap.create({ name: 'ops_iter', type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 600 });
  const all = Array.from({ length: 500 }, (_, i) => i * 13 + 1);
  m.updateBatch(all, all);
  const deletedAhead = new Set<number>();
  const yielded: number[] = [];
  let n = 0;
  for (const [key, value] of m) {
    const k = u32(key);
    assert.is(u32(value), k);
    yielded.push(k);
    m.delete(k); // the kernel's get-next-key from a deleted key starts over
    if (n++ % 3 === 0) {
      const ahead = all.find((x) => !yielded.includes(x) && !deletedAhead.has(x));
      if (ahead !== undefined) {
        m.delete(ahead);
        deletedAhead.add(ahead);
      }
    }
  }
  assert.is(new Set(yielded).size, yielded.length, 'no key twice');
  for (const k of yielded) assert.not.ok(deletedAhead.has(k), `deleted key ${k} was yielded`);
  assert.is(yielded.length + deletedAhead.size, all.length, 'every key not deleted beforehand was yielded');
  assert.equal([...m.keys()], []);
});

suite('iteration that deletes other keys it has already passed resumes without repeats', () => {
  using m = EbpfMap.create({ type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 300 });
  const all = Array.from({ length: 300 }, (_, i) => i);
  m.updateBatch(all, all);
  const yielded: number[] = [];
  const deleted = new Set<number>();
  const remove = (k: number): void => {
    if (!deleted.has(k)) m.delete(k);
    deleted.add(k);
  };
  for (const key of m.keys()) {
    yielded.push(u32(key));
    // Remove the key yielded before this one: a later restart must resume from one still present.
    if (yielded.length >= 2 && yielded.length % 2 === 0) remove(yielded[yielded.length - 2]!);
    if (yielded.length % 7 === 0) remove(u32(key));
  }
  assert.equal([...yielded].sort((a, b) => a - b), all);
});

suite('iteration while another process deletes and re-inserts keys: no repeats, no torn values', async () => {
  using m = EbpfMap.create({ name: 'ops_race', type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 4096 });
  const all = Array.from({ length: 4000 }, (_, i) => i);
  m.updateBatch(all, all);
  const mapModule = fileURLToPath(new URL('../../src/map/index.js', import.meta.url));
  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    import { EbpfMap } from ${JSON.stringify(mapModule)};
    const m = EbpfMap.fromId(${m.info().id});
    console.log('ready');
    const end = Date.now() + 1500;
    for (let i = 0; Date.now() < end; i = (i + 7) % 4000) { try { m.delete(i); } catch {} m.upsert(i, i); }
    m.close();
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  let walks = 0;
  const started = Date.now();
  while (Date.now() - started < 1000) {
    const seen = new Set<number>();
    for (const [key, value] of m) {
      const k = u32(key);
      assert.not.ok(seen.has(k), `key ${k} yielded twice`);
      seen.add(k);
      assert.is(u32(value), k);
    }
    walks++;
  }
  assert.is(await exited, 0);
  assert.ok(walks > 0);
});

suite('batch: update, lookup (chunks and cursor), delete, lookup-and-delete', () => {
  using m = EbpfMap.create({ name: 'ops_batch', type: MapType.Hash, keySize: 4, valueSize: 8, maxEntries: 1024 });
  const keys = Array.from({ length: 1000 }, (_, i) => i + 1);
  assert.is(m.updateBatch(keys, keys.map((k) => BigInt(k) * 3n)), 1000);
  const got = m.lookupBatch({ chunkSize: 64 });
  assert.is(got.length, 1000);
  for (const [k, v] of got) assert.is(new DataView(v.buffer, v.byteOffset).getBigUint64(0, true), BigInt(u32(k)) * 3n);
  const cursor = new MapBatchCursor(m.keySize);
  const kb = new Uint8Array(100 * 4);
  const vb = new Uint8Array(100 * 8);
  let total = 0;
  while (!cursor.done) total += m.lookupBatchInto(cursor, kb, vb);
  assert.is(total, 1000);
  assert.is(m.deleteBatch(keys.slice(0, 500)), 500);
  try {
    m.deleteBatch([501, 1, 502]); // 1 is gone: the kernel stops there
    assert.unreachable();
  } catch (e) {
    assert.instance(e, SyscallError);
    assert.is((e as SyscallError).code, 'ENOENT');
    assert.is((e as SyscallError & { processed: number }).processed, 1);
  }
  const rest = m.lookupAndDeleteBatch({ chunkSize: 1 });
  assert.is(rest.length, 499);
  assert.equal([...m.keys()], []);
});

suite('batch on arrays and per-CPU maps', () => {
  using a = EbpfMap.create({ type: MapType.Array, valueSize: 4, maxEntries: 50 });
  a.updateBatch(Array.from({ length: 50 }, (_, i) => i), Array.from({ length: 50 }, (_, i) => i * 2));
  const all = a.lookupBatch({ chunkSize: 7 });
  assert.is(all.length, 50);
  assert.equal(all.map(([, v]) => u32(v)), Array.from({ length: 50 }, (_, i) => i * 2));
  const ncpu = getNumOfPossibleCpus();
  using p = EbpfMap.create({ type: MapType.PerCPUHash, keySize: 4, valueSize: 4, maxEntries: 10 });
  p.updateBatch([1, 2], [7, Array.from({ length: ncpu }, (_, i) => i + 1)]);
  const rows = new Map(p.lookupBatch().map(([k, v]) => [u32(k), v]));
  assert.is(rows.get(1)!.length, ncpu * 8);
  assert.is(p.lookupInt(1), 7 * ncpu);
  assert.is(p.lookupInt(2), (ncpu * (ncpu + 1)) / 2);
});

suite('per-CPU: one value replicated or one per CPU; lookups sum', () => {
  const ncpu = getNumOfPossibleCpus();
  using m = EbpfMap.create({ name: 'ops_pcpu', type: MapType.PerCPUArray, valueSize: 4, maxEntries: 2 });
  assert.ok(m.perCpu);
  m.update(0, 5);
  assert.equal(m.lookupPerCpu(0).map(u32), new Array<number>(ncpu).fill(5));
  assert.is(m.lookup(0).length, 8 * ncpu);
  const each = Array.from({ length: ncpu }, (_, i) => 10 * (i + 1));
  m.update(1, each);
  assert.equal(m.lookupPerCpu(1).map(u32), each);
  assert.is(m.lookupInt(1), each.reduce((a, b) => a + b, 0));
  assert.is(m.lookupUint64(1), BigInt(each.reduce((a, b) => a + b, 0)));
  assert.throws(() => m.update(1, [1, ...each]), /per-CPU values given, expected one per possible CPU/);
  assert.throws(() => m.lookupString(0), /per-CPU/);
});

suite('LPM trie: longest prefix match, IPv4 and IPv6 (goebpf example)', () => {
  using m = EbpfMap.create({ name: 'ops_lpm', type: MapType.LPMTrie, keySize: 8, valueSize: 8, maxEntries: 10 });
  m.insert(createLpmTrieKey('192.168.0.0/16'), 'value16');
  m.insert('192.168.0.0/24', 'value24');
  assert.is(m.lookupString(createLpmTrieKey('192.168.0.10')), 'value24');
  assert.is(m.lookupString('192.168.5.1'), 'value16');
  assert.is(code(() => m.lookup('10.0.0.1')), 'ENOENT');
  assert.is([...m.keys()].length, 2);
  m.delete('192.168.0.0/24');
  assert.is(m.lookupString('192.168.0.10'), 'value16');
  using v6 = EbpfMap.create({ type: MapType.LPMTrie, keySize: 20, valueSize: 4, maxEntries: 10 });
  v6.insert('2001:db8::/32', 32);
  v6.insert('2001:db8:1::/48', 48);
  assert.is(v6.lookupInt('2001:db8:1::5'), 48);
  assert.is(v6.lookupInt('2001:db8:2::5'), 32);
  assert.throws(() => v6.lookup('10.0.0.0/8'), (e: unknown) => e instanceof SyscallError);
  assert.throws(() => m.lookup('2001:db8::/32'), (e: unknown) => e instanceof TypeError && /needs 20 bytes but the key size is 8/.test(e.message));
});

suite('array / hash of maps: inner maps by fd in, by id out', () => {
  using template = new EbpfMap({ name: 'inner', type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 4 });
  using outer = EbpfMap.create({ name: 'ops_outer', type: MapType.ArrayOfMaps, maxEntries: 2, innerMap: template });
  using inner = template.cloneTemplate().create();
  assert.is(template.fd, -1, 'the template itself is not created by cloning');
  inner.insert(1, 100);
  outer.insert(0, inner);
  assert.is(outer.lookupInt(0), inner.info().id);
  using opened = outer.lookupInnerMap(0);
  assert.is(opened.lookupInt(1), 100);
  opened.upsert(2, 200);
  assert.is(inner.lookupInt(2), 200);
  using hom = EbpfMap.create({ type: MapType.HashOfMaps, keySize: 4, maxEntries: 2, innerMap: { type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 4 } });
  hom.insert(7, inner);
  assert.is(hom.lookupInt(7), inner.info().id);
  using wrong = EbpfMap.create({ type: MapType.Array, valueSize: 4, maxEntries: 1 });
  assert.is(code(() => hom.upsert(8, wrong)), 'EINVAL');
});

/** A two-instruction socket filter (r0 = 0; exit), loaded by hand: programs are another module's. */
function loadTrivialProgram(): { fd: number; close(): void } {
  const insns = Uint8Array.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
  const license = new TextEncoder().encode('GPL\0');
  const attr = new Uint8Array(48);
  const v = new DataView(attr.buffer);
  v.setUint32(0, 1, true); // BPF_PROG_TYPE_SOCKET_FILTER
  v.setUint32(4, 2, true); // insn_cnt
  const fd = native().bpf(BpfCmd.ProgLoad, attr, 8, insns, 16, license, 32, null);
  if (fd < 0) throw errnoError(-fd, 'BPF_PROG_LOAD', 'trivial socket filter');
  return { fd, close: () => native().close(fd) };
}

suite('prog array: a program (any object with fd) in, its id out; fromFd refuses non-maps', () => {
  const prog = loadTrivialProgram();
  try {
    using pa = EbpfMap.create({ name: 'ops_progs', type: MapType.ProgArray, maxEntries: 4 });
    pa.insert(2, prog);
    const id = pa.lookupInt(2);
    assert.ok(id > 0);
    assert.equal([...pa.entries()].map(([k, v]) => [u32(k), u32(v)]), [[2, id]]);
    pa.delete(2);
    assert.equal([...pa.entries()], []);
    const dupFd = native().bpf(BpfCmd.ProgGetFdById, Uint8Array.from([id & 0xff, (id >> 8) & 0xff, (id >> 16) & 0xff, id >>> 24, 0, 0, 0, 0, 0, 0, 0, 0]));
    assert.ok(dupFd >= 0);
    assert.throws(() => EbpfMap.fromFd(dupFd), /is not a BPF map \(it is anon_inode:bpf-prog\)/);
    native().close(dupFd); // a rejected number fd stays the caller's
  } finally {
    prog.close();
  }
});

suite('queue and stack: push / pop / peek', () => {
  using q = EbpfMap.create({ name: 'ops_queue', type: MapType.Queue, valueSize: 4, maxEntries: 3 });
  assert.is(q.pop(), undefined);
  for (const v of [1, 2, 3]) q.push(v);
  assert.is(code(() => q.push(4)), 'E2BIG');
  q.push(4, BPF_EXIST); // overwrites the oldest
  assert.is(u32(q.peek()!), 2);
  assert.equal([u32(q.pop()!), u32(q.pop()!), u32(q.pop()!)], [2, 3, 4]);
  assert.is(q.peek(), undefined);
  using s = EbpfMap.create({ type: MapType.Stack, valueSize: 8, maxEntries: 3 });
  for (const v of [1, 2, 3]) s.push(v);
  assert.equal([u32(s.pop()!), u32(s.pop()!), u32(s.pop()!)], [3, 2, 1]);
});

suite('bloom filter: pushed values are contained', () => {
  using b = EbpfMap.create({ name: 'ops_bloom', type: MapType.BloomFilter, valueSize: 8, maxEntries: 1000, mapExtra: 3n });
  for (let i = 0; i < 50; i++) b.push(i * 1000);
  for (let i = 0; i < 50; i++) assert.ok(b.contains(i * 1000));
  let absent = 0;
  for (let i = 0; i < 50; i++) if (!b.contains(i * 1000 + 1)) absent++;
  assert.ok(absent > 40, `only ${absent} of 50 never-pushed values reported absent`);
  assert.throws(() => b.peek(), (e: unknown) => e instanceof TypeError && /bloom filter has no next value.*contains/.test(e.message));
});

suite('ringbuf and perf event array can be created', () => {
  using r = EbpfMap.create({ name: 'ops_ring', type: MapType.RingBuf, maxEntries: 1 << 16 });
  assert.is(r.info().maxEntries, 1 << 16);
  using p = EbpfMap.create({ name: 'ops_perf', type: MapType.PerfEventArray });
  assert.is(p.maxEntries, getNumOfPossibleCpus());
  assert.is(p.valueSize, 4);
});

suite('freeze makes the map read-only for user space', () => {
  using m = EbpfMap.create({ type: MapType.Array, valueSize: 4, maxEntries: 1 });
  m.update(0, 9);
  m.freeze();
  assert.is(code(() => m.update(0, 1)), 'EPERM');
  assert.is(m.lookupInt(0), 9);
});

suite('no fd leaks across a thousand create / fromId / failed create / close cycles', () => {
  const fds = (): number => readdirSync('/proc/self/fd').length;
  const before = fds();
  for (let i = 0; i < 1000; i++) {
    const m = EbpfMap.create({ type: MapType.HashOfMaps, keySize: 4, maxEntries: 1, innerMap: { type: MapType.Array, valueSize: 4, maxEntries: 1 } });
    const again = EbpfMap.fromId(m.info().id);
    again.close();
    m.close();
    assert.throws(() => EbpfMap.create({ type: MapType.Hash, keySize: 0, valueSize: 4, maxEntries: 1 }), (e: unknown) => e instanceof SyscallError && e.code === 'EINVAL');
  }
  assert.is(fds(), before);
});

suite.run();
