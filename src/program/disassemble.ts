// A loaded program's disassembly as `bpftool prog dump xlated` shows it: the kernel's rewritten
// (xlated) instructions from BPF_OBJ_GET_INFO_BY_FD, with maps named by id, helpers named through
// /proc/kallsyms (the kernel keeps their addresses relative to __bpf_call_base), kfuncs through the
// kernel's BTF, functions and source lines from the program's BTF func_info and line_info.
import { readFileSync } from 'node:fs';
import { annotateFlow } from '../disasm/annotate.js';
import { decodeInstructions } from '../disasm/decode.js';
import type { DisasmInstruction } from '../disasm/types.js';
import { BtfLookup } from '../btf/lookup.js';
import { parseBtf } from '../btf/index.js';
import { getFdById, objGetInfoByFd, setPointers, type FD } from '../sys/bpf.js';
import { SyscallError } from '../sys/errors.js';
import { BTF_INFO, PROG_INFO } from '../sys/generated.js';
import { nullTerminatedStringToString } from '../map/keyvalue.js';
import { MAP_INFO } from '../map/attr.js';

type FdLike = number | FD;

/** A loaded program's instructions as the kernel holds them, named. */
export interface LoadedDisassembly {
  instructions: DisasmInstruction[];
  /** Bytes of the xlated instructions and of the JIT's machine code (0 without JIT or rights). */
  xlatedLength: number;
  jitedLength: number;
  /** Functions (the program and its subprograms) by first instruction index, named from BTF func_info. */
  functions: LoadedFunction[];
}

/** A function of a loaded program (from its BTF func_info). */
export interface LoadedFunction {
  /** Its first instruction. */
  index: number;
  name: string;
  /** Its C prototype, as the program's BTF has it ("int socket_snap(struct __sk_buff *skb)"). */
  prototype?: string;
}

interface ProgInfoSizes {
  xlated: number;
  jited: number;
  btfId: number;
  nrFuncInfo: number;
  funcInfoRecSize: number;
  nrLineInfo: number;
  lineInfoRecSize: number;
}

function infoSizes(fd: FdLike): ProgInfoSizes {
  const info = new Uint8Array(PROG_INFO.SIZE);
  objGetInfoByFd(fd, info);
  const v = new DataView(info.buffer);
  const u32 = (f: { offset: number }): number => v.getUint32(f.offset, true);
  return {
    xlated: u32(PROG_INFO.xlated_prog_len), jited: u32(PROG_INFO.jited_prog_len), btfId: u32(PROG_INFO.btf_id),
    nrFuncInfo: u32(PROG_INFO.nr_func_info), funcInfoRecSize: u32(PROG_INFO.func_info_rec_size),
    nrLineInfo: u32(PROG_INFO.nr_line_info), lineInfoRecSize: u32(PROG_INFO.line_info_rec_size),
  };
}

/** The raw BTF (types and strings) of the BTF object with this id. */
export function btfBytesById(id: number): Uint8Array {
  using fd = getFdById('btf', id);
  return btfBytes(fd);
}

function btfBytes(fd: FdLike): Uint8Array {
  const info = new Uint8Array(BTF_INFO.SIZE);
  objGetInfoByFd(fd, info);
  const size = new DataView(info.buffer).getUint32(BTF_INFO.btf_size.offset, true);
  const bytes = new Uint8Array(size);
  const again = new Uint8Array(BTF_INFO.SIZE);
  new DataView(again.buffer).setUint32(BTF_INFO.btf_size.offset, size, true);
  setPointers(again, BTF_INFO.btf.offset, bytes);
  objGetInfoByFd(fd, again);
  return bytes;
}

/** A BTF blob's string at offset (the kernel's BTF is in host byte order). */
function btfString(bytes: Uint8Array, offset: number): string {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hdrLen = v.getUint32(4, true), strOff = v.getUint32(16, true), strLen = v.getUint32(20, true);
  const start = hdrLen + strOff + offset;
  if (offset >= strLen) return '';
  let end = start;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(start, end));
}

let kallsyms: { base: bigint; byAddress: Map<bigint, string> } | null | undefined;

/** /proc/kallsyms read once: the helper functions' names by address (null when unreadable or hidden). */
function kernelSymbols(): { base: bigint; byAddress: Map<bigint, string> } | null {
  if (kallsyms !== undefined) return kallsyms;
  kallsyms = null;
  let text: string;
  try {
    text = readFileSync('/proc/kallsyms', 'utf8');
  } catch {
    return null;
  }
  const byAddress = new Map<bigint, string>();
  let base: bigint | undefined;
  for (const line of text.split('\n')) {
    const first = line.indexOf(' ');
    if (first < 0) continue;
    const type = line[first + 1];
    if (type !== 'T' && type !== 't') continue;
    const rest = line.slice(first + 3);
    const tab = rest.indexOf('\t');
    const name = tab < 0 ? rest : rest.slice(0, tab);
    const address = BigInt(`0x${line.slice(0, first)}`);
    if (address === 0n) return null; // kptr_restrict hides the addresses
    if (!byAddress.has(address)) byAddress.set(address, name);
    if (name === '__bpf_call_base') base = address;
  }
  if (base === undefined) return null;
  kallsyms = { base, byAddress };
  return kallsyms;
}

/** The kernel function a helper call's imm (relative to __bpf_call_base) lands on. */
function helperByImm(imm: number): string | undefined {
  const syms = kernelSymbols();
  return syms?.byAddress.get(syms.base + BigInt(imm));
}

function mapNameById(id: number): string | undefined {
  try {
    using fd = getFdById('map', id);
    const info = new Uint8Array(MAP_INFO.SIZE);
    objGetInfoByFd(fd, info);
    return nullTerminatedStringToString(info.subarray(MAP_INFO.name, MAP_INFO.name + MAP_INFO.nameLen)) || undefined;
  } catch (e) {
    if (e instanceof SyscallError) return undefined;
    throw e;
  }
}

let vmlinux: BtfLookup | null | undefined;
function kernelBtf(): BtfLookup | null {
  if (vmlinux !== undefined) return vmlinux;
  try {
    vmlinux = BtfLookup.open(readFileSync('/sys/kernel/btf/vmlinux'));
  } catch {
    vmlinux = null;
  }
  return vmlinux;
}

/**
 * Disassembles the program behind fd as the kernel holds it (BPF_OBJ_GET_INFO_BY_FD's xlated
 * instructions, func_info and line_info), naming maps `map[id:N]`-style by their kernel name,
 * helpers (through /proc/kallsyms), kfuncs (through the kernel's BTF), functions and source lines
 * (through the program's BTF), as `bpftool prog dump xlated` does.
 */
export function disassembleLoaded(fd: FdLike): LoadedDisassembly {
  const sizes = infoSizes(fd);
  const xlated = new Uint8Array(sizes.xlated);
  const funcInfo = new Uint8Array(sizes.nrFuncInfo * sizes.funcInfoRecSize);
  const lineInfo = new Uint8Array(sizes.nrLineInfo * sizes.lineInfoRecSize);
  const info = new Uint8Array(PROG_INFO.SIZE);
  const v = new DataView(info.buffer);
  const pointers: Array<number | Uint8Array> = [];
  if (xlated.length) {
    v.setUint32(PROG_INFO.xlated_prog_len.offset, xlated.length, true);
    pointers.push(PROG_INFO.xlated_prog_insns.offset, xlated);
  }
  if (funcInfo.length) {
    v.setUint32(PROG_INFO.nr_func_info.offset, sizes.nrFuncInfo, true);
    v.setUint32(PROG_INFO.func_info_rec_size.offset, sizes.funcInfoRecSize, true);
    pointers.push(PROG_INFO.func_info.offset, funcInfo);
  }
  if (lineInfo.length) {
    v.setUint32(PROG_INFO.nr_line_info.offset, sizes.nrLineInfo, true);
    v.setUint32(PROG_INFO.line_info_rec_size.offset, sizes.lineInfoRecSize, true);
    pointers.push(PROG_INFO.line_info.offset, lineInfo);
  }
  if (pointers.length) setPointers(info, ...pointers);
  objGetInfoByFd(fd, info);
  const xlatedLength = v.getUint32(PROG_INFO.xlated_prog_len.offset, true);
  const insns = decodeInstructions(xlated.subarray(0, Math.min(xlatedLength, xlated.length)), { mapImmediate: 'id' });

  // Functions and lines from the program's BTF.
  const functions: LoadedFunction[] = [];
  let btf: Uint8Array | undefined;
  if (sizes.btfId && (funcInfo.length || lineInfo.length)) {
    btf = btfBytesById(sizes.btfId);
    const types = parseBtf(btf).btf.types ?? [];
    const fi = new DataView(funcInfo.buffer);
    for (let i = 0; i < sizes.nrFuncInfo; i++) {
      const at = i * sizes.funcInfoRecSize;
      const index = fi.getUint32(at, true), func = types[fi.getUint32(at + 4, true)];
      functions.push({ index, name: func?.name || `func_${index}`, ...(func?.c ? { prototype: func.c.replace(/;$/, '') } : {}) });
    }
  }
  const names = new Map<number, string>(functions.map((f) => [f.index, f.name]));
  const mapNames = new Map<number, string | undefined>();
  annotateFlow(insns, {
    mapImmediate: 'id', xlated: true,
    mapName: (id) => {
      if (!mapNames.has(id)) mapNames.set(id, mapNameById(id));
      return mapNames.get(id);
    },
    helperName: helperByImm,
    kfuncName: (id) => kernelBtf()?.type(id)?.name || undefined,
  }, names);
  if (btf) {
    const li = new DataView(lineInfo.buffer);
    const bySlot = new Map(insns.map((insn) => [insn.index, insn]));
    for (let i = 0; i < sizes.nrLineInfo; i++) {
      const at = i * sizes.lineInfoRecSize;
      const insn = bySlot.get(li.getUint32(at, true));
      if (!insn) continue;
      const lineCol = li.getUint32(at + 12, true);
      const text = btfString(btf, li.getUint32(at + 8, true));
      insn.source = { file: btfString(btf, li.getUint32(at + 4, true)), line: lineCol >>> 10, column: lineCol & 0x3ff, ...(text ? { text } : {}) };
    }
  }
  return { instructions: insns, xlatedLength, jitedLength: v.getUint32(PROG_INFO.jited_prog_len.offset, true), functions };
}

/** The program with this id, disassembled (see disassembleLoaded). */
export function disassembleProgramById(id: number): LoadedDisassembly {
  using fd = getFdById('prog', id);
  return disassembleLoaded(fd);
}
