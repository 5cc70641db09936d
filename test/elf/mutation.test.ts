// Seeded mutations of every fixture object: bytes flipped anywhere and fields overwritten with edge
// values where the structure lives (ELF and section headers, symbols, relocations, BTF). Each
// mutant must inspect to an object or fail with ElfError — never a trap, RangeError or hang.
// A failure names the fixture, round and the exact edits, so it reproduces without the PRNG.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { test } from 'uvu';
import { ElfError, inspect } from '../../src/inspect.js';
import { fixtureObjects } from './fixture-files.js';
import { elfLayout } from './elf-layout.js';
import { prng } from '../support/prng.js';

const SEED = 0x0eb9f5eed;
const ROUNDS_SMALL = 1500; // per fixture under 64 KiB
const ROUNDS_LARGE = 60; // the generated large object

interface Region { start: number; end: number }

/** Byte ranges a parser interprets as structure rather than payload. */
function structuralRegions(bytes: Uint8Array): Region[] {
  const layout = elfLayout(bytes);
  const regions: Region[] = [{ start: 0, end: 64 }, { start: layout.shoff, end: layout.shoff + layout.shnum * 64 }];
  for (const s of layout.sections) {
    const structural = s.type === 2 || s.type === 9 || s.name === '.BTF' || s.name === '.BTF.ext' || s.name === 'maps'
      || s.name === '.maps' || s.name === 'version';
    if (structural && s.size > 0) regions.push({ start: s.offset, end: s.offset + s.size });
  }
  return regions;
}

const EDGE_U32 = [0, 1, 2, 7, 8, 24, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

type Edit = [offset: number, value: number];

function mutate(original: Uint8Array, regions: Region[], rand: (n: number) => number): { bytes: Uint8Array; edits: Edit[] } {
  const bytes = Uint8Array.from(original);
  const edits: Edit[] = [];
  const set = (at: number, value: number): void => {
    if (at < bytes.length) {
      bytes[at] = value;
      edits.push([at, value]);
    }
  };
  for (let k = 1 + rand(3); k > 0; k--) {
    const strategy = rand(3);
    if (strategy === 0) {
      const at = rand(bytes.length);
      set(at, bytes[at]! ^ (1 << rand(8)));
    } else {
      const region = regions[rand(regions.length)]!;
      const at = region.start + rand(region.end - region.start);
      if (strategy === 1) {
        set(at, rand(256));
      } else {
        const word = EDGE_U32[rand(EDGE_U32.length)]!;
        const base = at & ~3;
        for (let i = 0; i < 4; i++) set(base + i, (word >>> (8 * i)) & 0xff);
      }
    }
  }
  return { bytes, edits };
}

for (const path of fixtureObjects()) {
  const name = basename(path);
  test(`${name}: seeded mutations give an object or ElfError`, () => {
    const original = new Uint8Array(readFileSync(path));
    const regions = structuralRegions(original);
    const rounds = original.length < 65536 ? ROUNDS_SMALL : ROUNDS_LARGE;
    const rand = prng(SEED ^ original.length);
    for (let round = 0; round < rounds; round++) {
      const { bytes, edits } = mutate(original, regions, rand);
      try {
        JSON.stringify(inspect(bytes), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      } catch (e) {
        if (!(e instanceof ElfError)) {
          throw new Error(`${name} round ${round}, edits [offset, byte] ${JSON.stringify(edits)}: ${String(e)}`);
        }
      }
    }
  });
}

test.run();
