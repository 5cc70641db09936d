// Mapping a kernel ring, as the main-thread readers and the drain thread (drain-worker.ts) both do:
// a perf event's metadata page and data, or a BPF ring buffer's consumer page, producer page and
// data mapped twice in a row, each wrapped in the reader of rings.ts; and the mapped ring as the
// readers poll it (KernelRing).
import { SyscallError } from '../sys/errors.js';
import { native } from '../sys/native.js';
import type { FrameSink } from './framer.js';
import type { PolledRing } from './reader.js';
import { BpfRing, PERF_DATA_OFFSET, PERF_DATA_SIZE, PerfRing, type Deliver } from './rings.js';

export const PROT_READ = 1;
export const PROT_WRITE = 2;
const MAP_SHARED = 1;

/** A shared mapping of `fd`, or a SyscallError naming `what`. */
export function mapShared(fd: number, length: number, prot: number, offset: number, what: string): ArrayBuffer {
  const mapping = native().mmap(fd, length, prot, MAP_SHARED, offset);
  if (typeof mapping === 'number') throw new SyscallError(-mapping, 'mmap', what);
  return mapping;
}

/**
 * A perf event's ring of `pages` data pages (read-write: the reader moves data_tail; read-only for an
 * overwritable ring), at the data offset and size its metadata page gives.
 */
export function mapPerfRing(fd: number, pages: number, pageSize: number, writable: boolean, what: string): { mapping: ArrayBuffer; ring: PerfRing } {
  const mapping = mapShared(fd, (pages + 1) * pageSize, writable ? PROT_READ | PROT_WRITE : PROT_READ, 0, `${what} (${pages} pages)`);
  try {
    const meta = new DataView(mapping);
    const dataOffset = Number(meta.getBigUint64(PERF_DATA_OFFSET, true)) || pageSize;
    const dataSize = Number(meta.getBigUint64(PERF_DATA_SIZE, true)) || pages * pageSize;
    return { mapping, ring: new PerfRing(mapping, new Uint8Array(mapping, dataOffset, dataSize), native(), what) };
  } catch (e) {
    native().munmap(mapping);
    throw e;
  }
}

/**
 * A ring buffer's pages (BPF_MAP_TYPE_RINGBUF or USER_RINGBUF, `size` data bytes): its consumer page
 * and its producer page with the data twice after it, the side we write (`writer`) read-write and
 * the other read-only: a reader writes the consumer position, a user ring buffer's writer the
 * producer page and data.
 */
export function mapRingBufferPages(fd: number, size: number, pageSize: number, writer: 'consumer' | 'producer', what: string): { consumer: ArrayBuffer; producer: ArrayBuffer } {
  const prot = (side: 'consumer' | 'producer'): number => (side === writer ? PROT_READ | PROT_WRITE : PROT_READ);
  const consumer = mapShared(fd, pageSize, prot('consumer'), 0, `${what}: consumer page`);
  try {
    return { consumer, producer: mapShared(fd, pageSize + 2 * size, prot('producer'), pageSize, `${what}: producer page and data`) };
  } catch (e) {
    native().munmap(consumer);
    throw e;
  }
}

/** A BPF ring buffer of `size` bytes mapped for reading (see mapRingBufferPages), with its reader. */
export function mapBpfRing(fd: number, size: number, pageSize: number, what: string): { consumer: ArrayBuffer; producer: ArrayBuffer; ring: BpfRing } {
  const { consumer, producer } = mapRingBufferPages(fd, size, pageSize, 'consumer', what);
  return { consumer, producer, ring: new BpfRing(consumer, producer, new Uint8Array(producer, pageSize, 2 * size), native(), what, true) };
}

/**
 * A mapped kernel ring as a reader polls it (on the main thread or a drain thread): the fd its
 * readiness comes from, its mappings, its reader (rings.ts) and the name errors give it. `cpu`: the CPU of a perf ring, the
 * index of a ring buffer in its reader.
 */
export class KernelRing<R extends PerfRing | BpfRing> implements PolledRing {
  constructor(
    readonly cpu: number,
    readonly fd: number,
    readonly mappings: readonly ArrayBuffer[],
    readonly ring: R,
    readonly what: string,
  ) {}

  /** Reads what is ready into `sink` (the reader's framer, or a drain thread's queue). */
  read(sink: FrameSink, deliver: Deliver): number {
    return this.ring.read(sink, deliver, this.what);
  }

  /** Unmaps the ring (the fd stays open: it is its owner's). */
  unmap(): void {
    for (const mapping of this.mappings) if (mapping.byteLength > 0) native().munmap(mapping);
  }
}
