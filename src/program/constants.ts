// Constants set before load: new values for `const volatile` variables of an object's `.rodata` and
// `.rodata.*` sections, written into the initial contents of their maps before the maps are frozen
// (what libbpf skeletons' rodata and cilium/ebpf's RewriteConstants do). Variables are found by name
// in the object's BTF DATASECs; their offsets come from the ELF symbols, since clang leaves DATASEC
// offsets at 0 in object files. Values are checked against the variable's BTF type.
import { describeSection, inObject, quoted } from '../sys/describe.js';
import { mapInitialData, type BtfType, type ElfMapSpec, type ObjectInfo } from '../inspect.js';

/** A value for a constant: an integer (enum and _Bool included), or the exact bytes of any type. */
export type ConstantValue = number | bigint | boolean | Uint8Array;

/** Constants by variable name. */
export type Constants = Readonly<Record<string, ConstantValue>>;

/** A constant that cannot be set: unknown name, not in `.rodata`, wrong size or out of range. */
export class ConstantError extends Error {
  override name = 'ConstantError';

  constructor(
    /** The variable's name. */
    readonly constant: string,
    /** What is wrong, without the names. */
    readonly reason: string,
    /** The object's name (loadElf: its path), when known. */
    readonly object?: string,
  ) {
    super(inObject(object, `constant ${quoted(constant)}: ${reason}`));
  }
}

/** Throws a TypeError for a value that is none of the ConstantValue kinds (checked before any object is seen). */
export function checkConstantValues(constants: Constants): void {
  for (const [name, value] of Object.entries(constants)) {
    const ok = typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value instanceof Uint8Array;
    if (!ok) throw new TypeError(`constant ${quoted(name)}: ${describeValue(value)} is not a number, bigint, boolean or Uint8Array`);
  }
}

/** A variable of one of the object's DATASECs. */
interface Variable {
  name: string;
  /** The DATASEC (= ELF section) name. */
  section: string;
  sectionIndex: number | undefined;
  /** The VAR type. */
  type: BtfType;
  datasecOffset: number;
}

/** What the BTF says a constant's value is. */
type ValueShape =
  | { kind: 'integer'; size: number; signed: boolean; bool: boolean }
  | { kind: 'bytes'; size: number };

function isRodata(section: string): boolean {
  return section === '.rodata' || section.startsWith('.rodata.');
}

/**
 * The initial contents of the object's `.rodata` maps with `constants` written in, by map index
 * (`ElfMapSpec.index`); maps with no constant set are left out. `object` must come from
 * `inspect(bytes, { btfTypes: true })` (`withoutC: true` is enough, and much cheaper). Throws a ConstantError for the first constant that cannot be
 * set, naming it, its section and (when given) `objectName`.
 */
export function rodataWithConstants(bytes: Uint8Array, object: ObjectInfo, constants: Constants, objectName?: string): Map<number, Uint8Array> {
  try {
    return writeConstants(bytes, object, constants);
  } catch (e) {
    if (e instanceof ConstantError && objectName !== undefined) throw new ConstantError(e.constant, e.reason, objectName);
    throw e;
  }
}

function writeConstants(bytes: Uint8Array, object: ObjectInfo, constants: Constants): Map<number, Uint8Array> {
  const contents = new Map<number, Uint8Array>();
  const names = Object.keys(constants);
  if (names.length === 0) return contents;
  checkConstantValues(constants);
  const types = object.btf?.types;
  if (!types) {
    throw new ConstantError(names[0]!, object.btf
      ? 'the object was inspected without its BTF types (inspect(bytes, { btfTypes: true, withoutC: true }))'
      : 'the object has no BTF, so its .rodata variables cannot be found by name (compile with clang -g)');
  }
  const variables = variablesByName(object, types);
  for (const name of names) {
    const variable = rodataVariable(types, name, variables.get(name) ?? []);
    const map = object.maps.find((m) => m.origin === 'rodata' && m.sectionIndex === variable.sectionIndex);
    if (!map) throw new ConstantError(name, `${describeSection(variable.section)} has no map to write it into`);
    let data = contents.get(map.index);
    if (!data) {
      data = initialContents(bytes, map);
      contents.set(map.index, data);
    }
    const offset = variableOffset(object, variable);
    const shape = valueShape(types, variable.type);
    const where = `${describeVariable(types, variable.type)} in ${variable.section}`;
    if (offset + shape.size > data.length) {
      throw new ConstantError(name, `${where} lies at ${offset}..${offset + shape.size}, past the section's ${data.length} bytes`);
    }
    writeValue(data.subarray(offset, offset + shape.size), shape, constants[name]!, object.endian === 'little', name, where);
  }
  return contents;
}

function variablesByName(object: ObjectInfo, types: readonly BtfType[]): Map<string, Variable[]> {
  const byName = new Map<string, Variable[]>();
  for (const datasec of types) {
    if (datasec.kind !== 'datasec') continue;
    const sectionIndex = object.sections.find((s) => s.name === datasec.name)?.index;
    for (const entry of datasec.vars ?? []) {
      const type = types[entry.type];
      if (type?.kind !== 'var') continue;
      const list = byName.get(type.name) ?? [];
      list.push({ name: type.name, section: datasec.name, sectionIndex, type, datasecOffset: entry.offset });
      byName.set(type.name, list);
    }
  }
  return byName;
}

/** The one `.rodata` variable called `name`, or a ConstantError saying why there is none. */
function rodataVariable(types: readonly BtfType[], name: string, candidates: Variable[]): Variable {
  const rodata = candidates.filter((v) => isRodata(v.section));
  if (rodata.length === 1) return rodata[0]!;
  if (rodata.length > 1) {
    throw new ConstantError(name, `ambiguous: there is one in each of ${rodata.map((v) => v.section).join(', ')}`);
  }
  const other = candidates[0];
  if (!other) throw new ConstantError(name, 'no variable of that name in the object\'s .rodata sections');
  const why = other.section === '.bss' ? 'zero-initialised and writable'
    : other.section === '.data' ? 'writable: update the .data map after load instead'
    : other.section === '.kconfig' ? 'an extern the loader resolves from the kernel configuration'
    : 'not in a .rodata section';
  throw new ConstantError(name, `${describeVariable(types, other.type)} is in ${other.section}, not a constant (${why})`);
}

/** The variable's byte offset in its section: its ELF symbol's value, else the DATASEC offset. */
function variableOffset(object: ObjectInfo, variable: Variable): number {
  const symbol = object.symbols.find((s) => s.name === variable.name && s.section === variable.sectionIndex && s.type === 'object');
  return symbol === undefined ? variable.datasecOffset : Number(symbol.value);
}

function initialContents(bytes: Uint8Array, map: ElfMapSpec): Uint8Array {
  const data = new Uint8Array(map.valueSize);
  const initial = mapInitialData(bytes, map);
  if (initial) data.set(initial.subarray(0, data.length));
  return data;
}

/** Follows typedefs and qualifiers to the type that says how the value is stored. */
function valueShape(types: readonly BtfType[], variable: BtfType): ValueShape {
  let type = types[variable.type ?? 0];
  for (let hops = 0; type && hops < 64; hops++) {
    switch (type.kind) {
      case 'typedef': case 'const': case 'volatile': case 'restrict': case 'type_tag':
        type = types[type.type ?? 0];
        continue;
      case 'int':
        return { kind: 'integer', size: type.size ?? 0, signed: type.encoding?.signed ?? false, bool: type.encoding?.bool ?? false };
      case 'enum': case 'enum64':
        return { kind: 'integer', size: type.size ?? 0, signed: type.kindFlag ?? false, bool: false };
      default:
        return { kind: 'bytes', size: sizeOf(types, type.id) };
    }
  }
  throw new ConstantError(variable.name, `the BTF type ${variable.type ?? 0} of variable ${quoted(variable.name)} does not resolve`);
}

function sizeOf(types: readonly BtfType[], id: number): number {
  let type = types[id];
  for (let hops = 0; type && hops < 64; hops++) {
    if (type.kind === 'ptr') return 8;
    if (type.kind === 'array') return sizeOf(types, type.type ?? 0) * (type.nelems ?? 0);
    if (type.size !== undefined) return type.size;
    type = types[type.type ?? 0];
  }
  return 0;
}

function writeValue(target: Uint8Array, shape: ValueShape, value: ConstantValue, littleEndian: boolean, name: string, where: string): void {
  if (value instanceof Uint8Array) {
    if (value.length !== shape.size) {
      throw new ConstantError(name, `${where} is ${shape.size} bytes; a Uint8Array of ${value.length} bytes was given`);
    }
    target.set(value);
    return;
  }
  if (shape.kind !== 'integer') {
    throw new ConstantError(name, `${where} is not an integer: give its ${shape.size} bytes as a Uint8Array, not ${describeValue(value)}`);
  }
  let integer: bigint;
  if (typeof value === 'boolean') integer = value ? 1n : 0n;
  else if (typeof value === 'bigint') integer = value;
  else if (Number.isSafeInteger(value)) integer = BigInt(value);
  else throw new ConstantError(name, `${where}: ${value} is not an integer a number holds exactly (use a bigint)`);
  const bits = BigInt(shape.size * 8);
  const [min, max] = shape.bool ? [0n, 1n]
    : shape.signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n]
    : [0n, (1n << bits) - 1n];
  if (integer < min || integer > max) {
    throw new ConstantError(name, `${where}: ${integer} is out of range ${min}..${max}`);
  }
  let unsigned = BigInt.asUintN(Number(bits), integer);
  for (let i = 0; i < shape.size; i++) {
    target[littleEndian ? i : shape.size - 1 - i] = Number(unsigned & 0xffn);
    unsigned >>= 8n;
  }
}

const QUALIFIERS = ['const', 'volatile', 'restrict'] as const;

/** "const volatile __u8 mac[6]": the VAR's declaration in short, for messages (typedefs by name). */
function describeVariable(types: readonly BtfType[], variable: BtfType): string {
  const qualifiers = new Set<string>();
  let dimensions = '';
  let type = types[variable.type ?? 0];
  let base = 'void';
  for (let hops = 0; type && hops < 64; hops++) {
    if ((QUALIFIERS as readonly string[]).includes(type.kind)) qualifiers.add(type.kind);
    else if (type.kind === 'array') dimensions += `[${type.nelems ?? 0}]`;
    else if (type.kind !== 'type_tag') {
      const tag = type.kind === 'struct' || type.kind === 'union' ? `${type.kind} ` : type.kind === 'enum' || type.kind === 'enum64' ? 'enum ' : '';
      base = type.kind === 'ptr' ? 'pointer' : `${tag}${type.name || '(anonymous)'}`;
      break;
    }
    type = types[type.type ?? 0];
  }
  return [...QUALIFIERS.filter((q) => qualifiers.has(q)), base, `${variable.name}${dimensions}`].join(' ');
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'object'}`;
  return `${typeof value} ${String(value)}`;
}
