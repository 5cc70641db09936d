// The queue between a drain thread (src/events/drain-worker.ts) and the reader on the main thread:
// a SharedArrayBuffer byte ring of chunks, each the raw bytes one drain took from one kernel ring
// (complete perf records or committed ring buffer records, in the kernel's own layout), behind a
// 16-byte header. The drain thread only copies; the main thread frames the chunks in the WASM core,
// as it frames a kernel ring, so framing stays in one place.

/** Int32 slots of the control SharedArrayBuffer. */
export const Control = {
  /** Bytes written to the queue (u32, wrapping), stored after the chunk is complete. */
  Write: 0,
  /** Bytes the main thread is done with (u32, wrapping). */
  Read: 1,
  /** 1 once the main thread asked the drain thread to stop. */
  Stop: 2,
  /** 1 once the drain thread unmapped every ring and stopped watching them. */
  Done: 3,
  /** Flush requests of the main thread (a counter). */
  FlushRequest: 4,
  /** The last flush request the drain thread answered (after draining every ring). */
  FlushDone: 5,
  /** 1 while the drain thread waits for room in the queue (the main thread then notifies Read). */
  WaitingForRoom: 6,
} as const;
export const CONTROL_SLOTS = 8;

/** Chunk header: u32 ring index, u32 length, u64 ring position of its first byte (low half, high half). */
export const CHUNK_HEADER = 16;

/** A chunk's size in the queue: header and bytes, padded so that every header is 16-aligned. */
export function chunkSpace(length: number): number {
  return CHUNK_HEADER + ((length + 15) & ~15);
}

/** What the main thread tells the drain thread about one kernel ring. */
export interface DrainRing {
  /** Index in the reader: the records' `cpu` (perf: the CPU; ring buffers: the order of `add`). */
  readonly index: number;
  readonly fd: number;
  /** Bytes of the data area (a power of two). */
  readonly size: number;
  /** Names the ring in errors. */
  readonly what: string;
}

/** The drain thread's start-up data. */
export interface DrainSetup {
  readonly format: 'perf' | 'ringbuf';
  readonly queue: SharedArrayBuffer;
  readonly control: SharedArrayBuffer;
  readonly pageSize: number;
}

/** Messages to the drain thread. */
export type ToDrain = { readonly add: DrainRing } | { readonly flush: true } | { readonly stop: true };

/** Messages from the drain thread: a failure, naming the ring. */
export interface FromDrain {
  readonly error: string;
}

/** Copies `bytes` into the queue at byte position `at` (wrapping at its end). */
export function copyIntoQueue(queue: Uint8Array, at: number, bytes: Uint8Array): void {
  const start = at & (queue.byteLength - 1);
  const first = Math.min(bytes.byteLength, queue.byteLength - start);
  queue.set(first === bytes.byteLength ? bytes : bytes.subarray(0, first), start);
  if (first < bytes.byteLength) queue.set(bytes.subarray(first), 0);
}
