// The inspector page: open an eBPF object (file picker, drag and drop, or ?url=), parse it in a Web
// Worker, and browse its programs (disassembly), maps, BTF types, relocations and problems. Every
// view has a URL hash (#/program/NAME/INSN, #/type/ID, ...) and is reachable from the keyboard.
import { BtfIndex, unpack } from './btf.js';
import { DisasmView, type DisasmOptions } from './disasm-view.js';
import { bytesText, h } from './dom.js';
import type { DisassemblyResult, ObjectModel, Request, Response, TypeResult } from './protocol.js';
import {
  BTF_KINDS, VIEWS, btfItems, mainPrograms, mapDetail, mapItems, overview, parseRoute, problems, programHead,
  pending, programItems, programRelocations, relocations, resolveType, split, typeDetail, type Context, type ListItem, type Route,
  type View,
} from './views.js';

/** The worker's bundled source (with the WASM core), put in by scripts/build-web.mjs. */
declare const WORKER_SOURCE: string;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const view = $<HTMLElement>('view');
const tabs = $<HTMLElement>('tabs');
const status = $<HTMLElement>('status');
const fileInput = $<HTMLInputElement>('file');
const drop = $<HTMLElement>('drop');
const help = $<HTMLDialogElement>('help');

// ---- the worker ----

class Parser {
  #worker: Worker | undefined;
  #next = 1;
  readonly #pending = new Map<number, { resolve: (r: Response) => void; reject: (e: Error) => void }>();

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    const worker = new Worker(url, { name: 'ebpf-inspect' });
    worker.onmessage = (e: MessageEvent<Response>) => {
      const waiting = this.#pending.get(e.data.id);
      this.#pending.delete(e.data.id);
      waiting?.resolve(e.data);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      this.#fail(new Error(`the parser stopped: ${e.message || 'unknown error'}`));
    };
    this.#worker = worker;
    return worker;
  }

  #fail(error: Error): void {
    for (const waiting of this.#pending.values()) waiting.reject(error);
    this.#pending.clear();
    this.#worker?.terminate();
    this.#worker = undefined;
  }

  request(make: (id: number) => Request, transfer: Transferable[] = []): Promise<Response> {
    const worker = this.#start();
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage(make(id), transfer);
    });
  }
}

const parser = new Parser();

// ---- state ----

interface State {
  phase: 'empty' | 'loading' | 'ready' | 'error';
  ctx?: Context;
  error?: string;
  disassemblies: Map<string, Promise<DisassemblyResult>>;
  types: Map<number, Promise<TypeResult>>;
  disasm?: DisasmView;
  options: DisasmOptions;
  /** What the main element shows now ('programs:NAME'), so that a move within it keeps it. */
  shown?: string;
  loads: number;
}

const state: State = { phase: 'empty', disassemblies: new Map(), types: new Map(), options: { source: true, raw: true, text: false }, loads: 0 };

function setPhase(phase: State['phase'], message: string): void {
  state.phase = phase;
  document.body.dataset.state = phase;
  status.textContent = message;
}

async function openBytes(name: string, bytes: ArrayBuffer): Promise<void> {
  const load = ++state.loads;
  setPhase('loading', `Reading ${name} (${bytesText(bytes.byteLength)})…`);
  renderTabs();
  if (!state.ctx) render();
  const response = await parser.request((id) => ({ kind: 'open', id, name, bytes }), [bytes])
    .catch((e: Error): Response => ({ kind: 'error', id: 0, message: e.message }));
  if (load !== state.loads) return; // a newer file was opened meanwhile
  state.disasm?.dispose();
  state.disasm = undefined;
  state.shown = undefined;
  state.disassemblies.clear();
  state.types.clear();
  if (response.kind !== 'opened') {
    state.ctx = undefined;
    state.error = `Cannot inspect ${name}: ${response.kind === 'error' ? response.message : 'unexpected answer'}`;
    setPhase('error', state.error);
  } else {
    const model: ObjectModel = response.model;
    state.error = undefined;
    state.ctx = { model, btf: model.btf ? new BtfIndex(unpack(model.btf)) : undefined, filters: {}, btfKind: 'all', ask };
    const info = model.info;
    setPhase('ready', `${name}: ${bytesText(model.size)}, ${mainPrograms(info).length} programs, ${info.maps.length} maps; parsed in ${model.parseMs.toFixed(0)} ms`);
    document.title = `${name} — ebpf inspector`;
  }
  renderTabs();
  render();
}

async function openFile(file: File): Promise<void> {
  try {
    await openBytes(file.name, await file.arrayBuffer());
  } catch (e) {
    setPhase('error', `Cannot read ${file.name}: ${(e as Error).message}`);
    state.error = status.textContent ?? '';
    render();
  }
}

/** A program's disassembly (a long one's first page, or with `at` the page holding that slot). */
function disassemble(program: string, at?: number): Promise<DisassemblyResult> {
  const key = at === undefined ? program : `${program}@${at}`;
  let answer = at === undefined ? state.disassemblies.get(key) : undefined;
  if (!answer) {
    answer = parser.request((id) => ({ kind: 'disassemble', id, program, ...(at === undefined ? {} : { at }) })).then((r) => {
      if (r.kind === 'disassembled') return r.result;
      throw new Error(r.kind === 'error' ? r.message : 'unexpected answer');
    });
    if (at === undefined) state.disassemblies.set(key, answer);
  }
  return answer;
}

function btfType(typeId: number): Promise<TypeResult> {
  let answer = state.types.get(typeId);
  if (!answer) {
    answer = parser.request((id) => ({ kind: 'type', id, typeId })).then((r) => {
      if (r.kind === 'type') return r.result;
      throw new Error(r.kind === 'error' ? r.message : 'unexpected answer');
    });
    state.types.set(typeId, answer);
  }
  return answer;
}

const ask: Context['ask'] = {
  header: (typeId) => parser.request((id) => ({ kind: 'header', id, typeId })).then((r) => {
    if (r.kind === 'header') return r.text;
    throw new Error(r.kind === 'error' ? r.message : 'unexpected answer');
  }),
  section: (sectionIndex) => parser.request((id) => ({ kind: 'section', id, sectionIndex })).then((r) => {
    if (r.kind === 'section') return { bytes: r.bytes, size: r.size };
    throw new Error(r.kind === 'error' ? r.message : 'unexpected answer');
  }),
};

// ---- rendering ----

const TAB_LABELS: Record<View, string> = {
  overview: 'Overview', programs: 'Programs', maps: 'Maps', btf: 'BTF', relocations: 'Relocations', problems: 'Problems',
};
const TAB_ROUTES: Record<View, string> = {
  overview: 'overview', programs: 'programs', maps: 'maps', btf: 'btf', relocations: 'relocations', problems: 'problems',
};

function renderTabs(): void {
  const route = parseRoute(location.hash);
  const info = state.ctx?.model.info;
  const count = (v: View): string => {
    if (!info || !state.ctx) return '';
    switch (v) {
      case 'programs': return String(mainPrograms(info).length);
      case 'maps': return String(info.maps.length);
      case 'btf': return info.btf ? String(info.btf.typeCount - 1) : '0';
      case 'relocations': return String(info.relocations.length);
      case 'problems': return String(state.ctx.model.problems.length);
      default: return '';
    }
  };
  tabs.replaceChildren(...VIEWS.map((v, i) => {
    const n = count(v);
    const errors = v === 'problems' && state.ctx?.model.problems.some((p) => p.severity === 'error');
    return h('a', {
      href: `#/${TAB_ROUTES[v]}`, class: `tab${errors ? ' has-errors' : ''}`, 'aria-current': route.view === v ? 'page' : null,
      'aria-disabled': state.ctx ? null : 'true', title: `${TAB_LABELS[v]} (${i + 1})`,
    }, TAB_LABELS[v], n ? h('span', { class: 'count' }, n) : null);
  }));
}

function welcome(): HTMLElement {
  return h('div', { class: 'welcome' },
    state.error ? h('div', { class: 'error', id: 'error', role: 'alert' }, state.error) : null,
    h('div', { class: 'dropzone', id: 'dropzone' },
      h('p', { class: 'big' }, 'Drop an eBPF object (', h('code', {}, '.o'), ') here'),
      h('p', {}, 'or ', h('button', { class: 'primary', type: 'button', onclick: () => fileInput.click() }, 'pick a file'),
        ' — it is read in this page and never leaves your machine.'),
      h('p', { class: 'muted' }, 'Objects built with ', h('code', {}, 'clang -target bpf -g'), ' show source lines and C types.')),
    state.phase === 'loading' ? h('p', { class: 'loading' }, status.textContent ?? 'Loading…') : null,
    h('p', { class: 'muted' }, 'Press ', h('kbd', {}, '?'), ' for keyboard shortcuts.'));
}

interface SplitParts {
  view: 'programs' | 'maps' | 'btf';
  items: () => ListItem[];
  /** The list item's route ('program/NAME'), when one is open. */
  current: string | undefined;
  detail: Node;
  extra?: HTMLElement;
}

function render(): void {
  const route = parseRoute(location.hash);
  const ctx = state.ctx;
  if (!ctx) {
    state.shown = undefined;
    view.replaceChildren(welcome());
    return;
  }
  const key = `${route.view}:${route.item ?? ''}`;
  if (route.view === 'programs' && route.item !== undefined && state.shown === key && state.disasm) {
    markCurrent(`program/${encodeURIComponent(route.item)}`);
    if (route.insn !== undefined) state.disasm.select(route.insn);
    return;
  }
  const sameView = state.shown?.startsWith(`${route.view}:`) === true;
  state.disasm?.dispose();
  state.disasm = undefined;
  state.shown = key;
  if (route.view === 'programs' || route.view === 'maps' || route.view === 'btf') {
    const parts = splitParts(ctx, route.view, route);
    const detail = view.querySelector('#detail');
    if (parts && sameView && detail) {
      // Within one view only the detail changes: the list (maybe 100,000 BTF types) stays.
      detail.replaceChildren(parts.detail);
      detail.scrollTop = 0;
      markCurrent(parts.current);
      return;
    }
    view.replaceChildren(parts ? split(ctx, parts.view, parts.items(), parts.current, parts.detail, parts.extra)
      : h('div', { class: 'page' }, h('h2', {}, 'BTF'), h('p', {}, 'This object has no BTF (build it with clang -g).')));
    return;
  }
  view.replaceChildren(route.view === 'relocations' ? relocations(ctx) : route.view === 'problems' ? problems(ctx) : overview(ctx, route.section));
  if (route.view === 'overview' && route.section !== undefined) document.getElementById('section-detail')?.scrollIntoView({ block: 'start' });
}

function markCurrent(current: string | undefined): void {
  const target = current === undefined ? undefined : `#/${current}`;
  view.querySelectorAll<HTMLAnchorElement>('.list a.item').forEach((a) => {
    if (a.getAttribute('href') === target) a.setAttribute('aria-current', 'true');
    else a.removeAttribute('aria-current');
  });
}

function notFound(what: string): HTMLElement {
  return h('p', { class: 'error', role: 'alert' }, `${what} is not in this object.`);
}

/** The list and detail of a list view; undefined for BTF when the object has none. */
function splitParts(ctx: Context, which: SplitParts['view'], route: Route): SplitParts | undefined {
  const info = ctx.model.info;
  if (which === 'programs') {
    const p = route.item === undefined ? undefined : info.programs.find((x) => x.name === route.item);
    let detail: Node = h('p', { class: 'muted' }, info.programs.length ? 'Pick a program to see its disassembly.' : 'This object has no programs.');
    if (route.item !== undefined && !p) detail = notFound(`Program ${JSON.stringify(route.item)}`);
    if (p) detail = programDetail(ctx, p.name, route.insn);
    return { view: which, items: () => programItems(info), current: p ? `program/${encodeURIComponent(p.name)}` : undefined, detail };
  }
  if (which === 'maps') {
    const m = route.item === undefined ? undefined : info.maps.find((x) => x.name === route.item);
    let detail: Node = h('p', { class: 'muted' }, info.maps.length ? 'Pick a map to see its definition and types.' : 'This object has no maps.');
    if (route.item !== undefined && !m) detail = notFound(`Map ${JSON.stringify(route.item)}`);
    if (m) detail = mapDetail(ctx, m);
    return { view: which, items: () => mapItems(info), current: m ? `map/${encodeURIComponent(m.name)}` : undefined, detail };
  }
  if (!ctx.btf) return undefined;
  const id = route.item === undefined ? undefined : resolveType(ctx, route.item);
  let detail: Node = h('p', { class: 'muted' }, 'Pick a type to see it as C.');
  if (route.item !== undefined && id === undefined) detail = notFound(`Type ${JSON.stringify(route.item)}`);
  if (id !== undefined) detail = pending(btfType(id), (result) => typeDetail(ctx, result));
  const kinds = h('select', { 'aria-label': 'BTF kind', class: 'kind' }, BTF_KINDS.map((k) => h('option', { value: k, selected: k === ctx.btfKind }, k)));
  kinds.addEventListener('change', () => {
    ctx.btfKind = kinds.value;
    state.shown = undefined;
    render();
  });
  return { view: which, items: () => btfItems(ctx), current: id === undefined ? undefined : `type/${id}`, detail, extra: kinds };
}

function programDetail(ctx: Context, name: string, insn: number | undefined): HTMLElement {
  const p = ctx.model.info.programs.find((x) => x.name === name)!;
  const holder = h('div', { class: 'disasm-holder' }, h('p', { class: 'loading' }, 'Disassembling…'));
  const toggles = (['source', 'raw', 'text'] as const).map((key) => {
    const labels = { source: 'Source lines (s)', raw: 'Bytes (r)', text: 'As text (t)' };
    const box = h('input', { type: 'checkbox', id: `opt-${key}`, checked: state.options[key] });
    box.addEventListener('change', () => setOption(key, box.checked));
    return h('label', { class: 'toggle' }, box, ' ', labels[key]);
  });
  const copy = h('button', { type: 'button', title: 'Copy the disassembly as text' }, 'Copy');
  const shown = state.shown;
  disassemble(name, insn).then((result) => {
    if (state.shown !== shown || !holder.isConnected) return;
    const dv = new DisasmView(ctx.model.info, ctx.btf, result, state.options, (at) => disassemble(name, at));
    state.disasm = dv;
    holder.replaceChildren(dv.element);
    copy.addEventListener('click', () => {
      const text = state.options.raw ? result.text : result.textWithoutRaw;
      void navigator.clipboard?.writeText(text).then(() => { copy.textContent = 'Copied'; }, () => { copy.textContent = 'Copy failed'; });
    });
    if (insn !== undefined) dv.select(insn);
  }, (e: Error) => {
    holder.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Cannot disassemble ${name}: ${e.message}`));
  });
  return h('div', {}, programHead(p),
    h('div', { class: 'toolbar' }, h('h3', {}, 'Disassembly'), ...toggles, copy),
    holder, programRelocations(ctx, p));
}

function setOption(key: keyof DisasmOptions, value: boolean): void {
  state.options[key] = value;
  const box = document.getElementById(`opt-${key}`) as HTMLInputElement | null;
  if (box) box.checked = value;
  state.disasm?.setOptions(state.options);
}

// ---- input: files, drops, URL ----

fileInput.addEventListener('change', () => {
  const file = fileInput.files?.[0];
  if (file) void openFile(file);
  fileInput.value = '';
});

let dragDepth = 0;
window.addEventListener('dragenter', (e) => {
  if (!e.dataTransfer?.types.includes('Files')) return;
  dragDepth++;
  drop.hidden = false;
});
window.addEventListener('dragleave', () => {
  if (--dragDepth <= 0) {
    dragDepth = 0;
    drop.hidden = true;
  }
});
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  drop.hidden = true;
  const file = e.dataTransfer?.files[0];
  if (file) void openFile(file);
});

async function openFromUrl(url: string): Promise<void> {
  const name = decodeURIComponent(url.split('/').pop() || 'object.o');
  setPhase('loading', `Fetching ${name}…`);
  render();
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    await openBytes(name, await response.arrayBuffer());
  } catch (e) {
    state.error = `Cannot fetch ${url}: ${(e as Error).message}`;
    setPhase('error', state.error);
    render();
  }
}

// ---- keyboard ----

function moveInList(step: number): void {
  const items = Array.from(view.querySelectorAll<HTMLAnchorElement>('.list a.item'));
  if (!items.length) return;
  const at = items.findIndex((a) => a.getAttribute('aria-current') === 'true');
  const next = items[Math.max(0, Math.min(items.length - 1, at < 0 ? 0 : at + step))]!;
  next.focus();
  location.hash = next.getAttribute('href')!;
}

document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const target = e.target as HTMLElement;
  const typing = target.matches('input[type=search], input[type=text], select, textarea');
  if (e.key === 'Escape') {
    if (typing) target.blur();
    return;
  }
  if (typing) return;
  const route = parseRoute(location.hash);
  const digit = Number(e.key);
  if (Number.isInteger(digit) && digit >= 1 && digit <= VIEWS.length) {
    location.hash = `#/${TAB_ROUTES[VIEWS[digit - 1]!]}`;
  } else if (e.key === '/') {
    const filter = view.querySelector<HTMLInputElement>('.filter');
    if (!filter) return;
    filter.focus();
    filter.select();
  } else if (e.key === 'j' || (e.key === 'ArrowDown' && !target.closest('#disasm'))) {
    moveInList(1);
  } else if (e.key === 'k' || (e.key === 'ArrowUp' && !target.closest('#disasm'))) {
    moveInList(-1);
  } else if (e.key === 'o') {
    fileInput.click();
  } else if (e.key === '?') {
    if (help.open) help.close();
    else help.showModal();
  } else if (e.key === 'h' || e.key === 'Backspace') {
    history.back();
  } else if ((e.key === 's' || e.key === 'r' || e.key === 't') && route.view === 'programs') {
    const key = e.key === 's' ? 'source' : e.key === 'r' ? 'raw' : 'text';
    setOption(key, !state.options[key]);
  } else if (e.key === 'Enter' && route.view === 'programs' && state.disasm && !target.closest('#disasm, a, button, input')) {
    state.disasm.select(route.insn ?? 0);
  } else {
    return;
  }
  e.preventDefault();
});

$<HTMLButtonElement>('help-button').addEventListener('click', () => help.showModal());
window.addEventListener('hashchange', () => {
  renderTabs();
  render();
});

// ---- start ----

setPhase('empty', 'No object open');
renderTabs();
render();
const preload = new URLSearchParams(location.search).get('url');
if (preload) void openFromUrl(preload);
