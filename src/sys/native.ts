// The native bridge (bridge/ebpf_bridge.cc), loaded on first use so that importing ebpf never fails on
// an OS or install without it: only kernel calls need it, and they throw a clear error saying why.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Buffers the bridge reads or writes in place (TypedArray or DataView). */
export type Bytes = ArrayBufferView;

/** bpf(BPF_OBJ_GET_INFO_BY_FD)'s pointer offsets at or past this one go inside the info buffer. */
export const INFO_NESTED = 0x10000;

/** A bpf(2) call prepared by `bpfPrepare`, run by `bpfRun`. */
export interface PreparedBpf {
  readonly __preparedBpf: unique symbol;
}

/** uv_poll's readable event, for `poll`. */
export const UV_READABLE = 1;

/** A uv_poll watch on the calling thread's own event loop; pass to `pollStop`. */
export interface PollHandle {
  readonly __pollHandle: unique symbol;
}

/**
 * The addon's calls. Each call that reaches the kernel returns its result or -errno (never throws);
 * TypeError/RangeError are thrown only for programmer errors: a missing or wrong-typed argument, a
 * number that is not an integer (NaN, 1.5) or out of range for its C type, an offset outside a buffer.
 */
export interface NativeBridge {
  /**
   * bpf(2) on `attr`. Each (offset, buffer) pair (up to six) puts the buffer's address (0 for null)
   * in the u64 at that offset of attr, after checking it against the command's rule table in the
   * bridge: every size the kernel reads from attr for that pointer (insn_cnt * 8, log_size, batch
   * count * key size, info_len, ...) must fit the buffer's real length, else a RangeError. A pointer
   * field of the command that is not given is zeroed; an offset that is no pointer field of the
   * command is a TypeError. For BPF_OBJ_GET_INFO_BY_FD, `INFO_NESTED + offset` puts a pointer inside
   * the info buffer (bpf_prog_info's map_ids, ...), checked the same way. Detached and resizable
   * buffers are refused; attr must not be shared. Returns the fd / 0, or -errno.
   */
  bpf(cmd: number, attr: Uint8Array, ...pointers: Array<number | Bytes | null>): number;
  /**
   * A zeroed, 8-aligned ArrayBuffer of `size` bytes whose memory the bridge owns: freed only when
   * the ArrayBuffer and every prepared call using it are gone (detaching or transferring it frees
   * nothing a prepared call still writes to). Prepared calls take their buffers only from here.
   */
  scratch(size: number): ArrayBuffer;
  /**
   * A map element command (lookup, update, delete, get-next-key, lookup-and-delete) checked once
   * for `bpfRun`: attr gives the map fd, which the bridge duplicates privately and whose key/value
   * sizes it checks the (offset, buffer) pairs against; the buffers must be views on one `scratch`
   * ArrayBuffer. attr is not kept. Given a prepared call instead of attr, the new one shares that
   * call's dup (one dup per map, closed with the last call released). Release with `bpfRelease`.
   * Returns -errno when the fd cannot be duplicated (-EBADF: the given prepared call is released).
   */
  bpfPrepare(cmd: number, attrOrPrepared: Uint8Array | PreparedBpf, ...pointers: Array<number | Bytes | null>): PreparedBpf | number;
  /**
   * bpf(2) with a prepared command and the element `flags` (default 0): the result, or -errno
   * (-EBADF once released). A result of 0 (every element command's success) comes back as
   * undefined, which costs nothing to return where creating the number costs a fifth of the call:
   * read it as `bpfRun(p) ?? 0`.
   */
  bpfRun(prepared: PreparedBpf, flags?: number): number | undefined;
  /** Drops the prepared call's share of the map fd dup and its scratch now (idempotent). */
  bpfRelease(prepared: PreparedBpf): void;
  close(fd: number): number;
  /**
   * What fd refers to now, as 40 bytes written to out: st_dev, st_ino, st_mode (u64 each), then for
   * anonymous-inode files the first 16 bytes of BPF_OBJ_GET_INFO_BY_FD (a BPF object's type and id).
   * 0, or -errno when fd is not open.
   */
  fdIdentity(fd: number, out: Uint8Array): number;
  /** fcntl(F_DUPFD_CLOEXEC): a new fd for the same open file, or -errno. */
  dup(fd: number): number;
  /**
   * perf_event_open(2); attr.size (0: 64) must fit attr's real length. `config1String`, a
   * NUL-terminated string, has its address written at config1 (the kprobe/uprobe PMUs' function name
   * or path) by the bridge.
   */
  perfEventOpen(attr: Bytes, pid: number, cpu: number, groupFd: number, flags: number, config1String?: Bytes | null): number;
  /**
   * ioctl(2). A number for requests that take a value; a buffer at least as large as the request
   * accesses (its _IOC_SIZE, or the bridge's table: FIONREAD 4, perf's MODIFY_ATTRIBUTES attr.size...)
   * for requests that take a pointer. Anything else is a TypeError/RangeError.
   */
  ioctl(fd: number, request: number, arg: number | Bytes): number;
  /**
   * An ArrayBuffer over the mapping (owned by the addon: unmapped by munmap or when collected), or
   * -errno. A range past the end of a regular file is a RangeError (it would SIGBUS when touched).
   */
  mmap(fd: number, length: number, prot: number, flags: number, offset: number): ArrayBuffer | number;
  /** Unmaps now and detaches the buffer (byteLength becomes 0). -EINVAL if it is not a live mapping. */
  munmap(buffer: ArrayBuffer): number;
  /** socket(2); SOCK_CLOEXEC is always added. */
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, sockaddr: Bytes): number;
  /** Bytes sent, or -errno. */
  sendmsg(fd: number, data: Bytes, sockaddr?: Bytes | null): number;
  /** Bytes received, or -errno. Blocks unless flags has MSG_DONTWAIT or the socket is non-blocking. */
  recvmsg(fd: number, buf: Bytes, flags: number): number;
  setsockopt(fd: number, level: number, optname: number, value: Bytes): number;
  /** The option's length, or -errno. */
  getsockopt(fd: number, level: number, optname: number, out: Bytes): number;
  /**
   * Watches fd on this thread's loop (main thread or worker): callback(status, events) with libuv's
   * status (0 or -errno) and UV_READABLE(1) / UV_WRITABLE(2) / UV_DISCONNECT(4) / UV_PRIORITIZED(8).
   * Keeps the loop alive until `pollStop`. Returns -errno (from uv_poll_init/start) on failure.
   */
  poll(fd: number, events: number, callback: (status: number, events: number) => void): PollHandle | number;
  pollStop(handle: PollHandle): void;
  loadAcquireU64(buf: ArrayBuffer, offset: number): bigint;
  /** value: a bigint, or an integer number up to 2^53 - 1 (no BigInt made for a ring position). */
  storeReleaseU64(buf: ArrayBuffer, offset: number, value: bigint | number): void;
  loadAcquireU32(buf: ArrayBuffer, offset: number): number;
  storeReleaseU32(buf: ArrayBuffer, offset: number, value: number): void;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let loaded: NativeBridge | undefined;
let failure: string | undefined;

function load(): NativeBridge {
  if (process.platform !== 'linux') throw new Error(`eBPF needs Linux, this is ${process.platform}`);
  const require = createRequire(import.meta.url);
  // node-gyp-build finds build/Release, build/Debug, then prebuilds/<platform>-<arch>/.
  const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
  let path: string;
  try {
    path = nodeGypBuild.path(root);
  } catch {
    let why = 'no build/Release/ebpf_bridge.node nor prebuilds/: npm 11 runs a dependency\'s install script only when allowed';
    try {
      why = `its build at install failed: ${readFileSync(join(root, 'build', 'ebpf-bridge-not-built.txt'), 'utf8').trim()}`;
    } catch {
      // No record: the install script did not run (npm 11 runs a dependency's only when allowed).
    }
    throw new Error(`the addon is not built in ${root} (${why}); build it with \`npm rebuild ebpf\` (in this repository: \`npm run build:bridge\`)`);
  }
  let addon: NativeBridge;
  try {
    addon = require(path) as NativeBridge;
  } catch (e) {
    // A prebuild can need a newer C library than this machine's; a source build fits it.
    const why = e instanceof Error ? e.message : String(e);
    const hint = path.includes('/prebuilds/') ? '; build it from source for this machine with `npm rebuild ebpf`' : '';
    throw new Error(`the addon ${path} does not load: ${why}${hint}`);
  }
  // A copy with fast properties: the addon's exports object is in dictionary mode (22 properties
  // added one by one), where every `native().bpfRun` is a hash lookup V8 cannot optimise away.
  return { ...addon };
}

/** Where the package root (with build/ and prebuilds/) is: for error messages and tests. */
export const packageRoot = root;

/** Why the bridge cannot be loaded, or undefined when it can (loads it). */
export function nativeUnavailableReason(): string | undefined {
  if (loaded === undefined && failure === undefined) {
    try {
      loaded = load();
    } catch (e) {
      failure = e instanceof Error ? e.message : String(e);
    }
  }
  return failure;
}

/** The bridge; throws "ebpf: kernel calls need Linux and the native bridge: <why>" where it cannot load. */
export function native(): NativeBridge {
  if (loaded !== undefined) return loaded;
  const why = nativeUnavailableReason();
  if (why !== undefined) throw new Error(`kernel calls need Linux and the native bridge: ${why}`);
  return loaded as unknown as NativeBridge;
}
