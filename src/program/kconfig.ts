// Values of an object's extern __kconfig variables, the way libbpf gives them: LINUX_KERNEL_VERSION
// from the running kernel's release, CONFIG_* from its configuration (/proc/config.gz, or
// /boot/config-RELEASE). The .kconfig map holds them, laid out by the core.
import { quoted } from '../sys/describe.js';
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import type { KconfigVariable } from '../elf/open.js';

/** Where values come from: the kernel's configuration (CONFIG_X -> "y", "m", "n", "\"text\"", "100") and release. */
export interface KconfigSource {
  config: ReadonlyMap<string, string> | undefined;
  release: string;
}

/** The running kernel's configuration, or undefined when neither /proc/config.gz nor /boot/config-RELEASE exists. */
export function readKernelConfig(kernelRelease = release()): Map<string, string> | undefined {
  const boot = `/boot/config-${kernelRelease}`;
  let text: string;
  if (existsSync('/proc/config.gz')) text = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  else if (existsSync(boot)) text = readFileSync(boot, 'utf8');
  else return undefined;
  return parseKernelConfig(text);
}

/** `CONFIG_X=value` lines, and `# CONFIG_X is not set` as "n". */
export function parseKernelConfig(text: string): Map<string, string> {
  const config = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (set) config.set(set[1]!, set[2]!);
    const unset = /^# (CONFIG_\w+) is not set$/.exec(line);
    if (unset) config.set(unset[1]!, 'n');
  }
  return config;
}

/** KERNEL_VERSION(a, b, c) of a release such as "6.18.44-fc" (c capped at 255, as the kernel does). */
export function kernelVersionCode(kernelRelease: string): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(kernelRelease);
  if (m === null) throw new Error(`cannot read a kernel version from release ${quoted(kernelRelease)}`);
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3] ?? 0), 255);
}

/**
 * The .kconfig map's value (`size` bytes): each variable's value at its offset. A variable with no
 * value is an error unless it is __weak (then 0). Throws an Error naming the variable and why.
 */
export function kconfigValue(variables: readonly KconfigVariable[], size: number, source: KconfigSource): Uint8Array {
  const out = new Uint8Array(size);
  for (const v of variables) {
    let raw: string | undefined;
    if (v.name === 'LINUX_KERNEL_VERSION') raw = String(kernelVersionCode(source.release));
    else if (v.name.startsWith('CONFIG_')) raw = source.config?.get(v.name);
    if (raw === undefined) {
      if (v.weak) continue;
      const why = !v.name.startsWith('CONFIG_') ? 'only CONFIG_ options and LINUX_KERNEL_VERSION have values'
        : source.config === undefined ? 'no kernel configuration was found (/proc/config.gz, /boot/config-RELEASE)' : 'the kernel configuration does not set it';
      throw new Error(`.kconfig variable ${quoted(v.name)} has no value: ${why}`);
    }
    writeValue(out.subarray(v.offset, v.offset + v.size), v, raw);
  }
  return out;
}

const TRISTATE: Record<string, number> = { n: 0, y: 1, m: 2 };

function writeValue(out: Uint8Array, v: KconfigVariable, raw: string): void {
  const bad = (): Error => new Error(`.kconfig variable ${quoted(v.name)} (${v.kind}, ${v.size} bytes) cannot hold the value ${raw}`);
  const letter = raw === 'y' || raw === 'n' || raw === 'm';
  if (letter) {
    if (v.kind === 'bool' && raw !== 'm') out[0] = raw === 'y' ? 1 : 0;
    else if (v.kind === 'tristate') new DataView(out.buffer, out.byteOffset).setUint32(0, TRISTATE[raw]!, true);
    else if (v.kind === 'char') out[0] = raw.charCodeAt(0);
    else throw bad();
    return;
  }
  if (raw.startsWith('"')) {
    if (v.kind !== 'char-array' || !raw.endsWith('"') || raw.length < 2) throw bad();
    const text = new TextEncoder().encode(raw.slice(1, -1));
    if (text.length >= v.size) throw new Error(`.kconfig variable ${quoted(v.name)} (${v.size} bytes) is too small for ${raw}`);
    out.set(text);
    return;
  }
  if (v.kind !== 'int' && v.kind !== 'char') throw bad();
  let value: bigint;
  try {
    value = BigInt(raw);
  } catch {
    throw bad();
  }
  const bits = BigInt(v.size * 8);
  const [min, max] = v.signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
  if (value < min || value > max) throw bad();
  const unsigned = BigInt.asUintN(Number(bits), value);
  for (let i = 0; i < v.size; i++) out[i] = Number((unsigned >> BigInt(8 * i)) & 0xffn);
}
