// goebpf's PerfEvents: a reader of a BPF_MAP_TYPE_PERF_EVENT_ARRAY. One perf event
// (PERF_COUNT_SW_BPF_OUTPUT, PERF_SAMPLE_RAW) per CPU, its ring mapped and its fd stored in the map
// at the CPU's index, which is where bpf_perf_event_output(ctx, &map, BPF_F_CURRENT_CPU, ...) writes.
import { describeMap } from '../sys/describe.js';
import type { MapLike } from '../map/like.js';
import { getNumOfPossibleCpus, getPageSize } from '../map/host.js';
import { FD } from '../sys/bpf.js';
import { check, Errno } from '../sys/errors.js';
import { isPowerOfTwo, powerOfTwoAtLeast } from '../sys/integers.js';
import { MapType, mapTypeName } from '../sys/generated.js';
import { native } from '../sys/native.js';
import { PERF_ATTR, PERF_ATTR_FLAG, PERF_EVENT_IOC_DISABLE, PERF_EVENT_IOC_PAUSE_OUTPUT, PERF_FLAG_FD_CLOEXEC, perfEventAttr } from '../sys/perf-event.js';
import { EventReader } from './reader.js';
import { KernelRing, mapPerfRing } from './mapping.js';
import type { PerfRing } from './rings.js';
import { DrainThread, type ThreadOptions } from './thread.js';

/** perf_event_attr values (include/uapi/linux/perf_event.h). */
const PERF_TYPE_SOFTWARE = 1;
const PERF_COUNT_SW_BPF_OUTPUT = 10;
const PERF_SAMPLE_RAW = 1 << 10;

/** Options of `startForAllProcessesAndCPUs`. */
export interface PerfEventsOptions extends ThreadOptions {
  /** Data pages of each CPU's ring, a power of two (default: bufferSize rounded up to one). */
  pages?: number;
  /** Wake the reader after this many records (default 1: at each record). */
  wakeupEvents?: number;
  /** Wake the reader once this many bytes are in a ring (instead of wakeupEvents). */
  watermarkBytes?: number;
  /**
   * Overwritable rings (perf's write_backward): the kernel overwrites the oldest records instead of
   * dropping new ones and never wakes the reader; read the newest records with `readOverwritable()`.
   */
  overwritable?: boolean;
  /** Only these CPUs (default: every possible CPU). */
  cpus?: readonly number[];
  /** Stops the reader when aborted. */
  signal?: AbortSignal;
}

/** One CPU's ring, and its perf event (closed with it). */
export class CpuRing extends KernelRing<PerfRing> {
  constructor(
    cpu: number,
    readonly event: FD,
    mapping: ArrayBuffer,
    ring: PerfRing,
    what: string,
  ) {
    super(cpu, event.fd, [mapping], ring, what);
  }
}

/**
 * Reads what programs write with bpf_perf_event_output to a PERF_EVENT_ARRAY map, on every CPU.
 * Deliveries: see EventReader (`records()` / `for await`, `on('data')`, `onBatch`, `onRecord`).
 * A record's `data` is the raw sample as the kernel stores it: the bytes output, then zeros up to
 * the kernel's 8-byte alignment (size + 4 rounded up to 8, minus 4), as libbpf and cilium/ebpf hand
 * it over. Lost records arrive as `{ kind: 'lost' }` notices (PERF_RECORD_LOST) and in `eventsLost`.
 * A started reader keeps the process alive (it watches its rings on the event loop) until `stop()`.
 *
 * ```ts
 * const perf = new PerfEvents(system.getMapByName('perfmap')!);
 * perf.startForAllProcessesAndCPUs(4096);
 * for await (const event of perf) if (event.kind === 'record') console.log(event.cpu, event.data);
 * ```
 */
export class PerfEvents extends EventReader {
  readonly #map: MapLike;
  #rings: CpuRing[] = [];
  #overwritable = false;
  #timer: NodeJS.Timeout | undefined;
  #drain: DrainThread | undefined;
  /**
   * goebpf's poll timeout: with `wakeupEvents` > 1 or `watermarkBytes`, records below the threshold
   * are read at least this often (a timer; without those options readiness alone drives reading).
   */
  pollTimeoutMs = 100;

  constructor(map: MapLike) {
    super();
    if (map.type !== MapType.PerfEventArray) {
      throw new TypeError(`${describeMap(map.name)} is a ${mapTypeName(map.type)} map, not a ${mapTypeName(MapType.PerfEventArray)} (PerfEvents)`);
    }
    this.#map = map;
  }

  protected describe(): string {
    return `PerfEvents(${describeMap(this.#map.name)})`;
  }

  /** The CPUs whose rings are open. */
  get cpus(): number[] {
    return this.#rings.map((r) => r.cpu);
  }

  /**
   * Opens a perf event on each CPU (of every process), maps its ring of `bufferSize` bytes (rounded up
   * to a power of two of pages) and stores its fd in the map at the CPU's index; then reads the
   * rings whenever they have records and someone consumes them. Returns this (an async iterable).
   */
  startForAllProcessesAndCPUs(bufferSize: number, options: PerfEventsOptions = {}): this {
    if (this.running || this.#rings.length > 0) throw new Error(`${this.describe()}: already started`);
    if (this.stopped) throw new Error(`${this.describe()}: stopped; make a new PerfEvents to start again`);
    const pageSize = getPageSize();
    const pages = options.pages ?? powerOfTwoAtLeast(Math.max(1, Math.ceil(bufferSize / pageSize)));
    if (!isPowerOfTwo(pages)) throw new RangeError(`${this.describe()}: pages ${pages} is not a power of two`);
    const cpus = options.cpus ?? Array.from({ length: getNumOfPossibleCpus() }, (_, i) => i);
    const attr = bpfOutputAttr(options);
    this.#overwritable = options.overwritable === true;
    const thread = options.thread === true;
    if (thread && this.#overwritable) throw new Error(`${this.describe()}: overwritable rings are read on demand (readOverwritable), not by a drain thread: pass one of thread and overwritable`);
    try {
      for (const cpu of cpus) {
        if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.#map.maxEntries) {
          throw new RangeError(`${this.describe()}: CPU ${cpu} has no slot in the map (max_entries ${this.#map.maxEntries})`);
        }
        const ring = openCpuRing(this.#map, cpu, attr, pages, pageSize, !this.#overwritable, this.describe());
        if (ring !== undefined) this.#rings.push(ring);
      }
      if (thread) this.#drain = new DrainThread('perf', pages * pageSize, pageSize, options, this.describe(), (e) => this.failWith(e));
    } catch (e) {
      this.#release();
      throw e;
    }
    if (this.#rings.length === 0) throw new Error(`${this.describe()}: no CPU of ${cpus.join(',')} could open a perf event`);
    if (options.signal !== undefined) {
      if (options.signal.aborted) {
        this.#release();
        return this;
      }
      options.signal.addEventListener('abort', () => this.stop(), { once: true });
    }
    const drain = this.#drain;
    if (drain !== undefined) {
      for (const ring of this.#rings) drain.add({ index: ring.cpu, fd: ring.fd, size: pages * pageSize, what: ring.what });
      this.startReading([drain.ring('perf', (cpu) => cpu, (cpu) => this.#ringName(cpu))], pages * pageSize);
    } else {
      // Overwritable rings raise no wakeups: they are read by readOverwritable() only.
      this.startReading(this.#overwritable ? [] : this.#rings, pages * pageSize);
    }
    if ((options.wakeupEvents ?? 1) > 1 || options.watermarkBytes !== undefined) {
      this.#timer = setInterval(() => (this.#drain !== undefined ? this.#drain.drainSoon() : this.flush()), this.pollTimeoutMs);
      this.#timer.unref();
    }
    return this;
  }

  /** Names CPU `cpu`'s ring in errors. */
  #ringName(cpu: number): string {
    return perfRingName(this.describe(), cpu);
  }

  /**
   * Overwritable rings: pauses each ring, delivers its newest records (newest first) to the consumers,
   * and resumes it. Records stay in the ring: a later call delivers them again with newer ones.
   */
  readOverwritable(): void {
    if (!this.#overwritable) throw new Error(`${this.describe()}: readOverwritable() needs { overwritable: true }`);
    if (!this.running) throw new Error(`${this.describe()}: not started or stopped`);
    const bridge = native();
    for (const ring of this.#rings) {
      check(bridge.ioctl(ring.fd, PERF_EVENT_IOC_PAUSE_OUTPUT, 1), 'ioctl(PERF_EVENT_IOC_PAUSE_OUTPUT)', ring.what);
      try {
        this.readOnce({ fd: ring.fd, cpu: ring.cpu, read: (framer, deliver) => (ring.ring.readBackward(framer, deliver, ring.what), 0) });
      } finally {
        check(bridge.ioctl(ring.fd, PERF_EVENT_IOC_PAUSE_OUTPUT, 0), 'ioctl(PERF_EVENT_IOC_PAUSE_OUTPUT)', ring.what);
      }
    }
  }

  /**
   * Stops reading; disables and closes every CPU's event, unmaps every ring (with `thread`, the drain
   * thread has unmapped them when this returns), clears the map's slots.
   */
  stop(): void {
    this.stopReading();
    this.#release();
  }

  #release(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#drain?.stop();
    this.#drain = undefined;
    const bridge = native();
    const rings = this.#rings;
    this.#rings = [];
    for (const ring of rings) {
      try {
        this.#map.delete(ring.cpu);
      } catch {
        // The slot was already cleared or the map closed: the event goes with our fd either way.
      }
      bridge.ioctl(ring.fd, PERF_EVENT_IOC_DISABLE, 0);
      ring.unmap();
      ring.event.close();
    }
  }
}

/** How errors name CPU `cpu`'s ring of the reader `owner`. */
function perfRingName(owner: string, cpu: number): string {
  return `${owner}: ring of CPU ${cpu}`;
}

/**
 * One CPU's event (`attr`), ring (`pages` pages, read-write unless `writable` is false) and its slot
 * in `map`, for the reader named `owner`; undefined for a CPU that is not online (ENODEV). The ring
 * is mapped here also when a drain thread reads it (and maps it too): the kernel allocates a perf
 * ring at its first mapping, and records output before that would be lost.
 */
export function openCpuRing(map: MapLike, cpu: number, attr: Uint8Array, pages: number, pageSize: number, writable: boolean, owner: string): CpuRing | undefined {
  const fd = native().perfEventOpen(attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd === -Errno.ENODEV) return undefined;
  const event = new FD(check(fd, 'perf_event_open', `${owner}: CPU ${cpu}`));
  try {
    const what = perfRingName(owner, cpu);
    const { mapping, ring: perfRing } = mapPerfRing(event.fd, pages, pageSize, writable, what);
    const ring = new CpuRing(cpu, event, mapping, perfRing, what);
    try {
      map.update(cpu, event.fd);
    } catch (e) {
      ring.unmap();
      throw e;
    }
    return ring;
  } catch (e) {
    event.close();
    throw e;
  }
}

/** The perf_event_attr of a PERF_COUNT_SW_BPF_OUTPUT event with `options`' wakeup and ring settings. */
export function bpfOutputAttr(options: PerfEventsOptions): Uint8Array {
  const { attr, view } = perfEventAttr(PERF_TYPE_SOFTWARE, BigInt(PERF_COUNT_SW_BPF_OUTPUT), 1n);
  view.setBigUint64(PERF_ATTR.sampleType, BigInt(PERF_SAMPLE_RAW), true);
  let flags = 0n;
  if (options.watermarkBytes !== undefined) {
    flags |= PERF_ATTR_FLAG.watermark;
    view.setUint32(PERF_ATTR.wakeupEvents, options.watermarkBytes, true); // wakeup_watermark: the same union field
  } else {
    view.setUint32(PERF_ATTR.wakeupEvents, options.wakeupEvents ?? 1, true);
  }
  if (options.overwritable === true) flags |= PERF_ATTR_FLAG.writeBackward;
  view.setBigUint64(PERF_ATTR.flags, flags, true);
  return attr;
}
