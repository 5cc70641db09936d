// `ebpf feature probe [-j | -p]`: what the running kernel supports, as `bpftool feature probe` prints it.
import { probeAll } from '../features/report.js';
import type { FeatureResult } from '../features/result.js';
import { toJson, UsageError, type Output } from './args.js';
import { formatTable } from './table.js';

function rows(results: readonly FeatureResult[]): string[][] {
  return results.map((r) => [r.feature, r.supported ? 'yes' : 'no', r.reason ?? '']);
}

export function runFeature(verb: string | undefined, rest: readonly string[], out: Output): string {
  if (verb !== 'probe') throw new UsageError(`feature takes the verb probe${verb === undefined ? '' : `, not ${JSON.stringify(verb)}`}`);
  if (rest.length > 0) throw new UsageError(`feature probe takes no arguments, got ${rest.join(' ')}`);
  const report = probeAll();
  if (out.json) return toJson(report, out);
  const k = report.kernel;
  const all = [[report.bpfLink], report.mapTypes, report.programTypes, report.attachTypes, report.linkTypes, report.pmus].flat();
  const config = report.config === null ? 'kernel config: not readable (/boot/config-*, /proc/config.gz)' : `kernel config: ${Object.keys(report.config).length} BPF-related options (-j lists them)`;
  return [`kernel ${k.release} (${k.major}.${k.minor}.${k.patch})`, config, '', formatTable(['FEATURE', 'SUPPORTED', 'WHY / HOW KNOWN'], rows(all))].join('\n');
}
