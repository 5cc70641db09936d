// EbpfMap: a kernel eBPF map, goebpf's EbpfMap with cilium/ebpf's additions (batch calls, iteration
// that survives concurrent deletes, freeze, info, open by id/path).
//
// Speed: every map owns its bpf_attr buffers and key/value scratch buffers, with the map fd written
// into them once; a lookup encodes the key in place and makes one native call, allocating only the
// returned value.
import { describeMap } from '../sys/describe.js';
import { readlinkSync, statfsSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { Errno, SyscallError, check, errnoError } from '../sys/errors.js';
import { elementFlagsArg, integerArg, u32Arg } from '../sys/integers.js';
import { native, type NativeBridge, type PreparedBpf } from '../sys/native.js';
import { FD, getFdById, ids, objGet, objGetInfoByFd, objPin } from '../sys/bpf.js';
import { BpfCmd, MapType, mapTypeName, BPF_ANY } from '../sys/generated.js';
import { encodeKeyValue, nullTerminatedStringToString, parseFlexibleIntegerLittleEndian, sumFlexibleIntegers, type KeyValue, type KeyValueContext } from './keyvalue.js';
import { getNumOfPossibleCpus } from './host.js';
import {
  ARRAY_KEYED, MapBatchCursor, assertPerCpu, chunkSizeArg, defaultBatchCount, mapNameBytes, checkBatchBuffers, checkIntegerSize, checkNotPerCpuForString, describeMapShape, elementContext, encodeMapValue,
  insertFlags, mapShape, notLiveError, packKeys, packValues, perCpuValues, smallUint, toSafeNumber, updateFlags, type MapShape,
} from './shape.js';
import type { MapLike } from './like.js';
import { ELEM, BATCH, CREATE, MAP_INFO } from './attr.js';

export { MapType, MapBatchCursor };

/** How to create a map; what goebpf's EbpfMap struct fields and libbpf's map options hold. */
export interface MapSpec {
  /** Up to 15 characters (BPF_OBJ_NAME_LEN - 1): letters, digits, '_' and '.'. */
  name?: string;
  type: MapType;
  /** Defaults: 4 for array-like maps, 0 for queue/stack/bloom filter/ringbuf. */
  keySize?: number;
  /** Defaults: 4 for prog/perf-event/cgroup arrays and maps of maps, 0 for ringbuf. */
  valueSize?: number;
  /** Defaults: the number of possible CPUs for perf event arrays, 0 for storage maps. */
  maxEntries?: number;
  /** BPF_F_* map flags; LPM tries always get BPF_F_NO_PREALLOC, as the kernel requires. */
  flags?: number;
  /** Array/hash of maps: the inner map (a created EbpfMap is used as is, a spec is created briefly). */
  innerMap?: EbpfMap | MapSpec;
  /** Array/hash of maps: fd of an existing inner map template (goebpf's InnerMapFd). */
  innerMapFd?: number;
  /** goebpf's PersistentPath: reuse the map pinned there, or create it and pin it there. */
  persistentPath?: string;
  numaNode?: number;
  /** Bloom filter: number of hash functions (1-15); arena: the user address. */
  mapExtra?: bigint;
  /** Offload device. */
  ifindex?: number;
  /** BTF describing key and value (needed by the storage maps and spin locks). */
  btf?: { fd: number; keyTypeId?: number; valueTypeId?: number; vmlinuxValueTypeId?: number };
}

/** What BPF_OBJ_GET_INFO_BY_FD says about a map. */
export interface MapInfo {
  type: MapType;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  ifindex: number;
  btfVmlinuxValueTypeId: number;
  netnsDev: bigint;
  netnsIno: bigint;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  mapExtra: bigint;
}

/** A per-CPU value given to update: one value replicated to every CPU, or one per CPU. */
export type MapValue = KeyValue | readonly KeyValue[];

const BPF_FS_MAGIC = 0xcafe4a11;

/**
 * One element command shape (key → value, key only, ...) of a map's own key/value buffers, with per
 * command a prepared bridge call (bpfPrepare/bpfRun): the cheapest way through Node-API, about half
 * the user-space instructions of bpf(cmd, attr). The bridge checks the buffers against the map's
 * real key and value sizes once, and holds a private dup of the map fd: closing or reusing the fd
 * number behind the map's back cannot make a prepared call write into these buffers for another map.
 */
class ElemAttr {
  /** Prepared calls by command number, made at the first call of each. */
  readonly #prepared: Array<PreparedBpf | undefined> = [];

  constructor(
    private readonly binding: MapBinding,
    private readonly key: Uint8Array | null,
    private readonly value: Uint8Array | null,
  ) {}

  /** Releases the prepared calls now (the map's dup closes with the last one released). */
  release(bridge: NativeBridge): void {
    for (const p of this.#prepared) if (p !== undefined) bridge.bpfRelease(p);
    this.#prepared.length = 0;
  }

  call(bridge: NativeBridge, cmd: BpfCmd, flags: number): number {
    const prepared = this.#prepared[cmd] ?? this.#prepare(bridge, cmd);
    if (typeof prepared === 'number') return prepared;
    return (flags === 0 ? bridge.bpfRun(prepared) : bridge.bpfRun(prepared, flags)) ?? 0;
  }

  #prepare(bridge: NativeBridge, cmd: BpfCmd): PreparedBpf | number {
    const b = this.binding;
    let source: Uint8Array | PreparedBpf | undefined = b.base;
    if (source === undefined) {
      source = new Uint8Array(ELEM.SIZE);
      new DataView(source.buffer).setUint32(ELEM.mapFd, b.fd, true);
    }
    const prepared = bridge.bpfPrepare(cmd, source, ELEM.key, this.key, ELEM.value, this.value);
    if (typeof prepared !== 'number') {
      this.#prepared[cmd] = prepared;
      b.base ??= prepared;
    }
    return prepared;
  }
}

/** The map fd a map's prepared calls are for, and the first of them, whose fd dup the others share. */
interface MapBinding {
  fd: number;
  base: PreparedBpf | undefined;
}

const createAttr = new Uint8Array(CREATE.SIZE);
const createView = new DataView(createAttr.buffer);

/** Bytes of a scratch buffer: a multiple of 8, at least 8, so each one starts 8-aligned. */
function scratchSize(length: number): number {
  return Math.max(8, Math.ceil(length / 8) * 8);
}

/**
 * A map's scratch key, next-key and value buffers and one element attr per pointer shape, made at
 * its first element operation: a System creates many maps that user space never reads or writes.
 */
class ElementBuffers {
  readonly key: Uint8Array;
  readonly key32: Uint32Array | undefined;
  readonly nextKey: Uint8Array;
  readonly nextKeyView: DataView;
  readonly value: Uint8Array;
  readonly valueView: DataView;
  /** For 4- and 8-byte values of maps that are not per-CPU: the value as u32 words. */
  readonly value32: Uint32Array | undefined;
  /** key → value: lookup, update, lookup-and-delete. */
  readonly kv: ElemAttr;
  /** key only: delete. */
  readonly del: ElemAttr;
  /** key → next key; and no key → first key. */
  readonly next: ElemAttr;
  readonly first: ElemAttr;
  /** no key → value: queue/stack/bloom filter push, pop, peek. */
  readonly keyless: ElemAttr;
  readonly bridge: NativeBridge;

  constructor(d: MapShape, fd: number, bridge: NativeBridge) {
    this.bridge = bridge;
    // Key, next key and value on one ArrayBuffer whose memory the bridge owns (so the addresses the
    // prepared calls hold stay valid whatever happens to the ArrayBuffer), one per map.
    const keyBytes = scratchSize(d.keySize), valueBytes = scratchSize(d.valueRealSize);
    const scratch = bridge.scratch(2 * keyBytes + valueBytes);
    this.key = new Uint8Array(scratch, 0, d.keySize);
    this.key32 = d.keySize === 4 ? new Uint32Array(scratch, 0, 1) : undefined;
    this.nextKey = new Uint8Array(scratch, keyBytes, d.keySize);
    this.nextKeyView = new DataView(scratch, keyBytes, keyBytes);
    this.value = new Uint8Array(scratch, 2 * keyBytes, d.valueRealSize);
    this.valueView = new DataView(scratch, 2 * keyBytes, valueBytes);
    this.value32 = !d.perCpu && (d.valueSize === 4 || d.valueSize === 8) ? new Uint32Array(scratch, 2 * keyBytes, d.valueSize / 4) : undefined;
    const binding = this.#binding;
    this.kv = new ElemAttr(binding, this.key, this.value);
    this.del = new ElemAttr(binding, this.key, null);
    this.next = new ElemAttr(binding, this.key, this.nextKey);
    this.first = new ElemAttr(binding, null, this.nextKey);
    this.keyless = new ElemAttr(binding, null, this.value);
    this.bind(fd);
  }

  readonly #binding: MapBinding = { fd: -1, base: undefined };

  /** Points the calls at fd (releasing those prepared for the previous one). */
  bind(fd: number): void {
    this.release();
    this.#binding.fd = fd;
  }

  /** Releases every prepared call (map closed): the map fd's dup is closed. */
  release(): void {
    for (const attr of [this.kv, this.del, this.next, this.first, this.keyless]) attr.release(this.bridge);
    this.#binding.base = undefined;
  }
}

/** An eBPF map (goebpf's EbpfMap): a spec to create, or a map opened by fd, id or pin; element, batch and iteration calls through bpf(2). */
export class EbpfMap implements MapLike, Disposable {
  readonly #spec: MapSpec;
  readonly #shape: MapShape;
  readonly #name: string;
  readonly #type: MapType;
  readonly #keySize: number;
  readonly #valueSize: number;
  readonly #maxEntries: number;
  readonly #flags: number;
  readonly #perCpu: boolean;
  /** Bytes the kernel reads/writes per value: roundUp(valueSize, 8) * nCPU for per-CPU maps. */
  readonly #valueRealSize: number;
  readonly #stride: number;
  readonly #keyCtx: KeyValueContext;
  #owned: FD | undefined;
  #fd = -1;
  #pinnedPath: string | undefined;
  #reused = false;
  #sys: NativeBridge | undefined;
  /** The element buffers, made at the first element operation. */
  #elements: ElementBuffers | undefined;
  /** Bumped at each create/adopt and close: iterators and cursors belong to one life of the map. */
  #generation = 0;

  constructor(spec: MapSpec) {
    const d = mapShape(spec, getNumOfPossibleCpus);
    this.#spec = { ...spec };
    this.#shape = d;
    this.#name = d.name;
    this.#type = spec.type;
    this.#keySize = d.keySize;
    this.#valueSize = d.valueSize;
    this.#maxEntries = d.maxEntries;
    this.#flags = d.flags;
    this.#perCpu = d.perCpu;
    this.#stride = d.stride;
    this.#valueRealSize = d.valueRealSize;
    this.#keyCtx = d.keyCtx;
  }

  /** For an element operation: the element buffers (made at the first one); throws when not live. */
  #elementsLive(): ElementBuffers {
    const e = this.#elements;
    if (e !== undefined && this.#fd >= 0) return e;
    const bridge = this.#live();
    return (this.#elements = new ElementBuffers(this.#shape, this.#fd, bridge));
  }

  /** `new EbpfMap(spec)` then `create()`. */
  static create(spec: MapSpec): EbpfMap {
    const m = new EbpfMap(spec);
    m.create();
    return m;
  }

  /**
   * Opens an existing map by fd; parameters come from the kernel. A number fd is borrowed: the map
   * works on its own duplicate (F_DUPFD_CLOEXEC), so the caller still closes theirs, and closing
   * either never closes the other's. An `FD` object is handed over (the map closes it). To hand a
   * number fd over instead, use `EbpfMap.adoptFd`.
   */
  static fromFd(fd: number | FD): EbpfMap {
    if (fd instanceof FD) return EbpfMap.adoptFd(fd);
    const raw = integerArg(fd, 'EbpfMap.fromFd: fd', 0, 0x7fffffff);
    return EbpfMap.adoptFd(new FD(check(native().dup(raw), 'dup', `fd ${raw} given to EbpfMap.fromFd`)));
  }

  /**
   * Opens an existing map by fd and takes ownership of it: the map closes it (close(), dispose, or
   * the GC). Only for an fd nothing else will close. If this throws (not a map), a number fd is
   * still the caller's to close; an FD is closed.
   */
  static adoptFd(fd: number | FD): EbpfMap {
    const raw = fd instanceof FD ? fd.fd : integerArg(fd, 'EbpfMap.adoptFd: fd', 0, 0x7fffffff);
    let info: MapInfo;
    try {
      info = readMapInfo(raw);
      // BPF_OBJ_GET_INFO_BY_FD answers for programs, links and BTF too, in another layout.
      const kind = fdKind(raw);
      if (kind !== 'anon_inode:bpf-map') throw new TypeError(`fd ${raw} is not a BPF map (it is ${kind})`);
    } catch (e) {
      if (fd instanceof FD) fd.close();
      throw e;
    }
    const m = new EbpfMap({ name: info.name, type: info.type, keySize: info.keySize, valueSize: info.valueSize, maxEntries: info.maxEntries, flags: info.flags });
    m.#adopt(fd instanceof FD ? fd : new FD(fd));
    return m;
  }

  /** Opens the map with this kernel id (BPF_MAP_GET_FD_BY_ID). */
  static fromId(id: number): EbpfMap {
    return EbpfMap.adoptFd(getFdById('map', u32Arg(id, 'EbpfMap.fromId: id')));
  }

  /** Opens the map pinned at `path` (BPF_OBJ_GET), as Program.fromPinned and LinkAttachment.fromPinned do. */
  static fromPinned(path: string): EbpfMap {
    const m = EbpfMap.adoptFd(objGet(path));
    m.#pinnedPath = path;
    return m;
  }

  /** Every map id on the system (BPF_MAP_GET_NEXT_ID), in increasing order. */
  static ids(): Generator<number> {
    return ids('map');
  }

  /** MapInfo of every map on the system (as Program.list()); maps freed during the walk are skipped. */
  static *list(): Generator<MapInfo> {
    for (const id of ids('map')) {
      let fd: FD;
      try {
        fd = getFdById('map', id);
      } catch (e) {
        if (e instanceof SyscallError && e.code === 'ENOENT') continue;
        throw e;
      }
      try {
        yield readMapInfo(fd.fd);
      } finally {
        fd.close();
      }
    }
  }

  get fd(): number {
    return this.#fd;
  }
  get name(): string {
    return this.#name;
  }
  get type(): MapType {
    return this.#type;
  }
  get keySize(): number {
    return this.#keySize;
  }
  get valueSize(): number {
    return this.#valueSize;
  }
  get maxEntries(): number {
    return this.#maxEntries;
  }
  get flags(): number {
    return this.#flags;
  }
  /** Whether values hold one slot per possible CPU. */
  get perCpu(): boolean {
    return this.#perCpu;
  }
  /** The path this map is pinned at, if pinned (or opened) through this object. */
  get pinnedPath(): string | undefined {
    return this.#pinnedPath;
  }
  /** Whether create() found the map at its persistentPath and used it instead of creating one. */
  get reused(): boolean {
    return this.#reused;
  }

  /** A new, not yet created map with the same spec (goebpf's CloneTemplate: inner maps). */
  cloneTemplate(): EbpfMap {
    return new EbpfMap({ ...this.#spec, name: this.#name, keySize: this.#keySize, valueSize: this.#valueSize, maxEntries: this.#maxEntries, flags: this.#flags, persistentPath: undefined });
  }

  /** Creates the map in the kernel (BPF_MAP_CREATE); with persistentPath, reuses or pins it. */
  create(): this {
    if (this.#fd >= 0) return this;
    const nameBytes = mapNameBytes(this.#shape);
    const path = this.#spec.persistentPath;
    if (path !== undefined) {
      const existing = tryObjGet(path);
      if (existing !== undefined) {
        this.#adoptCompatible(existing, path);
        this.#reused = true;
        return this;
      }
    }
    this.#reused = false; // a map closed and created again may have been reused the first time
    let innerTemplate: EbpfMap | undefined;
    try {
      const inner = this.#spec.innerMap;
      let innerFd = this.#spec.innerMapFd;
      if (inner !== undefined) {
        // An uncreated template is created briefly (as a clone: never at its persistentPath).
        if (!(inner instanceof EbpfMap && inner.fd >= 0)) innerTemplate = (inner instanceof EbpfMap ? inner.cloneTemplate() : new EbpfMap({ ...inner, persistentPath: undefined })).create();
        innerFd = (innerTemplate ?? (inner as EbpfMap)).fd;
      }
      // One attr for every create (written whole each time, after the inner template's create).
      const attr = createAttr;
      attr.fill(0);
      const v = createView;
      v.setUint32(CREATE.mapType, this.#type, true);
      v.setUint32(CREATE.keySize, this.#keySize, true);
      v.setUint32(CREATE.valueSize, this.#valueSize, true);
      v.setUint32(CREATE.maxEntries, this.#maxEntries, true);
      v.setUint32(CREATE.mapFlags, this.#flags, true);
      v.setUint32(CREATE.numaNode, this.#spec.numaNode ?? 0, true);
      v.setUint32(CREATE.mapIfindex, this.#spec.ifindex ?? 0, true);
      attr.set(nameBytes, CREATE.mapName);
      const btf = this.#spec.btf;
      if (btf !== undefined) {
        v.setUint32(CREATE.btfFd, btf.fd, true);
        v.setUint32(CREATE.btfKeyTypeId, btf.keyTypeId ?? 0, true);
        v.setUint32(CREATE.btfValueTypeId, btf.valueTypeId ?? 0, true);
        v.setUint32(CREATE.btfVmlinuxValueTypeId, btf.vmlinuxValueTypeId ?? 0, true);
      }
      v.setBigUint64(CREATE.mapExtra, this.#spec.mapExtra ?? 0n, true);
      if (innerFd !== undefined) v.setUint32(CREATE.innerMapFd, innerFd, true);
      const fd = sys().bpf(BpfCmd.MapCreate, attr);
      if (fd < 0) throw errnoError(-fd, 'BPF_MAP_CREATE', this.#describe());
      this.#adopt(new FD(fd));
    } finally {
      innerTemplate?.close();
    }
    if (path !== undefined) {
      try {
        this.pin(path);
      } catch (e) {
        this.close();
        throw e;
      }
    }
    return this;
  }

  #describe(): string {
    return describeMapShape(this.#shape);
  }

  #adopt(fd: FD): void {
    this.#owned = fd;
    this.#fd = fd.fd;
    this.#sys = sys();
    this.#generation++;
    this.#elements?.bind(this.#fd);
  }

  #adoptCompatible(fd: FD, path: string): void {
    let info: MapInfo;
    try {
      info = readMapInfo(fd.fd);
    } catch (e) {
      fd.close();
      throw e;
    }
    const want = [this.#type, this.#keySize, this.#valueSize, this.#maxEntries];
    const have = [info.type, info.keySize, info.valueSize, info.maxEntries];
    if (want.some((w, i) => w !== have[i])) {
      fd.close();
      throw new Error(`${describeMap(this.#name)}: the map pinned at ${path} is ${mapTypeName(info.type)} with key ${info.keySize} B, value ${info.valueSize} B, ${info.maxEntries} entries; the spec asks for ${this.#describe()}`);
    }
    this.#adopt(fd);
    this.#pinnedPath = path;
  }

  /** Closes this process's fd (idempotent); the map lives on while pinned or used by programs. */
  close(): void {
    if (this.#owned === undefined) return;
    this.#fd = -1;
    this.#generation++; // ends every pending iterator and batch cursor
    this.#elements?.release();
    const owned = this.#owned;
    this.#owned = undefined;
    owned.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #live(): NativeBridge {
    if (this.#fd < 0) throw notLiveError(this.#shape, this.#owned === undefined && this.#sys !== undefined);
    return this.#sys!;
  }

  #fail(ret: number, syscall: string, key?: KeyValue): SyscallError {
    return errnoError(-ret, syscall, elementContext(this.#shape, key));
  }

  #encodeKey(e: ElementBuffers, key: KeyValue): void {
    // Fast path: u32 keys (arrays, most hashes) without a zero-fill or a loop.
    const k32 = e.key32;
    if (k32 !== undefined && typeof key === 'number' && key >= 0 && key <= 0xffffffff && Number.isInteger(key)) {
      k32[0] = key;
    } else {
      encodeKeyValue(e.key, 0, key, this.#keySize, this.#keyCtx);
    }
  }

  #encodeValue(e: ElementBuffers, value: MapValue): void {
    // Fast path: u32/u64 counters given as numbers.
    const v32 = e.value32;
    if (v32 !== undefined && typeof value === 'number' && value >= 0 && value <= (v32.length === 1 ? 0xffffffff : Number.MAX_SAFE_INTEGER) && Number.isInteger(value)) {
      v32[0] = value >>> 0;
      if (this.#valueSize === 8) v32[1] = Math.floor(value / 4294967296);
      return;
    }
    encodeMapValue(e.value, value, this.#shape);
  }

  /** Scratch key → scratch value; returns the raw result (0 or -errno). */
  #lookupRaw(e: ElementBuffers, flags: number): number {
    return e.kv.call(e.bridge, BpfCmd.MapLookupElem, flags);
  }

  /**
   * The value at `key` as bytes (a new array). Per-CPU maps: nCPU slots of roundUp(valueSize, 8)
   * bytes, as goebpf returns them (see lookupPerCpu). Throws SyscallError ENOENT when absent.
   */
  lookup(key: KeyValue, flags = 0): Uint8Array {
    if (flags !== 0) elementFlagsArg(flags, `${describeMap(this.#shape.label)}: lookup flags`);
    const e = this.#elementsLive();
    this.#encodeKey(e, key);
    // Into the scratch buffer, then copied: a fresh small typed array lives on V8's heap and would
    // have to be moved off-heap for the native call, which costs more than the copy.
    const ret = this.#lookupRaw(e, flags);
    if (ret < 0) throw this.#fail(ret, 'BPF_MAP_LOOKUP_ELEM', key);
    return e.value.slice();
  }

  /** Per-CPU maps: one value (valueSize bytes) per possible CPU. */
  lookupPerCpu(key: KeyValue): Uint8Array[] {
    assertPerCpu(this.#shape);
    return perCpuValues(this.lookup(key), this.#shape);
  }

  /** Looks `key` up into the scratch value, and returns the buffers holding it. */
  #lookupScratch(key: KeyValue): ElementBuffers {
    const e = this.#elementsLive();
    this.#encodeKey(e, key);
    const ret = this.#lookupRaw(e, 0);
    if (ret < 0) throw this.#fail(ret, 'BPF_MAP_LOOKUP_ELEM', key);
    return e;
  }

  /** The value as an unsigned integer (sum over CPUs for per-CPU maps); RangeError past 2^53. */
  lookupInt(key: KeyValue): number {
    if (!this.#perCpu) {
      const small = smallUint(this.#lookupScratch(key).valueView, this.#valueSize);
      if (small !== undefined) return small;
    }
    return toSafeNumber(this.lookupUint64(key), this.#shape, 'value');
  }

  /** The value as an unsigned bigint (sum over CPUs for per-CPU maps). */
  lookupUint64(key: KeyValue): bigint {
    checkIntegerSize(this.#shape, 'value');
    const e = this.#lookupScratch(key);
    if (this.#perCpu) return sumFlexibleIntegers(e.value, this.#valueSize, this.#stride);
    return this.#valueSize === 8 ? e.valueView.getBigUint64(0, true) : parseFlexibleIntegerLittleEndian(e.value);
  }

  /** The value as a NUL-terminated UTF-8 string (not for per-CPU maps). */
  lookupString(key: KeyValue): string {
    checkNotPerCpuForString(this.#shape);
    return nullTerminatedStringToString(this.#lookupScratch(key).value);
  }

  /** Array/hash of maps: opens the inner map stored at `key` (the kernel returns its id). */
  lookupInnerMap(key: KeyValue): EbpfMap {
    return EbpfMap.fromId(this.lookupInt(key));
  }

  #updateRaw(key: KeyValue, value: MapValue, flags: number): void {
    if (flags !== 0) elementFlagsArg(flags, `${describeMap(this.#shape.label)}: update flags`);
    const e = this.#elementsLive();
    this.#encodeKey(e, key);
    this.#encodeValue(e, value);
    const ret = e.kv.call(e.bridge, BpfCmd.MapUpdateElem, flags);
    if (ret < 0) throw this.#fail(ret, 'BPF_MAP_UPDATE_ELEM', key);
  }

  /** Adds `key` (BPF_NOEXIST): EEXIST if present (always for arrays, whose slots all exist). */
  insert(key: KeyValue, value: MapValue): void {
    this.#updateRaw(key, value, insertFlags(this.#type));
  }

  /** Replaces the value at an existing `key` (BPF_EXIST): ENOENT if absent. */
  update(key: KeyValue, value: MapValue): void {
    this.#updateRaw(key, value, updateFlags(this.#type));
  }

  /** Inserts or replaces (BPF_ANY); `flags` may add BPF_F_LOCK. */
  upsert(key: KeyValue, value: MapValue, flags = BPF_ANY): void {
    this.#updateRaw(key, value, flags);
  }

  /** Removes `key`: ENOENT if absent, EINVAL for arrays. */
  delete(key: KeyValue): void {
    const e = this.#elementsLive();
    this.#encodeKey(e, key);
    const ret = e.del.call(e.bridge, BpfCmd.MapDeleteElem, 0);
    if (ret < 0) throw this.#fail(ret, 'BPF_MAP_DELETE_ELEM', key);
  }

  /** Returns and removes the value at `key` (BPF_MAP_LOOKUP_AND_DELETE_ELEM). */
  lookupAndDelete(key: KeyValue): Uint8Array {
    const e = this.#elementsLive();
    this.#encodeKey(e, key);
    const ret = e.kv.call(e.bridge, BpfCmd.MapLookupAndDeleteElem, 0);
    if (ret < 0) throw this.#fail(ret, 'BPF_MAP_LOOKUP_AND_DELETE_ELEM', key);
    return e.value.slice();
  }

  /** Raw get-next-key into #nextKey after the scratch key (or the first key). Returns 0, or -errno. */
  #nextKeyRaw(e: ElementBuffers, fromScratchKey: boolean): number {
    return (fromScratchKey ? e.next : e.first).call(e.bridge, BpfCmd.MapGetNextKey, 0);
  }

  /** Get-next-key into the scratch next key: the buffers holding it, or undefined after the last key. */
  #nextKeyScratch(key: KeyValue | undefined): ElementBuffers | undefined {
    const e = this.#elementsLive();
    if (key !== undefined) this.#encodeKey(e, key);
    const ret = this.#nextKeyRaw(e, key !== undefined);
    if (ret === -Errno.ENOENT) return undefined;
    if (ret < 0) throw this.#fail(ret, 'BPF_MAP_GET_NEXT_KEY', key);
    return e;
  }

  /** The key after `key` (the first key when `key` is undefined), or undefined after the last. */
  getNextKey(key?: KeyValue): Uint8Array | undefined {
    return this.#nextKeyScratch(key)?.nextKey.slice();
  }

  getNextKeyInt(key?: KeyValue): number | undefined {
    const e = this.#nextKeyScratch(key);
    if (e === undefined) return undefined;
    const small = smallUint(e.nextKeyView, this.#keySize);
    if (small !== undefined) return small;
    const next = this.getNextKeyUint64(key);
    if (next === undefined) return undefined;
    return toSafeNumber(next, this.#shape, 'key');
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

  /** Every key, surviving concurrent deletes (see #walk). */
  *keys(): Generator<Uint8Array> {
    for (const [key] of this.#walk(false)) yield key;
  }

  /** Every [key, value] pair, surviving concurrent deletes; entries deleted meanwhile are skipped. */
  entries(): Generator<[Uint8Array, Uint8Array]> {
    return this.#walk(true) as Generator<[Uint8Array, Uint8Array]>;
  }

  [Symbol.iterator](): Generator<[Uint8Array, Uint8Array]> {
    return this.entries();
  }

  /**
   * Walks the keys with BPF_MAP_GET_NEXT_KEY. When the current key is deleted (by us or anyone), a
   * hash/LRU/LPM/stack-trace map's get-next-key starts over from its first key. Like cilium/ebpf we
   * keep going instead of failing, and go further: we remember the keys already yielded, resume from
   * the newest one still present, and never yield a key twice. Array-like maps are index-walked by
   * the kernel and never restart, so they need no bookkeeping.
   */
  *#walk(withValues: boolean): Generator<[Uint8Array, Uint8Array | undefined]> {
    const e = this.#elementsLive();
    const generation = this.#generation;
    if (this.#keySize === 0) return; // queue, stack, bloom filter, rings: no keys to walk
    const restarts = !ARRAY_KEYED.has(this.#type);
    const seen = restarts ? new Set<string>() : undefined;
    const history: string[] = [];
    const cursor = new Uint8Array(this.#keySize);
    let started = false;
    // Bound the walk so a map changing faster than we read cannot keep us here forever.
    const limit = 4 * (this.#maxEntries + 1) + 64;
    for (let steps = 0; ; steps++) {
      if (steps > limit) throw new Error(`${describeMap(this.#shape.label)}: iteration aborted after ${steps} steps: the map keeps changing under the iterator`);
      // A closed (or closed and re-created) map ends the walk: its buffers and fd are not ours anymore.
      if (this.#generation !== generation) throw new Error(`${describeMap(this.#shape.label)}: closed during iteration`);
      if (started) e.key.set(cursor);
      const ret = this.#nextKeyRaw(e, started);
      if (ret === -Errno.ENOENT) return;
      if (ret < 0) throw this.#fail(ret, 'BPF_MAP_GET_NEXT_KEY');
      started = true;
      let id = '';
      if (seen !== undefined) {
        id = Buffer.from(e.nextKey.buffer, e.nextKey.byteOffset, this.#keySize).toString('latin1');
        if (seen.has(id)) {
          // The kernel restarted: our cursor key is gone. Resume after the newest yielded key still present.
          if (!this.#resumeFromHistory(e, history, cursor)) cursor.set(e.nextKey);
          continue;
        }
      }
      cursor.set(e.nextKey);
      let value: Uint8Array | undefined;
      if (withValues) {
        e.key.set(cursor);
        const lr = this.#lookupRaw(e, 0);
        if (lr === -Errno.ENOENT) continue; // deleted since get-next-key, or an empty fd-array slot
        if (lr < 0) throw this.#fail(lr, 'BPF_MAP_LOOKUP_ELEM', cursor.slice());
        value = e.value.slice();
      }
      if (seen !== undefined) {
        seen.add(id);
        history.push(id);
      }
      yield [cursor.slice(), value];
    }
  }

  #resumeFromHistory(e: ElementBuffers, history: string[], cursor: Uint8Array): boolean {
    while (history.length > 0) {
      const id = history.pop()!;
      for (let i = 0; i < this.#keySize; i++) e.key[i] = id.charCodeAt(i);
      if (this.#lookupRaw(e, 0) === 0) {
        cursor.set(e.key);
        return true;
      }
    }
    return false;
  }

  // ---- batch operations (BPF_MAP_*_BATCH) ----

  #batchAttr: Uint8Array | undefined;

  #batch(cmd: number, name: string, inBatch: Uint8Array | null, outBatch: Uint8Array | null, keys: Uint8Array, values: Uint8Array | null, count: number, elemFlags: number): { ret: number; count: number } {
    const bridge = this.#live();
    const attr = (this.#batchAttr ??= new Uint8Array(BATCH.SIZE));
    const v = new DataView(attr.buffer);
    v.setUint32(BATCH.count, u32Arg(count, `${describeMap(this.#shape.label)}: batch count`), true);
    v.setUint32(BATCH.mapFd, this.#fd, true);
    v.setBigUint64(BATCH.elemFlags, BigInt(elementFlagsArg(elemFlags, `${describeMap(this.#shape.label)}: flags`)), true);
    v.setBigUint64(BATCH.flags, 0n, true);
    const ret = bridge.bpf(cmd, attr, BATCH.inBatch, inBatch, BATCH.outBatch, outBatch, BATCH.keys, keys, BATCH.values, values);
    const done = v.getUint32(BATCH.count, true);
    if (ret < 0 && ret !== -Errno.ENOENT) {
      const err = this.#fail(ret, name);
      (err as SyscallError & { processed?: number }).processed = done;
      throw err;
    }
    return { ret, count: done };
  }

  #lookupBatchInto(cmd: number, name: string, cursor: MapBatchCursor, keys: Uint8Array, values: Uint8Array, count: unknown): number {
    this.#live();
    const token = MapBatchCursor.tokenFor(cursor, this, this.#generation, this.#shape);
    if (cursor.done) return 0;
    const n = checkBatchBuffers(keys, values, count ?? defaultBatchCount(keys, this.#shape), this.#shape);
    const r = this.#batch(cmd, name, cursor.started ? token : null, token, keys, values, n, 0);
    cursor.started = true;
    if (r.ret === -Errno.ENOENT) cursor.done = true;
    return r.count;
  }

  /**
   * One BPF_MAP_LOOKUP_BATCH call: up to `count` entries into contiguous `keys` (keySize each) and
   * `values` (valueSize, or nCPU*roundUp(valueSize,8) per-CPU) from where `cursor` stands. Returns
   * how many were read; `cursor.done` turns true at the end. No per-element allocation.
   */
  lookupBatchInto(cursor: MapBatchCursor, keys: Uint8Array, values: Uint8Array, count?: number): number {
    return this.#lookupBatchInto(BpfCmd.MapLookupBatch, 'BPF_MAP_LOOKUP_BATCH', cursor, keys, values, count);
  }

  /** lookupBatchInto, deleting what it returns (BPF_MAP_LOOKUP_AND_DELETE_BATCH). */
  lookupAndDeleteBatchInto(cursor: MapBatchCursor, keys: Uint8Array, values: Uint8Array, count?: number): number {
    return this.#lookupBatchInto(BpfCmd.MapLookupAndDeleteBatch, 'BPF_MAP_LOOKUP_AND_DELETE_BATCH', cursor, keys, values, count);
  }

  #allBatches(cmd: number, name: string, chunkSize: number): Array<[Uint8Array, Uint8Array]> {
    const out: Array<[Uint8Array, Uint8Array]> = [];
    let chunk = chunkSizeArg(chunkSize, this.#shape);
    const cursor = new MapBatchCursor(this.#keySize);
    while (!cursor.done) {
      const keys = new Uint8Array(chunk * this.#keySize);
      const values = new Uint8Array(chunk * this.#valueRealSize);
      let n: number;
      try {
        n = this.#lookupBatchInto(cmd, name, cursor, keys, values, chunk);
      } catch (e) {
        // A hash bucket holds more entries than the chunk: retry that bucket with a bigger chunk.
        if (e instanceof SyscallError && e.errno === Errno.ENOSPC && chunk < 1 << 20) {
          chunk *= 2;
          continue;
        }
        throw e;
      }
      for (let i = 0; i < n; i++) {
        out.push([keys.subarray(i * this.#keySize, (i + 1) * this.#keySize), values.subarray(i * this.#valueRealSize, (i + 1) * this.#valueRealSize)]);
      }
    }
    return out;
  }

  /** Every entry, read `chunkSize` at a time with BPF_MAP_LOOKUP_BATCH. */
  lookupBatch(options: { chunkSize?: number } = {}): Array<[Uint8Array, Uint8Array]> {
    return this.#allBatches(BpfCmd.MapLookupBatch, 'BPF_MAP_LOOKUP_BATCH', options.chunkSize ?? 256);
  }

  /** Every entry, read and deleted `chunkSize` at a time (BPF_MAP_LOOKUP_AND_DELETE_BATCH). */
  lookupAndDeleteBatch(options: { chunkSize?: number } = {}): Array<[Uint8Array, Uint8Array]> {
    return this.#allBatches(BpfCmd.MapLookupAndDeleteBatch, 'BPF_MAP_LOOKUP_AND_DELETE_BATCH', options.chunkSize ?? 256);
  }

  /**
   * Writes many entries in one BPF_MAP_UPDATE_BATCH. `keys`/`values` are arrays of keys/values (a
   * per-CPU value may be an array, one per CPU) or contiguous byte buffers. Returns the count written;
   * on failure the SyscallError's `processed` says how many were written before it.
   */
  updateBatch(keys: readonly KeyValue[] | Uint8Array, values: readonly MapValue[] | Uint8Array, options: { flags?: number } = {}): number {
    const k = packKeys(keys, this.#shape);
    const vbytes = packValues(values, k.count, this.#shape);
    const count = checkBatchBuffers(k.bytes, vbytes, k.count, this.#shape);
    return this.#batch(BpfCmd.MapUpdateBatch, 'BPF_MAP_UPDATE_BATCH', null, null, k.bytes, vbytes, count, options.flags ?? BPF_ANY).count;
  }

  /** Deletes many keys in one BPF_MAP_DELETE_BATCH; returns the count deleted (ENOENT stops it). */
  deleteBatch(keys: readonly KeyValue[] | Uint8Array): number {
    const k = packKeys(keys, this.#shape);
    checkBatchBuffers(k.bytes, null, k.count, this.#shape);
    const r = this.#batch(BpfCmd.MapDeleteBatch, 'BPF_MAP_DELETE_BATCH', null, null, k.bytes, null, k.count, 0);
    if (r.ret === -Errno.ENOENT) {
      const err = this.#fail(r.ret, 'BPF_MAP_DELETE_BATCH');
      (err as SyscallError & { processed?: number }).processed = r.count;
      throw err;
    }
    return r.count;
  }

  // ---- queue, stack, bloom filter ----

  /** Queue/stack/bloom filter: adds `value` (flags BPF_EXIST overwrites the oldest when full). */
  push(value: KeyValue, flags = BPF_ANY): void {
    if (flags !== 0) elementFlagsArg(flags, `${describeMap(this.#shape.label)}: push flags`);
    const e = this.#elementsLive();
    this.#encodeValue(e, value);
    const ret = e.keyless.call(e.bridge, BpfCmd.MapUpdateElem, flags);
    if (ret < 0) throw this.#fail(ret, 'BPF_MAP_UPDATE_ELEM');
  }

  /** Queue/stack: removes and returns the next value, or undefined when empty. */
  pop(): Uint8Array | undefined {
    return this.#keylessRead(BpfCmd.MapLookupAndDeleteElem, 'BPF_MAP_LOOKUP_AND_DELETE_ELEM');
  }

  /** Queue/stack: the next value without removing it, or undefined when empty. */
  peek(): Uint8Array | undefined {
    // A bloom filter's lookup tests the value it is given; peek has none to give.
    if (this.type === MapType.BloomFilter) throw new TypeError(`${describeMap(this.#shape.label)}: a bloom filter has no next value to peek; use contains(value)`);
    return this.#keylessRead(BpfCmd.MapLookupElem, 'BPF_MAP_LOOKUP_ELEM');
  }

  #keylessRead(cmd: BpfCmd, name: string): Uint8Array | undefined {
    const e = this.#elementsLive();
    const ret = e.keyless.call(e.bridge, cmd, 0);
    if (ret === -Errno.ENOENT) return undefined;
    if (ret < 0) throw this.#fail(ret, name);
    return e.value.slice();
  }

  /** Bloom filter: false if `value` was surely never pushed, true if it probably was. */
  contains(value: KeyValue): boolean {
    const e = this.#elementsLive();
    this.#encodeValue(e, value);
    const ret = e.keyless.call(e.bridge, BpfCmd.MapLookupElem, 0);
    if (ret === -Errno.ENOENT) return false;
    if (ret < 0) throw this.#fail(ret, 'BPF_MAP_LOOKUP_ELEM');
    return true;
  }

  // ---- whole-map operations ----

  /** Makes the map read-only for user space (BPF_MAP_FREEZE); programs can still write it. */
  freeze(): void {
    const bridge = this.#live();
    const attr = new Uint8Array(ELEM.SIZE);
    new DataView(attr.buffer).setUint32(ELEM.mapFd, this.#fd, true);
    const ret = bridge.bpf(BpfCmd.MapFreeze, attr);
    if (ret < 0) throw this.#fail(ret, 'BPF_MAP_FREEZE');
  }

  /** Pins the map at `path`, which must be inside a bpffs mount. */
  pin(path: string): void {
    this.#live();
    try {
      objPin(this.#fd, path);
    } catch (e) {
      if (e instanceof SyscallError && e.errno === Errno.EPERM && !onBpffs(dirname(path))) {
        e.message += `: cannot pin at ${path}: ${dirname(path)} is not on a bpffs mount (pin below /sys/fs/bpf, or mount one with \`mount -t bpf bpf DIR\`)`;
      }
      throw e;
    }
    this.#pinnedPath = path;
  }

  /** Removes the pin made by pin() or persistentPath (the map lives on while referenced). */
  unpin(): void {
    if (this.#pinnedPath === undefined) return;
    unlinkSync(this.#pinnedPath);
    this.#pinnedPath = undefined;
  }

  /** The map as the kernel describes it (BPF_OBJ_GET_INFO_BY_FD). */
  info(): MapInfo {
    this.#live();
    return readMapInfo(this.#fd);
  }

  toString(): string {
    return `EbpfMap(${this.#describe()}, fd ${this.#fd})`;
  }
}

function sys(): NativeBridge {
  return native();
}

function tryObjGet(path: string): FD | undefined {
  try {
    return objGet(path);
  } catch (e) {
    if (e instanceof SyscallError && e.errno === Errno.ENOENT) return undefined;
    throw e;
  }
}

function fdKind(fd: number): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return 'unknown';
  }
}

function onBpffs(dir: string): boolean {
  try {
    return statfsSync(dir).type === BPF_FS_MAGIC;
  } catch {
    return false;
  }
}

function readMapInfo(fd: number): MapInfo {
  const info = new Uint8Array(MAP_INFO.SIZE);
  objGetInfoByFd(fd, info);
  const v = new DataView(info.buffer);
  const u32 = (off: number): number => v.getUint32(off, true);
  return {
    type: u32(MAP_INFO.type) as MapType,
    id: u32(MAP_INFO.id),
    keySize: u32(MAP_INFO.keySize),
    valueSize: u32(MAP_INFO.valueSize),
    maxEntries: u32(MAP_INFO.maxEntries),
    flags: u32(MAP_INFO.mapFlags),
    name: nullTerminatedStringToString(info.subarray(MAP_INFO.name, MAP_INFO.name + MAP_INFO.nameLen)),
    ifindex: u32(MAP_INFO.ifindex),
    btfVmlinuxValueTypeId: u32(MAP_INFO.btfVmlinuxValueTypeId),
    netnsDev: v.getBigUint64(MAP_INFO.netnsDev, true),
    netnsIno: v.getBigUint64(MAP_INFO.netnsIno, true),
    btfId: u32(MAP_INFO.btfId),
    btfKeyTypeId: u32(MAP_INFO.btfKeyTypeId),
    btfValueTypeId: u32(MAP_INFO.btfValueTypeId),
    mapExtra: v.getBigUint64(MAP_INFO.mapExtra, true),
  };
}
