// scripts/gen-sys.mjs: the committed src/sys/generated.ts is exactly what it generates from the pinned
// inputs in scripts/sys/ (on any machine: plain JS), and the pins agree with this machine's kernel BTF,
// UAPI header and C library wherever both have a value.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../src/sys/native.js';

const script = join(packageRoot, 'scripts', 'gen-sys.mjs');
const committed = readFileSync(join(packageRoot, 'src', 'sys', 'generated.ts'), 'utf8');

function generate(...args: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'gen-sys-test-'));
  try {
    execFileSync(process.execPath, [script, ...args, '--out', join(dir, 'generated.ts')], { stdio: ['ignore', 'ignore', 'pipe'] });
    return readFileSync(join(dir, 'generated.ts'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function hasCompiler(): boolean {
  try {
    execFileSync(process.env.CC ?? 'cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `NAME = value` members of `export enum NAME { ... }`. */
function enumMembers(text: string, name: string): Map<string, number> {
  const body = new RegExp(`export enum ${name} \\{([^}]*)\\}`).exec(text)?.[1] ?? '';
  return new Map([...body.matchAll(/(\w+) = (\d+),/g)].map((m) => [m[1]!, Number(m[2])]));
}

/** The `MAP_ELEM: {...}`-style block of ATTR, as text. */
function attrBlock(text: string, family: string): string {
  return new RegExp(`\\n  ${family}: \\{\\n([\\s\\S]*?)\\n  \\},`).exec(text)?.[1] ?? '';
}

const header = '/usr/include/linux/bpf.h';
const headerSkip = !existsSync(header) ? `no ${header}` : !hasCompiler() ? 'no C compiler' : undefined;

test('the UAPI header generates enums and layouts the committed file extends', () => {
  if (headerSkip) return console.log(`  skipped: ${headerSkip}`);
  const fromHeader = generate('--header', header);
  for (const name of ['BpfCmd', 'MapType', 'ProgramType', 'AttachType', 'LinkType']) {
    const old = enumMembers(fromHeader, name);
    const current = enumMembers(committed, name);
    assert.ok(old.size > 5, `${name} parsed from the header`);
    for (const [member, value] of old) assert.is(current.get(member), value, `${name}.${member}`);
  }
  // Newer kernels append fields: every field the header has keeps its offset and size.
  for (const family of ['MAP_CREATE', 'MAP_ELEM', 'MAP_BATCH', 'PROG_LOAD', 'OBJ', 'GET_ID', 'OBJ_GET_INFO_BY_FD', 'LINK_CREATE']) {
    const fields = attrBlock(fromHeader, family).split('\n').filter((line) => line.includes('offset'));
    assert.ok(fields.length > 0, `ATTR.${family} parsed from the header`);
    const current = attrBlock(committed, family);
    for (const field of fields) assert.ok(current.includes(field), `ATTR.${family}: ${field.trim()}`);
  }
  assert.match(fromHeader, /^export const BPF_ANY = 0;$/m);
});

test('src/sys/generated.ts is exactly what `make sys` generates from the pinned inputs', () => {
  assert.fixture(generate(), committed);
});

/** The parts of scripts/sys/ these tests call (plain JS modules, typed here). */
interface AbiModel {
  enums: Array<{ ts: string; values: Array<{ name: string; value: number }> }>;
  flags: Array<[string, number]>;
  attr: Array<{ group: string; fields: Array<{ key: string[]; offset: number; size: number }> }>;
  infos: Array<{ ts: string; fields: Array<{ key: string[]; offset: number; size: number }> }>;
}
interface BtfType { readonly id: number }
const sysModule = async <T>(name: string): Promise<T> => (await import(pathToFileURL(join(packageRoot, 'scripts', 'sys', name)).href)) as T;
const { readBtf, subsetBtf } = await sysModule<{ readBtf(bytes: Uint8Array): BtfType[]; subsetBtf(types: BtfType[], roots: number[]): Uint8Array }>('btf.mjs');
const { btfAbi, btfRoots } = await sysModule<{ btfAbi(types: BtfType[]): AbiModel; btfRoots(types: BtfType[]): number[] }>('abi.mjs');
const pinned = JSON.parse(readFileSync(join(packageRoot, 'scripts', 'sys', 'pinned.json'), 'utf8')) as {
  btf: { file: string; kernel: string };
  constants: { values: Record<string, number> };
  errno: { names: Record<string, string>; messages: Record<string, string> };
};
const pinnedBtf = readFileSync(join(packageRoot, 'scripts', 'sys', pinned.btf.file));

/** Every enum value, flag, and bpf_attr/info field, as `name → value` (offsets and sizes as 'offset+size'). */
function abiEntries(model: AbiModel): Map<string, number | string> {
  const entries = new Map<string, number | string>();
  for (const e of model.enums) for (const { name, value } of e.values) entries.set(`${e.ts}.${name}`, value);
  for (const [name, value] of model.flags) entries.set(name, value);
  for (const g of [...model.attr, ...model.infos.map((i) => ({ group: i.ts, fields: i.fields }))]) {
    for (const f of g.fields) entries.set(`${g.group}.${f.key.join('.')}`, `${f.offset}+${f.size}`);
  }
  return entries;
}

/** Where both have a value, it is the same (kernels only append to the UAPI). */
function assertAgree(a: AbiModel, b: AbiModel, label: string): void {
  const other = abiEntries(b);
  let shared = 0;
  for (const [key, value] of abiEntries(a)) {
    if (!other.has(key)) continue;
    shared++;
    assert.is(other.get(key), value, `${label}: ${key}`);
  }
  assert.ok(shared > 300, `${label}: only ${shared} values in common`);
}

const vmlinux = '/sys/kernel/btf/vmlinux';

test("the pinned BTF agrees with this kernel's, and is what `make sys-pin` takes from it on its release", () => {
  if (!existsSync(vmlinux)) return console.log(`  skipped: no ${vmlinux} (a kernel without BTF)`);
  const running = readBtf(readFileSync(vmlinux));
  const pinnedTypes = readBtf(pinnedBtf);
  assertAgree(btfAbi(pinnedTypes), btfAbi(running), `the pinned Linux ${pinned.btf.kernel} vs this ${release()}`);
  if (release() === pinned.btf.kernel) assert.ok(Buffer.from(subsetBtf(running, btfRoots(running))).equals(pinnedBtf), 'the same bytes as --pin writes');
});

test("the pinned constants and errno tables agree with this machine's header and C library", () => {
  if (headerSkip) return console.log(`  skipped: ${headerSkip}`);
  const fromHeader = generate('--header', header);
  for (const [name, value] of Object.entries(pinned.constants.values)) {
    const here = new RegExp(`^export const ${name} = (-?\\d+);$`, 'm').exec(fromHeader)?.[1];
    if (here !== undefined) assert.is(Number(here), value, name);
  }
  for (const [value, name] of Object.entries(pinned.errno.names)) {
    const here = new RegExp(`^  ${value}: '(\\w+)',$`, 'm').exec(fromHeader.slice(fromHeader.indexOf('ERRNO_NAMES')))?.[1];
    if (here !== undefined) assert.is(here, name, `errno ${value}`);
  }
});

test.run();
