// scripts/prebuild.mjs: the prebuilt addons the package ships. Each is an ELF shared object for its
// architecture exporting Node-API's module entry points with binding.gyp's NAPI_VERSION, needs no
// newer glibc/libstdc++ than Node 20's oldest supported distributions have, and rebuilds byte for byte.
// linux-x64 is loaded by this Node; linux-arm64 (cross-compiled) runs its module init under qemu-user.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../src/sys/native.js';
import { findTool, testNeeding } from '../kernel/support.js';
import { ARCHES, PREBUILD as FILE, compilerFor, hostArch, type Arch } from './arches.js';

/** Oldest versions a prebuild may need: glibc of Node 20's floor (2.28), libstdc++ of GCC 5. */
const MAX_NEEDED = { GLIBC: '2.28', GLIBCXX: '3.4.21' };

const napiVersion = Number(/"NAPI_VERSION=(\d+)"/.exec(readFileSync(join(packageRoot, 'binding.gyp'), 'utf8'))?.[1]);

const dirs: string[] = [];
function prebuild(arches: Arch[]): string {
  const out = mkdtempSync(join(tmpdir(), 'ebpf-prebuild-'));
  dirs.push(out);
  execFileSync(process.execPath, [join(packageRoot, 'scripts', 'prebuild.mjs'), '--out', out, '--arch', arches.join(',')], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

const buildable = (Object.keys(ARCHES) as Arch[]).filter((arch) => findTool(compilerFor(arch)) !== undefined);
let built: string | undefined;
const builtFile = (arch: Arch): string => join((built ??= prebuild(buildable)), `linux-${arch}`, FILE);

function compare(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** Defined global functions and the symbol versions needed, from readelf. */
function dynamic(file: string): { exports: Set<string>; undefinedNames: string[]; needs: string[] } {
  const syms = execFileSync('readelf', ['--dyn-syms', '-W', file], { encoding: 'utf8' });
  const exports = new Set<string>();
  const undefinedNames: string[] = [];
  for (const line of syms.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || !/^\d+:$/.test(f[0]!)) continue;
    if (f[6] === 'UND') {
      if (f[7] && !f[7].includes('@')) undefinedNames.push(f[7]);
    } else if (f[3] === 'FUNC' && f[4] === 'GLOBAL' && f[5] === 'DEFAULT') exports.add(f[7]!);
  }
  const needs = [...execFileSync('readelf', ['-V', '-W', file], { encoding: 'utf8' }).matchAll(/Name: (GLIBC(?:XX)?_[\d.]+)/g)].map((m) => m[1]!);
  return { exports, undefinedNames, needs };
}

for (const arch of Object.keys(ARCHES) as Arch[]) {
  testNeeding(test, `linux-${arch}: an ELF64 ${arch} shared object exporting Node-API ${napiVersion}'s entry points, needing glibc <= ${MAX_NEEDED.GLIBC}`, [compilerFor(arch), 'readelf'], () => {
    const bytes = readFileSync(builtFile(arch));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    assert.equal([...bytes.subarray(0, 6)], [0x7f, 0x45, 0x4c, 0x46, 2, 1], 'ELF64 little-endian');
    assert.is(view.getUint16(16, true), 3, 'ET_DYN');
    assert.is(view.getUint16(18, true), ARCHES[arch].machine, 'e_machine');
    const { exports, needs } = dynamic(builtFile(arch));
    assert.ok(exports.has('napi_register_module_v1'), 'exports napi_register_module_v1');
    assert.ok(exports.has('node_api_module_get_api_version_v1'), 'exports node_api_module_get_api_version_v1');
    for (const need of needs) {
      const [lib, version] = need.split('_') as ['GLIBC' | 'GLIBCXX', string];
      assert.ok(compare(version, MAX_NEEDED[lib]) <= 0, `${need} is newer than ${lib}_${MAX_NEEDED[lib]}`);
    }
  });
}

testNeeding(test, 'a second build gives the same bytes', [compilerFor(hostArch ?? 'x64')], () => {
  const again = prebuild(buildable);
  for (const arch of buildable) assert.ok(readFileSync(join(again, `linux-${arch}`, FILE)).equals(readFileSync(builtFile(arch))), `linux-${arch} differs between two builds`);
});

/** The addon's exports, as this Node loads it (linux-x64 on an x64 host). */
function hostExports(): string[] | undefined {
  if (hostArch === undefined || findTool(compilerFor(hostArch)) === undefined) return undefined;
  const script = `process.stdout.write(JSON.stringify(Object.keys(require(${JSON.stringify(builtFile(hostArch))}))))`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
}

if (hostArch === undefined || process.platform !== 'linux') console.log(`  skipped loading a prebuild: none is built for ${process.platform}-${process.arch}`);
else {
  testNeeding(test, `linux-${hostArch}: this Node loads the prebuild`, [compilerFor(hostArch)], () => {
    const keys = hostExports()!;
    for (const name of ['bpf', 'bpfRun', 'close', 'mmap', 'poll', 'loadAcquireU64']) assert.ok(keys.includes(name), `exports ${name}`);
  });
}

// A host for the arm64 addon under qemu-user: dlopen it, ask its Node-API version, run its module init
// with the few Node-API calls that init makes (every other one aborts, naming itself), print the
// property names it sets on exports.
const HOST = `#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
typedef int napi_status;
typedef void *napi_env;
typedef void *napi_value;
static long handles = 0x1000;
static int names = 0;
napi_status napi_create_function(napi_env e, const char *n, size_t l, void *cb, void *d, napi_value *r) { *r = (napi_value)(handles += 16); return 0; }
napi_status napi_set_named_property(napi_env e, napi_value o, const char *name, napi_value v) { printf("%s\\"%s\\"", names++ ? "," : "", name); return 0; }
napi_status napi_add_finalizer(napi_env e, napi_value o, void *d, void *cb, void *h, void **r) { if (r) *r = NULL; return 0; }
napi_status napi_set_instance_data(napi_env e, void *d, void *cb, void *h) { return 0; }
napi_status napi_is_exception_pending(napi_env e, bool *r) { *r = false; return 0; }
STUBS
int main(int argc, char **argv) {
  void *addon = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!addon) { fprintf(stderr, "%s\\n", dlerror()); return 1; }
  int (*version)(void) = (int (*)(void))dlsym(addon, "node_api_module_get_api_version_v1");
  napi_value (*init)(napi_env, napi_value) = (napi_value (*)(napi_env, napi_value))dlsym(addon, "napi_register_module_v1");
  if (!version || !init) { fprintf(stderr, "entry points missing\\n"); return 1; }
  printf("{\\"napiVersion\\": %d, \\"exports\\": [", version());
  napi_value exports = (napi_value)0x20;
  napi_value returned = init((napi_env)0x10, exports);
  printf("], \\"returnsExports\\": %s}\\n", returned == exports ? "true" : "false");
  return 0;
}
`;
const HANDLED = ['napi_create_function', 'napi_set_named_property', 'napi_add_finalizer', 'napi_set_instance_data', 'napi_is_exception_pending'];

testNeeding(test, 'linux-arm64 under qemu-user: Node-API version and module init', [compilerFor('arm64'), 'readelf', 'aarch64-linux-gnu-gcc', 'qemu-aarch64'], () => {
  const addon = builtFile('arm64');
  const stubs = dynamic(addon).undefinedNames.filter((n) => /^(napi|node_api|uv)_/.test(n) && !HANDLED.includes(n))
    .map((n) => `void ${n}(void) { fprintf(stderr, "unexpected call: ${n}\\n"); abort(); }`).join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-qemu-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'host.c'), HOST.replace('STUBS', stubs));
  execFileSync('aarch64-linux-gnu-gcc', ['-O1', '-w', '-rdynamic', '-o', join(dir, 'host'), join(dir, 'host.c'), '-ldl'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const run = spawnSync('qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', join(dir, 'host'), addon], { encoding: 'utf8', timeout: 30_000 });
  assert.is(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout) as { napiVersion: number; exports: string[]; returnsExports: boolean };
  assert.is(result.napiVersion, napiVersion);
  assert.ok(result.returnsExports, 'init returns exports');
  const host = hostExports();
  if (host) assert.equal(result.exports, host, 'the same exports as the linux-x64 build loaded by Node');
  else assert.ok(result.exports.includes('bpf') && result.exports.length > 10, result.exports.join(', '));
});

test.after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test.run();
