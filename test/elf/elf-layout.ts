// Where things are in a real object file, read independently of the core (so a test can patch
// bytes of a fixture at a known place): ELF64 header fields, section headers and the BTF header.
export interface RawSection {
  index: number;
  name: string;
  type: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
  /** File offset of this section's header. */
  headerOffset: number;
}

export interface ElfLayout {
  littleEndian: boolean;
  shoff: number;
  shnum: number;
  shstrndx: number;
  sections: RawSection[];
  section(name: string): RawSection;
}

/** Byte offsets in the ELF64 header and section header entries. */
export const EHDR = { class: 4, data: 5, machine: 18, shoff: 40, shentsize: 58, shnum: 60, shstrndx: 62 } as const;
export const SHDR = { name: 0, type: 4, offset: 24, size: 32, link: 40, info: 44, entsize: 56 } as const;

export function elfLayout(bytes: Uint8Array): ElfLayout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = bytes[EHDR.data] === 1;
  const shoff = Number(view.getBigUint64(EHDR.shoff, le));
  const shnum = view.getUint16(EHDR.shnum, le);
  const shstrndx = view.getUint16(EHDR.shstrndx, le);
  const headers = Array.from({ length: shnum }, (_, index) => {
    const h = shoff + index * 64;
    return {
      index, headerOffset: h, nameOffset: view.getUint32(h + SHDR.name, le), type: view.getUint32(h + SHDR.type, le),
      offset: Number(view.getBigUint64(h + SHDR.offset, le)), size: Number(view.getBigUint64(h + SHDR.size, le)),
      link: view.getUint32(h + SHDR.link, le), info: view.getUint32(h + SHDR.info, le),
      entsize: Number(view.getBigUint64(h + SHDR.entsize, le)),
    };
  });
  const names = headers[shstrndx]!;
  const cstring = (at: number): string => {
    let end = at;
    while (bytes[end] !== 0) end++;
    return new TextDecoder().decode(bytes.subarray(at, end));
  };
  const sections = headers.map(({ nameOffset, ...h }) => ({ ...h, name: cstring(names.offset + nameOffset) }));
  return {
    littleEndian: le, shoff, shnum, shstrndx, sections,
    section(name: string): RawSection {
      const found = sections.find((s) => s.name === name);
      if (!found) throw new Error(`no section ${name}`);
      return found;
    },
  };
}

/** BTF type kinds (include/uapi/linux/btf.h). */
export const BTF_KIND = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18,
  ENUM64: 19,
} as const;

export interface BtfTypeRecord {
  id: number;
  kind: number;
  vlen: number;
  /** File offset of the record (name_off, info, size/type). */
  offset: number;
}

/** Every type record of the .BTF section, with its file offset (for patching). */
export function btfTypes(bytes: Uint8Array, btf: RawSection, le: boolean): BtfTypeRecord[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hdrLen = view.getUint32(btf.offset + 4, le);
  const typeOff = view.getUint32(btf.offset + 8, le);
  const typeLen = view.getUint32(btf.offset + 12, le);
  const start = btf.offset + hdrLen + typeOff;
  const records: BtfTypeRecord[] = [];
  for (let at = start, id = 1; at < start + typeLen; id++) {
    const info = view.getUint32(at + 4, le);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    records.push({ id, kind, vlen, offset: at });
    at += 12 + trailingBytes(kind, vlen);
  }
  return records;
}

function trailingBytes(kind: number, vlen: number): number {
  switch (kind) {
    case BTF_KIND.INT: case BTF_KIND.VAR: case BTF_KIND.DECL_TAG: return 4;
    case BTF_KIND.ARRAY: return 12;
    case BTF_KIND.STRUCT: case BTF_KIND.UNION: case BTF_KIND.DATASEC: case BTF_KIND.ENUM64: return 12 * vlen;
    case BTF_KIND.ENUM: case BTF_KIND.FUNC_PROTO: return 8 * vlen;
    default: return 0;
  }
}
