// Attachment: a program put where it runs (cilium/ebpf's Link). Every hook returns one; each hook file
// (xdp.ts, tc.ts, tracepoint.ts, uprobe.ts, cgroup.ts, ...) subclasses it or uses LinkAttachment,
// the common form for hooks the kernel gives a bpf_link for (gone with its fd: nothing outlives a
// crashed process). Legacy forms (netlink XDP, cls_bpf, BPF_PROG_ATTACH, perf ioctl) subclass
// Attachment and say in their docs what outlives the process.
import { FD, objGet, objGetInfoByFd, objPin } from '../sys/bpf.js';
import { SyscallError } from '../sys/errors.js';
import { ATTR, BpfCmd } from '../sys/generated.js';
import { native } from '../sys/native.js';

/** What an attachment is, for messages and listings. */
export interface AttachmentInfo {
  /** The hook: 'xdp', 'tcx', 'tc', 'socket_filter', 'tracepoint', 'raw_tracepoint', 'uprobe', 'kprobe', 'cgroup', ... */
  kind: string;
  /** The program's name. */
  program: string;
  /** Where it is attached: interface name, tracepoint, binary:symbol, cgroup path, ... */
  target: string;
  /** The bpf_link's id, when the attachment is a bpf_link. */
  linkId?: number;
  /** The bpf_link's type name (LinkType), when the attachment is a bpf_link. */
  linkType?: string;
  /** True for forms that outlive the process (netlink XDP, cls_bpf, BPF_PROG_ATTACH, tracefs events). */
  legacy: boolean;
}

/** A program attached to a hook. detach()/close() are idempotent; `using` detaches at scope end. */
export abstract class Attachment implements Disposable {
  readonly kind: string;
  readonly program: string;
  readonly target: string;
  #detached = false;
  #onDetach: Array<() => void> = [];

  protected constructor(kind: string, program: string, target: string) {
    this.kind = kind;
    this.program = program;
    this.target = target;
  }

  /** Whether detach() (or close()) ran. */
  get detached(): boolean {
    return this.#detached;
  }

  /** Undoes the attachment (once; later calls do nothing). */
  detach(): void {
    if (this.#detached) return;
    this.#detached = true;
    try {
      this.release();
    } finally {
      for (const hook of this.#onDetach.splice(0)) hook();
    }
  }

  /** Same as detach(). */
  close(): void {
    this.detach();
  }

  [Symbol.dispose](): void {
    this.detach();
  }

  /** Runs fn once when this attachment is detached (owners use it to forget the attachment). */
  onDetach(fn: () => void): void {
    if (this.#detached) fn();
    else this.#onDetach.push(fn);
  }

  info(): AttachmentInfo {
    return { kind: this.kind, program: this.program, target: this.target, legacy: true };
  }

  /** Pins the attachment (bpf_link forms only). */
  pin(path: string): void {
    throw new Error(`${this.describe()}: only bpf_link attachments can be pinned (pin ${path})`);
  }

  /** Puts another program in place of this one without a gap, where the hook allows it. */
  update(program: { readonly fd: number; readonly name: string }): void {
    throw new Error(`${this.describe()}: this attachment cannot be updated in place (to ${program.name})`);
  }

  /** "program 'x' on xdp eth0": how errors name this attachment. */
  describe(): string {
    return `program '${this.program}' on ${this.kind} ${this.target}`;
  }

  toString(): string {
    return `Attachment(${this.describe()}${this.#detached ? ', detached' : ''})`;
  }

  /** The hook-specific undo; called once by detach(). */
  protected abstract release(): void;
}

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
    return { ...super.info(), legacy: false, linkId: head.id, linkType: String(head.type) };
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
    if (ret < 0) throw new SyscallError(-ret, 'BPF_LINK_UPDATE', `${this.describe()} to program '${program.name}'`);
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
