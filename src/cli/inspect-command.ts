// `ebpf inspect FILE.o [--disasm [--program NAME]] [--btf] [--core [--btf-file PATH]] [--json]`: an
// object's programs, maps, global data, relocations, license and diagnostics as tables; the
// ObjectInfo as JSON; its BTF as a C header (or its types as JSON); its programs disassembled; or
// how its CO-RE relocations resolve against a kernel's BTF.
import { describeProgram } from '../sys/describe.js';
import { ElfError, disassembleSpec, formatDisassembly, inspect, relocate, renderCHeader, type CoreRelocationResult, type ObjectInfo } from '../inspect.js';
import { UsageError, toJson } from './args.js';
import { formatTable } from './table.js';

const hex = (n: number): string => `0x${n.toString(16)}`;
const dash = (v: string | number | null | undefined): string => (v === null || v === undefined || v === '' ? '-' : String(v));

export function renderTables(file: string, info: ObjectInfo): string {
  const out: string[] = [];
  const progs = info.programs.filter((p) => !p.subprogram);
  const subs = info.programs.filter((p) => p.subprogram);
  out.push(`${file}: ${info.endian}-endian eBPF object, license ${info.license === null ? '-' : JSON.stringify(info.license)}` +
    (info.kernelVersion === null ? '' : `, kernel version ${hex(info.kernelVersion)}`));

  out.push('', `Programs (${progs.length})`);
  out.push(formatTable(['NAME', 'SECTION', 'TYPE', 'ATTACH', 'TARGET', 'INSNS', 'RELOCS'],
    progs.map((p) => [p.name, p.section, p.typeName + (p.retprobe ? ' (return)' : ''), dash(p.expectedAttachTypeName),
      dash(p.attachTarget), String(p.insnCount), String(p.relocationCount)])));
  if (subs.length) {
    out.push('', `Subprograms (${subs.length})`);
    out.push(formatTable(['NAME', 'SECTION', 'INSNS', 'RELOCS'],
      subs.map((p) => [p.name, p.section, String(p.insnCount), String(p.relocationCount)])));
  }

  const isData = (origin: string): boolean => ['data', 'rodata', 'bss', 'kconfig'].includes(origin);
  const maps = info.maps.filter((m) => !isData(m.origin));
  out.push('', `Maps (${maps.length})`);
  out.push(formatTable(['NAME', 'TYPE', 'KEY', 'VALUE', 'MAX', 'FLAGS', 'PINNING', 'INNER', 'PATH', 'ORIGIN'],
    maps.map((m) => [m.name, m.typeName, String(m.keySize), String(m.valueSize), String(m.maxEntries), hex(m.flags),
      String(m.pinning), m.innerMap === null ? '-' : info.maps[m.innerMap]?.name ?? String(m.innerMap),
      dash(m.persistentPath), m.origin + (m.innerTemplate ? ' (inner template)' : '')])));

  const data = info.maps.filter((m) => isData(m.origin));
  out.push('', `Global data (${data.length})`);
  out.push(formatTable(['NAME', 'KIND', 'SIZE', 'FLAGS', 'INITIALIZED'],
    data.map((m) => [m.name, m.origin, String(m.valueSize), hex(m.flags), m.initialData ? 'yes' : 'no'])));

  out.push('', `Relocations (${info.relocations.length})`);
  out.push(formatTable(['SECTION', 'OFFSET', 'PROGRAM', 'KIND', 'SYMBOL', 'TARGET'],
    info.relocations.map((r) => {
      let target = '-';
      if (r.map !== null) target = `map ${info.maps[r.map]?.name ?? r.map}` + (r.kind === 'data' ? ` +${r.targetOffset}` : '');
      else if (r.targetProgram !== null) target = `program ${info.programs[r.targetProgram]?.name ?? r.targetProgram}`;
      else if (r.kind === 'extern') target = 'extern';
      return [r.section, String(r.offset), r.program === null ? '-' : info.programs[r.program]?.name ?? '-', r.kind,
        r.symbol, target];
    })));

  if (info.diagnostics.length) {
    out.push('', `Diagnostics (${info.diagnostics.length})`);
    for (const d of info.diagnostics) out.push(`  ${d.kind}: ${d.message}`);
  }
  return out.join('\n');
}

/** The CO-RE table: one row per relocation, then why each poisoned or failed one is so. */
export function renderCoreTable(file: string, target: string, results: readonly CoreRelocationResult[]): string {
  const out = [`${file}: ${results.length} CO-RE relocation(s) against ${target}`];
  if (results.length === 0) return out[0]!;
  const value = (r: CoreRelocationResult): string => {
    if (r.status === 'failed' || r.status === 'skipped') return '-';
    const sizes = r.originalSize !== r.size ? ` (load ${r.originalSize} -> ${r.size} bytes)` : '';
    return `${r.originalValue} -> ${r.status === 'poisoned' ? 'poison' : r.value}${sizes}`;
  };
  const target_ = (r: CoreRelocationResult): string =>
    (r.targetTypeId === 0 ? '-' : (r.targetModule === undefined ? '' : `${r.targetModule}: `) + r.targetSpec.replace(/^<[a-z_0-9]+> /, ''));
  out.push('', formatTable(['PROGRAM', 'INSN', 'KIND', 'LOCAL TYPE', 'ACCESS', 'TARGET', 'VALUE', 'STATUS'],
    results.map((r) => [dash(r.program), String(r.insn), r.kind, r.localType, r.access, target_(r), value(r), r.status])));
  const notes = results.filter((r) => r.reason !== undefined);
  if (notes.length) {
    out.push('', `Poisoned or failed (${notes.length})`);
    for (const r of notes) out.push(`  ${r.reason}`);
  }
  return out.join('\n');
}

export interface InspectArgs {
  file: string;
  json: boolean;
  pretty: boolean;
  btf: boolean;
  disasm: boolean;
  /** With disasm: only this program (a program's or a subprogram's name). */
  program: string | undefined;
  /** --core: the target BTF's path and bytes. */
  core?: { path: string; bytes: Uint8Array } | undefined;
}

/** `ebpf inspect`: tables, the ObjectInfo as JSON, the BTF as a C header, or the disassembly. */
export function runInspect(args: InspectArgs, bytes: Uint8Array): string {
  try {
    return inspectOutput(args, bytes);
  } catch (e) {
    if (e instanceof ElfError) throw new UsageError(`${args.file}: ${e.message}`);
    throw e;
  }
}

function inspectOutput(args: InspectArgs, bytes: Uint8Array): string {
  const out = { json: args.json, pretty: args.pretty };
  if (args.core !== undefined) {
    const results = relocate(bytes, args.core.bytes);
    if (args.json) return toJson(results, out);
    return renderCoreTable(args.file, args.core.path, results);
  }
  if (args.disasm) {
    const info = inspect(bytes, { btfExt: true, btfTypes: true, withoutC: true }); // types: CO-RE accessors spelled out
    let programs = info.programs.filter((p) => !p.subprogram);
    if (args.program !== undefined) {
      programs = info.programs.filter((p) => p.name === args.program);
      if (!programs.length) {
        throw new UsageError(`${args.file}: no ${describeProgram({ program: args.program })} (programs: ${info.programs.map((p) => p.name).join(', ') || 'none'})`);
      }
    } else programs.push(...info.programs.filter((p) => p.subprogram));
    const listed = programs.map((p) => ({ program: p.name, section: p.section, instructions: disassembleSpec(bytes, info, p) }));
    if (args.json) return toJson(listed, out);
    return listed.map((p) => `Disassembly of ${p.program} (section ${p.section}):\n${formatDisassembly(p.instructions)}`).join('\n\n');
  }
  if (args.btf) {
    const info = inspect(bytes, { btfTypes: true, withoutC: true });
    if (!info.btf?.types) throw new UsageError(`${args.file} has no BTF`);
    if (args.json) return toJson(info.btf.types, out);
    return renderCHeader(info.btf.types).trimEnd();
  }
  const info = inspect(bytes, { btfExt: args.json });
  if (args.json) return toJson(info, out);
  return renderTables(args.file, info);
}
