// Constants before load, in the kernel: the .rodata maps a System creates hold the constants,
// frozen, whether set with setConstants or per load; a refused constant creates no map.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { ConstantError } from '../../src/program/constants.js';
import { System } from '../../src/program/system.js';
import { SyscallError } from '../../src/sys/errors.js';
import { kernelSuite } from '../kernel/support.js';

const test = kernelSuite('program constants');
const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));
const u32 = (bytes: Uint8Array, offset: number): number => new DataView(bytes.buffer, bytes.byteOffset).getUint32(offset, true);

test('setConstants: the frozen .rodata map of the next loads holds the constant', () => {
  using system = new System().setConstants({ snap_len: 32 });
  system.loadElf(fixture('globals.o'));
  const rodata = system.getMapByName('.rodata')!;
  const value = rodata.lookup(0);
  assert.is(u32(value, 0), 32);
  assert.is(u32(value, 4), 1); // weights[0], untouched
  assert.throws(() => rodata.update(0, new Uint8Array(rodata.valueSize)), (e: unknown) => e instanceof SyscallError && e.code === 'EPERM');
});

test('per-load constants override setConstants, in .rodata and .rodata.config', () => {
  using system = new System().setConstants({ port: 80, ratio: 9 });
  system.loadElf(fixture('constants.o'), { constants: { port: 443, bias: -7, enabled: false } });
  const rodata = system.getMapByName('.rodata')!.lookup(0);
  assert.is(new DataView(rodata.buffer, rodata.byteOffset).getUint16(0, true), 443);
  assert.is(new DataView(rodata.buffer, rodata.byteOffset).getInt32(4, true), -7);
  assert.is(rodata[0x18], 0);
  assert.is(u32(system.getMapByName('.rodata.config')!.lookup(0), 8), 9);
  assert.is(u32(system.getMapByName('.data')!.lookup(0), 0), 7); // .data keeps its initial value
});

test('setConstants({}) clears; a load without constants keeps the compiled values', () => {
  using system = new System().setConstants({ snap_len: 1 }).setConstants({});
  system.loadElf(fixture('globals.o'));
  assert.is(u32(system.getMapByName('.rodata')!.lookup(0), 0), 64);
});

test('a constant that cannot be set fails the load before any map exists, and leaks no fd', () => {
  const count = (): number => readdirSync('/proc/self/fd').length;
  const before = count();
  using system = new System();
  assert.throws(() => system.loadElf(fixture('constants.o'), { constants: { port: 1, answers: 2 } }),
    (e: unknown) => e instanceof ConstantError && e.constant === 'answers' && /is in \.data, not a constant/.test(e.message));
  assert.throws(() => system.loadElf(fixture('globals.o'), { constants: { snap_len: -1 } }), /constant "snap_len": const volatile __u32 snap_len in \.rodata: -1 is out of range 0\.\.4294967295/);
  assert.is(system.getMaps().size, 0);
  assert.is(count(), before);
  // The System still loads after a refused constant.
  system.loadElf(fixture('globals.o'), { constants: { snap_len: 8 } });
  assert.is(u32(system.getMapByName('.rodata')!.lookup(0), 0), 8);
});

test.run();
