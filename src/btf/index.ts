// src/btf: the BTF of eBPF objects, decoded by the WASM core. Browser-safe (no node: imports).
import { loadCoreSync } from '../wasm/core.js';
import { RecordReader } from '../elf/decode.js';
import { ElfError } from '../elf/errors.js';
import { btfReader, decodeBtf, decodeProgramsBtfExt, type ProgramExtent } from './decode.js';
import type { BtfInfo, ProgramBtfExt } from './types.js';

export * from './types.js';
export { BTF_KINDS, CORE_RELOCATION_KINDS, btfForKernel, btfReader, decodeBtf, decodeProgramsBtfExt, renderTypesAsC } from './decode.js';
export type { BtfDecodeOptions, ProgramExtent } from './decode.js';
export { BtfLookup, type BtfTypeHead } from './lookup.js';
export { formatBtfValue, stringifyBtfValue, type BtfValue, type FormatValueOptions } from './value.js';
export { renderCHeader, btfAlignOf, btfSizeOf, type CHeaderOptions } from './c-header.js';

const STATUS_NOMEM = 5;

/** A raw .BTF section (and optionally .BTF.ext) parsed on its own, with every type and, for
 *  each given program extent, its .BTF.ext records. */
export interface ParsedBtf {
  btf: BtfInfo;
  programs: ProgramBtfExt[];
}

/**
 * Parses the bytes of a .BTF section (either byte order) and, when given, of a .BTF.ext section,
 * without an ELF around them. Throws ElfError (status 2, BTF) for malformed input.
 */
export function parseBtf(btfBytes: Uint8Array, extBytes?: Uint8Array, programs: ProgramExtent[] = [], options: { withoutC?: boolean } = {}): ParsedBtf {
  const core = loadCoreSync();
  const total = btfBytes.length + (extBytes?.length ?? 0);
  const data = core.ebpf_alloc(total);
  if (!data) throw new ElfError(`out of WASM memory for ${total} bytes of BTF`, STATUS_NOMEM);
  let result = 0;
  try {
    const mem = new Uint8Array(core.memory.buffer);
    mem.set(btfBytes, data);
    if (extBytes) mem.set(extBytes, data + btfBytes.length);
    result = core.ebpf_btf_open(data, btfBytes.length, extBytes ? data + btfBytes.length : 0, extBytes?.length ?? 0);
    if (!result) throw new ElfError('out of WASM memory while reading BTF', STATUS_NOMEM);
    let r = new RecordReader(core);
    const status = r.u32(result);
    if (status !== 0) throw new ElfError(r.str(result + 4), status);
    const btfPtr = r.u32(result + 12);
    const btf = decodeBtf(core, btfPtr, { btfTypes: true, withoutC: options.withoutC ?? false });
    r = btfReader(core, btfPtr);
    return { btf, programs: decodeProgramsBtfExt(r, btfPtr, programs) };
  } finally {
    if (result) core.ebpf_btf_close(result);
    core.ebpf_free(data);
  }
}
