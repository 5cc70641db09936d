// ebpf/inspect: what an eBPF ELF object holds, decoded by the WASM core. Imports no node: module
// and no native addon, so it runs in browsers (after `await loadCore()`) as well as in Node.
import { loadCore, setCoreSource } from './wasm/core.js';
import type { BtfOptions } from './elf/btf-link.js';
import { ElfError } from './elf/errors.js';
import { CoreObject } from './elf/open.js';
import type { MapSpec, ObjectInfo } from './elf/types.js';
import type { BtfType } from './btf/types.js';
import { renderCHeader as renderCHeaderImpl } from './btf/c-header.js';
import { openTargetBtf } from './btf/core-relo.js';
import { BtfLookup } from './btf/lookup.js';
import type { CoreRelocationResult } from './btf/types.js';

export { loadCore, setCoreSource, ElfError };
export type { BtfOptions as InspectOptions };
export type {
  Diagnostic, DiagnosticKind, MapOrigin, MapSpec as ElfMapSpec, ObjectInfo, ProgramSpec as ElfProgramSpec, RelocationInfo, RelocationKind,
  SectionInfo, SectionKind, SymbolBinding, SymbolInfo, SymbolType, U64,
} from './elf/types.js';
export type {
  BtfDatasecVar, BtfEnumValue, BtfExtSection, BtfInfo, BtfKind, BtfLinkage, BtfMember, BtfParam, BtfType,
  CoreRelocation, CoreRelocationKind, CoreRelocationResult, CoreRelocationStatus, FuncInfo, LineInfo, ProgramBtfExt,
} from './btf/types.js';
// The one name table of the kernel's type enums (bpftool's spelling), generated with the rest of the ABI.
export { ATTACH_TYPE_NAMES, LINK_TYPE_NAMES, MAP_TYPE_NAMES, PROGRAM_TYPE_NAMES, attachTypeName, linkTypeName, mapTypeName, programTypeName } from './sys/generated.js';

/**
 * Describes an eBPF ELF object (little- or big-endian, as clang -target bpf emits): sections,
 * symbols, programs, maps, global data, relocations, license, and BTF. Synchronous: in Node the
 * core loads on first use; in a browser call `await loadCore()` once before.
 * Throws ElfError (with `.status`) for malformed or unsupported input.
 */
export function inspect(bytes: Uint8Array, options: BtfOptions = {}): ObjectInfo {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('inspect() takes the object file as a Uint8Array');
  const object = CoreObject.open(bytes, options);
  object.close();
  return object.info;
}

/** The initial contents of a global-data map: a view into the bytes given to inspect(). */
export function mapInitialData(bytes: Uint8Array, map: MapSpec): Uint8Array | null {
  if (!map.initialData) return null;
  const { fileOffset, size } = map.initialData;
  return bytes.subarray(fileOffset, fileOffset + size);
}

// The pure first half of a load (System and MockSystem apply it): what would be created and loaded.
export { planLoad, type LoadPlan, type MapPlan, type ProgramPlan, type PlanTarget, type SystemLoadOptions } from './program/plan.js';

export {
  disassembleProgram, disassembleInstructions, disassembleSpec, formatDisassembly, helperName, HELPER_NAMES,
} from './disasm/index.js';
export type {
  DisasmCall, DisasmInstruction, DisasmReference, DisasmSource, DisassembleOptions, FormatOptions,
} from './disasm/index.js';
export { parseBtf, type ParsedBtf, BtfLookup, type BtfTypeHead } from './btf/index.js';
export { renderCHeader, btfAlignOf, btfSizeOf, type CHeaderOptions } from './btf/c-header.js';
export { formatBtfValue, stringifyBtfValue, type BtfValue, type FormatValueOptions } from './btf/value.js';
export { sectionContents, sectionSymbols, symbolAt, formatGlobalData } from './elf/view.js';

/**
 * One BTF type rendered as C with everything it needs declared first (forward declarations,
 * embedded types), as `bpftool btf dump ... format c` would print it on its own.
 */
export function renderBtfType(types: readonly BtfType[], id: number): string {
  return renderCHeaderImpl(types, { roots: [id], header: false });
}

/**
 * How the object's CO-RE relocations resolve against a target BTF (a kernel's: raw BTF such as
 * /sys/kernel/btf/vmlinux, or an ELF holding .BTF such as BTFHub's files), as libbpf resolves them
 * before a load: one result per .BTF.ext record, in record order, with the target type matched and
 * the value the instruction gets, or why it is poisoned (call 0xbad2310, as libbpf) or fails.
 * `moduleBtfs` (split BTFs of kernel modules, as /sys/kernel/btf/<module>, by module name) are
 * searched for a type the target has no candidate for, as libbpf searches them.
 * Pure computation: runs in browsers (after `await loadCore()`) and on any OS. Throws ElfError for
 * a malformed object or target.
 */
export function relocate(objectBytes: Uint8Array, targetBtfBytes: Uint8Array,
  moduleBtfs: Readonly<Record<string, Uint8Array>> = {}): CoreRelocationResult[] {
  if (!(objectBytes instanceof Uint8Array) || !(targetBtfBytes instanceof Uint8Array)) {
    throw new TypeError('relocate() takes objectBytes and targetBtfBytes as Uint8Arrays');
  }
  using object = CoreObject.open(objectBytes, { withoutC: true });
  if (object.coreRelocationCount === 0) return [];
  using target = openTargetBtf(targetBtfBytes);
  const modules = Object.entries(moduleBtfs).map(([name, bytes]) => ({ name, btf: BtfLookup.open(bytes, target) }));
  try {
    return object.coreRelocate(target, modules);
  } finally {
    for (const m of modules) m.btf.close();
  }
}

export { objectProblems, unloadableReason, type ObjectProblem, type ProblemSeverity } from './elf/problems.js';
