// Where inspect() hands the BTF part of an object to the BTF module (src/btf/).
import type { CoreExports } from '../wasm/core.js';
import { RecordReader } from './decode.js';
import type { ObjectInfo } from './types.js';
import { btfReader, decodeBtf, decodeProgramsBtfExt, renderTypesAsC } from '../btf/decode.js';

/** What `inspect()` decodes beyond the object's structure (BTF types, their C). */
export interface BtfOptions {
  /** Include every BTF type (large): `ObjectInfo.btf.types`. */
  btfTypes?: boolean;
  /** With btfTypes: leave each type's `c` empty (''); rendering C is most of the types' cost. */
  withoutC?: boolean;
  /** Include each program's .BTF.ext records (func info, line info, CO-RE relocations):
   *  `ProgramSpec.btfExt`. The core parses and checks them either way, and their counts per
   *  section are always in `ObjectInfo.btf.extSections`; this only builds the per-record objects,
   *  which for line info are most of what inspect() would otherwise allocate. */
  btfExt?: boolean;
}

/** Adds `btf` (and, when asked, per-program BTF.ext records) to `info` from the ebpf_btf_info at `btfPtr`. */
export function attachBtf(core: CoreExports, reader: RecordReader, btfPtr: number, info: ObjectInfo,
  options: BtfOptions): void {
  info.btf = decodeBtf(core, btfPtr, options, reader, info.sections);
  if (!options.btfExt || !info.btf.hasExt) return;
  const r = btfReader(core, btfPtr, reader); // after rendering, which may have grown WASM memory
  const exts = decodeProgramsBtfExt(r, btfPtr, info.programs);
  info.programs.forEach((p, i) => { p.btfExt = exts[i]!; });
}

/** Every BTF type of an inspected object as C-like text, or undefined when there is none. */
export function renderBtfAsC(info: ObjectInfo): string | undefined {
  return info.btf ? renderTypesAsC(info.btf) : undefined;
}
