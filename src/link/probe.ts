// Shared by kprobes and uprobes: the perf PMUs (/sys/bus/event_source/devices/{kprobe,uprobe}) and
// the legacy tracefs events (kprobe_events / uprobe_events), named in our own group `ebpf_<pid>` so
// that cleanupProbes() removes only ours (goebpf's CleanupProbes / ListProbes).
//
// What outlives the process: a PMU probe goes away with its perf event fd. A legacy tracefs probe
// event stays defined in tracefs after its process dies (the program is detached, but the event
// `ebpf_<pid>/<name>` remains until removed): cleanupProbes() removes those of dead processes.
import { quoted } from '../sys/describe.js';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FD } from '../sys/bpf.js';
import { attachToPerfEvent, perfEventOpen, PerfEventAttachment, PerfType, type PerfAttachOptions } from './perf.js';
import { tracefsDir, traceEventId } from './tracefs.js';

export { KprobeAttachType } from './kprobe-type.js';

export type ProbeKind = 'kprobe' | 'uprobe';

const PMU_DIR = '/sys/bus/event_source/devices';
/** Our tracefs event group prefix: groups are `ebpf_<pid>`. */
export const PROBE_GROUP_PREFIX = 'ebpf_';

/** The PMU's type and its retprobe config bit, or undefined when the kernel has no such PMU. */
export function probePmu(kind: ProbeKind): { type: number; retprobeBit: number } | undefined {
  const dir = join(PMU_DIR, kind);
  if (!existsSync(join(dir, 'type'))) return undefined;
  const type = Number.parseInt(readFileSync(join(dir, 'type'), 'utf8').trim(), 10);
  // format/retprobe reads "config:0".
  let retprobeBit = 0;
  try {
    const m = /config:(\d+)/.exec(readFileSync(join(dir, 'format', 'retprobe'), 'utf8'));
    if (m !== null) retprobeBit = Number(m[1]);
  } catch {
    // Kernels before 4.17 with the PMU but without the file use bit 0.
  }
  return { type, retprobeBit };
}

/** The tracefs file defining legacy probes of this kind, or undefined when the kernel has none. */
export function probeEventsFile(kind: ProbeKind): string | undefined {
  const file = join(tracefsDir(), `${kind}_events`);
  return existsSync(file) ? file : undefined;
}

/** A probe to make: where (kprobe: function[+offset]; uprobe: path + file offset) and which way. */
export interface ProbeSpec {
  kind: ProbeKind;
  retprobe: boolean;
  /** kprobe: the kernel function; uprobe: the binary's path. */
  location: string;
  /** kprobe: offset in the function; uprobe: file offset in the binary. */
  offset: bigint;
  /** For event names and messages: the symbol (or offset) probed. */
  symbol: string;
  pid?: number;
  /** uprobe: file offset of a USDT semaphore the kernel counts up while the probe is attached (0: none). */
  refCtrOffset?: bigint;
  /** Use tracefs kprobe_events/uprobe_events even where the PMU exists. */
  legacy?: boolean;
  /** The attachment's kind when not kprobe/kretprobe/uprobe/uretprobe ('usdt'). */
  hook?: string;
  /** What the perf attach is given (cookie; legacy = ioctl). */
  attach: PerfAttachOptions;
}

let eventCounter = 0;
/** Legacy events of this process still attached (cleanupProbes leaves them). */
const liveEvents = new Set<string>();

function ourGroup(): string {
  return `${PROBE_GROUP_PREFIX}${process.pid}`;
}

/** A tracefs event name from a symbol: letters, digits and '_' only, short enough (MAX_EVENT_NAME_LEN 64). */
function eventName(spec: ProbeSpec): string {
  const base = spec.symbol.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40);
  return `${spec.retprobe ? 'r' : 'p'}_${base}_${++eventCounter}`;
}

/** Opens the probe's perf event: through the PMU, or through a new tracefs event (then `remove` deletes it). */
export function openProbe(spec: ProbeSpec, context: string): { event: FD; remove?: () => void; legacyEvent: boolean } {
  const pmu = spec.legacy ? undefined : probePmu(spec.kind);
  if (pmu !== undefined) {
    const name = new TextEncoder().encode(`${spec.location}\0`);
    const event = perfEventOpen({
      type: pmu.type,
      // format/ref_ctr_offset is config:32-63 on every kernel that has it (4.20+).
      config: (spec.retprobe ? 1n << BigInt(pmu.retprobeBit) : 0n) | ((spec.refCtrOffset ?? 0n) << 32n),
      config1String: name,
      config2: spec.offset,
      pid: spec.pid,
    }, context);
    return { event, legacyEvent: false };
  }
  const file = probeEventsFile(spec.kind);
  if (file === undefined) throw new Error(`${context}: this kernel has no ${spec.kind}s: no ${spec.kind} PMU in ${PMU_DIR} and no ${spec.kind}_events in tracefs (${spec.kind === 'kprobe' ? 'CONFIG_KPROBES / CONFIG_KPROBE_EVENTS are off' : 'CONFIG_UPROBES / CONFIG_UPROBE_EVENTS are off'})`);
  const group = ourGroup();
  const event = eventName(spec);
  const where = spec.kind === 'kprobe'
    ? `${spec.location}${spec.offset !== 0n ? `+${spec.offset}` : ''}`
    : `${spec.location}:0x${spec.offset.toString(16)}${spec.refCtrOffset ? `(0x${spec.refCtrOffset.toString(16)})` : ''}`;
  const line = `${spec.retprobe ? 'r' : 'p'}:${group}/${event} ${where}`;
  try {
    // Append (O_APPEND without O_TRUNC): truncating the file would remove every probe on the system.
    appendFileSync(file, `${line}\n`);
  } catch (e) {
    throw new Error(`${context}: ${file} refused ${quoted(line)}: ${(e as Error).message} (${spec.kind === 'kprobe' ? 'no such kernel function, or it cannot be probed (notrace, inlined, blacklisted)' : 'no such file, or the offset is not an instruction'})`);
  }
  const remove = (): void => {
    liveEvents.delete(`${group}/${event}`);
    appendFileSync(file, `-:${group}/${event}\n`);
  };
  liveEvents.add(`${group}/${event}`);
  try {
    const id = traceEventId(group, event, context);
    return { event: perfEventOpen({ type: PerfType.Tracepoint, config: id, pid: spec.pid }, context), remove, legacyEvent: true };
  } catch (e) {
    remove();
    throw e;
  }
}

/** Makes the probe and puts the program on it. */
export function attachProbe(programFd: number, programName: string, spec: ProbeSpec, target: string, context: string): PerfEventAttachment {
  const { event, remove, legacyEvent } = openProbe(spec, context);
  let link: FD | undefined;
  try {
    link = attachToPerfEvent(programFd, event, spec.attach, context);
  } catch (e) {
    remove?.();
    throw e;
  }
  const kind = spec.hook ?? (spec.retprobe ? (spec.kind === 'kprobe' ? 'kretprobe' : 'uretprobe') : spec.kind);
  return new PerfEventAttachment(kind, programName, target, [event], link === undefined ? [] : [link], remove, legacyEvent);
}

/** A probe event defined in tracefs. */
export interface ProbeEvent {
  kind: ProbeKind;
  /** 'p' entry, 'r' return. */
  type: string;
  group: string;
  event: string;
  /** What it probes: function[+offset], or path:0xoffset. */
  target: string;
  /** Made by ebpf (group ebpf_<pid>). */
  ours: boolean;
  /** The pid in our group name. */
  pid?: number;
  /** The line as tracefs lists it. */
  line: string;
}

/** Every kprobe and uprobe event tracefs defines (goebpf's ListProbes), ours and others'. */
export function listProbes(): ProbeEvent[] {
  const out: ProbeEvent[] = [];
  for (const kind of ['kprobe', 'uprobe'] as const) {
    const file = probeEventsFile(kind);
    if (file === undefined) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^([pr])[^:]*:([^/\s]+)\/(\S+)\s+(.*)$/.exec(line.trim());
      if (m === null) continue;
      const group = m[2]!;
      const pidMatch = new RegExp(`^${PROBE_GROUP_PREFIX}(\\d+)$`).exec(group);
      const event: ProbeEvent = { kind, type: m[1]!, group, event: m[3]!, target: m[4]!, ours: pidMatch !== null, line: line.trim() };
      if (pidMatch !== null) event.pid = Number(pidMatch[1]);
      out.push(event);
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the legacy probe events ebpf left in tracefs (goebpf's CleanupProbes): this process's that
 * no attachment uses any more, and those of processes that are gone. Those of other live processes
 * (their own attachments) are left. Returns the events removed ('group/event').
 */
export function cleanupProbes(): string[] {
  const removed: string[] = [];
  const errors: string[] = [];
  for (const probe of listProbes()) {
    if (!probe.ours || probe.pid === undefined) continue;
    const name = `${probe.group}/${probe.event}`;
    if (probe.pid === process.pid ? liveEvents.has(name) : alive(probe.pid)) continue;
    const file = probeEventsFile(probe.kind)!;
    try {
      appendFileSync(file, `-:${name}\n`);
      removed.push(name);
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
    }
  }
  if (errors.length > 0) throw new Error(`cleanupProbes: could not remove ${errors.join('; ')} (EBUSY: a program is still attached to it)`);
  return removed;
}
