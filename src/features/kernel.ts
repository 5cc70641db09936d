// The running kernel's release and build configuration, where the machine lets a process read them.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';

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

/** Where kernel configs are found, in libbpf's order. */
const CONFIG_PATHS = () => [`/boot/config-${release()}`, '/proc/config.gz'];

/**
 * The kernel's build configuration (CONFIG_* → "y", "m", or a value without quotes; options that are
 * "not set" are absent), or undefined where neither /boot/config-$(uname -r) nor /proc/config.gz can
 * be read.
 */
export function kernelConfig(): ReadonlyMap<string, string> | undefined {
  if (config === undefined) {
    config = null;
    for (const path of CONFIG_PATHS()) {
      let text: string;
      try {
        const raw = readFileSync(path);
        text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('latin1');
      } catch {
        continue;
      }
      const entries = new Map<string, string>();
      for (const line of text.split('\n')) {
        const eq = line.indexOf('=');
        if (!line.startsWith('CONFIG_') || eq < 0) continue;
        entries.set(line.slice(0, eq), line.slice(eq + 1).replace(/^"(.*)"$/, '$1'));
      }
      config = entries;
      break;
    }
  }
  return config ?? undefined;
}
