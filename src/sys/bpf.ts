// bpf(2) with errors named after the command, owned file descriptors, and the object commands every
// kind of BPF object shares (pin/get, info, id iteration, fd by id).
import { check, Errno, SyscallError } from './errors.js';
import { ATTR, BpfCmd, bpfCmdName } from './generated.js';
import { INFO_NESTED, native, type Bytes } from './native.js';
import { byteLengthOf, u32Arg } from './integers.js';

/**
 * bpf(cmd, attr, offset1, buffer1, ...): the bridge's bpf with each (offset, buffer) pair patched into
 * attr as a pointer; returns the fd / 0, throws a SyscallError named after the command on failure.
 */
export function bpf(cmd: BpfCmd, attr: Uint8Array, ...pointers: Array<number | Bytes | null>): number {
  return check(native().bpf(cmd, attr, ...pointers), bpfCmdName(cmd));
}

const identityBytes = new Uint8Array(40);

/**
 * What an fd number refers to now: the file's device, inode and type, and for anonymous-inode files
 * (every BPF map shares one inode, every program another) the kernel object's type and id.
 * undefined when the fd is not open. Two different open files never have the same identity, except
 * two anonymous-inode files that are no BPF object (perf events): those cannot be told apart this way.
 */
export function fdIdentity(fd: number): string | undefined {
  if (native().fdIdentity(fd, identityBytes) < 0) return undefined;
  return Buffer.from(identityBytes.buffer, 0, identityBytes.length).toString('latin1');
}

function closeIfStill(fd: number, identity: string | undefined): boolean {
  if (identity !== undefined && fdIdentity(fd) !== identity) return false;
  native().close(fd);
  return true;
}

// Closes what a collected FD left open, unless the number now refers to another file (the fd was
// closed behind the FD's back and reused). Only a safety net: close() is the contract.
const leaked = new FinalizationRegistry<{ fd: number; identity: string | undefined }>(({ fd, identity }) => {
  closeIfStill(fd, identity);
});

/**
 * An owned file descriptor: closed by close() (idempotent), `using`, or, as a last resort, the GC.
 * It remembers what file it was made for: if the number was closed behind its back and now refers
 * to another file, close() leaves that file alone and throws (the GC's close skips it silently).
 */
export class FD {
  #fd: number;
  readonly #identity: string | undefined;

  constructor(fd: number) {
    if (!Number.isInteger(fd) || fd < 0) throw new TypeError(`${fd} is not a file descriptor (a non-negative integer)`);
    this.#fd = fd;
    this.#identity = fdIdentity(fd);
    leaked.register(this, { fd, identity: this.#identity }, this);
  }

  /** The descriptor number, or -1 once closed (the kernel then answers EBADF). */
  get fd(): number {
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** A second owned descriptor for the same kernel object (close-on-exec). */
  dup(): FD {
    if (this.#fd < 0) throw new SyscallError(Errno.EBADF, 'dup', 'the FD is closed');
    return new FD(check(native().dup(this.#fd), 'dup', `fd ${this.#fd}`));
  }

  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    leaked.unregister(this);
    if (this.#identity !== undefined && fdIdentity(fd) !== this.#identity) {
      throw new Error(`fd ${fd} was closed behind its owner's back${fdIdentity(fd) === undefined ? '' : ' and now refers to another file'}: not closing it`);
    }
    check(native().close(fd), 'close', `fd ${fd}`);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return this.#fd < 0 ? 'FD(closed)' : `FD(${this.#fd})`;
  }
}

type FdLike = number | FD;

function fdNumber(fd: FdLike): number {
  return typeof fd === 'number' ? fd : fd.fd;
}

const encoder = new TextEncoder();

function cString(text: string): Uint8Array {
  return encoder.encode(`${text}\0`);
}

/** Writes a u32 attr field, refusing (never wrapping) a value that is not one: `what` names it. */
function u32(attr: Uint8Array, field: { offset: number }, value: number, what: string): void {
  new DataView(attr.buffer, attr.byteOffset).setUint32(field.offset, u32Arg(value, what), true);
}

/**
 * The fields every BPF_LINK_CREATE attr shares: prog_fd, the target (target_fd and target_ifindex are
 * one union field: an fd or an ifindex), attach_type and flags. Returns the attr and a view for the
 * link type's own fields.
 */
export function linkCreateAttr(progFd: number, target: number, attachType: number, flags = 0): { attr: Uint8Array; view: DataView } {
  const F = ATTR.LINK_CREATE;
  const attr = new Uint8Array(F.SIZE);
  const view = new DataView(attr.buffer);
  view.setUint32(F.prog_fd.offset, progFd, true);
  view.setUint32(F.target_fd.offset, target, true);
  view.setUint32(F.attach_type.offset, attachType, true);
  view.setUint32(F.flags.offset, flags, true);
  return { attr, view };
}

/** BPF_OBJ_PIN: pins the object behind fd at path (on a bpffs mount). */
export function objPin(fd: FdLike, path: string): void {
  const attr = new Uint8Array(ATTR.OBJ.SIZE);
  u32(attr, ATTR.OBJ.bpf_fd, fdNumber(fd), 'BPF_OBJ_PIN: fd');
  bpf(BpfCmd.ObjPin, attr, ATTR.OBJ.pathname.offset, cString(path));
}

/** BPF_OBJ_GET: opens the object pinned at path. fileFlags: BPF_F_RDONLY / BPF_F_WRONLY. */
export function objGet(path: string, fileFlags = 0): FD {
  const attr = new Uint8Array(ATTR.OBJ.SIZE);
  u32(attr, ATTR.OBJ.file_flags, fileFlags, 'BPF_OBJ_GET: fileFlags');
  const ret = native().bpf(BpfCmd.ObjGet, attr, ATTR.OBJ.pathname.offset, cString(path));
  return new FD(check(ret, bpfCmdName(BpfCmd.ObjGet), path));
}

/**
 * BPF_OBJ_GET_INFO_BY_FD into info (a bpf_map_info / bpf_prog_info / bpf_link_info / bpf_btf_info
 * buffer, see MAP_INFO etc.); returns the info length the kernel filled in. `nested` are (offset in
 * info, buffer) pairs for the info struct's own pointer fields, whose counts the caller wrote in info.
 */
export function objGetInfoByFd(fd: FdLike, info: Uint8Array, ...nested: Array<number | Bytes | null>): number {
  const attr = new Uint8Array(ATTR.OBJ_GET_INFO_BY_FD.SIZE);
  u32(attr, ATTR.OBJ_GET_INFO_BY_FD.bpf_fd, fdNumber(fd), 'BPF_OBJ_GET_INFO_BY_FD: fd');
  u32(attr, ATTR.OBJ_GET_INFO_BY_FD.info_len, byteLengthOf(info, 'BPF_OBJ_GET_INFO_BY_FD: info'), 'BPF_OBJ_GET_INFO_BY_FD: info length');
  // (offset inside info, buffer) pairs: the info struct's own pointers (bpf_prog_info's map_ids...).
  const pairs = nested.map((v, i) => (i % 2 === 0 ? INFO_NESTED + (v as number) : v));
  const ret = native().bpf(BpfCmd.ObjGetInfoByFd, attr, ATTR.OBJ_GET_INFO_BY_FD.info.offset, info, ...pairs);
  check(ret, bpfCmdName(BpfCmd.ObjGetInfoByFd), `fd ${fdNumber(fd)}`);
  return new DataView(attr.buffer).getUint32(ATTR.OBJ_GET_INFO_BY_FD.info_len.offset, true);
}

/** The kind of BPF object whose ids a get-next-id / get-fd-by-id command walks. */
export type ObjectKind = 'map' | 'prog' | 'link' | 'btf';

const NEXT_ID: Record<ObjectKind, BpfCmd> = {
  map: BpfCmd.MapGetNextId,
  prog: BpfCmd.ProgGetNextId,
  link: BpfCmd.LinkGetNextId,
  btf: BpfCmd.BtfGetNextId,
};
const FD_BY_ID: Record<ObjectKind, BpfCmd> = {
  map: BpfCmd.MapGetFdById,
  prog: BpfCmd.ProgGetFdById,
  link: BpfCmd.LinkGetFdById,
  btf: BpfCmd.BtfGetFdById,
};

/** The next id after startId of a live object of this kind, or undefined after the last one. */
export function getNextId(kind: ObjectKind, startId: number): number | undefined {
  const attr = new Uint8Array(ATTR.GET_ID.SIZE);
  u32(attr, ATTR.GET_ID.start_id, startId, `${bpfCmdName(NEXT_ID[kind])}: start id`);
  const ret = native().bpf(NEXT_ID[kind], attr);
  if (ret === -Errno.ENOENT) return undefined;
  check(ret, bpfCmdName(NEXT_ID[kind]), `after id ${startId}`);
  return new DataView(attr.buffer).getUint32(ATTR.GET_ID.next_id.offset, true);
}

/** Every live id of this kind, in increasing order (objects created or freed meanwhile may show or not). */
export function* ids(kind: ObjectKind): Generator<number> {
  for (let id = getNextId(kind, 0); id !== undefined; id = getNextId(kind, id)) yield id;
}

/** Opens the object with this id (needs CAP_SYS_ADMIN). openFlags: BPF_F_RDONLY / BPF_F_WRONLY (maps). */
export function getFdById(kind: ObjectKind, id: number, openFlags = 0): FD {
  const attr = new Uint8Array(ATTR.GET_ID.SIZE);
  u32(attr, ATTR.GET_ID.start_id, id, `${bpfCmdName(FD_BY_ID[kind])}: id`);
  u32(attr, ATTR.GET_ID.open_flags, openFlags, `${bpfCmdName(FD_BY_ID[kind])}: openFlags`);
  return new FD(check(native().bpf(FD_BY_ID[kind], attr), bpfCmdName(FD_BY_ID[kind]), `${kind} id ${id}`));
}
