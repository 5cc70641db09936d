// inspect() on objects built byte by byte (test/elf/elf-builder.ts): every field, both byte orders.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ElfError, inspect, mapInitialData } from '../../src/inspect.js';
import { PATHS, sampleObject } from './sample-object.js';

for (const bigEndian of [false, true]) {
  const label = bigEndian ? 'big-endian' : 'little-endian';
  const built = sampleObject(bigEndian);
  const info = inspect(built.bytes);
  const idx = (name: string): number => built.index.get(name)!;

  test(`${label}: header facts, license and version`, () => {
    assert.is(info.endian, bigEndian ? 'big' : 'little');
    assert.is(info.license, 'Dual MIT/GPL');
    assert.is(info.kernelVersion, 0x40f00);
  });

  test(`${label}: sections are listed with names, kinds and relocation sections`, () => {
    assert.is(info.sections.length, built.index.size);
    const xdp = info.sections[idx('xdp')]!;
    assert.equal([xdp.name, xdp.kind, xdp.type, xdp.size, xdp.flags], ['xdp', 'program', 1, 56, 6]);
    assert.is(xdp.relocationSection, idx('.relxdp'));
    assert.is(xdp.offset, built.dataOffset('xdp'));
    assert.is(info.sections[idx('.text')]!.kind, 'text');
    assert.is(info.sections[idx('maps')]!.kind, 'maps');
    assert.is(info.sections[idx('.bss')]!.kind, 'bss');
    assert.is(info.sections[idx('.bss')]!.size, 16);
    assert.is(info.sections[idx('.rodata.str1.1')]!.kind, 'rodata');
    assert.is(info.sections[idx('license')]!.kind, 'license');
    assert.is(info.sections[idx('.symtab')]!.kind, 'symtab');
    assert.is(info.sections[idx('.relmaps')]!.kind, 'rel');
    assert.is(info.sections[idx('license')]!.relocationSection, null);
  });

  test(`${label}: symbols, with section symbols named after their section`, () => {
    assert.is(info.symbols.length, 11);
    assert.equal(info.symbols[0], { index: 0, name: '', section: 0, value: 0, size: 0, type: 'notype', binding: 'local', visibility: 0 });
    const byName = new Map(info.symbols.map((s) => [s.name, s]));
    assert.equal(byName.get('prog2'), { index: byName.get('prog2')!.index, name: 'prog2', section: idx('xdp'), value: 40, size: 16, type: 'func', binding: 'global', visibility: 0 });
    assert.is(byName.get('.data')!.type, 'section');
    assert.is(byName.get('.data')!.binding, 'local');
    assert.is(byName.get('ksym_extern')!.section, 0);
  });

  test(`${label}: programs: two in one section, a subprogram, and an unknown section`, () => {
    const p = info.programs;
    assert.equal(p.map((x) => x.name), ['prog1', 'prog2', 'sub', 'unknown_sec']);
    const [p1, p2, sub, unk] = p as [typeof p[0], typeof p[0], typeof p[0], typeof p[0]];
    assert.equal(
      [p1.section, p1.type, p1.typeName, p1.expectedAttachType, p1.expectedAttachTypeName, p1.attachTarget, p1.sectionPattern],
      ['xdp', 6, 'xdp', 37, 'xdp', null, 'xdp']);
    assert.equal([p1.insnOffset, p1.insnCount, p1.fileOffset], [0, 5, built.dataOffset('xdp')]);
    assert.equal([p2.insnOffset, p2.insnCount, p2.fileOffset], [40, 2, built.dataOffset('xdp') + 40]);
    assert.equal([p1.subprogram, p1.global, p1.unknownSection, p1.retprobe], [false, true, false, false]);
    assert.equal([sub.section, sub.subprogram, sub.type, sub.insnCount, sub.sectionPattern], ['.text', true, 0, 4, null]);
    assert.equal([unk.section, unk.unknownSection, unk.symbolIndex, unk.type, unk.insnCount], ['unknown_sec', true, null, 0, 2]);
    assert.equal([p1.relocationStart, p1.relocationCount, p2.relocationStart, p2.relocationCount], [0, 1, 1, 1]);
    assert.equal([sub.relocationStart, sub.relocationCount, unk.relocationCount], [2, 1, 0]);
  });

  test(`${label}: legacy maps in goebpf's bpf_map_def, pointers resolved`, () => {
    const legacy = info.maps.filter((m) => m.origin === 'legacy');
    assert.equal(legacy.map((m) => [m.name, m.type, m.typeName, m.keySize, m.valueSize, m.maxEntries, m.flags, m.definitionOffset]), [
      ['inner', 2, 'array', 4, 8, 4, 0, 0],
      ['outer', 12, 'array_of_maps', 4, 4, 2, 0, 40],
      ['counters', 6, 'percpu_array', 4, 8, 16, 1, 80],
    ]);
    assert.is(legacy[1]!.innerMap, 0);
    assert.is(legacy[0]!.innerMap, null);
    assert.equal(legacy.map((m) => m.persistentPath), [null, '/sys/fs/bpf/outer', '/sys/fs/bpf/counters']);
    assert.ok(legacy.every((m) => m.sectionIndex === idx('maps') && m.symbolIndex !== null && !m.innerTemplate));
  });

  test(`${label}: global data as single-entry array maps`, () => {
    const data = info.maps.filter((m) => m.origin !== 'legacy');
    assert.equal(data.map((m) => [m.name, m.origin, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags]), [
      ['.rodata.str1.1', 'rodata', 2, 4, PATHS.length, 1, 0x80],
      ['.data', 'data', 2, 4, 8, 1, 0],
      ['.bss', 'bss', 2, 4, 16, 1, 0],
    ]);
    assert.equal(data.map((m) => m.initialData?.size ?? null), [PATHS.length, 8, null]);
    assert.equal(new TextDecoder().decode(mapInitialData(built.bytes, data[0]!)!), PATHS);
    assert.equal([...mapInitialData(built.bytes, data[1]!)!], bigEndian ? [0, 0, 0, 7, 0, 0, 0, 9] : [7, 0, 0, 0, 9, 0, 0, 0]);
    assert.is(mapInitialData(built.bytes, data[2]!), null);
  });

  test(`${label}: relocations: per program, classified, then the maps section's`, () => {
    const r = info.relocations;
    const mapIndex = (name: string): number => info.maps.findIndex((m) => m.name === name);
    assert.equal(r.map((x) => [x.section, x.offset, x.symbol, x.kind, x.program, x.map, x.targetProgram, x.targetOffset, x.type]), [
      ['xdp', 0, 'counters', 'map', 0, mapIndex('counters'), null, 0, 1],
      ['xdp', 40, 'sub', 'call', 1, null, 2, 0, 10],
      ['.text', 0, '.data', 'data', 2, mapIndex('.data'), null, 4, 1],
      ['maps', 64, 'inner', 'data-slot', null, mapIndex('outer'), null, 0, 2],
      ['maps', 72, '.rodata.str1.1', 'data-slot', null, mapIndex('outer'), null, 0, 2],
      ['maps', 112, '.rodata.str1.1', 'data-slot', null, mapIndex('counters'), null, 18, 2],
    ]);
    assert.is(r[0]!.targetSectionIndex, idx('maps'));
  });

  test(`${label}: one diagnostic for the unknown program section`, () => {
    assert.equal(info.diagnostics.map((d) => [d.kind, d.sectionIndex]), [['unknown-section', idx('unknown_sec')]]);
    assert.match(info.diagnostics[0]!.message, /unknown_sec/);
  });

  test(`${label}: ObjectInfo survives JSON`, () => {
    assert.equal(JSON.parse(JSON.stringify(info)), info);
  });
}

test('both byte orders describe the same object', () => {
  const strip = (o: ReturnType<typeof inspect>) => ({ ...o, endian: '' });
  assert.equal(strip(inspect(sampleObject(true).bytes)).programs, strip(inspect(sampleObject(false).bytes)).programs);
  assert.equal(inspect(sampleObject(true).bytes).maps.map((m) => ({ ...m, initialData: null })),
    inspect(sampleObject(false).bytes).maps.map((m) => ({ ...m, initialData: null })));
});

test('inspect() rejects non-bytes with a TypeError, bad bytes with ElfError', () => {
  assert.throws(() => inspect('x' as unknown as Uint8Array), (e: unknown) => e instanceof TypeError);
  assert.throws(() => inspect(new Uint8Array(0)), (e: unknown) => e instanceof ElfError && e.status === 1);
});

test.run();
