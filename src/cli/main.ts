#!/usr/bin/env node
// The `ebpf` command, with bpftool's objects and verbs (`ebpf prog show ID`, `ebpf map dump ID`,
// `ebpf btf dump FILE format c`) and its habits: -j/--json and -p/--pretty everywhere, --help per
// object. Errors are one line on stderr and exit code 1, never a stack trace.
import { readFileSync } from 'node:fs';
import { ElfError } from '../elf/errors.js';
import { UsageError, outputOf, parse } from './args.js';
import { runInspect } from './inspect-command.js';
import { WEB_USAGE, parseWeb, runWeb } from './web-command.js';

const USAGE: Record<string, string> = {
  main: `usage: ebpf inspect FILE.o [--disasm [--program NAME]] [--btf] [--core [--btf-file PATH]] [--json]
       ebpf prog { list | show [ID] | dump [xlated] ID [opcodes] }
       ebpf map { list | show [ID] | dump ID }
       ebpf btf dump { FILE | ID } [format { c | raw }]
       ebpf feature probe
       ebpf web [FILE.o] [--port N] [--no-open]

  Options everywhere: -j, --json (JSON output)  -p, --pretty (indented JSON)  -h, --help
  Objects are named by ID, "id ID" or "pinned PATH". ebpf OBJECT --help says more.`,
  inspect: `usage: ebpf inspect FILE.o [--disasm [--program NAME]] [--btf] [--core [--btf-file PATH]] [--json]

  inspect FILE.o     programs, maps, global data, relocations and license as tables
    --json, -j       the whole ObjectInfo as JSON, each program's .BTF.ext records included
    --btf            the object's BTF as a C header (with --json: its types)
    --disasm, -d     every program disassembled in LLVM syntax, with maps, helpers, calls and
                     source lines named (with --json: one object per instruction)
    --program NAME   with --disasm: only this program (or subprogram)
    --core           how its CO-RE relocations resolve against a kernel's BTF, as libbpf
                     resolves them (with --json: as JSON)
    --btf-file PATH  the kernel BTF for --core: raw BTF or an ELF with .BTF (BTFHub)
                     (default /sys/kernel/btf/vmlinux)`,
  prog: `usage: ebpf prog { list | show [ID] | dump [xlated] ID [opcodes] } [-j | -p]

  list, show         every program loaded (show ID: one), with bpftool's fields
  dump xlated ID     the kernel's instructions of program ID disassembled, maps, helpers,
                     functions and source lines named (opcodes: with the bytes)
  ID is a program id, "id ID" or "pinned PATH".`,
  map: `usage: ebpf map { list | show [ID] | dump ID } [-j | -p]

  list, show         every map (show ID: one), with bpftool's fields
  dump ID            every element; keys and values formatted from the map's BTF when it has
                     one, as bpftool map dump does
  ID is a map id, "id ID" or "pinned PATH".`,
  feature: `usage: ebpf feature probe [-j | -p]

  probe              what this kernel supports: map, program, attach and link types, bpf_link,
                     perf event sources (PMUs), kernel version and BPF-related config, each with
                     the reason when not (the kernel's own error) or how it was judged`,
  btf: `usage: ebpf btf dump { FILE | file FILE | ID | id ID } [format { c | raw }] [-j | -p]

  dump               the types of a BTF: an object's .BTF, a raw BTF file (/sys/kernel/btf/vmlinux)
                     or a kernel BTF object by id; raw (the default) as bpftool lists them, or
                     format c: a header that compiles (vmlinux.h)`,
  web: WEB_USAGE,
};

function readInput(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new UsageError(`cannot read ${file}: ${why}`);
  }
}

/** The kernel's BTF, --core's default target. */
const VMLINUX = '/sys/kernel/btf/vmlinux';

function inspectCommand(argv: string[]): string | undefined {
  const { values, positionals } = parse('inspect', argv, {
    btf: { type: 'boolean' }, disasm: { type: 'boolean', short: 'd' }, program: { type: 'string' },
    core: { type: 'boolean' }, 'btf-file': { type: 'string' },
  });
  if (values.help) return undefined;
  const [file, extra] = positionals;
  if (file === undefined) throw new UsageError('inspect needs a FILE.o');
  if (extra !== undefined) throw new UsageError(`inspect takes one file, got also ${extra}`);
  const modes = ['btf', 'disasm', 'core'].filter((m) => values[m] === true);
  if (modes.length > 1) throw new UsageError(`${modes.map((m) => `--${m}`).join(' and ')} cannot be combined`);
  if (values.program !== undefined && !values.disasm) throw new UsageError('--program goes with --disasm');
  const btfFile = values['btf-file'];
  if (btfFile !== undefined && !values.core) throw new UsageError('--btf-file goes with --core');
  const out = outputOf(values);
  const corePath = typeof btfFile === 'string' ? btfFile : VMLINUX;
  return runInspect({
    file, json: out.json, pretty: out.pretty, btf: values.btf === true, disasm: values.disasm === true,
    program: typeof values.program === 'string' ? values.program : undefined,
    core: values.core === true ? { path: corePath, bytes: readInput(corePath) } : undefined,
  }, readInput(file));
}

async function kernelCommand(object: 'prog' | 'map' | 'btf' | 'feature', argv: string[]): Promise<string | undefined> {
  const { values, positionals } = parse(object, argv);
  if (values.help) return undefined;
  const out = outputOf(values);
  const [verb, ...rest] = positionals;
  if (object === 'feature') {
    const { runFeature } = await import('./feature-command.js'); // probes load the addon
    return runFeature(verb, rest, out);
  }
  if (object === 'btf') {
    const { runBtf } = await import('./btf-command.js');
    const { btfBytesById } = await import('../program/disassemble.js'); // the addon loads only if called
    const { SyscallError } = await import('../sys/errors.js');
    return runBtf(verb, rest, out, (id) => {
      try {
        return btfBytesById(id);
      } catch (e) {
        if (e instanceof SyscallError) throw new UsageError(`cannot open BTF id ${id}: ${e.code}`);
        throw e;
      }
    });
  }
  // The verbs on kernel objects load the native addon: imported only when asked for.
  const { runProg, runMap } = await import('./kernel-commands.js');
  return object === 'prog' ? runProg(verb, rest, out) : runMap(verb, rest, out);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(`${USAGE.main}\n`);
      return command === undefined ? 1 : 0;
    }
    if (command === 'web') {
      const args = parseWeb(rest);
      if (args === undefined) {
        process.stdout.write(`${USAGE.web}\n`);
        return 0;
      }
      await runWeb(args, readInput); // serves until interrupted
      return 0;
    }
    let text: string | undefined;
    if (command === 'inspect') text = inspectCommand(rest);
    else if (command === 'prog' || command === 'map' || command === 'btf' || command === 'feature') text = await kernelCommand(command, rest);
    else throw new UsageError(`unknown command ${JSON.stringify(command)}; try ebpf --help`);
    process.stdout.write(`${text ?? USAGE[command]}\n`);
    return 0;
  } catch (e) {
    const message = e instanceof UsageError || e instanceof ElfError || e instanceof Error ? e.message : String(e);
    process.stderr.write(`ebpf: ${message.split('\n')[0]}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
