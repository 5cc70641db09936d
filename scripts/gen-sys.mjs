#!/usr/bin/env node
// Generates src/sys/generated.ts (bpf enums, BPF_* constants, union bpf_attr and info struct layouts,
// errno names and texts) from pinned inputs the repository carries, so every machine regenerates the
// same file and no constant or layout is typed by hand:
//   scripts/sys/linux-<version>.btf  the types needed (enums, anonymous BPF_F_* enums, bpf_attr, the
//                                    info structs, and what they reach) from a named kernel's BTF;
//   scripts/sys/pinned.json          the UAPI header's #define constants and the C library's errno
//                                    names and strerror() texts, which BTF does not carry.
//
//   node scripts/gen-sys.mjs [--out FILE]      (`make sys`): from the pinned inputs; plain JS, no compiler.
//   node scripts/gen-sys.mjs --pin [--vmlinux BTF] [--kernel RELEASE] [--header PATH] [--cc CC]
//        (`make sys-pin`): refresh the pinned inputs from this machine (the running kernel's BTF by
//        default, the UAPI header /usr/include/linux/bpf.h and the C library read by CC), then generate.
//   node scripts/gen-sys.mjs --header PATH [--cc CC] --out FILE: everything from a UAPI header and the
//        C library instead (the compiler computes the layouts): to check a header against the pins.
// Offsets and sizes from BTF are the kernel's own; the UAPI uses fixed-width, explicitly aligned types,
// so they are the same on every 64-bit architecture.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { btfAbi, btfRoots } from './sys/abi.mjs';
import { readBtf, subsetBtf } from './sys/btf.mjs';
import { headerAbi, headerConstants, libcErrno } from './sys/c-header.mjs';
import { emit } from './sys/emit.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pinnedDir = join(root, 'scripts', 'sys');
const pinnedFile = join(pinnedDir, 'pinned.json');
const DEFAULT_HEADER = '/usr/include/linux/bpf.h';
const RUNNING_BTF = '/sys/kernel/btf/vmlinux';

function parseArgs(argv) {
  const options = { pin: false, vmlinux: RUNNING_BTF, kernel: undefined, header: undefined, cc: process.env.CC ?? 'cc', out: join(root, 'src/sys/generated.ts') };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--pin') options.pin = true;
    else if (arg === '--vmlinux') options.vmlinux = value();
    else if (arg === '--kernel') options.kernel = value();
    else if (arg === '--header') options.header = value();
    else if (arg === '--cc') options.cc = value();
    else if (arg === '--out') options.out = value();
    else throw new Error(`unknown option ${arg} (see the comment at the top of ${basename(fileURLToPath(import.meta.url))})`);
  }
  return options;
}

/** "path (package version)" where dpkg knows the file, else the path. */
function describeFile(path) {
  try {
    const pkg = execFileSync('dpkg-query', ['-S', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(':')[0];
    const version = execFileSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return `${path} (${pkg} ${version})`;
  } catch {
    return path;
  }
}

/** Refreshes scripts/sys/linux-<version>.btf and pinned.json from this machine. */
function pin(options) {
  const kernel = options.kernel ?? (options.vmlinux === RUNNING_BTF ? execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim() : undefined);
  if (!kernel) throw new Error(`--kernel RELEASE is needed to name the kernel ${options.vmlinux} comes from`);
  const version = /^\d+\.\d+(\.\d+)?/.exec(kernel)?.[0];
  if (!version) throw new Error(`kernel release ${kernel} does not start with a version`);
  const types = readBtf(readFileSync(options.vmlinux));
  const btfFile = `linux-${version}.btf`;
  for (const old of readdirSync(pinnedDir).filter((f) => f.endsWith('.btf'))) rmSync(join(pinnedDir, old));
  writeFileSync(join(pinnedDir, btfFile), subsetBtf(types, btfRoots(types)));
  const header = options.header ?? DEFAULT_HEADER;
  const flags = new Set(btfAbi(types).flags.map(([name]) => name));
  const errno = libcErrno(options.cc);
  const pinned = {
    btf: { file: btfFile, kernel, from: options.vmlinux },
    constants: { from: describeFile(header), values: headerConstants(header, options.cc, flags) },
    errno: { from: errno.libc, names: errno.names, messages: errno.messages },
  };
  writeFileSync(pinnedFile, `${JSON.stringify(pinned, null, 2)}\n`);
  console.log(`pinned ${relative(root, join(pinnedDir, btfFile))} (Linux ${kernel}) and ${relative(root, pinnedFile)}`);
}

function fromPinned() {
  const pinned = JSON.parse(readFileSync(pinnedFile, 'utf8'));
  const btfPath = join(pinnedDir, pinned.btf.file);
  return {
    header: [
      'GENERATED by scripts/gen-sys.mjs — do not edit. Regenerate with `make sys` (`node scripts/gen-sys.mjs`).',
      `Enums, BPF_F_* flags and the layouts of union bpf_attr and the info structs from ${relative(root, btfPath)}, the BTF of`,
      `Linux ${pinned.btf.kernel}; #define constants from ${pinned.constants.from}; errno names and strerror() texts of`,
      `${pinned.errno.from}. All pinned in scripts/sys/ (refresh: \`make sys-pin\`). Offsets are the same on every 64-bit architecture.`,
    ],
    abi: btfAbi(readBtf(readFileSync(btfPath))),
    constants: pinned.constants.values,
    errno: pinned.errno,
  };
}

function fromHeader(options) {
  const abi = headerAbi(options.header, options.cc);
  const errno = libcErrno(options.cc);
  return {
    header: [
      `GENERATED by scripts/gen-sys.mjs --header ${options.header} — do not edit.`,
      `Everything from ${options.header}, laid out by ${options.cc}; errno names and strerror() texts of ${errno.libc}.`,
    ],
    abi,
    constants: headerConstants(options.header, options.cc, new Set(abi.flags.map(([name]) => name))),
    errno,
  };
}

const options = parseArgs(process.argv.slice(2));
if (options.pin) pin(options);
writeFileSync(options.out, emit(options.header && !options.pin ? fromHeader(options) : fromPinned()));
console.log(`wrote ${options.out}`);
