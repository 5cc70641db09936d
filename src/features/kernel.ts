// The running kernel's release and build configuration, where the machine lets a process read them.
import { release } from 'node:os';
import { readKernelConfig } from '../program/kconfig.js';

/** A kernel release as major.minor.patch (the rest of `uname -r` kept in `release`). */
export interface KernelVersion {
  major: number;
  minor: number;
  patch: number;
  /** The whole `uname -r`, e.g. "6.18.44-fc-v1098". */
  release: string;
}

let version: KernelVersion | undefined;

/** The running kernel's version from `uname -r` (Ubuntu's /proc/version_signature is not needed: the
 *  numbers that gate BPF features are upstream's). */
export function kernelVersion(): KernelVersion {
  if (version === undefined) {
    const text = release();
    const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
    version = { major: Number(m?.[1] ?? 0), minor: Number(m?.[2] ?? 0), patch: Number(m?.[3] ?? 0), release: text };
  }
  return version;
}

/** Whether the running kernel is at least major.minor. */
export function kernelAtLeast(major: number, minor: number): boolean {
  const v = kernelVersion();
  return v.major > major || (v.major === major && v.minor >= minor);
}

let config: ReadonlyMap<string, string> | null | undefined;

/**
 * The kernel's build configuration as the .kconfig map reads it (CONFIG_X → "y", "m", "n" for "is not
 * set", a number, or a quoted string), read once per process from /proc/config.gz or
 * /boot/config-$(uname -r); undefined where neither can be read.
 */
export function kernelConfig(): ReadonlyMap<string, string> | undefined {
  if (config === undefined) config = readKernelConfig() ?? null;
  return config ?? undefined;
}
