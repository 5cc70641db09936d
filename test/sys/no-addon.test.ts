// An install where the addon was not built (npm 11 skipped the install script, no compiler, not
// Linux): importing `ebpf` and inspecting objects still work, and kernel calls throw an error saying
// why and how to build it. The package is copied without build/ to a temporary directory.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../src/sys/native.js';

/** Runs `body` (an ES module importing `ebpf` as INDEX) against a copy of the package without its addon. */
function withoutAddon(failureNote: string | undefined, body: string): string {
  const root = mkdtempSync(join(tmpdir(), 'ebpf-no-addon-'));
  try {
    cpSync(join(packageRoot, 'dist', 'src'), join(root, 'dist', 'src'), { recursive: true });
    cpSync(join(packageRoot, 'wasm'), join(root, 'wasm'), { recursive: true });
    cpSync(join(packageRoot, 'package.json'), join(root, 'package.json'));
    symlinkSync(join(packageRoot, 'node_modules'), join(root, 'node_modules'), 'dir');
    if (failureNote !== undefined) {
      mkdirSync(join(root, 'build'));
      writeFileSync(join(root, 'build', 'ebpf-bridge-not-built.txt'), `${failureNote}\n`);
    }
    const index = pathToFileURL(join(root, 'dist', 'src', 'index.js')).href;
    const script = body.replaceAll('INDEX', JSON.stringify(index));
    return execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packageRoot, encoding: 'utf8' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const probe = `
import { readFileSync } from 'node:fs';
import { EbpfMap, MapType, System, inspect } from INDEX;
const info = inspect(readFileSync('test/fixtures/xdp_goebpf.o'));
const errors = [];
for (const call of [
  () => EbpfMap.create({ type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 1 }),
  () => EbpfMap.fromPath('/sys/fs/bpf/x'),
  // Reading an object needs no kernel; loading a program does.
  () => new System().loadElf('test/fixtures/sections.o').getProgramByName('xdp_frags_pass').load(),
]) {
  try { call(); errors.push('no error'); } catch (e) { errors.push(e.message); }
}
console.log(JSON.stringify({ programs: info.programs.length, errors }));
`;

test('without the addon, inspect works and kernel calls say the addon is not built and how to build it', () => {
  const out = JSON.parse(withoutAddon(undefined, probe)) as { programs: number; errors: string[] };
  assert.is(out.programs, 6);
  assert.is(out.errors.length, 3);
  for (const message of out.errors) {
    assert.match(message, /^ebpf: kernel calls need Linux and the native bridge: the addon is not built in /);
    assert.match(message, /npm rebuild ebpf/);
  }
});

test('the reason a build at install failed is part of the error', () => {
  const out = JSON.parse(withoutAddon('no C++ compiler (g++ not found)', probe)) as { errors: string[] };
  assert.match(out.errors[0]!, /its build at install failed: no C\+\+ compiler \(g\+\+ not found\)/);
});

test.run();
