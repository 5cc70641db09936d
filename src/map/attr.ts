// The bpf_attr and bpf_map_info offsets EbpfMap uses, as plain numbers taken once from the generated
// tables (src/sys/generated.ts), so hot paths read module constants instead of nested objects.
import { ATTR, MAP_INFO as INFO } from '../sys/generated.js';

const E = ATTR.MAP_ELEM;
export const ELEM = { mapFd: E.map_fd.offset, key: E.key.offset, value: E.value.offset, flags: E.flags.offset, SIZE: E.SIZE } as const;

const B = ATTR.MAP_BATCH;
export const BATCH = {
  inBatch: B.in_batch.offset, outBatch: B.out_batch.offset, keys: B.keys.offset, values: B.values.offset,
  count: B.count.offset, mapFd: B.map_fd.offset, elemFlags: B.elem_flags.offset, flags: B.flags.offset, SIZE: B.SIZE,
} as const;

const C = ATTR.MAP_CREATE;
export const CREATE = {
  mapType: C.map_type.offset, keySize: C.key_size.offset, valueSize: C.value_size.offset,
  maxEntries: C.max_entries.offset, mapFlags: C.map_flags.offset, innerMapFd: C.inner_map_fd.offset,
  numaNode: C.numa_node.offset, mapName: C.map_name.offset, mapIfindex: C.map_ifindex.offset,
  btfFd: C.btf_fd.offset, btfKeyTypeId: C.btf_key_type_id.offset, btfValueTypeId: C.btf_value_type_id.offset,
  btfVmlinuxValueTypeId: C.btf_vmlinux_value_type_id.offset, mapExtra: C.map_extra.offset, SIZE: C.SIZE,
} as const;

export const MAP_INFO = {
  type: INFO.type.offset, id: INFO.id.offset, keySize: INFO.key_size.offset, valueSize: INFO.value_size.offset,
  maxEntries: INFO.max_entries.offset, mapFlags: INFO.map_flags.offset, name: INFO.name.offset,
  nameLen: INFO.name.size, ifindex: INFO.ifindex.offset, btfVmlinuxValueTypeId: INFO.btf_vmlinux_value_type_id.offset,
  netnsDev: INFO.netns_dev.offset, netnsIno: INFO.netns_ino.offset, btfId: INFO.btf_id.offset,
  btfKeyTypeId: INFO.btf_key_type_id.offset, btfValueTypeId: INFO.btf_value_type_id.offset,
  mapExtra: INFO.map_extra.offset, SIZE: INFO.SIZE,
} as const;
