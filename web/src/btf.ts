// BTF as the page browses it: types by tag and name, what each refers to and is referred by, C text
// with its type names linked, and CO-RE accessor strings spelled as field paths.
import type { BtfType, CoreRelocation } from '../../src/inspect.js';
import { link } from './dom.js';

const TAGGED = new Set(['struct', 'union', 'enum', 'enum64', 'fwd']);

export class BtfIndex {
  readonly types: readonly BtfType[];
  readonly #byName = new Map<string, number>();
  #referrers: number[][] | undefined;

  constructor(types: readonly BtfType[]) {
    this.types = types;
    for (const t of types) {
      if (!t.name) continue;
      const key = `${tagOf(t)}:${t.name}`;
      // A definition wins over a forward declaration of the same name.
      const known = this.#byName.get(key);
      if (known === undefined || (types[known]!.kind === 'fwd' && t.kind !== 'fwd')) this.#byName.set(key, t.id);
      if (!this.#byName.has(`any:${t.name}`)) this.#byName.set(`any:${t.name}`, t.id);
    }
  }

  /** A type by `struct`/`union`/`enum`/`typedef`/... tag and name, or by name alone (tag 'any'). */
  find(tag: string, name: string): number | undefined {
    return this.#byName.get(`${tag}:${name}`);
  }

  /** The ids a type refers to directly, in order, without repeats. */
  refersTo(t: BtfType): number[] {
    const ids = [t.type, t.indexType, ...(t.members ?? []).map((m) => m.type), ...(t.params ?? []).map((p) => p.type),
      ...(t.vars ?? []).map((v) => v.type)];
    return [...new Set(ids.filter((id): id is number => id !== undefined && id > 0 && id < this.types.length))];
  }

  /** The ids of the types that refer to `id` (computed once for all types). */
  referredBy(id: number): number[] {
    if (!this.#referrers) {
      const by: number[][] = this.types.map(() => []);
      for (const t of this.types) for (const r of this.refersTo(t)) by[r]!.push(t.id);
      this.#referrers = by;
    }
    return this.#referrers[id] ?? [];
  }

  /** 'struct iphdr', 'const char *', 'func bpf_prog', or '(anonymous union)'. */
  label(id: number): string {
    const t = this.types[id];
    if (!t) return `type ${id}`;
    if (t.kind === 'void') return 'void';
    if (t.name) {
      if (t.kind === 'fwd') return `${t.kindFlag ? 'union' : 'struct'} ${t.name}`;
      if (t.kind === 'int' || t.kind === 'float' || t.kind === 'datasec') return t.name;
      return `${t.kind === 'enum64' ? 'enum' : t.kind} ${t.name}`;
    }
    if (t.kind === 'struct' || t.kind === 'union' || t.kind === 'enum' || t.kind === 'enum64') return `(anonymous ${t.kind})`;
    const firstLine = t.c.split('\n')[0] ?? '';
    return firstLine || t.kind;
  }
}

function tagOf(t: BtfType): string {
  if (t.kind === 'fwd') return t.kindFlag ? 'union' : 'struct';
  if (t.kind === 'enum64') return 'enum';
  return t.kind;
}

const WORD = /\b(struct|union|enum)\s+([A-Za-z_]\w*)|\b([A-Za-z_]\w*)\b/g;

/** C text with each named struct/union/enum and typedef linked to its type (other than `self`). */
export function linkedC(text: string, index: BtfIndex, self: number): DocumentFragment {
  const out = document.createDocumentFragment();
  let last = 0;
  for (const m of text.matchAll(WORD)) {
    const tagged = m[1] !== undefined;
    const id = tagged ? index.find(m[1]!, m[2]!) : index.find('typedef', m[3]!);
    if (id === undefined || id === self || (!tagged && TAGGED.has(m[3]!))) continue;
    out.append(text.slice(last, m.index), link(`type/${id}`, m[0]));
    last = m.index + m[0].length;
  }
  out.append(text.slice(last));
  return out;
}

function strip(index: BtfIndex, id: number): number {
  for (let i = 0; i < 64; i++) {
    const t = index.types[id];
    if (!t || !['typedef', 'const', 'volatile', 'restrict', 'type_tag'].includes(t.kind) || t.type === undefined) return id;
    id = t.type;
  }
  return id;
}

/** A CO-RE relocation's accessor as libbpf prints it: `struct task_struct.real_parent` (0:1), the
 *  enumerator for enumval kinds, the type for type kinds. */
export function describeCoreAccess(index: BtfIndex, relo: CoreRelocation): string {
  const base = index.label(relo.typeId);
  const parts = relo.access.split(':').map(Number);
  if (relo.kind.startsWith('enumval')) {
    const t = index.types[strip(index, relo.typeId)];
    return `${base}::${t?.values?.[parts[0] ?? -1]?.name ?? relo.access}`;
  }
  if (relo.kind.startsWith('type') || relo.kind.endsWith('type_id')) return base;
  let path = parts[0] ? `[${parts[0]}]` : '';
  let id = relo.typeId;
  for (const i of parts.slice(1)) {
    const t = index.types[strip(index, id)];
    if (!t) break;
    if (t.kind === 'array') {
      path += `[${i}]`;
      id = t.type ?? 0;
    } else {
      const member = t.members?.[i];
      if (!member) break;
      path += member.name ? `.${member.name}` : `.<anon#${i}>`;
      id = member.type;
    }
  }
  return `${base}${path}`;
}
