// BTF as a compilable C header, as `bpftool btf dump ... format c` writes vmlinux.h: libbpf's
// btf_dump algorithm (tools/lib/bpf/btf_dump.c) in TypeScript. Types are ordered topologically so
// that everything embedded is defined before use and what is only pointed to is forward-declared;
// struct layouts are reproduced with explicit padding and `packed` where natural alignment would
// differ; duplicate names get libbpf's `___N` suffixes. Browser-safe.
import type { BtfType } from './types.js';

const PTR_SIZE = 8;
const enum Order { None, Ordering, Ordered }
const enum Emit { None, Emitting, Emitted }

interface State {
  order: Order;
  emit: Emit;
  fwdEmitted: boolean;
  referenced: boolean;
  nameResolved: boolean;
  cachedName?: string;
}

export interface CHeaderOptions {
  /** Wrap in vmlinux.h's include guard and preserve_access_index pragma, as bpftool does. Default true. */
  header?: boolean;
  /** Only these type ids (and what they need); default every type. */
  roots?: readonly number[];
}

const MISSING_BASE_TYPES: Readonly<Record<string, string>> = {
  __Poly8_t: 'unsigned char', __Poly16_t: 'unsigned short', __Poly64_t: 'unsigned long long', __Poly128_t: 'unsigned __int128',
};

const isComposite = (t: BtfType): boolean => t.kind === 'struct' || t.kind === 'union';
const isModifier = (t: BtfType): boolean => t.kind === 'volatile' || t.kind === 'const' || t.kind === 'restrict' || t.kind === 'type_tag';

/** A BTF type table (index = id, types[0] void) as C declarations. */
class CDumper {
  readonly #types: readonly BtfType[];
  readonly #states: State[];
  readonly #typeNames = new Map<string, number>();
  readonly #identNames = new Map<string, number>();
  readonly #out: string[] = [];
  #queue: number[] = [];

  constructor(types: readonly BtfType[]) {
    this.#types = types;
    this.#states = types.map(() => ({ order: Order.None, emit: Emit.None, fwdEmitted: false, referenced: false, nameResolved: false }));
    // void needs no definition (and, as in libbpf, counts as a strong link).
    if (this.#states[0]) Object.assign(this.#states[0], { order: Order.Ordered, emit: Emit.Emitted });
    this.#markReferenced();
  }

  get text(): string {
    return this.#out.join('');
  }

  #t(id: number): BtfType {
    const t = this.#types[id];
    if (!t) throw new RangeError(`BTF type id ${id} is out of range (${this.#types.length} types)`);
    return t;
  }

  #print(s: string): void {
    this.#out.push(s);
  }

  #markReferenced(): void {
    const mark = (id: number | undefined): void => {
      if (id !== undefined && this.#states[id]) this.#states[id]!.referenced = true;
    };
    for (const t of this.#types) {
      if (t.id === 0) continue;
      switch (t.kind) {
        case 'volatile': case 'const': case 'restrict': case 'ptr': case 'typedef': case 'func': case 'var':
        case 'decl_tag': case 'type_tag':
          mark(t.type ?? 0);
          break;
        case 'array':
          mark(t.indexType);
          mark(t.type);
          break;
        case 'struct': case 'union':
          for (const m of t.members ?? []) mark(m.type);
          break;
        case 'func_proto':
          for (const p of t.params ?? []) mark(p.type);
          break;
        case 'datasec':
          for (const v of t.vars ?? []) mark(v.type);
          break;
        default:
          break;
      }
    }
  }

  /** btf_dump__dump_type: orders `id` and what it needs, then emits them. */
  dumpType(id: number): void {
    this.#queue = [];
    if (this.#order(id, false) < 0) return;
    for (const q of this.#queue) this.#emit(q, 0);
  }

  /** 1 strong link, 0 weak (a forward declaration suffices), -1 an unsatisfiable loop. */
  #order(id: number, throughPtr: boolean): number {
    const s = this.#states[id]!;
    if (s.order === Order.Ordered) return 1;
    const t = this.#t(id);
    if (s.order === Order.Ordering) {
      if (isComposite(t) && throughPtr && t.name !== '') return 0;
      return -1;
    }
    switch (t.kind) {
      case 'int': case 'float':
        s.order = Order.Ordered;
        return 0;
      case 'ptr': {
        const err = this.#order(t.type ?? 0, true);
        s.order = Order.Ordered;
        return err;
      }
      case 'array':
        return this.#order(t.type ?? 0, false);
      case 'struct': case 'union': {
        if (throughPtr && t.name !== '') return 0;
        s.order = Order.Ordering;
        for (const m of t.members ?? []) if (this.#order(m.type, false) < 0) return -1;
        if (t.name !== '') this.#queue.push(id);
        s.order = Order.Ordered;
        return 1;
      }
      case 'enum': case 'enum64': case 'fwd':
        if (t.name !== '' || !s.referenced) this.#queue.push(id);
        s.order = Order.Ordered;
        return 1;
      case 'typedef': {
        const strong = this.#order(t.type ?? 0, throughPtr);
        if (strong < 0) return strong;
        if (throughPtr && !strong) return 0;
        this.#queue.push(id);
        s.order = Order.Ordered;
        return 1;
      }
      case 'volatile': case 'const': case 'restrict': case 'type_tag':
        return this.#order(t.type ?? 0, throughPtr);
      case 'func_proto': {
        const ret = this.#order(t.type ?? 0, throughPtr);
        if (ret < 0) return ret;
        let strong = ret > 0;
        for (const p of t.params ?? []) {
          const e = this.#order(p.type, throughPtr);
          if (e < 0) return e;
          if (e > 0) strong = true;
        }
        return strong ? 1 : 0;
      }
      default: // func, var, datasec, decl_tag
        s.order = Order.Ordered;
        return 0;
    }
  }

  #emit(id: number, contId: number): void {
    const s = this.#states[id]!;
    if (s.emit === Emit.Emitted) return;
    const t = this.#t(id);
    const topLevel = contId === 0;
    if (s.emit === Emit.Emitting) {
      if (s.fwdEmitted) return;
      if (isComposite(t)) {
        if (id === contId || t.name === '') return;
        this.#structFwd(id, t);
        this.#print(';\n\n');
        s.fwdEmitted = true;
      } else if (t.kind === 'typedef') {
        if (!this.#blacklisted(t)) {
          this.#typedefDef(id, t, 0);
          this.#print(';\n\n');
        }
        s.fwdEmitted = true;
      }
      return;
    }
    switch (t.kind) {
      case 'int': {
        const alias = MISSING_BASE_TYPES[this.#typeName(id)];
        if (alias !== undefined) this.#print(`typedef ${alias} ${this.#typeName(id)};\n\n`);
        s.emit = Emit.Emitted;
        break;
      }
      case 'enum': case 'enum64':
        if (topLevel) {
          this.#enumDef(id, t, 0);
          this.#print(';\n\n');
        }
        s.emit = Emit.Emitted;
        break;
      case 'ptr': case 'volatile': case 'const': case 'restrict': case 'type_tag': case 'array':
        this.#emit(t.type ?? 0, contId);
        break;
      case 'fwd':
        this.#fwdDef(id, t);
        this.#print(';\n\n');
        s.emit = Emit.Emitted;
        break;
      case 'typedef':
        s.emit = Emit.Emitting;
        this.#emit(t.type ?? 0, id);
        if (!s.fwdEmitted && !this.#blacklisted(t)) {
          this.#typedefDef(id, t, 0);
          this.#print(';\n\n');
        }
        s.emit = Emit.Emitted;
        break;
      case 'struct': case 'union':
        s.emit = Emit.Emitting;
        if (topLevel || t.name === '') {
          const newCont = t.name === '' ? contId : id;
          for (const m of t.members ?? []) this.#emit(m.type, newCont);
        } else if (!s.fwdEmitted && id !== contId) {
          this.#structFwd(id, t);
          this.#print(';\n\n');
          s.fwdEmitted = true;
        }
        if (topLevel) {
          this.#structDef(id, t, 0);
          this.#print(';\n\n');
          s.emit = Emit.Emitted;
        } else s.emit = Emit.None;
        break;
      case 'func_proto':
        this.#emit(t.type ?? 0, contId);
        for (const p of t.params ?? []) this.#emit(p.type, contId);
        break;
      default:
        break;
    }
  }

  #blacklisted(t: BtfType): boolean {
    return t.name === '__builtin_va_list';
  }

  // ---- names --------------------------------------------------------------------------------------

  #dups(map: Map<string, number>, name: string): number {
    const n = (map.get(name) ?? 0) + 1;
    map.set(name, n);
    return n;
  }

  #resolveName(id: number, map: Map<string, number>): string {
    const t = this.#t(id);
    const s = this.#states[id]!;
    if (t.name === '') return '';
    if (s.nameResolved) return s.cachedName ?? t.name;
    if (t.kind === 'fwd' || (t.kind === 'enum' && (t.values?.length ?? 0) === 0)) {
      s.nameResolved = true;
      return t.name;
    }
    const n = this.#dups(map, t.name);
    if (n > 1) s.cachedName = `${t.name}___${n}`;
    s.nameResolved = true;
    return s.cachedName ?? t.name;
  }

  #typeName(id: number): string {
    return this.#resolveName(id, this.#typeNames);
  }

  #identName(id: number): string {
    return this.#resolveName(id, this.#identNames);
  }

  // ---- definitions --------------------------------------------------------------------------------

  #structFwd(id: number, t: BtfType): void {
    const name = this.#typeName(id);
    this.#print(`${t.kind === 'struct' ? 'struct' : 'union'}${t.name ? ' ' : ''}${name}`);
  }

  #fwdDef(id: number, t: BtfType): void {
    this.#print(`${t.kindFlag ? 'union' : 'struct'} ${this.#typeName(id)}`);
  }

  #typedefDef(id: number, t: BtfType, lvl: number): void {
    const name = this.#identName(id);
    if ((t.type ?? 0) === 0 && name === '__gnuc_va_list') {
      this.#print('typedef __builtin_va_list __gnuc_va_list');
      return;
    }
    this.#print('typedef ');
    this.#typeDecl(t.type ?? 0, name, lvl);
  }

  #enumDef(id: number, t: BtfType, lvl: number): void {
    const values = t.values ?? [];
    this.#print(`enum${t.name ? ' ' : ''}${this.#typeName(id)}`);
    if (values.length === 0) return;
    this.#print(' {');
    const signed = t.kindFlag === true;
    for (const v of values) {
      const dup = this.#dups(this.#identNames, v.name);
      const name = dup > 1 ? `${v.name}___${dup}` : v.name;
      const value = BigInt(v.value);
      if (t.kind === 'enum') {
        const shown = signed ? BigInt.asIntN(32, value) : BigInt.asUintN(32, value);
        this.#print(`\n${pfx(lvl + 1)}${name} = ${shown},`);
      } else {
        const shown = signed ? BigInt.asIntN(64, value) : BigInt.asUintN(64, value);
        this.#print(`\n${pfx(lvl + 1)}${name} = ${shown}${signed ? 'LL' : 'ULL'},`);
      }
    }
    this.#print(`\n${pfx(lvl)}}`);
    if (t.size === 1) this.#print(' __attribute__((mode(byte)))');
    else if (t.size === 8) {
      const needsWord = t.kind === 'enum' || values.every((v) => (BigInt.asUintN(64, BigInt(v.value)) >> 32n) === 0n);
      if (needsWord) this.#print(' __attribute__((mode(word)))');
    }
  }

  #structDef(id: number, t: BtfType, lvl: number): void {
    const isStruct = t.kind === 'struct';
    const members = t.members ?? [];
    const align = this.alignOf(id);
    const packed = isStruct ? this.#isPacked(t) : false;
    this.#print(`${isStruct ? 'struct' : 'union'}${t.name ? ' ' : ''}${this.#typeName(id)} {`);
    let off = 0, prevBitfield = false;
    for (const m of members) {
      const mSize = m.bitfieldSize, mOff = m.bitOffset;
      const mAlign = packed ? 1 : this.alignOf(m.type);
      const inBitfield = prevBitfield && mSize !== 0;
      this.#bitPadding(off, mOff, mAlign, inBitfield, lvl + 1);
      this.#print(`\n${pfx(lvl + 1)}`);
      this.#typeDecl(m.type, m.name, lvl + 1);
      if (mSize) {
        this.#print(`: ${mSize}`);
        off = mOff + mSize;
        prevBitfield = true;
      } else {
        off = mOff + Math.max(0, this.resolveSize(m.type)) * 8;
        prevBitfield = false;
      }
      this.#print(';');
    }
    if (isStruct) this.#bitPadding(off, (t.size ?? 0) * 8, align, false, lvl + 1);
    if (members.length || t.size) this.#print(`\n${pfx(lvl)}}`);
    else this.#print('}');
    if (packed) this.#print(' __attribute__((packed))');
  }

  #isPacked(t: BtfType): boolean {
    let maxAlign = 1;
    for (const m of t.members ?? []) {
      const align = this.alignOf(m.type);
      if (align && m.bitfieldSize === 0 && m.bitOffset % (8 * align) !== 0) return true;
      maxAlign = Math.max(align, maxAlign);
    }
    return (t.size ?? 0) % maxAlign !== 0;
  }

  #bitPadding(curOff: number, nextOff: number, nextAlign: number, inBitfield: boolean, lvl: number): void {
    const pads: [string, number][] = [['long', PTR_SIZE * 8], ['int', 32], ['short', 16], ['char', 8]];
    if (curOff >= nextOff) return;
    let newOff = 0, padBits = 0, padType = '';
    for (const [name, bits] of pads) {
      padBits = bits;
      padType = name;
      newOff = roundUp(curOff, bits);
      if (newOff <= nextOff) break;
    }
    if (newOff > curOff && newOff <= nextOff) {
      if (inBitfield || (newOff === nextOff && roundUp(curOff, nextAlign * 8) !== newOff) ||
        (newOff !== nextOff && nextOff - newOff <= newOff - curOff)) {
        this.#print(`\n${pfx(lvl)}${padType}: ${inBitfield ? newOff - curOff : 0};`);
      }
      curOff = newOff;
    }
    while (curOff !== nextOff) {
      const bits = Math.min(nextOff - curOff, padBits);
      if (bits === padBits) {
        this.#print(`\n${pfx(lvl)}${padType}: ${padBits};`);
        curOff += bits;
        continue;
      }
      for (let i = pads.length - 1; i >= 0; i--) {
        const [name, size] = pads[i]!;
        if (size < bits) continue;
        this.#print(`\n${pfx(lvl)}${name}: ${bits};`);
        curOff += bits;
        break;
      }
    }
  }

  // ---- declarations (btf_dump_emit_type_decl / emit_type_chain) ------------------------------------

  #typeDecl(id: number, fname: string, lvl: number): void {
    const stack: number[] = [];
    for (let guard = 0; guard < 1000; guard++) {
      stack.push(id);
      if (id === 0) break;
      const t = this.#t(id);
      if (t.kind === 'ptr' || isModifier(t) || t.kind === 'func_proto' || t.kind === 'array') id = t.type ?? 0;
      else break;
    }
    this.#typeChain(stack, fname, lvl);
  }

  #emitMods(stack: number[]): void {
    while (stack.length) {
      const t = this.#t(stack[stack.length - 1]!);
      if (t.kind === 'volatile') this.#print('volatile ');
      else if (t.kind === 'const') this.#print('const ');
      else if (t.kind === 'restrict') this.#print('restrict ');
      else return;
      stack.pop();
    }
  }

  #dropMods(stack: number[]): void {
    while (stack.length && isModifier(this.#t(stack[stack.length - 1]!))) stack.pop();
  }

  #name(fname: string, lastWasPtr: boolean): void {
    this.#print(`${fname && !lastWasPtr ? ' ' : ''}${fname}`);
  }

  #typeChain(stack: number[], fname: string, lvl: number): void {
    let lastWasPtr = true;
    while (stack.length) {
      const id = stack.pop()!;
      if (id === 0) {
        this.#emitMods(stack);
        this.#print('void');
        lastWasPtr = false;
        continue;
      }
      const t = this.#t(id);
      switch (t.kind) {
        case 'int': case 'float':
          this.#emitMods(stack);
          this.#print(t.name);
          break;
        case 'struct': case 'union':
          this.#emitMods(stack);
          if (t.name === '') this.#structDef(id, t, lvl);
          else this.#structFwd(id, t);
          break;
        case 'enum': case 'enum64':
          this.#emitMods(stack);
          if (t.name === '') this.#enumDef(id, t, lvl);
          else this.#print(`enum ${this.#typeName(id)}`);
          break;
        case 'fwd':
          this.#emitMods(stack);
          this.#fwdDef(id, t);
          break;
        case 'typedef':
          this.#emitMods(stack);
          this.#print(this.#identName(id));
          break;
        case 'ptr':
          this.#print(lastWasPtr ? '*' : ' *');
          break;
        case 'volatile':
          this.#print(' volatile');
          break;
        case 'const':
          this.#print(' const');
          break;
        case 'restrict':
          this.#print(' restrict');
          break;
        case 'type_tag':
          this.#emitMods(stack);
          this.#print(t.kindFlag ? ` __attribute__((${t.name}))` : ` __attribute__((btf_type_tag("${t.name}")))`);
          break;
        case 'array': {
          this.#dropMods(stack);
          if (stack.length === 0) {
            this.#name(fname, lastWasPtr);
            this.#print(`[${t.nelems ?? 0}]`);
            return;
          }
          const multidim = this.#t(stack[stack.length - 1]!).kind === 'array';
          if (fname && !lastWasPtr) this.#print(' ');
          if (!multidim) this.#print('(');
          this.#typeChain(stack, fname, lvl);
          if (!multidim) this.#print(')');
          this.#print(`[${t.nelems ?? 0}]`);
          return;
        }
        case 'func_proto': {
          const params = t.params ?? [];
          this.#dropMods(stack);
          if (stack.length) {
            this.#print(' (');
            this.#typeChain(stack, fname, lvl);
            this.#print(')');
          } else this.#name(fname, lastWasPtr);
          this.#print('(');
          if (params.length === 0 || (params.length === 1 && params[0]!.type === 0)) {
            this.#print('void)');
            return;
          }
          params.forEach((p, i) => {
            if (i > 0) this.#print(', ');
            if (i === params.length - 1 && p.type === 0) this.#print('...');
            else this.#typeDecl(p.type, p.name, lvl);
          });
          this.#print(')');
          return;
        }
        default:
          return;
      }
      lastWasPtr = t.kind === 'ptr';
    }
    this.#name(fname, lastWasPtr);
  }

  // ---- sizes and alignment (btf__align_of, btf__resolve_size) --------------------------------------

  alignOf(id: number, depth = 0): number {
    const t = this.#types[id];
    if (!t || depth > 64) return 0; // a struct embedding itself has no alignment
    switch (t.kind) {
      case 'int': case 'enum': case 'enum64': case 'float':
        return Math.min(PTR_SIZE, t.size ?? 0);
      case 'ptr':
        return PTR_SIZE;
      case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag': case 'array':
        return this.alignOf(t.type ?? 0, depth + 1);
      case 'struct': case 'union': {
        let maxAlign = 1;
        for (const m of t.members ?? []) {
          const align = this.alignOf(m.type, depth + 1);
          if (align <= 0) return 0;
          maxAlign = Math.max(maxAlign, align);
          if (m.bitfieldSize === 0 && m.bitOffset % (8 * align) !== 0) return 1;
        }
        return (t.size ?? 0) % maxAlign !== 0 ? 1 : maxAlign;
      }
      default:
        return 0;
    }
  }

  resolveSize(id: number): number {
    let nelems = 1;
    for (let depth = 0; depth < 32; depth++) {
      const t = this.#types[id];
      if (!t) return -1;
      switch (t.kind) {
        case 'int': case 'struct': case 'union': case 'enum': case 'enum64': case 'datasec': case 'float':
          return nelems * (t.size ?? 0);
        case 'ptr':
          return nelems * PTR_SIZE;
        case 'typedef': case 'volatile': case 'const': case 'restrict': case 'var': case 'decl_tag': case 'type_tag':
          id = t.type ?? 0;
          break;
        case 'array':
          nelems *= t.nelems ?? 0;
          id = t.type ?? 0;
          break;
        default:
          return -1;
      }
    }
    return -1;
  }
}

function pfx(lvl: number): string {
  return '\t'.repeat(Math.min(lvl, 13));
}

function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

/**
 * The types as a C header that compiles (`clang -target bpf`), in the order and spelling of libbpf's
 * btf_dump (what `bpftool btf dump file F format c` prints, vmlinux.h). `types` is a whole BTF type
 * table (index = id, [0] void), as `parseBtf` or `inspect(..., { btfTypes: true })` give it.
 */
export function renderCHeader(types: readonly BtfType[], options: CHeaderOptions = {}): string {
  const dumper = new CDumper(types);
  const roots = options.roots ?? types.map((t) => t.id).filter((id) => id > 0);
  for (const id of roots) dumper.dumpType(id);
  if (options.header === false) return dumper.text;
  return [
    '#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n',
    '#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n',
    dumper.text,
    '#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n',
  ].join('');
}

/** Byte alignment of a type as libbpf computes it (1 for packed structs; 0 for unsized kinds). */
export function btfAlignOf(types: readonly BtfType[], id: number): number {
  return new CDumper(types).alignOf(id);
}

/** Byte size of a type through typedefs, modifiers and arrays (-1 for kinds without one). */
export function btfSizeOf(types: readonly BtfType[], id: number): number {
  return new CDumper(types).resolveSize(id);
}
