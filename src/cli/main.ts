#!/usr/bin/env node
// The `ebpf` command. Errors are one line on stderr and exit code 1, never a stack trace.
import { readFileSync } from 'node:fs';
import { ElfError } from '../elf/errors.js';
import { UsageError, runInspect } from './inspect-command.js';
import { WEB_USAGE, parseWeb, runWeb } from './web-command.js';

const USAGE = `usage: ebpf inspect FILE.o [--json | --btf]
       ebpf web [FILE.o] [--port N] [--no-open]

  inspect FILE.o     programs, maps, global data, relocations and license as tables
    --json           the whole ObjectInfo as JSON, each program's .BTF.ext records included
    --btf            the object's BTF types rendered as C
${WEB_USAGE}`;

function parseInspect(argv: string[]): { file: string; json: boolean; btf: boolean } {
  let file: string | undefined;
  let json = false, btf = false;
  for (const arg of argv) {
    if (arg === '--json') json = true;
    else if (arg === '--btf') btf = true;
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg} for inspect`);
    else if (file === undefined) file = arg;
    else throw new UsageError(`inspect takes one file, got also ${arg}`);
  }
  if (file === undefined) throw new UsageError('inspect needs a FILE.o');
  if (json && btf) throw new UsageError('--json and --btf cannot be combined');
  return { file, json, btf };
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
    if (command === 'web') {
      // Serves until interrupted: the exit code is set if it cannot start.
      runWeb(parseWeb(rest), readInput).catch((e: unknown) => {
        process.stderr.write(`ebpf: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
      });
      return 0;
    }
    if (command !== 'inspect') throw new UsageError(`unknown command ${JSON.stringify(command)}; try ebpf --help`);
    const args = parseInspect(rest);
    process.stdout.write(`${runInspect(args, readInput(args.file))}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ElfError) process.stderr.write(`ebpf: ${argv[1] ?? ''}: ${e.message}\n`);
    else if (e instanceof UsageError) process.stderr.write(`ebpf: ${e.message}\n`);
    else process.stderr.write(`ebpf: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
