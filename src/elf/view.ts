// A section and symbol view of an inspected object, for tools that show an object's contents
// (the inspector page, the CLI): a section's bytes, its symbols in address order, the symbol
// holding an offset, and a global-data map's initial contents formatted through BTF. Browser-safe.
import type { BtfType } from '../btf/types.js';
import { formatBtfValue, type BtfValue } from '../btf/value.js';
import type { MapSpec, ObjectInfo, SectionInfo, SymbolInfo } from './types.js';

const SHT_NOBITS = 8;

/** A section's bytes as a view into the inspected bytes; null for SHT_NOBITS (.bss) and out-of-range sections. */
export function sectionContents(bytes: Uint8Array, section: SectionInfo): Uint8Array | null {
  if (section.type === SHT_NOBITS || section.offset + section.size > bytes.length) return null;
  return bytes.subarray(section.offset, section.offset + section.size);
}

/** The named symbols defined in a section, by address (then name). */
export function sectionSymbols(info: ObjectInfo, sectionIndex: number): SymbolInfo[] {
  return info.symbols
    .filter((s) => s.section === sectionIndex && s.name !== '' && s.type !== 'section')
    .sort((a, b) => Number(a.value) - Number(b.value) || a.name.localeCompare(b.name));
}

/** The symbol of a section whose [value, value + size) holds `offset` (or, for sizeless ones, starts there). */
export function symbolAt(info: ObjectInfo, sectionIndex: number, offset: number): SymbolInfo | undefined {
  let best: SymbolInfo | undefined;
  for (const s of sectionSymbols(info, sectionIndex)) {
    const start = Number(s.value), size = Number(s.size);
    if (start > offset) break;
    if (offset < start + size || (size === 0 && start === offset)) best = s;
  }
  return best;
}

/**
 * A global-data map's (.data, .rodata, .bss, .kconfig) contents formatted through the object's BTF
 * as `bpftool map dump` shows them: `{ ".rodata": [{ "snap_len": 64 }, ...] }`. Each variable is
 * placed by its symbol (the compiler leaves the DATASEC offsets for the loader to fill in). Needs
 * `inspect(bytes, { btfTypes: true })`; undefined without BTF or a DATASEC for the map.
 */
export function formatGlobalData(bytes: Uint8Array, info: ObjectInfo, map: MapSpec): BtfValue | undefined {
  const types = info.btf?.types;
  if (!types) return undefined;
  const datasec = types.find((t) => t.kind === 'datasec' && t.name === map.name);
  if (!datasec) return undefined;
  const data = new Uint8Array(map.valueSize);
  if (map.initialData) data.set(bytes.subarray(map.initialData.fileOffset, map.initialData.fileOffset + Math.min(map.initialData.size, map.valueSize)));
  const symbols = new Map(info.symbols.filter((s) => s.section === map.sectionIndex).map((s) => [s.name, Number(s.value)]));
  const bigEndian = info.endian === 'big';
  const vars = (datasec.vars ?? []).map((v) => {
    const variable: BtfType | undefined = types[v.type];
    const offset = (variable && symbols.get(variable.name)) ?? v.offset;
    return formatBtfValue(types, v.type, data.subarray(offset, offset + Math.max(v.size, 0) || undefined), { bigEndian });
  });
  return { [datasec.name]: vars };
}
