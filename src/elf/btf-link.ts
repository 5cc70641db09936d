// Where inspect() hands the BTF part of an object to the BTF module (src/btf/, helper "btf").
// Until that module is merged, objects are described without their BTF.
import type { CoreExports } from '../wasm/core.js';
import type { RecordReader } from './decode.js';
import type { ObjectInfo } from './types.js';

export interface BtfOptions {
  /** Include every BTF type (large): `ObjectInfo.btf.types`. */
  btfTypes?: boolean;
}

/** Adds `btf` (and per-program BTF.ext records) to `info` from the ebpf_btf_info at `btfPtr`. */
export function attachBtf(_core: CoreExports, _reader: RecordReader, _btfPtr: number, _info: ObjectInfo,
  _options: BtfOptions): void {
  // The BTF module is not merged yet: nothing to add.
}

/** Every BTF type of an inspected object as C-like text, or undefined when there is none. */
export function renderBtfAsC(_info: ObjectInfo): string | undefined {
  return undefined;
}
