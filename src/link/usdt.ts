// USDT probes (SystemTap SDT: `.note.stapsdt` in the binary): a kprobe-type program (section
// `usdt/<path>:<provider>:<name>`, or attached with a { path, provider, name } target) put as a uprobe
// at each location of the probe, with the probe's semaphore counted up while attached (uprobe
// ref_ctr_offset). The arguments' locations are given by listUsdtProbes (e.g. "-4@%edi"): programs
// read them from pt_regs themselves (libbpf's bpf_usdt_arg() spec maps are not provided).
import { readFileSync, statSync } from 'node:fs';
import { ProgramType } from '../sys/generated.js';
import { Attachment } from './attachment.js';
import { usdtProbes, type UsdtProbe } from './elf-symbols.js';
import type { PerfEventAttachment } from './perf.js';
import type { UsdtTarget } from './plan.js';
import { attachProbe } from './probe.js';
import { AttachError, describe, programFd, type AttachableProgram } from './target.js';

export type { UsdtProbe, UsdtTarget };

/** Largest binary read for its notes. */
const MAX_BINARY = 1 << 30;

/** The USDT probes of a binary (provider, name, argument spec, file offsets). */
export function listUsdtProbes(path: string): UsdtProbe[] {
  const size = statSync(path).size;
  if (size > MAX_BINARY) throw new Error(`${path}: ${size} bytes, more than ${MAX_BINARY} are not read for USDT notes`);
  return usdtProbes(readFileSync(path), path);
}

/** The probes of one USDT point, all attached: detached together. */
class UsdtAttachment extends Attachment {
  readonly #parts: PerfEventAttachment[];
  constructor(program: string, target: string, parts: PerfEventAttachment[]) {
    super('usdt', program, target);
    this.#parts = parts;
  }
  override info(): ReturnType<Attachment['info']> {
    const first = this.#parts[0]!.info();
    return { ...super.info(), legacy: first.legacy, ...(first.linkId !== undefined ? { linkId: first.linkId, linkType: first.linkType! } : {}) };
  }
  protected release(): void {
    let error: unknown;
    for (const part of this.#parts) {
      try {
        part.detach();
      } catch (e) {
        error ??= e;
      }
    }
    if (error !== undefined) throw error;
  }
}

/** Attaches a kprobe-type program to every location of USDT probe provider:name of a binary. */
export function attachUsdt(program: AttachableProgram, target: UsdtTarget): Attachment {
  const text = `${target.path}:${target.provider}:${target.name}`;
  const fd = programFd(program, 'usdt', text, [ProgramType.Kprobe]);
  let probes: UsdtProbe[];
  try {
    probes = listUsdtProbes(target.path);
  } catch (e) {
    throw new AttachError(program, 'usdt', text, `cannot read the binary's USDT notes: ${(e as Error).message}`);
  }
  const matching = probes.filter((p) => p.provider === target.provider && p.name === target.name);
  if (matching.length === 0) {
    const known = [...new Set(probes.map((p) => `${p.provider}:${p.name}`))].slice(0, 10);
    throw new AttachError(program, 'usdt', text, `no USDT probe ${target.provider}:${target.name} in the binary (${known.length > 0 ? `it has ${known.join(', ')}` : 'it has no .note.stapsdt probes'})`);
  }
  const parts: PerfEventAttachment[] = [];
  try {
    for (const probe of matching) {
      parts.push(attachProbe(fd, program.name, {
        kind: 'uprobe', hook: 'usdt', retprobe: false, location: target.path, offset: probe.offset, symbol: `${probe.provider}_${probe.name}`,
        refCtrOffset: probe.semaphoreOffset, pid: target.pid, legacy: target.legacy, attach: { legacy: target.legacy, cookie: target.cookie },
      }, text, `${describe(program)} on usdt ${text} at 0x${probe.offset.toString(16)}`));
    }
  } catch (e) {
    for (const part of parts) part.detach();
    throw e;
  }
  return new UsdtAttachment(program.name, text, parts);
}
