// CO-RE relocation results decoded from the WASM core (ebpf_object_core_relocate), and the target
// BTF a user gives: raw BTF or an ELF holding .BTF (as BTFHub's files are). Browser-safe.
import { RecordReader } from '../elf/decode.js';
import { ElfError } from '../elf/errors.js';
import type { CoreExports } from '../wasm/core.js';
import { BTF_KINDS, CORE_RELOCATION_KINDS } from './decode.js';
import { BtfLookup } from './lookup.js';
import type { CoreRelocationResult, CoreRelocationStatus } from './types.js';

const RESULT_SIZE = 104;
const NONE = 0xffffffff;
const STATUSES: readonly CoreRelocationStatus[] = ['relocated', 'poisoned', 'failed', 'skipped'];
const TYPE_SIZE = 40;

/** What decoding needs of the object: its functions' names and sections, its section names. */
export interface CoreResultContext {
  programs: ReadonlyArray<{ name: string; section: string }>;
  sections: ReadonlyArray<{ name: string } | undefined>;
  /** The names of the module BTFs given, in order. */
  modules: readonly string[];
}

/**
 * Decodes the ebpf_core_results at `ptr`; throws ElfError when the core refused the call as a whole
 * (no target, failed object).
 */
export function decodeCoreResults(core: CoreExports, ptr: number, btfInfo: number, context: CoreResultContext): CoreRelocationResult[] {
  const r = new RecordReader(core);
  const status = r.u32(ptr);
  if (status !== 0) throw new ElfError(r.str(ptr + 4), status);
  const out: CoreRelocationResult[] = [];
  const base = r.u32(ptr + 12), count = r.u32(ptr + 16);
  const types = btfInfo ? r.u32(btfInfo + 12) : 0;
  for (let i = 0; i < count; i++) {
    const at = base + i * RESULT_SIZE;
    const program = r.u32(at + 16), localTypeId = r.u32(at + 24), message = r.str(at + 56);
    const t = types + localTypeId * TYPE_SIZE;
    out.push({
      program: program === NONE ? undefined : context.programs[program]?.name,
      section: context.sections[r.u32(at + 8)]?.name ?? '',
      insn: program === NONE ? r.u32(at + 12) / 8 : r.u32(at + 20),
      kind: CORE_RELOCATION_KINDS[r.u32(at + 4)] ?? 'byte_off',
      localType: `${BTF_KINDS[r.u32(t + 8)] ?? 'void'} ${r.str(t) || '<anon>'}`,
      localTypeId,
      access: r.str(at + 32),
      localSpec: r.str(at + 40),
      targetTypeId: r.u32(at + 28),
      targetModule: r.u32(at + 96) === 0 ? undefined : context.modules[r.u32(at + 96) - 1],
      targetSpec: r.str(at + 48),
      candidates: r.u32(at + 88),
      status: STATUSES[r.u32(at)] ?? 'failed',
      originalValue: readU64(r, at + 64),
      value: readU64(r, at + 72),
      originalSize: r.u32(at + 80),
      size: r.u32(at + 84),
      reason: message === '' ? undefined : message,
    });
  }
  return out;
}

function readU64(r: RecordReader, at: number): bigint {
  return BigInt(r.u32(at)) | (BigInt(r.u32(at + 4)) << 32n);
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** The .BTF section of an ELF (64-bit, either byte order), or the bytes themselves when they are not an ELF. */
export function btfBytesOf(bytes: Uint8Array, where = 'target BTF'): Uint8Array {
  if (!ELF_MAGIC.every((b, i) => bytes[i] === b)) return bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => { throw new ElfError(`${where}: ${why}`, 1); };
  if (bytes.length < 64 || bytes[4] !== 2) fail('not a 64-bit ELF');
  const le = bytes[5] === 1;
  const shoff = Number(view.getBigUint64(40, le)), shentsize = view.getUint16(58, le), shnum = view.getUint16(60, le), shstrndx = view.getUint16(62, le);
  const header = (i: number): { name: number; offset: number; size: number } => {
    const at = shoff + i * shentsize;
    if (shentsize < 64 || at + 64 > bytes.length) fail(`section header ${i} lies outside the file`);
    return { name: view.getUint32(at, le), offset: Number(view.getBigUint64(at + 24, le)), size: Number(view.getBigUint64(at + 32, le)) };
  };
  if (shstrndx >= shnum) fail('no section name table');
  const names = header(shstrndx);
  const want = new TextEncoder().encode('.BTF\0');
  for (let i = 1; i < shnum; i++) {
    const h = header(i), at = names.offset + h.name;
    if (at + want.length > bytes.length || !want.every((b, k) => bytes[at + k] === b)) continue;
    if (h.offset + h.size > bytes.length) fail('.BTF lies outside the file');
    return bytes.subarray(h.offset, h.offset + h.size);
  }
  return fail('the ELF has no .BTF section');
}

/** Opens a target BTF for CO-RE from raw BTF or an ELF with .BTF; ElfError when malformed. */
export function openTargetBtf(bytes: Uint8Array, where?: string): BtfLookup {
  return BtfLookup.open(btfBytesOf(bytes, where));
}

/** A kernel module's BTF (split BTF, as /sys/kernel/btf/<module> holds) on top of the kernel's. */
export interface ModuleBtf {
  name: string;
  btf: BtfLookup;
}
