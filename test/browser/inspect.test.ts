// The browser entry point in real headless Chromium: `ebpf/inspect` loads the WASM core with fetch and
// gives, for every fixture, the same ObjectInfo as in Node, and relocate() the same CO-RE results.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium as playwright } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { haveTool } from '../kernel/support.js';
import { inspect, relocate } from '../../src/inspect.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = join(root, 'test/fixtures');
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const types: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.o': 'application/octet-stream',
};

function serve(): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = join(root, path);
    if (!file.startsWith(root) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const browser = suite('browser');

browser('inspect() in headless Chromium matches Node for every fixture', async () => {
  // haveTool prints the skip (or fails under EBPF_TEST_STRICT=1).
  if (chromium === undefined && !haveTool('chromium', 'the browser test')) return;
  if (chromium === undefined) throw new Error('chromium is on PATH but not at /usr/bin/chromium or /usr/bin/chromium-browser');
  const files = readdirSync(fixtures).filter((f) => f.endsWith('.o')).sort();
  assert.ok(files.length > 0, 'fixtures exist');
  const server = await serve();
  try {
    const { port } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/test/browser/page.html?files=${files.join(',')}`;
    // Driven with playwright-core, waiting for the page's answer in real time (Chromium's virtual-time
    // budget gave up on module fetches when the machine was loaded).
    const instance = await playwright.launch({ executablePath: chromium, args: ['--no-sandbox', '--disable-gpu'] });
    let decoded: string;
    try {
      const page = await instance.newPage();
      await page.goto(url);
      await page.waitForFunction(() => /^(RESULT|FAILED)/.test(document.getElementById('out')?.textContent ?? ''), undefined, { timeout: 170_000 });
      decoded = (await page.textContent('#out')) ?? '';
    } finally {
      await instance.close();
    }
    assert.ok(decoded.startsWith('RESULT '), `page reported: ${decoded.slice(0, 2000)}`);
    const results = JSON.parse(decoded.slice('RESULT '.length)) as Record<string, unknown>;
    for (const file of files) {
      let expected: unknown;
      try {
        expected = JSON.parse(JSON.stringify(inspect(new Uint8Array(readFileSync(join(fixtures, file))), { btfExt: true })));
      } catch (err) {
        expected = { error: (err as Error).message };
      }
      assert.equal(results[file], expected, file);
    }
    const core = relocate(readFileSync(join(fixtures, 'core_relos.o')), readFileSync(join(fixtures, 'core_kconfig.o')));
    assert.ok(core.some((r) => r.status === 'relocated') && core.some((r) => r.status === 'poisoned'));
    assert.equal(results['relocate core_relos.o'], JSON.parse(JSON.stringify(core, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))), 'relocate()');
  } finally {
    server.close();
  }
});

browser.run();
