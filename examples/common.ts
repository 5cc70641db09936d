// What the examples share: finding their BPF object, reading the XDP mode argument, and running until
// Ctrl-C (SIGINT) or SIGTERM, then cleaning up, as goebpf's examples do.
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XdpAttachMode } from 'ebpf';

/**
 * The compiled BPF object `file` of the example whose module URL is given: next to it, or, when the
 * example runs compiled from dist/examples/NAME/, in examples/NAME/ where `make fixtures` puts it.
 */
export function objectPath(moduleUrl: string, file: string): string {
  const here = dirname(fileURLToPath(moduleUrl));
  const beside = join(here, file);
  if (existsSync(beside)) return beside;
  const marker = `${sep}dist${sep}examples${sep}`;
  const index = here.lastIndexOf(marker);
  const source = index < 0 ? beside : join(here.slice(0, index), 'examples', here.slice(index + marker.length), file);
  if (!existsSync(source)) throw new Error(`${file} not found next to ${here} nor in examples/ (build it with \`make fixtures\`)`);
  return source;
}

/** --mode any|generic|driver|offload as an XdpAttachMode. */
export function xdpMode(name: string | undefined): XdpAttachMode {
  switch (name ?? 'any') {
    case 'any':
      return XdpAttachMode.None;
    case 'generic':
    case 'skb':
      return XdpAttachMode.Generic;
    case 'driver':
    case 'drv':
      return XdpAttachMode.Driver;
    case 'offload':
    case 'hw':
      return XdpAttachMode.Offload;
    default:
      throw new Error(`--mode ${name}: expected any, generic, driver or offload`);
  }
}

/** Calls report() every intervalMs until SIGINT or SIGTERM, then cleanup(), and exits 0. */
export function runUntilSignal(intervalMs: number, report: () => void, cleanup: () => void): void {
  if (!Number.isInteger(intervalMs) || intervalMs <= 0) throw new Error(`--interval ${intervalMs}: expected a positive number of milliseconds`);
  const timer = setInterval(report, intervalMs);
  const stop = (): void => {
    clearInterval(timer);
    try {
      report();
    } finally {
      cleanup();
    }
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Runs main, printing an error as one line (with its cause) and exiting 1 instead of a stack trace. */
export function run(main: () => void): void {
  try {
    main();
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
