// System load options `limits`: caps on what an uploaded object may ask of the kernel, checked on
// the plan before anything is created (off by default).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { MockSystem } from '../../src/mock/index.js';
import { System, mapMemoryEstimate } from '../../src/program/index.js';
import { MapType } from '../../src/sys/generated.js';
import { fixturesDir } from '../elf/fixture-files.js';
import { kernelSkipReason } from '../kernel/support.js';
import { openFds } from './support.js';

const MAPS_BTF = join(fixturesDir, 'maps_btf.o');
const GLOBALS = join(fixturesDir, 'globals.o');

test('the memory estimate: entries × (key + value per CPU); a ring buffer its size', () => {
  assert.is(mapMemoryEstimate({ type: MapType.Hash, keySize: 16, valueSize: 8, maxEntries: 4096, flags: 0 }, () => 2), 4096 * 24);
  assert.is(mapMemoryEstimate({ type: MapType.PerCPUArray, keySize: 4, valueSize: 12, maxEntries: 10, flags: 0 }, () => 4), 10 * (4 + 16 * 4));
  assert.is(mapMemoryEstimate({ type: MapType.RingBuf, keySize: 0, valueSize: 0, maxEntries: 16384, flags: 0 }, () => 2), 16384);
});

test('MockSystem: each limit refuses the object before any map exists; generous limits load', () => {
  assert.throws(() => new MockSystem().loadElf(MAPS_BTF, { limits: { maxMaps: 3 } }), /\/maps_btf\.o: the object asks for \d+ maps, over the limit limits.maxMaps = 3$/);
  assert.throws(() => new MockSystem().loadElf(MAPS_BTF, { limits: { maxMapEntries: 1000 } }), /ask for \d+ entries in all, over the limit limits.maxMapEntries = 1000/);
  assert.throws(() => new MockSystem().loadElf(MAPS_BTF, { limits: { maxMapMemory: 64 * 1024 } }), /over the limit limits.maxMapMemory = 65536/);
  // Map options count (a map shrunk to fit passes), and so do the limits' own types.
  assert.throws(() => new MockSystem().loadElf(MAPS_BTF, { limits: { maxMapEntries: NaN } }), TypeError);
  using ok = new MockSystem().loadElf(MAPS_BTF, { limits: { maxMaps: 100, maxMapEntries: 1 << 20, maxMapMemory: 1 << 26 } });
  assert.ok(ok.getMapByName('flows') !== undefined);
});

test('System: a refused object creates nothing and leaves no fd', () => {
  if (kernelSkipReason() !== undefined) return;
  const before = openFds();
  assert.throws(() => new System().loadElf(GLOBALS, { limits: { maxMaps: 0 } }), RangeError);
  assert.throws(() => new System().loadElf(GLOBALS, { limits: { maxMapMemory: 1 } }), RangeError);
  assert.is(openFds(), before);
  using system = new System().loadElf(GLOBALS, { limits: { maxMaps: 16, maxMapMemory: 1 << 20 } });
  assert.ok(system.getMaps().size > 0);
});

test.run();
