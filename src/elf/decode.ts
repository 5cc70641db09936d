// Reads the core's records (layouts in core-c/include/ebpf_core.h, wasm32) out of WASM memory.
import type { CoreExports } from '../wasm/core.js';
import { ATTACH_TYPE_NAMES, MAP_TYPE_NAMES, PROGRAM_TYPE_NAMES, enumName } from './names.js';
import type {
  Diagnostic, DiagnosticKind, MapOrigin, MapSpec, ObjectInfo, ProgramSpec, RelocationInfo, RelocationKind,
  SectionInfo, SectionKind, SymbolBinding, SymbolInfo, SymbolType, U64,
} from './types.js';

const NONE = 0xffffffff;

const SECTION_KINDS: readonly SectionKind[] = [
  'other', 'program', 'text', 'maps', 'btf-maps', 'data', 'rodata', 'bss', 'kconfig',
  'license', 'version', 'btf', 'btf-ext', 'symtab', 'strtab', 'rel', 'debug',
];
const SYMBOL_TYPES: readonly SymbolType[] = ['notype', 'object', 'func', 'section', 'file', 'common', 'tls'];
const SYMBOL_BINDINGS: readonly SymbolBinding[] = ['local', 'global', 'weak'];
const MAP_ORIGINS: readonly MapOrigin[] = ['legacy', 'btf', 'data', 'rodata', 'bss', 'kconfig'];
const RELOC_KINDS: readonly RelocationKind[] = ['other', 'map', 'data', 'call', 'subprog-address', 'extern', 'data-slot'];
const DIAG_KINDS: readonly DiagnosticKind[] = ['ignored', 'unknown-section', 'ignored'];

// ebpf_program flags
const PROG_SUBPROG = 1, PROG_GLOBAL = 2, PROG_UNKNOWN_SEC = 4, PROG_RETPROBE = 8, PROG_NEEDS_TARGET = 32,
  PROG_HAS_ATTACH_TYPE = 64;
const BPF_F_SLEEPABLE = 1 << 4, BPF_F_XDP_HAS_FRAGS = 1 << 5;
const MAP_INNER_TEMPLATE = 1;

// Record sizes (wasm32), pinned by EBPF_WASM_LAYOUT in the header.
const SECTION_SIZE = 64, SYMBOL_SIZE = 40, PROGRAM_SIZE = 80, MAP_SIZE = 96, RELOC_SIZE = 48, DIAG_SIZE = 24;

/** A view of the object's records in WASM memory; valid until the object is closed. */
export class RecordReader {
  readonly view: DataView;
  private readonly bytes: Uint8Array;
  private readonly strings = new Map<number, string>();
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });

  constructor(core: CoreExports) {
    this.view = new DataView(core.memory.buffer);
    this.bytes = new Uint8Array(core.memory.buffer);
  }

  u8(at: number): number { return this.view.getUint8(at); }
  u32(at: number): number { return this.view.getUint32(at, true); }
  i32(at: number): number { return this.view.getInt32(at, true); }

  u64(at: number): U64 {
    const lo = this.view.getUint32(at, true), hi = this.view.getUint32(at + 4, true);
    if (hi < 0x200000) return hi * 0x100000000 + lo;
    return this.view.getBigUint64(at, true).toString();
  }

  /** An ebpf_str {ptr, len} at `at`. Strings repeat (section names), so ASCII ones are decoded
   *  once per pointer (a NUL-terminated string at one address has one length). */
  str(at: number): string {
    const ptr = this.u32(at), len = this.u32(at + 4);
    if (len === 0) return '';
    const cached = this.strings.get(ptr);
    if (cached !== undefined && cached.length === len) return cached;
    const b = this.bytes;
    let out = '';
    for (let i = ptr, end = ptr + len; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) return this.decoder.decode(b.subarray(ptr, ptr + len));
      out += String.fromCharCode(c);
    }
    this.strings.set(ptr, out);
    return out;
  }
}

const orNull = (v: number): number | null => (v === NONE ? null : v);
const indexOrNull = (v: number): number | null => (v < 0 ? null : v);

function decodeSection(r: RecordReader, at: number): SectionInfo {
  return {
    index: r.u32(at + 8),
    name: r.str(at),
    type: r.u32(at + 12),
    kind: SECTION_KINDS[r.u32(at + 56)] ?? 'other',
    flags: r.u64(at + 16),
    offset: r.u32(at + 40),
    size: r.u32(at + 44),
    link: r.u32(at + 48),
    info: r.u32(at + 52),
    addralign: r.u64(at + 24),
    entsize: r.u64(at + 32),
    relocationSection: r.u32(at + 60) || null,
  };
}

function decodeSymbol(r: RecordReader, at: number): SymbolInfo {
  const type = r.u8(at + 32), bind = r.u8(at + 33);
  return {
    index: r.u32(at + 8),
    name: r.str(at),
    section: r.u32(at + 12),
    value: r.u64(at + 16),
    size: r.u64(at + 24),
    type: SYMBOL_TYPES[type] ?? `type(${type})`,
    binding: SYMBOL_BINDINGS[bind] ?? `bind(${bind})`,
    visibility: r.u8(at + 34),
  };
}

function decodeProgram(r: RecordReader, at: number, index: number, sections: SectionInfo[], symbols: SymbolInfo[]): ProgramSpec {
  const symbol = r.u32(at + 28), section = r.u32(at + 24);
  const flags = r.u32(at + 48), type = r.u32(at + 40), attach = r.u32(at + 44), loadFlags = r.u32(at + 72);
  const hasAttach = (flags & PROG_HAS_ATTACH_TYPE) !== 0;
  const target = r.str(at + 16), pattern = r.str(at + 64);
  return {
    index,
    name: symbols[symbol]?.name ?? r.str(at),
    section: sections[section]?.name ?? r.str(at + 8),
    sectionIndex: section,
    symbolIndex: orNull(symbol),
    type,
    typeName: enumName(PROGRAM_TYPE_NAMES, type),
    expectedAttachType: hasAttach ? attach : null,
    expectedAttachTypeName: hasAttach ? enumName(ATTACH_TYPE_NAMES, attach) : null,
    attachTarget: target === '' ? null : target,
    sectionPattern: pattern === '' ? null : pattern,
    subprogram: (flags & PROG_SUBPROG) !== 0,
    global: (flags & PROG_GLOBAL) !== 0,
    retprobe: (flags & PROG_RETPROBE) !== 0,
    needsBtfTarget: (flags & PROG_NEEDS_TARGET) !== 0,
    sleepable: (loadFlags & BPF_F_SLEEPABLE) !== 0,
    xdpFrags: (loadFlags & BPF_F_XDP_HAS_FRAGS) !== 0,
    unknownSection: (flags & PROG_UNKNOWN_SEC) !== 0,
    insnOffset: r.u32(at + 32),
    fileOffset: r.u32(at + 60),
    insnCount: r.u32(at + 36),
    relocationStart: r.u32(at + 52),
    relocationCount: r.u32(at + 56),
    loadFlags,
  };
}

function decodeMap(r: RecordReader, at: number, index: number, dataPtr: number): MapSpec {
  const type = r.u32(at + 24), initPtr = r.u32(at + 80), initSize = r.u32(at + 84), path = r.str(at + 8);
  return {
    index,
    name: r.str(at),
    origin: MAP_ORIGINS[r.u32(at + 20)] ?? 'legacy',
    sectionIndex: r.u32(at + 16),
    symbolIndex: orNull(r.u32(at + 76)),
    definitionOffset: r.u32(at + 72),
    type,
    typeName: enumName(MAP_TYPE_NAMES, type),
    keySize: r.u32(at + 28),
    valueSize: r.u32(at + 32),
    maxEntries: r.u32(at + 36),
    flags: r.u32(at + 40),
    pinning: r.u32(at + 44),
    numaNode: r.u32(at + 48),
    mapExtra: r.u64(at + 56),
    innerMap: indexOrNull(r.i32(at + 52)),
    innerTemplate: (r.u32(at + 88) & MAP_INNER_TEMPLATE) !== 0,
    persistentPath: path === '' ? null : path,
    keyTypeId: r.u32(at + 64),
    valueTypeId: r.u32(at + 68),
    initialData: initPtr ? { fileOffset: initPtr - dataPtr, size: initSize } : null,
  };
}

function decodeReloc(r: RecordReader, at: number, sections: SectionInfo[], symbols: SymbolInfo[]): RelocationInfo {
  const section = r.u32(at + 8), symbol = r.u32(at + 16);
  return {
    sectionIndex: section,
    section: sections[section]?.name ?? '',
    offset: r.u32(at + 12),
    symbolIndex: symbol,
    symbol: symbols[symbol]?.name ?? r.str(at),
    targetSectionIndex: r.u32(at + 20) || null,
    type: r.u32(at + 24),
    kind: RELOC_KINDS[r.u32(at + 28)] ?? 'other',
    map: indexOrNull(r.i32(at + 32)),
    program: orNull(r.u32(at + 36)),
    targetOffset: r.u32(at + 40),
    targetProgram: indexOrNull(r.i32(at + 44)),
  };
}

function decodeDiagnostic(r: RecordReader, at: number): Diagnostic {
  return {
    kind: DIAG_KINDS[r.u32(at + 16)] ?? 'ignored',
    message: r.str(at),
    sectionIndex: r.u32(at + 8) || null,
    offset: r.u32(at + 12),
  };
}

function decodeArray<T>(ptr: number, count: number, size: number, one: (at: number, i: number) => T): T[] {
  const out = new Array<T>(count);
  for (let i = 0; i < count; i++) out[i] = one(ptr + i * size, i);
  return out;
}

/** Status and message of an ebpf_object_info at `info`. */
export function objectStatus(r: RecordReader, info: number): { status: number; message: string } {
  return { status: r.u32(info), message: r.str(info + 4) };
}

/** The ELF part of ObjectInfo from an ebpf_object_info whose status is 0. */
export function decodeObjectInfo(r: RecordReader, info: number): ObjectInfo {
  const dataPtr = r.u32(info + 32);
  const sections = decodeArray(r.u32(info + 40), r.u32(info + 44), SECTION_SIZE, (at) => decodeSection(r, at));
  const licenseLen = r.u32(info + 20);
  const hasLicense = sections.some((s) => s.kind === 'license');
  const symbols = decodeArray(r.u32(info + 48), r.u32(info + 52), SYMBOL_SIZE, (at) => decodeSymbol(r, at));
  return {
    endian: r.u32(info + 12) ? 'big' : 'little',
    license: hasLicense || licenseLen ? r.str(info + 16) : null,
    kernelVersion: r.u32(info + 28) ? r.u32(info + 24) : null,
    sections,
    symbols,
    programs: decodeArray(r.u32(info + 56), r.u32(info + 60), PROGRAM_SIZE, (at, i) => decodeProgram(r, at, i, sections, symbols)),
    maps: decodeArray(r.u32(info + 64), r.u32(info + 68), MAP_SIZE, (at, i) => decodeMap(r, at, i, dataPtr)),
    relocations: decodeArray(r.u32(info + 72), r.u32(info + 76), RELOC_SIZE, (at) => decodeReloc(r, at, sections, symbols)),
    diagnostics: decodeArray(r.u32(info + 80), r.u32(info + 84), DIAG_SIZE, (at) => decodeDiagnostic(r, at)),
  };
}

/** Address of the BTF part (struct ebpf_btf_info *) of an ebpf_object_info, 0 when none. */
export function btfInfoPointer(r: RecordReader, info: number): number {
  return r.u32(info + 88);
}
