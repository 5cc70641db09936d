// A UAPI header (linux/bpf.h) and the C library, read by the C compiler, for scripts/gen-sys.mjs: the
// names and member lists are parsed from the header's text; every value, offset and size is printed by
// a C program (offsetof/sizeof) compiled with CC and run, so the compiler, not this script, does the
// layout. Used to refresh the pinned inputs (`gen-sys.mjs --pin`) and to check a header against them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENUMS, INFO_STRUCTS, attrGroups, isEnumValue, leaves } from './abi.mjs';

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

// ---- What gen-sys takes from a header -------------------------------------------------------------

/** Enums, BPF_F_* flags of anonymous enums, and the bpf_attr/info layouts of a UAPI header, via `cc`. */
export function headerAbi(header, cc) {
  const source = stripComments(readFileSync(header, 'utf8'));
  const enums = ENUMS.map((e) => ({ ...e, names: enumNames(source, e.c).filter((n) => isEnumValue(e, n)) }));
  const flagNames = anonymousEnumNames(source).filter((n) => n.startsWith('BPF_F_'));
  const attr = attrGroups(aggregateMembers(source, 'union', 'bpf_attr'));
  const infos = INFO_STRUCTS.map((s) => ({ ...s, fields: leaves(aggregateMembers(source, 'struct', s.c), []) }));
  const entries = [];
  for (const e of enums) for (const n of e.names) entries.push([`enum.${e.ts}.${n}`, n]);
  for (const n of flagNames) entries.push([`const.${n}`, n]);
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
  const values = runC(cc, probeSource(`#include "${header}"`, entries), 'layout');
  return {
    enums: enums.map((e) => ({ ...e, values: e.names.map((name) => ({ name, value: values[`enum.${e.ts}.${name}`] })) })),
    flags: flagNames.map((n) => [n, values[`const.${n}`]]),
    attrSize: values.ATTR_SIZE,
    attr: attr.map((g) => ({
      group: g.group,
      fields: leaves(g.members, g.prefix).map(({ path }) => {
        const access = path.join('.');
        return { key: path.slice(g.prefix.length), offset: values[`attr.${g.group}.${access}.offset`], size: values[`attr.${g.group}.${access}.size`] };
      }),
    })),
    infos: infos.map((s) => ({
      ts: s.ts, c: s.c, size: values[`info.${s.ts}.SIZE`],
      fields: s.fields.map(({ path }) => {
        const access = path.join('.');
        return { key: path, offset: values[`info.${s.ts}.${access}.offset`], size: values[`info.${s.ts}.${access}.size`] };
      }),
    })),
  };
}

/** The header's object-like #defines and anonymous-enum constants named BPF_* or XDP_*, by value, except `exclude`. */
export function headerConstants(header, cc, exclude = new Set()) {
  const text = readFileSync(header, 'utf8');
  const names = [...new Set([...integerDefines(text), ...anonymousEnumNames(stripComments(text))])]
    .filter((n) => (n.startsWith('BPF_') || n.startsWith('XDP_')) && !exclude.has(n));
  const values = runC(cc, probeSource(`#include "${header}"`, names.map((n) => [`const.${n}`, n])), 'header constants');
  return Object.fromEntries(names.map((n) => [n, values[`const.${n}`]]).sort(([a], [b]) => a.localeCompare(b)));
}

/** The C library's errno names (without aliases) and strerror() texts, and which library it is. */
export function libcErrno(cc) {
  const errnoLoop = `  for (int e = 1; e < 134; e++) printf("\\"errno.%d\\": \\"%s\\",\\n", e, strerror(e));
#ifdef __GLIBC__
  printf("\\"libc\\": \\"glibc %d.%d\\",\\n", __GLIBC__, __GLIBC_MINOR__);
#endif`;
  const values = runC(cc, probeSource('#include <errno.h>\n#include <string.h>\n#include <stdio.h>', errnoNames(cc).map((n) => [`errname.${n}`, n]), errnoLoop), 'errno');
  const names = Object.entries(values).filter(([key]) => key.startsWith('errname.')).map(([key, value]) => [value, key.slice(8)]).sort(([a], [b]) => a - b);
  const messages = Object.entries(values).filter(([key]) => key.startsWith('errno.')).map(([key, message]) => [Number(key.slice(6)), message]);
  return { libc: values.libc ?? 'the C library', names: Object.fromEntries(names), messages: Object.fromEntries(messages) };
}
