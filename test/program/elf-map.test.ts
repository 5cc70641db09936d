// ELF map definitions to BPF_MAP_CREATE sizes, without a kernel: ring buffer rounding as libbpf does
// it, goebpf's omitted sizes, and the sizes no loader can make valid.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CoreObject } from '../../src/elf/open.js';
import { inspect, type ElfMapSpec, type ObjectInfo, type RelocationInfo } from '../../src/inspect.js';
import { MapType } from '../../src/sys/generated.js';
import { getPageSize } from '../../src/map/host.js';
import { MockMap, MockProgram } from '../../src/mock/index.js';
import { checkMapOptions, elfMapSizes, elfMapTakesBtf, initialSlots, ProgramSlots, ringBufferSize, withMapOptions } from '../../src/program/elf-map.js';
import { ProgramType } from '../../src/program/program.js';

const read = (name: string): Uint8Array => readFileSync(fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url)));
const maps = (name: string): Map<string, ElfMapSpec> => {
  const object = inspect(readFileSync(fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url))));
  return new Map(object.maps.map((m) => [m.name, m]));
};

test('ring buffer sizes: power-of-2 page multiples kept, others rounded up to the next one', () => {
  assert.is(ringBufferSize(4096, 4096), 4096);
  assert.is(ringBufferSize(8 * 4096, 4096), 8 * 4096);
  assert.is(ringBufferSize(1, 4096), 4096);
  assert.is(ringBufferSize(4097, 4096), 8192);
  assert.is(ringBufferSize(3 * 4096, 4096), 4 * 4096);
  assert.is(ringBufferSize(10000, 4096), 16384);
  assert.is(ringBufferSize(10000, 65536), 65536);
  assert.is(ringBufferSize(65536, 16384), 65536);
  assert.is(ringBufferSize(2 ** 31 + 1, 4096), 2 ** 31 + 1); // no u32 power-of-2 multiple above it
  assert.is(ringBufferSize(0, 4096), 0);
});

test('the page size comes from auxv and is a power of two', () => {
  const size = getPageSize();
  assert.ok(size >= 4096 && (size & (size - 1)) === 0, String(size));
});

test('goebpf_defaults.o: omitted key sizes of u32-indexed maps are 4, fd values are 4 whatever the definition says', () => {
  const m = maps('goebpf_defaults.o');
  assert.equal(elfMapSizes(m.get('events')!, getPageSize), { keySize: 4, valueSize: 4, maxEntries: undefined });
  assert.equal(elfMapSizes(m.get('jumps')!, getPageSize), { keySize: 4, valueSize: 4, maxEntries: 8 });
  assert.equal(elfMapSizes(m.get('counters')!, getPageSize), { keySize: 4, valueSize: 8, maxEntries: 4 });
  assert.equal(elfMapSizes(m.get('wide_events')!, getPageSize), { keySize: 4, valueSize: 4, maxEntries: 2 });
});

test('maps_defaults.o: ring buffers rounded to page multiples, a bare perf event array filled in', () => {
  const m = maps('maps_defaults.o');
  const page = getPageSize();
  assert.is(elfMapSizes(m.get('odd_ring')!, getPageSize).maxEntries, ringBufferSize(10000, page));
  assert.is(elfMapSizes(m.get('three_page_ring')!, getPageSize).maxEntries, ringBufferSize(3 * 4096, page));
  assert.is(elfMapSizes(m.get('exact_ring')!, getPageSize).maxEntries, ringBufferSize(8 * 4096, page));
  assert.is(elfMapSizes(m.get('user_ring')!, getPageSize).maxEntries, ringBufferSize(5000, page));
  assert.equal(elfMapSizes(m.get('bare_events')!, getPageSize), { keySize: 4, valueSize: 4, maxEntries: undefined });
  assert.equal(elfMapSizes(m.get('odd_ring')!, getPageSize).keySize, undefined);
});

test('sizes no loader can make valid are errors naming the map', () => {
  const events = maps('maps_defaults.o').get('bare_events')!;
  assert.throws(() => elfMapSizes({ ...events, keySize: 8 }, getPageSize), /^map 'bare_events' \(perf_event_array\): key_size is 8; maps of this type are indexed by a u32, so it must be 4 or left out$/);
  assert.throws(() => elfMapSizes({ ...events, valueSize: 8 }, getPageSize), /^map 'bare_events' \(perf_event_array\): value_size is 8; values of this type are u32 fds, so it must be 4 or left out$/);
  const counters = maps('goebpf_defaults.o').get('counters')!;
  assert.throws(() => elfMapSizes({ ...counters, keySize: 2 }, getPageSize), /map 'counters' \(array\): key_size is 2/);
});

test('maps of maps, perf event arrays, queues and the like take no key/value BTF, as libbpf decides; nor do program arrays', () => {
  const m = maps('maps_btf.o');
  assert.equal(['flows', 'routes', 'pinned_stats', 'ring', 'array_of_maps', 'hash_of_maps', 'perf_events', 'pending'].map((n) => elfMapTakesBtf(m.get(n)!)),
    [true, true, true, true, false, false, false, false]);
  // The kernel refuses BTF for program arrays (ENOTSUPP); libbpf tries, then creates them without.
  assert.is(elfMapTakesBtf(maps('tail_calls.o').get('jumps')!), false);
});

test('initial slots of maps of maps come from .rel.maps and the BTF offset of `values`', () => {
  const bytes = read('maps_btf.o');
  const { slots, programSlots } = initialSlots(inspect(bytes));
  assert.equal(slots.map(({ outer, slot, inner }) => [outer.name, slot, inner.name]), [['array_of_maps', 1, 'inner_b']]);
  assert.equal(programSlots, []);
  const none = read('globals.o');
  assert.equal(initialSlots(inspect(none)), { slots: [], programSlots: [] });
});

test('program array slots name the programs their `values` point at, little- and big-endian', () => {
  for (const name of ['tail_calls.o', 'tail_calls.bpfeb.o']) {
    const bytes = read(name);
    const { slots, programSlots } = initialSlots(inspect(bytes, { withoutC: true }));
    assert.equal(slots, []);
    assert.equal(programSlots.map(({ outer, slot, program }) => [outer.name, slot, program.name]),
      [['jumps', 1, 'tail_a'], ['jumps', 3, 'tail_b'], ['pinned_jumps', 0, 'tail_b'], ['pinned_jumps', 2, 'tail_a']], name);
  }
});

test('the open core object gives the same slots; a definition says where its `values` are', () => {
  const bytes = read('maps_btf.o');
  using core = CoreObject.open(bytes, { withoutC: true });
  const { slots } = initialSlots(core.info);
  assert.equal(slots.map(({ outer, slot, inner }) => [outer.name, slot, inner.name]), [['array_of_maps', 1, 'inner_b']]);
  // struct { type; max_entries; key; values[] }: three 8-byte pointers, then the slots.
  assert.equal(core.info.maps.filter((m) => m.valuesOffset !== null).map((m) => [m.name, m.valuesOffset]), [['array_of_maps', 24], ['hash_of_maps', 24]]);
  assert.equal(inspect(bytes).maps.map((m) => m.valuesOffset), core.info.maps.map((m) => m.valuesOffset));
});

/** The object of `name` with its `.maps` slot relocations changed by `change`. */
function withSlots(name: string, change: (r: RelocationInfo) => RelocationInfo): ObjectInfo {
  const object = inspect(read(name));
  return { ...object, relocations: object.relocations.map((r) => (r.kind === 'data-slot' ? change(r) : r)) };
}

test('a slot naming what its map cannot hold is an error naming map, slot and symbol', () => {
  const xdpCount = inspect(read('maps_btf.o')).programs.findIndex((p) => p.name === 'xdp_count');
  assert.throws(() => initialSlots(withSlots('maps_btf.o', (r) => ({ ...r, symbol: 'xdp_count', targetProgram: xdpCount }))),
    /^map 'array_of_maps' \(\.maps\) slot 1: 'xdp_count' is not a BTF map of the object; a map of maps' slots hold maps$/);
  assert.throws(() => initialSlots(withSlots('maps_btf.o', (r) => ({ ...r, symbol: 'nothing' }))),
    /^map 'array_of_maps' \(\.maps\) slot 1: 'nothing' is not a BTF map of the object/);
  assert.throws(() => initialSlots(withSlots('tail_calls.o', (r) => ({ ...r, symbol: 'pinned_jumps', targetProgram: null }))),
    /^map 'jumps' \(\.maps\) slot 1: 'pinned_jumps' is not a program of the object; a program array's slots hold programs$/);
});

test('a program array slot naming a subprogram, a slot past max_entries, `values` in a plain map: errors', () => {
  const object = withSlots('tail_calls.o', (r) => r);
  const tailA = object.programs.find((p) => p.name === 'tail_a')!;
  const subprogram = { ...object, programs: object.programs.map((p) => (p === tailA ? { ...p, subprogram: true, section: '.text' } : p)) };
  assert.throws(() => initialSlots(subprogram), /^map 'jumps' \(\.maps\) slot 1: 'tail_a' is a subprogram \(section '\.text'\), which cannot be loaded on its own to be tail-called$/);
  const small = { ...object, maps: object.maps.map((m) => ({ ...m, maxEntries: 2 })) };
  assert.throws(() => initialSlots(small), /^map 'jumps' \(\.maps\) slot 3: 'tail_b' is past max_entries 2$/);
  const plain = { ...object, maps: object.maps.map((m) => ({ ...m, type: MapType.Array, typeName: 'array' })) };
  assert.throws(() => initialSlots(plain), /^map 'jumps' \(\.maps\) slot 1: 'tail_a' cannot go in a slot: only maps of maps and program arrays take `values`, not array maps$/);
});

test('a slot refusing its program empties the slots filled before it and closes the program (mocks, no kernel)', () => {
  const bytes = read('tail_calls.o');
  const object = inspect(bytes);
  const { programSlots } = initialSlots(object);
  assert.equal(object.maps.map((m) => m.name), ['jumps', 'pinned_jumps'], 'maps[i] below stands for object.maps[i]');
  // pinned_jumps made an array of maps: the mock refuses a program in it (EINVAL), as the kernel does.
  const maps = [
    MockMap.create({ name: 'jumps', type: MapType.ProgArray, keySize: 4, valueSize: 4, maxEntries: 4 }),
    MockMap.create({ name: 'pinned_jumps', type: MapType.ArrayOfMaps, keySize: 4, valueSize: 4, maxEntries: 4, innerMap: { type: MapType.Array, keySize: 4, valueSize: 4, maxEntries: 1 } }),
  ];
  const slots = new ProgramSlots(programSlots, maps, () => {
    throw new Error('no slot held a program before');
  });
  const tailB = new MockProgram({ name: 'tail_b', section: 'socket', type: ProgramType.SocketFilter }).load();
  assert.throws(() => slots.fill(object.programs.findIndex((p) => p.name === 'tail_b'), tailB),
    (e: unknown) => e instanceof Error && /^map 'pinned_jumps': cannot put program 'tail_b' \(section 'socket'\) in slot 0: BPF_MAP_UPDATE_ELEM: EINVAL .*; the program is closed$/.test(e.message));
  assert.equal([tailB.loaded, [...maps[0]!.entries()]], [false, []], 'jumps slot 3 emptied again');
  const tailA = new MockProgram({ name: 'tail_a', type: ProgramType.SocketFilter }).load();
  maps[1]!.close();
  slots.fill(object.programs.findIndex((p) => p.name === 'tail_a'), tailA);
  assert.is(maps[0]!.lookupInt(1), tailA.id, 'a closed array is passed over');
  for (const map of maps) map.close();
});

test('a refused slot puts back the program a reused array held in a slot filled before it (mocks, no kernel)', () => {
  const bytes = read('tail_calls.o');
  const object = inspect(bytes);
  const { programSlots } = initialSlots(object);
  const tailBIndex = object.programs.findIndex((p) => p.name === 'tail_b');
  // tail_b's slots with the reused array (pinned_jumps, pinned by name) first, then jumps, made an
  // array of maps here so that it refuses the program.
  const ofTailB = programSlots.filter((s) => s.program.index === tailBIndex).sort((a, b) => b.outer.pinning - a.outer.pinning);
  assert.equal(ofTailB.map((s) => [s.outer.name, s.slot]), [['pinned_jumps', 0], ['jumps', 3]]);
  const maps = [
    MockMap.create({ name: 'jumps', type: MapType.ArrayOfMaps, keySize: 4, valueSize: 4, maxEntries: 4, innerMap: { type: MapType.Array, keySize: 4, valueSize: 4, maxEntries: 1 } }),
    MockMap.create({ name: 'pinned_jumps', type: MapType.ProgArray, keySize: 4, valueSize: 4, maxEntries: 4 }),
  ];
  const old = new MockProgram({ name: 'tail_b', type: ProgramType.SocketFilter }).load();
  maps[1]!.upsert(0, old);
  const opened: number[] = [];
  const slots = new ProgramSlots(ofTailB, maps, (id) => {
    opened.push(id);
    return { fd: old.fd, close() {} };
  });
  const tailB = new MockProgram({ name: 'tail_b', section: 'socket', type: ProgramType.SocketFilter }).load();
  assert.throws(() => slots.fill(tailBIndex, tailB), /^map 'jumps': cannot put program 'tail_b' \(section 'socket'\) in slot 3: BPF_MAP_UPDATE_ELEM: EINVAL .*; the program is closed$/);
  assert.equal(opened, [old.id], 'the program the reused slot held, opened by id before it was replaced');
  assert.is(maps[1]!.lookupInt(0), old.id, 'put back');
  assert.is(tailB.loaded, false);
  for (const map of maps) map.close();
});

test('map options: applied over the definition before the sizes are worked out; a name the object lacks is an error', () => {
  const object = inspect(read('maps_btf.o'));
  const ring = object.maps.find((m) => m.name === 'ring')!;
  const flows = object.maps.find((m) => m.name === 'flows')!;
  assert.is(withMapOptions(flows, undefined), flows);
  const changed = withMapOptions(flows, { maxEntries: 42, flags: 0, numaNode: 1, mapExtra: 1n << 60n });
  assert.equal([changed.maxEntries, changed.flags, changed.numaNode, changed.mapExtra, changed.keySize, changed.name], [42, 0, 1, (1n << 60n).toString(), flows.keySize, 'flows']);
  assert.is(withMapOptions(flows, { mapExtra: 7n }).mapExtra, 7);
  assert.is(elfMapSizes(withMapOptions(ring, { maxEntries: 5000 }), () => 4096).maxEntries, 8192, 'a ring buffer is rounded as its definition would be');
  checkMapOptions(object, { flows: {}, ring: { maxEntries: 1 } });
  assert.throws(() => checkMapOptions(object, { flow: { maxEntries: 1 } }, 'maps_btf.o'), /^maps_btf\.o: map 'flow': options\.maps names no map of the object \(its maps: (?!.*\.inner)(.*, )?flows(, .*)?\)$/);
  assert.throws(() => checkMapOptions(object, { 'array_of_maps.inner': {} }), /^map 'array_of_maps\.inner': options\.maps names no map of the object/, 'an inner template is no map a load creates');
  assert.throws(() => checkMapOptions(object, { flows: { mapExtra: -1n } }), /^map 'flows': mapExtra -1 is not a u64 bigint$/);
  assert.throws(() => checkMapOptions(object, { flows: { mapExtra: 1 as unknown as bigint } }), /mapExtra 1 is not a u64 bigint/);
  const structOps = inspect(read('struct_ops.o'));
  const ops = structOps.maps.find((m) => m.origin === 'struct-ops')!;
  assert.throws(() => checkMapOptions(structOps, { [ops.name]: { maxEntries: 1 } }, 'struct_ops.o'), new RegExp(`^struct_ops\\.o: map '${ops.name}': options\\.maps cannot change a struct_ops map: loads do not create them yet$`));
});

test('a .maps reference outside `values` is an error naming the map', () => {
  const bytes = read('maps_btf.o');
  const object = inspect(bytes);
  const relocations = object.relocations.map((r) => (r.kind === 'data-slot' ? { ...r, offset: r.offset - 4 } : r));
  assert.throws(() => initialSlots({ ...object, relocations }), /^map 'array_of_maps' \(\.maps\): the reference to 'inner_b' at offset \d+ of its definition is not a slot of its `values`$/);
});

test.run();
