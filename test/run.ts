// Runs every compiled `*.test.js` under dist/test with uvu and ends with the plain
// "N passed, N failed" line CI reads. `node dist/test/run.js PATTERN...` runs only files matching a pattern.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from 'uvu/run';
import { newSince, ownedResources } from './support/leaks.js';

const here = dirname(fileURLToPath(import.meta.url));

function findTests(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (entry.endsWith('.test.js')) found.push(path);
  }
  return found;
}

const patterns = process.argv.slice(2);
const files = findTests(here).filter(
  (file) => patterns.length === 0 || patterns.some((p) => relative(here, file).includes(p)),
);

// uvu prints its totals but returns nothing: read them off the stream as it writes them.
let captured = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
  captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
  if (captured.length > 4096) captured = captured.slice(-4096);
  return write(chunk, ...rest);
}) as typeof process.stdout.write;

// Tests pin in private bpffs mounts; whatever one leaves in the system's bpffs is a failure.
const SYSTEM_BPFFS = '/sys/fs/bpf';
const pins = (): Set<string> => new Set(existsSync(SYSTEM_BPFFS) ? readdirSync(SYSTEM_BPFFS) : []);
const pinsBefore = pins();
// And nothing of ours may outlive the run: fds of BPF objects and perf events, probe events, cgroups, netns.
const resourcesBefore = ownedResources();

await run(files.map((file) => ({ name: relative(here, file), file })));

// FDs a test dropped without closing are leaks even if a later GC would close them.
const leftResources = newSince(resourcesBefore);
if (leftResources.length > 0) {
  console.error(`tests left resources of this run behind:\n  ${leftResources.join('\n  ')}`);
  process.exitCode = 1;
}

const leftPins = [...pins()].filter((name) => !pinsBefore.has(name));
if (leftPins.length > 0) {
  console.error(`tests left pins in ${SYSTEM_BPFFS}: ${leftPins.join(', ')}`);
  process.exitCode = 1;
}

process.stdout.write = write;
const plain = captured.replace(/\x1b\[[0-9;]*m/g, '');
const count = (label: string): number => Number(/\s+(\d+)\s*$/.exec(plain.split(`${label}:`).at(-1)?.split('\n')[0] ?? '')?.[1] ?? 0);
const total = count('Total');
const passed = count('Passed');
const skipped = count('Skipped');
const failed = Math.max(0, total - passed - skipped) + (leftPins.length > 0 ? 1 : 0) + (leftResources.length > 0 ? 1 : 0) || (process.exitCode ? 1 : 0);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
