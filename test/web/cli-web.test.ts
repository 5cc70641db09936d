// `ebpf web` as a user runs it: the URL printed, the page and the object served on 127.0.0.1 only,
// a clean stop on SIGTERM; --help, and one-line errors.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const fixture = join(root, 'test/fixtures/globals.o');

const web = suite('ebpf web');

web('serves the page and the object it was given, and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [cli, 'web', fixture, '--no-open'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const found = /http:\/\/127\.0\.0\.1:\d+\/\S*/.exec(out);
        if (found) resolve(found[0]);
      });
      child.on('exit', (code) => reject(new Error(`ebpf web exited (${code}) before printing a URL: ${out}`)));
      setTimeout(() => reject(new Error(`no URL within 10 s: ${out}`)), 10_000);
    });
    const page = await fetch(url);
    assert.is(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', 'text/html');
    assert.match(await page.text(), '<title>ebpf inspector</title>');
    const objectPath = new URL(url).searchParams.get('url')!;
    assert.is(objectPath, '/object/globals.o');
    const object = new Uint8Array(await (await fetch(new URL(objectPath, url))).arrayBuffer());
    assert.equal(object, new Uint8Array(readFileSync(fixture)));
    assert.is((await fetch(new URL('/etc/passwd', url))).status, 404);
    assert.is((await fetch(url, { method: 'POST' })).status, 405);
  } finally {
    child.kill('SIGTERM');
  }
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.is(code, 0);
});

web('--help, and errors as one line with exit code 1', () => {
  const help = spawnSync(process.execPath, [cli, 'web', '--help'], { encoding: 'utf8' });
  assert.is(help.status, 0);
  assert.match(help.stdout, 'usage: ebpf web');
  for (const args of [['web', 'no-such-file.o'], ['web', '--port', 'x'], ['web', '--nope'], ['web', 'a.o', 'b.o']]) {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    assert.is(r.status, 1, args.join(' '));
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^ebpf: /);
  }
});

web.run();
