// A legacy `maps` section whose definitions differ in size, as `bpftool gen object` makes when it links
// objects with different struct bpf_map_def layouts: each definition is read with its symbol's own size
// (st_size), as cilium/ebpf does, in both byte orders.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ElfError, inspect } from '../../src/inspect.js';
import { testNeeding } from '../kernel/support.js';
import { R_BPF, SHF, STT, buildElf, concat, exit, ldImm64, mov0, u32s, type BuiltElf } from './elf-builder.js';

const PATH = '/sys/fs/bpf/mixed_outer\0';

/** goebpf's 40 bytes, libbpf's old 20, iproute2's bpf_elf_map (28), and the 16 every layout starts with. */
function mixedObject(bigEndian: boolean, sizes: { small?: number } = {}): BuiltElf {
  const be = bigEndian;
  const ptr = (v: number): Uint8Array => (be ? u32s([0, v], be) : u32s([v, 0], be));
  const goebpf = (type: number, key: number, value: number, max: number, flags: number) =>
    concat(u32s([type, key, value, max, flags, 0], be), ptr(0), ptr(0));
  const maps = concat(
    goebpf(2, 4, 8, 4, 0), // inner: 0..40
    goebpf(12, 4, 4, 2, 0), // outer: 40..80, inner_map_def and persistent_path relocated
    u32s([1, 8, 16, 128, 1], be), // small (libbpf bpf_map_def): 80..100
    u32s([6, 4, 8, 32, 0, 7, 2], be), // iproute (bpf_elf_map: id, pinning): 100..128
    u32s([27, 0, 0, 4096], be), // minimal (ringbuf): 128..144
  );
  const prog = concat(ldImm64(1, 0, 0, be), ldImm64(2, 0, 0, be), mov0(be), exit(be));
  return buildElf({
    bigEndian,
    sections: [
      { name: 'xdp', flags: SHF.ALLOC | SHF.EXECINSTR, data: prog },
      { name: 'maps', flags: SHF.ALLOC | SHF.WRITE, data: maps },
      { name: '.rodata.str1.1', flags: SHF.ALLOC, data: new TextEncoder().encode(PATH) },
      { name: 'license', flags: SHF.ALLOC, data: new TextEncoder().encode('GPL\0') },
    ],
    symbols: [
      { name: '.rodata.str1.1', section: '.rodata.str1.1', type: STT.SECTION },
      { name: 'prog', section: 'xdp', value: 0, size: prog.length, type: STT.FUNC },
      { name: 'inner', section: 'maps', value: 0, size: 40, type: STT.OBJECT },
      { name: 'outer', section: 'maps', value: 40, size: 40, type: STT.OBJECT },
      { name: 'small', section: 'maps', value: 80, size: sizes.small ?? 20, type: STT.OBJECT },
      { name: 'iproute', section: 'maps', value: 100, size: 28, type: STT.OBJECT },
      { name: 'minimal', section: 'maps', value: 128, size: 16, type: STT.OBJECT },
    ],
    relocs: [
      { section: 'xdp', offset: 0, symbol: 'small', type: R_BPF.R64_64 },
      { section: 'xdp', offset: 16, symbol: 'minimal', type: R_BPF.R64_64 },
      { section: 'maps', offset: 64, symbol: 'inner', type: R_BPF.ABS64 },
      { section: 'maps', offset: 72, symbol: '.rodata.str1.1', type: R_BPF.ABS64 },
    ],
  });
}

for (const bigEndian of [false, true]) {
  const label = bigEndian ? 'big-endian' : 'little-endian';

  test(`${label}: definitions of 40, 40, 20, 28 and 16 bytes are each read with their symbol's size`, () => {
    const info = inspect(mixedObject(bigEndian).bytes);
    assert.equal(info.maps.filter((m) => m.origin === 'legacy').map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags, m.definitionOffset]), [
      ['inner', 2, 4, 8, 4, 0, 0],
      ['outer', 12, 4, 4, 2, 0, 40],
      ['small', 1, 8, 16, 128, 1, 80],
      ['iproute', 6, 4, 8, 32, 0, 100],
      ['minimal', 27, 0, 0, 4096, 0, 128],
    ]);
    const byName = (name: string) => info.maps.find((m) => m.name === name)!;
    assert.is(info.maps[byName('outer').innerMap!]!.name, 'inner');
    assert.is(byName('outer').persistentPath, '/sys/fs/bpf/mixed_outer');
    assert.equal(info.maps.map((m) => m.persistentPath).filter((p) => p !== null), ['/sys/fs/bpf/mixed_outer']);
  });

  test(`${label}: program references reach the maps after a definition of another size`, () => {
    const info = inspect(mixedObject(bigEndian).bytes);
    const refs = info.relocations.filter((r) => r.section === 'xdp').map((r) => [r.offset, r.kind, info.maps[r.map!]!.name]);
    assert.equal(refs, [[0, 'map', 'small'], [16, 'map', 'minimal']]);
  });

  test(`${label}: a definition that overlaps the next one is an error naming both`, () => {
    assert.throws(
      () => inspect(mixedObject(bigEndian, { small: 24 }).bytes),
      (e: unknown) => e instanceof ElfError && /map 'iproute': definition at offset 100 of 'maps' overlaps map 'small' \(offsets 80 to 104\)/.test(e.message),
    );
  });
}

test('symbols without sizes fall back to equal slices of the section', () => {
  const be = false;
  const b = buildElf({
    sections: [{ name: 'maps', flags: SHF.ALLOC, data: concat(u32s([1, 4, 8, 16, 0], be), u32s([2, 4, 4, 1, 0], be)) }],
    symbols: ['a', 'b'].map((name, i) => ({ name, section: 'maps', value: i * 20, size: 0, type: STT.OBJECT })),
  });
  const info = inspect(b.bytes);
  assert.equal(info.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries, m.definitionOffset]), [
    ['a', 1, 4, 8, 16, 0],
    ['b', 2, 4, 4, 1, 20],
  ]);
});

// The real thing: two objects with goebpf's 40-byte and libbpf's old 20-byte definitions, compiled by
// clang and linked by `bpftool gen object` (little-endian: libbpf's linker refuses big-endian objects).
const CLANG = 'clang-19';
const SOURCES = {
  'goebpf.c': `struct def { unsigned type, key_size, value_size, max_entries, map_flags, pad; void *inner; const char *path; };
struct def goebpf_map __attribute__((section("maps"), used)) = { 1, 4, 8, 16, 0 };
__attribute__((section("xdp"), used)) int prog_a(void *ctx) { return 2; }
char _license[] __attribute__((section("license"), used)) = "GPL";
`,
  'libbpf.c': `struct def { unsigned type, key_size, value_size, max_entries, map_flags; };
struct def small_map __attribute__((section("maps"), used)) = { 2, 4, 4, 8, 1 };
__attribute__((section("xdp"), used)) int prog_b(void *ctx) { return 1; }
`,
};

testNeeding(test, 'an object `bpftool gen object` linked from 40- and 20-byte bpf_map_def layouts', ['clang-19', 'bpftool'], () => {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-maps-link-'));
  try {
    const objects = Object.entries(SOURCES).map(([name, source]) => {
      writeFileSync(join(dir, name), source);
      const object = join(dir, name.replace(/\.c$/, '.o'));
      const cc = spawnSync(CLANG, ['-target', 'bpfel', '-O2', '-g', '-c', join(dir, name), '-o', object], { encoding: 'utf8' });
      assert.is(cc.status, 0, cc.stderr);
      return object;
    });
    const linked = join(dir, 'linked.o');
    const link = spawnSync('bpftool', ['gen', 'object', linked, ...objects], { encoding: 'utf8' });
    assert.is(link.status, 0, link.stderr);
    const info = inspect(readFileSync(linked));
    assert.equal(info.sections.find((s) => s.name === 'maps')!.size, 60);
    assert.equal(info.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags, m.definitionOffset]), [
      ['goebpf_map', 1, 4, 8, 16, 0, 0],
      ['small_map', 2, 4, 4, 8, 1, 40],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
