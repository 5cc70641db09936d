// Raw BTF (the kernel's /sys/kernel/btf/vmlinux, or a subset of it) for scripts/gen-sys.mjs: read the
// types, write the subset a set of root types needs, and answer what the generator asks (enum values,
// the member tree of a struct/union with byte offsets and sizes). Plain JS, no compiler, no bpftool.
// Format: https://docs.kernel.org/bpf/btf.html

const MAGIC = 0xeb9f;
const HEADER_LEN = 24;

export const KIND = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11,
  FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
};

/** Bytes after the 12-byte common header of a type of `kind` with `vlen` entries. */
function extraSize(kind, vlen) {
  switch (kind) {
    case KIND.INT: case KIND.VAR: case KIND.DECL_TAG: return 4;
    case KIND.ARRAY: return 12;
    case KIND.STRUCT: case KIND.UNION: case KIND.DATASEC: case KIND.ENUM64: return 12 * vlen;
    case KIND.ENUM: case KIND.FUNC_PROTO: return 8 * vlen;
    case KIND.PTR: case KIND.FWD: case KIND.TYPEDEF: case KIND.VOLATILE: case KIND.CONST: case KIND.RESTRICT:
    case KIND.FUNC: case KIND.FLOAT: case KIND.TYPE_TAG: return 0;
    default: throw new Error(`BTF: unknown type kind ${kind}`);
  }
}

/**
 * Types of a little-endian BTF blob: index = type id (0 is void). Each is
 * { id, kind, kindFlag, vlen, name, sizeOrType, raw (its bytes), refs: [{ at, id }] (where in raw a type id is) }.
 */
export function readBtf(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < HEADER_LEN || view.getUint16(0, true) !== MAGIC) throw new Error('BTF: bad magic (only little-endian BTF is read)');
  const hdrLen = view.getUint32(4, true);
  const typeOff = hdrLen + view.getUint32(8, true);
  const typeEnd = typeOff + view.getUint32(12, true);
  const strOff = hdrLen + view.getUint32(16, true);
  const strEnd = strOff + view.getUint32(20, true);
  if (typeEnd > bytes.length || strEnd > bytes.length) throw new Error('BTF: sections outside the blob');
  const decoder = new TextDecoder();
  const str = (off) => {
    if (off === 0) return '';
    const start = strOff + off;
    const end = bytes.indexOf(0, start);
    if (start >= strEnd || end < 0 || end >= strEnd) throw new Error(`BTF: string offset ${off} out of range`);
    return decoder.decode(bytes.subarray(start, end));
  };
  const types = [{ id: 0, kind: 0, name: '', vlen: 0, raw: new Uint8Array(0), refs: [] }];
  for (let next = typeOff; next < typeEnd;) {
    const at = next;
    const info = view.getUint32(at + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const size = 12 + extraSize(kind, vlen);
    const raw = bytes.subarray(at, at + size);
    const u32 = (o) => view.getUint32(at + o, true);
    const refs = [];
    const names = [0];
    if ([KIND.PTR, KIND.TYPEDEF, KIND.VOLATILE, KIND.CONST, KIND.RESTRICT, KIND.FUNC, KIND.FUNC_PROTO, KIND.VAR, KIND.DECL_TAG, KIND.TYPE_TAG].includes(kind)) refs.push(8);
    if (kind === KIND.ARRAY) refs.push(12, 16);
    if (kind === KIND.STRUCT || kind === KIND.UNION) for (let i = 0; i < vlen; i++) { names.push(12 + 12 * i); refs.push(16 + 12 * i); }
    if (kind === KIND.ENUM || kind === KIND.FUNC_PROTO) for (let i = 0; i < vlen; i++) names.push(12 + 8 * i);
    if (kind === KIND.FUNC_PROTO) for (let i = 0; i < vlen; i++) refs.push(16 + 8 * i);
    if (kind === KIND.ENUM64) for (let i = 0; i < vlen; i++) names.push(12 + 12 * i);
    if (kind === KIND.DATASEC) for (let i = 0; i < vlen; i++) refs.push(12 + 12 * i);
    types.push({
      id: types.length, kind, kindFlag: info >>> 31, vlen, name: str(u32(0)), sizeOrType: u32(8), raw,
      refs: refs.map((o) => ({ at: o, id: u32(o) })), names: names.map((o) => ({ at: o, name: str(u32(o)) })),
      u32, i32: (o) => view.getInt32(at + o, true),
    });
    next += size;
  }
  return types;
}

/** A BTF blob of `roots` and every type they reach, renumbered in their original order. */
export function subsetBtf(types, roots) {
  const keep = new Set();
  const visit = (id) => {
    if (id === 0 || keep.has(id)) return;
    keep.add(id);
    for (const ref of types[id].refs) visit(ref.id);
  };
  roots.forEach(visit);
  const ids = [...keep].sort((a, b) => a - b);
  const newId = new Map(ids.map((id, i) => [id, i + 1]));
  const strings = new Map([['', 0]]);
  const strParts = [new Uint8Array(1)];
  let strLen = 1;
  const intern = (s) => {
    if (!strings.has(s)) {
      const encoded = new TextEncoder().encode(`${s}\0`);
      strings.set(s, strLen);
      strParts.push(encoded);
      strLen += encoded.length;
    }
    return strings.get(s);
  };
  const typeParts = ids.map((id) => {
    const t = types[id];
    const raw = Uint8Array.from(t.raw);
    const view = new DataView(raw.buffer);
    for (const { at, name } of t.names) view.setUint32(at, intern(name), true);
    for (const { at, id: ref } of t.refs) view.setUint32(at, ref === 0 ? 0 : newId.get(ref), true);
    return raw;
  });
  const typeLen = typeParts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(HEADER_LEN + typeLen + strLen);
  const view = new DataView(out.buffer);
  view.setUint16(0, MAGIC, true);
  view.setUint8(2, 1);
  view.setUint32(4, HEADER_LEN, true);
  view.setUint32(8, 0, true);
  view.setUint32(12, typeLen, true);
  view.setUint32(16, typeLen, true);
  view.setUint32(20, strLen, true);
  let at = HEADER_LEN;
  for (const part of [...typeParts, ...strParts]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The type of `kind` named `name`; throws when there is none. */
export function findType(types, kind, name) {
  const found = types.find((t) => t.kind === kind && t.name === name);
  if (!found) throw new Error(`BTF: no ${Object.keys(KIND).find((k) => KIND[k] === kind)} ${name}`);
  return found;
}

/** Constants of an ENUM/ENUM64 type: [{ name, value }] in declaration order. */
export function enumValues(type) {
  const out = [];
  for (let i = 0; i < type.vlen; i++) {
    if (type.kind === KIND.ENUM) {
      const value = type.kindFlag ? type.i32(16 + 8 * i) : type.u32(16 + 8 * i);
      out.push({ name: type.names[i + 1].name, value });
    } else {
      const value = (BigInt(type.u32(20 + 12 * i)) << 32n) | BigInt(type.u32(16 + 12 * i));
      out.push({ name: type.names[i + 1].name, value: Number(value) });
    }
  }
  return out;
}

/** Anonymous ENUM/ENUM64 types. */
export function anonymousEnums(types) {
  return types.filter((t) => (t.kind === KIND.ENUM || t.kind === KIND.ENUM64) && t.name === '');
}

/** The byte size of a type (typedefs and qualifiers resolved, arrays multiplied out). */
export function sizeOf(types, id) {
  const t = types[id];
  switch (t.kind) {
    case KIND.INT: case KIND.STRUCT: case KIND.UNION: case KIND.ENUM: case KIND.ENUM64: case KIND.FLOAT: return t.sizeOrType;
    case KIND.PTR: return 8;
    case KIND.ARRAY: return t.u32(20) * sizeOf(types, t.u32(12));
    case KIND.TYPEDEF: case KIND.VOLATILE: case KIND.CONST: case KIND.RESTRICT: case KIND.TYPE_TAG: return sizeOf(types, t.sizeOrType);
    default: throw new Error(`BTF: type ${id} (kind ${t.kind}) has no size`);
  }
}

/** `id` with typedefs and qualifiers resolved. */
function resolve(types, id) {
  let t = types[id];
  while ([KIND.TYPEDEF, KIND.VOLATILE, KIND.CONST, KIND.RESTRICT, KIND.TYPE_TAG].includes(t.kind)) t = types[t.sizeOrType];
  return t;
}

/**
 * Members of a struct/union as a tree, as a C declaration nests them: { kind: 'field', name, offset,
 * size } or { kind: 'struct', name (undefined when anonymous), members }, offsets in bytes from the
 * outermost aggregate. Bitfields are left out (they have no byte offset).
 */
export function memberTree(types, type, base = 0) {
  const members = [];
  for (let i = 0; i < type.vlen; i++) {
    const name = type.names[i + 1].name || undefined;
    const memberType = type.u32(16 + 12 * i);
    const raw = type.u32(20 + 12 * i);
    const bitOffset = type.kindFlag ? raw & 0xffffff : raw;
    const bitfieldSize = type.kindFlag ? raw >>> 24 : 0;
    if (bitfieldSize !== 0 || bitOffset % 8 !== 0) continue;
    const offset = base + bitOffset / 8;
    const resolved = resolve(types, memberType);
    if ((resolved.kind === KIND.STRUCT || resolved.kind === KIND.UNION) && name === undefined) {
      members.push({ kind: 'struct', name, members: memberTree(types, resolved, offset) });
    } else if ((resolved.kind === KIND.STRUCT || resolved.kind === KIND.UNION) && resolved.name === '') {
      members.push({ kind: 'struct', name, members: memberTree(types, resolved, offset) });
    } else {
      members.push({ kind: 'field', name, offset, size: sizeOf(types, memberType) });
    }
  }
  return members;
}
