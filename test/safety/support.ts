// Shared by the memory-safety tests: buffers with guard bytes around them, lying views, detached
// buffers, fd counting, and running a risky script in a child process (a crash there is a failed
// test, not a dead test runner).
import { spawnSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const GUARD = 64;
const PATTERN = 0xa5;

/** A view of `size` bytes with GUARD bytes of a known pattern on each side, on one ArrayBuffer. */
export interface Guarded {
  view: Uint8Array;
  /** Whether every guard byte still holds the pattern (nothing was written outside the view). */
  intact(): boolean;
}

export function guarded(size: number): Guarded {
  const all = new Uint8Array(size + 2 * GUARD).fill(PATTERN);
  const view = all.subarray(GUARD, GUARD + size);
  view.fill(0);
  return {
    view,
    intact: () => all.subarray(0, GUARD).every((b) => b === PATTERN) && all.subarray(GUARD + size).every((b) => b === PATTERN),
  };
}

/** A Uint8Array whose byteLength and length getters lie (say `claimed`). */
export function lyingView(real: Uint8Array, claimed: number): Uint8Array {
  class Liar extends Uint8Array {
    override get byteLength(): number {
      return claimed;
    }
    override get length(): number {
      return claimed;
    }
  }
  return new Liar(real.buffer as ArrayBuffer, real.byteOffset, real.byteLength);
}

/** A Uint8Array whose ArrayBuffer has been transferred away (detached: byteLength 0). */
export function detachedView(size: number): Uint8Array {
  const view = new Uint8Array(size);
  structuredClone(view.buffer, { transfer: [view.buffer] });
  return view;
}

/** Open fds of this process that hold kernel objects this library makes (BPF objects, perf events). */
export function openFds(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (/^anon_inode:(bpf|btf|\[perf_event\])/.test(readlinkSync(`/proc/self/fd/${fd}`))) n++;
    } catch {
      // closed meanwhile (the readdir's own fd)
    }
  }
  return n;
}

const here = dirname(fileURLToPath(import.meta.url));
/** dist/src as a file URL prefix, for scripts run in a child process. */
export const srcUrl = pathToFileURL(join(here, '..', '..', 'src')).href;

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs an ES module script in a fresh node (its imports may use `${srcUrl}/...`). */
export function isolated(script: string, timeoutMs = 20_000): ChildResult {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a compiled module of this directory (dist/test/safety/NAME.js) with arguments in a fresh node. */
export function isolatedModule(name: string, args: string[], timeoutMs = 20_000): ChildResult {
  const r = spawnSync(process.execPath, [join(here, `${name}.js`), ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** "exit 0" or how the child ended, with its stderr: for assertion messages. */
export function describeChild(r: ChildResult): string {
  return `${r.signal !== null ? `killed by ${r.signal}` : `exit ${r.status}`}\n${r.stderr}${r.stdout}`;
}
