// The kernel's bpf_links (BPF_LINK_GET_NEXT_ID / BPF_LINK_GET_FD_BY_ID / bpf_link_info): what
// `bpftool link` lists, as data.
import { getFdById, ids, objGetInfoByFd } from '../sys/bpf.js';
import { SyscallError } from '../sys/errors.js';
import { attachTypeName, LINK_INFO, LinkType, linkTypeName } from '../sys/generated.js';

/** A bpf_link as the kernel describes it. */
export interface LinkInfo {
  id: number;
  /** enum bpf_link_type. */
  type: LinkType;
  /** 'raw_tracepoint', 'cgroup', 'perf_event', ... (bpftool's names) */
  typeName: string;
  progId: number;
  /** Per type: tracepoint name, attach type, cgroup id, ifindex, netns inode, iterator target, probed file... */
  target: Record<string, string | number | bigint>;
}

const NAME_SIZE = 256;
const decoder = new TextDecoder();

function cstr(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return decoder.decode(end < 0 ? buf : buf.subarray(0, end));
}

/** bpf_link_info of the link behind fd, with the names some types point to. */
export function linkInfoByFd(fd: number): LinkInfo {
  const info = new Uint8Array(LINK_INFO.SIZE);
  objGetInfoByFd(fd, info);
  const view = new DataView(info.buffer);
  const type = view.getUint32(LINK_INFO.type.offset, true) as LinkType;
  const u32 = (f: { offset: number }): number => view.getUint32(f.offset, true);
  const u64 = (f: { offset: number }): bigint => view.getBigUint64(f.offset, true);
  // Types with a name behind a pointer: asked again with a buffer there.
  const withName = (ptr: { offset: number }, len: { offset: number }): string => {
    const name = new Uint8Array(NAME_SIZE);
    info.fill(0);
    view.setUint32(len.offset, NAME_SIZE, true);
    objGetInfoByFd(fd, info, ptr.offset, name);
    return cstr(name);
  };
  const target: LinkInfo['target'] = {};
  const I = LINK_INFO;
  switch (type) {
    case LinkType.RawTracepoint:
      target.tracepoint = withName(I.raw_tracepoint.tp_name, I.raw_tracepoint.tp_name_len);
      break;
    case LinkType.Tracing:
      target.attachType = attachTypeName(u32(I.tracing.attach_type));
      target.targetObjId = u32(I.tracing.target_obj_id);
      target.targetBtfId = u32(I.tracing.target_btf_id);
      break;
    case LinkType.Cgroup:
      target.cgroupId = u64(I.cgroup.cgroup_id);
      target.attachType = attachTypeName(u32(I.cgroup.attach_type));
      break;
    case LinkType.Iter: {
      const mapId = u32(I.iter.map.map_id);
      target.iterator = withName(I.iter.target_name, I.iter.target_name_len);
      if (mapId !== 0) target.mapId = mapId;
      break;
    }
    case LinkType.Netns:
      target.netnsIno = u32(I.netns.netns_ino);
      target.attachType = attachTypeName(u32(I.netns.attach_type));
      break;
    case LinkType.XDP:
      target.ifindex = u32(I.xdp.ifindex);
      break;
    case LinkType.TCX:
    case LinkType.Netkit:
      target.ifindex = u32(I.tcx.ifindex);
      target.attachType = attachTypeName(u32(I.tcx.attach_type));
      break;
    case LinkType.PerfEvent: {
      // enum bpf_perf_event_type: 1/2 uprobe/uretprobe, 3/4 kprobe/kretprobe, 5 tracepoint, 6 event.
      const kind = u32(I.perf_event.type);
      const names = ['unspec', 'uprobe', 'uretprobe', 'kprobe', 'kretprobe', 'tracepoint', 'event'];
      target.perfEventType = names[kind] ?? String(kind);
      if (kind === 1 || kind === 2) {
        target.file = withName(I.perf_event.uprobe.file_name, I.perf_event.uprobe.name_len);
        target.offset = u32(I.perf_event.uprobe.offset);
      } else if (kind === 3 || kind === 4) {
        target.function = withName(I.perf_event.kprobe.func_name, I.perf_event.kprobe.name_len);
      } else if (kind === 5) {
        target.tracepoint = withName(I.perf_event.tracepoint.tp_name, I.perf_event.tracepoint.name_len);
      } else if (kind === 6) {
        target.config = u64(I.perf_event.event.config);
        target.eventType = u32(I.perf_event.event.type);
      }
      break;
    }
    default:
      break;
  }
  return { id: u32(I.id), type, typeName: linkTypeName(type), progId: u32(I.prog_id), target };
}

/** Every bpf_link on the system (links that go away meanwhile are skipped). Needs CAP_SYS_ADMIN. */
export function listLinks(): LinkInfo[] {
  const out: LinkInfo[] = [];
  for (const id of ids('link')) {
    let fd;
    try {
      fd = getFdById('link', id);
    } catch (e) {
      // ENOENT: gone; EAGAIN: being freed (its last reference dropped) as we asked.
      if (e instanceof SyscallError && (e.code === 'ENOENT' || e.code === 'EAGAIN')) continue;
      throw e;
    }
    try {
      out.push(linkInfoByFd(fd.fd));
    } finally {
      fd.close();
    }
  }
  return out;
}
