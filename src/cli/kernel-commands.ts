// `ebpf prog list|show|dump` and `ebpf map list|show|dump`: the kernel's programs and maps, with
// bpftool's fields (its JSON keys under -j/-p), map values formatted from their BTF, programs
// disassembled from the kernel's xlated instructions. Node only (they make bpf() calls).
import { readFileSync } from 'node:fs';
import { MAP_TYPE_NAMES, PROGRAM_TYPE_NAMES, enumName } from '../elf/names.js';
import { formatBtfValue, type BtfValue } from '../btf/value.js';
import { parseBtf } from '../btf/index.js';
import type { BtfType } from '../btf/types.js';
import { formatDisassembly } from '../disasm/format.js';
import { EbpfMap, type MapInfo } from '../map/map.js';
import { disassembleLoaded, btfBytesById } from '../program/disassemble.js';
import { getProgramInfoByFd, type ProgramInfo } from '../program/info.js';
import { FD, getFdById, ids, objGet } from '../sys/bpf.js';
import { SyscallError } from '../sys/errors.js';
import { UsageError, noMore, objectRef, toJson, type ObjectRef, type Output } from './args.js';

const PER_CPU_MAPS = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage']);
const UNDUMPABLE_MAPS = new Set(['ringbuf', 'user_ringbuf', 'queue', 'stack', 'bloom_filter', 'arena', 'struct_ops']);

function openRef(kind: 'prog' | 'map', ref: ObjectRef): FD {
  try {
    return 'id' in ref ? getFdById(kind, ref.id) : objGet(ref.pinned);
  } catch (e) {
    if (e instanceof SyscallError) {
      const what = 'id' in ref ? `${kind} id ${ref.id}` : `${ref.pinned}`;
      throw new UsageError(`cannot open ${what}: ${e.code}${e.code === 'ENOENT' ? ' (no such object)' : ''}`);
    }
    throw e;
  }
}

/** memlock and frozen from /proc/self/fdinfo, as bpftool reads them. */
function fdinfo(fd: number): Map<string, string> {
  const out = new Map<string, string>();
  try {
    for (const line of readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n')) {
      const m = /^([\w-]+):\s*(.*)$/.exec(line);
      if (m) out.set(m[1]!, m[2]!);
    }
  } catch {
    // fdinfo is optional: fields from it are left out
  }
  return out;
}

// ---- programs -----------------------------------------------------------------------------------

interface ProgramRecord {
  id: number;
  type: string;
  name: string;
  tag: string;
  gpl_compatible: boolean;
  loaded_at: number;
  uid: number;
  bytes_xlated: number;
  jited: boolean;
  bytes_jited: number;
  bytes_memlock?: number;
  map_ids?: number[];
  btf_id?: number;
  run_time_ns?: bigint | number;
  run_cnt?: bigint | number;
  recursion_misses?: bigint | number;
  verified_insns?: number;
}

function programRecord(fd: FD): ProgramRecord {
  const info: ProgramInfo = getProgramInfoByFd(fd);
  const memlock = Number(fdinfo(fd.fd).get('memlock'));
  const small = (v: bigint): bigint | number => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  return {
    id: info.id, type: enumName(PROGRAM_TYPE_NAMES, info.type), name: info.name, tag: info.tag,
    gpl_compatible: info.gplCompatible, loaded_at: Math.floor(info.loadTime.getTime() / 1000), uid: info.createdByUid,
    bytes_xlated: info.xlatedProgramLen, jited: info.jitedProgramLen > 0, bytes_jited: info.jitedProgramLen,
    ...(Number.isFinite(memlock) ? { bytes_memlock: memlock } : {}),
    ...(info.mapIds.length ? { map_ids: info.mapIds } : {}),
    ...(info.btfId ? { btf_id: info.btfId } : {}),
    ...(info.runTimeNs || info.runCount ? { run_time_ns: small(info.runTimeNs), run_cnt: small(info.runCount) } : {}),
    ...(info.recursionMisses ? { recursion_misses: small(info.recursionMisses) } : {}),
    ...(info.verifiedInsns ? { verified_insns: info.verifiedInsns } : {}),
  };
}

function isoSeconds(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+0000`;
}

function programText(p: ProgramRecord): string {
  const lines = [
    `${p.id}: ${p.type}  name ${p.name}  tag ${p.tag}${p.gpl_compatible ? '  gpl' : ''}${p.run_cnt !== undefined ? `  run_time_ns ${p.run_time_ns}  run_cnt ${p.run_cnt}` : ''}`,
    `\tloaded_at ${isoSeconds(p.loaded_at)}  uid ${p.uid}`,
    `\txlated ${p.bytes_xlated}B  ${p.jited ? `jited ${p.bytes_jited}B` : 'not jited'}${p.bytes_memlock !== undefined ? `  memlock ${p.bytes_memlock}B` : ''}${p.map_ids ? `  map_ids ${p.map_ids.join(',')}` : ''}`,
  ];
  if (p.btf_id) lines.push(`\tbtf_id ${p.btf_id}`);
  return lines.join('\n');
}

/** Each live object of a kind opened in turn (those gone meanwhile skipped). */
function* eachObject(kind: 'prog' | 'map'): Generator<FD> {
  for (const id of ids(kind)) {
    let fd: FD;
    try {
      fd = getFdById(kind, id);
    } catch (e) {
      if (e instanceof SyscallError && e.code === 'ENOENT') continue;
      throw e;
    }
    yield fd;
  }
}

export function runProg(verb: string | undefined, positionals: string[], out: Output): string {
  switch (verb) {
    case 'list': case 'show': {
      if (verb === 'list' || positionals.length === 0) {
        noMore(`prog ${verb}`, positionals);
        const records: ProgramRecord[] = [];
        for (const fd of eachObject('prog')) {
          try {
            records.push(programRecord(fd));
          } finally {
            fd.close();
          }
        }
        return out.json ? toJson(records, out) : records.map(programText).join('\n');
      }
      const ref = objectRef('prog show', positionals);
      noMore('prog show', positionals);
      using fd = openRef('prog', ref);
      const record = programRecord(fd);
      return out.json ? toJson(record, out) : programText(record);
    }
    case 'dump': {
      // bpftool's `prog dump xlated ID`; `xlated` may be left out (jited is not offered).
      if (positionals[0] === 'jited') throw new UsageError('prog dump jited: not supported (only xlated)');
      if (positionals[0] === 'xlated') positionals.shift();
      const ref = objectRef('prog dump', positionals);
      const opcodes = positionals[0] === 'opcodes' ? positionals.shift() !== undefined : false;
      noMore('prog dump', positionals);
      using fd = openRef('prog', ref);
      const d = disassembleLoaded(fd);
      if (out.json) return toJson({ xlated_length: d.xlatedLength, jited_length: d.jitedLength, functions: d.functions, instructions: d.instructions }, out);
      // bpftool's habit: each function headed by its prototype.
      const prototypes = new Map(d.functions.map((f) => [f.index, f.prototype]));
      return formatDisassembly(d.instructions, { raw: opcodes }).split('\n').map((line) => {
        const label = /^(\S+):$/.exec(line)?.[1];
        const fn = label === undefined ? undefined : d.functions.find((f) => f.name === label);
        const prototype = fn ? prototypes.get(fn.index) : undefined;
        return prototype ? `${line}\t; ${prototype}` : line;
      }).join('\n');
    }
    default:
      throw new UsageError(`prog: unknown verb ${JSON.stringify(verb ?? '')}; try ebpf prog --help`);
  }
}

// ---- maps ---------------------------------------------------------------------------------------

interface MapRecord {
  id: number;
  type: string;
  name: string;
  flags: number;
  bytes_key: number;
  bytes_value: number;
  max_entries: number;
  bytes_memlock?: number;
  frozen?: number;
  btf_id?: number;
}

function mapRecord(fd: number, info: MapInfo): MapRecord {
  const extra = fdinfo(fd);
  const memlock = Number(extra.get('memlock')), frozen = Number(extra.get('frozen'));
  return {
    id: info.id, type: enumName(MAP_TYPE_NAMES, info.type), name: info.name, flags: info.flags,
    bytes_key: info.keySize, bytes_value: info.valueSize, max_entries: info.maxEntries,
    ...(Number.isFinite(memlock) ? { bytes_memlock: memlock } : {}),
    ...(Number.isFinite(frozen) ? { frozen } : {}),
    ...(info.btfId ? { btf_id: info.btfId } : {}),
  };
}

function mapText(m: MapRecord): string {
  const lines = [
    `${m.id}: ${m.type}  name ${m.name}  flags 0x${m.flags.toString(16)}`,
    `\tkey ${m.bytes_key}B  value ${m.bytes_value}B  max_entries ${m.max_entries}${m.bytes_memlock !== undefined ? `  memlock ${m.bytes_memlock}B` : ''}`,
  ];
  if (m.btf_id) lines.push(`\tbtf_id ${m.btf_id}`);
  if (m.frozen) lines.push('\tfrozen');
  return lines.join('\n');
}

const hexBytes = (b: Uint8Array): string[] => Array.from(b, (x) => `0x${x.toString(16).padStart(2, '0')}`);

interface DumpEntry {
  key: string[];
  value?: string[] | { error: string };
  values?: { cpu: number; value: string[] }[];
  formatted?: { key?: BtfValue; value?: BtfValue; values?: { cpu: number; value: BtfValue }[] };
}

function mapEntries(map: EbpfMap, info: MapInfo, types: readonly BtfType[] | undefined): DumpEntry[] {
  const type = enumName(MAP_TYPE_NAMES, info.type);
  if (UNDUMPABLE_MAPS.has(type)) throw new UsageError(`map dump: a ${type} map has no elements to look up`);
  const perCpu = PER_CPU_MAPS.has(type);
  const stride = Math.ceil(info.valueSize / 8) * 8;
  const out: DumpEntry[] = [];
  const fmtKey = types && info.btfKeyTypeId ? (k: Uint8Array) => formatBtfValue(types, info.btfKeyTypeId, k) : undefined;
  const fmtValue = types && info.btfValueTypeId ? (v: Uint8Array) => formatBtfValue(types, info.btfValueTypeId, v) : undefined;
  let key: Uint8Array | undefined;
  for (let n = 0; (key = map.getNextKey(key)) !== undefined; n++) {
    if (n > info.maxEntries + 1024) throw new UsageError(`map dump: more keys than max_entries ${info.maxEntries}; the map keeps changing`);
    const k = key.slice();
    let value: Uint8Array;
    try {
      value = map.lookup(k);
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e;
      if (e.code === 'ENOENT') continue; // deleted meanwhile
      out.push({ key: hexBytes(k), value: { error: e.message } });
      continue;
    }
    const entry: DumpEntry = { key: hexBytes(k) };
    const formatted: NonNullable<DumpEntry['formatted']> = {};
    if (fmtKey) formatted.key = fmtKey(k);
    if (perCpu) {
      const cpus = Math.floor(value.length / stride);
      entry.values = [];
      if (fmtValue) formatted.values = [];
      for (let cpu = 0; cpu < cpus; cpu++) {
        const one = value.subarray(cpu * stride, cpu * stride + info.valueSize);
        entry.values.push({ cpu, value: hexBytes(one) });
        if (fmtValue) formatted.values!.push({ cpu, value: fmtValue(one) });
      }
    } else {
      entry.value = hexBytes(value);
      if (fmtValue) formatted.value = fmtValue(value);
    }
    if (types && (fmtKey || fmtValue)) entry.formatted = formatted;
    out.push(entry);
  }
  return out;
}

function dumpText(entries: DumpEntry[], withBtf: boolean, out: Output): string {
  if (withBtf) {
    // bpftool prints the formatted entries (key/value) as indented JSON when the map has BTF.
    return toJson(entries.map((e) => {
      const f = e.formatted ?? {};
      return { ...(f.key !== undefined ? { key: f.key } : {}), ...(f.values ? { values: f.values } : f.value !== undefined ? { value: f.value } : { value: e.value }) };
    }), { ...out, pretty: true });
  }
  const bytes = (h: readonly string[]): string => h.map((x) => x.slice(2)).join(' ');
  const lines = entries.map((e) => {
    if (e.values) return `key: ${bytes(e.key)}\n${e.values.map((v) => `value (CPU ${String(v.cpu).padStart(2, '0')}): ${bytes(v.value)}`).join('\n')}`;
    if (e.value && !Array.isArray(e.value)) return `key: ${bytes(e.key)}  value: <${e.value.error}>`;
    return `key: ${bytes(e.key)}  value: ${bytes(e.value ?? [])}`;
  });
  lines.push(`Found ${entries.length} element${entries.length === 1 ? '' : 's'}`);
  return lines.join('\n');
}

/** The BTF type table of a kernel BTF object (undefined when unreadable). */
function kernelBtfTypes(btfId: number): BtfType[] | undefined {
  if (!btfId) return undefined;
  try {
    return parseBtf(btfBytesById(btfId), undefined, [], { withoutC: true }).btf.types;
  } catch {
    return undefined;
  }
}

export function runMap(verb: string | undefined, positionals: string[], out: Output): string {
  switch (verb) {
    case 'list': case 'show': {
      if (verb === 'list' || positionals.length === 0) {
        noMore(`map ${verb}`, positionals);
        const records: MapRecord[] = [];
        for (const fd of eachObject('map')) {
          using map = EbpfMap.fromFd(fd);
          records.push(mapRecord(map.fd, map.info()));
        }
        return out.json ? toJson(records, out) : records.map(mapText).join('\n');
      }
      const ref = objectRef('map show', positionals);
      noMore('map show', positionals);
      using map = EbpfMap.fromFd(openRef('map', ref));
      const record = mapRecord(map.fd, map.info());
      return out.json ? toJson(record, out) : mapText(record);
    }
    case 'dump': {
      const ref = objectRef('map dump', positionals);
      noMore('map dump', positionals);
      using map = EbpfMap.fromFd(openRef('map', ref));
      const info = map.info();
      const types = kernelBtfTypes(info.btfId);
      const entries = mapEntries(map, info, types);
      if (out.json) return toJson(entries, out);
      return dumpText(entries, types !== undefined && (info.btfKeyTypeId !== 0 || info.btfValueTypeId !== 0), out);
    }
    default:
      throw new UsageError(`map: unknown verb ${JSON.stringify(verb ?? '')}; try ebpf map --help`);
  }
}
