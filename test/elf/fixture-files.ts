// The committed fixture objects (test/fixtures/**/*.o), found at run time.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixturesDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures');

export function fixtureObjects(dir = fixturesDir): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...fixtureObjects(path));
    else if (entry.endsWith('.o')) out.push(path);
  }
  return out;
}
