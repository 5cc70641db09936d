// MapLike: the public face of EbpfMap as an interface (goebpf's `Map` interface), implemented by the
// kernel map and by MockMap (ebpf/mock). Code typed against MapLike is unit-testable without a kernel.
import type { KeyValue } from './keyvalue.js';
import type { MapInfo, MapType, MapValue } from './map.js';
import type { MapBatchCursor } from './shape.js';

/** What EbpfMap and MockMap share (goebpf's Map interface, and more): code written against it runs with either. */
export interface MapLike extends Disposable, Iterable<[Uint8Array, Uint8Array]> {
  /** The map's fd, -1 before create() and after close() (a MockMap's is a made-up number). */
  readonly fd: number;
  readonly name: string;
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** Whether values hold one slot per possible CPU. */
  readonly perCpu: boolean;
  /** Where pin() put the map, until unpin(). */
  readonly pinnedPath: string | undefined;

  /** A new, not yet created map with the same spec (inner maps). */
  cloneTemplate(): MapLike;
  create(): this;
  /** Idempotent. */
  close(): void;

  /** The value's bytes (per-CPU: one roundUp(valueSize, 8) slot per possible CPU); ENOENT if absent. */
  lookup(key: KeyValue, flags?: number): Uint8Array;
  lookupPerCpu(key: KeyValue): Uint8Array[];
  /** The value as an unsigned integer, summed over CPUs for per-CPU maps. */
  lookupInt(key: KeyValue): number;
  lookupUint64(key: KeyValue): bigint;
  lookupString(key: KeyValue): string;
  /** Array/hash of maps: the inner map stored at key. */
  lookupInnerMap(key: KeyValue): MapLike;
  /** EEXIST if present. */
  insert(key: KeyValue, value: MapValue): void;
  /** ENOENT if absent. */
  update(key: KeyValue, value: MapValue): void;
  upsert(key: KeyValue, value: MapValue, flags?: number): void;
  /** ENOENT if absent, EINVAL for arrays. */
  delete(key: KeyValue): void;
  lookupAndDelete(key: KeyValue): Uint8Array;

  /** The key after `key` (the first key when undefined or absent), undefined after the last. */
  getNextKey(key?: KeyValue): Uint8Array | undefined;
  getNextKeyInt(key?: KeyValue): number | undefined;
  getNextKeyUint64(key?: KeyValue): bigint | undefined;
  getNextKeyString(key?: KeyValue): string | undefined;
  keys(): Generator<Uint8Array>;
  entries(): Generator<[Uint8Array, Uint8Array]>;
  [Symbol.iterator](): Generator<[Uint8Array, Uint8Array]>;

  lookupBatchInto(cursor: MapBatchCursor, keys: Uint8Array, values: Uint8Array, count?: number): number;
  lookupAndDeleteBatchInto(cursor: MapBatchCursor, keys: Uint8Array, values: Uint8Array, count?: number): number;
  lookupBatch(options?: { chunkSize?: number }): Array<[Uint8Array, Uint8Array]>;
  lookupAndDeleteBatch(options?: { chunkSize?: number }): Array<[Uint8Array, Uint8Array]>;
  updateBatch(keys: readonly KeyValue[] | Uint8Array, values: readonly MapValue[] | Uint8Array, options?: { flags?: number }): number;
  deleteBatch(keys: readonly KeyValue[] | Uint8Array): number;

  /** Queue/stack/bloom filter. */
  push(value: KeyValue, flags?: number): void;
  pop(): Uint8Array | undefined;
  peek(): Uint8Array | undefined;
  contains(value: KeyValue): boolean;

  freeze(): void;
  pin(path: string): void;
  unpin(): void;
  info(): MapInfo;
}
