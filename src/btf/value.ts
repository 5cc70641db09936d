// Map keys and values (or global data) shown through their BTF type, as `bpftool map dump` formats
// them: integers as numbers, char arrays as strings, enums by name, structs as objects, bitfields and
// 128-bit integers as hex strings, variables and data sections by name. Browser-safe.
import type { BtfType } from './types.js';

/** A formatted value: JSON data, with integers past 2^53 as bigint (see stringifyBtfValue). */
export type BtfValue = number | bigint | string | boolean | BtfValue[] | { [name: string]: BtfValue };

export interface FormatValueOptions {
  /** The bytes are big-endian (an object of `clang -target bpfeb`). Default false (the kernel's maps here). */
  bigEndian?: boolean;
}

const MAX_DEPTH = 64;

class ValueFormatter {
  readonly #types: readonly BtfType[];
  readonly #le: boolean;

  constructor(types: readonly BtfType[], bigEndian: boolean) {
    this.#types = types;
    this.#le = !bigEndian;
  }

  #t(id: number): BtfType | undefined {
    return this.#types[id];
  }

  /** The unsigned integer of `size` bytes at `at`. */
  #uint(bytes: Uint8Array, at: number, size: number): bigint {
    let v = 0n;
    for (let i = 0; i < size; i++) {
      const b = BigInt(bytes[at + (this.#le ? size - 1 - i : i)] ?? 0);
      v = (v << 8n) | b;
    }
    return v;
  }

  sizeOf(id: number, depth = 0): number {
    const t = this.#t(id);
    if (!t || depth > MAX_DEPTH) return 0;
    switch (t.kind) {
      case 'int': case 'float': case 'enum': case 'enum64': case 'struct': case 'union': case 'datasec': return t.size ?? 0;
      case 'ptr': return 8;
      case 'array': return (t.nelems ?? 0) * this.sizeOf(t.type ?? 0, depth + 1);
      case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag': case 'var': case 'decl_tag':
        return this.sizeOf(t.type ?? 0, depth + 1);
      default: return 0;
    }
  }

  format(id: number, bytes: Uint8Array, at: number, bitOffset: number, depth: number): BtfValue {
    const t = this.#t(id);
    if (!t || id === 0) return '(unknown)';
    if (depth > MAX_DEPTH) throw new RangeError(`BTF type ${id}: nested more than ${MAX_DEPTH} deep`);
    switch (t.kind) {
      case 'int': return this.#int(t, bytes, at, bitOffset);
      case 'float': {
        const size = t.size ?? 0;
        const view = new DataView(bytes.buffer, bytes.byteOffset + at, size);
        if (size === 4) return view.getFloat32(0, this.#le);
        if (size === 8) return view.getFloat64(0, this.#le);
        return `0x${this.#uint(bytes, at, size).toString(16)}`;
      }
      case 'ptr': return exact(this.#uint(bytes, at, 8));
      case 'enum': {
        const size = t.size ?? 4;
        const value = BigInt.asIntN(size * 8, this.#uint(bytes, at, size));
        const match = t.values?.find((v) => BigInt.asIntN(32, BigInt(v.value)) === value);
        return match ? match.name : exact(value);
      }
      case 'enum64': {
        const value = this.#uint(bytes, at, 8);
        const match = t.values?.find((v) => BigInt.asUintN(64, BigInt(v.value)) === value);
        return match ? match.name : exact(BigInt.asIntN(64, value));
      }
      case 'array': return this.#array(t, bytes, at, depth);
      case 'struct': case 'union': {
        const out: { [name: string]: BtfValue } = {};
        for (const m of t.members ?? []) {
          const byte = at + Math.floor(m.bitOffset / 8);
          out[m.name] = m.bitfieldSize
            ? this.#bitfield(bytes, byte, m.bitfieldSize, m.bitOffset % 8)
            : this.format(m.type, bytes, byte, m.bitOffset % 8, depth + 1);
        }
        return out;
      }
      case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
        return this.format(t.type ?? 0, bytes, at, bitOffset, depth + 1);
      case 'var':
        return { [t.name]: this.format(t.type ?? 0, bytes, at, bitOffset, depth + 1) };
      case 'datasec':
        return { [t.name]: (t.vars ?? []).map((v) => this.format(v.type, bytes, at + v.offset, 0, depth + 1)) };
      case 'fwd':
        return '(fwd-kind-invalid)';
      default:
        return `(unsupported-kind ${t.kind})`;
    }
  }

  #int(t: BtfType, bytes: Uint8Array, at: number, bitOffset: number): BtfValue {
    const enc = t.encoding ?? { bits: (t.size ?? 0) * 8, offset: 0, signed: false, char: false, bool: false };
    if (bitOffset || enc.offset || enc.bits % 8) {
      const total = bitOffset + enc.offset;
      return this.#bitfield(bytes, at + Math.floor(total / 8), enc.bits, total % 8);
    }
    if (enc.bits === 128) {
      const v = this.#uint(bytes, at, 16);
      return `0x${v.toString(16)}`;
    }
    const size = enc.bits / 8;
    const raw = this.#uint(bytes, at, size);
    if (enc.bool) return raw !== 0n;
    if (enc.char) {
      return String.fromCharCode(Number(raw)); // JSON escapes what is not printable, as bpftool does
    }
    if (![8, 16, 32, 64].includes(enc.bits)) return this.#bitfield(bytes, at, enc.bits, 0);
    return exact(enc.signed ? BigInt.asIntN(enc.bits, raw) : raw);
  }

  /** bpftool's bitfield: the bits as an unsigned hex string. */
  #bitfield(bytes: Uint8Array, at: number, bits: number, bitOffset: number): string {
    const size = Math.ceil((bitOffset + bits) / 8);
    const v = this.#uint(bytes, at, size);
    // Little-endian bitfields count from the low bit; big-endian ones from the high bit.
    const shift = this.#le ? BigInt(bitOffset) : BigInt(size * 8 - bitOffset - bits);
    return `0x${((v >> shift) & ((1n << BigInt(bits)) - 1n)).toString(16)}`;
  }

  #array(t: BtfType, bytes: Uint8Array, at: number, depth: number): BtfValue {
    const n = t.nelems ?? 0;
    const elem = t.type ?? 0;
    if (this.#isCharArray(elem) && n > 0) {
      const end = at + n;
      let s = '';
      for (let i = at; i < end; i++) {
        const c = bytes[i] ?? 0;
        if (c === 0) return s;
        if (c <= 0x1f || c >= 0x7f) break;
        s += String.fromCharCode(c);
      }
    }
    const size = this.sizeOf(elem);
    const out: BtfValue[] = [];
    for (let i = 0; i < n; i++) out.push(this.format(elem, bytes, at + i * size, 0, depth + 1));
    return out;
  }

  /** An array bpftool prints as a string: of 1-byte ints (modifiers skipped, not typedefs) of char encoding or named char. */
  #isCharArray(elem: number): boolean {
    let t = this.#t(elem);
    for (let i = 0; t && (t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag') && i < MAX_DEPTH; i++) t = this.#t(t.type ?? 0);
    return !!t && t.kind === 'int' && t.size === 1 && (t.encoding?.char === true || t.name === 'char');
  }
}

function exact(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * The bytes of a value of BTF type `typeId` (of the type table `types`, index = id) formatted as
 * `bpftool map dump` shows it. Bytes past the end read as zero; a type nested past 64 levels throws.
 */
export function formatBtfValue(types: readonly BtfType[], typeId: number, bytes: Uint8Array, options: FormatValueOptions = {}): BtfValue {
  return new ValueFormatter(types, options.bigEndian ?? false).format(typeId, bytes, 0, 0, 0);
}

/** JSON text of a formatted value, bigints written as plain JSON numbers (as bpftool writes them). */
export function stringifyBtfValue(value: unknown, indent?: number | string): string {
  const marks: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    marks.push(v.toString());
    return `\u0000bigint${marks.length - 1}\u0000`;
  }, indent);
  return text.replace(/"\\u0000bigint(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)]!);
}
