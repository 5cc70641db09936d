// Errors of failed syscalls, shaped like Node's own (errno, code, syscall), with libbpf-style context.
import { constants } from 'node:os';
import { ERRNO_MESSAGES } from './generated.js';

/** Kernel-internal errnos that bpf(2) lets through to user space (include/linux/errno.h). */
const KERNEL_ERRNOS: Record<number, [code: string, message: string]> = {
  524: ['ENOTSUPP', 'Operation is not supported'],
};

/** Aliases Linux defines for another errno's value; the canonical name (EAGAIN, EOPNOTSUPP, EDEADLK) wins. */
const ALIASES = new Set(['EWOULDBLOCK', 'ENOTSUP', 'EDEADLOCK']);
const codes = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!ALIASES.has(name)) codes.set(value, name);
}

/** The symbolic name of an errno, e.g. 1 → 'EPERM' (or 'E<n>' when unknown). */
export function errnoCode(errno: number): string {
  return codes.get(errno) ?? KERNEL_ERRNOS[errno]?.[0] ?? `E${errno}`;
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

/** The error for a positive errno (for callers that decide themselves whether a result failed). */
export function errnoError(errno: number, syscall: string, context?: string): SyscallError {
  return new SyscallError(errno, syscall, context);
}

/** Returns ret when it is ≥ 0; throws the SyscallError for -ret otherwise. */
export function check(ret: number, syscall: string, context?: string): number {
  if (ret < 0) throw new SyscallError(-ret, syscall, context);
  return ret;
}
