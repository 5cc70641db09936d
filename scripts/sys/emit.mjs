// src/sys/generated.ts from the model scripts/gen-sys.mjs builds: { enums, flags, attrSize, attr, infos }
// (from pinned BTF or a header), constants ({ NAME: value }) and errno ({ names, messages } by value).

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

/** The file's text; `header` is its opening comment lines (without the `// `). */
export function emit({ header, abi, constants, errno }) {
  const out = header.map((line) => `// ${line}`);
  out.push('');
  out.push('/** A field of a kernel struct: byte offset and size. */');
  out.push('export interface Field {\n  readonly offset: number;\n  readonly size: number;\n}');
  out.push('');

  for (const e of abi.enums) {
    const seen = new Map();
    out.push(`/** ${e.doc} */`);
    out.push(`export enum ${e.ts} {`);
    for (const { name, value } of e.values) {
      out.push(`  ${pascal(name, e.prefix)} = ${value},`);
      // Type names as bpftool and libbpf print them: the kernel's name, lower case, without its prefix.
      if (!seen.has(value)) seen.set(value, e.kernelNames ? name : name.slice(e.prefix.length).toLowerCase());
    }
    out.push('}');
    const table = `${e.ts.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}_NAMES`;
    const unknown = e.kernelNames ? e.ts : e.c.replace(/^bpf_/, '');
    out.push(`/** ${e.kernelNames ? "The kernel's names" : "bpftool's names (libbpf's)"} of ${e.ts} values: the one name table, used in every output. */`);
    out.push(`export const ${table}: Readonly<Record<number, string>> = {`);
    for (const [value, name] of seen) out.push(`  ${value}: '${name}',`);
    out.push('};');
    out.push(`/** The name of a ${e.ts} value (e.g. '${seen.get(1) ?? ''}'), or '${unknown}(n)' for one this table does not know. */`);
    out.push(`export function ${e.nameFn}(value: number): string {\n  return ${table}[value] ?? \`${unknown}(\${value})\`;\n}`);
    out.push('');
  }

  const all = new Map([...Object.entries(constants), ...abi.flags]);
  out.push('// Flags and constants (BPF_ANY, BPF_F_*, BPF_PSEUDO_*, ...), by their kernel names.');
  for (const [name, value] of [...all].sort(([a], [b]) => a.localeCompare(b))) out.push(`export const ${name} = ${value};`);
  out.push('');

  out.push('/** Size of union bpf_attr. */');
  out.push(`export const ATTR_SIZE = ${abi.attrSize};`);
  out.push('');
  out.push("/** union bpf_attr member layouts per command family (MAP_CREATE, MAP_ELEM, ...); SIZE ends the family's last member. */");
  out.push('export const ATTR = {');
  for (const g of abi.attr) {
    const end = Math.max(...g.fields.map((f) => f.offset + f.size));
    out.push(`  ${g.group}: {`);
    out.push(...objectLines(g.fields, '    '));
    out.push(`    SIZE: ${Math.ceil(end / 8) * 8},`);
    out.push('  },');
  }
  out.push('} as const;');
  out.push('');
  for (const s of abi.infos) {
    out.push(`/** struct ${s.c} layout (bitfields omitted). */`);
    out.push(`export const ${s.ts} = {`);
    out.push(...objectLines(s.fields, '  '));
    out.push(`  SIZE: ${s.size},`);
    out.push('} as const;');
    out.push('');
  }

  out.push("/** Linux's errno names by value (<errno.h>: the kernel's asm-generic/errno-base.h and errno.h), without aliases. */");
  out.push('export const ERRNO_NAMES: Readonly<Record<number, string>> = {');
  for (const [value, name] of Object.entries(errno.names).sort(([a], [b]) => a - b)) out.push(`  ${value}: '${name}',`);
  out.push('};');
  out.push('');
  out.push("/** strerror() text by errno (Linux's C library). */");
  out.push('export const ERRNO_MESSAGES: Readonly<Record<number, string>> = {');
  for (const [value, message] of Object.entries(errno.messages).sort(([a], [b]) => a - b)) out.push(`  ${value}: ${JSON.stringify(message)},`);
  out.push('};');
  return `${out.join('\n')}\n`;
}
