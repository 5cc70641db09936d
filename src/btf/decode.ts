// Reads the BTF records of the core (layouts in core-c/include/ebpf_core_btf.h, wasm32) out of
// WASM memory: the ebpf_btf_info of an object, its types (with C renderings) and .BTF.ext records.
import type { CoreExports } from '../wasm/core.js';
import { RecordReader } from '../elf/decode.js';
import { ElfError } from '../elf/errors.js';
import type {
  BtfExtSection, BtfInfo, BtfKind, BtfLinkage, BtfType, CoreRelocationKind, ProgramBtfExt,
} from './types.js';

export const BTF_KINDS: readonly BtfKind[] = [
  'void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile', 'const', 'restrict',
  'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64',
];

export const CORE_RELOCATION_KINDS: readonly CoreRelocationKind[] = [
  'byte_off', 'byte_sz', 'field_exists', 'signed', 'lshift_u64', 'rshift_u64', 'local_type_id', 'target_type_id',
  'type_exists', 'type_size', 'enumval_exists', 'enumval_value', 'type_matches',
];

const LINKAGES: readonly BtfLinkage[] = ['static', 'global', 'extern'];
const NONE = 0xffffffff;
const TYPE_SIZE = 40, MEMBER_SIZE = 32, EXT_SECTION_SIZE = 36, FUNC_INFO_SIZE = 8, LINE_INFO_SIZE = 28, CORE_RELO_SIZE = 20;

export interface BtfDecodeOptions {
  /** Decode every type with its C rendering into `BtfInfo.types`. */
  btfTypes?: boolean;
  /** With btfTypes: leave each type's `c` empty; rendering is most of the cost of the types. */
  withoutC?: boolean;
}

function exact(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

function decodeType(r: RecordReader, info: number, id: number, c: string): BtfType {
  const at = r.u32(info + 12) + id * TYPE_SIZE;
  const kindValue = r.u32(at + 8);
  const kind = BTF_KINDS[kindValue] ?? 'void';
  const kindFlag = r.u32(at + 12) !== 0, vlen = r.u32(at + 16), size = r.u32(at + 20), type = r.u32(at + 24);
  const extra = r.u32(at + 28);
  const t: BtfType = { id, kind, name: r.str(at), c };
  const members = r.u32(info + 16) + r.u32(at + 36) * MEMBER_SIZE;
  const each = <T>(one: (m: number) => T): T[] => {
    const out = new Array<T>(vlen);
    for (let i = 0; i < vlen; i++) out[i] = one(members + i * MEMBER_SIZE);
    return out;
  };
  switch (kind) {
    case 'int':
      t.size = size;
      t.encoding = {
        bits: extra & 0xff, offset: (extra >>> 16) & 0xff,
        signed: (extra & (1 << 24)) !== 0, char: (extra & (2 << 24)) !== 0, bool: (extra & (4 << 24)) !== 0,
      };
      break;
    case 'float':
      t.size = size;
      break;
    case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
      t.type = type;
      break;
    case 'fwd':
      t.kindFlag = kindFlag;
      break;
    case 'array':
      t.type = type;
      t.indexType = extra;
      t.nelems = r.u32(at + 32);
      break;
    case 'struct': case 'union':
      t.size = size;
      t.kindFlag = kindFlag;
      t.members = each((m) => ({ name: r.str(m), type: r.u32(m + 8), bitOffset: r.u32(m + 12), bitfieldSize: r.u32(m + 16) }));
      break;
    case 'enum': case 'enum64':
      t.size = size;
      t.kindFlag = kindFlag;
      t.values = each((m) => ({
        name: r.str(m),
        value: exact(kindFlag ? r.view.getBigInt64(m + 24, true) : kind === 'enum' ? BigInt(r.u32(m + 24)) : r.view.getBigUint64(m + 24, true)),
      }));
      break;
    case 'func_proto':
      t.type = type;
      t.params = each((m) => ({ name: r.str(m), type: r.u32(m + 8) }));
      break;
    case 'func': case 'var':
      t.type = type;
      t.linkage = LINKAGES[extra] ?? 'global';
      break;
    case 'datasec':
      t.size = size;
      t.vars = each((m) => ({ type: r.u32(m + 8), offset: r.u32(m + 12), size: r.u32(m + 16) }));
      break;
    case 'decl_tag':
      t.type = type;
      t.componentIndex = extra | 0;
      break;
    default:
      break;
  }
  return t;
}

/** `elfSections`: the object's sections, whose names (from .strtab) stand in for the equal ones of
 *  BTF strings, which then need no decoding unless types or records are asked for. */
function decodeExtSection(r: RecordReader, at: number, elfSections: readonly { name: string }[] | undefined): BtfExtSection {
  const section = r.u32(at + 8);
  return {
    section: (section !== NONE ? elfSections?.[section]?.name : undefined) ?? r.str(at),
    sectionIndex: section === NONE ? null : section,
    funcInfoCount: r.u32(at + 16),
    lineInfoCount: r.u32(at + 24),
    coreRelocationCount: r.u32(at + 32),
  };
}

/** A reader of WASM memory that slices BTF strings from one decoding of the string section;
 *  `sharing`: a reader of the same object whose string tables (BTF's included) it reuses. */
export function btfReader(core: CoreExports, btfPtr: number, sharing?: RecordReader): RecordReader {
  if (sharing && sharing.view.buffer === core.memory.buffer) return sharing; // memory has not grown: still valid
  const r = new RecordReader(core, sharing);
  if (!sharing) r.addStringTable(r.u32(btfPtr + 60), r.u32(btfPtr + 8));
  return r;
}

/** Renders every type through the core (the arena keeps the strings until the object or BTF is
 *  closed), then reads them: rendering may grow WASM memory, so views are taken afterwards. */
function renderAll(core: CoreExports, btfPtr: number, count: number): number[] {
  const ptrs = new Array<number>(count);
  for (let id = 0; id < count; id++) {
    const ptr = core.ebpf_btf_render(btfPtr, id) >>> 0;
    // The text is bounded in bytes (per type and per BTF): past a limit the core says which.
    if (ptr === 0 && core.ebpf_btf_error_status(btfPtr) === STATUS_LIMIT) throw renderError(core, btfPtr);
    ptrs[id] = ptr;
  }
  return ptrs;
}

const STATUS_LIMIT = 8;

function renderError(core: CoreExports, btfPtr: number): ElfError {
  const bytes = new Uint8Array(core.memory.buffer);
  const at = core.ebpf_btf_error_message(btfPtr) >>> 0;
  const end = bytes.indexOf(0, at);
  return new ElfError(new TextDecoder().decode(bytes.subarray(at, end < 0 ? at : end)), core.ebpf_btf_error_status(btfPtr));
}

/**
 * The BtfInfo of the ebpf_btf_info at `btfPtr` (from ebpf_object_info.btf or ebpf_btf_open).
 * With `btfTypes`, every type is decoded and (unless `withoutC`) rendered as C. `sharing`: a reader
 * of the same object whose decoded string tables are reused; `elfSections`: the object's ELF
 * sections, whose names the .BTF.ext sections take (see decodeExtSection).
 */
export function decodeBtf(core: CoreExports, btfPtr: number, options: BtfDecodeOptions = {}, sharing?: RecordReader,
  elfSections?: readonly { name: string }[]): BtfInfo {
  let r = btfReader(core, btfPtr, sharing);
  const typeCount = r.u32(btfPtr + 4);
  let rendered: number[] | undefined;
  if (options.btfTypes) {
    rendered = options.withoutC ? new Array<number>(typeCount).fill(0) : renderAll(core, btfPtr, typeCount);
    r = btfReader(core, btfPtr, r);
  }
  const extPtr = r.u32(btfPtr + 28), extCount = r.u32(btfPtr + 32);
  const extSections = new Array<BtfExtSection>(extCount);
  for (let i = 0; i < extCount; i++) extSections[i] = decodeExtSection(r, extPtr + i * EXT_SECTION_SIZE, elfSections);
  const info: BtfInfo = {
    endian: r.u32(btfPtr) ? 'big' : 'little',
    typeCount,
    stringSize: r.u32(btfPtr + 8),
    hasExt: r.u32(btfPtr + 24) !== 0,
    extSections,
  };
  if (rendered) {
    const types = new Array<BtfType>(typeCount);
    for (let id = 0; id < typeCount; id++) {
      const p = rendered[id]!;
      types[id] = decodeType(r, btfPtr, id, p ? r.str(p) : '');
    }
    info.types = types;
  }
  return info;
}

/** The program's place: its ELF section's name, first instruction's byte offset in it, and length. */
export interface ProgramExtent {
  section: string;
  insnOffset: number;
  insnCount: number;
}

/**
 * The .BTF.ext records (func info, line info, CO-RE relocations) of each program's instructions,
 * with instruction indexes relative to the program's first instruction; out[i] is programs[i]'s.
 * Each record is placed by a binary search among the programs of its section. Read with a
 * reader (btfReader) taken after the last call into the core.
 */
export function decodeProgramsBtfExt(r: RecordReader, btfPtr: number, programs: readonly ProgramExtent[]): ProgramBtfExt[] {
  const out = programs.map((): ProgramBtfExt => ({ funcInfo: [], lineInfo: [], coreRelocations: [] }));
  const bySection = new Map<string, number[]>();
  programs.forEach((p, i) => {
    const list = bySection.get(p.section);
    if (list) list.push(i);
    else bySection.set(p.section, [i]);
  });
  for (const list of bySection.values()) list.sort((a, b) => programs[a]!.insnOffset - programs[b]!.insnOffset);
  const extPtr = r.u32(btfPtr + 28), extCount = r.u32(btfPtr + 32), types = r.u32(btfPtr + 12);
  const strings = r.u32(btfPtr + 60);
  for (let i = 0; i < extCount; i++) {
    const sec = extPtr + i * EXT_SECTION_SIZE;
    const list = bySection.get(r.str(sec));
    if (!list) continue;
    /** The program (index into out) holding the instruction at byte `off`, or -1. */
    const owner = (off: number): number => {
      let lo = 0, hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (programs[list[mid]!]!.insnOffset <= off) lo = mid + 1;
        else hi = mid;
      }
      if (lo === 0) return -1;
      const p = programs[list[lo - 1]!]!;
      return off < p.insnOffset + p.insnCount * 8 ? list[lo - 1]! : -1;
    };
    // One loop per record kind (not one loop taking a callback per kind), so each stays inlined.
    const funcs = r.u32(btfPtr + 36), funcFirst = r.u32(sec + 12), funcCount = r.u32(sec + 16);
    for (let k = 0; k < funcCount; k++) {
      const at = funcs + (funcFirst + k) * FUNC_INFO_SIZE, off = r.u32(at), p = owner(off);
      if (p < 0) continue;
      const typeId = r.u32(at + 4);
      out[p]!.funcInfo.push({ insn: (off - programs[p]!.insnOffset) / 8, typeId, name: r.str(types + typeId * TYPE_SIZE) });
    }
    const lines = r.u32(btfPtr + 44), lineFirst = r.u32(sec + 20), lineCount = r.u32(sec + 24);
    for (let k = 0; k < lineCount; k++) {
      const at = lines + (lineFirst + k) * LINE_INFO_SIZE, off = r.u32(at), p = owner(off);
      if (p < 0) continue;
      out[p]!.lineInfo.push({
        insn: (off - programs[p]!.insnOffset) / 8, file: r.str(at + 4), line: r.str(at + 12), lineNumber: r.u32(at + 20),
        column: r.u32(at + 24), fileOffset: r.u32(at + 4) - strings, lineOffset: r.u32(at + 12) - strings,
      });
    }
    const relos = r.u32(btfPtr + 52), reloFirst = r.u32(sec + 28), reloCount = r.u32(sec + 32);
    for (let k = 0; k < reloCount; k++) {
      const at = relos + (reloFirst + k) * CORE_RELO_SIZE, off = r.u32(at), p = owner(off);
      if (p < 0) continue;
      const kindValue = r.u32(at + 16);
      out[p]!.coreRelocations.push({
        insn: (off - programs[p]!.insnOffset) / 8, typeId: r.u32(at + 4), access: r.str(at + 8),
        accessOffset: r.u32(at + 8) - strings, kind: CORE_RELOCATION_KINDS[kindValue] ?? 'byte_off', kindValue,
      });
    }
  }
  return out;
}

/** Every type of `info` as C, one per paragraph, each headed by its id and kind. */
export function renderTypesAsC(info: BtfInfo): string | undefined {
  if (!info.types) return undefined;
  const out: string[] = [];
  for (const t of info.types) {
    if (t.id === 0) continue;
    out.push(`/* [${t.id}] ${t.kind}${t.name ? ` '${t.name}'` : ''} */\n${t.c}`);
  }
  return out.join('\n\n') + '\n';
}

/**
 * The .BTF of the open object at `objPtr` as BPF_BTF_LOAD takes it (DATASEC sizes and variable
 * offsets filled in from the ELF, as libbpf does), copied out of WASM memory; undefined when the
 * object has no BTF.
 */
export function btfForKernel(core: CoreExports, objPtr: number): Uint8Array | undefined {
  const ptr = core.ebpf_btf_kernel_blob(objPtr);
  if (!ptr) return undefined;
  const view = new DataView(core.memory.buffer);
  const data = view.getUint32(ptr, true), len = view.getUint32(ptr + 4, true);
  return new Uint8Array(core.memory.buffer, data, len).slice();
}
