// The floor of a reader on Node's event loop, for bench/events.bench.ts: it is woken as ebpf's
// readers are (the bridge's uv_poll, a JS callback per wakeup) and moves each ring's consumer
// position over what is ready with the same ring code (perf: data_tail to data_head; ring buffer:
// over the committed records' headers), but copies, frames and delivers nothing. What it loses in a
// flood is what any reader woken through Node's loop on this machine loses at least; the rest of
// ebpf's loss is its own work (the copy into WASM memory, framing, the batch).
import { getNumOfPossibleCpus, getPageSize } from '../src/map/host.js';
import type { EbpfMap } from '../src/map/map.js';
import type { FrameResult, FrameSink } from '../src/events/framer.js';
import { KernelRing, mapBpfRing } from '../src/events/mapping.js';
import { bpfOutputAttr, openCpuRing } from '../src/events/perf.js';
import { WAKEUP_RINGS } from '../src/events/reader.js';
import type { BpfRing, PerfRing } from '../src/events/rings.js';
import { FD } from '../src/sys/bpf.js';
import { native, UV_READABLE, type PollHandle } from '../src/sys/native.js';

/** A sink that takes every byte offered without looking at it: the ring's read walks and releases. */
function skippingSink(capacity: number): FrameSink {
  const result: FrameResult = { count: 0, samples: 0, consumed: 0, unknown: 0, discarded: 0, incomplete: false };
  return {
    capacity,
    maxRecords: Number.MAX_SAFE_INTEGER,
    frame(_format, first, second) {
      result.consumed = first.byteLength + (second?.byteLength ?? 0);
      return result;
    },
  };
}

const KEEP_READING = (): boolean => true;

/** A floor reader over some rings; close() stops polling and unmaps and closes what it opened. */
export class FloorReader {
  readonly #rings: Array<KernelRing<PerfRing | BpfRing>> = [];
  readonly #polls: PollHandle[] = [];
  readonly #events: FD[] = [];
  #sink: FrameSink = skippingSink(0);

  /** Floor of a BPF_MAP_TYPE_RINGBUF map's reader. */
  static ringBuffer(map: EbpfMap): FloorReader {
    const floor = new FloorReader();
    try {
      const size = map.maxEntries;
      const what = `floor reader of ${map.name}`;
      const { consumer, producer, ring } = mapBpfRing(map.fd, size, getPageSize(), what);
      floor.#add(new KernelRing(0, map.fd, [consumer, producer], ring, what), size);
      return floor;
    } catch (e) {
      floor.close();
      throw e;
    }
  }

  /** Floor of a PERF_EVENT_ARRAY map's reader: a BPF output event and a ring of `pages` per CPU. */
  static perfEvents(map: EbpfMap, pages: number): FloorReader {
    const floor = new FloorReader();
    try {
      const attr = bpfOutputAttr({});
      const pageSize = getPageSize();
      for (let cpu = 0; cpu < getNumOfPossibleCpus(); cpu++) {
        const ring = openCpuRing(map, cpu, attr, pages, pageSize, true, `floor reader of ${map.name}`);
        if (ring === undefined) continue; // not online
        floor.#events.push(ring.event);
        floor.#add(ring, pages * pageSize);
      }
      return floor;
    } catch (e) {
      floor.close();
      throw e;
    }
  }

  #add(ring: KernelRing<PerfRing | BpfRing>, size: number): void {
    this.#rings.push(ring);
    if (size > this.#sink.capacity) this.#sink = skippingSink(size);
    const handle = native().poll(ring.fd, UV_READABLE, (status) => {
      if (status < 0) throw new Error(`${ring.what}: polling failed (${status})`);
      // As ebpf's reader does: read again while reads find bytes (records that came meanwhile), up
      // to its budget of WAKEUP_RINGS rings' worth a wakeup.
      const budget = WAKEUP_RINGS * this.#sink.capacity;
      for (let bytes = 0, got = 1; got > 0 && bytes < budget; bytes += got) got = ring.read(this.#sink, KEEP_READING);
    });
    if (typeof handle === 'number') throw new Error(`${ring.what}: cannot poll fd ${ring.fd} (${handle})`);
    this.#polls.push(handle);
  }

  /** Moves every ring's consumer position over what is ready now. */
  flush(): void {
    for (const ring of this.#rings) while (ring.read(this.#sink, KEEP_READING) > 0);
  }

  close(): void {
    for (const handle of this.#polls.splice(0)) native().pollStop(handle);
    for (const ring of this.#rings.splice(0)) ring.unmap();
    for (const event of this.#events.splice(0)) event.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
