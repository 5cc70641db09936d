// Real clang-built fixtures broken one way at a time (the byte-built samples are covered by
// malformed.test.ts): every truncation, broken ELF header fields, every section header pointing
// outside the file, bad symbols and relocations, and BTF with loops and bad type ids. Each must be
// an ElfError whose message says where (section or offset); never a trap or another error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ElfError, inspect } from '../../src/inspect.js';
import { fixturesDir } from './fixture-files.js';
import { BTF_KIND, EHDR, SHDR, btfTypes, elfLayout, type ElfLayout } from './elf-layout.js';

const SHT_NOBITS = 8;
const SHT_REL = 9;
const WHERE = /section|offset|table|bytes/i;

const load = (name: string): Uint8Array => new Uint8Array(readFileSync(join(fixturesDir, name)));
const FIXTURES = ['xdp_goebpf.o', 'xdp_goebpf.bpfeb.o', 'maps_btf.o', 'maps_btf.bpfeb.o', 'globals.o'];

function inspectError(bytes: Uint8Array): unknown {
  try {
    inspect(bytes);
  } catch (e) {
    return e;
  }
  return undefined;
}

function assertElfError(bytes: Uint8Array, what: string, message: RegExp = WHERE): void {
  const error = inspectError(bytes);
  assert.ok(error instanceof ElfError, `${what}: expected ElfError, got ${error === undefined ? 'success' : String(error)}`);
  assert.match((error as ElfError).message, message, `${what}: message "${(error as ElfError).message}"`);
}

/** A copy of `original` with `patch` applied through a DataView in the object's byte order. */
function patched(original: Uint8Array, patch: (view: DataView, layout: ElfLayout) => void): Uint8Array {
  const bytes = Uint8Array.from(original);
  patch(new DataView(bytes.buffer), elfLayout(bytes));
  return bytes;
}

/**
 * The same object with its section header table moved to just after the ELF header (clang writes
 * it last, so plain truncation only ever loses the table): cutting this one loses section contents.
 */
function headersFirst(original: Uint8Array): { bytes: Uint8Array; contentsEnd: number } {
  const layout = elfLayout(original);
  const table = layout.shnum * 64;
  if (layout.shoff + table !== original.length) throw new Error('expected the section header table at the end');
  const bytes = new Uint8Array(original.length);
  bytes.set(original.subarray(0, 64));
  bytes.set(original.subarray(layout.shoff), 64);
  bytes.set(original.subarray(64, layout.shoff), 64 + table);
  const view = new DataView(bytes.buffer);
  const le = layout.littleEndian;
  view.setBigUint64(EHDR.shoff, 64n, le);
  let contentsEnd = 0;
  for (const s of layout.sections.slice(1)) {
    view.setBigUint64(64 + s.index * 64 + SHDR.offset, BigInt(s.offset + table), le);
    if (s.type !== SHT_NOBITS) contentsEnd = Math.max(contentsEnd, s.offset + table + s.size);
  }
  return { bytes, contentsEnd };
}

for (const name of ['xdp_goebpf.o', 'xdp_goebpf.bpfeb.o', 'maps_btf.o']) {
  test(`${name}: every truncation is an ElfError naming where`, () => {
    const bytes = load(name);
    // Every prefix loses at least the section header table, which clang writes last.
    for (let n = 0; n < bytes.length; n++) assertElfError(bytes.subarray(0, n), `${name} cut at ${n}`);
  });

  test(`${name} with section headers first: every truncation that cuts contents is an ElfError`, () => {
    const { bytes, contentsEnd } = headersFirst(load(name));
    inspect(bytes);
    for (let n = 0; n < contentsEnd; n++) assertElfError(bytes.subarray(0, n), `${name} (headers first) cut at ${n}`);
  });
}

for (const name of FIXTURES) {
  const original = load(name);
  const layout = elfLayout(original);
  const le = layout.littleEndian;
  const fixture = (label: string, patch: (view: DataView, l: ElfLayout) => void, message?: RegExp): void =>
    test(`${name}: ${label}`, () => assertElfError(patched(original, patch), `${name}: ${label}`, message));

  test(`${name}: the unpatched fixture inspects`, () => {
    inspect(original);
  });
  fixture('bad magic', (v) => v.setUint8(0, 0x7e), /magic/);
  fixture('32-bit class', (v) => v.setUint8(EHDR.class, 1), /class/);
  fixture('unknown data encoding', (v) => v.setUint8(EHDR.data, 0), /encoding/);
  fixture('machine x86-64', (v) => v.setUint16(EHDR.machine, 62, le), /machine|EM_BPF/);
  fixture('section header table past the end', (v) => v.setBigUint64(EHDR.shoff, BigInt(original.length), le));
  fixture('section header table offset near 2^64', (v) => v.setBigUint64(EHDR.shoff, 0xffffffffffffffc0n, le));
  fixture('65535 sections', (v) => v.setUint16(EHDR.shnum, 0xffff, le));
  fixture('section name table index out of range', (v, l) => v.setUint16(EHDR.shstrndx, l.shnum, le));
  fixture('section name table is a program section', (v, l) => v.setUint16(EHDR.shstrndx, l.sections.findIndex((s) => s.type === 1 && s.size > 0), le));

  for (const s of layout.sections.slice(1)) {
    if (s.type !== SHT_NOBITS) {
      // Straddling the end when it has contents, wholly past it when empty.
      const at = s.size > 0 ? original.length - 1 : original.length + 1;
      fixture(`section ${s.index} '${s.name}' contents past the end`, (v) => v.setBigUint64(s.headerOffset + SHDR.offset, BigInt(at), le));
      fixture(`section ${s.index} '${s.name}' size 2^62`, (v) => v.setBigUint64(s.headerOffset + SHDR.size, 1n << 62n, le));
    }
    fixture(`section ${s.index} '${s.name}' name offset out of range`, (v, l) => v.setUint32(s.headerOffset + SHDR.name, l.sections[l.shstrndx]!.size + 10, le));
  }

  const symtab = layout.sections.find((s) => s.name === '.symtab')!;
  const symbolCount = symtab.size / 24;
  fixture('symbol table size not whole entries', (v) => v.setBigUint64(symtab.headerOffset + SHDR.size, BigInt(symtab.size - 5), le));
  fixture('symbol table string table link out of range', (v, l) => v.setUint32(symtab.headerOffset + SHDR.link, l.shnum + 3, le));
  for (const sym of [1, symbolCount >> 1, symbolCount - 1]) {
    fixture(`symbol ${sym} name offset out of range`, (v) => v.setUint32(symtab.offset + 24 * sym, 0x7fffffff, le));
    fixture(`symbol ${sym} section index out of range`, (v, l) => v.setUint16(symtab.offset + 24 * sym + 6, l.shnum + 1, le));
  }

  // Move a program section onto the bytes of the section before it in the file.
  const programs = layout.sections.filter((s) => s.type === 1 && s.size > 0 && s.name !== '.text' && !s.name.startsWith('.'));
  const [first, second] = [...programs].sort((a, b) => a.offset - b.offset);
  if (first && second) {
    fixture(`section '${second.name}' overlapping '${first.name}'`, (v) => v.setBigUint64(second.headerOffset + SHDR.offset, BigInt(first.offset + 8), le), /overlap/);
  }

  for (const rel of layout.sections.filter((s) => s.type === SHT_REL && !s.name.includes('debug') && !s.name.includes('BTF'))) {
    const target = layout.sections[rel.info]!;
    fixture(`relocation of '${target.name}' past its section`, (v) => v.setBigUint64(rel.offset, BigInt(target.size), le), /outside|past|beyond/);
    fixture(`relocation of '${target.name}' at offset 2^40`, (v) => v.setBigUint64(rel.offset, 1n << 40n, le), /outside|past|beyond/);
    fixture(`relocation of '${target.name}' with symbol out of range`, (v) => v.setUint32(rel.offset + (le ? 12 : 8), symbolCount + 7, le), /symbol/);
    fixture(`relocation section '${rel.name}' targeting section out of range`, (v, l) => v.setUint32(rel.headerOffset + SHDR.info, l.shnum + 1, le));
  }
}

// BTF: only meaningful once the core parses BTF (helper "btf"); until then the unpatched object
// has no `btf` and these cases are reported as skipped.
for (const name of ['maps_btf.o', 'maps_btf.bpfeb.o', 'globals.o']) {
  const original = load(name);
  const layout = elfLayout(original);
  const le = layout.littleEndian;
  const btf = layout.section('.BTF');
  const types = btfTypes(original, btf, le);
  const parsesBtf = (inspect(original) as { btf?: unknown }).btf !== undefined;
  if (!parsesBtf) {
    console.log(`  (${name}: BTF malformation cases skipped: inspect() does not decode BTF yet)`);
    continue;
  }
  const btfCase = (label: string, patch: (view: DataView) => void): void =>
    test(`${name}: BTF ${label}`, () => assertElfError(patched(original, (v) => patch(v)), `${name}: BTF ${label}`, /BTF|type/));
  const of = (...kinds: number[]) => types.find((t) => kinds.includes(t.kind));
  const ptr = of(BTF_KIND.PTR)!;
  const typedef = of(BTF_KIND.TYPEDEF, BTF_KIND.CONST, BTF_KIND.VOLATILE);
  const struct = types.find((t) => t.kind === BTF_KIND.STRUCT && t.vlen > 0)!;
  const array = of(BTF_KIND.ARRAY);
  const badId = types.length + 100;

  btfCase('bad magic', (v) => v.setUint16(btf.offset, 0x1234, le));
  btfCase('type section past the end', (v) => v.setUint32(btf.offset + 12, btf.size * 4, le));
  btfCase('string section offset out of range', (v) => v.setUint32(btf.offset + 16, 0x7fffff00, le));
  btfCase('pointer to itself', (v) => v.setUint32(ptr.offset + 8, ptr.id, le));
  if (typedef) {
    btfCase(`${typedef.kind === BTF_KIND.TYPEDEF ? 'typedef' : 'modifier'} to itself`, (v) => v.setUint32(typedef.offset + 8, typedef.id, le));
    btfCase('two-type loop through a pointer', (v) => {
      v.setUint32(typedef.offset + 8, ptr.id, le);
      v.setUint32(ptr.offset + 8, typedef.id, le);
    });
  }
  btfCase('pointer to a type id out of range', (v) => v.setUint32(ptr.offset + 8, badId, le));
  btfCase('struct member of a type id out of range', (v) => v.setUint32(struct.offset + 12 + 4, badId, le));
  btfCase('struct with 65535 members', (v) => v.setUint16(struct.offset + 4 + (le ? 0 : 2), 0xffff, le));
  btfCase('name offset out of range', (v) => v.setUint32(struct.offset, 0x7fffffff, le));
  btfCase('unknown kind', (v) => v.setUint8(ptr.offset + 4 + (le ? 3 : 0), 0x1f));
  if (array) {
    btfCase('array of itself', (v) => v.setUint32(array.offset + 12, array.id, le));
    btfCase('array index type out of range', (v) => v.setUint32(array.offset + 16, badId, le));
  }
}

test.run();
