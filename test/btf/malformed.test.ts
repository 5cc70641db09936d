// Malformed .BTF: each defect gives an ElfError (status 2, BTF) whose message says what and where;
// truncations at every length and seeded byte flips never trap or hang.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBtf } from '../../src/btf/index.js';
import { ElfError, inspect } from '../../src/inspect.js';
import { fixturesDir } from '../elf/fixture-files.js';
import { BtfBuilder, KIND } from './btf-builder.js';
import { sampleBtf } from './sample-btf.js';

function rejects(bytes: Uint8Array, message: RegExp, ext?: Uint8Array): void {
  try {
    parseBtf(bytes, ext);
  } catch (e) {
    assert.instance(e, ElfError);
    assert.is((e as ElfError).status, 2, (e as Error).message);
    assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`accepted; expected ${message}`);
}

function withInt(): BtfBuilder {
  const b = new BtfBuilder();
  b.int('int', 4, 32, 1);
  return b;
}

for (const bigEndian of [false, true]) {
  const label = bigEndian ? 'big-endian' : 'little-endian';

  test(`${label}: header defects`, () => {
    rejects(new Uint8Array(3), /BTF: 3 bytes are too short for a header/);
    let b = withInt();
    b.header.magic = 0x1234;
    rejects(b.build(bigEndian), /bad magic 0x(1234|3412) \(expected 0xeb9f\)/);
    b = withInt();
    b.header.version = 2;
    rejects(b.build(bigEndian), /unsupported version 2/);
    b = withInt();
    b.header.hdrLen = 8;
    rejects(b.build(bigEndian), /header length 8/);
    b = withInt();
    b.header.typeLen = 1000;
    rejects(b.build(bigEndian), /type section \(offset 0, 1000 bytes\) lies outside/);
    b = withInt();
    b.header.strOff = 0xfffffff0;
    rejects(b.build(bigEndian), /string section \(offset 4294967280/);
  });

  test(`${label}: type defects`, () => {
    let b = withInt();
    b.raw([0, (25 << 24) >>> 0, 0]);
    rejects(b.build(bigEndian), /type \[2\] at offset 16 has unknown kind 25/);
    b = withInt();
    b.raw([b.str('s'), (KIND.STRUCT << 24 | 1000) >>> 0, 4, 0, 1, 0]);
    rejects(b.build(bigEndian), /type \[2\] \(struct 's'\) at offset 16 declares 1000 entries of 12 bytes, but only 12 bytes remain/);
    b = withInt();
    b.raw([9999, KIND.PTR << 24, 1]);
    rejects(b.build(bigEndian), /type \[2\] at offset 16: name offset 9999 is outside the string section/);
    b = withInt();
    b.ptr(7);
    rejects(b.build(bigEndian), /type \[2\] \(ptr ''\) refers to type \[7\], but the last type id is 2/);
    b = withInt();
    b.struct('s', 4, [{ name: 'x', type: 42 }]);
    rejects(b.build(bigEndian), /type \[2\] \(struct 's'\) has a member of type \[42\]/);
    b = withInt();
    b.array(1, 77, 4);
    rejects(b.build(bigEndian), /has index type \[77\]/);
    b = withInt();
    b.func('f', 1);
    rejects(b.build(bigEndian), /func \[2\] 'f' has type \[1\], a int, not a func_proto/);
    b = withInt();
    b.datasec('.data', 4, [[1, 0, 4]]);
    rejects(b.build(bigEndian), /datasec \[2\] '.data' entry 0 is type \[1\], a int, not a var/);
    b = withInt();
    b.int('wide', 4, 40);
    rejects(b.build(bigEndian), /int 'wide'\) has size 4 with 40 bits/);
    b = withInt();
    b.declTag('tag', 1, 0); // an int has no members
    rejects(b.build(bigEndian), /decl_tag \[2\] 'tag' names component 0 of type \[1\] \(int\), which has 0/);
    b = withInt();
    b.raw([0, KIND.INT << 24, 4]); // the encoding word is missing
    rejects(b.build(bigEndian), /type \[2\] \(int\) at offset 16 is truncated/);
  });

  test(`${label}: reference loops are rejected`, () => {
    let b = withInt();
    b.typedef('a', 3); // 2 -> 3 -> 2
    b.typedef('b', 2);
    rejects(b.build(bigEndian), /type \[2\] \(typedef 'a'\) is part of a reference loop/);
    b = withInt();
    b.ptr(2); // points at itself
    rejects(b.build(bigEndian), /type \[2\] \(ptr ''\) is part of a reference loop/);
    b = withInt();
    b.const(3); // const -> volatile -> array -> const
    b.volatile(4);
    b.array(2, 1, 4);
    rejects(b.build(bigEndian), /is part of a reference loop/);
  });

  test(`${label}: a struct that contains itself still renders (bounded)`, () => {
    const b = withInt();
    b.struct('', 4, [{ name: 'self', type: 2 }]);
    const { btf } = parseBtf(b.build(bigEndian));
    assert.match(btf.types![2]!.c, /nested too deep/);
  });
}

test('a fixture object whose .BTF has a loop or a bad type id is an ElfError naming the type', () => {
  for (const variant of ['maps_btf.o', 'maps_btf.bpfeb.o']) {
    const original = readFileSync(join(fixturesDir, variant));
    const btf = inspect(original).sections.find((s) => s.name === '.BTF')!;
    const le = !variant.includes('bpfeb');
    const firstTypeRef = btf.offset + 24 + 8; // type [1] is a PTR: its `type` field
    const patched = (value: number): Uint8Array => {
      const bytes = original.slice();
      new DataView(bytes.buffer).setUint32(firstTypeRef, value, le);
      return bytes;
    };
    assert.throws(() => inspect(patched(1)), (e: Error) => e instanceof ElfError && e.status === 2 && /^BTF: type \[1\] \(ptr ''\) is part of a reference loop$/.test(e.message));
    assert.throws(() => inspect(patched(0xffff)), (e: Error) => e instanceof ElfError && /^BTF: type \[1\] \(ptr ''\) refers to type \[65535\], but the last type id is \d+$/.test(e.message));
  }
});

test('types shared where C repeats them (exponential text) render with a bound', () => {
  const b = withInt();
  let inner = b.struct('', 8, [{ name: 'a', type: 1 }, { name: 'b', type: 1, bitOffset: 32 }]);
  for (let k = 0; k < 40; k++) {
    inner = b.struct('', 8 << k, [{ name: 'x', type: inner }, { name: 'y', type: inner, bitOffset: 64 << k }]);
  }
  // Bounded twice: in steps (the text then says so) and in bytes (an ElfError naming the limit).
  try {
    const top = parseBtf(b.build()).btf.types![inner]!;
    assert.match(top.c, /too large to render/);
    assert.ok(top.c.length < 4 << 20);
  } catch (e) {
    assert.instance(e, ElfError);
    assert.match((e as Error).message, /renders to more than the limit of 1048576 bytes of C for one type/);
  }
});

test('truncations of a BTF at every length are errors, never traps', () => {
  const bytes = sampleBtf().builder.build();
  for (let len = 0; len < bytes.length; len++) {
    try {
      parseBtf(bytes.subarray(0, len));
      assert.unreachable(`a ${len}-byte prefix was accepted`);
    } catch (e) {
      assert.instance(e, ElfError, `length ${len}: ${(e as Error).message}`);
    }
  }
});

test('seeded byte flips give a result or an ElfError', () => {
  const original = sampleBtf().builder.build();
  let seed = 0x2545f491;
  const rand = (): number => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  let accepted = 0, rejected = 0;
  for (let round = 0; round < 3000; round++) {
    const bytes = original.slice();
    const flips = 1 + Math.floor(rand() * 4);
    for (let i = 0; i < flips; i++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
    try {
      parseBtf(bytes);
      accepted++;
    } catch (e) {
      assert.instance(e, ElfError, (e as Error).message);
      rejected++;
    }
  }
  assert.ok(accepted > 0 && rejected > 0, `${accepted} accepted, ${rejected} rejected`);
});

test.run();
