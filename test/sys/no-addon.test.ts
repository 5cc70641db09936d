// An install where the addon was not built (npm 11 skipped the install script, no compiler, not
// Linux): importing `ebpf` and inspecting objects still work, and kernel calls throw an error saying
// why and how to build it. The package is copied without build/ to a temporary directory.
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runInPackageCopy } from '../support/package-copy.js';

const probe = `
import { readFileSync } from 'node:fs';
import { EbpfMap, MapType, System, inspect } from INDEX;
const info = inspect(readFileSync('test/fixtures/xdp_goebpf.o'));
const errors = [];
for (const call of [
  () => EbpfMap.create({ type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 1 }),
  () => EbpfMap.fromPinned('/sys/fs/bpf/x'),
  // Reading an object needs no kernel; loading a program does.
  () => new System().loadElf('test/fixtures/sections.o').getProgramByName('xdp_frags_pass').load(),
]) {
  try { call(); errors.push('no error'); } catch (e) { errors.push(e.message); }
}
console.log(JSON.stringify({ programs: info.programs.length, errors }));
`;

test('without the addon, inspect works and kernel calls say the addon is not built and how to build it', () => {
  const out = JSON.parse(runInPackageCopy(probe)) as { programs: number; errors: string[] };
  assert.is(out.programs, 6);
  assert.is(out.errors.length, 3);
  for (const [i, message] of out.errors.entries()) {
    // The load names its object first, as every load error does.
    const prefix = i === 2 ? 'test/fixtures/sections.o: ' : '';
    assert.ok(message.startsWith(`${prefix}kernel calls need Linux and the native bridge: the addon is not built in `), message);
    assert.match(message, /npm rebuild ebpf/);
  }
});

test('the reason a build at install failed is part of the error', () => {
  const out = JSON.parse(runInPackageCopy(probe, { failureNote: 'no C++ compiler (g++ not found)' })) as { errors: string[] };
  assert.match(out.errors[0]!, /its build at install failed: no C\+\+ compiler \(g\+\+ not found\)/);
});

test('a prebuilt addon that does not load here is named, with how to build one from source', () => {
  if (process.platform !== 'linux' || existsSync('/etc/alpine-release')) return console.log('  skipped: node-gyp-build picks glibc linux prebuilds only on glibc Linux');
  const file = `prebuilds/linux-${process.arch}/ebpf_bridge.napi.uv1.glibc.node`;
  const out = JSON.parse(runInPackageCopy(probe, { add: { [file]: 'not an ELF object' } })) as { errors: string[] };
  assert.match(out.errors[0]!, /^kernel calls need Linux and the native bridge: the addon \S+\/prebuilds\/linux-\w+\/ebpf_bridge\.napi\.uv1\.glibc\.node does not load: /);
  assert.match(out.errors[0]!, /build it from source for this machine with `npm rebuild ebpf`/);
});

test.run();
