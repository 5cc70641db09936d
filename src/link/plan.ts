// The pure half of program.attach(target): which hook a program's type (and section) attaches to,
// the target parsed and checked, and bad input refused, all without a kernel call. The kernel side
// (attach.ts) executes a plan; MockProgram.attach (ebpf/mock) makes a mock Attachment from the same
// plan, so the mock throws the same errors for the same input. Imports nothing on the kernel path.
import { Errno } from '../sys/errors.js';
import { describeSection } from '../sys/describe.js';
import { AttachType, attachTypeName, ProgramType, programTypeName } from '../sys/generated.js';
import { KprobeAttachType } from './kprobe-type.js';
import type { SocketFilterAttachParams } from './socket-filter.js';
import { AttachError, type AttachableProgram } from './target.js';
import type { TcAttachParams } from './tc.js';
import type { XdpAttachParams } from './xdp.js';

/** A tracepoint: `{ category: 'syscalls', name: 'sys_enter_execve' }` or 'syscalls/sys_enter_execve'. */
export interface TracepointTarget {
  category: string;
  name: string;
  /** Only this process (default: every process). */
  pid?: number;
}

/** Where a uprobe goes: `{ path, symbol }` or `{ path, offset }`, or 'path:symbol'. */
export interface UprobeTarget {
  /** The executable or shared object (absolute, or relative to the working directory). */
  path: string;
  /** A function symbol, optionally `+offset` inside it. */
  symbol?: string;
  /** A file offset (instead of symbol), or added to the symbol's. */
  offset?: bigint | number;
  /** Only in this process (default: every process running the binary). */
  pid?: number;
  /** A return probe (uretprobe); default from the section (`uretprobe/...`). */
  retprobe?: boolean;
  /** tracefs uprobe_events instead of the uprobe PMU (the event outlives a crashed process: see cleanupProbes). */
  legacy?: boolean;
  /** bpf_get_attach_cookie()'s value. */
  cookie?: bigint;
}

/** A USDT probe: `{ path, provider, name }` or 'path:provider:name' (libbpf's `usdt/` section form). */
export interface UsdtTarget {
  path: string;
  provider: string;
  name: string;
  /** Only in this process. */
  pid?: number;
  /** tracefs uprobe_events instead of the uprobe PMU. */
  legacy?: boolean;
  cookie?: bigint;
}

/** A kprobe target: the kernel function (`{ symbol }` or its name as a string). */
export interface KprobeTarget {
  /** The kernel function (as in /proc/kallsyms), optionally `+offset`. */
  symbol: string;
  /** Entry (default, or from the section: `kretprobe/` → Return) or return probe. */
  attachType?: KprobeAttachType;
  /** tracefs kprobe_events instead of the kprobe PMU (the event outlives a crashed process: see cleanupProbes). */
  legacy?: boolean;
  /** bpf_get_attach_cookie()'s value. */
  cookie?: bigint;
}

/** A cgroup: its path (under a cgroup v2 mount, e.g. /sys/fs/cgroup/unified/my-group) or an open fd. */
export type CgroupRef = string | number;

/** A cgroup hook: the cgroup (path or fd) and, where the section does not say it, the attach type. */
export interface CgroupTarget {
  cgroup: CgroupRef;
  /** The hook; default: the program's expected attach type (from its section). */
  attachType?: AttachType;
  /** BPF_PROG_ATTACH (with BPF_F_ALLOW_MULTI) instead of a link: outlives the process. */
  legacy?: boolean;
}

/** A network namespace hook: sk_lookup and flow_dissector programs, by netns path (/var/run/netns/NAME, /proc/PID/ns/net) or fd. */
export interface NetnsTarget {
  netns: CgroupRef;
}

/** A sampling event for perf_event programs (PERF_TYPE_SOFTWARE + PERF_COUNT_SW_CPU_CLOCK, say). */
export interface PerfEventTarget {
  /** PERF_TYPE_* (see PerfType). */
  type: number;
  config: bigint | number;
  /** Every N events ... */
  samplePeriod?: bigint | number;
  /** ... or N samples a second. */
  sampleFrequency?: number;
  /** One CPU (default: every online CPU, one event each). */
  cpu?: number;
  /** One process (default: all). */
  pid?: number;
  legacy?: boolean;
  cookie?: bigint;
}

/** What an iterator walks: nothing more (iter/task, iter/bpf_map, ...), one map's elements (iter/bpf_map_elem), or one task. */
export interface IterTarget {
  /** iter/bpf_map_elem, iter/bpf_sk_storage_map, ...: the map (fd) whose elements are walked. */
  mapFd?: number;
  /** iter/task, iter/task_file, ...: one thread (tid) or process (pid). */
  tid?: number;
  pid?: number;
}

/** What program.attach() takes: a string for the obvious target of the program's type, or the hook's params. */
export type AttachTarget =
  | string
  | number
  | TracepointTarget
  | KprobeTarget
  | UprobeTarget
  | UsdtTarget
  | CgroupTarget
  | NetnsTarget
  | PerfEventTarget
  | IterTarget
  // XDP (XdpAttachParams), TC and socket filter params: see xdp.ts, tc.ts, socket-filter.ts.
  | object;

/** Options every hook understands where it applies. */
export interface AttachOptions {
  /**
   * The pre-bpf_link form: perf ioctl for tracepoints and probes, tracefs probe events for probes,
   * BPF_PROG_ATTACH (with BPF_F_ALLOW_MULTI) for cgroups. What outlives the process: a cgroup
   * BPF_PROG_ATTACH stays attached until detached or the cgroup is removed; a tracefs probe event
   * stays defined (without the program) until cleanupProbes(). bpf_links and perf events end with it.
   */
  legacy?: boolean;
  /** bpf_get_attach_cookie()'s value (perf-based hooks). */
  cookie?: bigint;
}

/** The hook and its parsed target: what attach.ts executes and MockProgram.attach mimics. */
export type AttachPlan =
  | { hook: 'tracepoint'; target: string; tracepoint: TracepointTarget; options: AttachOptions }
  | { hook: 'raw_tracepoint'; target: string; name: string }
  | { hook: 'kprobe' | 'kretprobe'; target: string; kprobe: KprobeTarget }
  | { hook: 'uprobe' | 'uretprobe'; target: string; uprobe: UprobeTarget }
  | { hook: 'usdt'; target: string; usdt: UsdtTarget }
  | { hook: 'tp_btf' | 'fentry' | 'fexit' | 'fmod_ret' | 'lsm'; target: string }
  | { hook: 'iter'; target: string; iter: IterTarget }
  | { hook: 'perf_event'; target: string; perfEvent: PerfEventTarget }
  | { hook: 'cgroup'; target: string; cgroup: CgroupTarget; attachType: AttachType }
  | { hook: 'sk_lookup' | 'flow_dissector'; target: string; netns: NetnsTarget }
  // The network hooks check the rest of their parameters themselves (xdp.ts, tc.ts, socket-filter.ts).
  | { hook: 'xdp'; target: string; xdp: XdpAttachParams | string; legacy: boolean }
  | { hook: 'tc'; target: string; tc: TcAttachParams; legacy: boolean }
  | { hook: 'socket_filter' | 'sk_reuseport'; target: string; socket: SocketFilterAttachParams | number | object; legacy: boolean };

const EVENT_PART = /^[A-Za-z0-9_.-]+$/;

/** 'category/name' → its parts; an AttachError for anything else (no '/', '..' or spaces reach a path). */
export function parseTracepoint(program: AttachableProgram | string, target: string | TracepointTarget): TracepointTarget {
  const parts = typeof target === 'string' ? target.split('/') : [target.category, target.name];
  const text = typeof target === 'string' ? target : `${String(target.category)}/${String(target.name)}`;
  if (parts.length !== 2 || parts.some((p) => typeof p !== 'string' || !EVENT_PART.test(p) || p === '.' || p === '..')) {
    throw new AttachError(program, 'tracepoint', JSON.stringify(text), 'a tracepoint is "<category>/<name>" of letters, digits, \'_\', \'.\', \'-\', e.g. "syscalls/sys_enter_execve" (see /sys/kernel/tracing/available_events)');
  }
  return { category: parts[0]!, name: parts[1]! };
}

/** 'path:symbol' or 'path:0xoffset' (libbpf's uprobe section form: `uprobe//usr/bin/bash:readline`) → target. */
export function parseUprobe(program: AttachableProgram | string, text: string): UprobeTarget {
  const colon = text.lastIndexOf(':');
  if (colon <= 0 || colon === text.length - 1) {
    throw new AttachError(program, 'uprobe', JSON.stringify(text), 'a uprobe target is "<path>:<symbol>" (or a { path, symbol | offset } object)');
  }
  const what = text.slice(colon + 1);
  if (/^(0x[0-9a-fA-F]+|\d+)$/.test(what)) return { path: text.slice(0, colon), offset: BigInt(what) };
  return { path: text.slice(0, colon), symbol: what };
}

/** Which attach types each cgroup program type takes. */
const CGROUP_HOOKS: Partial<Record<ProgramType, readonly AttachType[]>> = {
  [ProgramType.CgroupSKB]: [AttachType.CgroupInetIngress, AttachType.CgroupInetEgress],
  [ProgramType.CgroupSock]: [AttachType.CgroupInetSockCreate, AttachType.CgroupInet4PostBind, AttachType.CgroupInet6PostBind, AttachType.CgroupInetSockRelease],
  [ProgramType.CgroupSockAddr]: [AttachType.CgroupInet4Bind, AttachType.CgroupInet6Bind, AttachType.CgroupInet4Connect, AttachType.CgroupInet6Connect,
    AttachType.CgroupUDP4Sendmsg, AttachType.CgroupUDP6Sendmsg, AttachType.CgroupUDP4Recvmsg, AttachType.CgroupUDP6Recvmsg,
    AttachType.CgroupInet4Getpeername, AttachType.CgroupInet6Getpeername, AttachType.CgroupInet4Getsockname, AttachType.CgroupInet6Getsockname,
    AttachType.CgroupUnixConnect, AttachType.CgroupUnixSendmsg, AttachType.CgroupUnixRecvmsg, AttachType.CgroupUnixGetpeername, AttachType.CgroupUnixGetsockname],
  [ProgramType.SockOps]: [AttachType.CgroupSockOps],
  [ProgramType.CgroupDevice]: [AttachType.CgroupDevice],
  [ProgramType.CgroupSysctl]: [AttachType.CgroupSysctl],
  [ProgramType.CgroupSockopt]: [AttachType.CgroupGetsockopt, AttachType.CgroupSetsockopt],
};

/** Program types attached to cgroups. */
export const CGROUP_PROGRAM_TYPES = Object.keys(CGROUP_HOOKS).map(Number) as ProgramType[];

/** Checks the program is of one of `types` for the hook. */
export function checkType(program: AttachableProgram, hook: string, target: string, types: readonly ProgramType[]): void {
  if (!types.includes(program.type)) {
    throw new AttachError(program, hook, target, `the program is of type ${programTypeName(program.type)}; ${hook} takes ${types.map(programTypeName).join(' or ')} programs`);
  }
}

/** The attach type a cgroup attach uses, checked against the program's type. */
export function cgroupAttachType(program: AttachableProgram, requested: AttachType | undefined, target: string): AttachType {
  checkType(program, 'cgroup', target, CGROUP_PROGRAM_TYPES);
  const allowed = CGROUP_HOOKS[program.type] ?? [];
  const type = requested ?? program.expectedAttachType ?? (allowed.length === 1 ? allowed[0] : undefined);
  if (type === undefined) {
    throw new AttachError(program, 'cgroup', target, `say which hook: attachType one of ${allowed.map(attachTypeName).join(', ')} (the section names none)`);
  }
  if (!allowed.includes(type)) throw new AttachError(program, 'cgroup', target, `attach type ${attachTypeName(type)} is not a hook of ${programTypeName(program.type)} programs (${allowed.map(attachTypeName).join(', ')})`);
  return type;
}

// errno values (Linux), for the causes below: this module imports nothing from node:.

/** The usual causes of a refused cgroup attach, by errno. */
export function cgroupCauses(errno: number, legacy: boolean): string {
  if (errno === Errno.EBADF) return 'not a cgroup v2 directory (cgroup v1 hierarchies take no programs)';
  if (errno === Errno.EINVAL) return `the program's expected attach type differs from the hook${legacy ? ', or this program is already attached there (BPF_F_ALLOW_MULTI takes each program once)' : ''}`;
  if (errno === Errno.EPERM) return 'a program attached there without BPF_F_ALLOW_MULTI forbids more, or no CAP_NET_ADMIN/CAP_SYS_ADMIN';
  return '';
}

/** "context (causes)", or the context alone when there are none. */
export const withCauses = (context: string, causes: string): string => (causes ? `${context} (${causes})` : context);

const TRACING_HOOKS: Partial<Record<AttachType, 'tp_btf' | 'fentry' | 'fexit' | 'fmod_ret' | 'lsm'>> = {
  [AttachType.TraceRawTp]: 'tp_btf',
  [AttachType.TraceFentry]: 'fentry',
  [AttachType.TraceFexit]: 'fexit',
  [AttachType.ModifyReturn]: 'fmod_ret',
  [AttachType.LSMMac]: 'lsm',
};

/** The hook of a Tracing/LSM program (from its expected attach type), or undefined. */
export function tracingHook(program: AttachableProgram): 'tp_btf' | 'fentry' | 'fexit' | 'fmod_ret' | 'lsm' | undefined {
  return program.expectedAttachType === undefined ? undefined : TRACING_HOOKS[program.expectedAttachType];
}

const isObject = (t: unknown): t is Record<string, unknown> => typeof t === 'object' && t !== null;

function sectionStarts(program: AttachableProgram, ...prefixes: string[]): boolean {
  const section = program.section ?? '';
  return prefixes.some((p) => section === p || section.startsWith(`${p}/`));
}

const isPathOrFd = (t: unknown): t is string | number => (typeof t === 'string' && t !== '') || (typeof t === 'number' && Number.isInteger(t) && t >= 0);

const textOf = (t: unknown): string => (t === undefined ? '' : isObject(t) ? JSON.stringify(t, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v)) : String(t));

/** Program types the network hooks (branch attachnet) attach: not planned here yet. */
/** Program types attached by the network hooks (xdp.ts, tc.ts, socket-filter.ts). */
export const NETWORK_PROGRAM_TYPES: readonly ProgramType[] = [ProgramType.XDP, ProgramType.SchedCLS, ProgramType.SchedACT, ProgramType.SocketFilter, ProgramType.SKReusePort];

/** XDP: an interface name or XdpAttachParams; TC: TcAttachParams; socket filters: a socket (fd, Node socket) or SocketFilterAttachParams. */
function planNetwork(program: AttachableProgram, given: AttachTarget | undefined): AttachPlan {
  const type = program.type;
  const params = given as unknown;
  const record = isObject(params) ? (params as Record<string, unknown>) : undefined;
  if (type === ProgramType.XDP) {
    if (typeof params !== 'string' && (record === undefined || !('interface' in record))) throw new AttachError(program, 'xdp', textOf(given), 'give an interface name or { interface, mode? }');
    const legacy = record !== undefined && (record.method === 'netlink' || (record.replace !== undefined && record.replace !== false));
    return { hook: 'xdp', target: typeof params === 'string' ? params : String(record!.interface), xdp: params as XdpAttachParams | string, legacy };
  }
  if (type === ProgramType.SchedCLS || type === ProgramType.SchedACT) {
    if (record === undefined || !('interface' in record) || !('direction' in record)) throw new AttachError(program, 'tc', textOf(given), "give { interface, direction: 'ingress' | 'egress' }");
    return { hook: 'tc', target: `${String(record.interface)} ${String(record.direction)}`, tc: params as TcAttachParams, legacy: record.method === 'classic' };
  }
  const hook = type === ProgramType.SKReusePort ? 'sk_reuseport' : 'socket_filter';
  if (typeof params !== 'number' && record === undefined) throw new AttachError(program, hook, textOf(given), 'give a socket: an fd, a Node dgram/net socket, or { socketFd, attachType }');
  return { hook, target: 'socket', socket: params as SocketFilterAttachParams | number | object, legacy: true };
}

/**
 * The plan for program.attach(target): hook and parsed target, or an AttachError (wrong type for
 * the hook, bad target, program not loaded or closed) before any kernel call.
 */
export function planAttach(program: AttachableProgram, target?: AttachTarget, options: AttachOptions = {}): AttachPlan {
  const plan = planHook(program, target, options);
  if (!program.loaded) throw new AttachError(program, plan.hook, plan.target, 'the program is not loaded (load() it first) or was closed');
  return plan;
}

function planHook(program: AttachableProgram, target: AttachTarget | undefined, options: AttachOptions): AttachPlan {
  const given = target ?? program.sectionTarget ?? undefined;
  const extra = { ...(options.legacy !== undefined ? { legacy: options.legacy } : {}), ...(options.cookie !== undefined ? { cookie: options.cookie } : {}) };
  const missing = (hook: string, what: string): never => {
    throw new AttachError(program, hook, '', `give ${what} (the ${describeSection(program.section ?? '')} names no target)`);
  };
  const type = program.type;
  if (NETWORK_PROGRAM_TYPES.includes(type)) return planNetwork(program, given);
  switch (type) {
    case ProgramType.Tracepoint: {
      if (given === undefined) return missing('tracepoint', '"category/name"');
      if (typeof given !== 'string' && !(isObject(given) && 'category' in given)) throw new AttachError(program, 'tracepoint', textOf(given), 'give "category/name" or { category, name }');
      const tp = parseTracepoint(program, given as string | TracepointTarget);
      const pid = isObject(given) && typeof given.pid === 'number' ? given.pid : undefined;
      return { hook: 'tracepoint', target: `${tp.category}/${tp.name}`, tracepoint: { ...tp, ...(pid !== undefined ? { pid } : {}) }, options: extra };
    }
    case ProgramType.RawTracepoint:
    case ProgramType.RawTracepointWritable: {
      if (given === undefined) return missing('raw_tracepoint', 'the tracepoint\'s name');
      const name = isObject(given) ? given.name : given;
      if (typeof name !== 'string' || !/^[A-Za-z0-9_]+$/.test(name)) throw new AttachError(program, 'raw_tracepoint', textOf(name), 'a raw tracepoint is the kernel tracepoint\'s name, e.g. "sched_process_exec"');
      return { hook: 'raw_tracepoint', target: name, name };
    }
    case ProgramType.Kprobe: {
      if (sectionStarts(program, 'usdt', 'usdt.s') || (isObject(given) && typeof given.provider === 'string')) {
        if (given === undefined) return missing('usdt', '"path:provider:name" or { path, provider, name }');
        let t: UsdtTarget;
        if (typeof given === 'string') {
          const parts = given.split(':');
          if (parts.length !== 3 || parts.some((p) => p === '')) throw new AttachError(program, 'usdt', JSON.stringify(given), 'a USDT target is "<path>:<provider>:<name>" (or a { path, provider, name } object)');
          t = { path: parts[0]!, provider: parts[1]!, name: parts[2]! };
        } else {
          t = given as UsdtTarget;
        }
        t = { ...extra, ...t };
        if (typeof t.path !== 'string' || t.path === '' || /\s/.test(t.path) || typeof t.provider !== 'string' || typeof t.name !== 'string') {
          throw new AttachError(program, 'usdt', textOf(given), 'give { path, provider, name }: a path without spaces and the probe\'s provider and name');
        }
        if (t.pid !== undefined && (!Number.isInteger(t.pid) || t.pid <= 0)) throw new AttachError(program, 'usdt', t.path, `pid ${t.pid} is not a process id`);
        return { hook: 'usdt', target: `${t.path}:${t.provider}:${t.name}`, usdt: t };
      }
      const uprobe = sectionStarts(program, 'uprobe', 'uretprobe', 'uprobe.s', 'uretprobe.s') ||
        (!sectionStarts(program, 'kprobe', 'kretprobe') && ((isObject(given) && typeof given.path === 'string') || (typeof given === 'string' && given.includes(':'))));
      if (uprobe) {
        if (given === undefined) return missing('uprobe', '"path:symbol" or { path, symbol }');
        const t: UprobeTarget = { ...extra, ...(typeof given === 'string' ? parseUprobe(program, given) : given as UprobeTarget) };
        t.retprobe ??= sectionStarts(program, 'uretprobe', 'uretprobe.s');
        const hook = t.retprobe ? 'uretprobe' : 'uprobe';
        if (typeof t.path !== 'string' || t.path === '' || /\s/.test(t.path)) throw new AttachError(program, hook, textOf(t.path), 'the binary path must be a non-empty path without spaces');
        if (t.symbol === undefined && t.offset === undefined) throw new AttachError(program, hook, t.path, 'give a symbol or an offset');
        if (t.pid !== undefined && (!Number.isInteger(t.pid) || t.pid <= 0)) throw new AttachError(program, hook, t.path, `pid ${t.pid} is not a process id`);
        return { hook, target: `${t.path}:${t.symbol ?? `0x${BigInt(t.offset ?? 0).toString(16)}`}`, uprobe: t };
      }
      if (given === undefined) return missing('kprobe', 'the kernel function');
      const t: KprobeTarget = { ...extra, ...(typeof given === 'string' ? { symbol: given } : given as KprobeTarget) };
      t.attachType ??= sectionStarts(program, 'kretprobe') ? KprobeAttachType.Return : KprobeAttachType.Entry;
      const hook = KprobeAttachType.toString(t.attachType) as 'kprobe' | 'kretprobe';
      if (typeof t.symbol !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.]*(\+(0x[0-9a-fA-F]+|\d+))?$/.test(t.symbol)) {
        throw new AttachError(program, hook, textOf(t.symbol), 'a kprobe target is a kernel function name (as in /proc/kallsyms), optionally +offset');
      }
      return { hook, target: t.symbol, kprobe: t };
    }
    case ProgramType.Tracing:
    case ProgramType.LSM: {
      if (type === ProgramType.Tracing && program.expectedAttachType === AttachType.TraceIter) {
        const iter = isObject(target) ? target as IterTarget : {};
        return { hook: 'iter', target: program.sectionTarget ?? '', iter };
      }
      const hook = tracingHook(program);
      if (hook === undefined) throw new AttachError(program, 'tracing', program.sectionTarget ?? '', 'a Tracing program attaches as tp_btf/fentry/fexit/fmod_ret/iter, an LSM program as lsm: its section says which');
      return { hook, target: program.sectionTarget ?? '' };
    }
    case ProgramType.PerfEvent: {
      if (!isObject(target) || typeof target.type !== 'number') throw new AttachError(program, 'perf_event', textOf(target), 'give a sampling event: { type, config, samplePeriod | sampleFrequency, cpu?, pid? }');
      const perfEvent = { ...extra, ...(target as unknown as PerfEventTarget) };
      if (perfEvent.samplePeriod === undefined && perfEvent.sampleFrequency === undefined) throw new AttachError(program, 'perf_event', textOf(target), 'give samplePeriod or sampleFrequency');
      return { hook: 'perf_event', target: `type ${perfEvent.type} config ${perfEvent.config}`, perfEvent };
    }
    case ProgramType.SKLookup:
    case ProgramType.FlowDissector: {
      const hook = type === ProgramType.FlowDissector ? 'flow_dissector' : 'sk_lookup';
      const netns: NetnsTarget = typeof given === 'string' || typeof given === 'number' ? { netns: given } : isObject(given) && 'netns' in given ? given as unknown as NetnsTarget : { netns: '/proc/self/ns/net' };
      if (!isPathOrFd(netns.netns)) throw new AttachError(program, hook, textOf(given), 'give a network namespace path (/var/run/netns/NAME, /proc/PID/ns/net) or fd (a non-negative integer)');
      return { hook, target: String(netns.netns), netns };
    }
    default: {
      if (!CGROUP_PROGRAM_TYPES.includes(type)) throw new AttachError(program, programTypeName(type), textOf(target), `program.attach() does not attach ${programTypeName(type)} programs yet`);
      if (given === undefined) return missing('cgroup', 'a cgroup path or fd');
      const cgroup: CgroupTarget = { ...extra, ...(typeof given === 'string' || typeof given === 'number' ? { cgroup: given } : given as CgroupTarget) };
      if (!isPathOrFd(cgroup.cgroup)) throw new AttachError(program, 'cgroup', textOf(given), 'give a cgroup path or fd (a non-negative integer)');
      const text = typeof cgroup.cgroup === 'number' ? `fd ${cgroup.cgroup}` : cgroup.cgroup;
      return { hook: 'cgroup', target: text, cgroup, attachType: cgroupAttachType(program, cgroup.attachType, text) };
    }
  }
}
