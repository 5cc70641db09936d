// ebpf/inspect must run in a browser: its compiled import graph reaches no node: module and no
// native addon (dynamic imports built from strings at run time are allowed: bundlers skip them).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const distSrc = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function importGraph(entry: string): Map<string, string[]> {
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

test('the compiled ebpf/inspect imports no node: module, no bare package and no addon', () => {
  const graph = importGraph(resolve(distSrc, 'inspect.js'));
  assert.ok(graph.size >= 5, `only ${graph.size} modules found: is the import scan broken?`);
  for (const [file, specs] of graph) {
    for (const s of specs) {
      assert.ok(s.startsWith('./') || s.startsWith('../'), `${file} imports ${s}`);
      assert.not.match(s, /\.node$|bridge|native/, `${file} imports ${s}`);
    }
  }
});

test.run();
