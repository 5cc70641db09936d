// Reads the core's records (layouts in core-c/include/ebpf_core.h, wasm32) out of WASM memory.
import type { CoreExports } from '../wasm/core.js';
import { attachTypeName, mapTypeName, programTypeName } from '../sys/generated.js';
import type {
  Diagnostic, DiagnosticKind, MapOrigin, MapSpec, ObjectInfo, ProgramSpec, RelocationInfo, RelocationKind,
  SectionInfo, SectionKind, SymbolBinding, SymbolInfo, SymbolType, U64,
} from './types.js';

const NONE = 0xffffffff;

const SECTION_KINDS: readonly SectionKind[] = [
  'other', 'program', 'text', 'maps', 'btf-maps', 'data', 'rodata', 'bss', 'kconfig',
  'license', 'version', 'btf', 'btf-ext', 'symtab', 'strtab', 'rel', 'debug', 'struct-ops',
];
const SYMBOL_TYPES: readonly SymbolType[] = ['notype', 'object', 'func', 'section', 'file', 'common', 'tls'];
const SYMBOL_BINDINGS: readonly SymbolBinding[] = ['local', 'global', 'weak'];
const MAP_ORIGINS: readonly MapOrigin[] = ['legacy', 'btf', 'data', 'rodata', 'bss', 'kconfig', 'struct-ops'];
const RELOC_KINDS: readonly RelocationKind[] = ['other', 'map', 'data', 'call', 'subprog-address', 'extern', 'data-slot'];
const DIAG_KINDS: readonly DiagnosticKind[] = ['ignored', 'unknown-section', 'ignored'];

// ebpf_program flags
const PROG_SUBPROG = 1, PROG_GLOBAL = 2, PROG_UNKNOWN_SEC = 4, PROG_RETPROBE = 8, PROG_NEEDS_TARGET = 32,
  PROG_HAS_ATTACH_TYPE = 64, PROG_NO_AUTOLOAD = 128;
const BPF_F_SLEEPABLE = 1 << 4, BPF_F_XDP_HAS_FRAGS = 1 << 5;
const MAP_INNER_TEMPLATE = 1;
const SECTION_KIND_STRTAB = 14;

// Record sizes (wasm32), pinned by EBPF_WASM_LAYOUT in the header.
const SECTION_SIZE = 64, SYMBOL_SIZE = 40, PROGRAM_SIZE = 80, MAP_SIZE = 104, RELOC_SIZE = 48, DIAG_SIZE = 24;

const utf8 = new TextDecoder('utf-8', { fatal: false });
// Strings up to this many bytes are built char by char: a TextDecoder call costs about as much.
const SHORT_STRING = 24;

/** Strings in the core's static data (below __heap_base: section patterns, fixed names) never
 *  change while the module instance lives: decoded once per instance, not once per object. */
const staticStrings = new WeakMap<WebAssembly.Memory, Map<number, string>>();

function staticStringsOf(core: CoreExports): Map<number, string> {
  let strings = staticStrings.get(core.memory);
  if (strings === undefined) staticStrings.set(core.memory, strings = new Map());
  return strings;
}

/** The UTF-8 text of len bytes at ptr. */
function decodeText(bytes: Uint8Array, ptr: number, len: number): string {
  if (len > SHORT_STRING) return utf8.decode(bytes.subarray(ptr, ptr + len));
  let out = '';
  for (let i = ptr, end = ptr + len; i < end; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return utf8.decode(bytes.subarray(ptr, ptr + len));
    out += String.fromCharCode(c);
  }
  return out;
}

/** A string table decoded whole: strings inside it are substrings (cheap slices). */
interface StringTable {
  start: number;
  end: number;
  text: string | undefined; // undefined until first used, or when offsets would not line up
  decoded: boolean;
}

/** A view of the object's records in WASM memory; valid until the object is closed. */
export class RecordReader {
  readonly view: DataView;
  private readonly bytes: Uint8Array;
  private readonly tables: StringTable[];
  private lastTable: StringTable | undefined;
  private readonly looseStrings = new Map<number, string>();
  private readonly staticStrings: Map<number, string>;
  private readonly heapBase: number;

  /** `sharing`: a reader of the same object (before WASM memory grew) whose string tables,
   *  already decoded, this one reuses. */
  constructor(core: CoreExports, sharing?: RecordReader) {
    this.view = new DataView(core.memory.buffer);
    this.bytes = new Uint8Array(core.memory.buffer);
    this.tables = sharing ? sharing.tables : [];
    this.staticStrings = staticStringsOf(core);
    this.heapBase = core.__heap_base.value as number;
  }

  u8(at: number): number { return this.view.getUint8(at); }
  u32(at: number): number { return this.view.getUint32(at, true); }
  i32(at: number): number { return this.view.getInt32(at, true); }

  u64(at: number): U64 {
    const lo = this.view.getUint32(at, true), hi = this.view.getUint32(at + 4, true);
    if (hi === 0) return lo; // the common case, kept an integer (no float arithmetic)
    if (hi < 0x200000) return hi * 0x100000000 + lo;
    return this.view.getBigUint64(at, true).toString();
  }

  /** Registers [ptr, ptr + size) as a string table (ELF .strtab, .BTF strings): its strings are
   *  then sliced from one decoding of the whole table instead of decoded one by one. */
  addStringTable(ptr: number, size: number): void {
    if (size > 0) this.tables.push({ start: ptr, end: ptr + size, text: undefined, decoded: false });
  }

  /** An ebpf_str {ptr, len} at `at`. */
  str(at: number): string {
    const ptr = this.view.getUint32(at, true), len = this.view.getUint32(at + 4, true);
    return len === 0 ? '' : this.string(ptr, len);
  }

  /** The UTF-8 string of len bytes at ptr. */
  string(ptr: number, len: number): string {
    let table = this.lastTable;
    if (table === undefined || ptr < table.start || ptr + len > table.end) {
      table = this.tables.find((t) => ptr >= t.start && ptr + len <= t.end);
      if (table !== undefined) this.lastTable = table;
    }
    if (table !== undefined) {
      if (!table.decoded) {
        table.decoded = true;
        const text = utf8.decode(this.bytes.subarray(table.start, table.end));
        // byte offsets are string offsets only when every byte became one UTF-16 unit
        if (text.length === table.end - table.start) table.text = text;
      }
      if (table.text !== undefined) return table.text.substring(ptr - table.start, ptr - table.start + len);
    }
    return this.loose(ptr, len);
  }

  /** A string outside the registered tables: decoded once per address (a NUL-terminated string
   *  at one address has one length); once per module instance when it is static data. */
  private loose(ptr: number, len: number): string {
    const cache = ptr + len <= this.heapBase ? this.staticStrings : this.looseStrings;
    const cached = cache.get(ptr);
    if (cached !== undefined && cached.length === len) return cached;
    const text = decodeText(this.bytes, ptr, len);
    cache.set(ptr, text);
    return text;
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
    typeName: programTypeName(type),
    expectedAttachType: hasAttach ? attach : null,
    expectedAttachTypeName: hasAttach ? attachTypeName(attach) : null,
    attachTarget: target === '' ? null : target,
    sectionPattern: pattern === '' ? null : pattern,
    subprogram: (flags & PROG_SUBPROG) !== 0,
    global: (flags & PROG_GLOBAL) !== 0,
    retprobe: (flags & PROG_RETPROBE) !== 0,
    needsBtfTarget: (flags & PROG_NEEDS_TARGET) !== 0,
    sleepable: (loadFlags & BPF_F_SLEEPABLE) !== 0,
    xdpFrags: (loadFlags & BPF_F_XDP_HAS_FRAGS) !== 0,
    autoload: (flags & PROG_NO_AUTOLOAD) === 0,
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
    typeName: mapTypeName(type),
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
    valuesOffset: orNull(r.u32(at + 96)),
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

/** Status and message of an ebpf_object_info at `info`. */
export function objectStatus(r: RecordReader, info: number): { status: number; message: string } {
  return { status: r.u32(info), message: r.str(info + 4) };
}

/** The ELF part of ObjectInfo from an ebpf_object_info whose status is 0. One loop per record
 *  kind (not one generic loop taking a callback), so each decoder is inlined into its loop. */
export function decodeObjectInfo(r: RecordReader, info: number): ObjectInfo {
  const dataPtr = r.u32(info + 32);
  const sectionsPtr = r.u32(info + 40), sectionCount = r.u32(info + 44);
  for (let i = 0; i < sectionCount; i++) {
    const at = sectionsPtr + i * SECTION_SIZE;
    if (r.u32(at + 56) === SECTION_KIND_STRTAB) r.addStringTable(dataPtr + r.u32(at + 40), r.u32(at + 44));
  }
  const btf = r.u32(info + 88);
  if (btf !== 0) r.addStringTable(r.u32(btf + 60), r.u32(btf + 8));
  const sections = new Array<SectionInfo>(sectionCount);
  for (let i = 0; i < sectionCount; i++) sections[i] = decodeSection(r, sectionsPtr + i * SECTION_SIZE);
  const symbolsPtr = r.u32(info + 48), symbolCount = r.u32(info + 52);
  const symbols = new Array<SymbolInfo>(symbolCount);
  for (let i = 0; i < symbolCount; i++) symbols[i] = decodeSymbol(r, symbolsPtr + i * SYMBOL_SIZE);
  const programsPtr = r.u32(info + 56), programCount = r.u32(info + 60);
  const programs = new Array<ProgramSpec>(programCount);
  for (let i = 0; i < programCount; i++) programs[i] = decodeProgram(r, programsPtr + i * PROGRAM_SIZE, i, sections, symbols);
  const mapsPtr = r.u32(info + 64), mapCount = r.u32(info + 68);
  const maps = new Array<MapSpec>(mapCount);
  for (let i = 0; i < mapCount; i++) maps[i] = decodeMap(r, mapsPtr + i * MAP_SIZE, i, dataPtr);
  const relocsPtr = r.u32(info + 72), relocCount = r.u32(info + 76);
  const relocations = new Array<RelocationInfo>(relocCount);
  for (let i = 0; i < relocCount; i++) relocations[i] = decodeReloc(r, relocsPtr + i * RELOC_SIZE, sections, symbols);
  const diagsPtr = r.u32(info + 80), diagCount = r.u32(info + 84);
  const diagnostics = new Array<Diagnostic>(diagCount);
  for (let i = 0; i < diagCount; i++) diagnostics[i] = decodeDiagnostic(r, diagsPtr + i * DIAG_SIZE);
  const licenseLen = r.u32(info + 20);
  const hasLicense = licenseLen !== 0 || sections.some((s) => s.kind === 'license');
  return {
    endian: r.u32(info + 12) ? 'big' : 'little',
    license: hasLicense ? r.str(info + 16) : null,
    kernelVersion: r.u32(info + 28) ? r.u32(info + 24) : null,
    sections,
    symbols,
    programs,
    maps,
    relocations,
    diagnostics,
  };
}

/** Address of the BTF part (struct ebpf_btf_info *) of an ebpf_object_info, 0 when none. */
export function btfInfoPointer(r: RecordReader, info: number): number {
  return r.u32(info + 88);
}
