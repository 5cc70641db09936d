// A tiny eBPF assembler for tests: builds raw little-endian instructions so kernel tests can load real
// programs without an ELF object. Only what tests use; not part of the library.

/** Register numbers r0..r10 (r10 is the read-only frame pointer). */
export type Reg = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;
export type Size = 'b' | 'h' | 'w' | 'dw';

const SIZE_BITS: Record<Size, number> = { w: 0x00, h: 0x08, b: 0x10, dw: 0x18 };
const BPF_LD = 0x00, BPF_LDX = 0x01, BPF_ST = 0x02, BPF_STX = 0x03, BPF_JMP = 0x05, BPF_ALU64 = 0x07;
const BPF_K = 0x00, BPF_X = 0x08, BPF_IMM = 0x00, BPF_MEM = 0x60, BPF_ATOMIC = 0xc0;
const ALU = { add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70, mov: 0xb0 } as const;
const JMP = { ja: 0x00, jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40, jne: 0x50, jsgt: 0x60, jsge: 0x70, jlt: 0xa0, jle: 0xb0 } as const;
export type AluOp = keyof typeof ALU;
export type JmpOp = keyof typeof JMP;

/** BPF_PSEUDO_MAP_FD: ld_imm64's src_reg saying imm is a map fd. */
export const PSEUDO_MAP_FD = 1;
/** Helper ids (enum bpf_func_id). */
export const Helper = { mapLookupElem: 1, mapUpdateElem: 2, ktimeGetNs: 5, getSmpProcessorId: 8 } as const;
/** XDP actions. */
export const XDP = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;

/** One instruction (or two, for ld_imm64) as bytes. */
export type Insn = Uint8Array;

function insn(opcode: number, dst: number, src: number, off: number, imm: number): Insn {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, opcode);
  view.setUint8(1, (src << 4) | dst);
  view.setInt16(2, off, true);
  view.setInt32(4, imm, true);
  return bytes;
}

/** dst = imm (64-bit). */
export const movImm = (dst: Reg, imm: number): Insn => insn(BPF_ALU64 | ALU.mov | BPF_K, dst, 0, 0, imm);
/** dst = src (64-bit). */
export const movReg = (dst: Reg, src: Reg): Insn => insn(BPF_ALU64 | ALU.mov | BPF_X, dst, src, 0, 0);
/** dst op= imm (64-bit). */
export const aluImm = (op: AluOp, dst: Reg, imm: number): Insn => insn(BPF_ALU64 | ALU[op] | BPF_K, dst, 0, 0, imm);
/** dst op= src (64-bit). */
export const aluReg = (op: AluOp, dst: Reg, src: Reg): Insn => insn(BPF_ALU64 | ALU[op] | BPF_X, dst, src, 0, 0);
/** dst = *(size *)(src + off). */
export const ldx = (size: Size, dst: Reg, src: Reg, off: number): Insn => insn(BPF_LDX | BPF_MEM | SIZE_BITS[size], dst, src, off, 0);
/** *(size *)(dst + off) = src. */
export const stx = (size: Size, dst: Reg, off: number, src: Reg): Insn => insn(BPF_STX | BPF_MEM | SIZE_BITS[size], dst, src, off, 0);
/** *(size *)(dst + off) = imm. */
export const st = (size: Size, dst: Reg, off: number, imm: number): Insn => insn(BPF_ST | BPF_MEM | SIZE_BITS[size], dst, 0, off, imm);
/** lock *(size *)(dst + off) += src (BPF_ATOMIC BPF_ADD); size 'w' or 'dw'. */
export const atomicAdd = (size: 'w' | 'dw', dst: Reg, off: number, src: Reg): Insn => insn(BPF_STX | BPF_ATOMIC | SIZE_BITS[size], dst, src, off, 0);
/** if dst op imm goto +off. */
export const jmpImm = (op: JmpOp, dst: Reg, imm: number, off: number): Insn => insn(BPF_JMP | JMP[op] | BPF_K, dst, 0, off, imm);
/** if dst op src goto +off. */
export const jmpReg = (op: JmpOp, dst: Reg, src: Reg, off: number): Insn => insn(BPF_JMP | JMP[op] | BPF_X, dst, src, off, 0);
/** goto +off. */
export const ja = (off: number): Insn => insn(BPF_JMP | JMP.ja, 0, 0, off, 0);
/** call helper. */
export const call = (helper: number): Insn => insn(BPF_JMP | 0x80, 0, 0, 0, helper);
export const exit = (): Insn => insn(BPF_JMP | 0x90, 0, 0, 0, 0);

/** dst = imm64 (two instruction slots); src 1 (PSEUDO_MAP_FD) makes imm a map fd. */
export function ldImm64(dst: Reg, imm: bigint, src = 0): Insn {
  const value = BigInt.asUintN(64, imm);
  const bytes = new Uint8Array(16);
  bytes.set(insn(BPF_LD | BPF_IMM | SIZE_BITS.dw, dst, src, 0, Number(BigInt.asIntN(32, value))), 0);
  bytes.set(insn(0, 0, 0, 0, Number(BigInt.asIntN(32, value >> 32n))), 8);
  return bytes;
}

/** dst = the map with this fd (ld_imm64 with BPF_PSEUDO_MAP_FD). */
export const ldMapFd = (dst: Reg, mapFd: number): Insn => ldImm64(dst, BigInt(mapFd), PSEUDO_MAP_FD);

/** Concatenates instructions into one program. */
export function program(...insns: Insn[]): Uint8Array {
  const out = new Uint8Array(insns.reduce((n, i) => n + i.byteLength, 0));
  let at = 0;
  for (const i of insns) {
    out.set(i, at);
    at += i.byteLength;
  }
  return out;
}

/** The canned programs the kernel tests load. */
export const programs = {
  /** XDP: returns `action` for every packet. */
  xdpReturn: (action: number): Uint8Array => program(movImm(0, action), exit()),

  /** XDP: drops IPv4 frames (ethertype 0x0800), passes everything else, passes runts. */
  xdpDropIpv4: (): Uint8Array =>
    program(
      ldx('w', 2, 1, 0), // r2 = ctx->data
      ldx('w', 3, 1, 4), // r3 = ctx->data_end
      movReg(4, 2),
      aluImm('add', 4, 14),
      jmpReg('jgt', 4, 3, 4), // ethernet header beyond data_end: pass
      ldx('h', 5, 2, 12), // r5 = ethertype, network order, read little-endian
      jmpImm('jne', 5, 0x0008, 2),
      movImm(0, XDP.DROP),
      exit(),
      movImm(0, XDP.PASS),
      exit(),
    ),

  /** TC classifier: returns skb->mark (struct __sk_buff offset 8) as its verdict. */
  tcReturnMark: (): Uint8Array => program(ldx('w', 0, 1, 8), exit()),

  /** Socket filter: keeps the whole packet (returns skb->len). */
  socketKeepAll: (): Uint8Array => program(ldx('w', 0, 1, 0), exit()),

  /** XDP: adds 1 to the u64 at key 0 of the array map with fd mapFd, then passes. */
  xdpCount: (mapFd: number): Uint8Array =>
    program(
      st('w', 10, -4, 0), // key = 0 on the stack
      movReg(2, 10),
      aluImm('add', 2, -4),
      ldMapFd(1, mapFd),
      call(Helper.mapLookupElem),
      jmpImm('jeq', 0, 0, 2),
      movImm(1, 1),
      atomicAdd('dw', 0, 0, 1),
      movImm(0, XDP.PASS),
      exit(),
    ),

  /** Rejected by the verifier: reads r2, which nothing initialised. */
  readsUninitialisedRegister: (): Uint8Array => program(movImm(0, 0), movReg(0, 2), exit()),

  /** Rejected by the verifier: writes below the 512-byte stack. */
  writesBelowStack: (): Uint8Array => program(movImm(0, 0), st('dw', 10, -520, 1), exit()),
};
