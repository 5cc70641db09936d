// The description of an eBPF ELF object that `inspect()` returns: plain, JSON-serializable data.
// Integers that the ELF stores as 64-bit are `U64`: a number when exact (< 2^53), else a decimal string.
import type { BtfInfo, ProgramBtfExt } from '../btf/types.js';

/** A 64-bit value from the object: a number where it fits in 2^53, else its decimal string (JSON-safe). */
export type U64 = number | string;

/** Size in bytes of one eBPF instruction (ld_imm64 takes two). */
export const INSTRUCTION_SIZE = 8;

/** What an ELF section holds, as the core classifies it. */
export type SectionKind =
  | 'other' | 'program' | 'text' | 'maps' | 'btf-maps' | 'data' | 'rodata' | 'bss' | 'kconfig'
  | 'license' | 'version' | 'btf' | 'btf-ext' | 'symtab' | 'strtab' | 'rel' | 'debug' | 'struct-ops';

/** One ELF section: name, kind, type, flags, where it lies in the file. */
export interface SectionInfo {
  index: number;
  name: string;
  /** ELF sh_type (SHT_PROGBITS = 1, SHT_NOBITS = 8, ...). */
  type: number;
  kind: SectionKind;
  flags: U64;
  /** File offset of the contents (meaningless for SHT_NOBITS). */
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: U64;
  entsize: U64;
  /** Index of the SHT_REL section relocating this one, or null. */
  relocationSection: number | null;
}

/** An ELF symbol's type (STT_*); unknown values as `type(N)`. */
export type SymbolType = 'notype' | 'object' | 'func' | 'section' | 'file' | 'common' | 'tls' | `type(${number})`;
/** An ELF symbol's binding (STB_*); unknown values as `bind(N)`. */
export type SymbolBinding = 'local' | 'global' | 'weak' | `bind(${number})`;

/** One symbol of the object's `.symtab`. */
export interface SymbolInfo {
  index: number;
  name: string;
  /** st_shndx: 0 undefined, 0xfff1 absolute, 0xfff2 common, else a section index. */
  section: number;
  value: U64;
  size: U64;
  type: SymbolType;
  binding: SymbolBinding;
  visibility: number;
}

/** A program (or subprogram) of the object as the ELF describes it: section, types the section name implies, instructions' place, BTF.ext records. Exported from `ebpf` as ElfProgramSpec. */
export interface ProgramSpec {
  index: number;
  name: string;
  section: string;
  sectionIndex: number;
  /** The function symbol, or null when the section has code but no function symbol. */
  symbolIndex: number | null;
  /** enum bpf_prog_type and its name ('xdp', 'kprobe', ...; 'unspec' for unknown sections). */
  type: number;
  typeName: string;
  /** enum bpf_attach_type, or null when the section name implies none. */
  expectedAttachType: number | null;
  expectedAttachTypeName: string | null;
  /** What the section name says to attach to ('syscalls/sys_enter_openat', 'do_sys_open'), or null. */
  attachTarget: string | null;
  /** The section pattern that matched ('kretprobe', 'xdp.frags', 'socket_filter'), or null. */
  sectionPattern: string | null;
  /** A function of .text: called by programs, never loaded on its own. */
  subprogram: boolean;
  global: boolean;
  /** kretprobe/uretprobe/kretsyscall: attach to the return. */
  retprobe: boolean;
  /** Attach needs a BTF target (fentry, fexit, lsm, iter, tp_btf, freplace). */
  needsBtfTarget: boolean;
  sleepable: boolean;
  xdpFrags: boolean;
  /** False for SEC("?name"): libbpf loads such programs only when asked. */
  autoload: boolean;
  /** The section name matched no known pattern (a diagnostic says so). */
  unknownSection: boolean;
  /** Byte offset of the first instruction within the section, and within the file. */
  insnOffset: number;
  fileOffset: number;
  insnCount: number;
  /** This program's relocations are `relocations.slice(relocationStart, relocationStart + relocationCount)`. */
  relocationStart: number;
  relocationCount: number;
  /** BPF_F_* flags for BPF_PROG_LOAD implied by the section name (sleepable, XDP frags). */
  loadFlags: number;
  /** Its .BTF.ext func info, line info and CO-RE relocations, when the object has .BTF.ext and
   *  inspect() was asked for them (`{ btfExt: true }`). */
  btfExt?: ProgramBtfExt;
}

/** Where a map comes from: a definition (legacy `maps`, BTF `.maps`), a global-data section,
 *  the extern __kconfig variables (BTF, no section), or a `.struct_ops` variable. */
export type MapOrigin = 'legacy' | 'btf' | 'data' | 'rodata' | 'bss' | 'kconfig' | 'struct-ops';

/** A map the object defines (legacy `maps`, BTF `.maps`, global data, `.kconfig`, struct_ops), with its pinning and initial data. Exported from `ebpf` as ElfMapSpec. */
export interface MapSpec {
  index: number;
  name: string;
  origin: MapOrigin;
  sectionIndex: number;
  symbolIndex: number | null;
  /** Offset of the definition within its section. */
  definitionOffset: number;
  type: number;
  typeName: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  pinning: number;
  numaNode: number;
  mapExtra: U64;
  /** Index into `maps` of the inner map (map-in-map), or null. */
  innerMap: number | null;
  /** Only describes the inner maps of a map-in-map; a loader creates no map for it alone. */
  innerTemplate: boolean;
  /** goebpf's persistent_path (pin location), or null. */
  persistentPath: string | null;
  keyTypeId: number;
  valueTypeId: number;
  /** Where the initial contents (.data, .rodata) lie in the inspected bytes, or null (.bss, maps
   *  with no initial value). `bytes.subarray(offset, offset + size)`; see `mapInitialData`. */
  initialData: { fileOffset: number; size: number } | null;
  /** BTF maps of maps and program arrays: the byte offset of the definition's `values` member, whose
   *  8-byte slots `.values = { [i] = &x }` fills (through `.rel.maps` relocations); null without. */
  valuesOffset: number | null;
}

/** What a relocation refers to: a map, global data, a function call, an extern, a slot of a map definition. */
export type RelocationKind = 'other' | 'map' | 'data' | 'call' | 'subprog-address' | 'extern' | 'data-slot';

/** One relocation of a program's instructions (or of a map definition's slots), resolved to its symbol. */
export interface RelocationInfo {
  /** The section being relocated and the byte offset in it. */
  sectionIndex: number;
  section: string;
  offset: number;
  symbolIndex: number;
  symbol: string;
  /** The symbol's section, or null for an undefined (extern) symbol. */
  targetSectionIndex: number | null;
  /** R_BPF_* relocation type. */
  type: number;
  kind: RelocationKind;
  /** Index into `maps` (map and data references), or null. */
  map: number | null;
  /** Index into `programs` of the program holding the instruction, or null. */
  program: number | null;
  /** Data: offset within the map value; map: offset of the map's definition in its section;
   *  call/subprog-address: byte offset in the target section; an extern that is not a .kconfig
   *  variable (a kfunc or __ksym): its index in the object's kernel symbols (CoreObject.kernelSymbols). */
  targetOffset: number;
  /** Call/subprog-address: index into `programs` of the callee, or null. */
  targetProgram: number | null;
}

/** Kinds of things the core noticed without failing. */
export type DiagnosticKind = 'unknown-section' | 'ignored';

/** Something the core noticed without failing: a section it does not know, something it ignored. */
export interface Diagnostic {
  kind: DiagnosticKind;
  message: string;
  sectionIndex: number | null;
  offset: number;
}

/** Everything `inspect()` reads from an object: plain JSON-serializable data. */
export interface ObjectInfo {
  endian: 'little' | 'big';
  /** The `license` section's string, or null when absent. */
  license: string | null;
  /** The `version` section (kernel version for old kprobe loaders), or null. */
  kernelVersion: number | null;
  sections: SectionInfo[];
  symbols: SymbolInfo[];
  /** Programs and .text subprograms (flagged `subprogram`), in section order. */
  programs: ProgramSpec[];
  /** Legacy, BTF-defined and global-data maps. */
  maps: MapSpec[];
  /** Each program's relocations in program order, then those of other sections. */
  relocations: RelocationInfo[];
  diagnostics: Diagnostic[];
  /** The .BTF section's summary (and its types when asked), when the object has BTF. */
  btf?: BtfInfo;
}
