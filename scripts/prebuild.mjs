#!/usr/bin/env node
// Builds the prebuilt native bridge the published package ships, one Node-API build per platform that
// serves every supported Node version (NAPI_VERSION from binding.gyp), where node-gyp-build looks:
//   prebuilds/linux-x64/ebpf_bridge.napi.uv1.glibc.node     (host or x86_64-linux-gnu-g++)
//   prebuilds/linux-arm64/ebpf_bridge.napi.uv1.glibc.node   (host or Debian's aarch64-linux-gnu-g++)
// `npm pack` and `npm publish` run it (prepack); `make prebuilds` too. The tags say what the file needs:
// Node-API (any Node version), libuv 1 (the bridge polls fds on Node's own loop), glibc (a musl Node,
// e.g. Alpine, skips these and builds from source at install).
//
//   node scripts/prebuild.mjs [--out DIR] [--arch x64,arm64] [--available]
// --out: the directory holding <platform>-<arch>/ (default prebuilds/ of this package).
// --available: build the targets whose compiler is installed and warn about the others (the default
//   for `npm pack` and a git dependency's install); otherwise, and always for `npm publish`, a target
//   that cannot be built is an error, so a published package has every prebuild.
//
// The flags, defines and sources are binding.gyp's (the source build at install uses the same), plus
// what makes the file portable and reproducible: libstdc++'s one newer symbol defined locally (see
// scripts/prebuild-compat.cc), no paths (-ffile-prefix-map), stripped, the build id a hash of the code.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** The platforms prebuilt, with the GNU triple of their cross compiler. */
export const TARGETS = {
  x64: { triple: 'x86_64-linux-gnu', apt: 'g++-x86-64-linux-gnu' },
  arm64: { triple: 'aarch64-linux-gnu', apt: 'g++-aarch64-linux-gnu' },
};

/** node-gyp-build's file name: Node-API, libuv major 1, glibc. */
export const PREBUILD_FILE = 'ebpf_bridge.napi.uv1.glibc.node';

function parseArgs(argv) {
  const options = { out: join(root, 'prebuilds'), arches: Object.keys(TARGETS), available: process.env.npm_command !== 'publish' && process.env.npm_lifecycle_event === 'prepack' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--out') options.out = value();
    else if (arg === '--arch') options.arches = value().split(',');
    else if (arg === '--available') options.available = true;
    else throw new Error(`unknown option ${arg} (see the comment at the top of scripts/prebuild.mjs)`);
  }
  for (const arch of options.arches) if (!(arch in TARGETS)) throw new Error(`no prebuild target for arch '${arch}' (known: ${Object.keys(TARGETS).join(', ')})`);
  return options;
}

/** binding.gyp's target (the file is a Python literal written as JSON, with # comments). */
function bindingTarget() {
  const text = readFileSync(join(root, 'binding.gyp'), 'utf8').replace(/^\s*#.*$/gm, '');
  const target = JSON.parse(text).targets.find((t) => t.target_name === 'ebpf_bridge');
  if (!target) throw new Error('binding.gyp has no ebpf_bridge target');
  return target;
}

/** Node's headers (node_api.h, uv.h): beside the running node, else node-gyp's download of them. */
function nodeHeaders() {
  const candidates = [
    join(dirname(process.execPath), '..', 'include', 'node'),
    join(process.env.HOME ?? '', '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
  ];
  const found = candidates.find((dir) => existsSync(join(dir, 'node_api.h')) && existsSync(join(dir, 'uv.h')));
  if (!found) throw new Error(`Node's headers (node_api.h, uv.h) are in none of ${candidates.join(', ')}: run \`npx node-gyp install\``);
  return found;
}

function works(command) {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The C++ compiler for `arch`: the cross compiler by triple, or the host's g++ on that arch. */
function compilerFor(arch) {
  const cross = `${TARGETS[arch].triple}-g++`;
  if (works(cross)) return cross;
  if (process.arch === arch && process.platform === 'linux' && works('g++')) return 'g++';
  return undefined;
}

function build(arch, options, target, headers) {
  const cxx = compilerFor(arch);
  if (!cxx) return `no C++ compiler for linux-${arch} (apt-get install -y ${TARGETS[arch].apt})`;
  const dir = join(options.out, `linux-${arch}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, PREBUILD_FILE);
  const partial = `${file}.partial`;
  const args = [
    '-shared', '-fPIC', '-pthread', ...(target.cflags_cc ?? []),
    ...target.defines.map((d) => `-D${d}`),
    `-I${headers}`, `-I${require('node-addon-api').include_dir}`,
    `-ffile-prefix-map=${root}/=`, `-ffile-prefix-map=${headers}=node`, '-fno-ident',
    '-s', '-Wl,--build-id=sha1', '-Wl,--hash-style=gnu', '-Wl,-z,noexecstack',
    '-o', partial,
    ...target.sources.map((s) => relative(root, join(root, s))), 'scripts/prebuild-compat.cc',
  ];
  const result = spawnSync(cxx, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    rmSync(partial, { force: true });
    throw new Error(`${cxx} failed building linux-${arch} (status ${result.status ?? result.signal})`);
  }
  renameSync(partial, file);
  console.error(`ebpf: built ${relative(process.cwd(), file)} with ${cxx}`);
  return undefined;
}

const options = parseArgs(process.argv.slice(2));
const target = bindingTarget();
const missing = [];
let headers;
try {
  headers = nodeHeaders();
} catch (e) {
  missing.push(e.message);
}
for (const arch of headers ? options.arches : []) {
  const why = build(arch, options, target, headers);
  if (why) missing.push(why);
}
if (missing.length) {
  for (const why of missing) console.warn(`ebpf: prebuild skipped: ${why}`);
  if (!options.available) {
    console.error('ebpf: every prebuild is needed (npm publish, or run without --available): install the missing compilers');
    process.exit(1);
  }
}
