// Shared by the attach tests: the fixture object, reading its counters, a cgroup made per run, and
// a small C binary built per run for uprobes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EbpfMap } from '../../src/map/map.js';

export const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/attach_trace.o');

/** A u64 counter of a map (0 when absent). */
export function counter(map: EbpfMap, key: number): bigint {
  try {
    return new DataView(map.lookup(key).buffer).getBigUint64(0, true);
  } catch {
    return 0n;
  }
}

/** Why a test needing an outside tool cannot run (undefined: it can); EBPF_TEST_STRICT=1 turns the reason into a failure. */
export function missingTool(tool: string): string | undefined {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return undefined;
  } catch {
    const reason = `${tool} is not installed`;
    if (process.env.EBPF_TEST_STRICT === '1') throw new Error(`EBPF_TEST_STRICT: ${reason}`);
    console.log(`  skipped: ${reason}`);
    return reason;
  }
}

/** The cgroup v2 mount where tests make their cgroups. */
export const CGROUP_ROOT = '/sys/fs/cgroup/unified';
/** Test cgroups are named `ebpf-test-<pid>-<n>`: the runner's leak check looks for its own. */
export const CGROUP_PREFIX = 'ebpf-test-';
let cgroupCounter = 0;

/** Runs fn with a fresh cgroup (removed afterwards, even on failure, once its processes are gone). */
export async function withCgroup<R>(fn: (path: string) => Promise<R> | R): Promise<R> {
  const path = join(CGROUP_ROOT, `${CGROUP_PREFIX}${process.pid}-${cgroupCounter++}`);
  mkdirSync(path);
  try {
    return await fn(path);
  } finally {
    for (let i = 0; i < 50 && existsSync(path); i++) {
      try {
        rmdirSync(path);
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
}

/** Builds (PIE unless options.pie is false) a small C program with `int add(int a, int b)` (noinline) that prints add(argv[1], argv[2]); fn gets its path. */
export async function withProbedBinary<R>(fn: (path: string) => Promise<R> | R, options: { pie?: boolean } = {}): Promise<R> {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-uprobe-'));
  try {
    writeFileSync(join(dir, 'probed.c'), `#include <stdio.h>
#include <stdlib.h>
__attribute__((noinline)) int add(int a, int b) { __asm__ volatile(""); return a + b; }
int main(int argc, char **argv) {
  if (argc < 3) return 2;
  printf("%d\\n", add(atoi(argv[1]), atoi(argv[2])));
  return 0;
}
`);
    execFileSync('cc', ['-O1', ...(options.pie === false ? ['-no-pie'] : []), '-o', join(dir, 'probed'), join(dir, 'probed.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
    return await fn(join(dir, 'probed'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
