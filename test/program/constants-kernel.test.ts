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
    (e: unknown) => e instanceof ConstantError && e.constant === 'answers' && e.object === fixture('constants.o')
      && e.message.startsWith(`${fixture('constants.o')}: constant 'answers': __u32 answers is in .data, not a constant`));
  assert.throws(() => system.loadElf(fixture('globals.o'), { constants: { snap_len: -1 } }), /constant 'snap_len': const volatile __u32 snap_len in \.rodata: -1 is out of range 0\.\.4294967295/);
  assert.is(system.getMaps().size, 0);
  assert.is(count(), before);
  // The System still loads after a refused constant.
  system.loadElf(fixture('globals.o'), { constants: { snap_len: 8 } });
  assert.is(u32(system.getMapByName('.rodata')!.lookup(0), 0), 8);
});

/** Loads constants.o's `answer` with `constants` and test-runs it: its return value and the .data/.bss counters. */
function answer(constants: Record<string, number | bigint | boolean | Uint8Array>): { retval: number; answers: number; misses: number } {
  using system = new System().loadElf(fixture('constants.o'), { constants });
  const program = system.getProgramByName('answer')!.load();
  const { retval } = program.testRun({ data: new Uint8Array(64) });
  return { retval, answers: u32(system.getMapByName('.data')!.lookup(0), 0), misses: u32(system.getMapByName('.bss')!.lookup(0), 0) };
}

test('a program behaves differently when its constants are changed', () => {
  // port + bias + tweak + level + mac[5] + ratio * (limits.burst >> limits.shift) + (budget >> 40)
  assert.equal(answer({}), { retval: 8080 - 100 - 3 + 0 + 1 + 3 * (16 >> 2) + 1, answers: 8, misses: 0 });
  assert.equal(answer({
    port: 80, bias: 0, tweak: 0, level: -1, mac: new Uint8Array([0, 0, 0, 0, 0, 9]), ratio: 1,
    limits: new Uint8Array([0, 0, 0, 0, 32, 0, 1, 0]), budget: 5n << 40n,
  }), { retval: 80 + 0 + 0 - 1 + 9 + 1 * (32 >> 1) + 5, answers: 8, misses: 0 });
  assert.equal(answer({ enabled: false }), { retval: 0, answers: 7, misses: 1 });
});

test('globals.o: socket_snap clamps the packet length to the snap_len constant', () => {
  const run = (constants: Record<string, number>): number => {
    using system = new System().setConstants(constants).loadElf(fixture('globals.o'));
    return system.getProgramByName('socket_snap')!.load().testRun({ data: new Uint8Array(200) }).retval;
  };
  assert.is(run({}), 64);
  assert.is(run({ snap_len: 100 }), 100);
  assert.is(run({ snap_len: 1000 }), 200 - 14); // skb->len after the Ethernet header is pulled
});

test.run();
