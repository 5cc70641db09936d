// BTF as the page browses it: on the main thread, types by tag and name with their labels (BtfIndex,
// from the worker's BtfSummary) and C text with its type names linked; in the worker, labels and
// what refers to what.
import type { BtfKind, BtfType } from '../../src/inspect.js';
import { link } from './dom.js';
import type { BtfSummary, PackedBtfSummary } from './protocol.js';

const KINDS: readonly BtfKind[] = [
  'void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile', 'const', 'restrict',
  'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64',
];

const TAGGED = new Set(['struct', 'union', 'enum', 'enum64', 'fwd']);

function tag(kind: BtfKind, union: boolean): string {
  if (kind === 'fwd') return union ? 'union' : 'struct';
  return kind === 'enum64' ? 'enum' : kind;
}

/** 'struct iphdr', 'const char *', 'func bpf_prog', or '(anonymous union)'. */
export function labelOf(t: BtfType): string {
  if (t.kind === 'void') return 'void';
  if (t.name) {
    if (t.kind === 'fwd') return `${t.kindFlag ? 'union' : 'struct'} ${t.name}`;
    if (t.kind === 'int' || t.kind === 'float' || t.kind === 'datasec') return t.name;
    return `${t.kind === 'enum64' ? 'enum' : t.kind} ${t.name}`;
  }
  if (t.kind === 'struct' || t.kind === 'union' || t.kind === 'enum' || t.kind === 'enum64') return `(anonymous ${t.kind})`;
  return t.c.split('\n')[0] || t.kind;
}

/** The summary the worker sends of all types. */
export function summarize(types: readonly BtfType[]): PackedBtfSummary {
  const line = (s: string): string => s.replace(/\n/g, ' ');
  return {
    kinds: Uint8Array.from(types, (t) => Math.max(0, KINDS.indexOf(t.kind))),
    names: types.map((t) => line(t.name)).join('\n'),
    labels: types.map((t) => line(labelOf(t))).join('\n'),
  };
}

export function unpack(packed: PackedBtfSummary): BtfSummary {
  return { kinds: Array.from(packed.kinds, (k) => KINDS[k] ?? 'void'), names: packed.names.split('\n'), labels: packed.labels.split('\n') };
}

/** The ids a type refers to directly, in order, without repeats. */
export function refersTo(t: BtfType, count: number): number[] {
  const ids = [t.type, t.indexType, ...(t.members ?? []).map((m) => m.type), ...(t.params ?? []).map((p) => p.type),
    ...(t.vars ?? []).map((v) => v.type)];
  return [...new Set(ids.filter((id): id is number => id !== undefined && id > 0 && id < count))];
}

/** For each type id, the ids of the types that refer to it. */
export function referrers(types: readonly BtfType[]): number[][] {
  const by: number[][] = types.map(() => []);
  for (const t of types) for (const r of refersTo(t, types.length)) by[r]!.push(t.id);
  return by;
}

/** Types by tag and name, with labels: what the main thread needs to name and link types. */
export class BtfIndex {
  readonly summary: BtfSummary;
  readonly #byName = new Map<string, number>();

  constructor(summary: BtfSummary) {
    this.summary = summary;
    const { kinds, names, labels } = summary;
    for (let id = 1; id < names.length; id++) {
      const name = names[id]!;
      if (!name) continue;
      const kind = kinds[id]!;
      const key = `${tag(kind, labels[id]!.startsWith('union '))}:${name}`;
      // A definition wins over a forward declaration of the same name.
      const known = this.#byName.get(key);
      if (known === undefined || (kinds[known] === 'fwd' && kind !== 'fwd')) this.#byName.set(key, id);
      if (!this.#byName.has(`any:${name}`)) this.#byName.set(`any:${name}`, id);
    }
  }

  /** Number of type ids, void (0) included. */
  get count(): number {
    return this.summary.names.length;
  }

  /** A type by `struct`/`union`/`enum`/`typedef`/... tag and name, or by name alone (tag 'any'). */
  find(tagName: string, name: string): number | undefined {
    return this.#byName.get(`${tagName}:${name}`);
  }

  label(id: number): string {
    return this.summary.labels[id] ?? `type ${id}`;
  }

  kind(id: number): BtfKind | undefined {
    return this.summary.kinds[id];
  }
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
