// The Attachment base class without the kernel path (no bridge, no bpf()): what the kernel's
// attachments (attachment.ts and the hook files) and the mocks' (ebpf/mock) share.
import { describeProgram } from '../sys/describe.js';

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
    return `${describeProgram({ program: this.program })} on ${this.kind} ${this.target}`;
  }

  toString(): string {
    return `Attachment(${this.describe()}${this.#detached ? ', detached' : ''})`;
  }

  /** The hook-specific undo; called once by detach(). */
  protected abstract release(): void;
}
