// The records of xdp_dump.c: struct perf_event_item (addresses and ports in network byte order),
// then the packet's bytes (perf pads the record to 8 bytes).
export interface SynEvent {
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  /** The packet as the program saw it (with perf's padding at the end). */
  packet: Uint8Array;
}

const ITEM_SIZE = 12;

/** Decodes one record of the perf event array `perfmap`. */
export function decodeSynEvent(data: Uint8Array): SynEvent {
  if (data.byteLength < ITEM_SIZE) throw new RangeError(`xdp_dump: a ${data.byteLength}-byte record is shorter than perf_event_item`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return {
    srcIp: Array.from(data.subarray(0, 4)).join('.'),
    dstIp: Array.from(data.subarray(4, 8)).join('.'),
    srcPort: view.getUint16(8),
    dstPort: view.getUint16(10),
    packet: data.slice(ITEM_SIZE),
  };
}
