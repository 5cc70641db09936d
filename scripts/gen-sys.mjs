#!/usr/bin/env node
// Generates src/sys/generated.ts from the kernel's own definitions, so no constant or layout is typed
// by hand:
//   node scripts/gen-sys.mjs [--header PATH] [--vmlinux [BTF]] [--cc CC] [--out FILE]
// --header (default /usr/include/linux/bpf.h): the UAPI header. Its object-like `#define`s (BPF_ANY,
//   BPF_F_LOCK, BPF_PSEUDO_*, ...) and anonymous-enum constants become `export const`s, and without
//   --vmlinux it is also the source of the enums and layouts.
// --vmlinux (default BTF /sys/kernel/btf/vmlinux): take the named enums (every map/program/attach/link
//   type the running kernel has), BPF_F_* flags and the layouts of union bpf_attr and the info structs
//   from `bpftool btf dump file BTF format c` instead: newer than any installed header.
// Names and member lists are parsed from the text; every value, offset and size is printed by a C
// program (offsetof/sizeof) compiled with CC and run, so the compiler, not this script, does the layout.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const DEFAULT_HEADER = '/usr/include/linux/bpf.h';

function parseArgs(argv) {
  const options = { header: DEFAULT_HEADER, vmlinux: undefined, cc: process.env.CC ?? 'cc', out: join(root, 'src/sys/generated.ts') };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--header') options.header = value();
    else if (arg === '--cc') options.cc = value();
    else if (arg === '--out') options.out = value();
    else if (arg === '--vmlinux') options.vmlinux = argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : '/sys/kernel/btf/vmlinux';
    else throw new Error(`unknown option ${arg} (see the comment at the top of ${basename(fileURLToPath(import.meta.url))})`);
  }
  return options;
}

// ---- C text parsing: names and member lists only ---------------------------------------------------

function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
}

/** The body between the braces that open at `open` (index of '{'). */
function braceBody(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return { body: text.slice(open + 1, i), end: i };
  }
  throw new Error(`unbalanced braces after offset ${open}`);
}

/** Constant names of `enum NAME { ... }` in declaration order. */
function enumNames(code, name) {
  const match = new RegExp(`\\benum\\s+${name}\\s*\\{`).exec(code);
  if (!match) throw new Error(`enum ${name} not found`);
  return enumConstants(braceBody(code, match.index + match[0].length - 1).body);
}

function enumConstants(body) {
  return body.split(',').map((entry) => entry.trim().split(/[\s=]/)[0]).filter((n) => /^[A-Za-z_]\w*$/.test(n));
}

/** Constants of every anonymous `enum { ... }`. */
function anonymousEnumNames(code) {
  const names = [];
  for (const match of code.matchAll(/\benum\s*\{/g)) names.push(...enumConstants(braceBody(code, match.index + match[0].length - 1).body));
  return names;
}

/** Object-like integer #defines (NAME VALUE) of a header; function-like and string macros are skipped. */
function integerDefines(text) {
  const names = [];
  for (const match of text.matchAll(/^#define\s+([A-Z_][A-Z0-9_]*)\s+([^\n]+)$/gm)) {
    const value = match[2].replace(/\/\*.*?\*\//g, '').trim();
    if (value && !value.startsWith('"') && /^[\w\s()<>|+\-~]+$/.test(value)) names.push(match[1]);
  }
  return names;
}

/**
 * Members of a struct/union body as a tree: { name, kind: 'field' } or { name|undefined, kind: 'struct',
 * members }. Bitfields are dropped (offsetof cannot take them).
 */
function parseMembers(body) {
  const members = [];
  let i = 0;
  const text = body.replace(/__attribute__\s*\(\([^;{}]*?\)\)/g, ' ');
  while (i < text.length) {
    const rest = text.slice(i);
    const aggregate = /^\s*(struct|union)\s*(\w+)?\s*\{/.exec(rest);
    if (aggregate) {
      const { body: inner, end } = braceBody(text, i + aggregate[0].length - 1);
      const tail = /^\s*(\w+)?\s*(\[[^\]]*\])?\s*;/.exec(text.slice(end + 1));
      if (!tail) throw new Error(`cannot parse the declarator after a nested ${aggregate[1]}`);
      members.push({ kind: 'struct', name: tail[1], members: parseMembers(inner) });
      i = end + 1 + tail[0].length;
      continue;
    }
    const semicolon = text.indexOf(';', i);
    if (semicolon < 0) break;
    const declaration = text.slice(i, semicolon).trim();
    i = semicolon + 1;
    if (!declaration || declaration.includes(':')) continue; // empty or bitfield
    const name = /(\w+)\s*(\[[^\]]*\])*\s*$/.exec(declaration)?.[1];
    if (name) members.push({ kind: 'field', name });
  }
  return members;
}

function aggregateMembers(code, keyword, name) {
  const match = new RegExp(`\\b${keyword}\\s+${name}\\s*\\{`).exec(code);
  if (!match) throw new Error(`${keyword} ${name} not found`);
  return parseMembers(braceBody(code, match.index + match[0].length - 1).body);
}

/** Leaf fields of a member tree with their C access paths (anonymous aggregates add no path step). */
function leaves(members, prefix, out = []) {
  for (const member of members) {
    if (member.kind === 'field') out.push({ path: [...prefix, member.name] });
    else leaves(member.members, member.name ? [...prefix, member.name] : prefix, out);
  }
  return out;
}

// union bpf_attr's anonymous structs carry no name in BTF, so they are named by the command family the
// header's comments give them, recognised by their first member.
const ANONYMOUS_ATTR_GROUPS = {
  map_type: 'MAP_CREATE',
  map_fd: 'MAP_ELEM',
  prog_type: 'PROG_LOAD',
  pathname: 'OBJ',
  target_fd: 'PROG_ATTACH',
  start_id: 'GET_ID',
  btf: 'BTF_LOAD',
};
// Named members of union bpf_attr, by the command that uses them.
const NAMED_ATTR_GROUPS = { batch: 'MAP_BATCH', test: 'PROG_TEST_RUN', info: 'OBJ_GET_INFO_BY_FD', query: 'PROG_QUERY', raw_tracepoint: 'RAW_TRACEPOINT_OPEN' };

function firstLeaf(member) {
  return member.kind === 'field' ? member.name : firstLeaf(member.members[0]);
}

function attrGroups(members) {
  return members.map((member) => {
    if (member.kind !== 'struct') throw new Error(`union bpf_attr: unexpected direct member ${member.name}`);
    if (member.name) return { group: NAMED_ATTR_GROUPS[member.name] ?? member.name.toUpperCase(), prefix: [member.name], members: member.members };
    const first = firstLeaf(member);
    const group = ANONYMOUS_ATTR_GROUPS[first];
    if (!group) throw new Error(`union bpf_attr: anonymous struct starting with ${first} is new: name it in ANONYMOUS_ATTR_GROUPS`);
    return { group, prefix: [], members: member.members };
  });
}

// ---- Evaluation by the C compiler ---------------------------------------------------------------

function runC(cc, source, label) {
  const dir = mkdtempSync(join(tmpdir(), 'gen-sys-'));
  try {
    writeFileSync(join(dir, 'probe.c'), source);
    execFileSync(cc, ['-w', '-o', join(dir, 'probe'), join(dir, 'probe.c')], { stdio: ['ignore', 'inherit', 'inherit'] });
    return JSON.parse(execFileSync(join(dir, 'probe'), { encoding: 'utf8', maxBuffer: 64 << 20 }));
  } catch (e) {
    throw new Error(`compiling or running the ${label} probe with ${cc} failed: ${e.message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** C code printing `"key": value,` for each (key, C expression); the caller wraps it in a JSON object. */
function printers(entries) {
  return entries.map(([key, expression]) => `  printf("\\"%s\\": %lld,\\n", "${key}", (long long)(${expression}));`).join('\n');
}

function probeSource(includes, entries, extra = '') {
  return `${includes}
int printf(const char *, ...);
int main(void) {
  printf("{\\n");
${printers(entries)}
${extra}
  printf("\\"\\": 0}\\n");
  return 0;
}
`;
}

/**
 * The errno names <errno.h> defines, from the preprocessor's macro list. Aliases are defined as
 * another name (EWOULDBLOCK EAGAIN, EDEADLOCK EDEADLK, ENOTSUP EOPNOTSUPP) and are left out, so each
 * value keeps its canonical name.
 */
function errnoNames(cc) {
  const macros = execFileSync(cc, ['-dM', '-E', '-x', 'c', '-'], { input: '#include <errno.h>\n', encoding: 'utf8' });
  return [...macros.matchAll(/^#define (E[A-Z0-9_]+) (\S+)$/gm)].filter((m) => !/^E[A-Z]/.test(m[2])).map((m) => m[1]).sort();
}

// ---- Naming ------------------------------------------------------------------------------------------

// Words written in TypeScript as goebpf writes them (MapTypePerCPUHash, MapTypeLPMTrie, ProgramTypeXDP...).
const WORDS = {
  PERCPU: 'PerCPU', LRU: 'LRU', LPM: 'LPM', CPU: 'CPU', CPUMAP: 'CPUMap', XSK: 'XSK', XSKMAP: 'XSKMap', DEVMAP: 'DevMap',
  SOCKMAP: 'SockMap', SOCKHASH: 'SockHash', SOCKARRAY: 'SockArray', REUSEPORT: 'ReusePort', RINGBUF: 'RingBuf',
  SK: 'SK', SKB: 'SKB', XDP: 'XDP', CLS: 'CLS', ACT: 'ACT', LSM: 'LSM', TCX: 'TCX',
  LIRC: 'Lirc', INET4: 'Inet4', INET6: 'Inet6', UDP4: 'UDP4', UDP6: 'UDP6', UNIX: 'Unix', TCP: 'TCP',
};

function pascal(kernelName, prefix) {
  return kernelName.slice(prefix.length).split('_').filter(Boolean)
    .map((word) => WORDS[word] ?? word[0] + word.slice(1).toLowerCase()).join('');
}

const ENUMS = [
  { ts: 'BpfCmd', c: 'bpf_cmd', prefix: 'BPF_', nameFn: 'bpfCmdName', doc: 'bpf(2) commands (enum bpf_cmd).', kernelNames: true },
  { ts: 'MapType', c: 'bpf_map_type', prefix: 'BPF_MAP_TYPE_', nameFn: 'mapTypeName', doc: 'Map types (enum bpf_map_type).' },
  { ts: 'ProgramType', c: 'bpf_prog_type', prefix: 'BPF_PROG_TYPE_', nameFn: 'programTypeName', doc: 'Program types (enum bpf_prog_type).' },
  { ts: 'AttachType', c: 'bpf_attach_type', prefix: 'BPF_', nameFn: 'attachTypeName', doc: 'Attach types (enum bpf_attach_type).' },
  { ts: 'LinkType', c: 'bpf_link_type', prefix: 'BPF_LINK_TYPE_', nameFn: 'linkTypeName', doc: 'Link types (enum bpf_link_type).' },
];

const INFO_STRUCTS = [
  { ts: 'MAP_INFO', c: 'bpf_map_info' },
  { ts: 'PROG_INFO', c: 'bpf_prog_info' },
  { ts: 'LINK_INFO', c: 'bpf_link_info' },
  { ts: 'BTF_INFO', c: 'bpf_btf_info' },
];

// ---- Generation ------------------------------------------------------------------------------------

function generate(options) {
  const headerText = readFileSync(options.header, 'utf8');
  const headerCode = stripComments(headerText);
  let source = headerCode;
  let sourceInclude = `#include "${options.header}"`;
  let sourceLabel = options.header;
  let vmlinuxDir;
  if (options.vmlinux) {
    const dump = execFileSync('bpftool', ['btf', 'dump', 'file', options.vmlinux, 'format', 'c'], { encoding: 'utf8', maxBuffer: 1 << 30 });
    vmlinuxDir = mkdtempSync(join(tmpdir(), 'gen-sys-vmlinux-'));
    writeFileSync(join(vmlinuxDir, 'vmlinux.h'), dump);
    source = stripComments(dump);
    sourceInclude = `#define BPF_NO_PRESERVE_ACCESS_INDEX\n#include "${join(vmlinuxDir, 'vmlinux.h')}"`;
    sourceLabel = `\`bpftool btf dump file ${options.vmlinux} format c\` (kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()})`;
  }
  try {
    return emit(options, { headerText, headerCode, source, sourceInclude, sourceLabel });
  } finally {
    if (vmlinuxDir) rmSync(vmlinuxDir, { recursive: true, force: true });
  }
}

function emit(options, { headerText, headerCode, source, sourceInclude, sourceLabel }) {
  // Enums, flags from the source's anonymous enums, layouts: evaluated against the source.
  // Counters (__MAX_BPF_CMD, MAX_BPF_LINK_TYPE) and deprecated aliases are not values to name.
  const isValue = (e, n) => n.startsWith(e.prefix) && !n.includes('MAX_') && !n.endsWith('_DEPRECATED');
  const enums = ENUMS.map((e) => ({ ...e, names: enumNames(source, e.c).filter((n) => isValue(e, n)) }));
  const sourceFlags = anonymousEnumNames(source).filter((n) => n.startsWith('BPF_F_'));
  const attr = attrGroups(aggregateMembers(source, 'union', 'bpf_attr'));
  const infos = INFO_STRUCTS.map((s) => ({ ...s, fields: leaves(aggregateMembers(source, 'struct', s.c), []) }));

  const entries = [];
  for (const e of enums) for (const n of e.names) entries.push([`enum.${e.ts}.${n}`, n]);
  for (const n of sourceFlags) entries.push([`const.${n}`, n]);
  entries.push(['ATTR_SIZE', 'sizeof(union bpf_attr)']);
  for (const g of attr) {
    for (const { path } of leaves(g.members, g.prefix)) {
      const access = path.join('.');
      entries.push([`attr.${g.group}.${access}.offset`, `__builtin_offsetof(union bpf_attr, ${access})`]);
      entries.push([`attr.${g.group}.${access}.size`, `sizeof(((union bpf_attr *)0)->${access})`]);
    }
  }
  for (const s of infos) {
    entries.push([`info.${s.ts}.SIZE`, `sizeof(struct ${s.c})`]);
    for (const { path } of s.fields) {
      const access = path.join('.');
      entries.push([`info.${s.ts}.${access}.offset`, `__builtin_offsetof(struct ${s.c}, ${access})`]);
      entries.push([`info.${s.ts}.${access}.size`, `sizeof(((struct ${s.c} *)0)->${access})`]);
    }
  }
  const values = runC(options.cc, probeSource(sourceInclude, entries), 'layout');

  // The header's #defines and anonymous-enum constants, and the C library's errno descriptions.
  const definedNames = [...new Set([...integerDefines(headerText), ...anonymousEnumNames(headerCode)])]
    .filter((n) => (n.startsWith('BPF_') || n.startsWith('XDP_')) && !(`const.${n}` in values));
  const errnoLoop = `  for (int e = 1; e < 134; e++) printf("\\"errno.%d\\": \\"%s\\",\\n", e, strerror(e));`;
  const errnoEntries = errnoNames(options.cc).map((n) => [`errname.${n}`, n]);
  const headerValues = runC(
    options.cc,
    probeSource(`#include <errno.h>\n#include <string.h>\n#include <stdio.h>\n#include "${options.header}"`, [...definedNames.map((n) => [`const.${n}`, n]), ...errnoEntries], errnoLoop),
    'header constants',
  );

  const out = [];
  const args = [options.vmlinux ? `--vmlinux${options.vmlinux === '/sys/kernel/btf/vmlinux' ? '' : ` ${options.vmlinux}`}` : '', options.header === DEFAULT_HEADER ? '' : `--header ${options.header}`];
  out.push(`// GENERATED by scripts/gen-sys.mjs — do not edit. Regenerate with \`${['node scripts/gen-sys.mjs', ...args.filter(Boolean)].join(' ')}\`.`);
  out.push(`// Enums, BPF_F_* flags and the layouts of union bpf_attr and the info structs from ${sourceLabel};`);
  out.push(`// #define constants from ${options.header}; errno names from <errno.h>, descriptions from strerror().`);
  out.push(`// Offsets and sizes were computed by ${options.cc} (offsetof/sizeof) for ${process.arch}.`);
  out.push('');
  out.push('/** A field of a kernel struct: byte offset and size. */');
  out.push('export interface Field {\n  readonly offset: number;\n  readonly size: number;\n}');
  out.push('');

  for (const e of enums) {
    const seen = new Map();
    out.push(`/** ${e.doc} */`);
    out.push(`export enum ${e.ts} {`);
    for (const n of e.names) {
      const value = values[`enum.${e.ts}.${n}`];
      out.push(`  ${pascal(n, e.prefix)} = ${value},`);
      if (!seen.has(value)) seen.set(value, e.kernelNames ? n : pascal(n, e.prefix));
    }
    out.push('}');
    const table = `${e.ts.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}_NAMES`;
    out.push(`const ${table}: Readonly<Record<number, string>> = {`);
    for (const [value, name] of seen) out.push(`  ${value}: '${name}',`);
    out.push('};');
    out.push(`/** The name of a ${e.ts} value (${e.kernelNames ? "the kernel's, e.g. 'BPF_MAP_CREATE'" : `e.g. '${seen.get(1) ?? ''}'`}), or '${e.ts}(n)' for one this table does not know. */`);
    out.push(`export function ${e.nameFn}(value: number): string {\n  return ${table}[value] ?? \`${e.ts}(\${value})\`;\n}`);
    out.push('');
  }

  const constants = new Map();
  for (const [key, value] of [...Object.entries(headerValues), ...Object.entries(values)]) if (key.startsWith('const.')) constants.set(key.slice(6), value);
  out.push('// Flags and constants (BPF_ANY, BPF_F_*, BPF_PSEUDO_*, ...), by their kernel names.');
  for (const [name, value] of [...constants].sort(([a], [b]) => a.localeCompare(b))) out.push(`export const ${name} = ${value};`);
  out.push('');

  out.push('/** Size of union bpf_attr. */');
  out.push(`export const ATTR_SIZE = ${values.ATTR_SIZE};`);
  out.push('');
  out.push("/** union bpf_attr member layouts per command family (MAP_CREATE, MAP_ELEM, ...); SIZE ends the family's last member. */");
  out.push('export const ATTR = {');
  for (const g of attr) {
    const fields = leaves(g.members, g.prefix).map(({ path }) => {
      const access = path.join('.');
      return { key: path.slice(g.prefix.length), offset: values[`attr.${g.group}.${access}.offset`], size: values[`attr.${g.group}.${access}.size`] };
    });
    const end = Math.max(...fields.map((f) => f.offset + f.size));
    out.push(`  ${g.group}: {`);
    out.push(...objectLines(fields, '    '));
    out.push(`    SIZE: ${Math.ceil(end / 8) * 8},`);
    out.push('  },');
  }
  out.push('} as const;');
  out.push('');
  for (const s of infos) {
    const fields = s.fields.map(({ path }) => {
      const access = path.join('.');
      return { key: path, offset: values[`info.${s.ts}.${access}.offset`], size: values[`info.${s.ts}.${access}.size`] };
    });
    out.push(`/** struct ${s.c} layout (bitfields omitted). */`);
    out.push(`export const ${s.ts} = {`);
    out.push(...objectLines(fields, '  '));
    out.push(`  SIZE: ${values[`info.${s.ts}.SIZE`]},`);
    out.push('} as const;');
    out.push('');
  }

  out.push("/** Linux's errno names by value (<errno.h>: the kernel's asm-generic/errno-base.h and errno.h), without aliases. */");
  out.push('export const ERRNO_NAMES: Readonly<Record<number, string>> = {');
  const errnos = Object.entries(headerValues).filter(([key]) => key.startsWith('errname.')).map(([key, value]) => [value, key.slice(8)]);
  for (const [value, name] of errnos.sort(([a], [b]) => a - b)) out.push(`  ${value}: '${name}',`);
  out.push('};');
  out.push('');
  out.push("/** strerror() text by errno (Linux's C library). */");
  out.push('export const ERRNO_MESSAGES: Readonly<Record<number, string>> = {');
  for (const [key, message] of Object.entries(headerValues)) if (key.startsWith('errno.')) out.push(`  ${key.slice(6)}: ${JSON.stringify(message)},`);
  out.push('};');
  return `${out.join('\n')}\n`;
}

/** Nested object-literal lines for fields keyed by path (named nested structs become nested objects). */
function objectLines(fields, indent) {
  const lines = [];
  const groups = new Map();
  for (const field of fields) {
    if (field.key.length === 1) lines.push(`${indent}${field.key[0]}: { offset: ${field.offset}, size: ${field.size} },`);
    else {
      if (!groups.has(field.key[0])) {
        groups.set(field.key[0], []);
        lines.push({ group: field.key[0] });
      }
      groups.get(field.key[0]).push({ ...field, key: field.key.slice(1) });
    }
  }
  return lines.flatMap((line) =>
    typeof line === 'string' ? [line] : [`${indent}${line.group}: {`, ...objectLines(groups.get(line.group), `${indent}  `), `${indent}},`],
  );
}

const options = parseArgs(process.argv.slice(2));
writeFileSync(options.out, generate(options));
console.log(`wrote ${options.out}`);
