// The sizes BPF_MAP_CREATE gets for a map defined in an ELF object. Object files leave some out or
// get them nearly right, and loaders fill them in: goebpf lets legacy definitions omit the u32 key
// of array-indexed maps and always gives fd-holding maps 4-byte values; libbpf gives a perf event
// array without max_entries one slot per possible CPU and rounds ring buffer sizes up to a
// power-of-2 number of pages; cilium/ebpf fills the key and value sizes of perf event arrays and
// maps of maps. A size no loader could make valid is an error naming the map. And as libbpf does,
// map types whose kernel side checks no BTF (or refuses it) are created without key/value BTF, maps
// of maps start with the inner maps their definition puts in slots (`.values = { [1] = &m }`), and
// program arrays get the programs theirs name (`.values = { [1] = (void *)&prog }`) as those load.
// A load may set a map's sizes, flags or inner template first (MapOptions), as libbpf's setters do.
import { type ElfMapSpec, type ObjectInfo, type ElfProgramSpec } from '../inspect.js';
import type { HasFd } from '../map/keyvalue.js';
import type { MapLike } from '../map/like.js';
import type { MapSpec } from '../map/map.js';
import { SyscallError } from '../sys/errors.js';
import { isPowerOfTwo, U32_MAX } from '../sys/integers.js';
import { MapType, mapTypeName } from '../sys/generated.js';
import { describeMapShape, mapShape } from '../map/shape.js';
import type { ProgramLike } from './like.js';
import { describeMap, describeProgram, describeSection, inObject, quoted } from '../sys/describe.js';

/** Maps indexed by a u32 (goebpf's list, and cgroup arrays): key size 4, which may be left out. */
const U32_INDEXED = new Set<MapType>([
  MapType.Array, MapType.PerCPUArray, MapType.ProgArray, MapType.PerfEventArray, MapType.CgroupArray, MapType.ArrayOfMaps,
]);
/** Maps whose values user space writes as fds: value size 4. */
const FD_VALUED = new Set<MapType>([MapType.ProgArray, MapType.PerfEventArray, MapType.CgroupArray, MapType.ArrayOfMaps, MapType.HashOfMaps]);
const RING_BUFFERS = new Set<MapType>([MapType.RingBuf, MapType.UserRingBuf]);
/** libbpf's list of map types created without key/value BTF, and program arrays: the kernel refuses
 *  it for most of them (EINVAL for maps of maps, ENOTSUPP for sockmaps and program arrays, ...), and a
 *  refused try costs a syscall (libbpf makes that try for program arrays). */
const WITHOUT_BTF = new Set<MapType>([
  MapType.ProgArray, MapType.PerfEventArray, MapType.CgroupArray, MapType.StackTrace, MapType.ArrayOfMaps, MapType.HashOfMaps,
  MapType.DevMap, MapType.DevMapHash, MapType.CPUMap, MapType.XSKMap, MapType.SockMap, MapType.SockHash,
  MapType.Queue, MapType.Stack, MapType.Arena,
]);

/**
 * libbpf's ring buffer size: `size` if it is a power-of-2 multiple of the page size, else the
 * smallest such multiple above it; 0 stays 0 (the kernel's error is clearer than a guess), and a
 * size no u32 multiple can exceed stays as it is.
 */
export function ringBufferSize(size: number, pageSize: number): number {
  if (size === 0) return 0;
  const pages = size / pageSize;
  if (isPowerOfTwo(pages)) return size;
  for (let bytes = pageSize; bytes <= U32_MAX; bytes *= 2) {
    if (bytes > size) return bytes;
  }
  return size;
}

/**
 * Key size, value size and max_entries for BPF_MAP_CREATE from an ELF map definition. `undefined`
 * leaves the choice to EbpfMap (possible CPUs for a perf event array's max_entries).
 */
export function elfMapSizes(spec: ElfMapSpec, pageSize: () => number): Pick<MapSpec, 'keySize' | 'valueSize' | 'maxEntries'> {
  const type = spec.type as MapType;
  const label = `${describeMap(spec.name)} (${spec.typeName})`;
  let keySize = spec.keySize;
  if (U32_INDEXED.has(type)) {
    if (keySize !== 0 && keySize !== 4) throw new Error(`${label}: key_size is ${keySize}; maps of this type are indexed by a u32, so it must be 4 or left out`);
    keySize = 4;
  }
  let valueSize = spec.valueSize;
  if (FD_VALUED.has(type)) {
    // goebpf creates these with 4-byte values whatever a legacy definition says.
    if (spec.origin !== 'legacy' && valueSize !== 0 && valueSize !== 4) throw new Error(`${label}: value_size is ${valueSize}; values of this type are u32 fds, so it must be 4 or left out`);
    valueSize = 4;
  }
  let maxEntries = spec.maxEntries;
  if (RING_BUFFERS.has(type)) maxEntries = ringBufferSize(maxEntries, pageSize());
  return {
    keySize: keySize === 0 ? undefined : keySize,
    valueSize: valueSize === 0 ? undefined : valueSize,
    maxEntries: maxEntries === 0 ? undefined : maxEntries,
  };
}

/**
 * What a load may set for a map of its object before the map is created, as libbpf's
 * bpf_map__set_max_entries/_key_size/_value_size/_map_flags/_numa_node/_map_extra/_inner_map_fd
 * and cilium/ebpf's MapSpec fields do: for objects that leave sizes to their loader (one slot per
 * CPU, a ring buffer sized at run time) or a map of maps its inner template.
 */
export interface MapOptions {
  /** A ring buffer's is rounded up to a power-of-2 number of pages, as its definition's would be. */
  maxEntries?: number;
  keySize?: number;
  valueSize?: number;
  /** map_flags, replacing the definition's. */
  flags?: number;
  numaNode?: number;
  mapExtra?: bigint;
  /** A map of maps' inner map template (an open map whose shape the slots take), replacing the definition's. */
  innerMap?: HasFd;
  /**
   * An open map to use instead of creating one (libbpf's bpf_map__reuse_fd, cilium/ebpf's
   * MapReplacements): it must have the type, key and value sizes and max_entries the load would
   * create. It is used as it is (no initial contents written, not frozen; slots it fills are kept),
   * stays the caller's, and stays open when the System closes. An EbpfMap for System, a MockMap for
   * MockSystem.
   */
  replaceWith?: MapLike;
  /**
   * Where the map is reused from or pinned to, replacing what the object says (goebpf's
   * persistent_path, libbpf's LIBBPF_PIN_BY_NAME; libbpf's bpf_map__set_pin_path); null: not pinned.
   */
  persistentPath?: string | null;
}

/** libbpf's LIBBPF_PIN_BY_NAME: the map is pinned under the pin root by its name. */
export const PIN_BY_NAME = 1;
/** Where LIBBPF_PIN_BY_NAME maps go without a `pinRoot` (libbpf's default). */
export const DEFAULT_PIN_ROOT = '/sys/fs/bpf';

/** Where a map of this ELF spec is reused from or pinned to, or undefined for an unpinned map. */
export function mapPinPath(spec: ElfMapSpec, pinRoot: string | undefined): string | undefined {
  if (spec.persistentPath !== null) return spec.persistentPath;
  return spec.pinning === PIN_BY_NAME ? `${(pinRoot ?? DEFAULT_PIN_ROOT).replace(/\/+$/, '')}/${spec.name}` : undefined;
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * Checks that every name in `maps` is a map of the object a load creates (a misspelt name, or a
 * struct_ops map, would otherwise change nothing) and that a mapExtra fits in 64 bits; the other
 * values are checked where the map is made, with its name.
 */
export function checkMapOptions(object: ObjectInfo, maps: Readonly<Record<string, MapOptions>> | undefined, objectName?: string): void {
  if (maps === undefined) return;
  const created = object.maps.filter((m) => !m.innerTemplate && m.origin !== 'struct-ops');
  const names = created.map((m) => m.name);
  for (const [name, options] of Object.entries(maps)) {
    if (object.maps.some((m) => m.name === name && m.origin === 'struct-ops')) throw new Error(inObject(objectName, `${describeMap(name)}: options.maps cannot change a struct_ops map: loads do not create them yet`));
    if (!names.includes(name)) throw new Error(inObject(objectName, `${describeMap(name)}: options.maps names no map of the object (its maps: ${names.join(', ') || 'none'})`));
    const extra = options.mapExtra;
    if (extra !== undefined && (typeof extra !== 'bigint' || extra < 0n || extra > U64_MAX)) throw new RangeError(`${describeMap(name)}: mapExtra ${String(extra)} is not a u64 bigint`);
  }
}

/**
 * Checks a map given in place of one (MapOptions.replaceWith) against `spec`, what the load would
 * create for the object's map `name`: open, of the same type, key and value sizes and max_entries.
 */
export function checkReplacement(name: string, spec: Omit<MapSpec, 'innerMap'>, given: MapLike, possibleCpus: () => number): void {
  if (given.fd < 0) throw new Error(`${describeMap(name)}: the map given to replace it is closed`);
  const want = mapShape(spec, possibleCpus);
  if (given.type !== want.type || given.keySize !== want.keySize || given.valueSize !== want.valueSize || given.maxEntries !== want.maxEntries) {
    throw new Error(`${describeMap(name)}: the map given to replace it is ${mapTypeName(given.type)} with key ${given.keySize} B, value ${given.valueSize} B, ${given.maxEntries} entries; the object makes ${describeMapShape(want)}`);
  }
}

/**
 * The inner map template of a map of maps: the open map options.maps gives for it (by fd), else the
 * definition's inner map (an ELF spec, created unpinned: never at a pin path), else none.
 */
export function innerTemplateOf(object: ObjectInfo, spec: ElfMapSpec, maps: Readonly<Record<string, MapOptions>> | undefined): { innerMapFd: number | undefined; inner: ElfMapSpec | undefined } {
  const innerMapFd = maps?.[spec.name]?.innerMap?.fd;
  const inner = spec.innerMap === null || innerMapFd !== undefined ? undefined : object.maps[spec.innerMap];
  return { innerMapFd, inner: inner === undefined ? undefined : { ...inner, persistentPath: null, pinning: 0 } };
}

/** The ELF spec with a load's options for it applied: what elfMapSizes and the map's creation then see. */
export function withMapOptions(spec: ElfMapSpec, options: MapOptions | undefined): ElfMapSpec {
  if (options === undefined) return spec;
  const extra = options.mapExtra;
  return {
    ...spec,
    maxEntries: options.maxEntries ?? spec.maxEntries,
    keySize: options.keySize ?? spec.keySize,
    valueSize: options.valueSize ?? spec.valueSize,
    flags: options.flags ?? spec.flags,
    numaNode: options.numaNode ?? spec.numaNode,
    mapExtra: extra === undefined ? spec.mapExtra : extra <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(extra) : extra.toString(),
    ...(options.persistentPath === undefined ? {} : { persistentPath: options.persistentPath, pinning: 0 }),
  };
}

/** Whether a map of this ELF spec is created with the BTF of its key and value (libbpf's choice). */
export function elfMapTakesBtf(spec: ElfMapSpec): boolean {
  return !WITHOUT_BTF.has(spec.type as MapType);
}

/** A slot of a BTF map of maps that the object's definition fills with another of its maps. */
export interface InitialSlot {
  outer: ElfMapSpec;
  slot: number;
  inner: ElfMapSpec;
  /** The outer map may already hold something: reused from a pin, or given in place of one. */
  reused: boolean;
}

/** A slot of a BTF program array that the object's definition fills with one of its programs. */
export interface ProgramSlot {
  outer: ElfMapSpec;
  slot: number;
  program: ElfProgramSpec;
  /** The program array may already hold programs: reused from a pin, or given in place of one. */
  reused: boolean;
}

/** BTF map definitions are structs of pointers: the `values` array's slots are 8 bytes. */
const SLOT_SIZE = 8;
const MAPS_OF_MAPS = new Set<MapType>([MapType.ArrayOfMaps, MapType.HashOfMaps]);

/**
 * The slots `.values = { [i] = &x }` fills in the object's BTF maps of maps (`slots`: x is another
 * of its maps) and program arrays (`programSlots`: x is one of its programs), from its `.rel.maps`
 * relocations, as libbpf reads them, at 8-byte slots from the definition's `valuesOffset`. A slot naming
 * what its map cannot hold (a program in a map of maps, a subprogram, a map in a program array, a
 * slot past max_entries) is an error naming the map, the slot and the symbol, as in libbpf.
 */
export function initialSlots(object: ObjectInfo, maps?: Readonly<Record<string, MapOptions>>): { slots: InitialSlot[]; programSlots: ProgramSlot[] } {
  const slots: InitialSlot[] = [];
  const programSlots: ProgramSlot[] = [];
  const relocations = object.relocations.filter((r) => r.kind === 'data-slot' && r.section === '.maps' && r.map !== null);
  for (const relocation of relocations) {
    const outer = object.maps[relocation.map!]!;
    const valuesOffset = outer.valuesOffset;
    const offset = relocation.offset - outer.definitionOffset;
    if (valuesOffset === null || offset < valuesOffset || (offset - valuesOffset) % SLOT_SIZE !== 0) {
      throw new Error(`${describeMap(outer.name)} (${relocation.section}): the reference to ${quoted(relocation.symbol)} at offset ${offset} of its definition is not a slot of its \`values\``);
    }
    const slot = (offset - valuesOffset) / SLOT_SIZE;
    const where = `${describeMap(outer.name)} (${relocation.section}) slot ${slot}`;
    const reused = mayBeReused(outer) || maps?.[outer.name]?.replaceWith !== undefined;
    if (outer.maxEntries !== 0 && slot >= outer.maxEntries) throw new Error(`${where}: ${quoted(relocation.symbol)} is past max_entries ${outer.maxEntries}`);
    const program = relocation.targetProgram === null ? undefined : object.programs[relocation.targetProgram];
    if (outer.type === MapType.ProgArray) {
      if (program === undefined) throw new Error(`${where}: ${quoted(relocation.symbol)} is not a program of the object; a program array's slots hold programs`);
      if (program.subprogram) throw new Error(`${where}: ${quoted(relocation.symbol)} is a subprogram (${describeSection(program.section)}), which cannot be loaded on its own to be tail-called`);
      programSlots.push({ outer, slot, program, reused });
    } else if (MAPS_OF_MAPS.has(outer.type as MapType)) {
      const inner = program === undefined ? object.maps.find((m) => m.name === relocation.symbol && m.origin === 'btf' && !m.innerTemplate) : undefined;
      if (inner === undefined) throw new Error(`${where}: ${quoted(relocation.symbol)} is not a BTF map of the object; a map of maps' slots hold maps`);
      slots.push({ outer, slot, inner, reused });
    } else {
      throw new Error(`${where}: ${quoted(relocation.symbol)} cannot go in a slot: only maps of maps and program arrays take \`values\`, not ${outer.typeName} maps`);
    }
  }
  return { slots, programSlots };
}

/**
 * Puts each inner map in its slot (maps[i]: the map created for object.maps[i]), as libbpf does after
 * creating the maps. A slot that already holds a map is kept when the outer map may hold something:
 * reused from a pin (persistent_path, pinning by name) or given in place of one (replaceWith); what
 * is there was put by whoever made it (libbpf leaves a reused map of maps alone). Other maps were
 * created by this load and are not asked (one syscall less per slot).
 */
export function fillInitialSlots(slots: readonly InitialSlot[], maps: ReadonlyArray<MapLike | undefined>): void {
  for (const { outer, slot, inner, reused } of slots) {
    const outerMap = maps[outer.index];
    const innerMap = maps[inner.index];
    if (!outerMap || !innerMap) continue;
    if (reused && slotValue(outerMap, slot) !== undefined) continue;
    try {
      outerMap.upsert(slot, innerMap);
    } catch (e) {
      throw slotError(outer, slot, `${describeMap(inner.name)}`, e);
    }
  }
}

/** Opens the program with this kernel id (Program.fromId; the mock's own registry for MockSystem). */
export type OpenProgramById = (id: number) => HasFd & { close(): void };

/**
 * The program array slots of an object, filled as their programs load. libbpf loads every program
 * and then fills the slots; here programs load one at a time (program.load()), so each program, once
 * loaded, goes into every slot that names it (maps[i]: the map created for object.maps[i]). The maps
 * exist by then: a System creates them before it makes its programs. A map not created, or closed
 * since, is passed over. As in libbpf, a program array reused from a pin gets the new programs in
 * its slots, replacing what was there (a new version of a program takes over its tail calls).
 */
export class ProgramSlots {
  readonly #byProgram = new Map<number, ProgramSlot[]>();
  readonly #maps: ReadonlyArray<MapLike | undefined>;
  readonly #openById: OpenProgramById;

  constructor(slots: readonly ProgramSlot[], maps: ReadonlyArray<MapLike | undefined>, openById: OpenProgramById) {
    for (const slot of slots) {
      const list = this.#byProgram.get(slot.program.index);
      if (list === undefined) this.#byProgram.set(slot.program.index, [slot]);
      else list.push(slot);
    }
    this.#maps = maps;
    this.#openById = openById;
  }

  /**
   * Puts `program`, just loaded from object.programs[index], in the slots that name it. All or
   * nothing: if a slot cannot take it (the kernel refuses a program of another type than the
   * array's, say), the slots it was put in get back what they held (empty, or the program a reused
   * array had there), the program is closed and the error names map, slot and program.
   */
  fill(index: number, program: ProgramLike): void {
    const slots = this.#byProgram.get(index);
    if (slots === undefined) return;
    const filled: Array<{ map: MapLike; slot: number; before: (HasFd & { close(): void }) | undefined }> = [];
    try {
      for (const { outer, slot, reused } of slots) {
        const map = this.#maps[outer.index];
        if (!map || map.fd < 0) continue;
        // A reused array may hold a program there: held open until this fill succeeds, to put back otherwise.
        const id = reused ? slotValue(map, slot) : undefined;
        const before = id === undefined ? undefined : this.#openById(id);
        try {
          map.upsert(slot, program);
        } catch (e) {
          before?.close();
          throw slotError(outer, slot, describeProgram({ program: program.name, section: program.section }), e, '; the program is closed');
        }
        filled.push({ map, slot, before });
      }
    } catch (e) {
      for (const { map, slot, before } of filled.reverse()) {
        try {
          if (before === undefined) map.delete(slot);
          else map.upsert(slot, before);
        } catch (undo) {
          // The error that stopped the fill stays the one thrown; it says which slot kept the program.
          if (e instanceof Error) e.message += `; ${describeMap(map.name)} slot ${slot} keeps the program (${(undo as Error).message})`;
        }
      }
      program.close();
      throw e;
    } finally {
      for (const { before } of filled) before?.close();
    }
  }
}

function slotError(outer: ElfMapSpec, slot: number, what: string, cause: unknown, more = ''): Error {
  return new Error(`${describeMap(outer.name)}: cannot put ${what} in slot ${slot}: ${(cause as Error).message}${more}`, { cause });
}

/** Whether the map of this definition may have been reused from a pin (persistent_path, pinning by name). */
function mayBeReused(spec: ElfMapSpec): boolean {
  return spec.persistentPath !== null || spec.pinning !== 0;
}

/** The id of the map or program in a slot of a map of maps or program array; undefined when empty. */
function slotValue(map: MapLike, slot: number): number | undefined {
  try {
    return map.lookupInt(slot);
  } catch (e) {
    if (e instanceof SyscallError && e.code === 'ENOENT') return undefined;
    throw e;
  }
}
