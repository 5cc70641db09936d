// Uprobes: a kprobe-type program on a function (or offset) of an executable or shared object,
// through the uprobe PMU (or legacy tracefs uprobe_events), optionally for one process. The symbol is
// resolved from the binary's .symtab/.dynsym and turned into a file offset through its PT_LOAD
// segments (right for PIE executables and shared objects).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ProgramType } from '../sys/generated.js';
import { resolveSymbol } from './elf-symbols.js';
import type { PerfEventAttachment } from './perf.js';
import { attachProbe } from './probe.js';
import { AttachError, describe, programFd, type AttachableProgram } from './target.js';
import type { UprobeTarget } from './plan.js';

export type { UprobeTarget };

/** Largest binary read for its symbols. */
const MAX_BINARY = 1 << 30;

function readBinary(program: AttachableProgram | string, path: string, text: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new AttachError(program, 'uprobe', text, `cannot open the binary: ${(e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_BINARY) throw new AttachError(program, 'uprobe', text, `the binary is ${size} bytes, more than ${MAX_BINARY} are not read for symbols: give an offset`);
    const bytes = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, bytes, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return bytes.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** The file offset a target names (symbol resolved through the binary's ELF, plus any offset). */
export function uprobeOffset(program: AttachableProgram | string, target: UprobeTarget): bigint {
  const hook = target.retprobe ? 'uretprobe' : 'uprobe';
  const text = `${target.path}:${target.symbol ?? `0x${BigInt(target.offset ?? 0).toString(16)}`}`;
  const extra = BigInt(target.offset ?? 0);
  if (extra < 0n) throw new AttachError(program, hook, text, 'offset is negative');
  if (target.symbol === undefined) {
    if (target.offset === undefined) throw new AttachError(program, hook, text, 'give a symbol or an offset');
    return extra;
  }
  const bytes = readBinary(program, target.path, text);
  try {
    return resolveSymbol(bytes, target.path, target.symbol).offset + extra;
  } catch (e) {
    throw new AttachError(program, hook, text, (e as Error).message);
  }
}

/** Attaches a kprobe-type program as a uprobe/uretprobe (cilium/ebpf's Executable.Uprobe / Uretprobe). */
export function attachUprobe(program: AttachableProgram, target: UprobeTarget): PerfEventAttachment {
  const retprobe = target.retprobe ?? (program.section?.startsWith('uretprobe') === true);
  const hook = retprobe ? 'uretprobe' : 'uprobe';
  if (typeof target.path !== 'string' || target.path === '' || /\s/.test(target.path)) {
    throw new AttachError(program, hook, JSON.stringify(target.path), 'the binary path must be a non-empty path without spaces');
  }
  const text = `${target.path}:${target.symbol ?? `0x${BigInt(target.offset ?? 0).toString(16)}`}`;
  if (target.pid !== undefined && (!Number.isInteger(target.pid) || target.pid <= 0)) {
    throw new AttachError(program, hook, text, `pid ${target.pid} is not a process id`);
  }
  const fd = programFd(program, hook, text, [ProgramType.Kprobe]);
  const offset = uprobeOffset(program, { ...target, retprobe });
  const context = `${describe(program)} on ${hook} ${text}${target.pid !== undefined ? ` (pid ${target.pid})` : ''}`;
  return attachProbe(fd, program.name, {
    kind: 'uprobe', retprobe, location: target.path, offset, symbol: target.symbol ?? `0x${offset.toString(16)}`,
    pid: target.pid, legacy: target.legacy, attach: { legacy: target.legacy, cookie: target.cookie },
  }, text, context);
}
