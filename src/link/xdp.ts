// XDP: a program on a network interface's receive path. Two ways, as cilium/ebpf and libbpf have:
// a bpf_link (BPF_LINK_CREATE with BPF_XDP; the default where the kernel has it, gone with its fd) and
// the legacy netlink attach (RTM_SETLINK with IFLA_XDP, as goebpf does), which stays on the interface
// after the process exits until detached or replaced.
import { FD, linkCreateAttr } from '../sys/bpf.js';
import { check, SyscallError } from '../sys/errors.js';
import { AttachType, BpfCmd, LinkType, ProgramType } from '../sys/generated.js';
import { haveLinkType } from '../features/link.js';
import { native } from '../sys/native.js';
import { getInterface, setXdp, XDP_FLAGS, type XdpState } from '../netlink/link.js';
import { NetlinkError } from '../netlink/socket.js';
import { Attachment, LinkAttachment, type AttachmentInfo } from './attachment.js';
import { attachError, badInput, checkProgram, describePlace, type AttachableProgram, type AttachPlace } from './attach-error.js';

/**
 * How an XDP program is attached (goebpf's XdpAttachMode, the kernel's XDP_FLAGS_*_MODE). `None`
 * lets the kernel choose: native (driver) mode where the driver has it, else generic.
 */
export const XdpAttachMode = {
  None: 0,
  /** Generic XDP (skb mode): any interface, after the kernel built an skb. */
  Generic: XDP_FLAGS.SKB_MODE,
  /** goebpf's name for Generic. */
  Skb: XDP_FLAGS.SKB_MODE,
  /** Native XDP in the driver (veth, most 10G+ NICs). */
  Driver: XDP_FLAGS.DRV_MODE,
  /** goebpf's name for Driver. */
  Drv: XDP_FLAGS.DRV_MODE,
  /** Offloaded to the NIC. */
  Offload: XDP_FLAGS.HW_MODE,
  /** goebpf's name for Offload. */
  Hw: XDP_FLAGS.HW_MODE,
} as const;
export type XdpAttachMode = (typeof XdpAttachMode)[keyof typeof XdpAttachMode];

const MODE_NAMES: Record<number, string> = { 0: 'any mode', [XDP_FLAGS.SKB_MODE]: 'generic mode', [XDP_FLAGS.DRV_MODE]: 'driver mode', [XDP_FLAGS.HW_MODE]: 'offload mode' };

/** An XDP program's return value (goebpf's XdpResult, enum xdp_action). */
export const XdpResult = { Aborted: 0, Drop: 1, Pass: 2, Tx: 3, Redirect: 4 } as const;
export type XdpResult = (typeof XdpResult)[keyof typeof XdpResult];

/** Where and how to attach an XDP program (goebpf's XdpAttachParams, with more options). */
export interface XdpAttachParams {
  /** The interface's name (or index), in the caller's network namespace. */
  interface: string | number;
  /** XdpAttachMode.None (default: the kernel chooses), Generic, Driver or Offload. */
  mode?: XdpAttachMode;
  /**
   * 'link' (a bpf_link, default where the kernel has XDP links: detached when its fd closes, so a
   * crashed process leaves nothing) or 'netlink' (RTM_SETLINK, as goebpf: stays on the interface
   * after the process exits, until detached or replaced).
   */
  method?: 'link' | 'netlink';
  /**
   * Netlink only. false (default): fail if the interface has an XDP program already
   * (XDP_FLAGS_UPDATE_IF_NOEXIST); true: replace whatever program is there; a program: replace it
   * only if that program is the one attached (XDP_FLAGS_REPLACE with its fd as expected fd).
   * A link is replaced with `attachment.update(program)`.
   */
  replace?: boolean | { readonly fd: number; readonly name: string };
}

/** Kernels before 5.9 have no XDP links: the default method falls back to netlink there. */
function kernelHasXdpLinks(): boolean {
  return haveLinkType(LinkType.XDP).supported;
}

const MODES = new Set<number>(Object.values(XdpAttachMode));

/** Usual causes of each errno when an XDP attach is refused. */
const XDP_HINTS: Partial<Record<string, string>> = {
  EOPNOTSUPP: 'the interface\'s driver does not support this XDP mode (XdpAttachMode.Generic works on every interface)',
  EBUSY: 'another XDP program is attached to this interface (by a link, by netlink, or in another mode): detach it first, or for netlink pass `replace`',
  EEXIST: 'another XDP program is attached: pass `replace: true` to replace it (netlink), or detach it first',
  ENODEV: 'no such interface in this network namespace',
  EINVAL: 'the kernel refused the program or flags (an XDP program loaded for another hook, frags, or an interface in a mode that cannot run it)',
  ERANGE: 'the interface\'s MTU is too large for XDP in driver mode',
  EPERM: 'attaching XDP needs CAP_NET_ADMIN (and CAP_BPF)',
};

/** Netlink's text for a refused attach is in the error; mode names help where it has none. */
function place(program: AttachableProgram, target: string, mode: number): AttachPlace {
  return { program: program.name, hook: 'xdp', target: mode === 0 ? target : `${target} (${MODE_NAMES[mode]})` };
}

/**
 * Attaches an XDP program to an interface (goebpf's `program.Attach("eth0")` /
 * `Attach(&XdpAttachParams{...})`). A string is an interface name with the default options.
 * Bad input (wrong program type, not loaded, invalid mode, unknown interface) is refused before any attach.
 */
export function attachXdp(program: AttachableProgram, params: XdpAttachParams | string): Attachment {
  const options: XdpAttachParams = typeof params === 'string' ? { interface: params } : params;
  if (options === null || typeof options !== 'object') throw badInput({ program: program?.name, hook: 'xdp', target: '' }, `expected an interface name or XdpAttachParams, got ${String(params)}`);
  const mode = options.mode ?? XdpAttachMode.None;
  const where = place(program, String(options.interface), mode);
  if (!MODES.has(mode)) throw badInput(where, `mode ${String(mode)} is not an XdpAttachMode (None, Generic, Driver, Offload)`);
  if (options.method !== undefined && options.method !== 'link' && options.method !== 'netlink') {
    throw badInput(where, `method ${JSON.stringify(options.method)} is neither 'link' nor 'netlink'`);
  }
  if (options.method === 'link' && options.replace !== undefined && options.replace !== false) {
    throw badInput(where, `\`replace\` is for netlink attachments; a link's program is replaced with attachment.update(program)`);
  }
  checkInterfaceRef(options.interface, where);
  if (typeof options.replace === 'object' && options.replace !== null) checkReplaced(options.replace, where);
  const fd = checkProgram(program, [ProgramType.XDP], where, "'xdp'");
  let ifindex: number;
  let ifname: string;
  try {
    const found = getInterface(options.interface);
    ifindex = found.index;
    ifname = found.name;
  } catch (e) {
    throw attachError(e, where, { ENODEV: `no interface ${typeof options.interface === 'number' ? `with index ${options.interface}` : `named ${JSON.stringify(options.interface)}`} in this network namespace` });
  }
  const named = place(program, ifname, mode);
  const method = options.method ?? (options.replace !== undefined && options.replace !== false ? 'netlink' : kernelHasXdpLinks() ? 'link' : 'netlink');
  if (method === 'link') return attachXdpLink(program, fd, ifindex, mode, named);
  return XdpNetlinkAttachment.attach(program, fd, ifindex, mode, options.replace ?? false, named);
}

/** An interface is a name or a positive index. */
export function checkInterfaceRef(ref: unknown, where: AttachPlace): void {
  if (typeof ref === 'string' || (typeof ref === 'number' && Number.isInteger(ref) && ref > 0)) return;
  throw badInput(where, `the interface must be a name or a positive index, got ${typeof ref === 'string' ? JSON.stringify(ref) : String(ref)}`);
}

/** The program `replace` expects attached must be loaded (its fd is what the kernel compares). */
function checkReplaced(replaced: { readonly fd: number; readonly name: string }, where: AttachPlace): void {
  let fd: number;
  try {
    fd = replaced.fd;
  } catch (e) {
    throw badInput(where, `the program to replace is not loaded (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!Number.isInteger(fd) || fd < 0) throw badInput(where, `the program to replace is not loaded (fd ${fd})`);
}

function attachXdpLink(program: AttachableProgram, fd: number, ifindex: number, mode: number, where: AttachPlace): Attachment {
  const { attr } = linkCreateAttr(fd, ifindex, AttachType.XDP, mode);
  const ret = native().bpf(BpfCmd.LinkCreate, attr);
  if (ret < 0) throw attachError(new SyscallError(-ret, 'BPF_LINK_CREATE'), where, XDP_HINTS);
  return new LinkAttachment('xdp', program.name, where.target, new FD(ret));
}

/**
 * An XDP program attached by netlink (RTM_SETLINK/IFLA_XDP). It outlives the process: detach() (or
 * `using`) removes it, and only if it is still the interface's program (XDP_FLAGS_REPLACE with its fd
 * as expected fd), so a program someone attached in its place stays.
 */
export class XdpNetlinkAttachment extends Attachment {
  readonly ifindex: number;
  /** The XDP_FLAGS_*_MODE it was attached with. */
  readonly mode: XdpAttachMode;
  #program: FD;
  #programName: string;

  private constructor(programName: string, target: string, ifindex: number, mode: XdpAttachMode, programFd: FD) {
    super('xdp', programName, target);
    this.ifindex = ifindex;
    this.mode = mode;
    this.#program = programFd;
    this.#programName = programName;
  }

  static attach(program: AttachableProgram, fd: number, ifindex: number, mode: XdpAttachMode, replace: NonNullable<XdpAttachParams['replace']>, where: AttachPlace): XdpNetlinkAttachment {
    let flags: number = mode;
    let expectedFd: number | undefined;
    if (replace === false) flags |= XDP_FLAGS.UPDATE_IF_NOEXIST;
    else if (replace !== true) {
      flags |= XDP_FLAGS.REPLACE;
      expectedFd = replace.fd;
    }
    // A duplicate of the program's fd: detach() names our program as the expected one even after
    // the Program itself was closed.
    const own = new FD(check(native().dup(fd), 'dup', describePlace(where)));
    try {
      setXdp(ifindex, fd, { flags, expectedFd });
    } catch (e) {
      own.close();
      const expected = typeof replace === 'object' ? `the program attached is not '${replace.name}', which \`replace\` expected` : XDP_HINTS.EEXIST;
      throw attachError(e, where, { ...XDP_HINTS, EEXIST: expected });
    }
    return new XdpNetlinkAttachment(program.name, where.target, ifindex, mode, own);
  }

  override info(): AttachmentInfo {
    return { ...super.info(), legacy: true };
  }

  /** Replaces our program on the interface with another, atomically, if ours is still the one attached. */
  override update(program: { readonly fd: number; readonly name: string }): void {
    if (this.detached) throw new Error(`${this.describe()}: detached, cannot update to '${program.name}'`);
    const replacement = new FD(check(native().dup(program.fd), 'dup', this.describe()));
    try {
      setXdp(this.ifindex, program.fd, { flags: this.mode | XDP_FLAGS.REPLACE, expectedFd: this.#program.fd });
    } catch (e) {
      replacement.close();
      throw attachError(e, { program: program.name, hook: 'xdp', target: this.target }, { ...XDP_HINTS, EEXIST: `the program attached is no longer '${this.#programName}'` });
    }
    this.#program.close();
    this.#program = replacement;
    this.#programName = program.name;
  }

  protected release(): void {
    try {
      setXdp(this.ifindex, -1, { flags: this.mode | XDP_FLAGS.REPLACE, expectedFd: this.#program.fd });
    } catch (e) {
      // EEXIST: another program replaced ours (it stays); ENODEV: the interface is gone, and ours with it.
      if (!(e instanceof NetlinkError && (e.code === 'EEXIST' || e.code === 'ENODEV'))) {
        throw attachError(e, { program: this.#programName, hook: 'xdp', target: this.target }, XDP_HINTS);
      }
    } finally {
      this.#program.close();
    }
  }
}

/** What XDP programs an interface has, by mode (IFLA_XDP of RTM_GETLINK); goebpf has no such call. */
export function queryXdpPrograms(iface: string | number): XdpState {
  return getInterface(iface).xdp;
}
