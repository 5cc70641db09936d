// Map type probes: create the smallest map of a type and close it, as `bpftool feature probe` and
// cilium/ebpf's features.HaveMapType do.
import { EbpfMap, type MapSpec } from '../map/map.js';
import { FD } from '../sys/bpf.js';
import { errnoError } from '../sys/errors.js';
import { ATTR, BPF_F_MMAPABLE, BPF_F_NO_PREALLOC, BpfCmd, MapType, mapTypeName } from '../sys/generated.js';
import { native } from '../sys/native.js';
import { cached, fromError, REFUSALS, supported, unsupported, type FeatureResult } from './result.js';

const PAGE = 4096;
/** Local-storage maps: the kernel creates them only with BTF for key and value. */
const STORAGE = new Set([MapType.SKStorage, MapType.InodeStorage, MapType.TaskStorage, MapType.CgrpStorage]);

/** The smallest spec of each type the kernel accepts (without BTF); default: 4-byte key and value, one entry. */
function minimalSpec(type: MapType): MapSpec {
  switch (type) {
    case MapType.Queue: case MapType.Stack: return { type, keySize: 0, valueSize: 4, maxEntries: 1 };
    case MapType.BloomFilter: return { type, keySize: 0, valueSize: 4, maxEntries: 1 };
    case MapType.LPMTrie: return { type, keySize: 8, valueSize: 4, maxEntries: 1, flags: BPF_F_NO_PREALLOC };
    case MapType.StackTrace: return { type, keySize: 4, valueSize: 8, maxEntries: 1 };
    case MapType.CgroupStorage: case MapType.PerCPUCgroupStorage: return { type, keySize: 16, valueSize: 4, maxEntries: 0 };
    case MapType.RingBuf: case MapType.UserRingBuf: return { type, keySize: 0, valueSize: 0, maxEntries: PAGE };
    case MapType.Arena: return { type, keySize: 0, valueSize: 0, maxEntries: 1, flags: BPF_F_MMAPABLE };
    case MapType.ArrayOfMaps: case MapType.HashOfMaps:
      return { type, keySize: 4, valueSize: 4, maxEntries: 1, innerMap: { type: MapType.Array, keySize: 4, valueSize: 4, maxEntries: 1 } };
    default: return { type, keySize: 4, valueSize: 4, maxEntries: 1 };
  }
}

let intBtf: FD | undefined;

/** A loaded BTF with one type, [1] `int`: what a storage map's key and value need. */
function intOnlyBtf(): FD {
  if (intBtf !== undefined) return intBtf;
  const strings = new TextEncoder().encode('\0int\0');
  const blob = new Uint8Array(24 + 16 + strings.length);
  const v = new DataView(blob.buffer);
  v.setUint16(0, 0xeb9f, true);
  v.setUint8(2, 1); // version
  v.setUint32(4, 24, true); // hdr_len
  v.setUint32(12, 16, true); // type_len (type_off 0)
  v.setUint32(16, 16, true); // str_off
  v.setUint32(20, strings.length, true);
  v.setUint32(24, 1, true); // name_off: "int"
  v.setUint32(28, 1 << 24, true); // kind INT
  v.setUint32(32, 4, true); // size
  v.setUint32(36, (1 << 24) | 32, true); // signed, 32 bits
  blob.set(strings, 40);
  const attr = new Uint8Array(ATTR.BTF_LOAD.SIZE);
  new DataView(attr.buffer).setUint32(ATTR.BTF_LOAD.btf_size.offset, blob.length, true);
  const fd = native().bpf(BpfCmd.BtfLoad, attr, ATTR.BTF_LOAD.btf.offset, blob);
  if (fd < 0) throw errnoError(-fd, 'BPF_BTF_LOAD', 'the int-only BTF a storage map probe needs');
  intBtf = new FD(fd);
  return intBtf;
}

/** Whether the kernel creates maps of this type (cached per process). */
export function haveMapType(type: MapType): FeatureResult {
  const feature = `map type ${mapTypeName(type)}`;
  return cached(feature, () => {
    if (type === MapType.Unspec) return unsupported(feature, 'not a map type');
    if (type === MapType.StructOps) {
      // A struct_ops map needs a kernel struct's value type: the type exists where BTF_MAP_CREATE
      // stops at the value type id instead of at the map type.
      return probeCreate(feature, { type, keySize: 4, valueSize: 4, maxEntries: 1 }, ['EINVAL', 'ENOTSUPP'], 'ENOTSUPP and EINVAL both answer a struct_ops map without a value type; not probed further');
    }
    let spec = minimalSpec(type);
    if (STORAGE.has(type)) {
      try {
        spec = { type, keySize: 4, valueSize: 4, maxEntries: 0, flags: BPF_F_NO_PREALLOC, btf: { fd: intOnlyBtf().fd, keyTypeId: 1, valueTypeId: 1 } };
      } catch (e) {
        return fromError(feature, e, REFUSALS);
      }
    }
    return probeCreate(feature, spec);
  });
}

function probeCreate(feature: string, spec: MapSpec, ambiguous: readonly string[] = [], why = ''): FeatureResult {
  try {
    EbpfMap.create({ name: 'ebpf_probe', ...spec }).close();
    return supported(feature);
  } catch (e) {
    const result = fromError(feature, e, REFUSALS);
    return ambiguous.length > 0 && ambiguous.some((code) => result.reason?.includes(code)) ? unsupported(feature, `${result.reason}; ${why}`) : result;
  }
}
