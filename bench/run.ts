// `npm run bench`: runs every bench/*.bench.js (or those matching the arguments). Each entry measures
// ebpf next to a C baseline in the same run and prints the ratio; see bench/README.md.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchEntry {
  name: string;
  run(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
const patterns = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => patterns.length === 0 || patterns.some((p) => f.includes(p)))
  .sort();

for (const file of files) {
  const entry = (await import(pathToFileURL(join(here, file)).href)).default as BenchEntry;
  console.log(`\n== ${entry.name} ==`);
  await entry.run();
}
