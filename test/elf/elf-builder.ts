// Builds small ELF64 eBPF objects byte by byte, for tests that need an exact shape (edge cases,
// one defect at a time) without a compiler. Layout: ELF header, section contents, then the
// section header table; the result records where each header lies so tests can corrupt it.

export const SHT = { PROGBITS: 1, SYMTAB: 2, STRTAB: 3, NOBITS: 8, REL: 9 } as const;
export const SHF = { WRITE: 1, ALLOC: 2, EXECINSTR: 4 } as const;
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;
export const R_BPF = { NONE: 0, R64_64: 1, ABS64: 2, ABS32: 3, NODYLD32: 4, R64_32: 10 } as const;

export interface SectionDef {
  name: string;
  type?: number;
  flags?: number;
  data?: Uint8Array;
  /** SHT_NOBITS size. */
  size?: number;
  entsize?: number;
}

export interface SymbolDef {
  name: string;
  /** Section name, or a raw st_shndx number (0 undefined). */
  section: string | number;
  value?: number;
  size?: number;
  type?: number;
  bind?: number;
}

export interface RelocDef {
  section: string;
  offset: number;
  symbol: string;
  type?: number;
}

export interface ElfSpec {
  bigEndian?: boolean;
  sections: SectionDef[];
  symbols?: SymbolDef[];
  relocs?: RelocDef[];
}

export interface BuiltElf {
  bytes: Uint8Array;
  /** Section index by name (including .symtab, .strtab, .shstrtab, .rel*). */
  index: Map<string, number>;
  /** File offset of section header i. */
  shdrOffset(i: number): number;
  /** File offset of a section's contents. */
  dataOffset(name: string): number;
  shoff: number;
  bigEndian: boolean;
}

class Writer {
  readonly buf: Uint8Array;
  readonly view: DataView;
  constructor(size: number, readonly le: boolean) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  u8(o: number, v: number): void { this.view.setUint8(o, v); }
  u16(o: number, v: number): void { this.view.setUint16(o, v, this.le); }
  u32(o: number, v: number): void { this.view.setUint32(o, v >>> 0, this.le); }
  u64(o: number, v: number | bigint): void { this.view.setBigUint64(o, BigInt(v), this.le); }
}

function strtab(names: string[]): { bytes: Uint8Array; offsets: Map<string, number> } {
  const offsets = new Map<string, number>();
  const parts: number[] = [0];
  for (const n of names) {
    if (offsets.has(n)) continue;
    if (n === '') { offsets.set(n, 0); continue; }
    offsets.set(n, parts.length);
    for (const c of new TextEncoder().encode(n)) parts.push(c);
    parts.push(0);
  }
  return { bytes: Uint8Array.from(parts), offsets };
}

export function buildElf(spec: ElfSpec): BuiltElf {
  const le = !spec.bigEndian;
  const symbols = spec.symbols ?? [];
  const relocs = spec.relocs ?? [];
  const all: (SectionDef & { link?: number; info?: number })[] = [{ name: '' }, ...spec.sections];
  const index = new Map<string, number>();
  all.forEach((s, i) => index.set(s.name, i));
  const relTargets = [...new Set(relocs.map((r) => r.section))];
  for (const t of relTargets) {
    all.push({ name: `.rel${t}`, type: SHT.REL, entsize: 16 });
    index.set(`.rel${t}`, all.length - 1);
  }
  const symtabIdx = all.length, strtabIdx = all.length + 1, shstrIdx = all.length + 2;
  index.set('.symtab', symtabIdx).set('.strtab', strtabIdx).set('.shstrtab', shstrIdx);
  const secIndex = (s: string | number): number => {
    if (typeof s === 'number') return s;
    const i = index.get(s);
    if (i === undefined) throw new Error(`builder: no section ${s}`);
    return i;
  };

  // symbols: the null symbol, then locals, then the rest (as ELF wants)
  const ordered = [...symbols.filter((s) => (s.bind ?? STB.GLOBAL) === STB.LOCAL), ...symbols.filter((s) => (s.bind ?? STB.GLOBAL) !== STB.LOCAL)];
  const symIndex = new Map<string, number>();
  ordered.forEach((s, i) => symIndex.set(s.name, i + 1));
  const str = strtab(ordered.map((s) => (s.type === STT.SECTION ? '' : s.name)));
  const symW = new Writer((ordered.length + 1) * 24, le);
  ordered.forEach((s, i) => {
    const o = (i + 1) * 24;
    symW.u32(o, s.type === STT.SECTION ? 0 : str.offsets.get(s.name)!);
    symW.u8(o + 4, ((s.bind ?? STB.GLOBAL) << 4) | (s.type ?? STT.NOTYPE));
    symW.u16(o + 6, secIndex(s.section));
    symW.u64(o + 8, s.value ?? 0);
    symW.u64(o + 16, s.size ?? 0);
  });

  const relData = relTargets.map((t) => {
    const list = relocs.filter((r) => r.section === t);
    const w = new Writer(list.length * 16, le);
    list.forEach((r, i) => {
      const si = symIndex.get(r.symbol);
      if (si === undefined) throw new Error(`builder: no symbol ${r.symbol}`);
      w.u64(i * 16, r.offset);
      w.u64(i * 16 + 8, (BigInt(si) << 32n) | BigInt(r.type ?? R_BPF.R64_64));
    });
    return w.buf;
  });
  relTargets.forEach((t, i) => {
    const s = all[index.get(`.rel${t}`)!]!;
    s.data = relData[i];
    s.link = symtabIdx;
    s.info = secIndex(t);
  });
  all.push({ name: '.symtab', type: SHT.SYMTAB, data: symW.buf, entsize: 24, link: strtabIdx,
    info: 1 + ordered.filter((s) => (s.bind ?? STB.GLOBAL) === STB.LOCAL).length });
  all.push({ name: '.strtab', type: SHT.STRTAB, data: str.bytes });
  const shstr = strtab([...all.map((s) => s.name), '.shstrtab']);
  all.push({ name: '.shstrtab', type: SHT.STRTAB, data: shstr.bytes });

  const offsets: number[] = [];
  let at = 64;
  for (const s of all) {
    at = (at + 7) & ~7;
    offsets.push(at);
    if (s.name !== '' && s.type !== SHT.NOBITS) at += s.data?.length ?? 0;
  }
  const shoff = (at + 7) & ~7;
  const w = new Writer(shoff + all.length * 64, le);
  w.buf.set([0x7f, 0x45, 0x4c, 0x46, 2, le ? 1 : 2, 1], 0);
  w.u16(16, 1); // ET_REL
  w.u16(18, 247);
  w.u32(20, 1);
  w.u64(40, shoff);
  w.u16(52, 64);
  w.u16(58, 64);
  w.u16(60, all.length);
  w.u16(62, shstrIdx);
  all.forEach((s, i) => {
    const h = shoff + i * 64;
    if (i === 0) return;
    if (s.type !== SHT.NOBITS && s.data) w.buf.set(s.data, offsets[i]!);
    w.u32(h, shstr.offsets.get(s.name)!);
    w.u32(h + 4, s.type ?? SHT.PROGBITS);
    w.u64(h + 8, s.flags ?? 0);
    w.u64(h + 24, offsets[i]!);
    w.u64(h + 32, s.type === SHT.NOBITS ? s.size ?? 0 : s.data?.length ?? 0);
    w.u32(h + 40, s.link ?? 0);
    w.u32(h + 44, s.info ?? 0);
    w.u64(h + 48, 8);
    w.u64(h + 56, s.entsize ?? 0);
  });
  return {
    bytes: w.buf,
    index,
    shdrOffset: (i) => shoff + i * 64,
    dataOffset: (name) => offsets[index.get(name)!]!,
    shoff,
    bigEndian: !le,
  };
}

/** One 8-byte BPF instruction in the object's byte order (dst/src nibbles swap on big-endian). */
export function insn(code: number, dst: number, src: number, off: number, imm: number, bigEndian = false): Uint8Array {
  const w = new Writer(8, !bigEndian);
  w.u8(0, code);
  w.u8(1, bigEndian ? (dst << 4) | src : (src << 4) | dst);
  w.view.setInt16(2, off, !bigEndian);
  w.view.setInt32(4, imm, !bigEndian);
  return w.buf;
}

export const ldImm64 = (dst: number, src: number, imm: number, be = false): Uint8Array =>
  concat(insn(0x18, dst, src, 0, imm, be), insn(0, 0, 0, 0, 0, be));
export const call = (src: number, imm: number, be = false): Uint8Array => insn(0x85, 0, src, 0, imm, be);
export const exit = (be = false): Uint8Array => insn(0x95, 0, 0, 0, 0, be);
export const mov0 = (be = false): Uint8Array => insn(0xb7, 0, 0, 0, 0, be);

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Little helpers to lay out struct fields in the object's byte order. */
export function u32s(values: number[], bigEndian = false): Uint8Array {
  const w = new Writer(values.length * 4, !bigEndian);
  values.forEach((v, i) => w.u32(i * 4, v));
  return w.buf;
}

export const cstr = (s: string): Uint8Array => concat(new TextEncoder().encode(s), new Uint8Array(1));
