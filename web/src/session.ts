// What the inspector page's worker does, apart from being a worker: holds the open object and
// answers the page's requests (open, disassemble, a type, a type as a header, a section's bytes).
// Every request is answered, with an error message when it cannot be; none throws. Testable in Node.
import {
  ElfError, disassembleSpec, formatDisassembly, formatGlobalData, inspect, mapInitialData, objectProblems, renderBtfType,
  sectionContents, stringifyBtfValue, type BtfType, type ObjectInfo,
} from '../../src/inspect.js';
import { referrers, summarize } from './btf.js';
import { DISASSEMBLY_PAGE, type ObjectModel, type Problem, type Request, type Response } from './protocol.js';
import type { DisasmInstruction } from '../../src/inspect.js';

const INITIAL_DATA_SHOWN = 4096;
const SECTION_BYTES_SHOWN = 4096;

export class InspectorSession {
  #current: {
    bytes: Uint8Array; info: ObjectInfo; types: BtfType[]; referrers?: number[][];
    /** The last program disassembled (a long one is asked for a page at a time). */
    disassembly?: { program: string; instructions: DisasmInstruction[] };
  } | undefined;

  /** The answer to a request (the core must be loaded). */
  handle(request: Request): Response {
    try {
      return this.#answer(request);
    } catch (e) {
      return { kind: 'error', id: request.id, message: describe(e) };
    }
  }

  #answer(request: Request): Response {
    if (request.kind === 'open') return { kind: 'opened', id: request.id, model: this.#open(request.name, new Uint8Array(request.bytes)) };
    const current = this.#current;
    if (!current) throw new Error('no object is open');
    switch (request.kind) {
      case 'type': {
        const type = current.types[request.typeId];
        if (!type) throw new Error(`no type ${request.typeId} in the object's BTF`);
        current.referrers ??= referrers(current.types);
        return { kind: 'type', id: request.id, result: { type, referredBy: current.referrers[request.typeId] ?? [] } };
      }
      case 'header':
        if (!current.types[request.typeId]) throw new Error(`no type ${request.typeId} in the object's BTF`);
        return { kind: 'header', id: request.id, text: renderBtfType(current.types, request.typeId) };
      case 'section': {
        const section = current.info.sections.find((x) => x.index === request.sectionIndex);
        if (!section) throw new Error(`no section ${request.sectionIndex}`);
        const contents = sectionContents(current.bytes, section);
        return { kind: 'section', id: request.id, bytes: contents ? contents.slice(0, SECTION_BYTES_SHOWN) : null, size: section.size };
      }
      case 'disassemble': {
        const spec = current.info.programs.find((p) => p.name === request.program);
        if (!spec) throw new Error(`no program '${request.program}' in the object`);
        if (current.disassembly?.program !== spec.name) {
          current.disassembly = { program: spec.name, instructions: disassembleSpec(current.bytes, current.info, spec) };
        }
        const all = current.disassembly.instructions;
        let start = 0;
        if (all.length > DISASSEMBLY_PAGE && request.at !== undefined) start = Math.floor(holding(all, request.at) / DISASSEMBLY_PAGE) * DISASSEMBLY_PAGE;
        const instructions = all.length > DISASSEMBLY_PAGE ? all.slice(start, start + DISASSEMBLY_PAGE) : all;
        return {
          kind: 'disassembled', id: request.id,
          result: {
            program: spec.name, instructions, start, total: all.length,
            text: formatDisassembly(instructions), textWithoutRaw: formatDisassembly(instructions, { raw: false }),
          },
        };
      }
    }
  }

  #open(name: string, bytes: Uint8Array): ObjectModel {
    const started = performance.now();
    this.#current = undefined;
    const info = inspect(bytes, { btfTypes: true, btfExt: true });
    const problems: Problem[] = objectProblems(bytes).map((p) => {
      const subject = p.program !== undefined ? `program/${encodeURIComponent(p.program)}`
        : p.map !== undefined ? `map/${encodeURIComponent(p.map)}` : p.sectionIndex !== undefined ? `section/${p.sectionIndex}` : undefined;
      return { severity: p.severity, message: p.message, ...(subject ? { subject } : {}) };
    });
    const initialData: Record<number, Uint8Array> = {};
    const mapTypes: Record<number, BtfType> = {};
    const globalData: Record<number, string> = {};
    const types = info.btf?.types ?? [];
    for (const map of info.maps) {
      const data = mapInitialData(bytes, map);
      if (data) initialData[map.index] = data.slice(0, INITIAL_DATA_SHOWN);
      for (const id of [map.keyTypeId, map.valueTypeId]) if (types[id]) mapTypes[id] = types[id];
      if (['data', 'rodata', 'bss', 'kconfig'].includes(map.origin)) {
        try {
          const value = formatGlobalData(bytes, info, map);
          if (value !== undefined) globalData[map.index] = stringifyBtfValue(value, 2);
        } catch {
          // Shown as bytes only: a DATASEC the formatter cannot follow is no reason to refuse the object.
        }
      }
    }
    // The disassembler spells out CO-RE accessors (struct task_struct.pid); the tables show the same.
    const coreAccess: Record<number, string[]> = {};
    for (const p of info.programs) {
      const relocations = p.btfExt?.coreRelocations ?? [];
      if (!relocations.length) continue;
      const specs = new Map(disassembleSpec(bytes, info, p).filter((i) => i.core).map((i) => [i.index, i.core!.spec] as const));
      coreAccess[p.index] = relocations.map((r) => specs.get(r.insn) ?? r.access);
    }
    // The types stay here: only a summary crosses to the page, so a kernel-sized BTF does not stall it.
    this.#current = { bytes, info, types };
    const btf = info.btf ? summarize(types) : undefined;
    const shown: ObjectInfo = { ...info };
    if (info.btf) {
      shown.btf = { ...info.btf };
      delete shown.btf.types;
    }
    return {
      name, size: bytes.length, info: shown, ...(btf ? { btf } : {}), mapTypes, coreAccess, globalData, problems, initialData,
      parseMs: performance.now() - started,
    };
  }
}

/** The position of the instruction holding slot `at` (an ld_imm64's second slot: the ld_imm64). */
function holding(insns: readonly DisasmInstruction[], at: number): number {
  let low = 0, high = insns.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (insns[mid]!.index <= at) low = mid;
    else high = mid - 1;
  }
  return low;
}

function describe(e: unknown): string {
  if (e instanceof ElfError) return `${e.message} (${e.statusName})`;
  return e instanceof Error ? e.message : String(e);
}
