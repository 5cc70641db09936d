// What a map spec means without a kernel: per-type defaults, the value layout (per-CPU slots), how
// values and batches of keys become bytes, and the TypeErrors about them. Shared by EbpfMap and the
// in-memory MockMap (src/mock), so both check and encode alike. No `node:` import, no native call.
import { describeMap } from '../sys/describe.js';
import type { MapSpec, MapValue } from './map.js';
import { MapType, mapTypeName, BPF_ANY, BPF_EXIST, BPF_F_NO_PREALLOC, BPF_F_NUMA_NODE, BPF_NOEXIST } from '../sys/generated.js';
import { encodeKeyValue, type KeyValue, type KeyValueContext } from './keyvalue.js';
import { byteLengthOf, integerArg, u32Arg, u64Arg, U32_MAX } from '../sys/integers.js';

/** Maps whose keys are u32 indexes and whose slots all exist. */
export const ARRAY_KEYED: ReadonlySet<MapType> = new Set<MapType>([
  MapType.Array, MapType.PerCPUArray, MapType.ProgArray, MapType.PerfEventArray,
  MapType.CgroupArray, MapType.ArrayOfMaps, MapType.DevMap, MapType.CPUMap, MapType.XSKMap,
  MapType.SockMap, MapType.ReusePortSockArray,
]);
/** Maps whose values are file descriptors of other kernel objects when written. */
const FD_VALUED: ReadonlySet<MapType> = new Set<MapType>([MapType.ProgArray, MapType.PerfEventArray, MapType.CgroupArray, MapType.ArrayOfMaps, MapType.HashOfMaps]);
const PER_CPU: ReadonlySet<MapType> = new Set<MapType>([MapType.PerCPUArray, MapType.PerCPUHash, MapType.LRUPerCPUHash, MapType.PerCPUCgroupStorage]);
const LOCAL_STORAGE: ReadonlySet<MapType> = new Set<MapType>([MapType.SKStorage, MapType.InodeStorage, MapType.TaskStorage, MapType.CgrpStorage]);

/**
 * Position of a batch walk (BPF_MAP_LOOKUP_BATCH's in/out batch token). A cursor belongs to the map
 * it is first used with (and to that map's life: closing the map ends it); using it with another
 * map, or with a map whose keys are larger than `keySize`, is an error.
 */
export class MapBatchCursor {
  /** The kernel's opaque token: a bucket index for hashes, a key for arrays. */
  readonly #token: Uint8Array;
  /** The key size it was made for. */
  readonly keySize: number;
  #owner: object | undefined;
  #generation = 0;
  started = false;
  done = false;
  constructor(keySize: number) {
    this.keySize = integerArg(keySize, 'MapBatchCursor: keySize', 0, U32_MAX);
    this.#token = new Uint8Array(Math.max(keySize, 8));
  }

  /** The token bytes (the kernel writes max(key size, 4) of them). */
  get token(): Uint8Array {
    return this.#token;
  }

  /**
   * The token of `cursor` for a batch call on `owner` (its map object, in its `generation`-th life):
   * binds a fresh cursor to it; refuses objects that are not cursors, cursors of another map or of
   * an earlier life of this one, and cursors made for smaller keys.
   */
  static tokenFor(cursor: unknown, owner: object, generation: number, s: MapShape): Uint8Array {
    if (!(typeof cursor === 'object' && cursor !== null && #token in cursor)) throw new TypeError(`${describeMap(s.label)}: the cursor must be a MapBatchCursor`);
    const c = cursor as MapBatchCursor;
    if (c.keySize < s.keySize) throw new RangeError(`${describeMap(s.label)}: the cursor was made for ${c.keySize}-byte keys; this map's keys are ${s.keySize} bytes`);
    if (c.#owner === undefined) {
      c.#owner = owner;
      c.#generation = generation;
    } else if (c.#owner !== owner) {
      throw new TypeError(`${describeMap(s.label)}: the cursor belongs to another map`);
    } else if (c.#generation !== generation) {
      throw new Error(`${describeMap(s.label)}: the cursor's walk ended when the map was closed`);
    }
    return c.#token;
  }
}

const BPF_OBJ_NAME_LEN = 16;

const encoder = new TextEncoder();

/** The name as BPF_MAP_CREATE takes it; longer than BPF_OBJ_NAME_LEN - 1 bytes is an error. */
export function mapNameBytes(s: MapShape): Uint8Array {
  const bytes = encoder.encode(s.name);
  if (bytes.length >= BPF_OBJ_NAME_LEN) throw new Error(`${describeMap(s.name)}: name is longer than ${BPF_OBJ_NAME_LEN - 1} bytes`);
  return bytes;
}

/** A spec with defaults applied, and how its keys and values are laid out in bytes. */
export interface MapShape {
  name: string;
  type: MapType;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** Whether values hold one slot per possible CPU. */
  perCpu: boolean;
  /** Bytes per CPU slot: roundUp(valueSize, 8) for per-CPU maps, else valueSize. */
  stride: number;
  /** Value slots the kernel copies: the number of possible CPUs for per-CPU maps, else 1. */
  cpus: number;
  /** Bytes the kernel reads/writes per value: stride * cpus. */
  valueRealSize: number;
  /** The map's name in messages (its type's name when it has none). */
  label: string;
  keyCtx: KeyValueContext;
  valueCtx: KeyValueContext;
}

/** Catches what would otherwise reach the kernel as a bare EINVAL (or be silently truncated). */
function checkSpec(spec: MapSpec): void {
  const label = spec.name ? `${describeMap(spec.name)}` : 'map';
  if (!Number.isInteger(spec.type) || spec.type < 0 || spec.type > U32_MAX) throw new TypeError(`${label}: type ${String(spec.type)} is not a MapType`);
  // Field by field, not in a loop over names: a keyed load per name is a megamorphic lookup per map.
  checkU32(label, 'keySize', spec.keySize);
  checkU32(label, 'valueSize', spec.valueSize);
  checkU32(label, 'maxEntries', spec.maxEntries);
  checkU32(label, 'flags', spec.flags);
  checkU32(label, 'numaNode', spec.numaNode);
  checkU32(label, 'ifindex', spec.ifindex);
  checkU32(label, 'innerMapFd', spec.innerMapFd);
  if (spec.mapExtra !== undefined) u64Arg(spec.mapExtra, `${label}: mapExtra`);
  const btf = spec.btf;
  if (btf !== undefined) {
    checkU32(label, 'btf.fd', btf.fd);
    checkU32(label, 'btf.keyTypeId', btf.keyTypeId);
    checkU32(label, 'btf.valueTypeId', btf.valueTypeId);
    checkU32(label, 'btf.vmlinuxValueTypeId', btf.vmlinuxValueTypeId);
  }
}

function checkU32(label: string, field: string, v: number | undefined): void {
  if (v !== undefined) u32Arg(v, `${label}: ${field}`);
}

/**
 * Checks `spec` and fills in goebpf's per-type defaults. `possibleCpus` is asked only when needed
 * (per-CPU values, the default size of a perf event array).
 */
export function mapShape(spec: Omit<MapSpec, 'innerMap'>, possibleCpus: () => number): MapShape {
  checkSpec(spec);
  const t = spec.type;
  const keySize = spec.keySize ?? (ARRAY_KEYED.has(t) || LOCAL_STORAGE.has(t) ? 4 : 0);
  const valueSize = spec.valueSize ?? (FD_VALUED.has(t) ? 4 : 0);
  const maxEntries = spec.maxEntries ?? (t === MapType.PerfEventArray ? possibleCpus() : 0);
  let flags = spec.flags ?? 0;
  if (t === MapType.LPMTrie) flags |= BPF_F_NO_PREALLOC;
  if (spec.numaNode !== undefined) flags |= BPF_F_NUMA_NODE;
  const name = spec.name ?? '';
  const perCpu = PER_CPU.has(t);
  const stride = perCpu ? Math.ceil(valueSize / 8) * 8 : valueSize;
  const cpus = perCpu ? possibleCpus() : 1;
  const label = name === '' ? mapTypeName(t) : name;
  return {
    name, type: t, keySize, valueSize, maxEntries, flags, perCpu, stride, cpus, valueRealSize: stride * cpus, label,
    keyCtx: { map: label, what: 'key', lpm: t === MapType.LPMTrie },
    valueCtx: { map: label, what: 'value' },
  };
}

/** `map 'x' (Hash, key 4 B, value 8 B, 16 entries, flags 0x0)`: the map in error messages. */
export function describeMapShape(s: MapShape): string {
  return `${describeMap(s.name)} (${mapTypeName(s.type)}, key ${s.keySize} B, value ${s.valueSize} B, ${s.maxEntries} entries, flags 0x${s.flags.toString(16)})`;
}

/** The update flags of insert (fails if present) and update (fails if absent); fd maps take only BPF_ANY. */
export function insertFlags(type: MapType): number {
  return FD_VALUED.has(type) ? BPF_ANY : BPF_NOEXIST;
}
export function updateFlags(type: MapType): number {
  return FD_VALUED.has(type) ? BPF_ANY : BPF_EXIST;
}

/**
 * Writes `value` as the kernel reads it into `dst` (valueRealSize bytes): a plain value, or for
 * per-CPU maps one value replicated to every CPU slot or an array of one value per CPU.
 */
export function encodeMapValue(dst: Uint8Array, value: MapValue, s: MapShape): void {
  if (!s.perCpu) {
    if (Array.isArray(value)) throw new TypeError(`${describeMap(s.label)}: an array of values is only for per-CPU maps`);
    encodeKeyValue(dst, 0, value as KeyValue, s.valueSize, s.valueCtx);
    return;
  }
  if (value instanceof Uint8Array && value.byteLength > s.valueSize) {
    // The kernel's own layout (one slot of `stride` bytes per possible CPU) is taken as it is.
    if (value.byteLength === s.valueRealSize) {
      dst.set(value);
      return;
    }
    throw new TypeError(`${describeMap(s.label)}: a per-CPU value of ${value.byteLength} bytes is neither one CPU's (${s.valueSize} bytes, copied to every CPU) nor every CPU's (${s.cpus} × ${s.stride} = ${s.valueRealSize} bytes); pass an array of ${s.cpus} values for different values per CPU`);
  }
  dst.fill(0, 0, s.valueRealSize);
  if (Array.isArray(value)) {
    if (value.length !== s.cpus) throw new TypeError(`${describeMap(s.label)}: ${value.length} per-CPU values given, expected one per possible CPU (${s.cpus})`);
    for (let i = 0; i < s.cpus; i++) encodeKeyValue(dst, i * s.stride, value[i] as KeyValue, s.valueSize, s.valueCtx);
  } else {
    encodeKeyValue(dst, 0, value as KeyValue, s.valueSize, s.valueCtx);
    for (let i = 1; i < s.cpus; i++) dst.copyWithin(i * s.stride, 0, s.valueSize);
  }
}

/** The TypeError of per-CPU-only calls (lookupPerCpu) on other maps. */
export function assertPerCpu(s: MapShape): void {
  if (!s.perCpu) throw new TypeError(`${describeMap(s.label)} (${mapTypeName(s.type)}) is not a per-CPU map`);
}

/** Splits a per-CPU value (valueRealSize bytes) into one valueSize view per CPU. */
export function perCpuValues(all: Uint8Array, s: MapShape): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < all.length; off += s.stride) out.push(all.subarray(off, off + s.valueSize));
  return out;
}

/** Keys for a batch call, packed: an array of keys, or a buffer of whole keys. */
export function packKeys(keys: readonly KeyValue[] | Uint8Array, s: MapShape): { bytes: Uint8Array; count: number } {
  if (keys instanceof Uint8Array) {
    if (s.keySize === 0 || keys.length % s.keySize !== 0) throw new TypeError(`${describeMap(s.label)}: key buffer of ${keys.length} bytes is not a multiple of the key size ${s.keySize}`);
    return { bytes: keys, count: keys.length / s.keySize };
  }
  const bytes = new Uint8Array(keys.length * s.keySize);
  for (let i = 0; i < keys.length; i++) encodeKeyValue(bytes, i * s.keySize, keys[i]!, s.keySize, s.keyCtx);
  return { bytes, count: keys.length };
}

/** Values for a batch update, packed (valueRealSize each), checked against the number of keys. */
export function packValues(values: readonly MapValue[] | Uint8Array, count: number, s: MapShape): Uint8Array {
  if (values instanceof Uint8Array) return values;
  if (values.length !== count) throw new TypeError(`${describeMap(s.label)}: ${count} keys but ${values.length} values`);
  const bytes = new Uint8Array(count * s.valueRealSize);
  for (let i = 0; i < count; i++) encodeMapValue(bytes.subarray(i * s.valueRealSize, (i + 1) * s.valueRealSize), values[i]!, s);
  return bytes;
}

/**
 * Checks a batch call's count (an integer, at most what the buffers hold by their real lengths)
 * and buffers; returns the count.
 */
export function checkBatchBuffers(keys: Uint8Array, values: Uint8Array | null, count: unknown, s: MapShape): number {
  const n = u32Arg(count, `${describeMap(s.label)}: batch count`);
  const keyBytes = byteLengthOf(keys, `${describeMap(s.label)}: keys`);
  const valueBytes = values === null ? 0 : byteLengthOf(values, `${describeMap(s.label)}: values`);
  if (keyBytes < n * s.keySize) throw new RangeError(`${describeMap(s.label)}: key buffer of ${keyBytes} bytes is too small for ${n} keys of ${s.keySize} bytes`);
  if (values !== null && valueBytes < n * s.valueRealSize) throw new RangeError(`${describeMap(s.label)}: value buffer of ${valueBytes} bytes is too small for ${n} values of ${s.valueRealSize} bytes`);
  return n;
}

/** A batch call's default count: whole keys in the buffer (by its real length). */
export function defaultBatchCount(keys: Uint8Array, s: MapShape): number {
  return Math.floor(byteLengthOf(keys, `${describeMap(s.label)}: keys`) / Math.max(s.keySize, 1));
}

/** lookupBatch's chunkSize: an integer in [1, 2^20]. */
export function chunkSizeArg(chunkSize: unknown, s: MapShape): number {
  return integerArg(chunkSize, `${describeMap(s.label)}: chunkSize`, 1, 1 << 20);
}

/** The TypeError of lookupInt/lookupUint64 (value) or getNextKeyInt/Uint64 (key) on more than 8 bytes. */
export function checkIntegerSize(s: MapShape, what: 'key' | 'value'): void {
  const size = what === 'key' ? s.keySize : s.valueSize;
  if (size > 8) throw new TypeError(`${describeMap(s.label)}: ${what} size ${size} is too large for an integer (at most 8)`);
}

/** `big` as a number, or the RangeError pointing to the bigint method. */
export function toSafeNumber(big: bigint, s: MapShape, what: 'key' | 'value'): number {
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${describeMap(s.label)}: ${what} ${big} does not fit a number; use ${what === 'key' ? 'getNextKeyUint64' : 'lookupUint64'}`);
  return Number(big);
}

export function checkNotPerCpuForString(s: MapShape): void {
  if (s.perCpu) throw new TypeError(`${describeMap(s.label)}: lookupString does not apply to per-CPU maps`);
}

/** The context of a failed element call: `map 'x' key 0x0a000001`. */
export function elementContext(s: MapShape, key?: KeyValue): string {
  const keyText = key === undefined ? '' : ` key ${key instanceof Uint8Array ? `0x${Array.from(key, (b) => b.toString(16).padStart(2, '0')).join('')}` : String(key)}`;
  return `${describeMap(s.label)}${keyText}`;
}

/** The error of an operation on a map that is not (or no longer) usable. */
export function notLiveError(s: MapShape, closed: boolean): Error {
  return new Error(`${describeMap(s.label)}: ${closed ? 'closed' : 'not created'}`);
}

/**
 * The unsigned little-endian integer of `size` bytes at the start of `view` when it is a number
 * (sizes 1, 2, 4, 8 below 2^53), else undefined: the allocation-free path of lookupInt & co.
 */
export function smallUint(view: DataView, size: number): number | undefined {
  switch (size) {
    case 1: return view.getUint8(0);
    case 2: return view.getUint16(0, true);
    case 4: return view.getUint32(0, true);
    case 8: {
      const hi = view.getUint32(4, true);
      return hi < 0x200000 ? hi * 4294967296 + view.getUint32(0, true) : undefined;
    }
    default: return undefined;
  }
}
