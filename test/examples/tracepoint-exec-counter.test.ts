// The tracepoint exec counter example, started as a user runs it (`node dist/examples/.../main.js`,
// as root): it prints that it attached, counts the processes this test spawns, and on SIGINT
// detaches and exits cleanly.
import { execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { kernelSuite } from '../kernel/support.js';

const example = kernelSuite('examples: tracepoint exec counter');
const main = join(dirname(fileURLToPath(import.meta.url)), '../../examples/tracepoint-exec-counter/main.js');

example('counts the processes spawned while it runs, and detaches on Ctrl-C', async () => {
  const child = spawn(process.execPath, [main, '--interval', '0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = async (re: RegExp, ms: number): Promise<RegExpExecArray> => {
    const end = Date.now() + ms;
    for (;;) {
      const m = re.exec(out);
      if (m !== null) return m;
      if (Date.now() > end || child.exitCode !== null) throw new Error(`no ${re} in the example's output: ${out}${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await waitFor(/attached program 'count_exec' on tracepoint syscalls\/sys_enter_execve/, 10_000);
    for (let i = 0; i < 5; i++) execFileSync('/bin/true');
    await waitFor(/execs: ([5-9]|\d\d+)/, 5_000);
  } finally {
    child.kill('SIGINT');
  }
  assert.is(await exited, 0, err);
  assert.match(out, /detached\n$/);
  const final = /execs: (\d+)\ndetached/.exec(out);
  assert.ok(final !== null && Number(final[1]) >= 5, out);
});

example.run();
