// Keeps README.md true: its examples are run for real.
// - A fenced block whose info string holds `readme-test` (```js readme-test, ```sh readme-test kernel)
//   runs in a fresh process from the package root, in README order; `ebpf` and `ebpf/inspect` imports
//   are pointed at this checkout's build. What it prints must equal, line by line, its `// → TEXT`
//   comments. Blocks marked `kernel` run in a kernel suite (root; skipped with a printed reason
//   elsewhere) with /sys/fs/bpf/ replaced by a private bpffs mount, which is removed afterwards.
// - A ```text block right after a `readme-test` sh block is that command's output (lines in any order).
// - The quick start's sample output is what `ebpf inspect` prints, and every fixture named exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EbpfMap } from '../src/map/index.js';
import { parseFlexibleIntegerLittleEndian } from '../src/map/keyvalue.js';
import { packageRoot } from '../src/sys/native.js';
import { haveTool, kernelSuite, withBpffs } from './kernel/support.js';

interface Block {
  lang: string;
  tags: string[];
  code: string;
  /** 1-based line of the opening fence, for failure messages. */
  line: number;
  /** The ```text block right after this one, if any. */
  output?: string;
}

const README = join(packageRoot, 'README.md');
const readme = readFileSync(README, 'utf8');

/**
 * Fenced blocks that open at column 0 (indented ones, inside list items, are illustrations). A text
 * block is the output of the block before it when nothing but blank lines or one paragraph ending
 * in ':' ("... prints:") separates them.
 */
function blocks(text: string): Block[] {
  const found: Block[] = [];
  const lines = text.split('\n');
  let previousEnd = -1;
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    const block: Block = { lang: open[1]!, tags: open[2]!.trim().split(/\s+/).filter(Boolean), code: body.join('\n'), line: start + 1 };
    const previous = found.at(-1);
    const between = lines.slice(previousEnd + 1, start).join('\n').trim();
    if (block.lang === 'text' && previous !== undefined && previous.output === undefined && (between === '' || (between.endsWith(':') && !between.includes('\n\n')))) {
      previous.output = block.code;
    }
    found.push(block);
    previousEnd = i;
  }
  return found;
}

const all = blocks(readme);
const tested = all.filter((b) => b.tags.includes('readme-test'));
const withTag = (kernel: boolean): Block[] => tested.filter((b) => b.tags.includes('kernel') === kernel);

/** The `// → TEXT` comments of a block, in order: what it must print. */
function expectedOutput(code: string): string[] {
  return [...code.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1]!.trimEnd());
}

const entryPoints: Record<string, string> = {
  ebpf: pathToFileURL(join(packageRoot, 'dist', 'src', 'index.js')).href,
  'ebpf/inspect': pathToFileURL(join(packageRoot, 'dist', 'src', 'inspect.js')).href,
  'ebpf/mock': pathToFileURL(join(packageRoot, 'dist', 'src', 'mock', 'index.js')).href,
};

function where(block: Block): string {
  return `README.md:${block.line}`;
}

/** Runs a js/sh block in a fresh process from the package root; returns its stdout. */
function run(block: Block, bpffs?: string): string {
  let code = block.code.replace(/from '(ebpf(?:\/inspect|\/mock)?)'/g, (_, name: string) => `from '${entryPoints[name]!}'`);
  if (bpffs !== undefined) code = code.replaceAll('/sys/fs/bpf/', `${bpffs}/`);
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-readme-'));
  try {
    let result;
    if (block.lang === 'js') {
      const file = join(dir, 'example.mjs');
      writeFileSync(file, code);
      result = spawnSync(process.execPath, [file], { cwd: packageRoot, encoding: 'utf8' });
    } else if (block.lang === 'sh') {
      result = spawnSync('bash', ['-euo', 'pipefail', '-c', code], { cwd: packageRoot, encoding: 'utf8' });
    } else {
      throw new Error(`${where(block)}: readme-test blocks are js or sh, not ${block.lang}`);
    }
    if (result.error) throw result.error;
    if (result.status !== 0) throw new Error(`${where(block)} exited with ${result.status}:\n${result.stderr}`);
    return result.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function checkOutput(block: Block, stdout: string): void {
  const printed = stdout.split('\n').slice(0, -1);
  if (block.lang === 'js') assert.equal(printed, expectedOutput(block.code), `${where(block)}: printed lines vs its // → comments`);
  if (block.output !== undefined) {
    assert.equal([...printed].sort(), block.output.split('\n').sort(), `${where(block)}: output vs the text block after it`);
  }
}

test('the README has tested examples of inspect, maps, helpers and programs', () => {
  assert.ok(withTag(false).length >= 2, 'unit examples');
  assert.ok(withTag(true).length >= 5, 'kernel examples');
  for (const api of ['inspect(', 'EbpfMap.create(', 'LPMTrie', 'PerCPUArray', 'EbpfMap.fromPinned(', 'loadElf(', 'testRun(', 'VerifierError', 'attach(', 'PerfEvents', 'RingBuffer', 'RecordDecoder', 'relocate(', 'disassembleProgram(', 'formatDisassembly(', 'disassemble()', 'UserRingBuffer', 'LinkAttachment.fromPinned(']) {
    assert.ok(tested.some((b) => b.code.includes(api)), `a tested example uses ${api}`);
  }
  assert.ok(tested.some((b) => b.lang === 'sh' && b.code.includes('bpftool map dump') && b.output !== undefined), 'the bpftool dump and its output');
});

test('the quick start: its fixture exists and its sample output is what `ebpf inspect` prints', () => {
  const quickStart = all.find((b) => b.lang === 'sh' && b.code.includes('npm install'));
  assert.ok(quickStart?.output !== undefined, 'quick start with sample output');
  const fixture = /npx ebpf inspect (\S+)/.exec(quickStart!.code)![1]!;
  for (const [, path] of readme.matchAll(/(test\/fixtures\/[\w.]+\.o)/g)) assert.ok(existsSync(join(packageRoot, path!)), `${path} exists`);
  // npx runs the bin itself (a shell exec): it must be executable and start with a shebang, which
  // `npm run build` (also prepare and pretest) sees to; npm only does it for installed dependencies.
  const bin = join(packageRoot, 'dist', 'src', 'cli', 'main.js');
  assert.ok((statSync(bin).mode & 0o111) !== 0, `${bin} is executable`);
  assert.ok(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n'), `${bin} starts with a shebang`);
  const printed = execFileSync(bin, ['inspect', fixture], { cwd: packageRoot, encoding: 'utf8' }).split('\n');
  const sample = quickStart!.output!.split('\n');
  const shown = sample.indexOf('...') < 0 ? sample : sample.slice(0, sample.indexOf('...'));
  assert.equal(printed.slice(0, shown.length), shown);
});

for (const block of withTag(false)) {
  test(`${where(block)}: ${block.lang} example prints what it says`, () => checkOutput(block, run(block)));
}

test.run();

const kernel = kernelSuite('README kernel examples');

/** bpftool's view of a pinned map with integer keys and values: "key=value" lines, sorted. */
function bpftoolRows(path: string): string[] {
  const dump = JSON.parse(execFileSync('bpftool', ['-j', 'map', 'dump', 'pinned', path], { encoding: 'utf8' })) as Array<{ key: string[]; value: string[] }>;
  const int = (hex: string[]): bigint => parseFlexibleIntegerLittleEndian(Uint8Array.from(hex.map((b) => parseInt(b, 16))));
  return dump.map((e) => `${int(e.key)}=${int(e.value)}`).sort();
}

kernel('every kernel example runs in order in its own process; bpftool agrees with EbpfMap on the pinned map', async () => {
  await withBpffs((dir) => {
    for (const block of withTag(true)) {
      if (block.code.includes('bpftool') && !haveTool('bpftool', `${where(block)} (a bpftool example)`)) continue;
      if (block.code.includes("execFileSync('ip'") && !haveTool('ip', `${where(block)} (an example making a veth pair)`)) continue;
      const stdout = run(block, dir);
      checkOutput(block, stdout);
      const dumped = /bpftool map dump pinned (\S+)/.exec(block.code)?.[1];
      if (dumped !== undefined) {
        const path = dumped.replace('/sys/fs/bpf/', `${dir}/`);
        using map = EbpfMap.fromPinned(path);
        const ours = [...map.entries()].map(([k, v]) => `${parseFlexibleIntegerLittleEndian(k)}=${parseFlexibleIntegerLittleEndian(v)}`).sort();
        assert.equal(bpftoolRows(path), ours, `${where(block)}: bpftool -j vs EbpfMap.fromPinned`);
        assert.ok(ours.length > 0);
      }
    }
  });
});

kernel.run();
