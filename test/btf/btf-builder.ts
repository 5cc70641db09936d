// Builds .BTF and .BTF.ext sections word by word, in either byte order, for tests that need an
// exact shape (every kind, one defect at a time) without a compiler.

export const KIND = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;

export interface MemberDef { name: string; type: number; bitOffset?: number; bitfieldSize?: number }

export class BtfBuilder {
  private readonly strs: number[];
  private readonly strOffsets = new Map<string, number>([['', 0]]);
  /** A split BTF (a kernel module's) continues its base's ids and strings. */
  private readonly base: { typeCount: number; stringSize: number };

  /** `base`: build a split BTF on top of one with that many types (void included) and string bytes. */
  constructor(base?: { typeCount: number; stringSize: number }) {
    this.base = base ?? { typeCount: 1, stringSize: 0 };
    this.strs = base === undefined ? [0] : [];
  }

  /** Types so far, void included (a split BTF's: its base's too): the next id. */
  get typeCount(): number { return this.base.typeCount + this.types.length; }
  /** Bytes of strings (a split BTF's: its base's too). */
  get stringSize(): number { return this.base.stringSize + this.strs.length; }
  /** Each type as u32 words (header then trailing data). */
  readonly types: number[][] = [];
  /** Header fields that tests may override to build defects. */
  header: Partial<{ magic: number; version: number; hdrLen: number; typeOff: number; typeLen: number; strOff: number; strLen: number }> = {};

  str(s: string): number {
    const known = this.strOffsets.get(s);
    if (known !== undefined) return known;
    const off = this.base.stringSize + this.strs.length;
    for (const b of new TextEncoder().encode(s)) this.strs.push(b);
    this.strs.push(0);
    this.strOffsets.set(s, off);
    return off;
  }

  /** Appends a type from raw words; returns its id. */
  raw(words: number[]): number {
    this.types.push(words);
    return this.base.typeCount + this.types.length - 1;
  }

  private head(name: string, kind: number, vlen: number, sizeOrType: number, kindFlag = false): number[] {
    return [this.str(name), ((kindFlag ? 1 : 0) << 31 | kind << 24 | vlen) >>> 0, sizeOrType >>> 0];
  }

  int(name: string, size: number, bits = size * 8, encoding = 0, bitOffset = 0): number {
    return this.raw([...this.head(name, KIND.INT, 0, size), (encoding << 24 | bitOffset << 16 | bits) >>> 0]);
  }
  ptr(type: number): number { return this.raw(this.head('', KIND.PTR, 0, type)); }
  array(elem: number, index: number, nelems: number): number {
    return this.raw([...this.head('', KIND.ARRAY, 0, 0), elem, index, nelems]);
  }
  struct(name: string, size: number, members: MemberDef[], union = false, kindFlag = false): number {
    const words = this.head(name, union ? KIND.UNION : KIND.STRUCT, members.length, size, kindFlag);
    for (const m of members) {
      words.push(this.str(m.name), m.type, kindFlag ? ((m.bitfieldSize ?? 0) << 24 | (m.bitOffset ?? 0)) >>> 0 : m.bitOffset ?? 0);
    }
    return this.raw(words);
  }
  enum(name: string, size: number, values: [string, number][], signed = false): number {
    const words = this.head(name, KIND.ENUM, values.length, size, signed);
    for (const [n, v] of values) words.push(this.str(n), v >>> 0);
    return this.raw(words);
  }
  enum64(name: string, values: [string, bigint][], signed = false): number {
    const words = this.head(name, KIND.ENUM64, values.length, 8, signed);
    for (const [n, v] of values) {
      const u = BigInt.asUintN(64, v);
      words.push(this.str(n), Number(u & 0xffffffffn), Number(u >> 32n));
    }
    return this.raw(words);
  }
  fwd(name: string, union = false): number { return this.raw(this.head(name, KIND.FWD, 0, 0, union)); }
  typedef(name: string, type: number): number { return this.raw(this.head(name, KIND.TYPEDEF, 0, type)); }
  volatile(type: number): number { return this.raw(this.head('', KIND.VOLATILE, 0, type)); }
  const(type: number): number { return this.raw(this.head('', KIND.CONST, 0, type)); }
  restrict(type: number): number { return this.raw(this.head('', KIND.RESTRICT, 0, type)); }
  func(name: string, proto: number, linkage = 1): number { return this.raw(this.head(name, KIND.FUNC, linkage, proto)); }
  funcProto(ret: number, params: [string, number][]): number {
    const words = this.head('', KIND.FUNC_PROTO, params.length, ret);
    for (const [n, t] of params) words.push(this.str(n), t);
    return this.raw(words);
  }
  var(name: string, type: number, linkage = 1): number { return this.raw([...this.head(name, KIND.VAR, 0, type), linkage]); }
  datasec(name: string, size: number, vars: [number, number, number][]): number {
    const words = this.head(name, KIND.DATASEC, vars.length, size);
    for (const v of vars) words.push(...v);
    return this.raw(words);
  }
  float(name: string, size: number): number { return this.raw(this.head(name, KIND.FLOAT, 0, size)); }
  declTag(name: string, type: number, component: number): number {
    return this.raw([...this.head(name, KIND.DECL_TAG, 0, type), component >>> 0]);
  }
  typeTag(name: string, type: number): number { return this.raw(this.head(name, KIND.TYPE_TAG, 0, type)); }

  build(bigEndian = false): Uint8Array {
    const typeWords = this.types.flat();
    const typeLen = typeWords.length * 4, strLen = this.strs.length;
    const h = { magic: 0xeb9f, version: 1, hdrLen: 24, typeOff: 0, typeLen, strOff: typeLen, strLen, ...this.header };
    const out = new Uint8Array(24 + typeLen + strLen);
    const v = new DataView(out.buffer);
    const le = !bigEndian;
    v.setUint16(0, h.magic, le);
    v.setUint8(2, h.version);
    v.setUint32(4, h.hdrLen, le);
    v.setUint32(8, h.typeOff, le);
    v.setUint32(12, h.typeLen, le);
    v.setUint32(16, h.strOff, le);
    v.setUint32(20, h.strLen, le);
    typeWords.forEach((w, i) => v.setUint32(24 + i * 4, w >>> 0, le));
    out.set(this.strs, 24 + typeLen);
    return out;
  }
}

/** One section's records in a .BTF.ext block: each record as u32 words. */
export interface ExtSectionDef { section: string; records: number[][] }

export interface ExtDef {
  func?: ExtSectionDef[];
  line?: ExtSectionDef[];
  core?: ExtSectionDef[];
  /** Record sizes (default 8, 16, 16). */
  recSizes?: [number, number, number];
}

/** A .BTF.ext whose section names are added to b's strings (build b after this). */
export function buildExt(b: BtfBuilder, def: ExtDef, bigEndian = false): Uint8Array {
  const sizes = def.recSizes ?? [8, 16, 16];
  const blocks = [def.func, def.line, def.core].map((secs, k) => {
    if (!secs) return [] as number[];
    const words = [sizes[k]!];
    for (const s of secs) {
      words.push(b.str(s.section), s.records.length);
      for (const r of s.records) {
        const padded = [...r];
        while (padded.length < sizes[k]! / 4) padded.push(0);
        words.push(...padded);
      }
    }
    return words;
  });
  const hdr = 32;
  const lens = blocks.map((w) => w.length * 4);
  const out = new Uint8Array(hdr + lens[0]! + lens[1]! + lens[2]!);
  const v = new DataView(out.buffer);
  const le = !bigEndian;
  v.setUint16(0, 0xeb9f, le);
  v.setUint8(2, 1);
  v.setUint32(4, hdr, le);
  let off = 0;
  blocks.forEach((w, k) => {
    v.setUint32(8 + k * 8, off, le);
    v.setUint32(12 + k * 8, lens[k]!, le);
    w.forEach((x, i) => v.setUint32(hdr + off + i * 4, x >>> 0, le));
    off += lens[k]!;
  });
  return out;
}
