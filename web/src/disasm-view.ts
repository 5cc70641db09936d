// A program's disassembly: labels, source lines and instructions, with jumps, calls and map or
// global-data references as links; one instruction selected at a time, moved with the arrow keys.
// Long programs are laid out in slices between frames so that the page never stops answering.
import type { DisasmInstruction, ObjectInfo } from '../../src/inspect.js';
import type { BtfIndex } from './btf.js';
import { h } from './dom.js';
import type { DisassemblyResult } from './protocol.js';

const SLICE = 1500;

export interface DisasmOptions {
  source: boolean;
  raw: boolean;
  text: boolean;
}

export class DisasmView {
  readonly element: HTMLElement;
  readonly #rows: HTMLElement;
  readonly #text: HTMLPreElement;
  readonly #program: string;
  readonly #result: DisassemblyResult;
  readonly #info: ObjectInfo;
  readonly #btf: BtfIndex | undefined;
  readonly #bySlot = new Map<number, number>();
  readonly #labels = new Map<number, string>();
  #rendered = 0;
  #selected: HTMLElement | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(info: ObjectInfo, btf: BtfIndex | undefined, result: DisassemblyResult, options: DisasmOptions) {
    this.#info = info;
    this.#btf = btf;
    this.#program = result.program;
    this.#result = result;
    result.instructions.forEach((insn, i) => {
      this.#bySlot.set(insn.index, i);
      if (insn.label !== undefined) this.#labels.set(insn.index, insn.label);
    });
    this.#rows = h('div', { class: 'disasm', id: 'disasm', role: 'list', 'aria-label': `disassembly of ${result.program}` });
    this.#text = h('pre', { class: 'disasm-text', id: 'disasm-text' });
    this.element = h('div', {}, this.#rows, this.#text);
    this.#rows.addEventListener('keydown', (e) => this.#key(e));
    this.#rows.addEventListener('click', (e) => {
      const row = (e.target as Element).closest<HTMLElement>('.insn');
      if (row && !(e.target as Element).closest('a')) this.select(Number(row.dataset.index), false);
    });
    this.setOptions(options);
    this.#renderUpTo(Math.min(SLICE, result.instructions.length));
    this.#continue();
  }

  get program(): string {
    return this.#program;
  }

  setOptions(options: DisasmOptions): void {
    this.#rows.classList.toggle('no-source', !options.source);
    this.#rows.classList.toggle('no-raw', !options.raw);
    this.#rows.hidden = options.text;
    this.#text.hidden = !options.text;
    this.#text.textContent = options.raw ? this.#result.text : this.#result.textWithoutRaw;
  }

  /** Selects (and scrolls to) the instruction at slot `index`; focus moves there when asked. */
  select(index: number, focus = true): void {
    const at = this.#bySlot.get(index);
    if (at === undefined) return;
    this.#renderUpTo(at + 1);
    const row = this.#rows.querySelector<HTMLElement>(`#insn-${index}`);
    if (!row) return;
    this.#selected?.classList.remove('selected');
    this.#selected?.removeAttribute('aria-current');
    row.classList.add('selected');
    row.setAttribute('aria-current', 'true');
    this.#selected = row;
    row.scrollIntoView({ block: 'nearest' });
    if (focus) row.focus({ preventScroll: true });
  }

  /** Stops laying out rows (the view is being replaced). */
  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
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
      const label = this.#labels.get(insn.jumpTarget);
      target = { href: this.#route(insn.jumpTarget), name: label === undefined ? '' : `<${label}>`, title: `go to instruction ${insn.jumpTarget}` };
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
      const insn = insns[Math.max(0, Math.min(insns.length - 1, to))];
      if (!insn) return;
      e.preventDefault();
      this.select(insn.index);
      history.replaceState(null, '', this.#route(insn.index));
    };
    switch (e.key) {
      case 'ArrowDown': move(at + 1); break;
      case 'ArrowUp': move(at - 1); break;
      case 'PageDown': move(at + 20); break;
      case 'PageUp': move(at - 20); break;
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
