// Builds the native bridge (bridge/ebpf_bridge.cc) with node-gyp: the package's `install` script and
// `make bridge`. An installed package skips the build when it carries a prebuilt addon
// (scripts/prebuild.mjs) that node-gyp-build picks for this platform, arch and libc and that loads
// here; a git checkout always builds from source (its prebuilds/, left by `npm pack`, may be older than
// bridge/). A build that cannot happen (not Linux, no compiler, no Node headers) leaves the install
// successful: ebpf/inspect and the mocks work without the addon, and kernel calls then throw an error
// saying why. `--strict` (make bridge) fails on any build error and always builds from source.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');
// npm hides install-script output, so the reason is also kept where src/sys/native.ts reports it.
const failureNote = join(root, 'build', 'ebpf-bridge-not-built.txt');

function skip(reason) {
  mkdirSync(dirname(failureNote), { recursive: true });
  writeFileSync(failureNote, `${reason}\n`);
  console.warn(`ebpf: native bridge not built: ${reason}. Reading ELF objects (ebpf/inspect) and the mocks work; kernel calls will throw.`);
  process.exit(strict ? 1 : 0);
}

/** node-gyp: the one npm runs scripts with, else the copy bundled with the running npm, else PATH. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp) return [process.execPath, process.env.npm_config_node_gyp];
  const npmCli = process.env.npm_execpath;
  if (npmCli) {
    const bundled = join(dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(bundled)) return [process.execPath, bundled];
  }
  return ['node-gyp'];
}

rmSync(failureNote, { force: true });
if (process.platform !== 'linux') skip(`eBPF needs Linux, this is ${process.platform}`);
/** The prebuilt addon node-gyp-build would load here, if there is one and it loads; else why not. */
function fittingPrebuild() {
  if (!existsSync(join(root, 'prebuilds'))) return { why: 'the package has no prebuilds/' };
  const require = createRequire(import.meta.url);
  process.env.PREBUILDS_ONLY = '1'; // read by node-gyp-build when it loads: skip build/Release
  let file;
  try {
    file = require('node-gyp-build').path(root);
  } catch {
    return { why: `no prebuild for ${process.platform}-${process.arch} (${process.env.LIBC ?? 'this libc'})` };
  }
  try {
    require(file);
    return { file };
  } catch (e) {
    return { why: `the prebuild ${file} does not load: ${e instanceof Error ? e.message : String(e)}` };
  }
}

if (!strict && !existsSync(join(root, '.git'))) {
  const prebuild = fittingPrebuild();
  if (prebuild.file) {
    console.log(`ebpf: using the prebuilt native bridge ${prebuild.file}`);
    process.exit(0);
  }
  console.log(`ebpf: building the native bridge from source: ${prebuild.why}`);
}
const [command, ...args] = nodeGyp();
const result = spawnSync(command, [...args, 'rebuild'], { cwd: root, stdio: 'inherit' });
if (result.error) skip(`cannot run node-gyp (${result.error.message})`);
if (result.status !== 0) skip(`node-gyp exited with status ${result.status}`);
