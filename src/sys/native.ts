// The native bridge (bridge/ebpf_bridge.cc), loaded on first use so that importing ebpf never fails on
// an OS or install without it: only kernel calls need it, and they throw a clear error saying why.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Buffers the bridge reads or writes in place (TypedArray or DataView). */
export type Bytes = ArrayBufferView;

/** A bpf(2) call prepared by `bpfPrepare`, run by `bpfRun`. */
export interface PreparedBpf {
  readonly __preparedBpf: unique symbol;
}

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
   * bpf(2) on `attr`. Before the call, each (offset, buffer) pair writes the buffer's address (0 for
   * null) as a u64 at that byte offset of attr. Up to four pairs. Returns the fd / 0, or -errno.
   */
  bpf(cmd: number, attr: Uint8Array, ...pointers: Array<number | Bytes | null>): number;
  /**
   * The pointer fix-ups of `bpf` without the syscall, for an attr reused across calls (then
   * `bpf(cmd, attr)` alone skips the per-call fix-up cost). The addresses are valid only while the
   * buffers live and are not detached or transferred: use src/sys/bpf.ts's `setPointers`, which keeps
   * them alive with attr (an optimised loop drops references it no longer reads, and the GC then frees
   * the memory the kernel would write to).
   */
  setPointers(attr: Uint8Array, ...pointers: Array<number | Bytes | null>): void;
  /**
   * The fastest repeated call: resolves cmd and attr's address once (holding attr alive) for
   * `bpfRun`. attr's contents are read at each run, so fields can change between runs; attr must not
   * be detached or transferred while prepared. Set its pointers once with src/sys/bpf.ts's `setPointers`.
   */
  bpfPrepare(cmd: number, attr: Uint8Array): PreparedBpf;
  /**
   * bpf(2) with a prepared command and attr: the result, or -errno. A result of 0 (every element
   * command's success) comes back as undefined, which costs nothing to return where creating the
   * number costs a fifth of the call: read it as `bpfRun(p) ?? 0`.
   */
  bpfRun(prepared: PreparedBpf): number | undefined;
  close(fd: number): number;
  /** fcntl(F_DUPFD_CLOEXEC): a new fd for the same open file, or -errno. */
  dup(fd: number): number;
  perfEventOpen(attr: Bytes, pid: number, cpu: number, groupFd: number, flags: number): number;
  ioctl(fd: number, request: number, arg: number | Bytes): number;
  /** An ArrayBuffer over the mapping (owned by the addon: unmapped by munmap or when collected), or -errno. */
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
  storeReleaseU64(buf: ArrayBuffer, offset: number, value: bigint): void;
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
  if (why !== undefined) throw new Error(`ebpf: kernel calls need Linux and the native bridge: ${why}`);
  return loaded as unknown as NativeBridge;
}
