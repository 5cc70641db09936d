// Maps: EbpfMap and goebpf's key/value helpers.
export { EbpfMap, MapBatchCursor, MapType, type MapSpec, type MapInfo, type MapValue } from './map.js';
export {
  LpmTrieKey, createLpmTrieKey, keyValueToBytes, encodeKeyValue, nullTerminatedStringToString,
  parseFlexibleIntegerLittleEndian, sumFlexibleIntegers, parseIp,
  type KeyValue, type KeyValueContext, type HasFd,
} from './keyvalue.js';
export { getNumOfPossibleCpus, parseNumOfPossibleCpus, getPageSize, ktimeToTime, ktimeToDate, type KernelClock } from './host.js';
export type { MapLike } from './like.js';
