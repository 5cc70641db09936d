// Unit tests of EbpfMap that make no kernel call: per-type defaults (goebpf's Create rules),
// cloneTemplate (goebpf's TestMapCloneTemplate), and errors on a map that was never created.
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EbpfMap, MapType } from '../../src/map/index.js';
import { getNumOfPossibleCpus } from '../../src/map/host.js';

/** Per-CPU layouts and perf array sizes read /sys/devices/system/cpu/possible: Linux only. */
const hasPossibleCpus = existsSync('/sys/devices/system/cpu/possible');

test('per-type defaults: array keys are 4 bytes, fd-valued maps hold 4-byte values, LPM is not preallocated', () => {
  const a = new EbpfMap({ type: MapType.Array, valueSize: 8, maxEntries: 3 });
  assert.equal([a.keySize, a.valueSize, a.maxEntries, a.flags, a.fd, a.name], [4, 8, 3, 0, -1, '']);
  for (const type of [MapType.ProgArray, MapType.ArrayOfMaps, MapType.CgroupArray]) {
    const m = new EbpfMap({ type, maxEntries: 2 });
    assert.equal([m.keySize, m.valueSize], [4, 4], MapType[type]);
  }
  const hom = new EbpfMap({ type: MapType.HashOfMaps, keySize: 8, maxEntries: 2 });
  assert.equal([hom.keySize, hom.valueSize], [8, 4]);
  if (hasPossibleCpus) {
    const perf = new EbpfMap({ type: MapType.PerfEventArray });
    assert.equal([perf.keySize, perf.valueSize, perf.maxEntries], [4, 4, getNumOfPossibleCpus()]);
  }
  const lpm = new EbpfMap({ type: MapType.LPMTrie, keySize: 8, valueSize: 4, maxEntries: 4, flags: 0x10 });
  assert.is(lpm.flags, 0x10 | 1);
  const q = new EbpfMap({ type: MapType.Queue, valueSize: 4, maxEntries: 4 });
  assert.is(q.keySize, 0);
  const numa = new EbpfMap({ type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 4, numaNode: 0 });
  assert.is(numa.flags, 4);
});

test('per-CPU maps are recognised', () => {
  if (!hasPossibleCpus) return;
  for (const type of [MapType.PerCPUArray, MapType.PerCPUHash, MapType.LRUPerCPUHash]) {
    assert.ok(new EbpfMap({ type, keySize: 4, valueSize: 4, maxEntries: 1 }).perCpu);
  }
  assert.not.ok(new EbpfMap({ type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 1 }).perCpu);
});

test('cloneTemplate copies the definition, not the fd or the pin path', () => {
  const m = new EbpfMap({ name: 'map1', type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 100, persistentPath: '/sys/fs/bpf/x' });
  const c = m.cloneTemplate();
  assert.is.not(c, m);
  assert.is(c.fd, -1);
  assert.equal([c.name, c.type, c.keySize, c.valueSize, c.maxEntries, c.flags], ['map1', MapType.Hash, 4, 4, 100, 0]);
});

test('a map that was never created says so, and close() is harmless', () => {
  const m = new EbpfMap({ name: 'never', type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 1 });
  assert.throws(() => m.lookup(1), /map 'never': not created/);
  assert.throws(() => m.info(), /not created/);
  m.close();
  m[Symbol.dispose]();
  assert.is(m.fd, -1);
});

test('a name longer than 15 characters is refused before any syscall', () => {
  assert.throws(() => new EbpfMap({ name: 'a_name_that_is_too_long', type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 1 }).create(), /name is longer than 15 bytes/);
});

test('a spec that is not a map definition is a TypeError (not an integer) or RangeError (out of range) naming the field', () => {
  assert.throws(() => new EbpfMap({ name: 'bad', type: undefined as unknown as MapType }), /map 'bad': type undefined is not a MapType/);
  assert.throws(() => new EbpfMap({ type: MapType.Hash, keySize: -1, valueSize: 4, maxEntries: 1 }), (e: unknown) => e instanceof RangeError && /keySize -1 is out of range \[0, 4294967295\]/.test(e.message));
  assert.throws(() => new EbpfMap({ type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 1.5 }), (e: unknown) => e instanceof TypeError && /maxEntries must be an integer, not 1.5/.test(e.message));
  assert.throws(() => new EbpfMap({ type: MapType.BloomFilter, valueSize: 4, maxEntries: 1, mapExtra: 2n ** 64n }), /mapExtra 18446744073709551616n is out of range/);
});

test.run();
