// `ebpf inspect FILE.o [--json] [--btf] [--core [--btf-file PATH]]`: an object's programs, maps,
// global data, relocations, license and diagnostics as tables; the ObjectInfo as JSON; its BTF
// rendered as C; or how its CO-RE relocations resolve against a kernel's BTF.
import { inspect, relocate, type CoreRelocationResult, type ObjectInfo } from '../inspect.js';
import { renderBtfAsC } from '../elf/btf-link.js';
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
  btf: boolean;
  /** --core: the target BTF's path and bytes. */
  core?: { path: string; bytes: Uint8Array } | undefined;
}

export function runInspect(args: InspectArgs, bytes: Uint8Array): string {
  if (args.core !== undefined) {
    const results = relocate(bytes, args.core.bytes);
    if (args.json) return JSON.stringify(results, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
    return renderCoreTable(args.file, args.core.path, results);
  }
  const info = inspect(bytes, { btfTypes: args.btf, btfExt: args.json });
  if (args.json) return JSON.stringify(info, null, 2);
  if (args.btf) {
    const text = renderBtfAsC(info);
    if (text === undefined) throw new UsageError(`${args.file} has no BTF, or this build cannot render it`);
    return text;
  }
  return renderTables(args.file, info);
}

/** A mistake in the command line or a request that cannot be met: one line, exit code 1. */
export class UsageError extends Error {}
