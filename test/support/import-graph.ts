// The static import graph of a compiled module: what each file reaches through import/export/require
// with literal specifiers (dynamic imports built from strings at run time are not followed).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Every file reachable from `entry` (an absolute path), with the specifiers it imports. */
export function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (graph.has(file)) continue;
    const code = readFileSync(file, 'utf8');
    const specs = [...code.matchAll(/(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[;\s])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/gm)]
      .map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]!);
    graph.set(file, specs);
    for (const s of specs) if (s.startsWith('.')) queue.push(resolve(dirname(file), s));
  }
  return graph;
}
