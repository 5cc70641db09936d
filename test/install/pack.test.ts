// What a user gets from the published package: `npm pack` (which builds the prebuilds), then in a fresh
// project `npm install --ignore-scripts ./ebpf-*.tgz` (no install script, no compiler), and a script
// that imports ebpf, finds the prebuilt addon, and creates a map with a real kernel call.
// The tests run offline, so the two dependencies npm would fetch from the registry (node-addon-api,
// node-gyp-build) are packed from this repository's node_modules and installed beside the tarball.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../src/sys/native.js';
import { STRICT, findTool, kernelSkipReason, testNeeding } from '../kernel/support.js';
import { PREBUILD, compilerFor, hostArch } from './arches.js';

const hostPrebuild = `prebuilds/linux-${process.arch}/${PREBUILD}`;

/** npm as the test runner's npm runs it (npm_execpath), else from PATH. */
function npm(args: string[], cwd: string): string {
  const execpath = process.env.npm_execpath;
  const [command, prefix] = execpath?.endsWith('.js') ? [process.execPath, [execpath]] : ['npm', []];
  const result = spawnSync(command, [...prefix, ...args], { cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} in ${cwd} failed (${result.status ?? result.signal}):\n${result.stderr}`);
  return result.stdout;
}

const PROBE = `import { createRequire } from 'node:module';
import { EbpfMap, MapType } from 'ebpf';
const require = createRequire(import.meta.url);
const addon = require('node-gyp-build').path(new URL('./node_modules/ebpf/', import.meta.url).pathname);
const result = { addon };
if (process.argv[2] === 'kernel') {
  const map = EbpfMap.create({ name: 'pack_probe', type: MapType.Hash, keySize: 4, valueSize: 8, maxEntries: 4 });
  try {
    map.insert(7, 42n);
    result.value = Buffer.from(map.lookup(7)).toString('hex');
  } finally {
    map.close();
  }
}
console.log(JSON.stringify(result));
`;

const NAME = 'npm pack, then npm install --ignore-scripts of the tarball in a fresh project, creates a map';
if (process.platform !== 'linux' || hostArch === undefined) console.log(`  skipped "${NAME}": no prebuild is built for ${process.platform}-${process.arch}`);
else testNeeding(test, NAME, [compilerFor(hostArch), 'npm'], () => {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-pack-'));
  try {
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], packageRoot)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = packed[0]!.files.map((f) => f.path);
    assert.ok(files.includes(hostPrebuild), `the tarball has ${hostPrebuild}`);
    if (findTool(compilerFor('arm64'))) assert.ok(files.includes(`prebuilds/linux-arm64/${PREBUILD}`), 'the tarball has the linux-arm64 prebuild');
    for (const needed of ['dist/src/index.js', 'wasm/ebpf_core.wasm', 'bridge/ebpf_bridge.cc', 'binding.gyp', 'scripts/build-bridge.mjs']) assert.ok(files.includes(needed), `the tarball has ${needed}`);
    assert.not.ok(files.some((f) => f.startsWith('build/') || f.startsWith('dist/test/') || f.startsWith('test/')), 'no build/ or tests in the tarball');

    const deps = ['node-addon-api', 'node-gyp-build'].map((name) => {
      const out = JSON.parse(npm(['pack', '--json', '--pack-destination', dir, join(packageRoot, 'node_modules', name)], dir)) as Array<{ filename: string }>;
      return join(dir, out[0]!.filename);
    });
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'fresh', private: true, type: 'module' }));
    npm(['install', '--ignore-scripts', '--offline', '--no-audit', '--no-fund', join(dir, packed[0]!.filename), ...deps], project);
    const installed = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.ok(installed.dependencies.ebpf?.endsWith('.tgz'), 'ebpf installed from the tarball');
    writeFileSync(join(project, 'probe.mjs'), PROBE);

    const kernel = kernelSkipReason();
    const out = execFileSync(process.execPath, ['probe.mjs', kernel ? 'load-only' : 'kernel'], { cwd: project, encoding: 'utf8' });
    const result = JSON.parse(out) as { addon: string; value?: string };
    assert.is(result.addon, join(project, 'node_modules', 'ebpf', hostPrebuild));
    if (kernel && STRICT) assert.unreachable(`EBPF_TEST_STRICT=1: creating a map from the installed package cannot run: ${kernel}`);
    if (kernel) console.log(`  skipped creating a map from the installed package: ${kernel}`);
    else assert.is(result.value, '2a00000000000000');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
