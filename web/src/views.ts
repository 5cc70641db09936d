// The inspector's views, one per tab: each renders the current object into the main element.
import type { ElfMapSpec, ObjectInfo, ElfProgramSpec, RelocationInfo } from '../../src/inspect.js';
import { refersTo, type BtfIndex, linkedC } from './btf.js';
import { sectionSymbols } from '../../src/elf/view.js';
import { bytesText, facts, h, hex, hexDump, link, table } from './dom.js';
import type { ObjectModel, TypeResult } from './protocol.js';

export type View = 'overview' | 'programs' | 'maps' | 'btf' | 'relocations' | 'problems';
export const VIEWS: readonly View[] = ['overview', 'programs', 'maps', 'btf', 'relocations', 'problems'];

export interface Route {
  view: View;
  /** The program's or map's name, or the type's id (or name). */
  item?: string;
  /** An instruction slot of the program. */
  insn?: number;
  /** A section index (overview). */
  section?: number;
}

/** Routes: #/overview, #/section/3, #/programs, #/program/NAME[/INSN], #/maps, #/map/NAME, #/btf, #/type/ID, #/relocations, #/problems. */
export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
  const [head = '', item, insn] = parts;
  switch (head) {
    case 'program': return item ? { view: 'programs', item, ...(insn !== undefined && /^\d+$/.test(insn) ? { insn: Number(insn) } : {}) } : { view: 'programs' };
    case 'map': return item ? { view: 'maps', item } : { view: 'maps' };
    case 'type': return item ? { view: 'btf', item } : { view: 'btf' };
    case 'section': return { view: 'overview', ...(item !== undefined && /^\d+$/.test(item) ? { section: Number(item) } : {}) };
    default: return { view: (VIEWS as readonly string[]).includes(head) ? head as View : 'overview' };
  }
}

export interface Context {
  model: ObjectModel;
  btf: BtfIndex | undefined;
  filters: Record<string, string>;
  btfKind: string;
  /** Asks the worker for what only it holds. */
  ask: {
    /** A type as a self-contained C header (what it needs declared first). */
    header(typeId: number): Promise<string>;
    /** The first bytes of a section (null for .bss-like sections) and its size. */
    section(index: number): Promise<{ bytes: Uint8Array | null; size: number }>;
  };
}

/** A holder filled when `result` comes (if still on the page), or with the error. */
export function pending<T>(result: Promise<T>, fill: (value: T) => Node | Node[]): HTMLElement {
  const holder = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
  result.then((value) => {
    if (holder.isConnected) holder.replaceChildren(...[fill(value)].flat());
  }, (e: Error) => holder.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message)));
  return holder;
}

export const enc = encodeURIComponent;

export function mainPrograms(info: ObjectInfo): ElfProgramSpec[] {
  return info.programs.filter((p) => !p.subprogram);
}

/** Where an instruction of a section lies: its program and slot, as a route. */
function instructionRoute(info: ObjectInfo, sectionIndex: number, offset: number): { program: ElfProgramSpec; slot: number } | undefined {
  const program = info.programs.find((p) => p.sectionIndex === sectionIndex && offset >= p.insnOffset && offset < p.insnOffset + p.insnCount * 8);
  return program ? { program, slot: (offset - program.insnOffset) / 8 } : undefined;
}

function typeLink(ctx: Context, id: number): Node | string {
  if (!ctx.btf || id <= 0 || id >= ctx.btf.count) return id === 0 ? 'void' : `type ${id}`;
  return link(`type/${id}`, ctx.btf.label(id));
}

/** A map's key or value type as C (the worker sends those with the object). */
function typeC(ctx: Context, id: number): HTMLElement | null {
  const t = ctx.model.mapTypes[id];
  if (!t || id === 0 || !ctx.btf) return null;
  return h('pre', { class: 'c' }, linkedC(t.c || ctx.btf.label(id), ctx.btf, id));
}

// ---- list + detail layout ----

export interface ListItem {
  route: string;
  name: string;
  note?: string;
  group?: string;
}

/** A filterable list beside a detail pane; the filter's text is kept per view in ctx.filters. */
export function split(ctx: Context, view: View, items: ListItem[], current: string | undefined, detail: Node,
  extra?: HTMLElement, limit = 1000): HTMLElement {
  const filter = ctx.filters[view] ?? '';
  const input = h('input', {
    type: 'search', class: 'filter', placeholder: 'Filter (/)', 'aria-label': `filter ${view}`, value: filter,
  });
  const list = h('ul', { class: 'list', role: 'list' });
  const fill = (): void => {
    const needle = input.value.trim().toLowerCase();
    ctx.filters[view] = input.value;
    const shown = items.filter((i) => !needle || i.name.toLowerCase().includes(needle) || (i.note ?? '').toLowerCase().includes(needle));
    list.replaceChildren();
    let group: string | undefined;
    for (const item of shown.slice(0, limit)) {
      if (item.group !== undefined && item.group !== group) {
        group = item.group;
        list.append(h('li', { class: 'group' }, group));
      }
      const active = item.route === current;
      list.append(h('li', {}, h('a', { href: `#/${item.route}`, class: 'item', 'aria-current': active ? 'true' : null },
        h('span', { class: 'name' }, item.name || '(anonymous)'), item.note ? h('span', { class: 'note' }, item.note) : null)));
    }
    if (shown.length > limit) list.append(h('li', { class: 'more' }, `${shown.length - limit} more: refine the filter`));
    if (shown.length === 0) list.append(h('li', { class: 'more' }, items.length ? 'nothing matches' : 'none'));
  };
  input.addEventListener('input', fill);
  fill();
  const pane = h('aside', { class: 'pane list-pane' }, h('div', { class: 'list-head' }, input, extra ?? null), list);
  return h('div', { class: 'split' }, pane, h('section', { class: 'pane detail', id: 'detail', tabindex: -1 }, detail));
}

// ---- overview ----

export function overview(ctx: Context, section?: number): HTMLElement {
  const { model } = ctx;
  const info = model.info;
  const programs = mainPrograms(info);
  const data = info.maps.filter((m) => ['data', 'rodata', 'bss', 'kconfig'].includes(m.origin));
  const errors = model.problems.filter((p) => p.severity === 'error').length;
  const head = facts([
    ['File', `${model.name} (${bytesText(model.size)})`],
    ['Format', `ELF64, ${info.endian}-endian eBPF`],
    ['License', info.license === null ? '— (none)' : info.license],
    ['Kernel version', info.kernelVersion === null ? null : hex(info.kernelVersion)],
    ['Programs', [link('programs', `${programs.length}`), info.programs.length > programs.length ? ` (+ ${info.programs.length - programs.length} subprograms)` : '']],
    ['Maps', [link('maps', `${info.maps.length - data.length}`), ` (+ ${data.length} global data)`]],
    ['BTF', info.btf ? [link('btf', `${info.btf.typeCount - 1} types`), `, ${bytesText(info.btf.stringSize)} of strings${info.btf.hasExt ? ', .BTF.ext' : ''}`] : 'none'],
    ['Relocations', link('relocations', String(info.relocations.length))],
    ['Problems', link('problems', model.problems.length ? `${model.problems.length}${errors ? ` (${errors} would be refused)` : ''}` : 'none')],
    ['Parsed in', `${model.parseMs.toFixed(0)} ms (in a Web Worker)`],
  ]);
  const relocatedBy = (i: number): Node | string => {
    const s = info.sections.find((x) => x.index === i)?.relocationSection;
    return s === null || s === undefined ? '' : link(`section/${s}`, info.sections.find((x) => x.index === s)?.name ?? String(s));
  };
  const sections = table(['#', 'Name', 'Kind', 'Type', 'Flags', 'Offset', 'Size', 'Relocated by'],
    info.sections.map((s) => [s.index, link(`section/${s.index}`, s.name || '(null)'), s.kind, s.type, hex(s.flags), hex(s.offset), s.size, relocatedBy(s.index)]), 'sections');
  sections.querySelectorAll('tbody tr').forEach((tr, i) => {
    const s = info.sections[i]!;
    tr.id = `section-${s.index}`;
    if (s.index === section) tr.classList.add('selected');
  });
  const symbols = h('details', {}, h('summary', {}, `Symbols (${info.symbols.length})`),
    table(['#', 'Name', 'Type', 'Binding', 'Section', 'Value', 'Size'],
      info.symbols.map((s) => [s.index, s.name, s.type, s.binding,
        s.section > 0 && s.section < 0xff00 ? link(`section/${s.section}`, info.sections.find((x) => x.index === s.section)?.name ?? String(s.section)) : hex(s.section),
        hex(s.value), String(s.size)])));
  const ext = info.btf?.extSections.length
    ? [h('h3', {}, '.BTF.ext'), table(['Section', 'Func info', 'Line info', 'CO-RE relocations'],
      info.btf.extSections.map((e) => [e.section, e.funcInfoCount, e.lineInfoCount, e.coreRelocationCount]))]
    : [];
  const chosen = section === undefined ? undefined : info.sections.find((s) => s.index === section);
  return h('div', { class: 'page' }, h('h2', {}, model.name), head,
    chosen ? sectionDetail(ctx, chosen.index) : null,
    h('h3', {}, `Sections (${info.sections.length})`), sections, symbols, ...ext);
}

/** A section's programs, maps, symbols and first bytes. */
function sectionDetail(ctx: Context, index: number): HTMLElement {
  const info = ctx.model.info;
  const s = info.sections.find((x) => x.index === index)!;
  const programs = info.programs.filter((p) => p.sectionIndex === index);
  const maps = info.maps.filter((m) => m.sectionIndex === index);
  const symbols = sectionSymbols(info, index);
  const relocating = info.sections.find((x) => x.relocationSection === index);
  return h('section', { class: 'section-detail', id: 'section-detail' },
    h('h3', {}, `Section ${s.index}: ${s.name || '(null)'} `, h('span', { class: 'badge' }, s.kind)),
    facts([
      ['Size', `${s.size} bytes at ${hex(s.offset)} in the file`],
      ['ELF type', `${s.type}, flags ${hex(s.flags)}, align ${s.addralign}, entry size ${s.entsize}`],
      ['Link, info', `${s.link}, ${s.info}`],
      ['Relocates', relocating ? link(`section/${relocating.index}`, relocating.name) : null],
      ['Programs', programs.length ? programs.map((p, i) => [i ? ', ' : '', link(`program/${enc(p.name)}`, p.name)]).flat() : null],
      ['Maps', maps.length ? maps.map((m, i) => [i ? ', ' : '', link(`map/${enc(m.name)}`, m.name)]).flat() : null],
    ]),
    symbols.length ? [h('h4', {}, `Symbols (${symbols.length})`), table(['Name', 'Type', 'Binding', 'Value', 'Size'],
      symbols.map((y) => [y.name, y.type, y.binding, hex(y.value), String(y.size)]))] : [],
    h('h4', {}, 'Contents'),
    pending(ctx.ask.section(index), ({ bytes, size }) => (bytes
      ? [h('pre', { class: 'hex' }, hexDump(bytes)), bytes.length < size ? h('p', { class: 'muted' }, `first ${bytes.length} of ${size} bytes`) : h('span')]
      : h('p', { class: 'muted' }, 'No contents in the file (SHT_NOBITS: zeroed at load).'))));
}

// ---- programs ----

export function programItems(info: ObjectInfo): ListItem[] {
  return info.programs.map((p) => ({
    route: `program/${enc(p.name)}`, name: p.name, note: p.subprogram ? p.section : p.typeName,
    group: p.subprogram ? 'Subprograms' : 'Programs',
  })).sort((a, b) => (a.group === b.group ? 0 : a.group === 'Programs' ? -1 : 1));
}

export function programHead(p: ElfProgramSpec): HTMLElement {
  const flags = [p.subprogram && 'subprogram', p.global && 'global', p.retprobe && 'return probe', p.sleepable && 'sleepable',
    p.xdpFrags && 'XDP frags', !p.autoload && 'not loaded by default (SEC("?..."))', p.needsBtfTarget && 'needs a BTF attach target']
    .filter(Boolean).join(', ');
  return h('div', {},
    h('h2', {}, p.name, ' ', h('span', { class: 'badge' }, p.typeName)),
    facts([
      ['Section', link(`section/${p.sectionIndex}`, p.section)],
      ['Type', p.unknownSection ? `${p.typeName} (the section name is not one libbpf knows)` : p.typeName],
      ['Attach type', p.expectedAttachTypeName],
      ['Attach target', p.attachTarget],
      ['Instructions', `${p.insnCount} (${p.insnCount * 8} bytes at ${hex(p.fileOffset)} in the file)`],
      ['Flags', flags || null],
      ['Load flags', p.loadFlags ? hex(p.loadFlags) : null],
      ['Func info', p.btfExt?.funcInfo.length ? p.btfExt.funcInfo.map((f, i) => [i ? ', ' : '', link(`type/${f.typeId}`, f.name), ` @${f.insn}`]).flat() : null],
    ]));
}

function relocationRows(ctx: Context, relocations: RelocationInfo[]): HTMLTableElement {
  const info = ctx.model.info;
  return table(['Section', 'Offset', 'Instruction', 'Kind', 'Symbol', 'Target'], relocations.map((r) => {
    const at = instructionRoute(info, r.sectionIndex, r.offset);
    const where = at ? link(`program/${enc(at.program.name)}/${at.slot}`, `${at.program.name}+${at.slot}`) : '—';
    let target: Node | string = '—';
    if (r.map !== null) {
      const m = info.maps[r.map];
      target = m ? h('span', {}, link(`map/${enc(m.name)}`, m.name), r.kind === 'data' ? ` +${r.targetOffset}` : '') : String(r.map);
    } else if (r.targetProgram !== null) {
      const p = info.programs[r.targetProgram];
      target = p ? link(`program/${enc(p.name)}`, p.name) : String(r.targetProgram);
    } else if (r.kind === 'extern') {
      const id = ctx.btf?.find('func', r.symbol) ?? ctx.btf?.find('var', r.symbol);
      target = id !== undefined ? link(`type/${id}`, `extern ${r.symbol}`) : 'extern';
    }
    return [r.section, hex(r.offset), where, r.kind, r.symbol || '—', target];
  }), 'relocations');
}

function coreRows(ctx: Context, programs: ElfProgramSpec[]): HTMLElement {
  const rows = programs.flatMap((p) => (p.btfExt?.coreRelocations ?? []).map((c, i) => [
    link(`program/${enc(p.name)}/${c.insn}`, `${p.name}+${c.insn}`), c.kind,
    ctx.model.coreAccess[p.index]?.[i] ?? String(c.typeId), c.access, typeLink(ctx, c.typeId),
  ]));
  if (!rows.length) return h('p', { class: 'muted' }, 'No CO-RE relocations.');
  return table(['Instruction', 'Kind', 'Accessor', 'Access string', 'Local type'], rows, 'core-relocations');
}

export function programRelocations(ctx: Context, p: ElfProgramSpec): HTMLElement {
  const relocations = ctx.model.info.relocations.slice(p.relocationStart, p.relocationStart + p.relocationCount);
  return h('div', {},
    h('h3', {}, `Relocations (${relocations.length})`),
    relocations.length ? relocationRows(ctx, relocations) : h('p', { class: 'muted' }, 'No relocations.'),
    h('h3', {}, `CO-RE relocations (${p.btfExt?.coreRelocations.length ?? 0})`), coreRows(ctx, [p]));
}

// ---- maps ----

const DATA_ORIGINS = new Set(['data', 'rodata', 'bss', 'kconfig']);

export function mapItems(info: ObjectInfo): ListItem[] {
  return info.maps.map((m) => ({
    route: `map/${enc(m.name)}`, name: m.name, note: DATA_ORIGINS.has(m.origin) ? `${m.valueSize} B` : m.typeName,
    group: DATA_ORIGINS.has(m.origin) ? 'Global data' : 'Maps',
  })).sort((a, b) => (a.group === b.group ? 0 : a.group === 'Maps' ? -1 : 1));
}

export function mapDetail(ctx: Context, m: ElfMapSpec): HTMLElement {
  const info = ctx.model.info;
  const data = DATA_ORIGINS.has(m.origin);
  const inner = m.innerMap === null ? null : info.maps[m.innerMap];
  const users = info.relocations.filter((r) => r.map === m.index);
  const initial = ctx.model.initialData[m.index];
  const typed = (label: string, id: number): HTMLElement[] => (id > 0 && ctx.btf
    ? [h('h3', {}, label, ': ', typeLink(ctx, id)), typeC(ctx, id) ?? h('span')] : []);
  return h('div', {},
    h('h2', {}, m.name, ' ', h('span', { class: 'badge' }, data ? m.origin : m.typeName)),
    facts([
      ['Defined', [`${m.origin} in `, link(`section/${m.sectionIndex}`, info.sections.find((s) => s.index === m.sectionIndex)?.name ?? String(m.sectionIndex)), m.definitionOffset ? ` at ${hex(m.definitionOffset)}` : '']],
      ['Type', data ? `${m.typeName} (one element holding the section)` : `${m.typeName} (${m.type})`],
      ['Key size', data ? null : `${m.keySize} bytes`],
      ['Value size', `${m.valueSize} bytes`],
      ['Max entries', data ? null : String(m.maxEntries)],
      ['Flags', m.flags ? hex(m.flags) : null],
      ['Pinning', m.pinning ? (m.pinning === 1 ? 'by name (LIBBPF_PIN_BY_NAME)' : String(m.pinning)) : null],
      ['Pin path', m.persistentPath],
      ['Inner map', inner ? link(`map/${enc(inner.name)}`, inner.name) : null],
      ['Inner template', m.innerTemplate ? 'yes: describes the inner maps of a map of maps, not created alone' : null],
      ['NUMA node', m.numaNode ? String(m.numaNode) : null],
      ['map_extra', m.mapExtra !== 0 && m.mapExtra !== '0' ? hex(m.mapExtra) : null],
    ]),
    ...typed('Key', m.keyTypeId),
    ...typed(data ? 'Contents' : 'Value', m.valueTypeId),
    ctx.model.globalData[m.index] !== undefined
      ? [h('h3', {}, 'Values (through BTF, as bpftool map dump shows them)'), h('pre', { class: 'c', id: 'global-values' }, ctx.model.globalData[m.index]!)] : [],
    initial ? [h('h3', {}, `Initial contents (${m.initialData?.size ?? 0} bytes${initial.length < (m.initialData?.size ?? 0) ? `, first ${initial.length} shown` : ''})`),
      h('pre', { class: 'hex' }, hexDump(initial))] : [],
    h('h3', {}, `Referenced by (${users.length})`),
    users.length ? relocationRows(ctx, users) : h('p', { class: 'muted' }, 'No instruction refers to it.'));
}

// ---- BTF ----

export const BTF_KINDS = ['all', 'struct', 'union', 'enum', 'typedef', 'func', 'func_proto', 'var', 'datasec', 'int', 'ptr', 'array', 'fwd', 'const', 'volatile', 'float', 'decl_tag', 'type_tag', 'enum64', 'restrict'];

const btfItemCache = new WeakMap<object, Map<string, ListItem[]>>();

/** The BTF types of the chosen kind as list items (kept: a kernel-sized BTF has 100,000 of them). */
export function btfItems(ctx: Context): ListItem[] {
  if (!ctx.btf) return [];
  const kind = ctx.btfKind;
  let cache = btfItemCache.get(ctx.btf);
  if (!cache) btfItemCache.set(ctx.btf, cache = new Map());
  const cached = cache.get(kind);
  if (cached) return cached;
  const { kinds, names, labels } = ctx.btf.summary;
  const items: ListItem[] = [];
  for (let id = 1; id < kinds.length; id++) {
    if (kind === 'all' || kinds[id] === kind) items.push({ route: `type/${id}`, name: names[id] || labels[id]!, note: `${kinds[id]} #${id}` });
  }
  cache.set(kind, items);
  return items;
}

/** A type by id or name ('task_struct', 'struct:task_struct'). */
export function resolveType(ctx: Context, item: string): number | undefined {
  if (!ctx.btf) return undefined;
  if (/^\d+$/.test(item)) return Number(item) > 0 && Number(item) < ctx.btf.count ? Number(item) : undefined;
  const [tag, name] = item.includes(':') ? item.split(':', 2) as [string, string] : ['any', item];
  return ctx.btf.find(tag, name);
}

export function typeDetail(ctx: Context, { type: t, referredBy: by }: TypeResult): HTMLElement {
  const btf = ctx.btf!;
  const id = t.id;
  const refs = refersTo(t, btf.count);
  const members = t.members?.length ? table(['Member', 'Type', 'Offset (bits)', 'Bitfield'],
    t.members.map((m) => [m.name || '(anonymous)', typeLink(ctx, m.type), m.bitOffset, m.bitfieldSize || ''])) : null;
  const list = (ids: number[]): HTMLElement => (ids.length
    ? h('ul', { class: 'inline' }, ids.slice(0, 200).map((r) => h('li', {}, typeLink(ctx, r))), ids.length > 200 ? h('li', {}, `… ${ids.length - 200} more`) : null)
    : h('p', { class: 'muted' }, 'none'));
  return h('div', {},
    h('h2', {}, btf.label(id), ' ', h('span', { class: 'badge' }, `${t.kind} #${id}`)),
    facts([
      ['Size', t.size !== undefined ? `${t.size} bytes` : null],
      ['Encoding', t.encoding ? `${t.encoding.bits} bits${t.encoding.signed ? ', signed' : ''}${t.encoding.char ? ', char' : ''}${t.encoding.bool ? ', bool' : ''}` : null],
      ['Elements', t.nelems !== undefined ? String(t.nelems) : null],
      ['Linkage', t.linkage ?? null],
      ['Tagged component', t.componentIndex !== undefined ? (t.componentIndex < 0 ? 'the type itself' : `#${t.componentIndex}`) : null],
    ]),
    h('h3', {}, 'As C'),
    h('pre', { class: 'c type-c', id: 'type-c' }, linkedC(t.c || btf.label(id), btf, id)),
    headerButton(ctx, id),
    members ? [h('h3', {}, 'Members'), members] : [],
    t.values?.length ? [h('h3', {}, 'Values'), table(['Name', 'Value'], t.values.map((v) => [v.name, String(v.value)]))] : [],
    h('h3', {}, `Refers to (${refs.length})`), list(refs),
    h('h3', {}, `Referred to by (${by.length})`), list(by));
}

/** A button that shows the type as a header that compiles on its own (with what it needs declared first). */
function headerButton(ctx: Context, id: number): HTMLElement {
  const holder = h('div', { class: 'header-holder' });
  const button = h('button', { type: 'button', id: 'show-header' }, 'As a header, with what it needs');
  button.addEventListener('click', () => {
    button.remove();
    holder.replaceChildren(h('h3', {}, 'As a header'), pending(ctx.ask.header(id), (text) => h('pre', { class: 'c', id: 'type-header' }, linkedC(text, ctx.btf!, id))));
  });
  holder.append(button);
  return holder;
}

// ---- relocations and problems ----

export function relocations(ctx: Context): HTMLElement {
  const info = ctx.model.info;
  const core = info.programs.reduce((n, p) => n + (p.btfExt?.coreRelocations.length ?? 0), 0);
  return h('div', { class: 'page' },
    h('h2', {}, `Relocations (${info.relocations.length})`),
    info.relocations.length ? relocationRows(ctx, info.relocations) : h('p', { class: 'muted' }, 'No relocations.'),
    h('h2', {}, `CO-RE relocations (${core})`),
    h('p', { class: 'muted' }, 'Field offsets, sizes and type or enumerator checks that a loader fixes up against the running kernel\'s BTF.'),
    coreRows(ctx, info.programs));
}

export function problems(ctx: Context): HTMLElement {
  const list = ctx.model.problems;
  return h('div', { class: 'page' },
    h('h2', {}, `Problems (${list.length})`),
    h('p', { class: 'muted' }, 'What ebpf would refuse or leave out when loading this object, found without a kernel (the verifier\'s verdict needs one).'),
    list.length ? h('ul', { class: 'problems' }, list.map((p) => h('li', { class: p.severity },
      h('span', { class: 'severity' }, p.severity), ' ', p.subject ? link(p.subject, p.message) : p.message)))
      : h('p', {}, 'None: ebpf would load every program and map of this object.'));
}

