// BTF as inspect() describes it: plain, JSON-serializable data. Integers that can pass 2^53
// (enum64 values) are `number | string`: a number when exact, else a decimal string.

/** BTF type kinds, as bpftool names them. */
export type BtfKind =
  | 'void' | 'int' | 'ptr' | 'array' | 'struct' | 'union' | 'enum' | 'fwd' | 'typedef' | 'volatile'
  | 'const' | 'restrict' | 'func' | 'func_proto' | 'var' | 'datasec' | 'float' | 'decl_tag'
  | 'type_tag' | 'enum64';

/** Linkage of a BTF func or var. */
export type BtfLinkage = 'static' | 'global' | 'extern';

/** A struct/union member. */
export interface BtfMember {
  name: string;
  type: number;
  bitOffset: number;
  /** Width of a bitfield in bits, 0 for an ordinary member. */
  bitfieldSize: number;
}

/** A func_proto parameter; `type` 0 on the last one means `...`. */
export interface BtfParam {
  name: string;
  type: number;
}

/** An enum or enum64 value (64-bit values as decimal strings where they pass 2^53). */
export interface BtfEnumValue {
  name: string;
  /** Negative for signed enums; a decimal string when not exact as a number. */
  value: number | string;
}

/** A variable (or extern func) placed in a DATASEC. */
export interface BtfDatasecVar {
  type: number;
  offset: number;
  size: number;
}

/** One decoded BTF type; `c` is its C rendering when asked for. */
export interface BtfType {
  id: number;
  kind: BtfKind;
  /** '' for anonymous types. */
  name: string;
  /** The type rendered as C: a definition for struct/union/enum/typedef/func/var/datasec,
   *  a type expression ('const char *') otherwise; '' when inspected with `withoutC`. */
  c: string;
  /** Byte size: int, float, struct, union, enum, enum64, datasec. */
  size?: number;
  /** The referenced type: ptr, typedef, qualifiers, type_tag, func (its func_proto), var,
   *  decl_tag (the tagged type), func_proto (return type), array (element type). */
  type?: number;
  /** int: bits, bit offset, and encoding. */
  encoding?: { bits: number; offset: number; signed: boolean; char: boolean; bool: boolean };
  /** array: index type and element count. */
  indexType?: number;
  nelems?: number;
  /** struct/union/enum/enum64/fwd: union (fwd), bitfield-encoded member offsets (struct/union),
   *  signed (enum). */
  kindFlag?: boolean;
  members?: BtfMember[];
  params?: BtfParam[];
  values?: BtfEnumValue[];
  vars?: BtfDatasecVar[];
  /** func and var. */
  linkage?: BtfLinkage;
  /** decl_tag: the member or parameter index it applies to, -1 for the type itself. */
  componentIndex?: number;
}

/** The .BTF.ext records of one ELF section (instruction offsets in bytes within the section). */
export interface BtfExtSection {
  section: string;
  /** Index of the ELF code section of this name, or null when there is none. */
  sectionIndex: number | null;
  funcInfoCount: number;
  lineInfoCount: number;
  coreRelocationCount: number;
}

/** An object's BTF: header facts, type count, and the types when `btfTypes` asked for them. */
export interface BtfInfo {
  endian: 'little' | 'big';
  /** Number of type ids, void (id 0) included. */
  typeCount: number;
  stringSize: number;
  /** The object has a .BTF.ext section. */
  hasExt: boolean;
  extSections: BtfExtSection[];
  /** Every type, index = id (types[0] is void); only when asked (`btfTypes: true`). */
  types?: BtfType[];
}

/** `insn` is an instruction index relative to the program's first instruction. */
export interface FuncInfo {
  insn: number;
  typeId: number;
  /** The FUNC's name. */
  name: string;
}

/** A bpf_line_info record with its file, line, column and source text resolved. */
export interface LineInfo {
  insn: number;
  file: string;
  /** The source line's text. */
  line: string;
  lineNumber: number;
  column: number;
  /** Offsets of `file` and `line` in the BTF string section (for BPF_PROG_LOAD's line_info). */
  fileOffset: number;
  lineOffset: number;
}

/** libbpf's names of enum bpf_core_relo_kind. */
export type CoreRelocationKind =
  | 'byte_off' | 'byte_sz' | 'field_exists' | 'signed' | 'lshift_u64' | 'rshift_u64' | 'local_type_id'
  | 'target_type_id' | 'type_exists' | 'type_size' | 'enumval_exists' | 'enumval_value' | 'type_matches';

/** A CO-RE relocation record of .BTF.ext: instruction, local type, access string, kind. */
export interface CoreRelocation {
  insn: number;
  typeId: number;
  /** The accessor string: "0:1:2" (field), "0" (type), enumerator index (enumval). */
  access: string;
  /** Offset of `access` in the BTF string section (for the kernel's bpf_core_relo). */
  accessOffset: number;
  kind: CoreRelocationKind;
  /** enum bpf_core_relo_kind value. */
  kindValue: number;
}

/** A program's .BTF.ext records. */
export interface ProgramBtfExt {
  funcInfo: FuncInfo[];
  lineInfo: LineInfo[];
  coreRelocations: CoreRelocation[];
}

/** What became of a CO-RE relocation against a target BTF (libbpf's outcomes). */
export type CoreRelocationStatus = 'relocated' | 'poisoned' | 'failed' | 'skipped';

/**
 * One CO-RE relocation of an object resolved against a target BTF, as libbpf resolves it: the local
 * type and access string, the target type matched, and the value the instruction gets.
 */
export interface CoreRelocationResult {
  /** The function (program or .text subprogram) holding the instruction; undefined when none ('skipped'). */
  program: string | undefined;
  /** The ELF section of the instruction. */
  section: string;
  /** Instruction index within the function. */
  insn: number;
  kind: CoreRelocationKind;
  /** The relocated type in the object's BTF, as "struct task_struct". */
  localType: string;
  localTypeId: number;
  /** The accessor string: "0:1:2" (field), "0" (type), enumerator index (enumval). */
  access: string;
  /** libbpf's description of the local access: "<byte_off> [7] struct task_struct.pid (0:18 @ offset 2464)". */
  localSpec: string;
  /** The matched type in the target BTF (0 when none matched). */
  targetTypeId: number;
  /** The kernel module whose BTF holds the matched type (undefined: the kernel's own, or none). */
  targetModule: string | undefined;
  /** libbpf's description of the target access ('' when none matched). */
  targetSpec: string;
  /** How many candidate target types matched (all must agree). */
  candidates: number;
  status: CoreRelocationStatus;
  /** The value the compiler wrote (offset, size, 0/1, type id, enumerator value). */
  originalValue: bigint;
  /** The value for the target ('relocated'). */
  value: bigint;
  /** Load/store size in bytes before and after (field offsets read by a load; 0 otherwise). */
  originalSize: number;
  size: number;
  /** Why it was poisoned or failed: names program, instruction, access string and type. */
  reason: string | undefined;
}
