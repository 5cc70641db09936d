// The eBPF instruction decoder and LLVM-syntax printer. Pure computation over bytes: browser-safe.
// Syntax as LLVM's BPF backend prints it (BPFInstrInfo.td), immediates in hex as llvm-objdump does.
import { HELPER_NAMES } from '../sys/helpers.generated.js';
import type { DisasmInstruction, DisassembleOptions } from './types.js';

const INSN = 8;

// Classes, sizes, modes and ops of the instruction set (include/uapi/linux/bpf.h, bpf_common.h).
const LD = 0, LDX = 1, ST = 2, ALU = 4, JMP = 5, JMP32 = 6, ALU64 = 7;
const SIZE_NAMES = ['u32', 'u16', 'u8', 'u64'] as const; // BPF_W, BPF_H, BPF_B, BPF_DW
const SIGNED_SIZE_NAMES = ['s32', 's16', 's8', 's64'] as const;
const MODE_IMM = 0x00, MODE_ABS = 0x20, MODE_IND = 0x40, MODE_MEM = 0x60, MODE_MEMSX = 0x80, MODE_ATOMIC = 0xc0;
const ALU_OPS: readonly (string | undefined)[] = ['+=', '-=', '*=', '/=', '|=', '&=', '<<=', '>>=', undefined, '%=', '^=', '=', 's>>='];
const OP_NEG = 0x8, OP_MOV = 0xb, OP_END = 0xd, OP_DIV = 0x3, OP_MOD = 0x9;
const JMP_OPS: readonly (string | undefined)[] = [
  undefined, '==', '>', '>=', '&', '!=', 's>', 's>=', undefined, undefined, '<', '<=', 's<', 's<=',
];
const OP_JA = 0x0, OP_CALL = 0x8, OP_EXIT = 0x9, OP_JCOND = 0xe;
const ATOMIC_FETCH = 0x01, ATOMIC_XCHG = 0xe1, ATOMIC_CMPXCHG = 0xf1, LOAD_ACQ = 0x100, STORE_REL = 0x110;
const ATOMIC_OPS: Readonly<Record<number, [string, string]>> = {
  0x00: ['+=', 'add'], 0x40: ['|=', 'or'], 0x50: ['&=', 'and'], 0xa0: ['^=', 'xor'],
};

/** BPF_PSEUDO_* values of src_reg in ld_imm64 and call. */
export const PSEUDO = {
  MAP_FD: 1, MAP_VALUE: 2, BTF_ID: 3, FUNC: 4, MAP_IDX: 5, MAP_IDX_VALUE: 6,
  CALL: 1, KFUNC_CALL: 2,
} as const;

/** One instruction's fields as the bytes hold them. */
export interface RawInstruction {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** ld_imm64: the second slot's imm. */
  imm2?: number;
}

/** Hex as LLVM prints a signed immediate: 0x1f, -0x4. */
export function hex(value: number | bigint): string {
  return value < 0 ? `-0x${(-BigInt(value)).toString(16)}` : `0x${value.toString(16)}`;
}

const signedOffset = (off: number): string => (off < 0 ? `- ${hex(-off)}` : `+ ${hex(off)}`);
const jumpOffset = (off: number): string => (off < 0 ? hex(off) : `+${hex(off)}`);

/** Reads the instruction at byte `at`. */
export function readInstruction(view: DataView, at: number, bigEndian: boolean): RawInstruction {
  const regs = view.getUint8(at + 1);
  return {
    code: view.getUint8(at),
    dst: bigEndian ? regs >> 4 : regs & 0xf,
    src: bigEndian ? regs & 0xf : regs >> 4,
    off: view.getInt16(at + 2, !bigEndian),
    imm: view.getInt32(at + 4, !bigEndian),
  };
}

/** The 64-bit value of an ld_imm64 (signed, as LLVM prints it). */
export function wideImmediate(insn: RawInstruction): bigint {
  return BigInt.asIntN(64, (BigInt(insn.imm2 ?? 0) << 32n) | BigInt(insn.imm >>> 0));
}

const isWide = (code: number): boolean => code === (LD | MODE_IMM | 0x18);

/** LLVM's text for one instruction, without names; '<unknown>' as llvm-objdump for what it cannot decode. */
export function llvmText(insn: RawInstruction, alu32 = false): string {
  const { code, dst, src, off, imm } = insn;
  const cls = code & 7;
  const r = (n: number): string => `r${n}`;
  switch (cls) {
    case ALU:
    case ALU64: return aluText(insn, cls === ALU64);
    case JMP:
    case JMP32: return jumpText(insn, cls === JMP32);
    case LD: {
      const mode = code & 0xe0, size = (code >> 3) & 3;
      if (isWide(code)) {
        if (src !== 0) return `ld_pseudo\t${r(dst)}, ${hex(src)}, ${hex(imm)}`;
        return `${r(dst)} = ${hex(wideImmediate(insn))} ll`;
      }
      if (size === 3 || (mode !== MODE_ABS && mode !== MODE_IND)) return '<unknown>';
      return mode === MODE_ABS ? `r0 = *(${SIZE_NAMES[size]} *)skb[${hex(imm)}]` : `r0 = *(${SIZE_NAMES[size]} *)skb[${r(src)}]`;
    }
    case LDX: {
      const mode = code & 0xe0, size = (code >> 3) & 3;
      const reg = alu32 && size !== 3 && mode === MODE_MEM ? `w${dst}` : r(dst);
      if (mode === MODE_MEM) return `${reg} = *(${SIZE_NAMES[size]} *)(${r(src)} ${signedOffset(off)})`;
      if (mode === MODE_MEMSX && size !== 3) return `${reg} = *(${SIGNED_SIZE_NAMES[size]} *)(${r(src)} ${signedOffset(off)})`;
      return '<unknown>';
    }
    case ST: {
      if ((code & 0xe0) !== MODE_MEM) return '<unknown>';
      return `*(${SIZE_NAMES[(code >> 3) & 3]} *)(${r(dst)} ${signedOffset(off)}) = ${hex(imm)}`;
    }
    default: { // STX
      const mode = code & 0xe0, size = (code >> 3) & 3;
      const narrow = size !== 3;
      const v = (n: number): string => (alu32 && narrow ? `w${n}` : r(n));
      const mem = `*(${SIZE_NAMES[size]} *)(${r(dst)} ${signedOffset(off)})`;
      if (mode === MODE_MEM) return `${mem} = ${v(src)}`;
      if (mode !== MODE_ATOMIC) return '<unknown>';
      return atomicText(insn, size, v);
    }
  }
}

function atomicText(insn: RawInstruction, size: number, v: (n: number) => string): string {
  const { dst, src, off, imm } = insn;
  const addr = `r${dst} ${signedOffset(off)}`;
  const type = SIZE_NAMES[size]!;
  // Load-acquire and store-release (LLVM 21's syntax): 8/16/32-bit values on w registers.
  const w = (n: number): string => (size === 3 ? `r${n}` : `w${n}`);
  if (imm === LOAD_ACQ) return `${w(dst)} = load_acquire((${type} *)(r${src} ${signedOffset(off)}))`;
  if (imm === STORE_REL) return `store_release((${type} *)(${addr}), ${w(src)})`;
  if (size !== 0 && size !== 3) return '<unknown>';
  const suffix = size === 3 ? '64' : '32_32';
  if (imm === ATOMIC_XCHG) return `${v(src)} = xchg${size === 3 ? '_64' : suffix}(${addr}, ${v(src)})`;
  if (imm === ATOMIC_CMPXCHG) return `${v(0)} = cmpxchg${size === 3 ? '_64' : suffix}(${addr}, ${v(0)}, ${v(src)})`;
  const op = ATOMIC_OPS[imm & ~ATOMIC_FETCH];
  if (!op) return '<unknown>';
  if (imm & ATOMIC_FETCH) return `${v(src)} = atomic_fetch_${op[1]}((${type} *)(${addr}), ${v(src)})`;
  return `lock *(${type} *)(${addr}) ${op[0]} ${v(src)}`;
}

function aluText(insn: RawInstruction, wide: boolean): string {
  const { code, dst, src, off, imm } = insn;
  const op = code >> 4, useReg = (code & 0x08) !== 0;
  const reg = (n: number): string => (wide ? `r${n}` : `w${n}`);
  if (op === OP_END) {
    // ALU|END: to_le (source bit clear) / to_be; ALU64|END: bswap.
    if (imm !== 16 && imm !== 32 && imm !== 64) return '<unknown>';
    const name = wide ? (useReg ? '<unknown>' : 'bswap') : useReg ? 'be' : 'le';
    return name === '<unknown>' ? name : `r${dst} = ${name}${imm} r${dst}`;
  }
  if (op === OP_NEG) return useReg ? '<unknown>' : `${reg(dst)} = -${reg(dst)}`;
  const text = ALU_OPS[op];
  if (text === undefined) return '<unknown>';
  let sym = text;
  if (op === OP_DIV || op === OP_MOD) {
    if (off === 1) sym = `s${text}`;
    else if (off !== 0) return '<unknown>';
  }
  // The kernel's own per-CPU address move (BPF_ADDR_PERCPU), seen only in xlated programs: bpftool's text.
  if (op === OP_MOV && useReg && wide && off === -1) return `${reg(dst)} = &(void __percpu *)(${reg(src)})`;
  if (op === OP_MOV && useReg && off !== 0) {
    // movsx: off is the source width.
    if (off !== 8 && off !== 16 && !(wide && off === 32)) return '<unknown>';
    return `${reg(dst)} = (s${off})${reg(src)}`;
  }
  return `${reg(dst)} ${sym} ${useReg ? reg(src) : hex(imm)}`;
}

function jumpText(insn: RawInstruction, narrow: boolean): string {
  const { code, dst, src, off, imm } = insn;
  const op = code >> 4, useReg = (code & 0x08) !== 0;
  if (op === OP_JA) {
    if (useReg) return '<unknown>';
    return narrow ? `gotol ${jumpOffset(imm)}` : `goto ${jumpOffset(off)}`;
  }
  if (!narrow) {
    if (op === OP_CALL) return useReg ? `callx r${dst}` : `call ${hex(imm)}`;
    if (op === OP_EXIT) return useReg ? '<unknown>' : 'exit';
    if (op === OP_JCOND) return useReg ? '<unknown>' : `may_goto ${jumpOffset(off)}`;
  }
  const cmp = JMP_OPS[op];
  if (cmp === undefined) return '<unknown>';
  const reg = (n: number): string => (narrow ? `w${n}` : `r${n}`);
  return `if ${reg(dst)} ${cmp} ${useReg ? reg(src) : hex(imm)} goto ${jumpOffset(off)}`;
}

/** Whether the instruction jumps (goto, gotol, conditional jumps, may_goto), and by how many slots. */
export function jumpDelta(insn: RawInstruction): number | undefined {
  const cls = insn.code & 7, op = insn.code >> 4;
  if (cls !== JMP && cls !== JMP32) return undefined;
  if (op === OP_CALL || op === OP_EXIT) return undefined;
  if (op === OP_JA && cls === JMP32) return insn.imm;
  if (op === OP_JCOND && cls === JMP32) return undefined;
  return insn.off;
}

export const isCall = (insn: RawInstruction): boolean => insn.code === (JMP | 0x80);
export const isWideLoad = (insn: RawInstruction): boolean => isWide(insn.code);

const HEX_BYTES: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

function hexBytes(bytes: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += i === from ? HEX_BYTES[bytes[i]!]! : ` ${HEX_BYTES[bytes[i]!]!}`;
  return s;
}

/** The raw fields behind each decoded instruction, kept beside it (not in its JSON). */
const RAW = new WeakMap<DisasmInstruction, RawInstruction>();

/**
 * Decodes instructions (8 bytes each; ld_imm64 16) into DisasmInstructions with LLVM text, jump
 * labels and helper names, but no relocation names (those need an object: see disassembleProgram).
 * A truncated last instruction or an ld_imm64 cut short decodes as '<unknown>'.
 */
export function decodeInstructions(bytes: Uint8Array, options: DisassembleOptions = {}): DisasmInstruction[] {
  const bigEndian = options.bigEndian ?? false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: DisasmInstruction[] = [];
  const count = Math.floor(bytes.length / INSN);
  for (let i = 0; i < count; i++) {
    const at = i * INSN;
    const insn = readInstruction(view, at, bigEndian);
    let size = INSN;
    let wideTruncated = false;
    if (isWide(insn.code)) {
      if (i + 1 < count) {
        insn.imm2 = readInstruction(view, at + INSN, bigEndian).imm;
        size = 2 * INSN;
      } else wideTruncated = true;
    }
    const llvm = wideTruncated ? '<unknown>' : llvmText(insn, options.alu32);
    const raw = hexBytes(bytes, at, at + size);
    const imm: number | string = insn.imm2 === undefined ? insn.imm : exactOrString(wideImmediate(insn));
    const decoded: DisasmInstruction = { index: i, offset: at, raw, text: llvm, llvm, opcode: insn.code, dst: insn.dst, src: insn.src, off: insn.off, imm };
    RAW.set(decoded, insn);
    out.push(decoded);
    if (size === 2 * INSN) i++;
  }
  if (bytes.length % INSN !== 0) {
    const at = count * INSN;
    out.push({ index: count, offset: at, raw: hexBytes(bytes, at, bytes.length), text: '<unknown>', llvm: '<unknown>', opcode: bytes[at]!, dst: 0, src: 0, off: 0, imm: 0 });
  }
  return out;
}

function exactOrString(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

/** The raw fields of a decoded instruction again (for annotation passes). */
export function rawOf(insn: DisasmInstruction): RawInstruction {
  const known = RAW.get(insn);
  if (known) return known;
  const imm = typeof insn.imm === 'string' ? BigInt(insn.imm) : BigInt(insn.imm);
  if (!isWide(insn.opcode)) return { code: insn.opcode, dst: insn.dst, src: insn.src, off: insn.off, imm: Number(BigInt.asIntN(32, imm)) };
  return {
    code: insn.opcode, dst: insn.dst, src: insn.src, off: insn.off,
    imm: Number(BigInt.asIntN(32, imm)), imm2: Number(BigInt.asIntN(32, imm >> 32n)),
  };
}

/** The kernel helper's name for a helper id, or undefined past the table. */
export function helperName(id: number): string | undefined {
  return id > 0 ? HELPER_NAMES[id] : undefined;
}
