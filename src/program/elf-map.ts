// The sizes BPF_MAP_CREATE gets for a map defined in an ELF object. Object files leave some out or
// get them nearly right, and loaders fill them in: goebpf lets legacy definitions omit the u32 key
// of array-indexed maps and always gives fd-holding maps 4-byte values; libbpf gives a perf event
// array without max_entries one slot per possible CPU and rounds ring buffer sizes up to a
// power-of-2 number of pages; cilium/ebpf fills the key and value sizes of perf event arrays and
// maps of maps. A size no loader could make valid is an error naming the map. And as libbpf does,
// map types whose kernel side checks no BTF (or refuses it) are created without key/value BTF.
import type { MapSpec as ElfMapSpec } from '../inspect.js';
import { getPageSize } from '../map/host.js';
import { MapType, type MapSpec } from '../map/map.js';

/** Maps indexed by a u32 (goebpf's list, and cgroup arrays): key size 4, which may be left out. */
const U32_INDEXED = new Set<MapType>([
  MapType.Array, MapType.PerCPUArray, MapType.ProgArray, MapType.PerfEventArray, MapType.CgroupArray, MapType.ArrayOfMaps,
]);
/** Maps whose values user space writes as fds: value size 4. */
const FD_VALUED = new Set<MapType>([MapType.ProgArray, MapType.PerfEventArray, MapType.CgroupArray, MapType.ArrayOfMaps, MapType.HashOfMaps]);
const RING_BUFFERS = new Set<MapType>([MapType.RingBuf, MapType.UserRingBuf]);
/** libbpf's list of map types created without key/value BTF: the kernel refuses it for most of them
 *  (EINVAL for maps of maps, ENOTSUPP for sockmaps, ...), and a refused try costs a syscall. */
const WITHOUT_BTF = new Set<MapType>([
  MapType.PerfEventArray, MapType.CgroupArray, MapType.StackTrace, MapType.ArrayOfMaps, MapType.HashOfMaps,
  MapType.DevMap, MapType.DevMapHash, MapType.CPUMap, MapType.XSKMap, MapType.SockMap, MapType.SockHash,
  MapType.Queue, MapType.Stack, MapType.Arena,
]);

const U32_MAX = 0xffffffff;

/**
 * libbpf's ring buffer size: `size` if it is a power-of-2 multiple of the page size, else the
 * smallest such multiple above it; 0 stays 0 (the kernel's error is clearer than a guess), and a
 * size no u32 multiple can exceed stays as it is.
 */
export function ringBufferSize(size: number, pageSize: number): number {
  if (size === 0) return 0;
  const pages = size / pageSize;
  if (Number.isInteger(pages) && (pages & (pages - 1)) === 0) return size;
  for (let bytes = pageSize; bytes <= U32_MAX; bytes *= 2) {
    if (bytes > size) return bytes;
  }
  return size;
}

/**
 * Key size, value size and max_entries for BPF_MAP_CREATE from an ELF map definition. `undefined`
 * leaves the choice to EbpfMap (possible CPUs for a perf event array's max_entries).
 */
export function elfMapSizes(spec: ElfMapSpec): Pick<MapSpec, 'keySize' | 'valueSize' | 'maxEntries'> {
  const type = spec.type as MapType;
  const label = `map "${spec.name}" (${spec.typeName})`;
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
  if (RING_BUFFERS.has(type)) maxEntries = ringBufferSize(maxEntries, getPageSize());
  return {
    keySize: keySize === 0 ? undefined : keySize,
    valueSize: valueSize === 0 ? undefined : valueSize,
    maxEntries: maxEntries === 0 ? undefined : maxEntries,
  };
}

/** Whether a map of this ELF spec is created with the BTF of its key and value (libbpf's choice). */
export function elfMapTakesBtf(spec: ElfMapSpec): boolean {
  return !WITHOUT_BTF.has(spec.type as MapType);
}
