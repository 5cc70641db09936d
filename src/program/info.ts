// What the kernel says about a loaded program (BPF_OBJ_GET_INFO_BY_FD into struct bpf_prog_info),
// goebpf's GetProgramInfoByFd/ById, and the walk over every program on the system.
import { readlinkSync } from 'node:fs';
import { ktimeToDate } from '../map/host.js';
import { Errno, SyscallError } from '../sys/errors.js';
import { bpf, FD, getFdById, ids, objGetInfoByFd } from '../sys/bpf.js';
import { ATTR, BpfCmd, PROG_INFO, ProgramType } from '../sys/generated.js';
import { readObjectName } from './name.js';

/** What BPF_OBJ_GET_INFO_BY_FD says about a program. */
export interface ProgramInfo {
  /** The kernel's name (at most 15 characters). */
  name: string;
  /** The kernel's hash of the instructions, 16 hex digits (as bpftool prints it). */
  tag: string;
  type: ProgramType;
  id: number;
  /** The fd the info was read through (getProgramInfoByFd / program.info()), -1 for getProgramInfoById. */
  fd: number;
  /** Bytes of machine code the JIT produced (0 without JIT or without CAP_SYS_ADMIN/CAP_PERFMON). */
  jitedProgramLen: number;
  /** Bytes of the instructions as the kernel rewrote them. */
  xlatedProgramLen: number;
  /** When the program was loaded. */
  loadTime: Date;
  /** The kernel's load stamp: CLOCK_BOOTTIME nanoseconds. */
  loadTimeNs: bigint;
  createdByUid: number;
  /** Ids of the maps the program uses. */
  mapIds: number[];
  /** Runs counted while run-time statistics were on (enableRunTimeStats / sysctl kernel.bpf_stats_enabled). */
  runCount: bigint;
  /** Nanoseconds spent running, counted like runCount. */
  runTimeNs: bigint;
  recursionMisses: bigint;
  /** Instructions the verifier walked. */
  verifiedInsns: number;
  /** Id of the program's BTF object, 0 if it has none. */
  btfId: number;
  gplCompatible: boolean;
  /** Offload device, 0 when not offloaded. */
  ifindex: number;
  attachBtfObjId: number;
  attachBtfId: number;
}

/** The gpl_compatible:1 bitfield (omitted by the generated layout) is the u32 after ifindex. */
const GPL_COMPATIBLE_OFFSET = PROG_INFO.ifindex.offset + 4;
/** Map ids read in the first call; a program with more costs a second call. */
const MAP_IDS_FIRST_TRY = 64;
/** enum bpf_stats_type's only member. */
const BPF_STATS_RUN_TIME = 0;

type FdLike = number | FD;
const fdNumber = (fd: FdLike): number => (typeof fd === 'number' ? fd : fd.fd);

/** Throws unless fd refers to a BPF program (an info query on a map fd would succeed with a map's info). */
export function assertProgramFd(fd: FdLike, what: string): void {
  let target: string;
  try {
    target = readlinkSync(`/proc/self/fd/${fdNumber(fd)}`);
  } catch {
    throw new SyscallError(Errno.EBADF, 'BPF_OBJ_GET_INFO_BY_FD', `${what}: fd ${fdNumber(fd)} is not open`);
  }
  if (target !== 'anon_inode:bpf-prog') {
    throw new TypeError(`${what}: fd ${fdNumber(fd)} is not a BPF program (it is ${target})`);
  }
}

/** Fills a bpf_prog_info with the map ids, and the xlated instructions when a buffer is given. */
function readInfo(fd: FdLike, xlated?: Uint8Array): { info: DataView; mapIds: Uint32Array } {
  let mapIds = new Uint32Array(MAP_IDS_FIRST_TRY);
  for (;;) {
    const info = new Uint8Array(PROG_INFO.SIZE);
    const view = new DataView(info.buffer);
    // The info struct's own pointers, checked by the bridge against the counts written here.
    view.setUint32(PROG_INFO.nr_map_ids.offset, mapIds.length, true);
    const withXlated = xlated !== undefined && xlated.byteLength > 0;
    if (withXlated) view.setUint32(PROG_INFO.xlated_prog_len.offset, xlated.byteLength, true);
    objGetInfoByFd(fd, info, PROG_INFO.map_ids.offset, mapIds, PROG_INFO.xlated_prog_insns.offset, withXlated ? xlated : null);
    const count = view.getUint32(PROG_INFO.nr_map_ids.offset, true);
    if (count <= mapIds.length) return { info: view, mapIds: mapIds.subarray(0, count) };
    mapIds = new Uint32Array(count);
  }
}

function decodeInfo(view: DataView, mapIds: Uint32Array, fd: number): ProgramInfo {
  const u32 = (field: { offset: number }): number => view.getUint32(field.offset, true);
  const u64 = (field: { offset: number }): bigint => view.getBigUint64(field.offset, true);
  const bytes = new Uint8Array(view.buffer);
  const loadTimeNs = u64(PROG_INFO.load_time);
  return {
    name: readObjectName(bytes.subarray(PROG_INFO.name.offset, PROG_INFO.name.offset + PROG_INFO.name.size)),
    tag: Buffer.from(bytes.subarray(PROG_INFO.tag.offset, PROG_INFO.tag.offset + PROG_INFO.tag.size)).toString('hex'),
    type: u32(PROG_INFO.type) as ProgramType,
    id: u32(PROG_INFO.id),
    fd,
    jitedProgramLen: u32(PROG_INFO.jited_prog_len),
    xlatedProgramLen: u32(PROG_INFO.xlated_prog_len),
    loadTime: ktimeToDate(loadTimeNs, 'boottime'),
    loadTimeNs,
    createdByUid: u32(PROG_INFO.created_by_uid),
    mapIds: [...mapIds],
    runCount: u64(PROG_INFO.run_cnt),
    runTimeNs: u64(PROG_INFO.run_time_ns),
    recursionMisses: u64(PROG_INFO.recursion_misses),
    verifiedInsns: u32(PROG_INFO.verified_insns),
    btfId: u32(PROG_INFO.btf_id),
    gplCompatible: (view.getUint32(GPL_COMPATIBLE_OFFSET, true) & 1) === 1,
    ifindex: u32(PROG_INFO.ifindex),
    attachBtfObjId: u32(PROG_INFO.attach_btf_obj_id),
    attachBtfId: u32(PROG_INFO.attach_btf_id),
  };
}

/** goebpf's GetProgramInfoByFd: what the kernel says about the program behind fd. */
export function getProgramInfoByFd(fd: FdLike): ProgramInfo {
  assertProgramFd(fd, 'getProgramInfoByFd');
  return programInfo(fd);
}

/** getProgramInfoByFd for an fd known to be a program's. */
export function programInfo(fd: FdLike): ProgramInfo {
  const { info, mapIds } = readInfo(fd);
  return decodeInfo(info, mapIds, fdNumber(fd));
}

/** goebpf's GetProgramInfoById: opens the program with this id (CAP_SYS_ADMIN), reads its info, closes it. */
export function getProgramInfoById(id: number): ProgramInfo {
  using fd = getFdById('prog', id);
  const { info, mapIds } = readInfo(fd);
  return decodeInfo(info, mapIds, -1);
}

/** The instructions of the program behind fd as the kernel holds them (after its rewrites). */
export function xlatedInstructions(fd: FdLike): Uint8Array {
  const { info } = readInfo(fd);
  const length = info.getUint32(PROG_INFO.xlated_prog_len.offset, true);
  const insns = new Uint8Array(length);
  if (length > 0) readInfo(fd, insns);
  return insns;
}

/** Ids of every program loaded on the system, in increasing order (BPF_PROG_GET_NEXT_ID). */
export function programIds(): Generator<number> {
  return ids('prog');
}

/** ProgramInfo of every program on the system; programs unloaded during the walk are skipped. */
export function* listPrograms(): Generator<ProgramInfo> {
  for (const id of programIds()) {
    try {
      yield getProgramInfoById(id);
    } catch (e) {
      if (e instanceof SyscallError && e.code === 'ENOENT') continue;
      throw e;
    }
  }
}

/**
 * Turns on run-time statistics (runCount, runTimeNs) for every program until the returned FD is
 * closed (BPF_ENABLE_STATS, kernel 5.8+); the sysctl kernel.bpf_stats_enabled does the same globally.
 */
export function enableRunTimeStats(): FD {
  const attr = new Uint8Array(ATTR.ENABLE_STATS.SIZE);
  new DataView(attr.buffer).setUint32(ATTR.ENABLE_STATS.type.offset, BPF_STATS_RUN_TIME, true);
  return new FD(bpf(BpfCmd.EnableStats, attr));
}
