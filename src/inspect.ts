// ebpf/inspect: what an eBPF ELF object holds, decoded by the WASM core. Imports no node: module
// and no native addon, so it runs in browsers (after `await loadCore()`) as well as in Node.
import { loadCore, loadCoreSync, setCoreSource } from './wasm/core.js';
import { RecordReader, btfInfoPointer, decodeObjectInfo, objectStatus } from './elf/decode.js';
import { attachBtf, type BtfOptions } from './elf/btf-link.js';
import { ElfError } from './elf/errors.js';
import type { MapSpec, ObjectInfo } from './elf/types.js';

export { loadCore, setCoreSource, ElfError };
export type { BtfOptions as InspectOptions };
export type {
  Diagnostic, DiagnosticKind, MapOrigin, MapSpec, ObjectInfo, ProgramSpec, RelocationInfo, RelocationKind,
  SectionInfo, SectionKind, SymbolBinding, SymbolInfo, SymbolType, U64,
} from './elf/types.js';
export type {
  BtfDatasecVar, BtfEnumValue, BtfExtSection, BtfInfo, BtfKind, BtfLinkage, BtfMember, BtfParam, BtfType,
  CoreRelocation, CoreRelocationKind, FuncInfo, LineInfo, ProgramBtfExt,
} from './btf/types.js';
export { ATTACH_TYPE_NAMES, MAP_TYPE_NAMES, PROGRAM_TYPE_NAMES } from './elf/names.js';

const STATUS_NOMEM = 5;

/**
 * Describes an eBPF ELF object (little- or big-endian, as clang -target bpf emits): sections,
 * symbols, programs, maps, global data, relocations, license, and BTF. Synchronous: in Node the
 * core loads on first use; in a browser call `await loadCore()` once before.
 * Throws ElfError (with `.status`) for malformed or unsupported input.
 */
export function inspect(bytes: Uint8Array, options: BtfOptions = {}): ObjectInfo {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('inspect: bytes must be a Uint8Array');
  const core = loadCoreSync();
  const data = core.ebpf_alloc(bytes.length);
  if (!data) throw new ElfError(`out of WASM memory for a ${bytes.length}-byte object`, STATUS_NOMEM);
  let obj = 0;
  try {
    new Uint8Array(core.memory.buffer, data, bytes.length).set(bytes);
    obj = core.ebpf_object_open(data, bytes.length);
    if (!obj) throw new ElfError(`out of WASM memory while reading a ${bytes.length}-byte object`, STATUS_NOMEM);
    const infoPtr = core.ebpf_object_get_info(obj);
    const reader = new RecordReader(core); // after the calls: memory may have grown
    const { status, message } = objectStatus(reader, infoPtr);
    if (status !== 0) throw new ElfError(message, status);
    const info = decodeObjectInfo(reader, infoPtr);
    const btf = btfInfoPointer(reader, infoPtr);
    if (btf) attachBtf(core, reader, btf, info, options);
    return info;
  } finally {
    if (obj) core.ebpf_object_close(obj);
    core.ebpf_free(data);
  }
}

/** The initial contents of a global-data map: a view into the bytes given to inspect(). */
export function mapInitialData(bytes: Uint8Array, map: MapSpec): Uint8Array | null {
  if (!map.initialData) return null;
  const { fileOffset, size } = map.initialData;
  return bytes.subarray(fileOffset, fileOffset + size);
}
