// A small bounded reader of an ELF64 executable's or shared object's symbols (.symtab, then
// .dynsym) and loadable segments, for uprobes: a function symbol's address becomes the file offset
// the kernel probes through the PT_LOAD segment holding it, which is right for PIE executables and
// shared objects (whose addresses are not file offsets) and for plain executables alike. Every read
// is checked against the file's size; malformed input is an error naming what and where.

/** Where a symbol of a binary is, as the kernel's uprobes want it. */
export interface ResolvedSymbol {
  name: string;
  /** st_value: the symbol's virtual address. */
  address: bigint;
  /** The file offset of address (what uprobe_events and the uprobe PMU take). */
  offset: bigint;
  size: bigint;
}

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const PT_LOAD = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const SYM_SIZE = 24;
const MAX_SYMBOLS = 4_000_000;

class Reader {
  readonly view: DataView;
  readonly le: boolean;
  constructor(readonly bytes: Uint8Array, le: boolean, readonly path: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.le = le;
  }
  check(offset: number, size: number, what: string): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || size < 0 || offset + size > this.bytes.byteLength) {
      throw new Error(`${this.path}: ELF ${what} at offset ${offset} (${size} bytes) is outside the file (${this.bytes.byteLength} bytes)`);
    }
  }
  u16(o: number): number {
    return this.view.getUint16(o, this.le);
  }
  u32(o: number): number {
    return this.view.getUint32(o, this.le);
  }
  u64(o: number): bigint {
    return this.view.getBigUint64(o, this.le);
  }
  num(o: number, what: string): number {
    const v = this.u64(o);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${this.path}: ELF ${what} ${v} is too large`);
    return Number(v);
  }
}

interface Segment {
  vaddr: bigint;
  memsz: bigint;
  offset: bigint;
}

function readHeader(bytes: Uint8Array, path: string): { r: Reader; shoff: number; shentsize: number; shnum: number; phoff: number; phentsize: number; phnum: number } {
  if (bytes.byteLength < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) throw new Error(`${path}: not an ELF file`);
  if (bytes[4] !== 2) throw new Error(`${path}: not a 64-bit ELF file (uprobes here read ELF64 only)`);
  if (bytes[5] !== 1 && bytes[5] !== 2) throw new Error(`${path}: ELF data encoding ${bytes[5]} is neither little- nor big-endian`);
  const r = new Reader(bytes, bytes[5] === 1, path);
  return {
    r,
    phoff: r.num(32, 'e_phoff'), shoff: r.num(40, 'e_shoff'),
    phentsize: r.u16(54), phnum: r.u16(56), shentsize: r.u16(58), shnum: r.u16(60),
  };
}

function segments(h: ReturnType<typeof readHeader>): Segment[] {
  const { r } = h;
  if (h.phnum === 0) return [];
  if (h.phentsize < 56) throw new Error(`${r.path}: ELF e_phentsize ${h.phentsize} is smaller than a program header`);
  r.check(h.phoff, h.phnum * h.phentsize, 'program headers');
  const out: Segment[] = [];
  for (let i = 0; i < h.phnum; i++) {
    const o = h.phoff + i * h.phentsize;
    if (r.u32(o) !== PT_LOAD) continue;
    out.push({ offset: r.u64(o + 8), vaddr: r.u64(o + 16), memsz: r.u64(o + 40) });
  }
  return out;
}

/** Every function symbol (STT_FUNC, STT_GNU_IFUNC) with a value, from .symtab and .dynsym. */
function functionSymbols(h: ReturnType<typeof readHeader>): Map<string, { address: bigint; size: bigint }> {
  const { r } = h;
  const found = new Map<string, { address: bigint; size: bigint }>();
  if (h.shnum === 0) return found;
  if (h.shentsize < 64) throw new Error(`${r.path}: ELF e_shentsize ${h.shentsize} is smaller than a section header`);
  r.check(h.shoff, h.shnum * h.shentsize, 'section headers');
  const decoder = new TextDecoder();
  // .symtab first: it has the local functions a stripped .dynsym lacks.
  for (const wanted of [SHT_SYMTAB, SHT_DYNSYM]) {
    for (let i = 0; i < h.shnum; i++) {
      const sh = h.shoff + i * h.shentsize;
      if (r.u32(sh + 4) !== wanted) continue;
      const offset = r.num(sh + 24, 'section offset');
      const size = r.num(sh + 32, 'section size');
      const link = r.u32(sh + 40);
      const entsize = r.num(sh + 56, 'sh_entsize') || SYM_SIZE;
      if (entsize < SYM_SIZE) throw new Error(`${r.path}: ELF symbol table (section ${i}) has entries of ${entsize} bytes`);
      if (link >= h.shnum) throw new Error(`${r.path}: ELF symbol table (section ${i}) links to string table ${link} of ${h.shnum}`);
      const strSh = h.shoff + link * h.shentsize;
      const strOffset = r.num(strSh + 24, 'string table offset');
      const strSize = r.num(strSh + 32, 'string table size');
      r.check(offset, size, `symbol table (section ${i})`);
      r.check(strOffset, strSize, `string table (section ${link})`);
      const count = Math.floor(size / entsize);
      if (count > MAX_SYMBOLS) throw new Error(`${r.path}: ELF symbol table (section ${i}) has ${count} symbols, more than ${MAX_SYMBOLS}`);
      for (let s = 0; s < count; s++) {
        const o = offset + s * entsize;
        const info = r.bytes[o + 4]!;
        const type = info & 0xf;
        if (type !== STT_FUNC && type !== STT_GNU_IFUNC) continue;
        const shndx = r.u16(o + 6);
        if (shndx === 0) continue; // undefined (imported)
        const nameOff = r.u32(o);
        if (nameOff >= strSize) throw new Error(`${r.path}: ELF symbol ${s} of section ${i} has name offset ${nameOff} outside its string table`);
        let end = strOffset + nameOff;
        const limit = strOffset + strSize;
        while (end < limit && r.bytes[end] !== 0) end++;
        const name = decoder.decode(r.bytes.subarray(strOffset + nameOff, end));
        if (name === '' || found.has(name)) continue;
        found.set(name, { address: r.u64(o + 8), size: r.u64(o + 16) });
      }
    }
  }
  return found;
}

/** The file offset of virtual address `address` (through the PT_LOAD segment holding it). */
function fileOffset(address: bigint, segs: Segment[], path: string, name: string): bigint {
  for (const s of segs) {
    if (address >= s.vaddr && address < s.vaddr + s.memsz) return address - s.vaddr + s.offset;
  }
  if (segs.length === 0) return address; // relocatable object: addresses are section offsets
  throw new Error(`${path}: symbol ${name} at 0x${address.toString(16)} lies in no loadable segment`);
}

/**
 * Resolves a function symbol of the ELF64 binary `bytes` (read from `path`) to its file offset. A
 * name may be followed by `+offset` (decimal or 0x hex) to probe inside the function.
 */
export function resolveSymbol(bytes: Uint8Array, path: string, symbol: string): ResolvedSymbol {
  const match = /^([^+\s]+)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(symbol);
  if (match === null) throw new Error(`${path}: ${JSON.stringify(symbol)} is not a symbol name (optionally +offset)`);
  const name = match[1]!;
  const extra = match[2] === undefined ? 0n : BigInt(match[2]);
  const header = readHeader(bytes, path);
  const symbols = functionSymbols(header);
  const sym = symbols.get(name);
  if (sym === undefined) {
    const near = [...symbols.keys()].filter((s) => s.includes(name) || name.includes(s)).slice(0, 5);
    throw new Error(`${path}: no function symbol ${name} in .symtab or .dynsym${near.length > 0 ? ` (similar: ${near.join(', ')})` : symbols.size === 0 ? ' (the binary has no function symbols: stripped? give an offset instead)' : ''}`);
  }
  if (sym.address === 0n) throw new Error(`${path}: function symbol ${name} has no address`);
  const address = sym.address + extra;
  return { name, address, offset: fileOffset(address, segments(header), path, name), size: sym.size };
}

/** Every function symbol's name of the binary (sorted), for listings and messages. */
export function functionSymbolNames(bytes: Uint8Array, path: string): string[] {
  return [...functionSymbols(readHeader(bytes, path)).keys()].sort();
}
