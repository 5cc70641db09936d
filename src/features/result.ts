// What a feature probe answers, and the per-process cache every probe goes through: a kernel does not
// change its features while a process runs, and some probes cost a program load.
import { SyscallError } from '../sys/errors.js';

/** Whether the running kernel has a feature, and if not, why (the probe's own evidence). */
export interface FeatureResult {
  /** e.g. "map type RingBuf", "helper bpf_ringbuf_output in Kprobe programs". */
  readonly feature: string;
  readonly supported: boolean;
  /**
   * Why not (e.g. "BPF_MAP_CREATE: EPERM (Operation not permitted)", "kernel 6.1 < 6.6"), or how a
   * support was inferred where the kernel could not be asked directly.
   */
  readonly reason?: string;
}

/** A feature the kernel lacks or forbids, thrown by `requireFeature`. */
export class NotSupportedError extends Error {
  override name = 'NotSupportedError';
  readonly feature: string;

  constructor(result: FeatureResult) {
    super(`${result.feature} is not supported by this kernel${result.reason ? `: ${result.reason}` : ''}`);
    this.feature = result.feature;
  }
}

/** Throws a NotSupportedError for a result that is not supported; returns nothing otherwise. */
export function requireFeature(result: FeatureResult): void {
  if (!result.supported) throw new NotSupportedError(result);
}

const cache = new Map<string, FeatureResult>();

/** The cached result for key, computing it once per process with probe. */
export function cached(key: string, probe: () => FeatureResult): FeatureResult {
  let result = cache.get(key);
  if (result === undefined) {
    result = Object.freeze(probe());
    cache.set(key, result);
  }
  return result;
}

export function supported(feature: string, reason?: string): FeatureResult {
  return reason === undefined ? { feature, supported: true } : { feature, supported: true, reason };
}

export function unsupported(feature: string, reason: string): FeatureResult {
  return { feature, supported: false, reason };
}

/**
 * The result of a probe that tried something: a SyscallError whose errno is one of `notSupported`
 * means the kernel lacks the feature (reason: the error); any other error is rethrown, since it says
 * the probe itself is wrong, not the kernel.
 */
export function fromError(feature: string, e: unknown, notSupported: readonly string[]): FeatureResult {
  if (e instanceof SyscallError && notSupported.includes(e.code)) return unsupported(feature, e.message.split('\n')[0] ?? e.message);
  throw e;
}

/** errnos by which the kernel says "no such thing here" or "not allowed here". */
export const REFUSALS = ['EINVAL', 'E2BIG', 'EOPNOTSUPP', 'ENOTSUPP', 'EPERM', 'EACCES', 'ENOENT', 'ENODEV'] as const;
