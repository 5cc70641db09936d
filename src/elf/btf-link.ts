// Where inspect() hands the BTF part of an object to the BTF module (src/btf/).
import type { CoreExports } from '../wasm/core.js';
import { RecordReader } from './decode.js';
import type { ObjectInfo, ProgramSpec } from './types.js';
import { decodeBtf, decodeProgramBtfExt, renderTypesAsC } from '../btf/decode.js';
import type { ProgramBtfExt } from '../btf/types.js';

export interface BtfOptions {
  /** Include every BTF type (large): `ObjectInfo.btf.types`. */
  btfTypes?: boolean;
}

/** Adds `btf` (and per-program BTF.ext records) to `info` from the ebpf_btf_info at `btfPtr`. */
export function attachBtf(core: CoreExports, reader: RecordReader, btfPtr: number, info: ObjectInfo,
  options: BtfOptions): void {
  info.btf = decodeBtf(core, btfPtr, options);
  if (!info.btf.hasExt) return;
  const r = new RecordReader(core, reader); // rendering may have grown WASM memory
  // One pass over each section's records, handed to its programs: reading them per program
  // would walk a section's records once for every program sharing it.
  const bySection = new Map<number, ProgramSpec[]>();
  for (const p of info.programs) {
    p.btfExt = { funcInfo: [], lineInfo: [], coreRelocations: [] };
    const list = bySection.get(p.sectionIndex);
    if (list) list.push(p);
    else bySection.set(p.sectionIndex, [p]);
  }
  for (const [index, programs] of bySection) {
    const section = info.sections[index]!;
    const all = decodeProgramBtfExt(r, btfPtr, { section: section.name, insnOffset: 0, insnCount: Math.floor(section.size / 8) });
    distribute(programs, all, 'funcInfo');
    distribute(programs, all, 'lineInfo');
    distribute(programs, all, 'coreRelocations');
  }
}

/** Moves each record (instruction index within the section) to the program holding it,
 *  re-based to the program's first instruction. `programs` are in instruction order. */
function distribute<K extends keyof ProgramBtfExt>(programs: ProgramSpec[], all: ProgramBtfExt, key: K): void {
  for (const rec of all[key]) {
    let lo = 0, hi = programs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (programs[mid]!.insnOffset / 8 <= rec.insn) lo = mid + 1;
      else hi = mid;
    }
    const p = programs[lo - 1];
    if (p === undefined) continue;
    const first = p.insnOffset / 8;
    if (rec.insn >= first + p.insnCount) continue;
    rec.insn -= first;
    (p.btfExt![key] as ProgramBtfExt[K][number][]).push(rec);
  }
}

/** Every BTF type of an inspected object as C-like text, or undefined when there is none. */
export function renderBtfAsC(info: ObjectInfo): string | undefined {
  return info.btf ? renderTypesAsC(info.btf) : undefined;
}
