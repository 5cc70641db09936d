// Constants before load, without a kernel: the .rodata bytes rodataWithConstants computes for the
// fixtures (little- and big-endian), and the errors for names and values that cannot be set.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inspect, type ObjectInfo } from '../../src/inspect.js';
import { ConstantError, rodataWithConstants, type Constants } from '../../src/program/constants.js';
import { System } from '../../src/program/system.js';

const fixture = (name: string): Uint8Array => readFileSync(fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url)));
const hex = (bytes: Uint8Array | undefined): string => Buffer.from(bytes ?? []).toString('hex');

function open(name: string): { bytes: Uint8Array; object: ObjectInfo } {
  const bytes = fixture(name);
  return { bytes, object: inspect(bytes, { btfTypes: true }) };
}

const LE = open('constants.o');
const BE = open('constants.bpfeb.o');
const RODATA = 0; // map indexes in constants.o: .rodata, .rodata.config, .data, .bss
const CONFIG = 1;

function patch(constants: Constants, { bytes, object } = LE): Map<number, Uint8Array> {
  return rodataWithConstants(bytes, object, constants);
}

/** Throws a ConstantError for `constant` whose message matches. */
function refused(constants: Constants, constant: string, message: RegExp): void {
  assert.throws(() => patch(constants), (e: unknown) => {
    if (!(e instanceof ConstantError)) throw e;
    assert.is(e.constant, constant);
    assert.match(e.message, message);
    return true;
  });
}

test('no constants: nothing computed, the object needs no BTF types', () => {
  assert.is(rodataWithConstants(LE.bytes, inspect(LE.bytes), {}).size, 0);
});

test('globals.o: snap_len is rewritten in place, the const table next to it kept', () => {
  const { bytes, object } = open('globals.o');
  const contents = rodataWithConstants(bytes, object, { snap_len: 128 });
  assert.equal([...contents.keys()], [0]);
  assert.is(hex(contents.get(0)), '80000000' + '01000000020000000400000008000000');
  assert.is(object.maps[0]!.name, '.rodata');
  // The object's own bytes are left alone.
  assert.is(hex(bytes.subarray(object.maps[0]!.initialData!.fileOffset, object.maps[0]!.initialData!.fileOffset + 4)), '40000000');
});

test('integers of every width and signedness land at their symbol offsets, little-endian', () => {
  const contents = patch({ port: 443, bias: -1, tweak: -128, budget: 0xffff_ffff_ffff_ffffn, enabled: false, level: -1, mac: new Uint8Array([1, 2, 3, 4, 5, 6]) });
  assert.equal([...contents.keys()], [RODATA]);
  const expected = '' +
    'bb01' + '0000' + // port @0, padding
    'ffffffff' + //        bias @4
    '80' + '000000' + '00000000' + // tweak @8, padding to 0x10
    'ffffffffffffffff' + // budget @0x10
    '00' + '000000' + //   enabled @0x18
    'ffffffff' + //        level @0x1c
    '010203040506'; //     mac @0x20
  assert.is(hex(contents.get(RODATA)), expected);
});

test('the same constants on the big-endian build are written big-endian', () => {
  const contents = patch({ port: 443, bias: -2, budget: 1n << 40n }, BE);
  const data = contents.get(RODATA)!;
  assert.is(hex(data.subarray(0, 2)), '01bb');
  assert.is(hex(data.subarray(4, 8)), 'fffffffe');
  assert.is(hex(data.subarray(0x10, 0x18)), '0000010000000000');
});

test('a custom .rodata.config section: a struct by its bytes, a u32 next to it', () => {
  const contents = patch({ limits: new Uint8Array([0x10, 0, 0, 0, 4, 0, 1, 0]), ratio: 5 });
  assert.equal([...contents.keys()], [CONFIG]);
  assert.is(hex(contents.get(CONFIG)), '10000000' + '04000100' + '05000000');
});

test('booleans, bigints and numbers are all integers; booleans fit any integer', () => {
  const contents = patch({ enabled: true, port: true, bias: -5n });
  const data = contents.get(RODATA)!;
  assert.is(data[0x18], 1);
  assert.is(hex(data.subarray(0, 2)), '0100');
  assert.is(hex(data.subarray(4, 8)), 'fbffffff');
});

test('range limits of each type are accepted, one past them refused', () => {
  patch({ port: 0, tweak: 127, bias: -(2 ** 31), budget: 0n, enabled: 1 });
  patch({ port: 65535, tweak: -128, bias: 2 ** 31 - 1, budget: (1n << 64n) - 1n });
  refused({ port: 65536 }, 'port', /const volatile __u16 port in \.rodata: 65536 is out of range 0\.\.65535/);
  refused({ port: -1 }, 'port', /out of range 0\.\.65535/);
  refused({ tweak: 128 }, 'tweak', /const volatile __s8 tweak in \.rodata: 128 is out of range -128\.\.127/);
  refused({ bias: 2 ** 31 }, 'bias', /out of range -2147483648\.\.2147483647/);
  refused({ budget: 1n << 64n }, 'budget', /out of range 0\.\.18446744073709551615/);
  refused({ budget: -1n }, 'budget', /out of range/);
  refused({ enabled: 2 }, 'enabled', /const volatile _Bool enabled in \.rodata: 2 is out of range 0\.\.1/);
});

test('numbers that are not exact integers are refused', () => {
  refused({ port: 1.5 }, 'port', /1\.5 is not an integer a number holds exactly \(use a bigint\)/);
  refused({ budget: 2 ** 60 }, 'budget', /not an integer a number holds exactly/);
  refused({ port: Number.NaN }, 'port', /NaN is not an integer/);
});

test('byte values must have the variable\'s exact size; non-integers take only bytes', () => {
  refused({ mac: new Uint8Array(5) }, 'mac', /const volatile __u8 mac\[6\] in \.rodata is 6 bytes; a Uint8Array of 5 bytes was given/);
  refused({ port: new Uint8Array(4) }, 'port', /is 2 bytes; a Uint8Array of 4 bytes was given/);
  refused({ limits: 1 }, 'limits', /const volatile struct limits limits in \.rodata\.config is not an integer: give its 8 bytes as a Uint8Array, not number 1/);
  refused({ mac: 1n }, 'mac', /give its 6 bytes as a Uint8Array/);
});

test('unknown names and variables outside .rodata are refused, naming the section', () => {
  refused({ nope: 1 }, 'nope', /^constant 'nope': no variable of that name in the object's \.rodata sections$/);
  refused({ answers: 1 }, 'answers', /^constant 'answers': __u32 answers is in \.data, not a constant \(writable: update the \.data map after load instead\)$/);
  refused({ misses: 1 }, 'misses', /__u32 misses is in \.bss, not a constant \(zero-initialised and writable\)/);
  refused({ LICENSE: new Uint8Array(4) }, 'LICENSE', /char LICENSE\[4\] is in license, not a constant \(not in a \.rodata section\)/);
});

test('the object\'s name, when given, leads the message', () => {
  assert.throws(() => rodataWithConstants(LE.bytes, LE.object, { port: -1 }, 'constants.o'), (e: unknown) =>
    e instanceof ConstantError && e.object === 'constants.o' && e.reason === 'const volatile __u16 port in .rodata: -1 is out of range 0..65535'
    && e.message === 'constants.o: constant \'port\': const volatile __u16 port in .rodata: -1 is out of range 0..65535');
});

test('BTF types inspected without C renderings give the same bytes and messages', () => {
  const plain = inspect(LE.bytes, { btfTypes: true, withoutC: true });
  assert.ok(plain.btf!.types!.every((t) => t.c === ''));
  assert.equal(plain.btf!.types!.map(({ c: _c, ...t }) => t), LE.object.btf!.types!.map(({ c: _c, ...t }) => t));
  const constants = { port: 443, limits: new Uint8Array(8), enabled: true };
  assert.equal(rodataWithConstants(LE.bytes, plain, constants), patch(constants));
  assert.throws(() => rodataWithConstants(LE.bytes, plain, { mac: 1 }), /const volatile __u8 mac\[6\] in \.rodata is not an integer/);
});

test('values that are no ConstantValue kind are a TypeError, before any object is read', () => {
  assert.throws(() => new System().setConstants({ port: '80' as unknown as number }), (e: unknown) => e instanceof TypeError && /constant 'port': the string "80" is not a number, bigint, boolean or Uint8Array/.test(e.message));
  assert.throws(() => patch({ port: null as unknown as number }), /constant 'port': null is not/);
});

test('an object without BTF cannot have constants set', () => {
  const { bytes, object } = LE;
  const { btf: _btf, ...withoutBtf } = object;
  assert.throws(() => rodataWithConstants(bytes, withoutBtf, { port: 1 }), /constant 'port': the object has no BTF/);
  const typeless = inspect(bytes);
  assert.throws(() => rodataWithConstants(bytes, typeless, { port: 1 }), /inspected without its BTF types/);
});

test.run();
