// The verifier gives up with EAGAIN when a signal is pending; loads retry as libbpf's do, so a
// process under a profiler (SIGPROF every millisecond) loads every program every time.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { kernelSuite, withBpffs } from '../kernel/support.js';

const test = kernelSuite('program loads under signals');
const child = fileURLToPath(new URL('./load-under-signals.js', import.meta.url));
const object = fileURLToPath(new URL('../../../test/fixtures/maps_btf.o', import.meta.url));

test('300 loads of maps_btf.o under --cpu-prof all succeed', async () => {
  const profiles = mkdtempSync(join(tmpdir(), 'ebpf-prof-'));
  try {
    await withBpffs((pinRoot) => {
      const out = execFileSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profiles}`, child, object, '300', pinRoot], { encoding: 'utf8' });
      const result = JSON.parse(out) as { loads: number; error?: string };
      assert.is(result.error, undefined);
      assert.is(result.loads, 300 * 5); // its five programs
    });
  } finally {
    rmSync(profiles, { recursive: true, force: true });
  }
});

test.run();
