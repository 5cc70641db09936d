// Names on decoded instructions: jump labels, helper/kfunc/subprogram calls, map and global-data
// references (from an object's relocations or a loaded program's map ids), and source lines.
import type { BtfType, CoreRelocation, LineInfo } from '../btf/types.js';
import type { ObjectInfo, ProgramSpec, RelocationInfo } from '../elf/types.js';
import { PSEUDO, type RawInstruction, decodeInstructions, helperName, hex, isCall, isWideLoad, jumpDelta, rawOf } from './decode.js';
import type { DisasmInstruction, DisassembleOptions } from './types.js';

const INSN = 8;

/** The index of the instruction starting at slot `slot`, or undefined when none does. */
function slotIndex(insns: readonly DisasmInstruction[]): Map<number, number> {
  const bySlot = new Map<number, number>();
  insns.forEach((insn, i) => bySlot.set(insn.index, i));
  return bySlot;
}

/**
 * Labels jump targets ("LBB<f>_<n>": function f, n-th target in it, as clang names basic blocks) and
 * subprogram call targets; names helpers; sets jumpTarget and call. `functions` maps a slot to the
 * name of the function starting there (slot 0 is always a function start); `placeholders` holds the
 * slots whose imm a relocation fills in (an object's calls), not followed.
 */
export function annotateFlow(insns: DisasmInstruction[], options: DisassembleOptions, functions: Map<number, string> = new Map(),
  placeholders: ReadonlySet<number> = new Set()): void {
  const bySlot = slotIndex(insns);
  const last = insns.length ? insns[insns.length - 1]!.index : -1;
  const starts = new Map(functions);
  // bpf-to-bpf calls within the instructions start functions.
  for (const insn of insns) {
    if (placeholders.has(insn.index)) continue;
    const raw = rawOf(insn);
    if (isCall(raw) && raw.src === PSEUDO.CALL) {
      const target = insn.index + 1 + callDelta(raw, options);
      if (bySlot.has(target) && !starts.has(target)) starts.set(target, `func_${target}`);
    }
    if (isWideLoad(raw) && raw.src === PSEUDO.FUNC) {
      const target = insn.index + 1 + raw.imm;
      if (bySlot.has(target) && !starts.has(target)) starts.set(target, `func_${target}`);
    }
  }
  if (insns.length && !starts.has(insns[0]!.index)) starts.set(insns[0]!.index, 'func_0');
  const jumpTargets = new Set<number>();
  for (const insn of insns) {
    const delta = jumpDelta(rawOf(insn));
    if (delta === undefined || insn.llvm === '<unknown>') continue;
    const target = insn.index + 1 + delta;
    if (target >= 0 && target <= last && bySlot.has(target)) {
      insn.jumpTarget = target;
      jumpTargets.add(target);
    }
  }
  // Number the jump targets per function, in address order.
  let fn = -1, n = 0;
  const labels = new Map<number, string>();
  for (const insn of insns) {
    const name = starts.get(insn.index);
    if (name !== undefined) {
      fn++;
      n = 0;
      labels.set(insn.index, name);
    } else if (jumpTargets.has(insn.index)) labels.set(insn.index, `LBB${Math.max(fn, 0)}_${n++}`);
  }
  for (const insn of insns) {
    const label = labels.get(insn.index);
    if (label !== undefined) insn.label = label;
    if (insn.jumpTarget !== undefined) insn.text = `${insn.llvm} <${labels.get(insn.jumpTarget)}>`;
    const raw = rawOf(insn);
    if (placeholders.has(insn.index)) continue;
    if (isCall(raw)) {
      if (raw.src === 0) {
        const name = options.helperName?.(raw.imm) ?? helperName(raw.imm);
        insn.call = { kind: 'helper', name: name ?? hex(raw.imm), id: raw.imm };
        if (name !== undefined) insn.text = `call ${name}`;
      } else if (raw.src === PSEUDO.CALL) {
        const delta = callDelta(raw, options);
        const target = insn.index + 1 + delta;
        const name = bySlot.has(target) ? labels.get(target) : undefined;
        insn.call = { kind: 'subprog', name: name ?? hex(delta), id: delta, ...(name !== undefined ? { target } : {}) };
        if (name !== undefined) insn.text = `call ${name}`;
      } else if (raw.src === PSEUDO.KFUNC_CALL) {
        const name = options.kfuncName?.(raw.imm) ?? `kfunc#${raw.imm}`;
        insn.call = { kind: 'kfunc', name, id: raw.imm };
        insn.text = `call ${name}`;
      }
    }
    if (isWideLoad(raw) && raw.src !== 0) annotatePseudoLoad(insn, raw.src, raw.imm, raw.imm2 ?? 0, options, labels);
  }
}

/** A bpf-to-bpf call's pc-relative target: imm as compiled, off once the kernel rewrote it. */
function callDelta(raw: RawInstruction, options: DisassembleOptions): number {
  return options.xlated ? raw.off : raw.imm;
}

function annotatePseudoLoad(insn: DisasmInstruction, src: number, imm: number, imm2: number, options: DisassembleOptions,
  labels: Map<number, string>): void {
  const reg = `r${insn.dst}`;
  const how = options.mapImmediate ?? 'fd';
  const mapText = (): string => options.mapName?.(imm) ?? `map[${how}:${imm}]`;
  const mapId = how === 'id' ? { mapId: imm } : {};
  switch (src) {
    case PSEUDO.MAP_FD:
    case PSEUDO.MAP_IDX:
      insn.reference = { kind: 'map', name: mapText(), ...mapId };
      insn.text = `${reg} = ${mapText()} ll`;
      return;
    case PSEUDO.MAP_VALUE:
    case PSEUDO.MAP_IDX_VALUE:
      insn.reference = { kind: 'data', name: mapText(), offset: imm2 >>> 0, map: mapText(), ...mapId };
      insn.text = `${reg} = ${mapText()}${imm2 ? ` + ${hex(imm2 >>> 0)}` : ''} ll`;
      return;
    case PSEUDO.BTF_ID:
      insn.reference = { kind: 'ksym', name: `btf_id:${imm}` };
      insn.text = `${reg} = btf_id:${imm} ll`;
      return;
    case PSEUDO.FUNC: {
      const target = insn.index + 1 + imm;
      const name = labels.get(target);
      insn.call = { kind: 'subprog', name: name ?? hex(imm), id: imm, ...(name !== undefined ? { target } : {}) };
      insn.text = `${reg} = ${name ?? hex(imm)} ll`;
      return;
    }
  }
}

/** What an object program's relocations name: references, kfunc calls and subprogram calls. */
export function annotateRelocations(insns: DisasmInstruction[], info: ObjectInfo, program: ProgramSpec): void {
  const relocations = info.relocations.slice(program.relocationStart, program.relocationStart + program.relocationCount);
  const byOffset = new Map<number, RelocationInfo>();
  for (const r of relocations) byOffset.set(r.offset - program.insnOffset, r);
  for (const insn of insns) {
    const r = byOffset.get(insn.offset);
    const raw = rawOf(insn);
    if (!r) {
      // A call within the section that the compiler resolved itself (no relocation): pc-relative.
      if (isCall(raw) && raw.src === PSEUDO.CALL) nameSectionCall(insn, raw.imm, info, program);
      continue;
    }
    if (isCall(raw)) {
      if (r.kind === 'extern') {
        insn.call = { kind: 'kfunc', name: r.symbol };
        insn.text = `call ${r.symbol}`;
      } else if (r.kind === 'call' && r.targetProgram !== null) {
        const callee = info.programs[r.targetProgram];
        if (callee) {
          // The callee's slot among these instructions, when it is in this program's range.
          const slot = callee.sectionIndex === program.sectionIndex ? (callee.insnOffset - program.insnOffset) / INSN : -1;
          const inside = slot >= 0 && slot < program.insnCount;
          insn.call = { kind: 'subprog', name: callee.name, id: raw.imm, ...(inside ? { target: slot } : {}) };
          insn.text = `call ${callee.name}`;
        }
      }
      continue;
    }
    if (!isWideLoad(raw)) continue;
    const reg = `r${insn.dst}`;
    const map = r.map === null ? undefined : info.maps[r.map];
    if (r.kind === 'map' && map) {
      insn.reference = { kind: 'map', name: map.name };
      insn.text = `${reg} = ${map.name} ll`;
    } else if (r.kind === 'data' && map) {
      const variable = dataVariable(info, r);
      insn.reference = { kind: 'data', name: variable ?? map.name, offset: r.targetOffset, map: map.name };
      insn.text = `${reg} = ${variable ?? (r.targetOffset ? `${map.name} + ${hex(r.targetOffset)}` : map.name)} ll`;
    } else if (r.kind === 'extern' && map) {
      insn.reference = { kind: 'kconfig', name: r.symbol, offset: r.targetOffset, map: map.name };
      insn.text = `${reg} = ${r.symbol} ll`;
    } else if (r.kind === 'extern') {
      insn.reference = { kind: 'ksym', name: r.symbol };
      insn.text = `${reg} = ${r.symbol} ll`;
    } else if (r.kind === 'subprog-address' && r.targetProgram !== null) {
      const callee = info.programs[r.targetProgram];
      if (callee) {
        insn.call = { kind: 'subprog', name: callee.name };
        insn.text = `${reg} = ${callee.name} ll`;
      }
    }
  }
}

function nameSectionCall(insn: DisasmInstruction, imm: number, info: ObjectInfo, program: ProgramSpec): void {
  const slot = insn.index + 1 + imm;
  const callee = objectIndex(info).programsAt.get(`${program.sectionIndex}:${program.insnOffset + slot * INSN}`);
  if (!callee) return;
  const inside = slot >= 0 && slot < program.insnCount;
  insn.call = { kind: 'subprog', name: callee.name, id: imm, ...(inside ? { target: slot } : {}) };
  insn.text = `call ${callee.name}`;
}

interface ObjectIndex {
  /** Programs by "section:byte offset". */
  programsAt: Map<string, ProgramSpec>;
  /** Named object symbols by "section:value". */
  objectsAt: Map<string, string>;
}
const indexes = new WeakMap<ObjectInfo, ObjectIndex>();

/** Lookups over an object's programs and symbols, built once per ObjectInfo. */
function objectIndex(info: ObjectInfo): ObjectIndex {
  let index = indexes.get(info);
  if (!index) {
    const objectsAt = new Map<string, string>();
    for (const s of info.symbols) {
      const key = `${s.section}:${Number(s.value)}`;
      if (s.type === 'object' && s.name !== '' && !objectsAt.has(key)) objectsAt.set(key, s.name);
    }
    index = { programsAt: new Map(info.programs.map((p) => [`${p.sectionIndex}:${p.insnOffset}`, p])), objectsAt };
    indexes.set(info, index);
  }
  return index;
}

/** The variable a data relocation points at: its symbol when it names a variable, else a symbol of
 *  the section at that offset. */
function dataVariable(info: ObjectInfo, r: RelocationInfo): string | undefined {
  const symbol = info.symbols[r.symbolIndex];
  if (symbol && symbol.type !== 'section' && symbol.name !== '') return symbol.name;
  if (r.targetSectionIndex === null) return undefined;
  return objectIndex(info).objectsAt.get(`${r.targetSectionIndex}:${r.targetOffset}`);
}

/** Attaches line info (instruction indexes relative to the program's start) to the instructions. */
export function annotateLines(insns: DisasmInstruction[], lines: readonly LineInfo[]): void {
  const bySlot = slotIndex(insns);
  for (const line of lines) {
    const i = bySlot.get(line.insn);
    if (i === undefined) continue;
    insns[i]!.source = { file: line.file, line: line.lineNumber, column: line.column, ...(line.line ? { text: line.line } : {}) };
  }
}

/** Decodes and names one program of an object described by `info` (from inspect with btfExt). */
export function disassembleSpec(bytes: Uint8Array, info: ObjectInfo, program: ProgramSpec, options: DisassembleOptions = {}): DisasmInstruction[] {
  const code = bytes.subarray(program.fileOffset, program.fileOffset + program.insnCount * INSN);
  const opts = { ...options, bigEndian: info.endian === 'big' };
  const insns = decodeInstructions(code, opts);
  const relocated = new Set<number>();
  for (let i = 0; i < program.relocationCount; i++) {
    const r = info.relocations[program.relocationStart + i];
    if (r) relocated.add((r.offset - program.insnOffset) / INSN);
  }
  annotateFlow(insns, opts, new Map([[0, program.name]]), relocated);
  annotateRelocations(insns, info, program);
  if (program.btfExt) {
    annotateLines(insns, program.btfExt.lineInfo);
    annotateCore(insns, program.btfExt.coreRelocations, info.btf?.types);
  }
  return insns;
}

/** Attaches CO-RE relocations (instruction indexes relative to the program's start). */
export function annotateCore(insns: DisasmInstruction[], relos: readonly CoreRelocation[], types?: readonly BtfType[]): void {
  const bySlot = slotIndex(insns);
  for (const r of relos) {
    const i = bySlot.get(r.insn);
    if (i === undefined) continue;
    const spec = types ? coreSpec(types, r) : undefined;
    insns[i]!.core = { kind: r.kind, typeId: r.typeId, access: r.access, ...(spec ? { spec } : {}) };
  }
}

const FIELD_KINDS = new Set(['byte_off', 'byte_sz', 'field_exists', 'signed', 'lshift_u64', 'rshift_u64']);

/** "struct task_struct.mm.total_vm" for a field accessor, "enum e::VALUE" for an enumerator, the type otherwise. */
function coreSpec(types: readonly BtfType[], r: CoreRelocation): string | undefined {
  const skip = (id: number): BtfType | undefined => {
    let t = types[id];
    for (let n = 0; t && n < 32 && (t.kind === 'typedef' || t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag'); n++) t = types[t.type ?? 0];
    return t;
  };
  const root = types[r.typeId];
  if (!root) return undefined;
  const base = skip(r.typeId);
  const name = (t: BtfType | undefined): string => (t ? `${t.kind === 'struct' || t.kind === 'union' || t.kind === 'enum' ? `${t.kind} ` : ''}${t.name || '(anon)'}` : '?');
  const indexes = r.access.split(':').map(Number);
  if (r.kind.startsWith('enumval')) return `${name(base)}::${base?.values?.[indexes[0] ?? 0]?.name ?? indexes[0]}`;
  if (!FIELD_KINDS.has(r.kind)) return name(root);
  let spec = name(root);
  if ((indexes[0] ?? 0) !== 0) spec += `[${indexes[0]}]`;
  let t = base;
  for (const index of indexes.slice(1)) {
    if (!t) return undefined;
    if (t.kind === 'array') {
      spec += `[${index}]`;
      t = skip(t.type ?? 0);
    } else {
      const m = t.members?.[index];
      if (!m) return undefined;
      if (m.name) spec += `.${m.name}`;
      t = skip(m.type);
    }
  }
  return spec;
}
