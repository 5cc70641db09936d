// `ebpf feature probe [--json]`: what the running kernel supports, as `bpftool feature probe` prints it.
import { probeAll } from '../features/report.js';
import type { FeatureResult } from '../features/result.js';
import { UsageError } from './inspect-command.js';
import { formatTable } from './table.js';

export const FEATURE_USAGE = `  feature probe      what this kernel supports: map, program, attach and link types, PMUs, config
    --json           the same as JSON (FeatureReport)`;

function rows(results: readonly FeatureResult[]): string[][] {
  return results.map((r) => [r.feature, r.supported ? 'yes' : 'no', r.reason ?? '']);
}

export function runFeature(argv: readonly string[]): string {
  const [verb, ...options] = argv;
  if (verb !== 'probe') throw new UsageError(`feature takes the verb probe${verb === undefined ? '' : `, not ${JSON.stringify(verb)}`}`);
  let json = false;
  for (const option of options) {
    if (option === '--json' || option === '-j') json = true;
    else throw new UsageError(`unknown option ${option} for feature probe`);
  }
  const report = probeAll();
  if (json) return JSON.stringify(report, null, 2);
  const k = report.kernel;
  const all = [[report.bpfLink], report.mapTypes, report.programTypes, report.attachTypes, report.linkTypes, report.pmus].flat();
  const config = report.config === null ? 'kernel config: not readable (/boot/config-*, /proc/config.gz)' : `kernel config: ${Object.keys(report.config).length} BPF-related options (--json lists them)`;
  return [`kernel ${k.release} (${k.major}.${k.minor}.${k.patch})`, config, '', formatTable(['FEATURE', 'SUPPORTED', 'WHY / HOW KNOWN'], rows(all))].join('\n');
}
