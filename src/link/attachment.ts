// Attachment: a program put where it runs (cilium/ebpf's Link). Every hook returns one; each hook file
// (xdp.ts, tc.ts, tracepoint.ts, uprobe.ts, cgroup.ts, ...) subclasses it or uses LinkAttachment,
// the common form for hooks the kernel gives a bpf_link for (gone with its fd: nothing outlives a
// crashed process). Legacy forms (netlink XDP, cls_bpf, BPF_PROG_ATTACH, perf ioctl) subclass
// Attachment and say in their docs what outlives the process.
import { describeProgram } from '../sys/describe.js';
import { FD, objGet, objGetInfoByFd, objPin } from '../sys/bpf.js';
import { SyscallError } from '../sys/errors.js';
import { ATTR, BpfCmd, linkTypeName } from '../sys/generated.js';
import { native } from '../sys/native.js';
import { Attachment, type AttachmentInfo } from './attachment-base.js';

export { Attachment, type AttachmentInfo } from './attachment-base.js';

/** bpf_link_info's common head (struct bpf_link_info: type, id, prog_id). */
const LINK_INFO_SIZE = 256;

/** An attachment held by a bpf_link fd: detached by closing it (or by unpinning, if pinned). */
export class LinkAttachment extends Attachment {
  readonly #fd: FD;

  constructor(kind: string, program: string, target: string, fd: FD) {
    super(kind, program, target);
    this.#fd = fd;
  }

  /** The link's fd (owned). */
  get fd(): number {
    return this.#fd.fd;
  }

  override info(): AttachmentInfo {
    const head = linkInfo(this.#fd);
    return { ...super.info(), legacy: false, linkId: head.id, linkType: linkTypeName(head.type) };
  }

  override pin(path: string): void {
    objPin(this.#fd, path);
  }

  override update(program: { readonly fd: number; readonly name: string }): void {
    const attr = new Uint8Array(ATTR.LINK_UPDATE.SIZE);
    const view = new DataView(attr.buffer);
    view.setUint32(ATTR.LINK_UPDATE.link_fd.offset, this.#fd.fd, true);
    view.setUint32(ATTR.LINK_UPDATE.new_prog_fd.offset, program.fd, true);
    const ret = native().bpf(BpfCmd.LinkUpdate, attr);
    if (ret < 0) throw new SyscallError(-ret, 'BPF_LINK_UPDATE', `${this.describe()} to ${describeProgram({ program: program.name })}`);
  }

  protected release(): void {
    this.#fd.close();
  }

  /** Opens a link pinned at path. */
  static fromPinned(path: string): LinkAttachment {
    const fd = objGet(path);
    const head = linkInfo(fd);
    return new LinkAttachment('link', `id ${head.progId}`, path, fd);
  }
}

/** The head of bpf_link_info: type, link id and program id. */
export function linkInfo(fd: FD | number): { type: number; id: number; progId: number } {
  const info = new Uint8Array(LINK_INFO_SIZE);
  objGetInfoByFd(fd, info);
  const view = new DataView(info.buffer);
  return { type: view.getUint32(0, true), id: view.getUint32(4, true), progId: view.getUint32(8, true) };
}
