// A copy of the package without its addon (build/ left out), as an install looks where npm 11 skipped
// the install script, there was no compiler, or the OS is not Linux: for tests of what still works.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../src/sys/native.js';

export interface PackageCopyOptions {
  /** Written as build/ebpf-bridge-not-built.txt, the install script's record of why the build failed. */
  failureNote?: string;
  /** Files of the copy (relative to its root) to delete before running, e.g. to prove they are not imported. */
  remove?: string[];
  /** Files to add to the copy (relative to its root), e.g. a prebuilt addon. */
  add?: Record<string, string | Uint8Array>;
}

/**
 * Runs `script`, an ES module saved at the copy's root (so `import 'ebpf/mock'` resolves through the
 * copy's package.json exports; INDEX is replaced by the URL of its main entry), with the repository as
 * working directory. Returns what it printed.
 */
export function runInPackageCopy(script: string, options: PackageCopyOptions = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'ebpf-no-addon-'));
  try {
    cpSync(join(packageRoot, 'dist', 'src'), join(root, 'dist', 'src'), { recursive: true });
    cpSync(join(packageRoot, 'wasm'), join(root, 'wasm'), { recursive: true });
    cpSync(join(packageRoot, 'package.json'), join(root, 'package.json'));
    symlinkSync(join(packageRoot, 'node_modules'), join(root, 'node_modules'), 'dir');
    if (options.failureNote !== undefined) {
      mkdirSync(join(root, 'build'));
      writeFileSync(join(root, 'build', 'ebpf-bridge-not-built.txt'), `${options.failureNote}\n`);
    }
    for (const file of options.remove ?? []) rmSync(join(root, file));
    for (const [file, contents] of Object.entries(options.add ?? {})) {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), contents);
    }
    const index = pathToFileURL(join(root, 'dist', 'src', 'index.js')).href;
    const probe = join(root, 'probe.mjs');
    writeFileSync(probe, script.replaceAll('INDEX', JSON.stringify(index)));
    return execFileSync(process.execPath, [probe], { cwd: packageRoot, encoding: 'utf8' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
