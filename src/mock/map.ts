// MockMap: an in-memory eBPF map with the kernel's semantics, for unit tests without a kernel. Keys
// and values go through the same encoding and size checks as EbpfMap (src/map/shape.ts), and failures
// are the same SyscallErrors (errno, code, syscall) the kernel gives: EEXIST, ENOENT, E2BIG, EPERM after
// freeze, EINVAL, ENOTSUPP. test/mock/honesty.test.ts runs one script against both and compares.
import { describeMap } from '../sys/describe.js';
import { elementFlagsArg } from '../sys/integers.js';
import { Errno, errnoError, SyscallError } from '../sys/errors.js';
import { BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, MapType, mapTypeName } from '../sys/generated.js';
import { encodeKeyValue, nullTerminatedStringToString, parseFlexibleIntegerLittleEndian, sumFlexibleIntegers, type KeyValue } from '../map/keyvalue.js';
import type { MapLike } from '../map/like.js';
import type { MapInfo, MapSpec, MapValue } from '../map/map.js';
import {
  MapBatchCursor, assertPerCpu, checkBatchBuffers, chunkSizeArg, defaultBatchCount, checkIntegerSize, checkNotPerCpuForString, describeMapShape, elementContext,
  encodeMapValue, insertFlags, mapNameBytes, mapShape, notLiveError, packKeys, packValues, perCpuValues, smallUint, toSafeNumber, updateFlags,
  type MapShape,
} from '../map/shape.js';
import { allocateFd, allocateId, objectByFd, releaseFd, type MockObject } from './registry.js';

/** MapSpec for a mock: an inner map may be a MockMap; `possibleCpus` fixes the per-CPU slot count. */
export interface MockMapSpec extends Omit<MapSpec, 'innerMap'> {
  innerMap?: MockMap | MapSpec;
  /** Slots of a per-CPU value (default 2, whatever the host has, so tests are deterministic). */
  possibleCpus?: number;
}


/** Per-CPU slots of a mock whose spec gives no possibleCpus. */
export const DEFAULT_POSSIBLE_CPUS = 2;

/** How a map type stores its elements. */
type Storage = 'hash' | 'array' | 'fdArray' | 'lpm' | 'queue' | 'stack' | 'bloom' | 'none';

const STORAGE = new Map<MapType, Storage>([
  [MapType.Hash, 'hash'], [MapType.LRUHash, 'hash'], [MapType.PerCPUHash, 'hash'], [MapType.LRUPerCPUHash, 'hash'], [MapType.HashOfMaps, 'hash'],
  [MapType.Array, 'array'], [MapType.PerCPUArray, 'array'],
  [MapType.ArrayOfMaps, 'fdArray'], [MapType.ProgArray, 'fdArray'],
  [MapType.LPMTrie, 'lpm'], [MapType.Queue, 'queue'], [MapType.Stack, 'stack'], [MapType.BloomFilter, 'bloom'],
]);
/** The maps with BPF_MAP_LOOKUP_AND_DELETE_ELEM. */
const HTAB = new Set<MapType>([MapType.Hash, MapType.LRUHash, MapType.PerCPUHash, MapType.LRUPerCPUHash]);
/** The maps with BPF_MAP_LOOKUP_AND_DELETE_BATCH and BPF_MAP_DELETE_BATCH of a hash table's. */
const HTAB_BATCH = new Set<MapType>([...HTAB, MapType.HashOfMaps]);
const LRU = new Set<MapType>([MapType.LRUHash, MapType.LRUPerCPUHash]);

interface Entry {
  key: Uint8Array;
  value: Uint8Array;
  /** Insertion order (a hash batch cursor resumes after a seq). */
  seq: number;
  /** Fd maps: the mock the value's fd stood for. */
  ref?: MockObject;
}

/** A key's bytes as a string, to index a JS Map by content. */
const keyId = (key: Uint8Array): string => String.fromCharCode(...key);

/** An in-memory map; see the file comment. `MockMap.create(spec)` is `EbpfMap.create(spec)` without a kernel. */
export class MockMap implements MapLike {
  readonly #spec: MockMapSpec;
  readonly #shape: MapShape;
  readonly #storage: Storage;
  #fd = -1;
  /** Bumped at each create and close: iterators and cursors belong to one life of the map. */
  #generation = 0;
  #id = 0;
  #everCreated = false;
  #frozen = false;
  #pinnedPath: string | undefined;
  #innerShape: MapShape | undefined;
  /** hash, lpm (by exact prefix), array (by index, sparse), fdArray (by index). */
  #entries = new Map<string, Entry>();
  /** queue/stack values, oldest first. */
  #items: Uint8Array[] = [];
  #seq = 0;
  /** LRU hashes: keys by recency of use, least recent first. */
  readonly #recency = new Map<string, true>();

  constructor(spec: MockMapSpec) {
    const possibleCpus = spec.possibleCpus ?? DEFAULT_POSSIBLE_CPUS;
    if (!(Number.isInteger(possibleCpus) && possibleCpus >= 1)) throw new TypeError(`possibleCpus ${String(possibleCpus)} is not a positive integer`);
    this.#spec = { ...spec };
    this.#shape = mapShape(spec, () => possibleCpus);
    this.#storage = STORAGE.get(spec.type) ?? 'none';
  }

  static create(spec: MockMapSpec): MockMap {
    return new MockMap(spec).create();
  }

  get fd(): number {
    return this.#fd;
  }
  get name(): string {
    return this.#shape.name;
  }
  get type(): MapType {
    return this.#shape.type;
  }
  get keySize(): number {
    return this.#shape.keySize;
  }
  get valueSize(): number {
    return this.#shape.valueSize;
  }
  get maxEntries(): number {
    return this.#shape.maxEntries;
  }
  get flags(): number {
    return this.#shape.flags;
  }
  get perCpu(): boolean {
    return this.#shape.perCpu;
  }
  /** Slots of a per-CPU value (1 for other maps). */
  get possibleCpus(): number {
    return this.#shape.cpus;
  }
  get pinnedPath(): string | undefined {
    return this.#pinnedPath;
  }
  /** The made-up kernel id (0 before create). */
  get id(): number {
    return this.#id;
  }
  get frozen(): boolean {
    return this.#frozen;
  }
  /** Elements held now (for arrays: maxEntries). */
  get size(): number {
    if (this.#storage === 'array') return this.#shape.maxEntries;
    if (this.#storage === 'queue' || this.#storage === 'stack') return this.#items.length;
    return this.#entries.size;
  }

  cloneTemplate(): MockMap {
    const s = this.#shape;
    return new MockMap({ ...this.#spec, name: s.name, keySize: s.keySize, valueSize: s.valueSize, maxEntries: s.maxEntries, flags: s.flags, possibleCpus: s.cpus, persistentPath: undefined });
  }

  /** Checks the spec as BPF_MAP_CREATE would (EINVAL) and starts empty. A closed map is created anew. */
  create(): this {
    if (this.#fd >= 0) return this;
    mapNameBytes(this.#shape);
    const why = this.#invalidSpec();
    if (why !== undefined) throw errnoError(why.errno, 'BPF_MAP_CREATE', `${describeMapShape(this.#shape)}: ${why.reason}`);
    this.#clear();
    this.#frozen = false;
    this.#id = allocateId();
    this.#fd = allocateFd(this);
    this.#generation++;
    this.#everCreated = true;
    this.#pinnedPath = this.#spec.persistentPath;
    return this;
  }

  /** Why the kernel would refuse this spec (the errno and, for the message, why), or undefined. */
  #invalidSpec(): { errno: number; reason: string } | undefined {
    const { type, keySize, valueSize, maxEntries, flags } = this.#shape;
    const einval = (reason: string): { errno: number; reason: string } => ({ errno: Errno.EINVAL, reason });
    if (this.#storage !== 'none' && maxEntries === 0) return einval('max_entries is 0');
    switch (this.#storage) {
      case 'hash':
        if (keySize === 0) return einval('key size is 0');
        if (type === MapType.HashOfMaps) return this.#resolveInnerTemplate();
        if (valueSize === 0) return einval('value size is 0');
        return undefined;
      case 'array':
        if (keySize !== 4) return einval('array keys are 4 bytes');
        if (valueSize === 0) return einval('value size is 0');
        return undefined;
      case 'fdArray':
        if (keySize !== 4 || valueSize !== 4) return einval('fd arrays have 4-byte keys and values');
        return type === MapType.ArrayOfMaps ? this.#resolveInnerTemplate() : undefined;
      case 'lpm':
        if (keySize < 5 || keySize > 4 + 256) return einval('LPM trie keys are a 4-byte prefix length and 1 to 256 bytes of data');
        if (valueSize === 0) return einval('value size is 0');
        return undefined;
      case 'queue':
      case 'stack':
      case 'bloom':
        if (keySize !== 0) return einval(`${mapTypeName(type)} maps have no keys (key size must be 0)`);
        if (valueSize === 0) return einval('value size is 0');
        if (this.#storage === 'bloom' && (this.#spec.mapExtra ?? 0n) > 15n) return einval('a bloom filter has at most 15 hash functions');
        return flags & ~0x1ff ? einval('unknown flags') : undefined;
      default:
        return undefined;
    }
  }

  #resolveInnerTemplate(): { errno: number; reason: string } | undefined {
    const inner = this.#spec.innerMap;
    const possibleCpus = (): number => this.#shape.cpus;
    if (inner instanceof MockMap) {
      this.#innerShape = inner.#shape;
    } else if (inner !== undefined) {
      this.#innerShape = mapShape(inner, possibleCpus);
    } else if (this.#spec.innerMapFd !== undefined) {
      const object = objectByFd(this.#spec.innerMapFd);
      if (object === undefined) return { errno: Errno.EBADF, reason: `inner map fd ${this.#spec.innerMapFd} is not an open mock map` };
      if (!(object instanceof MockMap)) return { errno: Errno.EINVAL, reason: `inner map fd ${this.#spec.innerMapFd} is not a map` };
      this.#innerShape = object.#shape;
    } else {
      return { errno: Errno.EINVAL, reason: 'a map of maps needs an inner map (innerMap or innerMapFd)' };
    }
    return undefined;
  }

  /** Empties the map (arrays back to zeros, fd slots empty): goebpf's CleanupAllMockMaps, per map. */
  clear(): void {
    this.#clear();
  }

  #clear(): void {
    this.#entries = new Map();
    this.#items = [];
    this.#recency.clear();
  }

  close(): void {
    if (this.#fd < 0) return;
    releaseFd(this.#fd);
    this.#fd = -1;
    this.#generation++;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return `MockMap(${describeMapShape(this.#shape)}, fd ${this.#fd})`;
  }

  // ---- helpers ----

  #live(): void {
    if (this.#fd < 0) throw notLiveError(this.#shape, this.#everCreated);
  }

  #fail(errno: number, syscall: string, key?: KeyValue): SyscallError {
    return errnoError(errno, syscall, elementContext(this.#shape, key));
  }

  #encodeKey(key: KeyValue): Uint8Array {
    const bytes = new Uint8Array(this.#shape.keySize);
    encodeKeyValue(bytes, 0, key, this.#shape.keySize, this.#shape.keyCtx);
    return bytes;
  }

  #encodeValue(value: MapValue): Uint8Array {
    const bytes = new Uint8Array(this.#shape.valueRealSize);
    encodeMapValue(bytes, value, this.#shape);
    return bytes;
  }

  #index(key: Uint8Array): number {
    return new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
  }

  #indexKey(index: number): Uint8Array {
    const key = new Uint8Array(4);
    new DataView(key.buffer).setUint32(0, index, true);
    return key;
  }

  /** The entry id of a key: the bytes, or for LPM tries the prefix length and the prefix's bits. */
  #entryId(key: Uint8Array): string {
    if (this.#storage !== 'lpm') return keyId(key);
    const prefix = Math.min(lpmPrefixLen(key), 8 * (key.length - 4));
    const masked = key.slice(4);
    for (let i = 0; i < masked.length; i++) masked[i]! &= (0xff00 >> Math.max(0, Math.min(8, prefix - i * 8))) & 0xff;
    return `${prefix}/${keyId(masked)}`;
  }

  #touch(id: string): void {
    if (!LRU.has(this.#shape.type)) return;
    this.#recency.delete(id);
    this.#recency.set(id, true);
  }

  /** The value bytes as read back from user space: fd maps give the id of what they hold. */
  #readValue(entry: Entry): Uint8Array {
    if (entry.ref === undefined) return entry.value.slice();
    const out = new Uint8Array(this.#shape.valueSize);
    encodeKeyValue(out, 0, entry.ref.id, this.#shape.valueSize, this.#shape.valueCtx);
    return out;
  }

  /** The entry a key addresses for reading, or undefined (ENOENT). */
  #find(key: Uint8Array): Entry | undefined {
    switch (this.#storage) {
      case 'array': {
        const index = this.#index(key);
        if (index >= this.#shape.maxEntries) return undefined;
        return this.#entries.get(String(index)) ?? { key, value: new Uint8Array(this.#shape.valueRealSize), seq: index };
      }
      case 'fdArray':
        return this.#entries.get(String(this.#index(key)));
      case 'lpm':
        return this.#longestPrefixMatch(key);
      default:
        return this.#entries.get(this.#entryId(key));
    }
  }

  #longestPrefixMatch(key: Uint8Array): Entry | undefined {
    const wanted = lpmPrefixLen(key);
    let best: Entry | undefined;
    for (const entry of this.#entries.values()) {
      const prefix = lpmPrefixLen(entry.key);
      if (prefix <= wanted && commonBits(entry.key, key, prefix) === prefix && (best === undefined || prefix > lpmPrefixLen(best.key))) best = entry;
    }
    return best;
  }

  /** Entries in the kernel's get-next-key order: insertion for hashes, postorder for LPM tries. */
  #ordered(): Entry[] {
    const all = [...this.#entries.values()];
    return this.#storage === 'lpm' ? all.sort(lpmPostorder) : all;
  }

  /** The fd a value of an fd map holds, resolved to its mock (EBADF / EINVAL as the kernel would). */
  #resolveRef(value: Uint8Array, syscall: string, key: KeyValue): MockObject {
    const fd = Number(parseFlexibleIntegerLittleEndian(value.subarray(0, 4)));
    const object = objectByFd(fd);
    if (object === undefined) throw this.#fail(Errno.EBADF, syscall, key);
    if (this.#shape.type === MapType.ProgArray) {
      if (object instanceof MockMap) throw this.#fail(Errno.EINVAL, syscall, key);
      return object;
    }
    const inner = this.#innerShape;
    if (!(object instanceof MockMap) || inner === undefined) throw this.#fail(Errno.EINVAL, syscall, key);
    const s = object.#shape;
    if (s.type !== inner.type || s.keySize !== inner.keySize || s.valueSize !== inner.valueSize || s.maxEntries !== inner.maxEntries) throw this.#fail(Errno.EINVAL, syscall, key);
    return object;
  }

  // ---- element operations ----

  lookup(key: KeyValue, flags = 0): Uint8Array {
    elementFlagsArg(flags, `${describeMap(this.#shape.label)}: lookup flags`);
    this.#live();
    const bytes = this.#encodeKey(key);
    if (flags !== 0 || this.#shape.keySize === 0) throw this.#fail(Errno.EINVAL, 'BPF_MAP_LOOKUP_ELEM', key);
    this.#noElementOps();
    const entry = this.#find(bytes);
    if (entry === undefined) throw this.#fail(Errno.ENOENT, 'BPF_MAP_LOOKUP_ELEM', key);
    this.#touch(this.#entryId(entry.key));
    return this.#readValue(entry);
  }

  lookupPerCpu(key: KeyValue): Uint8Array[] {
    assertPerCpu(this.#shape);
    return perCpuValues(this.lookup(key), this.#shape);
  }

  lookupInt(key: KeyValue): number {
    if (!this.#shape.perCpu) {
      const value = this.lookup(key);
      const small = smallUint(new DataView(value.buffer, value.byteOffset, value.byteLength), this.#shape.valueSize);
      if (small !== undefined) return small;
    }
    return toSafeNumber(this.lookupUint64(key), this.#shape, 'value');
  }

  lookupUint64(key: KeyValue): bigint {
    checkIntegerSize(this.#shape, 'value');
    const value = this.lookup(key);
    return this.#shape.perCpu ? sumFlexibleIntegers(value, this.#shape.valueSize, this.#shape.stride) : parseFlexibleIntegerLittleEndian(value);
  }

  lookupString(key: KeyValue): string {
    checkNotPerCpuForString(this.#shape);
    return nullTerminatedStringToString(this.lookup(key));
  }

  /** The MockMap stored at `key` of an array/hash of maps (the same object that was inserted). */
  lookupInnerMap(key: KeyValue): MockMap {
    this.lookup(key);
    const ref = this.#find(this.#encodeKey(key))?.ref;
    if (!(ref instanceof MockMap)) throw new TypeError(`${describeMap(this.#shape.label)} (${mapTypeName(this.#shape.type)}) does not hold maps`);
    return ref;
  }

  insert(key: KeyValue, value: MapValue): void {
    this.upsert(key, value, insertFlags(this.#shape.type));
  }

  update(key: KeyValue, value: MapValue): void {
    this.upsert(key, value, updateFlags(this.#shape.type));
  }

  upsert(key: KeyValue, value: MapValue, flags = BPF_ANY): void {
    elementFlagsArg(flags, `${describeMap(this.#shape.label)}: update flags`);
    this.#live();
    const keyBytes = this.#encodeKey(key);
    const valueBytes = this.#encodeValue(value);
    this.#write(keyBytes, valueBytes, flags, 'BPF_MAP_UPDATE_ELEM', key);
  }

  /** One element update as the kernel does it; `key` is the caller's, for messages. */
  #write(keyBytes: Uint8Array, valueBytes: Uint8Array, flags: number, syscall: string, key: KeyValue): void {
    const S = this.#shape;
    if (this.#frozen) throw this.#fail(Errno.EPERM, syscall, key);
    if (flags & BPF_F_LOCK || S.keySize === 0) throw this.#fail(Errno.EINVAL, syscall, key);
    this.#noElementOps();
    switch (this.#storage) {
      case 'array': {
        if (flags > BPF_EXIST) throw this.#fail(Errno.EINVAL, syscall, key);
        const index = this.#index(keyBytes);
        if (index >= S.maxEntries) throw this.#fail(Errno.E2BIG, syscall, key);
        if (flags === BPF_NOEXIST) throw this.#fail(Errno.EEXIST, syscall, key);
        this.#entries.set(String(index), { key: keyBytes, value: valueBytes, seq: index });
        return;
      }
      case 'fdArray': {
        if (flags !== BPF_ANY) throw this.#fail(Errno.EINVAL, syscall, key);
        const index = this.#index(keyBytes);
        if (index >= S.maxEntries) throw this.#fail(Errno.E2BIG, syscall, key);
        const ref = this.#resolveRef(valueBytes, syscall, key);
        this.#entries.set(String(index), { key: keyBytes, value: valueBytes, seq: index, ref });
        return;
      }
      case 'lpm':
        if (flags > BPF_EXIST || lpmPrefixLen(keyBytes) > 8 * (S.keySize - 4)) throw this.#fail(Errno.EINVAL, syscall, key);
        this.#put(keyBytes, valueBytes, flags, syscall, key, Errno.ENOSPC, undefined);
        return;
      default: {
        // hash family
        if (flags > BPF_EXIST) throw this.#fail(Errno.EINVAL, syscall, key);
        const ref = S.type === MapType.HashOfMaps ? this.#resolveRef(valueBytes, syscall, key) : undefined;
        this.#put(keyBytes, valueBytes, flags, syscall, key, Errno.E2BIG, ref);
      }
    }
  }

  #put(keyBytes: Uint8Array, valueBytes: Uint8Array, flags: number, syscall: string, key: KeyValue, fullErrno: number, ref: MockObject | undefined): void {
    const id = this.#entryId(keyBytes);
    const existing = this.#entries.get(id);
    if (existing !== undefined) {
      if (flags === BPF_NOEXIST) throw this.#fail(Errno.EEXIST, syscall, key);
      existing.key = keyBytes;
      existing.value = valueBytes;
      existing.ref = ref;
    } else {
      if (flags === BPF_EXIST) throw this.#fail(Errno.ENOENT, syscall, key);
      if (this.#entries.size >= this.#shape.maxEntries) {
        const victim = LRU.has(this.#shape.type) ? this.#recency.keys().next().value : undefined;
        if (victim === undefined) throw this.#fail(fullErrno, syscall, key);
        this.#entries.delete(victim);
        this.#recency.delete(victim);
      }
      const entry: Entry = { key: keyBytes, value: valueBytes, seq: ++this.#seq };
      if (ref !== undefined) entry.ref = ref;
      this.#entries.set(id, entry);
    }
    this.#touch(id);
  }

  delete(key: KeyValue): void {
    this.#live();
    this.#remove(this.#encodeKey(key), 'BPF_MAP_DELETE_ELEM', key);
  }

  #remove(keyBytes: Uint8Array, syscall: string, key: KeyValue): void {
    if (this.#frozen) throw this.#fail(Errno.EPERM, syscall, key);
    if (this.#shape.keySize === 0 || this.#storage === 'array') throw this.#fail(Errno.EINVAL, syscall, key);
    this.#noElementOps();
    if (this.#storage === 'fdArray') {
      const index = this.#index(keyBytes);
      if (index >= this.#shape.maxEntries) throw this.#fail(Errno.E2BIG, syscall, key);
      if (!this.#entries.delete(String(index))) throw this.#fail(Errno.ENOENT, syscall, key);
      return;
    }
    const id = this.#entryId(keyBytes);
    if (!this.#entries.delete(id)) throw this.#fail(Errno.ENOENT, syscall, key);
    this.#recency.delete(id);
  }

  lookupAndDelete(key: KeyValue): Uint8Array {
    this.#live();
    const bytes = this.#encodeKey(key);
    const syscall = 'BPF_MAP_LOOKUP_AND_DELETE_ELEM';
    if (this.#shape.keySize === 0) throw this.#fail(Errno.EINVAL, syscall, key);
    if (this.#frozen) throw this.#fail(Errno.EPERM, syscall, key);
    if (!HTAB.has(this.#shape.type)) throw this.#fail(Errno.ENOTSUPP, syscall, key);
    const id = this.#entryId(bytes);
    const entry = this.#entries.get(id);
    if (entry === undefined) throw this.#fail(Errno.ENOENT, syscall, key);
    this.#entries.delete(id);
    this.#recency.delete(id);
    return entry.value;
  }

  /** Types the mock does not model (perf event arrays, ringbufs, storage maps...) refuse element calls. */
  #noElementOps(): void {
    if (this.#storage === 'none') throw new Error(`${describeMapShape(this.#shape)}: MockMap does not model elements of ${mapTypeName(this.#shape.type)} maps`);
  }

  // ---- iteration ----

  /** The key after `keyBytes` (the first when undefined or absent), or undefined after the last. */
  #nextKey(keyBytes: Uint8Array | undefined, key: KeyValue | undefined): Uint8Array | undefined {
    const syscall = 'BPF_MAP_GET_NEXT_KEY';
    if (this.#storage === 'queue' || this.#storage === 'stack') throw this.#fail(Errno.EINVAL, syscall, key);
    if (this.#storage === 'bloom') throw this.#fail(Errno.EOPNOTSUPP, syscall, key);
    this.#noElementOps();
    if (this.#storage === 'array' || this.#storage === 'fdArray') {
      const max = this.#shape.maxEntries;
      const index = keyBytes === undefined ? max : this.#index(keyBytes);
      const next = index >= max ? 0 : index + 1;
      return next >= max ? undefined : this.#indexKey(next);
    }
    const ordered = this.#ordered();
    if (ordered.length === 0) return undefined;
    const at = keyBytes === undefined ? -1 : ordered.findIndex((e) => this.#entryId(e.key) === this.#entryId(keyBytes));
    return at === -1 ? ordered[0]!.key.slice() : ordered[at + 1]?.key.slice();
  }

  getNextKey(key?: KeyValue): Uint8Array | undefined {
    this.#live();
    return this.#nextKey(key === undefined ? undefined : this.#encodeKey(key), key);
  }

  getNextKeyInt(key?: KeyValue): number | undefined {
    const next = this.getNextKeyUint64(key);
    return next === undefined ? undefined : toSafeNumber(next, this.#shape, 'key');
  }

  getNextKeyUint64(key?: KeyValue): bigint | undefined {
    checkIntegerSize(this.#shape, 'key');
    const next = this.getNextKey(key);
    return next === undefined ? undefined : parseFlexibleIntegerLittleEndian(next);
  }

  getNextKeyString(key?: KeyValue): string | undefined {
    const next = this.getNextKey(key);
    return next === undefined ? undefined : nullTerminatedStringToString(next);
  }

  *keys(): Generator<Uint8Array> {
    for (const [key] of this.#walk(false)) yield key;
  }

  entries(): Generator<[Uint8Array, Uint8Array]> {
    return this.#walk(true) as Generator<[Uint8Array, Uint8Array]>;
  }

  [Symbol.iterator](): Generator<[Uint8Array, Uint8Array]> {
    return this.entries();
  }

  /** Like EbpfMap's walk: entries deleted meanwhile are skipped, no key is yielded twice. */
  *#walk(withValues: boolean): Generator<[Uint8Array, Uint8Array | undefined]> {
    this.#live();
    if (this.#shape.keySize === 0) return;
    this.#noElementOps();
    const generation = this.#generation;
    const check = (): void => {
      if (this.#generation !== generation) throw new Error(`${describeMap(this.#shape.label)}: closed during iteration`);
    };
    if (this.#storage === 'array' || this.#storage === 'fdArray') {
      for (let i = 0; i < this.#shape.maxEntries; i++) {
        check();
        const key = this.#indexKey(i);
        if (!withValues) {
          yield [key, undefined];
          continue;
        }
        const entry = this.#find(key);
        if (entry !== undefined) yield [key, this.#readValue(entry)]; // empty fd slots have no value
      }
      return;
    }
    for (const entry of this.#ordered()) {
      check();
      // Deleted since the walk began?
      if (this.#entries.get(this.#entryId(entry.key)) !== entry) continue;
      yield [entry.key.slice(), withValues ? this.#readValue(entry) : undefined];
    }
  }

  // ---- batch operations ----

  #batchSupported(syscall: string, deletes: boolean): void {
    const supported = deletes ? HTAB_BATCH.has(this.#shape.type) : this.#storage !== 'queue' && this.#storage !== 'stack' && this.#storage !== 'bloom';
    if (!supported) throw this.#fail(Errno.ENOTSUPP, syscall);
    this.#noElementOps();
  }

  #lookupBatchInto(syscall: string, deletes: boolean, cursor: MapBatchCursor, keys: Uint8Array, values: Uint8Array, countArg: number | undefined): number {
    this.#live();
    MapBatchCursor.tokenFor(cursor, this, this.#generation, this.#shape);
    if (cursor.done) return 0;
    const count = checkBatchBuffers(keys, values, countArg ?? defaultBatchCount(keys, this.#shape), this.#shape);
    if (deletes && this.#frozen) throw this.#fail(Errno.EPERM, syscall);
    this.#batchSupported(syscall, deletes);
    const S = this.#shape;
    const token = new DataView(cursor.token.buffer, cursor.token.byteOffset, cursor.token.byteLength);
    // Hashes resume after the last seq returned (the kernel: after a bucket); the others after the
    // last key, through get-next-key (the kernel's generic batch).
    const htab = this.#storage === 'hash';
    const out: Entry[] = [];
    let done = false;
    if (htab) {
      const after = cursor.started ? token.getFloat64(0, true) : -1;
      const rest = this.#ordered().filter((e) => e.seq > after);
      out.push(...rest.slice(0, count));
      done = rest.length <= count;
    } else {
      let key: Uint8Array | undefined = cursor.started ? cursor.token.slice(0, S.keySize) : undefined;
      while (out.length < count) {
        const next = this.#nextKey(key, undefined);
        if (next === undefined) {
          done = true;
          break;
        }
        key = next;
        const entry = this.#find(next);
        if (entry !== undefined) out.push({ ...entry, key: next });
      }
      if (key !== undefined) cursor.token.set(key);
    }
    out.forEach((entry, i) => {
      keys.set(entry.key, i * S.keySize);
      values.set(this.#readValue(entry), i * S.valueRealSize);
      if (deletes) this.#remove(entry.key, syscall, entry.key);
    });
    if (htab && out.length > 0) token.setFloat64(0, out[out.length - 1]!.seq, true);
    cursor.started = true;
    if (done) cursor.done = true;
    return out.length;
  }

  lookupBatchInto(cursor: MapBatchCursor, keys: Uint8Array, values: Uint8Array, count?: number): number {
    return this.#lookupBatchInto('BPF_MAP_LOOKUP_BATCH', false, cursor, keys, values, count);
  }

  lookupAndDeleteBatchInto(cursor: MapBatchCursor, keys: Uint8Array, values: Uint8Array, count?: number): number {
    return this.#lookupBatchInto('BPF_MAP_LOOKUP_AND_DELETE_BATCH', true, cursor, keys, values, count);
  }

  #allBatches(deletes: boolean, chunkSize: number): Array<[Uint8Array, Uint8Array]> {
    const S = this.#shape;
    const out: Array<[Uint8Array, Uint8Array]> = [];
    const chunk = chunkSizeArg(chunkSize, S);
    const cursor = new MapBatchCursor(S.keySize);
    while (!cursor.done) {
      const keys = new Uint8Array(chunk * S.keySize);
      const values = new Uint8Array(chunk * S.valueRealSize);
      const n = deletes ? this.lookupAndDeleteBatchInto(cursor, keys, values, chunk) : this.lookupBatchInto(cursor, keys, values, chunk);
      for (let i = 0; i < n; i++) out.push([keys.subarray(i * S.keySize, (i + 1) * S.keySize), values.subarray(i * S.valueRealSize, (i + 1) * S.valueRealSize)]);
    }
    return out;
  }

  lookupBatch(options: { chunkSize?: number } = {}): Array<[Uint8Array, Uint8Array]> {
    return this.#allBatches(false, options.chunkSize ?? 256);
  }

  lookupAndDeleteBatch(options: { chunkSize?: number } = {}): Array<[Uint8Array, Uint8Array]> {
    return this.#allBatches(true, options.chunkSize ?? 256);
  }

  /** Each element in turn; a failure carries `processed`, the count written before it, as the kernel's does. */
  #eachInBatch(syscall: string, count: number, body: (i: number) => void): number {
    for (let i = 0; i < count; i++) {
      try {
        body(i);
      } catch (e) {
        if (e instanceof SyscallError) {
          const err = errnoError(e.errno, syscall, `${describeMap(this.#shape.label)}`);
          (err as SyscallError & { processed?: number }).processed = i;
          throw err;
        }
        throw e;
      }
    }
    return count;
  }

  updateBatch(keys: readonly KeyValue[] | Uint8Array, values: readonly MapValue[] | Uint8Array, options: { flags?: number } = {}): number {
    this.#live();
    const S = this.#shape;
    const k = packKeys(keys, S);
    const v = packValues(values, k.count, S);
    checkBatchBuffers(k.bytes, v, k.count, S);
    const syscall = 'BPF_MAP_UPDATE_BATCH';
    if (this.#frozen) throw this.#fail(Errno.EPERM, syscall);
    this.#batchSupported(syscall, false);
    const flags = elementFlagsArg(options.flags ?? BPF_ANY, `${describeMap(S.label)}: flags`);
    if (flags !== BPF_ANY) throw this.#fail(Errno.EINVAL, syscall);
    return this.#eachInBatch(syscall, k.count, (i) => {
      const key = k.bytes.slice(i * S.keySize, (i + 1) * S.keySize);
      this.#write(key, v.slice(i * S.valueRealSize, (i + 1) * S.valueRealSize), flags, syscall, key);
    });
  }

  deleteBatch(keys: readonly KeyValue[] | Uint8Array): number {
    this.#live();
    const S = this.#shape;
    const k = packKeys(keys, S);
    const syscall = 'BPF_MAP_DELETE_BATCH';
    if (this.#frozen) throw this.#fail(Errno.EPERM, syscall);
    if (!(HTAB_BATCH.has(S.type) || this.#storage === 'lpm')) throw this.#fail(Errno.ENOTSUPP, syscall);
    return this.#eachInBatch(syscall, k.count, (i) => {
      const key = k.bytes.slice(i * S.keySize, (i + 1) * S.keySize);
      this.#remove(key, syscall, key);
    });
  }

  // ---- queue, stack, bloom filter ----

  /** A keyless call on a keyed map: the kernel copies a key from a NULL pointer (EFAULT). */
  #keyless(syscall: string): void {
    this.#live();
    if (this.#shape.keySize !== 0) throw this.#fail(Errno.EFAULT, syscall);
    this.#noElementOps();
  }

  push(value: KeyValue, flags = BPF_ANY): void {
    elementFlagsArg(flags, `${describeMap(this.#shape.label)}: push flags`);
    const syscall = 'BPF_MAP_UPDATE_ELEM';
    this.#live();
    const bytes = this.#encodeValue(value);
    if (this.#frozen) throw this.#fail(Errno.EPERM, syscall);
    this.#keyless(syscall);
    if (this.#storage === 'bloom') {
      if (flags !== BPF_ANY) throw this.#fail(Errno.EINVAL, syscall);
      this.#entries.set(keyId(bytes), { key: new Uint8Array(0), value: bytes, seq: ++this.#seq });
      return;
    }
    if (flags & BPF_NOEXIST || flags > BPF_EXIST) throw this.#fail(Errno.EINVAL, syscall);
    if (this.#items.length >= this.#shape.maxEntries) {
      if (flags !== BPF_EXIST) throw this.#fail(Errno.E2BIG, syscall);
      this.#items.shift(); // the oldest goes, for a stack too
    }
    this.#items.push(bytes);
  }

  pop(): Uint8Array | undefined {
    const syscall = 'BPF_MAP_LOOKUP_AND_DELETE_ELEM';
    this.#live();
    if (this.#frozen) throw this.#fail(Errno.EPERM, syscall);
    this.#keyless(syscall);
    if (this.#storage === 'bloom') throw this.#fail(Errno.ENOTSUPP, syscall);
    return this.#storage === 'stack' ? this.#items.pop() : this.#items.shift();
  }

  peek(): Uint8Array | undefined {
    if (this.#storage === 'bloom') throw new TypeError(`${describeMap(this.#shape.label)}: a bloom filter has no next value to peek; use contains(value)`);
    this.#keyless('BPF_MAP_LOOKUP_ELEM');
    return (this.#storage === 'stack' ? this.#items.at(-1) : this.#items[0])?.slice();
  }

  /** Bloom filter: whether `value` was pushed (the mock has no false positives). Queue/stack: non-empty. */
  contains(value: KeyValue): boolean {
    this.#live();
    const bytes = this.#encodeValue(value);
    this.#keyless('BPF_MAP_LOOKUP_ELEM');
    return this.#storage === 'bloom' ? this.#entries.has(keyId(bytes)) : this.#items.length > 0;
  }

  // ---- whole-map operations ----

  freeze(): void {
    this.#live();
    if (this.#frozen) throw this.#fail(Errno.EPERM, 'BPF_MAP_FREEZE');
    this.#frozen = true;
  }

  /** Records the path (nothing is written anywhere). */
  pin(path: string): void {
    this.#live();
    this.#pinnedPath = path;
  }

  unpin(): void {
    this.#pinnedPath = undefined;
  }

  info(): MapInfo {
    this.#live();
    const S = this.#shape;
    return {
      type: S.type, id: this.#id, keySize: S.keySize, valueSize: S.valueSize, maxEntries: S.maxEntries, flags: S.flags,
      name: S.name, ifindex: this.#spec.ifindex ?? 0, btfVmlinuxValueTypeId: 0, netnsDev: 0n, netnsIno: 0n, btfId: 0,
      btfKeyTypeId: 0, btfValueTypeId: 0, mapExtra: this.#spec.mapExtra ?? 0n,
    };
  }
}

/** The prefix length of an LPM trie key (struct bpf_lpm_trie_key: u32 in host order, then data). */
function lpmPrefixLen(key: Uint8Array): number {
  return new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
}

/** How many leading data bits two LPM keys share, up to `limit`. */
function commonBits(a: Uint8Array, b: Uint8Array, limit: number): number {
  const bytes = Math.min(a.length, b.length) - 4;
  let bits = 0;
  for (let i = 0; i < bytes && bits < limit; i++) {
    const diff = a[4 + i]! ^ b[4 + i]!;
    if (diff === 0) {
      bits += 8;
      continue;
    }
    bits += Math.clz32(diff) - 24;
    break;
  }
  return Math.min(bits, limit);
}

/** The LPM trie's get-next-key order: a post-order walk, so more specific prefixes come first. */
function lpmPostorder(a: Entry, b: Entry): number {
  const pa = lpmPrefixLen(a.key);
  const pb = lpmPrefixLen(b.key);
  const shorter = Math.min(pa, pb);
  const common = commonBits(a.key, b.key, shorter);
  if (common === shorter) return pb - pa; // one contains the other: the longer prefix first
  const bit = (key: Uint8Array): number => (key[4 + (common >> 3)]! >> (7 - (common & 7))) & 1;
  return bit(a.key) - bit(b.key);
}
