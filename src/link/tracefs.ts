// tracefs: where the kernel's trace events live (tracepoint ids, kprobe_events, uprobe_events). Found
// at /sys/kernel/tracing, then under debugfs; mounted at /sys/kernel/tracing when neither has it
// (and left mounted, as perf and bpftool do).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const TRACEFS = '/sys/kernel/tracing';
const DEBUGFS_TRACING = '/sys/kernel/debug/tracing';

let found: string | undefined;

/** A tracefs mount has `events/` (and, where the kernel has them, kprobe_events / uprobe_events). */
function isTracefs(dir: string): boolean {
  return existsSync(join(dir, 'events'));
}

/** The tracefs directory, mounting tracefs at /sys/kernel/tracing if no mount has it. */
export function tracefsDir(): string {
  if (found !== undefined && isTracefs(found)) return found;
  for (const dir of [TRACEFS, DEBUGFS_TRACING]) {
    if (isTracefs(dir)) return (found = dir);
  }
  try {
    execFileSync('mount', ['-t', 'tracefs', 'tracefs', TRACEFS], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`tracefs is mounted neither at ${TRACEFS} nor at ${DEBUGFS_TRACING}, and mounting it at ${TRACEFS} failed${stderr ? `: ${stderr}` : ''} (tracepoints and legacy probes need tracefs: CONFIG_TRACING, and root)`);
  }
  if (!isTracefs(TRACEFS)) throw new Error(`tracefs mounted at ${TRACEFS} has no events/ directory`);
  return (found = TRACEFS);
}

/** The id of trace event category/name (events/<category>/<name>/id), or an error naming it. */
export function traceEventId(category: string, name: string, context: string): number {
  const path = join(tracefsDir(), 'events', category, name, 'id');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const categoryExists = existsSync(join(tracefsDir(), 'events', category));
      throw new Error(`${context}: no tracepoint ${category}/${name} on this kernel (${categoryExists ? `category ${category} has no event ${name}` : `no category ${category}`}; see ${join(tracefsDir(), 'available_events')})`);
    }
    throw new Error(`${context}: cannot read ${path}: ${(e as Error).message}`);
  }
  const id = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(id) || id < 0) throw new Error(`${context}: ${path} holds ${JSON.stringify(text.trim())}, not an event id`);
  return id;
}
