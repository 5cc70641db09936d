// docs/API.md is what `npm run docs` writes from the TSDoc of every export, and every export has TSDoc.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../src/sys/native.js';

test('docs/API.md is current and every export of ebpf, ebpf/inspect and ebpf/mock has TSDoc', () => {
  const result = spawnSync(process.execPath, [join(packageRoot, 'scripts', 'gen-api.mjs'), '--check'], { encoding: 'utf8' });
  assert.is(result.status, 0, result.stderr);
});

test.run();
