// Facts about the running host that maps depend on: the number of possible CPUs (per-CPU map value
// layout) and the kernel clocks behind bpf_ktime_get_ns() / bpf_ktime_get_boot_ns().
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';

const POSSIBLE_CPUS_PATH = '/sys/devices/system/cpu/possible';

/**
 * Parses a kernel CPU list ("0", "0-3", "0-3,5,7-8") and returns how many CPUs it names: the number
 * of slots the kernel fills for a per-CPU map value. CPU 0 (the boot CPU) is always possible, so a
 * list without it is not a possible-CPU list and is rejected, as goebpf does.
 */
export function parseNumOfPossibleCpus(text: string): number {
  const invalid = (): Error => new Error(`cannot get the number of possible CPUs: invalid CPU list ${JSON.stringify(text)}`);
  const trimmed = text.trim();
  if (trimmed === '') throw invalid();
  const seen = new Set<number>();
  for (const range of trimmed.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(range);
    if (m === null) throw invalid();
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first || last > 65535) throw invalid();
    for (let cpu = first; cpu <= last; cpu++) seen.add(cpu);
  }
  if (!seen.has(0)) throw invalid();
  return seen.size;
}

let possibleCpus: number | undefined;

/** goebpf's GetNumOfPossibleCpus: from /sys/devices/system/cpu/possible (not os.cpus()), read once. */
export function getNumOfPossibleCpus(): number {
  possibleCpus ??= parseNumOfPossibleCpus(readFileSync(POSSIBLE_CPUS_PATH, 'latin1'));
  return possibleCpus;
}

/** auxv entry type of the page size. */
const AT_PAGESZ = 6n;
let pageSize: number | undefined;

/**
 * The kernel's page size, from the AT_PAGESZ entry of /proc/self/auxv (Node has no API for
 * sysconf(_SC_PAGESIZE)), read once. auxv entries are pairs of native-endian 64-bit words on the
 * 64-bit hosts the addon is built for.
 */
export function getPageSize(): number {
  if (pageSize !== undefined) return pageSize;
  const auxv = readFileSync('/proc/self/auxv');
  const view = new DataView(auxv.buffer, auxv.byteOffset, auxv.byteLength);
  const little = endianness() === 'LE';
  for (let offset = 0; offset + 16 <= auxv.length; offset += 16) {
    if (view.getBigUint64(offset, little) === AT_PAGESZ) return (pageSize = Number(view.getBigUint64(offset + 8, little)));
  }
  throw new Error('cannot get the page size: /proc/self/auxv has no AT_PAGESZ entry');
}

/** Which kernel clock a timestamp was read from. */
export type KernelClock =
  /** bpf_ktime_get_ns(): CLOCK_MONOTONIC, stops while the machine is suspended. */
  | 'monotonic'
  /** bpf_ktime_get_boot_ns(), bpf_prog_info.load_time: CLOCK_BOOTTIME, counts suspend too. */
  | 'boottime';

const NS_PER_MS = 1_000_000n;

/**
 * Nanoseconds since the Unix epoch of the kernel timestamp `ktime`.
 *
 * Why this method: Node's `process.hrtime.bigint()` is libuv's uv_hrtime(), which on Linux is
 * clock_gettime(CLOCK_MONOTONIC) — the very clock bpf_ktime_get_ns() reads. Sampling it next to the
 * wall clock gives the monotonic→realtime offset with ~1 ms error (Date.now()'s resolution), with no
 * file read. goebpf's way (sysinfo uptime) is only accurate to a second. For CLOCK_BOOTTIME stamps,
 * the time spent suspended (BOOTTIME − MONOTONIC) comes from /proc/uptime (10 ms resolution), which
 * is zero on machines that never suspend.
 */
export function ktimeToTime(ktime: bigint | number, clock: KernelClock = 'monotonic'): bigint {
  const wallNs = BigInt(Date.now()) * NS_PER_MS;
  const monoNs = process.hrtime.bigint();
  let k = BigInt(ktime);
  if (clock === 'boottime') k -= suspendedNs(monoNs);
  return wallNs - (monoNs - k);
}

/** `ktimeToTime` as a Date (millisecond precision). */
export function ktimeToDate(ktime: bigint | number, clock: KernelClock = 'monotonic'): Date {
  return new Date(Number(ktimeToTime(ktime, clock) / NS_PER_MS));
}

function suspendedNs(monoNs: bigint): bigint {
  const uptime = readFileSync('/proc/uptime', 'latin1').split(' ')[0]!;
  const [sec, frac = '0'] = uptime.split('.');
  const bootNs = BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
  const diff = bootNs - monoNs;
  // /proc/uptime is truncated to 10 ms: below that the difference is rounding, not suspend.
  return diff > 10n * NS_PER_MS ? diff : 0n;
}
