// Builds the native bridge (bridge/ebpf_bridge.cc) with node-gyp: the package's `install` script and
// `make bridge`. On install, a build that cannot happen (not Linux, no compiler, no Node headers) or a
// prebuilt addon in prebuilds/ (node-gyp-build layout) leaves the install successful: ebpf/inspect and
// the mocks work without the addon, and kernel calls then throw an error saying why.
// `--strict` (make bridge) fails on any build error and always builds from source.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
const prebuilt = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
if (!strict && existsSync(prebuilt) && readdirSync(prebuilt).some((f) => f.endsWith('.node'))) {
  console.log(`ebpf: using the prebuilt native bridge in ${prebuilt}`);
  process.exit(0);
}
const [command, ...args] = nodeGyp();
const result = spawnSync(command, [...args, 'rebuild'], { cwd: root, stdio: 'inherit' });
if (result.error) skip(`cannot run node-gyp (${result.error.message})`);
if (result.status !== 0) skip(`node-gyp exited with status ${result.status}`);
