// What the disassembler produces: one plain, JSON-serializable object per instruction.
import type { CoreRelocationKind } from '../btf/types.js';

/** A call's callee: a kernel helper (by enum bpf_func_id), a kfunc (kernel BTF function) or a
 *  bpf-to-bpf call to a subprogram. */
export interface DisasmCall {
  kind: 'helper' | 'kfunc' | 'subprog';
  /** 'bpf_map_lookup_elem', the kfunc's or subprogram's name; a number in hex when unknown. */
  name: string;
  /** helper: its id; kfunc: the instruction's imm (a BTF id once loaded); subprog: the imm (pc-relative). */
  id?: number;
  /** subprog: instruction index of the callee within the disassembled instructions, when it is among them. */
  target?: number;
}

/** What a 64-bit load (ld_imm64) refers to, named from the object's relocations or the kernel's map ids. */
export interface DisasmReference {
  kind: 'map' | 'data' | 'kconfig' | 'ksym';
  /** The map's name; for data, the variable's name when a symbol names that offset, else the map's. */
  name: string;
  /** data and kconfig: byte offset within the map's value. */
  offset?: number;
  /** data and kconfig: the global-data map holding it ('.bss', '.rodata', '.kconfig'). */
  map?: string;
  /** Loaded programs: the kernel's id of the map. */
  mapId?: number;
}

/** A CO-RE relocation (libbpf's bpf_core_relo) on an instruction. */
export interface DisasmCoreRelocation {
  kind: CoreRelocationKind;
  /** The local BTF type id and accessor string ("0:1:2"). */
  typeId: number;
  access: string;
  /** The accessor spelled out when the BTF types are at hand ("struct task_struct.mm.total_vm"). */
  spec?: string;
}

/** A source line from BTF line info (the compiler's .BTF.ext, or the kernel's line_info). */
export interface DisasmSource {
  file: string;
  line: number;
  column: number;
  /** The line's text, when the BTF has it. */
  text?: string;
}

/** One decoded instruction. */
export interface DisasmInstruction {
  /** Instruction slot index within the program (ld_imm64 takes 2 slots; this is the first). */
  index: number;
  /** Byte offset in the program. */
  offset: number;
  /** The instruction's bytes in hex as llvm-objdump prints them ("18 01 00 00 ..."). */
  raw: string;
  /** LLVM syntax ("r1 = *(u32 *)(r2 + 0x4)"), with calls, jump targets and references named
   *  ("call bpf_map_lookup_elem", "goto +0x5 <LBB0_2>", "r1 = counts ll"). */
  text: string;
  /** Exactly what llvm-objdump (LLVM 19, default CPU) prints for these bytes: no names. */
  llvm: string;
  /** The opcode byte, registers, offset and immediate as decoded (imm: the 64-bit value for ld_imm64). */
  opcode: number;
  dst: number;
  src: number;
  off: number;
  imm: number | string;
  /** A label defined at this instruction (a jump target or a function start). */
  label?: string;
  /** The instruction index a jump goes to. */
  jumpTarget?: number;
  call?: DisasmCall;
  reference?: DisasmReference;
  /** A CO-RE relocation on this instruction (objects with .BTF.ext): what the loader adjusts. */
  core?: DisasmCoreRelocation;
  /** The source line this instruction starts, from BTF line info. */
  source?: DisasmSource;
}

export interface DisassembleOptions {
  /** The instructions are big-endian (an object of `clang -target bpfeb`). Default false. */
  bigEndian?: boolean;
  /** Print 8/16/32-bit loads, stores and atomics on w registers, as LLVM does for -mcpu=v3 and later
   *  (alu32). Default false: as llvm-objdump prints by default. */
  alu32?: boolean;
  /** ld_imm64 of a map (src 1, 2, 5, 6) holds a map fd (as given to BPF_PROG_LOAD, the default) or a
   *  map id (as the kernel reports loaded programs). */
  mapImmediate?: 'fd' | 'id';
  /** Names a map by the imm of a map ld_imm64 (its fd or id, see mapImmediate). */
  mapName?: (value: number) => string | undefined;
  /** Names a helper call by its imm, before the helper table (a loaded program's calls hold
   *  addresses relative to __bpf_call_base). */
  helperName?: (imm: number) => string | undefined;
  /** Names a kfunc call (src 2) by its imm, a BTF id of the kernel once loaded. */
  kfuncName?: (btfId: number) => string | undefined;
  /** The instructions are the kernel's rewrite of a loaded program (BPF_OBJ_GET_INFO_BY_FD's
   *  xlated_prog_insns): bpf-to-bpf calls hold their pc-relative target in off, not imm. */
  xlated?: boolean;
}

export interface FormatOptions {
  /** Interleave the source lines (as "; text" lines, with file:line:column). Default true. */
  source?: boolean;
  /** Print each instruction's bytes. Default true. */
  raw?: boolean;
  /** Print LLVM's plain text (`llvm`) instead of the named one (`text`). Default false. */
  plain?: boolean;
}
