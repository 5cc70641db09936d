// Builds the inspector page (web/) into one self-contained file, dist/web/index.html: the worker
// (with the WASM core's bytes) is bundled first and inlined into the page's script, which starts it
// from a Blob URL. Nothing is fetched, so the page works from file:// as from any static host.
// `npm run build:web`; `npm run build` runs it too. `--watch`-free on purpose: it takes well under a second.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web', 'index.html');

const common = {
  bundle: true,
  write: false,
  format: 'iife',
  target: ['es2022'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
};

const worker = await build({
  ...common,
  entryPoints: [join(root, 'web', 'src', 'worker.ts')],
  loader: { '.wasm': 'binary' },
  // src/wasm/core.ts finds the core next to itself from import.meta.url, which a classic worker has
  // not; the bundle hands the core's bytes to setCoreSource, so this URL is never fetched.
  define: { 'import.meta.url': JSON.stringify('https://ebpf.invalid/dist/src/wasm/core.js') },
});

const page = await build({
  ...common,
  entryPoints: [join(root, 'web', 'src', 'main.ts')],
  define: { WORKER_SOURCE: JSON.stringify(worker.outputFiles[0].text) },
});

// A </script> inside the inlined code would end the element early.
const script = page.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const html = readFileSync(join(root, 'web', 'index.html'), 'utf8')
  .replace('/*STYLE*/', () => readFileSync(join(root, 'web', 'style.css'), 'utf8'))
  .replace('/*SCRIPT*/', () => script)
  .replaceAll('{{VERSION}}', version);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, html);
// stderr: `npm pack --json` runs this in prepare, and its stdout must stay JSON.
console.error(`web: ${out.slice(root.length + 1)} (${Math.round(html.length / 1024)} KiB)`);
