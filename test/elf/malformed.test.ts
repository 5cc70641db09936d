// One defect at a time in an otherwise valid object: each gives an ElfError whose message says
// what and where; never a trap, a RuntimeError or a silent success.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ElfError, inspect } from '../../src/inspect.js';
import { R_BPF, SHF, STT, buildElf, concat, exit, insn, ldImm64, mov0, u32s, type BuiltElf } from './elf-builder.js';
import { sampleObject } from './sample-object.js';

type Patch = (b: BuiltElf, view: DataView) => void;

function expectError(name: string, patch: Patch, message: RegExp, status = 1, bigEndian = false): void {
  test(name, () => {
    const built = sampleObject(bigEndian);
    const bytes = Uint8Array.from(built.bytes);
    patch({ ...built, bytes }, new DataView(bytes.buffer));
    let error: unknown;
    try {
      inspect(bytes);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof ElfError, `expected ElfError, got ${String(error)}`);
    assert.match((error as ElfError).message, message);
    assert.is((error as ElfError).status, status, (error as ElfError).message);
  });
}

const LE = true;
const shdr = (b: BuiltElf, name: string): number => b.shdrOffset(b.index.get(name)!);

expectError('empty input', (_b, v) => new Uint8Array(v.buffer).fill(0), /bad magic at offset 0/);
expectError('bad magic', (_b, v) => v.setUint8(1, 0x41), /not an ELF file: bad magic/);
expectError('32-bit class', (_b, v) => v.setUint8(4, 1), /unsupported ELF class 1 at offset 4.*ELFCLASS64/);
expectError('bad data encoding', (_b, v) => v.setUint8(5, 3), /data encoding 3 at offset 5/);
expectError('not EM_BPF', (_b, v) => v.setUint16(18, 62, LE), /e_machine is 62 at offset 18, expected EM_BPF \(247\)/);
expectError('not EM_BPF, big-endian header', (_b, v) => v.setUint16(18, 62, false), /e_machine is 62/, 1, true);
expectError('no section header table', (_b, v) => v.setBigUint64(40, 0n, LE), /no section header table/);
expectError('bad e_shentsize', (_b, v) => v.setUint16(58, 40, LE), /bad e_shentsize 40 at offset 58/);
expectError('absurd section count', (_b, v) => v.setUint16(60, 0xfff0, LE), /section header table \(65520 entries at offset \d+\) does not fit/);
expectError('section name table index out of range', (_b, v) => v.setUint16(62, 200, LE), /section name table index 200 is out of range/);
expectError('section name table not a string table', (b, v) => v.setUint32(b.shdrOffset(b.index.get('.shstrtab')!) + 4, 1, LE), /not a string table/);
expectError('section contents outside the file', (b, v) => v.setBigUint64(shdr(b, 'xdp') + 24, 1n << 40n, LE), /section 1: contents at offset 1099511627776, size 56 lie outside the file/);
expectError('section size overflowing', (b, v) => v.setBigUint64(shdr(b, 'xdp') + 32, 0xffffffffffffff00n, LE), /section 1: .*lie outside the file/);
expectError('section name offset out of range', (b, v) => v.setUint32(shdr(b, 'xdp'), 100000, LE), /section 1: name offset 100000 is outside the section name table/);
expectError('overlapping sections', (b, v) => v.setBigUint64(shdr(b, '.data') + 24, BigInt(b.dataOffset('xdp') + 8), LE), /section '.data' \(file offsets \d+\.\.\d+\) overlaps section 'xdp' \(file offsets \d+\.\.\d+\)/);
expectError('section over the section headers', (b, v) => v.setBigUint64(shdr(b, '.data') + 24, BigInt(b.shoff), LE), /section '.data' \(file offsets \d+\.\.\d+\) overlaps the section header table|the section header table \(file offsets \d+\.\.\d+\) overlaps section '.data'/);
expectError('symbol table entry size', (b, v) => v.setBigUint64(shdr(b, '.symtab') + 56, 16n, LE), /symbol table '.symtab': entry size 16, expected 24/);
expectError('symbol table size', (b, v) => v.setBigUint64(shdr(b, '.symtab') + 32, 25n, LE), /size 25 is not a multiple of 24/);
expectError('symbol table without string table', (b, v) => v.setUint32(shdr(b, '.symtab') + 40, 1, LE), /string table index 1 is not a string table/);
expectError('symbol name offset out of range', (b, v) => v.setUint32(b.dataOffset('.symtab') + 24 * 3, 99999, LE), /symbol 3: name offset 99999 is outside the string table '.strtab'/);
expectError('symbol section index out of range', (b, v) => v.setUint16(b.dataOffset('.symtab') + 24 * 3 + 6, 500, LE), /symbol 3 'prog1': section index 500 is out of range/);
expectError('relocation entry size', (b, v) => v.setBigUint64(shdr(b, '.relxdp') + 56, 24n, LE), /relocation section '.relxdp': entry size 24/);
expectError('relocation target section out of range', (b, v) => v.setUint32(shdr(b, '.relxdp') + 44, 999, LE), /relocation section '.relxdp': target section 999 is out of range/);
expectError('relocation symbol table link', (b, v) => v.setUint32(shdr(b, '.relxdp') + 40, 1, LE), /relocation section '.relxdp': symbol table index 1/);
expectError('relocation outside its section', (b, v) => v.setBigUint64(b.dataOffset('.relxdp'), 56n, LE), /section 'xdp': relocation at offset 56 against 'counters' lies outside the section \(56 bytes\)/, 4);
expectError('relocation symbol out of range', (b, v) => v.setUint32(b.dataOffset('.relxdp') + 12, 77, LE), /relocation 0 of section 'xdp': symbol index 77 is out of range/);
expectError('relocation of unknown type', (b, v) => v.setUint32(b.dataOffset('.relxdp') + 8, 99, LE), /section 'xdp': relocation at offset 0 against 'counters' has unknown type 99/, 4);
expectError('relocation not on an instruction boundary', (b, v) => v.setBigUint64(b.dataOffset('.relxdp'), 4n, LE), /section 'xdp': relocation at offset 4 against 'counters' is not at an instruction boundary/, 4);
expectError('relocation on an instruction that cannot carry it', (b, v) => v.setBigUint64(b.dataOffset('.relxdp'), 8n, LE), /section 'xdp': relocation at offset 8 against 'counters' is on instruction 0x0, which is neither ld_imm64 nor call/, 4);
expectError('call to where no function starts', (b, v) => v.setInt32(b.dataOffset('xdp') + 44, 1, LE), /section 'xdp': call at offset 40 to 'sub' targets offset 16 of '.text', where no function starts/, 4);
expectError('map definition overlapping another', (b, v) => v.setBigUint64(b.dataOffset('.symtab') + 24 * 8 + 8, 8n, LE), /map 'counters': definition at offset 8 of 'maps' overlaps map 'inner' \(offsets 0 to 40\)/, 3);
expectError('map definition past the end of its section', (b, v) => v.setBigUint64(b.dataOffset('.symtab') + 24 * 8 + 16, 48n, LE), /map 'counters': definition at offset 80 of 'maps' \(48 bytes\) runs past its end \(120 bytes\)/, 3);
expectError('map definition too small', (b, v) => v.setBigUint64(b.dataOffset('.symtab') + 24 * 8 + 16, 12n, LE), /map 'counters': definition of 12 bytes in 'maps' is too small \(16 at least\)/, 3);
expectError('unsized map symbol off its slot', (b, v) => {
  for (const i of [6, 7, 8]) v.setBigUint64(b.dataOffset('.symtab') + 24 * i + 16, 0n, LE);
  v.setBigUint64(b.dataOffset('.symtab') + 24 * 8 + 8, 44n, LE);
}, /map 'counters': definition at offset 44 of 'maps' is not one of its 40-byte slots/, 3);
expectError('version of the wrong size', (b, v) => v.setBigUint64(shdr(b, 'version') + 32, 2n, LE), /section 'version' \(offset \d+\): size 2, expected 4/);
expectError('persistent_path outside its string section', (b, v) => v.setUint32(b.dataOffset('maps') + 112, 5000, LE), /map 'counters': persistent_path points at offset 5000 of section '.rodata.str1.1'/, 3);
expectError('pointer relocation at an unknown field', (b, v) => v.setBigUint64(b.dataOffset('.relmaps'), 48n, LE), /field offset 8 of map 'outer'.*inner_map_def \(24\) or persistent_path \(32\)/, 3);

test('a maps section whose size is not a multiple of its unsized map symbols', () => {
  const b = buildElf({
    sections: [{ name: 'maps', flags: SHF.ALLOC, data: new Uint8Array(50) }],
    symbols: ['a', 'b', 'c'].map((name, i) => ({ name, section: 'maps', value: i * 16, size: 0, type: STT.OBJECT })),
  });
  assert.throws(() => inspect(b.bytes), (e: unknown) => e instanceof ElfError && e.status === 3 && /section 'maps': size 50 is not a multiple of its 3 map definitions \(their symbols have no size\)/.test(e.message));
});

test('a program section whose size is not whole instructions', () => {
  const b = buildElf({ sections: [{ name: 'xdp', flags: SHF.EXECINSTR, data: concat(mov0(), exit(), new Uint8Array(4)) }] });
  assert.throws(() => inspect(b.bytes), (e: unknown) => e instanceof ElfError && /section 'xdp': size 20 is not a whole number of 8-byte instructions/.test(e.message));
});

test('a function symbol reaching past its section', () => {
  const b = buildElf({
    sections: [{ name: 'xdp', flags: SHF.EXECINSTR, data: concat(mov0(), exit()) }],
    symbols: [{ name: 'f', section: 'xdp', value: 8, size: 16, type: STT.FUNC }],
  });
  assert.throws(() => inspect(b.bytes), (e: unknown) => e instanceof ElfError && /program 'f' in section 'xdp': offset 8, size 16 do not fit the section's 16 bytes/.test(e.message));
});

test('a truncated ld_imm64 carrying a relocation', () => {
  const b = buildElf({
    sections: [{ name: 'xdp', flags: SHF.EXECINSTR, data: concat(mov0(), ldImm64(1, 0, 0).subarray(0, 8)) },
      { name: '.data', flags: SHF.ALLOC, data: u32s([1]) }],
    symbols: [{ name: 'v', section: '.data', type: STT.OBJECT, size: 4 }],
    relocs: [{ section: 'xdp', offset: 8, symbol: 'v', type: R_BPF.R64_64 }],
  });
  assert.throws(() => inspect(b.bytes), (e: unknown) => e instanceof ElfError && /section 'xdp': ld_imm64 at offset 8 against 'v' is truncated/.test(e.message));
});

test('a call relocation against data', () => {
  const b = buildElf({
    sections: [{ name: 'xdp', flags: SHF.EXECINSTR, data: concat(insn(0x85, 0, 1, 0, -1), exit()) },
      { name: '.data', flags: SHF.ALLOC, data: u32s([1]) }],
    symbols: [{ name: 'v', section: '.data', type: STT.OBJECT, size: 4 }],
    relocs: [{ section: 'xdp', offset: 0, symbol: 'v', type: R_BPF.R64_32 }],
  });
  assert.throws(() => inspect(b.bytes), (e: unknown) => e instanceof ElfError && /call at offset 0 targets 'v' in non-code section '.data'/.test(e.message));
});

test('every truncation of an object is an ElfError or a valid prefix, never a trap', () => {
  for (const be of [false, true]) {
    const bytes = sampleObject(be).bytes;
    for (let n = 0; n < bytes.length; n++) {
      try {
        inspect(bytes.subarray(0, n));
      } catch (e) {
        if (!(e instanceof ElfError)) throw new Error(`length ${n}: ${String(e)}`);
      }
    }
  }
});

test('seeded byte flips give ElfError or an object, never a trap', () => {
  let seed = 0x5eed;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (const be of [false, true]) {
    const original = sampleObject(be).bytes;
    for (let round = 0; round < 3000; round++) {
      const bytes = Uint8Array.from(original);
      for (let k = 1 + rand(4); k > 0; k--) bytes[rand(bytes.length)] = rand(256);
      try {
        JSON.stringify(inspect(bytes));
      } catch (e) {
        if (!(e instanceof ElfError)) throw new Error(`round ${round}: ${String(e)}`);
      }
    }
  }
});

test.run();
