#!/usr/bin/env node
// The `ebpf` command. Errors are one line on stderr and exit code 1, never a stack trace.
import { readFileSync } from 'node:fs';
import { ElfError } from '../elf/errors.js';
import { UsageError, runInspect } from './inspect-command.js';

const USAGE = `usage: ebpf inspect FILE.o [--json | --btf | --core [--btf-file PATH]]

  inspect FILE.o     programs, maps, global data, relocations and license as tables
    --json           the whole ObjectInfo as JSON, each program's .BTF.ext records included
    --btf            the object's BTF types rendered as C
    --core           how its CO-RE relocations resolve against a kernel's BTF, as libbpf
                     resolves them (with --json: as JSON)
    --btf-file PATH  the kernel BTF for --core: raw BTF or an ELF with .BTF (BTFHub)
                     (default /sys/kernel/btf/vmlinux)`;

const VMLINUX = '/sys/kernel/btf/vmlinux';

function parseInspect(argv: string[]): { file: string; json: boolean; btf: boolean; core: boolean; btfFile: string | undefined } {
  let file: string | undefined, btfFile: string | undefined;
  let json = false, btf = false, core = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--btf') btf = true;
    else if (arg === '--core') core = true;
    else if (arg === '--btf-file') {
      btfFile = argv[++i];
      if (btfFile === undefined) throw new UsageError('--btf-file needs a PATH');
    } else if (arg.startsWith('--btf-file=')) btfFile = arg.slice('--btf-file='.length);
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg} for inspect`);
    else if (file === undefined) file = arg;
    else throw new UsageError(`inspect takes one file, got also ${arg}`);
  }
  if (file === undefined) throw new UsageError('inspect needs a FILE.o');
  if (json && btf) throw new UsageError('--json and --btf cannot be combined');
  if (core && btf) throw new UsageError('--core and --btf cannot be combined');
  if (btfFile !== undefined && !core) throw new UsageError('--btf-file goes with --core');
  return { file, json, btf, core, btfFile };
}

function readInput(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new UsageError(`cannot read ${file}: ${why}`);
  }
}

export function main(argv: string[]): number {
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 1 : 0;
    }
    if (command !== 'inspect') throw new UsageError(`unknown command ${JSON.stringify(command)}; try ebpf --help`);
    const parsed = parseInspect(rest);
    const input = readInput(parsed.file);
    const btfPath = parsed.btfFile ?? VMLINUX;
    const core = parsed.core ? { path: btfPath, bytes: readInput(btfPath) } : undefined;
    process.stdout.write(`${runInspect({ file: parsed.file, json: parsed.json, btf: parsed.btf, core }, input)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ElfError) process.stderr.write(`ebpf: ${argv[1] ?? ''}: ${e.message}\n`);
    else if (e instanceof UsageError) process.stderr.write(`ebpf: ${e.message}\n`);
    else process.stderr.write(`ebpf: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
