// `ebpf web [FILE.o] [--port N] [--no-open]`: serves the inspector page (dist/web/index.html, built by
// `npm run build:web`) on 127.0.0.1, with FILE preloaded, prints its URL and opens a browser where one
// can be opened. The page does its work in the browser; the server only hands out the two files.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError, parse } from './args.js';

export const WEB_USAGE = `usage: ebpf web [FILE.o] [--port N] [--no-open]

  web [FILE.o]       the inspector page (dist/web/index.html) served on http://127.0.0.1 with
                     FILE preloaded, opened in a browser where one can be; runs until Ctrl-C
    --port N         listen on port N (default: any free port)
    --no-open        only print the URL`;

const PAGE = fileURLToPath(new URL('../../web/index.html', import.meta.url));

export interface WebArgs {
  file: string | undefined;
  port: number;
  open: boolean;
}

/** The options of `ebpf web`, or undefined for --help. */
export function parseWeb(argv: string[]): WebArgs | undefined {
  const { values, positionals } = parse('web', argv, { port: { type: 'string' }, 'no-open': { type: 'boolean' } });
  if (values.help) return undefined;
  const [file, extra] = positionals;
  if (extra !== undefined) throw new UsageError(`web takes one file, got also ${extra}`);
  let port = 0;
  if (values.port !== undefined) {
    const text = String(values.port);
    port = Number(text);
    if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`web: --port needs a port number (0-65535), got ${JSON.stringify(text)}`);
  }
  return { file, port, open: values['no-open'] !== true };
}

/** A server for the page and, when given, one object at /object/NAME; resolves once listening. */
export function serveInspector(page: Uint8Array, object: { name: string; bytes: Uint8Array } | undefined, port = 0): Promise<{ server: Server; url: string }> {
  const objectPath = object ? `/object/${encodeURIComponent(object.name)}` : undefined;
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end();
    } else if (path === '/' || path === '/index.html') {
      res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : page);
    } else if (object && path === objectPath) {
      res.writeHead(200, { ...headers, 'content-type': 'application/octet-stream' }).end(req.method === 'HEAD' ? undefined : object.bytes);
    } else {
      res.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new UsageError(`cannot listen on 127.0.0.1:${port}: ${e.code ?? e.message}`)));
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as AddressInfo;
      const query = objectPath ? `?url=${encodeURIComponent(objectPath)}` : '';
      resolve({ server, url: `http://127.0.0.1:${bound}/${query}` });
    });
  });
}

/** The command that opens URLs on this system, or undefined where none can (no display). */
function opener(): string[] | undefined {
  if (process.platform === 'darwin') return ['open'];
  if (process.platform === 'win32') return ['cmd', '/c', 'start', '""'];
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return undefined;
  const found = (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, 'xdg-open')));
  return found ? ['xdg-open'] : undefined;
}

function openBrowser(url: string): boolean {
  const command = opener();
  if (!command) return false;
  try {
    const child = spawn(command[0]!, [...command.slice(1), url], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}

/** Runs `ebpf web` until the process is interrupted; the object is read before the server starts. */
export async function runWeb(args: WebArgs, readInput: (file: string) => Uint8Array): Promise<Server> {
  if (!existsSync(PAGE)) throw new UsageError(`the inspector page is not built (${PAGE}): run npm run build:web`);
  const object = args.file === undefined ? undefined : { name: basename(args.file), bytes: readInput(args.file) };
  const { server, url } = await serveInspector(readFileSync(PAGE), object, args.port);
  const opened = args.open && openBrowser(url);
  process.stdout.write(`ebpf inspector: ${url}${opened ? ' (opening a browser)' : ''}\nPress Ctrl-C to stop.\n`);
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server;
}
