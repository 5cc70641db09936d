// Events (src/events): perf event arrays and BPF ring buffers streamed to TypeScript.
export { EventReader, type EventBatch, type EventItem, type EventRecord, type EventStats, type LostRecords, type RecordsOptions } from './reader.js';
export { PerfEvents, type PerfEventsOptions } from './perf.js';
export type { ThreadOptions } from './thread.js';
export { RingBuffer, UserRingBuffer, type UserRingSample } from './ringbuf.js';
export { RecordDecoder, layoutSize, type DecodedValue, type RecordLayout, type ScalarLayout } from './decode.js';
export { ktimeToDate, ktimeToTime } from '../map/host.js';
