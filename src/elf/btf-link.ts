// Where inspect() hands the BTF part of an object to the BTF module (src/btf/).
import type { CoreExports } from '../wasm/core.js';
import { RecordReader } from './decode.js';
import type { ObjectInfo } from './types.js';
import { decodeBtf, decodeProgramBtfExt, renderTypesAsC } from '../btf/decode.js';

export interface BtfOptions {
  /** Include every BTF type (large): `ObjectInfo.btf.types`. */
  btfTypes?: boolean;
}

/** Adds `btf` (and per-program BTF.ext records) to `info` from the ebpf_btf_info at `btfPtr`. */
export function attachBtf(core: CoreExports, _reader: RecordReader, btfPtr: number, info: ObjectInfo,
  options: BtfOptions): void {
  info.btf = decodeBtf(core, btfPtr, options);
  if (!info.btf.hasExt) return;
  const r = new RecordReader(core); // rendering may have grown WASM memory
  for (const p of info.programs) {
    p.btfExt = decodeProgramBtfExt(r, btfPtr, { section: p.section, insnOffset: p.insnOffset, insnCount: p.insnCount });
  }
}

/** Every BTF type of an inspected object as C-like text, or undefined when there is none. */
export function renderBtfAsC(info: ObjectInfo): string | undefined {
  return info.btf ? renderTypesAsC(info.btf) : undefined;
}
