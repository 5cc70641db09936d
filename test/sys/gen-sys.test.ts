// scripts/gen-sys.mjs: the committed src/sys/generated.ts is what it generates from this kernel's BTF,
// and the installed UAPI header's enums and layouts agree with it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
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

const vmlinux = '/sys/kernel/btf/vmlinux';
const generatedFor = /\(kernel ([^)]+)\)/.exec(committed)?.[1];
const vmlinuxSkip = headerSkip ?? (!existsSync(vmlinux) ? `no ${vmlinux}` : generatedFor !== release() ? `committed file is for kernel ${generatedFor}, this is ${release()}` : undefined);

test('src/sys/generated.ts is exactly what `make sys` generates on its kernel', () => {
  if (vmlinuxSkip) return console.log(`  skipped: ${vmlinuxSkip}`);
  try {
    execFileSync('bpftool', ['version'], { stdio: 'ignore' });
  } catch {
    return console.log('  skipped: no bpftool');
  }
  assert.fixture(generate('--vmlinux'), committed);
});

test.run();
