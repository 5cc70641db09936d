// Section and symbol tables agree with llvm-readelf-19 on every fixture object and on the
// byte-built samples (both byte orders). Skipped, with the reason printed, without that tool.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inspect, type ObjectInfo } from '../../src/inspect.js';
import { fixtureObjects } from './fixture-files.js';
import { sampleObject } from './sample-object.js';

const READELF = 'llvm-readelf-19';

interface ReadelfSection {
  Section: { Index: number; Name: { Name: string }; Type: { Value: number }; Flags: { Value: number }; Offset: number;
    Size: number; Link: number; Info: number; AddressAlignment: number; EntrySize: number };
}
interface ReadelfSymbol {
  Symbol: { Name: { Name: string }; Value: number; Size: number; Binding: { Value: number }; Type: { Value: number };
    Other: { Value: number }; Section: { Value: number } };
}

function readelf(path: string): { sections: ReadelfSection[]; symbols: ReadelfSymbol[] } {
  const r = spawnSync(READELF, ['--elf-output-style=JSON', '-S', '-s', path], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${READELF} failed on ${path}: ${r.stderr}`);
  const [file] = JSON.parse(r.stdout) as [{ Sections: ReadelfSection[]; Symbols?: ReadelfSymbol[] }];
  return { sections: file.Sections, symbols: file.Symbols ?? [] };
}

const BINDINGS = ['local', 'global', 'weak'];
const TYPES = ['notype', 'object', 'func', 'section', 'file', 'common', 'tls'];

function compare(path: string, info: ObjectInfo): void {
  const want = readelf(path);
  assert.is(info.sections.length, want.sections.length, `${path}: section count`);
  want.sections.forEach(({ Section: s }, i) => {
    const got = info.sections[i]!;
    if (i === 0) return; // header 0 is not a section (it may carry extended counts)
    assert.equal(
      [got.index, got.name, got.type, Number(got.flags), got.offset, got.size, got.link, got.info, Number(got.addralign), Number(got.entsize)],
      [s.Index, s.Name.Name, s.Type.Value, s.Flags.Value, s.Offset, s.Size, s.Link, s.Info, s.AddressAlignment, s.EntrySize],
      `${path}: section ${i}`);
  });
  assert.is(info.symbols.length, want.symbols.length, `${path}: symbol count`);
  want.symbols.forEach(({ Symbol: s }, i) => {
    const got = info.symbols[i]!;
    assert.equal(
      [got.name, Number(got.value), Number(got.size), got.binding, got.type, got.visibility, got.section],
      [s.Name.Name, s.Value, s.Size, BINDINGS[s.Binding.Value] ?? `bind(${s.Binding.Value})`,
        TYPES[s.Type.Value] ?? `type(${s.Type.Value})`, s.Other.Value & 3, s.Section.Value],
      `${path}: symbol ${i}`);
  });
}

const available = spawnSync(READELF, ['--version'], { encoding: 'utf8' }).status === 0;
if (!available) {
  console.log(`  (readelf comparison skipped: ${READELF} is not installed)`);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-readelf-'));
  for (const be of [false, true]) {
    const path = join(dir, `sample-${be ? 'eb' : 'el'}.o`);
    writeFileSync(path, sampleObject(be).bytes);
    test(`byte-built sample (${be ? 'big' : 'little'}-endian) agrees with ${READELF}`, () => compare(path, inspect(readFileSync(path))));
  }
  const fixtures = fixtureObjects();
  if (fixtures.length === 0) console.log('  (no fixture objects in test/fixtures yet)');
  for (const path of fixtures) {
    test(`${basename(path)} agrees with ${READELF}`, () => compare(path, inspect(readFileSync(path))));
  }
  test.after(() => rmSync(dir, { recursive: true, force: true }));
}

test.run();
