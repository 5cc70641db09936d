// MockAttachment: what MockProgram.attach returns, of the kernel Attachment's shape. The hook and
// target come from the same plan as the kernel's attach (src/link/plan.ts), so bad input gives the
// same AttachError; what only a kernel knows (whether a tracepoint, binary, cgroup or kprobes exist)
// is not checked. A cgroup program attached twice to the same cgroup and hook with BPF_PROG_ATTACH
// fails with the kernel's EINVAL.
import { describeProgram } from '../sys/describe.js';
import { Attachment, type AttachmentInfo } from '../link/attachment-base.js';
import { cgroupCauses, withCauses, type AttachPlan } from '../link/plan.js';
import { describe } from '../link/target.js';
import { errnoError, Errno } from '../sys/errors.js';
import { attachTypeName } from '../sys/generated.js';
import { allocateId } from './registry.js';


/** The bpf_link type each hook's link has (undefined: no link, the legacy forms). */
const LINK_TYPES: Record<string, string> = {
  tracepoint: 'perf_event', kprobe: 'perf_event', kretprobe: 'perf_event', uprobe: 'perf_event', uretprobe: 'perf_event', usdt: 'perf_event', perf_event: 'perf_event',
  raw_tracepoint: 'raw_tracepoint', tp_btf: 'raw_tracepoint', fentry: 'tracing', fexit: 'tracing', fmod_ret: 'tracing', lsm: 'tracing',
  iter: 'iter', cgroup: 'cgroup', sk_lookup: 'netns', flow_dissector: 'netns', xdp: 'xdp', tc: 'tcx',
};
/** Links whose program the kernel can replace (BPF_LINK_UPDATE): the others answer EINVAL. */
const UPDATABLE = new Set(['cgroup', 'iter', 'sk_lookup', 'flow_dissector', 'xdp', 'tc']);

/** BPF_PROG_ATTACH'd cgroup programs of all mocks: "cgroup|attachType|programId". */
const legacyCgroup = new Set<string>();

interface MockAttachProgram {
  readonly name: string;
  readonly section: string | undefined;
  readonly type: number;
  readonly id: number;
}

/** What MockProgram.attach returns: an Attachment of the same shape as the kernel's, with made-up link ids. */
export class MockAttachment extends Attachment {
  readonly #legacy: boolean;
  readonly #linkId: number | undefined;
  readonly #release: () => void;
  /** Where pin() put it. */
  pinnedPath: string | undefined;

  private constructor(kind: string, program: string, target: string, legacy: boolean, release: () => void) {
    super(kind, program, target);
    this.#legacy = legacy;
    this.#linkId = legacy || LINK_TYPES[kind] === undefined ? undefined : allocateId();
    this.#release = release;
  }

  /** The attachment the kernel would make for plan, or the error it would give. @internal */
  static fromPlan(program: MockAttachProgram, plan: AttachPlan, legacy: boolean): MockAttachment {
    let release = (): void => {};
    if (plan.hook === 'cgroup' && legacy) {
      const key = `${plan.target}|${plan.attachType}|${program.id}`;
      if (legacyCgroup.has(key)) {
        throw errnoError(Errno.EINVAL, 'BPF_PROG_ATTACH', withCauses(`${describe(program)} on cgroup ${attachTypeName(plan.attachType)} ${plan.target}`, cgroupCauses(Errno.EINVAL, true)));
      }
      legacyCgroup.add(key);
      release = () => legacyCgroup.delete(key);
    }
    return new MockAttachment(plan.hook, program.name, plan.target, legacy, release);
  }

  override info(): AttachmentInfo {
    const info: AttachmentInfo = { ...super.info(), legacy: this.#linkId === undefined };
    if (this.#linkId !== undefined) {
      info.linkId = this.#linkId;
      info.linkType = LINK_TYPES[this.kind]!;
    }
    return info;
  }

  override pin(path: string): void {
    if (this.#linkId === undefined) super.pin(path);
    this.pinnedPath = path;
  }

  override update(program: { readonly fd: number; readonly name: string }): void {
    if (this.#linkId === undefined || this.#legacy) super.update(program);
    if (!UPDATABLE.has(this.kind)) throw errnoError(Errno.EINVAL, 'BPF_LINK_UPDATE', `${this.describe()} to ${describeProgram({ program: program.name })}`);
  }

  protected release(): void {
    this.#release();
  }
}
