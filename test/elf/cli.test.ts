// The `ebpf` command: tables, --json, and one-line errors with exit code 1.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ObjectInfo } from '../../src/inspect.js';
import { fixturesDir } from './fixture-files.js';
import { sampleObject } from './sample-object.js';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'ebpf-cli-'));
const object = join(dir, 'sample.o');
writeFileSync(object, sampleObject().bytes);
const bad = join(dir, 'bad.o');
writeFileSync(bad, new TextEncoder().encode('not an object at all'));

const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('inspect prints programs, maps, global data, relocations and the license', () => {
  const r = run('inspect', object);
  assert.is(r.status, 0, r.stderr);
  for (const want of [/license "Dual MIT\/GPL"/, /Programs \(3\)/, /^prog1\s+xdp\s+xdp\s+xdp\s+-\s+5\s+1$/m,
    /Subprograms \(1\)/, /^outer\s+array_of_maps\s+4\s+4\s+2\s+0x0\s+0\s+inner\s+\/sys\/fs\/bpf\/outer\s+legacy$/m,
    /Global data \(3\)/, /^\.bss\s+bss\s+16\s+0x0\s+no$/m, /^xdp\s+40\s+prog2\s+call\s+sub\s+program sub$/m,
    /unknown-section: section 'unknown_sec'/]) {
    assert.match(r.stdout, want);
  }
});

test('--core prints how CO-RE relocations resolve against a BTF file (an ELF with .BTF here: the object itself)', () => {
  const core = join(fixturesDir, 'core_relos.o');
  const r = run('inspect', core, '--core', '--btf-file', core);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^.*core_relos\.o: 45 CO-RE relocation\(s\) against .*core_relos\.o$/m);
  assert.match(r.stdout, /^PROGRAM\s+INSN\s+KIND\s+LOCAL TYPE\s+ACCESS\s+TARGET\s+VALUE\s+STATUS$/m);
  assert.match(r.stdout, /^field_reads\s+15\s+byte_off\s+struct task_struct\s+0:3\s+\[5\] struct task_struct\.real_parent \(0:3 @ offset 16\)\s+16 -> 16\s+relocated$/m);
  // task_struct and task_struct___old are both candidates for task_struct here, with pid at 8 and 0: libbpf refuses that
  assert.match(r.stdout, /^field_reads\s+2\s+byte_off\s+struct task_struct\s+0:1\s+-\s+-\s+failed$/m);
  assert.match(r.stdout, /^  program 'field_reads': instruction 2: byte_off relocation on struct 'task_struct' \[5\], access string '0:1', failed: field offset ambiguity: candidates \[5\] and \[14\] put it at bit 64 and 0$/m);
  const json = run('inspect', core, '--core', '--json', `--btf-file=${core}`);
  assert.is(json.status, 0, json.stderr);
  assert.is((JSON.parse(json.stdout) as unknown[]).length, 45);
  const missing = run('inspect', core, '--core', '--btf-file', join(dir, 'no-such-vmlinux'));
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /^ebpf: cannot read .*no-such-vmlinux: no such file\n$/);
  assert.is(run('inspect', core, '--btf-file', core).status, 1);
});

test('--json prints the ObjectInfo', () => {
  const r = run('inspect', object, '--json');
  assert.is(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout) as { programs: { name: string }[]; license: string };
  assert.equal(info.programs.map((p) => p.name), ['prog1', 'prog2', 'sub', 'unknown_sec']);
  assert.is(info.license, 'Dual MIT/GPL');
});

test('--json includes each program\'s .BTF.ext records', () => {
  const r = run('inspect', join(fixturesDir, 'core_kconfig.o'), '--json');
  assert.is(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout) as ObjectInfo;
  const fork = info.programs.find((p) => p.name === 'fork_parent')!;
  assert.is(fork.btfExt!.funcInfo[0]!.name, 'fork_parent');
  assert.ok(fork.btfExt!.lineInfo.length > 0);
  assert.ok(fork.btfExt!.coreRelocations.length > 0);
});

for (const [name, args, message] of [
  ['a file that is not ELF', ['inspect', bad], /^ebpf: .*bad\.o: not an ELF file: bad magic at offset 0\n$/],
  ['a missing file', ['inspect', join(dir, 'nope.o')], /^ebpf: cannot read .*nope\.o: no such file\n$/],
  ['a directory', ['inspect', dir], /^ebpf: cannot read .*: is a directory\n$/],
  ['no file', ['inspect'], /^ebpf: inspect needs a FILE\.o\n$/],
  ['an unknown option', ['inspect', object, '--frob'], /^ebpf: unknown option --frob for inspect\n$/],
  ['an unknown command', ['frob'], /^ebpf: unknown command "frob"; try ebpf --help\n$/],
] as const) {
  test(`${name}: one line on stderr, exit code 1`, () => {
    const r = run(...args);
    assert.is(r.status, 1);
    assert.match(r.stderr, message);
    assert.is(r.stdout, '');
  });
}

test('--help prints the usage and exits 0', () => {
  const r = run('--help');
  assert.is(r.status, 0);
  assert.match(r.stdout, /^usage: ebpf inspect FILE\.o/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
