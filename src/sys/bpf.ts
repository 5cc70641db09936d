// bpf(2) with errors named after the command, owned file descriptors, and the object commands every
// kind of BPF object shares (pin/get, info, id iteration, fd by id).
import { check, Errno, SyscallError } from './errors.js';
import { ATTR, BpfCmd, bpfCmdName } from './generated.js';
import { native, type Bytes } from './native.js';

/**
 * bpf(cmd, attr, offset1, buffer1, ...): the bridge's bpf with each (offset, buffer) pair patched into
 * attr as a pointer; returns the fd / 0, throws a SyscallError named after the command on failure.
 */
export function bpf(cmd: BpfCmd, attr: Uint8Array, ...pointers: Array<number | Bytes | null>): number {
  return check(native().bpf(cmd, attr, ...pointers), bpfCmdName(cmd));
}

// Buffers whose addresses setPointers wrote into an attr, by offset, kept alive as long as that attr
// (a later setPointers at the same offset replaces the pointer and so the owner).
const pointerOwners = new WeakMap<Uint8Array, Map<number, Bytes | null>>();

/**
 * Writes the buffers' addresses into attr once (as bpf's pointer pairs do per call), for an attr that
 * is reused: then `native().bpf(cmd, attr)`, or a prepared `bpfRun`, is the cheapest kernel call. The
 * buffers are kept alive as long as attr is; they must not be detached or transferred meanwhile.
 */
export function setPointers(attr: Uint8Array, ...pointers: Array<number | Bytes | null>): void {
  native().setPointers(attr, ...pointers);
  let owners = pointerOwners.get(attr);
  if (owners === undefined) pointerOwners.set(attr, (owners = new Map()));
  for (let i = 0; i + 1 < pointers.length; i += 2) owners.set(pointers[i] as number, pointers[i + 1] as Bytes | null);
}

// Closes what a collected FD left open. Only a safety net: close() is the contract.
const leaked = new FinalizationRegistry<number>((fd) => {
  native().close(fd);
});

/** An owned file descriptor: closed by close() (idempotent), `using`, or, as a last resort, the GC. */
export class FD {
  #fd: number;

  constructor(fd: number) {
    if (!Number.isInteger(fd) || fd < 0) throw new TypeError(`FD: ${fd} is not a file descriptor`);
    this.#fd = fd;
    leaked.register(this, fd, this);
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

function u32(attr: Uint8Array, field: { offset: number }, value: number): void {
  new DataView(attr.buffer, attr.byteOffset).setUint32(field.offset, value, true);
}

/** BPF_OBJ_PIN: pins the object behind fd at path (on a bpffs mount). */
export function objPin(fd: FdLike, path: string): void {
  const attr = new Uint8Array(ATTR.OBJ.SIZE);
  u32(attr, ATTR.OBJ.bpf_fd, fdNumber(fd));
  bpf(BpfCmd.ObjPin, attr, ATTR.OBJ.pathname.offset, cString(path));
}

/** BPF_OBJ_GET: opens the object pinned at path. fileFlags: BPF_F_RDONLY / BPF_F_WRONLY. */
export function objGet(path: string, fileFlags = 0): FD {
  const attr = new Uint8Array(ATTR.OBJ.SIZE);
  u32(attr, ATTR.OBJ.file_flags, fileFlags);
  const ret = native().bpf(BpfCmd.ObjGet, attr, ATTR.OBJ.pathname.offset, cString(path));
  return new FD(check(ret, bpfCmdName(BpfCmd.ObjGet), path));
}

/**
 * BPF_OBJ_GET_INFO_BY_FD into info (a bpf_map_info / bpf_prog_info / bpf_link_info / bpf_btf_info
 * buffer, see MAP_INFO etc.); returns the info length the kernel filled in.
 */
export function objGetInfoByFd(fd: FdLike, info: Uint8Array): number {
  const attr = new Uint8Array(ATTR.OBJ_GET_INFO_BY_FD.SIZE);
  u32(attr, ATTR.OBJ_GET_INFO_BY_FD.bpf_fd, fdNumber(fd));
  u32(attr, ATTR.OBJ_GET_INFO_BY_FD.info_len, info.byteLength);
  const ret = native().bpf(BpfCmd.ObjGetInfoByFd, attr, ATTR.OBJ_GET_INFO_BY_FD.info.offset, info);
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
  u32(attr, ATTR.GET_ID.start_id, startId);
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
  u32(attr, ATTR.GET_ID.start_id, id);
  u32(attr, ATTR.GET_ID.open_flags, openFlags);
  return new FD(check(native().bpf(FD_BY_ID[kind], attr), bpfCmdName(FD_BY_ID[kind]), `${kind} id ${id}`));
}
