// Disassembly as text, laid out as llvm-objdump -d prints it: labels on their own line, then
// "  index:\tbytes\ttext", with source lines as "; " comments before the instructions they start.
import type { DisasmInstruction, FormatOptions } from './types.js';

/** The instructions as text, one line each, with labels and (by default) bytes and source lines. */
export function formatDisassembly(insns: readonly DisasmInstruction[], options: FormatOptions = {}): string {
  const source = options.source ?? true, raw = options.raw ?? true, plain = options.plain ?? false;
  const rawWidth = raw ? Math.max(0, ...insns.map((i) => i.raw.length)) : 0;
  const out: string[] = [];
  for (const insn of insns) {
    if (insn.label !== undefined) out.push(`${out.length ? '\n' : ''}${insn.label}:`);
    if (source && insn.source) {
      const s = insn.source;
      out.push(`; ${s.text !== undefined ? `${s.text.trim()} ` : ''}@ ${s.file}:${s.line}:${s.column}`);
    }
    const text = plain ? insn.llvm : insn.text;
    out.push(`${String(insn.index).padStart(8)}:\t${raw ? `${insn.raw.padEnd(rawWidth)}\t` : ''}${text}`);
  }
  return out.join('\n');
}
