// Outside tools the disassembler tests compare against: present, or the test is skipped with a
// printed reason (a failure under EBPF_TEST_STRICT=1).
import { spawnSync } from 'node:child_process';

/** Undefined when `tool --version` runs; else why the test is skipped. Throws under EBPF_TEST_STRICT=1. */
export function missingTool(tool: string, args: string[] = ['--version']): string | undefined {
  const r = spawnSync(tool, args, { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  const reason = `${tool} is not installed`;
  if (process.env.EBPF_TEST_STRICT === '1') throw new Error(`EBPF_TEST_STRICT=1 but ${reason}`);
  return reason;
}
