// Typed records: turns a record's bytes into a plain object, from a BTF struct of the object (by type
// name, e.g. 'struct event') or from a layout the user gives. Browser-safe (no node: import).
import { quoted } from '../sys/describe.js';
import type { BtfType } from '../btf/types.js';
import { inspect } from '../inspect.js';

/** A scalar field: integers (64-bit ones as bigint), bool, floats. */
export type ScalarLayout = 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64' | 'bool' | 'f32' | 'f64';

/** How a record (or a field of it) is laid out. */
export type RecordLayout =
  | ScalarLayout
  /** A char array read as a string up to its first NUL (UTF-8). */
  | { string: number }
  /** Raw bytes (a copy). */
  | { bytes: number }
  | { array: RecordLayout; length: number }
  /** Fields at byte offsets; `size` defaults to the end of the last field. */
  | { fields: ReadonlyArray<{ name: string; offset: number; layout: RecordLayout; bits?: { offset: number; size: number } }>; size?: number };

/** A decoded record: plain data (numbers, bigints, strings, arrays, objects). */
export type DecodedValue = number | bigint | boolean | string | Uint8Array | DecodedValue[] | { [name: string]: DecodedValue };

type Reader = (view: DataView, offset: number) => DecodedValue;

const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const SCALARS: Record<ScalarLayout, [size: number, read: Reader]> = {
  u8: [1, (v, o) => v.getUint8(o)],
  i8: [1, (v, o) => v.getInt8(o)],
  bool: [1, (v, o) => v.getUint8(o) !== 0],
  u16: [2, (v, o) => v.getUint16(o, LITTLE)],
  i16: [2, (v, o) => v.getInt16(o, LITTLE)],
  u32: [4, (v, o) => v.getUint32(o, LITTLE)],
  i32: [4, (v, o) => v.getInt32(o, LITTLE)],
  f32: [4, (v, o) => v.getFloat32(o, LITTLE)],
  u64: [8, (v, o) => v.getBigUint64(o, LITTLE)],
  i64: [8, (v, o) => v.getBigInt64(o, LITTLE)],
  f64: [8, (v, o) => v.getFloat64(o, LITTLE)],
};

const utf8 = new TextDecoder();

/** Byte size of a layout. */
export function layoutSize(layout: RecordLayout): number {
  if (typeof layout === 'string') return SCALARS[layout][0];
  if ('string' in layout) return layout.string;
  if ('bytes' in layout) return layout.bytes;
  if ('array' in layout) return layoutSize(layout.array) * layout.length;
  return layout.size ?? layout.fields.reduce((end, f) => Math.max(end, f.offset + layoutSize(f.layout)), 0);
}

function bitfield(read: Reader, size: number, bits: { offset: number; size: number }): Reader {
  return (view, offset) => {
    const raw = read(view, offset);
    const word = typeof raw === 'bigint' ? raw : BigInt(raw as number);
    const value = (word >> BigInt(bits.offset)) & ((1n << BigInt(bits.size)) - 1n);
    return size === 8 ? value : Number(value);
  };
}

function compile(layout: RecordLayout): Reader {
  if (typeof layout === 'string') return SCALARS[layout][1];
  if ('string' in layout) {
    const length = layout.string;
    return (view, offset) => {
      const bytes = new Uint8Array(view.buffer, view.byteOffset + offset, length);
      const nul = bytes.indexOf(0);
      return utf8.decode(nul < 0 ? bytes : bytes.subarray(0, nul));
    };
  }
  if ('bytes' in layout) {
    const length = layout.bytes;
    return (view, offset) => new Uint8Array(view.buffer, view.byteOffset + offset, length).slice();
  }
  if ('array' in layout) {
    const element = compile(layout.array);
    const stride = layoutSize(layout.array);
    const length = layout.length;
    return (view, offset) => Array.from({ length }, (_, i) => element(view, offset + i * stride));
  }
  const fields = layout.fields.map((f) => {
    const read = compile(f.layout);
    return { name: f.name, offset: f.offset, read: f.bits ? bitfield(read, layoutSize(f.layout), f.bits) : read };
  });
  return (view, offset) => {
    const out: { [name: string]: DecodedValue } = {};
    for (const f of fields) out[f.name] = f.read(view, offset + f.offset);
    return out;
  };
}

/** Decodes records of one layout; `decode` refuses a record shorter than the layout. */
export class RecordDecoder {
  readonly layout: RecordLayout;
  /** Bytes a record must have at least. */
  readonly size: number;
  readonly #read: Reader;
  readonly #name: string;

  constructor(layout: RecordLayout, name = 'record') {
    this.layout = layout;
    this.size = layoutSize(layout);
    this.#read = compile(layout);
    this.#name = name;
  }

  /**
   * The record as a plain object (strings, numbers, bigints for 64-bit integers, arrays): `data`, or
   * the `size` bytes of it at `offset` (a batch's packed form: `decode(batch.bytes, batch.offsets[i],
   * batch.sizes[i])`, with no view made per record).
   */
  decode(data: Uint8Array, offset = 0, size = data.byteLength - offset): { [name: string]: DecodedValue } {
    if (!Number.isInteger(offset) || !Number.isInteger(size) || offset < 0 || size < 0 || offset + size > data.byteLength) {
      throw new RangeError(`RecordDecoder(${this.#name}): ${size} bytes at offset ${offset} are outside the ${data.byteLength}-byte buffer`);
    }
    if (size < this.size) throw new RangeError(`RecordDecoder(${this.#name}): a ${size}-byte record is shorter than the ${this.size}-byte layout`);
    const value = this.#read(new DataView(data.buffer, data.byteOffset + offset, size), 0);
    return typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array) ? value : { value };
  }

  /** A decoder of the BTF type named `name` ('struct event', 'event', a typedef name) among `types`. */
  static fromBtf(types: readonly BtfType[], name: string): RecordDecoder {
    const wanted = name.replace(/^(struct|union|enum)\s+/, '');
    const type = types.find((t) => t.name === wanted && ['struct', 'union', 'typedef', 'int', 'enum', 'enum64'].includes(t.kind));
    if (type === undefined) throw new Error(`no BTF type named ${quoted(name)} to decode records as`);
    return new RecordDecoder(btfLayout(types, type.id, name, 0), name);
  }

  /** A decoder of the BTF type `name` of an eBPF ELF object's .BTF. */
  static fromObject(elf: Uint8Array, name: string): RecordDecoder {
    const types = inspect(elf, { btfTypes: true, withoutC: true }).btf?.types;
    if (types === undefined) throw new Error(`the object has no .BTF to find the record type ${quoted(name)} in`);
    return RecordDecoder.fromBtf(types, name);
  }
}

function resolve(types: readonly BtfType[], id: number): BtfType {
  let type = types[id];
  for (let hops = 0; type !== undefined && ['typedef', 'const', 'volatile', 'restrict', 'type_tag'].includes(type.kind) && hops < 64; hops++) {
    type = types[type.type ?? 0];
  }
  if (type === undefined) throw new Error(`BTF type id ${id} does not exist`);
  return type;
}

function intLayout(size: number, signed: boolean): ScalarLayout {
  const bits = size * 8;
  if (bits !== 8 && bits !== 16 && bits !== 32 && bits !== 64) throw new Error(`${size}-byte integers are not decoded in records`);
  return `${signed ? 'i' : 'u'}${bits}` as ScalarLayout;
}

function btfLayout(types: readonly BtfType[], id: number, path: string, depth: number): RecordLayout {
  if (depth > 32) throw new Error(`record type ${quoted(path)}: types nest more than 32 deep`);
  const type = resolve(types, id);
  switch (type.kind) {
    case 'int':
      if (type.encoding?.bool) return 'bool';
      return intLayout(type.size ?? 0, type.encoding?.signed ?? false);
    case 'enum':
    case 'enum64':
      return intLayout(type.size ?? 4, type.kindFlag ?? false);
    case 'float':
      return type.size === 4 ? 'f32' : 'f64';
    case 'ptr':
      return 'u64';
    case 'array': {
      const element = resolve(types, type.type ?? 0);
      const length = type.nelems ?? 0;
      if (element.kind === 'int' && element.size === 1 && (element.encoding?.char || element.name === 'char')) return { string: length };
      return { array: btfLayout(types, element.id, `${path}[]`, depth + 1), length };
    }
    case 'struct':
    case 'union': {
      const fields = (type.members ?? []).map((m, i) => {
        const name = m.name || `_${i}`;
        const layout = btfLayout(types, m.type, `${path}.${name}`, depth + 1);
        if (m.bitfieldSize > 0) {
          const unit = layoutSize(layout);
          const offset = Math.floor(m.bitOffset / (unit * 8)) * unit;
          return { name, offset, layout, bits: { offset: m.bitOffset - offset * 8, size: m.bitfieldSize } };
        }
        return { name, offset: m.bitOffset / 8, layout };
      });
      return { fields, size: type.size ?? 0 };
    }
    default:
      return { bytes: type.size ?? 0 };
  }
}
