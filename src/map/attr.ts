// bpf_attr / bpf_map_info byte offsets used by EbpfMap, named for the fields of linux/bpf.h.
// PROVISIONAL: typed from the header until src/sys/generated.ts (bridge branch) lands; then these
// are read from the generated tables.
export const ELEM = { mapFd: 0, key: 8, value: 16, flags: 24, SIZE: 32 } as const;
export const BATCH = { inBatch: 0, outBatch: 8, keys: 16, values: 24, count: 32, mapFd: 36, elemFlags: 40, flags: 48, SIZE: 56 } as const;
export const CREATE = {
  mapType: 0, keySize: 4, valueSize: 8, maxEntries: 12, mapFlags: 16, innerMapFd: 20, numaNode: 24,
  mapName: 28, mapIfindex: 44, btfFd: 48, btfKeyTypeId: 52, btfValueTypeId: 56, btfVmlinuxValueTypeId: 60,
  mapExtra: 64, SIZE: 72,
} as const;
export const GET_ID = { id: 0, nextId: 4, SIZE: 12 } as const;
export const OBJ_INFO = { bpfFd: 0, infoLen: 4, info: 8, SIZE: 16 } as const;
export const MAP_INFO = {
  type: 0, id: 4, keySize: 8, valueSize: 12, maxEntries: 16, mapFlags: 20, name: 24, ifindex: 40,
  btfVmlinuxValueTypeId: 44, netnsDev: 48, netnsIno: 56, btfId: 64, btfKeyTypeId: 68, btfValueTypeId: 72,
  mapExtra: 80,
} as const;
export const MAP_INFO_SIZE = 88;
