// src/disasm: the eBPF disassembler (LLVM syntax, names from relocations, BTF line info). Browser-safe.
import { describeProgram } from '../sys/describe.js';
import { CoreObject } from '../elf/open.js';
import { ElfError } from '../elf/errors.js';
import { annotateFlow, disassembleSpec } from './annotate.js';
import { decodeInstructions } from './decode.js';
import type { DisasmInstruction, DisassembleOptions } from './types.js';

export * from './types.js';
export { formatDisassembly } from './format.js';
export { disassembleSpec, annotateLines } from './annotate.js';
export { helperName } from './decode.js';
export { HELPER_NAMES } from '../sys/helpers.generated.js';

const STATUS_ARGUMENT = 6;

/**
 * Disassembles the program named `program` (a program's function name, or a .text subprogram's) of
 * an eBPF ELF object: its instructions with LLVM text, jump labels, helper, kfunc and subprogram
 * calls, map and global-data references named from the relocations, and source lines from BTF.
 * Throws ElfError for a malformed object or an unknown program (the message lists the programs).
 */
export function disassembleProgram(object: Uint8Array, program: string, options: Omit<DisassembleOptions, 'bigEndian'> = {}): DisasmInstruction[] {
  const opened = CoreObject.open(object, { btfExt: true, btfTypes: true, withoutC: true });
  opened.close();
  const info = opened.info;
  const spec = info.programs.find((p) => p.name === program);
  if (!spec) {
    const names = info.programs.map((p) => p.name).join(', ') || 'none';
    throw new ElfError(`no ${describeProgram({ program })} in the object (programs: ${names})`, STATUS_ARGUMENT);
  }
  return disassembleSpec(object, info, spec, options);
}

/**
 * Disassembles raw instructions (8 bytes each, ld_imm64 16), as BPF_PROG_LOAD takes them or the
 * kernel reports them: LLVM text, jump labels, helper names, bpf-to-bpf calls as functions.
 */
export function disassembleInstructions(insns: Uint8Array, options: DisassembleOptions = {}): DisasmInstruction[] {
  const out = decodeInstructions(insns, options);
  annotateFlow(out, options);
  return out;
}
