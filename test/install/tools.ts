// What the install tests need from outside Node (compilers, binutils, qemu, npm): a missing one skips
// the test with one printed line naming it and how to get it, or fails it under EBPF_TEST_STRICT=1.
import { spawnSync } from 'node:child_process';
import * as assert from 'uvu/assert';

/** Whether `command --version` (or `args`) runs. */
export function runs(command: string, args: string[] = ['--version']): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

/**
 * The reason the first missing tool makes a test skip, or undefined when all run. `tools` pairs a
 * command with the Debian package that has it.
 */
export function missingTool(...tools: Array<[command: string, pkg: string]>): string | undefined {
  for (const [command, pkg] of tools) if (!runs(command)) return `${command} is not installed (apt-get install -y ${pkg})`;
  return undefined;
}

/** Prints why `what` is skipped and returns true; under EBPF_TEST_STRICT=1 fails instead. */
export function skipped(what: string, reason: string | undefined): boolean {
  if (reason === undefined) return false;
  if (process.env.EBPF_TEST_STRICT === '1') assert.unreachable(`EBPF_TEST_STRICT=1 and ${what} cannot run: ${reason}`);
  console.log(`  skipped: ${what}: ${reason}`);
  return true;
}
