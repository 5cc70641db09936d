// ebpf/inspect must run in a browser: its compiled import graph reaches no node: module and no
// native addon (dynamic imports built from strings at run time are allowed: bundlers skip them).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { importGraph } from '../support/import-graph.js';

const distSrc = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

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
