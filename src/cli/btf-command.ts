// `ebpf btf dump FILE|ID [format c|raw]`: a BTF (an object's .BTF, a raw BTF file such as
// /sys/kernel/btf/vmlinux, or a kernel BTF object by id) as bpftool's raw listing or as a compilable
// C header (vmlinux.h).
import { readFileSync } from 'node:fs';
import { parseBtf } from '../btf/index.js';
import { renderCHeader } from '../btf/c-header.js';
import type { BtfType } from '../btf/types.js';
import { ElfError } from '../elf/errors.js';
import { inspect } from '../inspect.js';
import { UsageError, noMore, toJson, type Output } from './args.js';

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** The type table of an ELF object's .BTF or of a raw BTF blob. */
export function btfTypesOf(bytes: Uint8Array, what: string): BtfType[] {
  try {
    if (ELF_MAGIC.every((b, i) => bytes[i] === b)) {
      const info = inspect(bytes, { btfTypes: true, withoutC: true });
      if (!info.btf?.types) throw new UsageError(`${what} has no .BTF section`);
      return info.btf.types;
    }
    return parseBtf(bytes, undefined, [], { withoutC: true }).btf.types ?? [];
  } catch (e) {
    if (e instanceof ElfError) throw new UsageError(`${what}: ${e.message}`);
    throw e;
  }
}

const INT_ENCODING = (t: BtfType): string =>
  t.encoding?.bool ? 'BOOL' : t.encoding?.char ? 'CHAR' : t.encoding?.signed ? 'SIGNED' : '(none)';

/** One type as bpftool's `btf dump` raw format prints it. */
function rawType(t: BtfType, types: readonly BtfType[]): string {
  const head = `[${t.id}] ${t.kind.toUpperCase()} '${t.name || '(anon)'}'`;
  switch (t.kind) {
    case 'int':
      return `${head} size=${t.size} bits_offset=${t.encoding?.offset ?? 0} nr_bits=${t.encoding?.bits ?? 0} encoding=${INT_ENCODING(t)}`;
    case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
      return `${head} type_id=${t.type}`;
    case 'array':
      return `${head} type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
    case 'struct': case 'union':
      return [`${head} size=${t.size} vlen=${t.members?.length ?? 0}`, ...(t.members ?? []).map((m) =>
        `\t'${m.name || '(anon)'}' type_id=${m.type} bits_offset=${m.bitOffset}${m.bitfieldSize ? ` bitfield_size=${m.bitfieldSize}` : ''}`)].join('\n');
    case 'enum': case 'enum64': {
      const signed = t.kindFlag === true;
      const suffix = t.kind === 'enum64' ? (signed ? 'LL' : 'ULL') : '';
      return [`${head} encoding=${signed ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values?.length ?? 0}`,
        ...(t.values ?? []).map((v) => `\t'${v.name}' val=${v.value}${suffix}`)].join('\n');
    }
    case 'fwd':
      return `${head} fwd_kind=${t.kindFlag ? 'union' : 'struct'}`;
    case 'func':
      return `${head} type_id=${t.type} linkage=${t.linkage}`;
    case 'func_proto':
      return [`${head} ret_type_id=${t.type} vlen=${t.params?.length ?? 0}`, ...(t.params ?? []).map((p) => `\t'${p.name || '(anon)'}' type_id=${p.type}`)].join('\n');
    case 'var':
      return `${head} type_id=${t.type}, linkage=${t.linkage}`;
    case 'datasec':
      return [`${head} size=${t.size} vlen=${t.vars?.length ?? 0}`, ...(t.vars ?? []).map((v) => {
        const target = types[v.type];
        const named = target?.kind === 'var' || target?.kind === 'func' ? ` (${target.kind.toUpperCase()} '${target.name}')` : '';
        return `\ttype_id=${v.type} offset=${v.offset} size=${v.size}${named}`;
      })].join('\n');
    case 'float':
      return `${head} size=${t.size}`;
    case 'decl_tag':
      return `${head} type_id=${t.type} component_idx=${t.componentIndex}`;
    default:
      return head;
  }
}

/** bpftool's raw listing of every type. */
export function renderRaw(types: readonly BtfType[]): string {
  return types.filter((t) => t.id > 0).map((t) => rawType(t, types)).join('\n');
}

export function runBtf(verb: string | undefined, positionals: string[], out: Output, loadById: (id: number) => Uint8Array): string {
  if (verb !== 'dump') throw new UsageError(`btf: unknown verb ${JSON.stringify(verb ?? '')}; try ebpf btf --help`);
  let source = positionals.shift();
  let byId: number | undefined;
  if (source === 'file') source = positionals.shift();
  else if (source === 'id') {
    const text = positionals.shift() ?? '';
    if (!/^\d+$/.test(text)) throw new UsageError(`btf dump: ${JSON.stringify(text)} is not an id`);
    byId = Number(text);
  } else if (source !== undefined && /^\d+$/.test(source)) byId = Number(source);
  if (source === undefined && byId === undefined) throw new UsageError('btf dump needs a FILE or an ID');
  let format = 'raw';
  if (positionals[0] === 'format') {
    positionals.shift();
    format = positionals.shift() ?? '';
    if (format !== 'c' && format !== 'raw') throw new UsageError(`btf dump: format ${JSON.stringify(format)}: c or raw`);
  }
  noMore('btf dump', positionals);
  const what = byId !== undefined ? `BTF id ${byId}` : source!;
  let bytes: Uint8Array;
  if (byId !== undefined) bytes = loadById(byId);
  else {
    try {
      bytes = readFileSync(source!);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      throw new UsageError(`cannot read ${source}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
    }
  }
  const types = btfTypesOf(bytes, what);
  if (format === 'c') return renderCHeader(types).trimEnd();
  if (out.json) return toJson({ types: types.filter((t) => t.id > 0) }, out);
  return renderRaw(types);
}
