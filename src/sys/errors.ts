// Errors of failed syscalls, shaped like Node's own (errno, code, syscall), with libbpf-style context.
import { ERRNO_MESSAGES, ERRNO_NAMES } from './generated.js';

/**
 * Kernel-internal errnos (include/linux/errno.h, not in the UAPI headers) that reach user space
 * anyway: bpf(2) returns ENOTSUPP (524) for many unsupported features, and drivers and NFS leak others.
 */
const KERNEL_ERRNOS: Record<number, [code: string, message: string]> = {
  512: ['ERESTARTSYS', 'Restart the system call'],
  513: ['ERESTARTNOINTR', 'Restart the system call (not interruptible)'],
  514: ['ERESTARTNOHAND', 'Restart the system call if there is no signal handler'],
  515: ['ENOIOCTLCMD', 'No ioctl command'],
  516: ['ERESTART_RESTARTBLOCK', 'Restart by calling restart_syscall'],
  517: ['EPROBE_DEFER', 'Driver requests probe retry'],
  518: ['EOPENSTALE', 'Open found a stale dentry'],
  519: ['ENOPARAM', 'Parameter not supported'],
  521: ['EBADHANDLE', 'Illegal NFS file handle'],
  522: ['ENOTSYNC', 'Update synchronization mismatch'],
  523: ['EBADCOOKIE', 'Cookie is stale'],
  524: ['ENOTSUPP', 'Operation is not supported'],
  525: ['ETOOSMALL', 'Buffer or request is too small'],
  526: ['ESERVERFAULT', 'An untranslatable error occurred'],
  527: ['EBADTYPE', 'Type not supported by server'],
  528: ['EJUKEBOX', 'Request initiated, but will not complete before timeout'],
  529: ['EIOCBQUEUED', 'iocb queued, will get completion event'],
  530: ['ERECALLCONFLICT', 'Conflict with recalled state'],
  531: ['ENOGRACE', 'NFS file lock reclaim refused'],
};

const ERRNO_NUMBERS = new Map<string, number>([
  ...Object.entries(ERRNO_NAMES).map(([n, name]): [string, number] => [name, Number(n)]),
  ...Object.entries(KERNEL_ERRNOS).map(([n, [name]]): [string, number] => [name, Number(n)]),
]);

function errnoNumber(name: string): number {
  const n = ERRNO_NUMBERS.get(name);
  if (n === undefined) throw new Error(`no errno named ${name}`);
  return n;
}

/**
 * Linux errno numbers the library compares results with, from the one generated table (Linux's own,
 * which os.constants.errno is not on other OSes and which lacks the kernel-internal ENOTSUPP).
 */
export const Errno = {
  EPERM: errnoNumber('EPERM'),
  EACCES: errnoNumber('EACCES'),
  ENOENT: errnoNumber('ENOENT'),
  E2BIG: errnoNumber('E2BIG'),
  EBADF: errnoNumber('EBADF'),
  EAGAIN: errnoNumber('EAGAIN'),
  EFAULT: errnoNumber('EFAULT'),
  EEXIST: errnoNumber('EEXIST'),
  ENODEV: errnoNumber('ENODEV'),
  EINVAL: errnoNumber('EINVAL'),
  ENOSPC: errnoNumber('ENOSPC'),
  EOPNOTSUPP: errnoNumber('EOPNOTSUPP'),
  ENOTSUPP: errnoNumber('ENOTSUPP'),
} as const;

/**
 * The symbolic name of a Linux errno, e.g. 1 → 'EPERM', 77 → 'EBADFD' (or 'E<n>' when unknown). The
 * table is Linux's own (generated from <errno.h>), not os.constants.errno, which lacks many Linux
 * errnos and has other values on other OSes.
 */
export function errnoCode(errno: number): string {
  return ERRNO_NAMES[errno] ?? KERNEL_ERRNOS[errno]?.[0] ?? `E${errno}`;
}

/** The C library's description of an errno, e.g. 1 → 'Operation not permitted'. */
export function errnoMessage(errno: number): string {
  return ERRNO_MESSAGES[errno] ?? KERNEL_ERRNOS[errno]?.[1] ?? `Unknown error ${errno}`;
}

/** A syscall that failed: `BPF_MAP_CREATE: EPERM (Operation not permitted): <context>`. */
export class SyscallError extends Error {
  override name = 'SyscallError';
  /** Positive errno, e.g. 1. */
  readonly errno: number;
  /** e.g. 'EPERM'. */
  readonly code: string;
  /** e.g. 'BPF_MAP_CREATE', 'perf_event_open'. */
  readonly syscall: string;

  constructor(errno: number, syscall: string, context?: string) {
    const code = errnoCode(errno);
    super(`${syscall}: ${code} (${errnoMessage(errno)})${context ? `: ${context}` : ''}`);
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
  }
}

/**
 * Names the object a load was of first in an error's context, as libbpf does (`x.o: map 'counts': ...`;
 * a SyscallError keeps its `BPF_CMD: ECODE (message): ` head: `BPF_MAP_CREATE: EINVAL (...): x.o: map ...`).
 * Does nothing when the object is unknown, the error is no Error, or it names the object already.
 */
export function withObject(e: unknown, object: string | undefined): unknown {
  if (object === undefined || object === '' || !(e instanceof Error)) return e;
  if (e instanceof SyscallError) {
    const head = `${e.syscall}: ${e.code} (${errnoMessage(e.errno)})`;
    if (!e.message.startsWith(head) || e.message.startsWith(`${head}: ${object}`)) return e;
    const rest = e.message.slice(head.length);
    e.message = `${head}: ${object}${rest.startsWith(': ') ? rest : `${rest === '' ? '' : ':'}${rest}`}`;
  } else if (!e.message.startsWith(`${object}: `)) {
    e.message = `${object}: ${e.message}`;
  }
  return e;
}

/** The error for a positive errno (for callers that decide themselves whether a result failed). */
export function errnoError(errno: number, syscall: string, context?: string): SyscallError {
  return new SyscallError(errno, syscall, context);
}

/** Returns ret when it is ≥ 0; throws the SyscallError for -ret otherwise. */
export function check(ret: number, syscall: string, context?: string): number {
  if (ret < 0) throw new SyscallError(-ret, syscall, context);
  return ret;
}
