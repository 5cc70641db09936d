// A program's disassembly: labels, source lines and instructions, with jumps, calls and map or
// global-data references as links; one instruction selected at a time, moved with the arrow keys.
// A long program comes a page at a time from the worker (a pager moves between pages, and selecting
// an instruction elsewhere fetches its page); rows are laid out in slices between frames.
import type { DisasmInstruction, ObjectInfo } from '../../src/inspect.js';
import type { BtfIndex } from './btf.js';
import { h } from './dom.js';
import type { DisassemblyResult } from './protocol.js';

const SLICE = 1500;
const LABEL_REFERENCE = /<[^<>]+>$/;

export interface DisasmOptions {
  source: boolean;
  raw: boolean;
  text: boolean;
}

/** Fetches the page of the program holding instruction slot `at`. */
export type PageFetcher = (at: number) => Promise<DisassemblyResult>;

export class DisasmView {
  readonly element: HTMLElement;
  readonly #rows: HTMLElement;
  readonly #text: HTMLPreElement;
  readonly #pager: HTMLElement;
  readonly #program: string;
  readonly #info: ObjectInfo;
  readonly #btf: BtfIndex | undefined;
  readonly #fetchPage: PageFetcher;
  #result: DisassemblyResult;
  #options: DisasmOptions;
  #bySlot = new Map<number, number>();
  #rendered = 0;
  #selected: HTMLElement | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  constructor(info: ObjectInfo, btf: BtfIndex | undefined, result: DisassemblyResult, options: DisasmOptions, fetchPage: PageFetcher) {
    this.#info = info;
    this.#btf = btf;
    this.#program = result.program;
    this.#fetchPage = fetchPage;
    this.#result = result;
    this.#options = options;
    this.#rows = h('div', { class: 'disasm', id: 'disasm', role: 'list', 'aria-label': `disassembly of ${result.program}` });
    this.#text = h('pre', { class: 'disasm-text', id: 'disasm-text' });
    this.#pager = h('div', { class: 'pager', id: 'disasm-pager' });
    this.element = h('div', {}, this.#pager, this.#rows, this.#text);
    this.#rows.addEventListener('keydown', (e) => this.#key(e));
    this.#rows.addEventListener('click', (e) => {
      const row = (e.target as Element).closest<HTMLElement>('.insn');
      if (row && !(e.target as Element).closest('a')) this.select(Number(row.dataset.index), false);
    });
    this.#show(result);
  }

  get program(): string {
    return this.#program;
  }

  setOptions(options: DisasmOptions): void {
    this.#options = options;
    this.#rows.classList.toggle('no-source', !options.source);
    this.#rows.classList.toggle('no-raw', !options.raw);
    this.#rows.hidden = options.text;
    this.#text.hidden = !options.text;
    this.#text.textContent = options.raw ? this.#result.text : this.#result.textWithoutRaw;
  }

  /** Selects (and scrolls to) the instruction at slot `index`, fetching its page when elsewhere. */
  select(index: number, focus = true): void {
    if (!this.#bySlot.has(index) && this.#paged() && !this.#holds(index)) {
      this.#fetchPage(index).then((page) => {
        if (this.#disposed) return;
        this.#show(page);
        this.#selectHere(index, focus);
      }, () => undefined);
      return;
    }
    this.#selectHere(index, focus);
  }

  /** Stops laying out rows (the view is being replaced). */
  dispose(): void {
    this.#disposed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  #paged(): boolean {
    return this.#result.total > this.#result.instructions.length;
  }

  /** Whether `index` lies within this page's slots (the second slot of an ld_imm64 does). */
  #holds(index: number): boolean {
    const insns = this.#result.instructions;
    return insns.length > 0 && index >= insns[0]!.index && index <= insns[insns.length - 1]!.index + 1;
  }

  #show(result: DisassemblyResult): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#result = result;
    this.#bySlot = new Map(result.instructions.map((insn, i) => [insn.index, i]));
    this.#rows.replaceChildren();
    this.#rendered = 0;
    this.#selected = undefined;
    this.#renderPager();
    this.setOptions(this.#options);
    this.#renderUpTo(Math.min(SLICE, result.instructions.length));
    this.#continue();
  }

  #renderPager(): void {
    const { start, total, instructions } = this.#result;
    this.#pager.hidden = !this.#paged();
    if (this.#pager.hidden) return;
    const first = instructions[0], last = instructions[instructions.length - 1];
    const go = (label: string, at: number | undefined, key: string): HTMLButtonElement => {
      const button = h('button', { type: 'button', class: `page-${key}`, disabled: at === undefined }, label);
      if (at !== undefined) button.addEventListener('click', () => this.select(at));
      return button;
    };
    this.#pager.replaceChildren(
      go('‹ Previous', start > 0 && first ? first.index - 1 : undefined, 'previous'),
      h('span', {}, ` Instructions ${start + 1}–${start + instructions.length} of ${total} `),
      go('Next ›', start + instructions.length < total && last ? last.index + (last.raw.length > 23 ? 2 : 1) : undefined, 'next'));
  }

  #selectHere(index: number, focus: boolean): void {
    let at = this.#bySlot.get(index);
    if (at === undefined) {
      // The second slot of an ld_imm64, or past a page's edge: the instruction holding it.
      const insns = this.#result.instructions;
      for (let i = insns.length - 1; i >= 0; i--) if (insns[i]!.index <= index) { at = i; break; }
      if (at === undefined) at = 0;
    }
    const insn = this.#result.instructions[at];
    if (!insn) return;
    this.#renderUpTo(at + 1);
    const row = this.#rows.querySelector<HTMLElement>(`#insn-${insn.index}`);
    if (!row) return;
    this.#selected?.classList.remove('selected');
    this.#selected?.removeAttribute('aria-current');
    row.classList.add('selected');
    row.setAttribute('aria-current', 'true');
    this.#selected = row;
    row.scrollIntoView({ block: 'nearest' });
    if (focus) row.focus({ preventScroll: true });
  }

  #continue(): void {
    if (this.#rendered >= this.#result.instructions.length) return;
    this.#timer = setTimeout(() => {
      this.#renderUpTo(this.#rendered + SLICE);
      this.#continue();
    }, 0);
  }

  #renderUpTo(end: number): void {
    const insns = this.#result.instructions;
    end = Math.min(end, insns.length);
    if (end <= this.#rendered) return;
    const fragment = document.createDocumentFragment();
    for (let i = this.#rendered; i < end; i++) this.#row(fragment, insns[i]!);
    this.#rows.append(fragment);
    this.#rendered = end;
  }

  #row(out: DocumentFragment, insn: DisasmInstruction): void {
    if (insn.label !== undefined) out.append(h('div', { class: 'label', id: `label-${insn.index}` }, `${insn.label}:`));
    if (insn.source) {
      const s = insn.source;
      out.append(h('div', { class: 'source' }, `; ${s.text !== undefined ? `${s.text.trim()} ` : ''}`,
        h('span', { class: 'where' }, `@ ${s.file}:${s.line}:${s.column}`)));
    }
    out.append(h('div', { class: 'insn', id: `insn-${insn.index}`, 'data-index': insn.index, tabindex: -1, role: 'listitem' },
      h('a', { class: 'index', href: this.#route(insn.index), tabindex: -1 }, `${insn.index}:`),
      h('span', { class: 'raw' }, insn.raw),
      h('span', { class: 'text' }, this.#linked(insn)),
      insn.call?.kind === 'helper' && insn.call.id !== undefined ? h('span', { class: 'note', title: 'helper id' }, `#${insn.call.id}`) : null,
      insn.core ? h('a', { class: 'note core', href: `#/type/${insn.core.typeId}`, title: `CO-RE relocation, access string ${insn.core.access}` },
        `CO-RE ${insn.core.kind} ${insn.core.spec ?? insn.core.access}`) : null));
  }

  #route(index: number): string {
    return `#/program/${encodeURIComponent(this.#program)}/${index}`;
  }

  /** The instruction's text with its jump target, callee or referenced map as a link. */
  #linked(insn: DisasmInstruction): DocumentFragment {
    const out = document.createDocumentFragment();
    let target: { href: string; name: string; title: string } | undefined;
    if (insn.jumpTarget !== undefined) {
      target = { href: this.#route(insn.jumpTarget), name: LABEL_REFERENCE.exec(insn.text)?.[0] ?? '', title: `go to instruction ${insn.jumpTarget}` };
    } else if (insn.call) {
      const call = insn.call;
      if (call.kind === 'subprog') {
        const href = call.target !== undefined ? this.#route(call.target)
          : this.#info.programs.some((p) => p.name === call.name) ? `#/program/${encodeURIComponent(call.name)}` : undefined;
        if (href) target = { href, name: call.name, title: `bpf-to-bpf call to ${call.name}` };
      } else if (call.kind === 'kfunc') {
        const id = this.#btf?.find('func', call.name);
        if (id !== undefined) target = { href: `#/type/${id}`, name: call.name, title: `kfunc ${call.name}: its declaration` };
      }
    } else if (insn.reference) {
      const ref = insn.reference;
      if (ref.kind === 'ksym') {
        const id = this.#btf?.find('var', ref.name) ?? this.#btf?.find('any', ref.name);
        if (id !== undefined) target = { href: `#/type/${id}`, name: ref.name, title: `kernel symbol ${ref.name}` };
      } else {
        const map = ref.map ?? ref.name;
        if (this.#info.maps.some((m) => m.name === map)) {
          target = { href: `#/map/${encodeURIComponent(map)}`, name: ref.name, title: ref.kind === 'map' ? `map ${map}` : `${ref.name} in ${map}${ref.offset !== undefined ? ` at offset ${ref.offset}` : ''}` };
        }
      }
    }
    if (!target) {
      out.append(insn.text);
      return out;
    }
    const at = target.name ? insn.text.lastIndexOf(target.name) : -1;
    const kind = insn.jumpTarget !== undefined ? 'jump' : insn.call ? 'call' : 'ref';
    const a = (text: string): HTMLAnchorElement => h('a', { class: kind, href: target.href, title: target.title }, text);
    if (at < 0) out.append(a(insn.text));
    else out.append(insn.text.slice(0, at), a(target.name), insn.text.slice(at + target.name.length));
    return out;
  }

  #key(e: KeyboardEvent): void {
    const row = (e.target as Element).closest<HTMLElement>('.insn');
    if (!row) return;
    const insns = this.#result.instructions;
    const at = this.#bySlot.get(Number(row.dataset.index)) ?? 0;
    const move = (to: number): void => {
      e.preventDefault();
      let index: number | undefined;
      if (to >= 0 && to < insns.length) index = insns[to]!.index;
      else if (this.#paged() && to >= insns.length && this.#result.start + insns.length < this.#result.total) {
        const last = insns[insns.length - 1]!;
        index = last.index + (last.raw.length > 23 ? 2 : 1);
      } else if (this.#paged() && to < 0 && this.#result.start > 0) index = insns[0]!.index - 1;
      else index = insns[Math.max(0, Math.min(insns.length - 1, to))]?.index;
      if (index === undefined) return;
      this.select(index);
      history.replaceState(null, '', this.#route(index));
    };
    switch (e.key) {
      case 'ArrowDown': move(at + 1); break;
      case 'ArrowUp': move(at - 1); break;
      case 'PageDown': move(Math.min(at + 20, insns.length - 1)); break;
      case 'PageUp': move(Math.max(at - 20, 0)); break;
      case 'Home': move(0); break;
      case 'End': move(insns.length - 1); break;
      case 'Enter': {
        const follow = row.querySelector<HTMLAnchorElement>('.text a');
        if (follow) {
          e.preventDefault();
          follow.click();
        }
        break;
      }
      default:
    }
  }
}
