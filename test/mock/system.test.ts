// MockSystem without a kernel: objects are read with the real inspect(), so maps and programs carry
// the object's names, types and sizes; goebpf's ErrorLoadElf; hand-made maps and programs.
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inspect } from '../../src/inspect.js';
import type { System } from '../../src/index.js';
import { MapType, MockMap, MockProgram, MockSystem, ProgramType, SyscallError, type SystemLike } from '../../src/mock/index.js';

const XDP_GOEBPF = 'test/fixtures/xdp_goebpf.o';
const XDP_DROP = 1;
const XDP_PASS = 2;

/** Code under test, written against SystemLike: counts drops through the program's per-CPU map. */
function dropsSoFar(system: SystemLike): number {
  return system.getMapByName('drops')!.lookupInt(0);
}

test('loadElf gives the object’s maps with their real names, types and sizes', () => {
  const object = inspect(readFileSync(XDP_GOEBPF));
  using system = new MockSystem().loadElf(XDP_GOEBPF);
  const expected = object.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries]);
  const got = [...system.getMaps()].map(([name, m]) => [name, m.type, m.keySize, m.valueSize, m.maxEntries]);
  assert.equal(got, expected);
  const drops = system.getMapByName('drops')!;
  assert.equal([drops.type, drops.perCpu, drops.possibleCpus], [MapType.PerCPUArray, true, 2]);
  assert.is(system.getMapByName('pinned_counts')!.pinnedPath, '/sys/fs/bpf/goebpf_fixture_counts', 'persistent_path');
  assert.is(system.getMapByName('missing'), undefined);
});

test('global data: initial contents written, .rodata frozen', () => {
  using system = new MockSystem().loadElf(XDP_GOEBPF);
  const rodata = system.getMapByName('.rodata.str1.1')!;
  assert.is(rodata.lookupString(0), '/sys/fs/bpf/goebpf_fixture_counts');
  assert.is(rodata.frozen, true);
  assert.throws(() => rodata.upsert(0, 'x'), (e: unknown) => e instanceof SyscallError && e.code === 'EPERM');
  using globals = new MockSystem().loadElf('test/fixtures/globals.o');
  const object = inspect(readFileSync('test/fixtures/globals.o'));
  for (const spec of object.maps.filter((m) => m.origin === 'data' || m.origin === 'bss' || m.origin === 'rodata')) {
    assert.ok(globals.getMapByName(spec.name), spec.name);
  }
});

test('programs: names, sections, types, license, instructions from the object; unloaded', () => {
  const bytes = readFileSync(XDP_GOEBPF);
  const object = inspect(bytes);
  using system = new MockSystem().load(bytes);
  assert.equal([...system.getPrograms().keys()], object.programs.filter((p) => !p.subprogram).map((p) => p.name));
  const xdp = system.getProgramByName('xdp_drop')!;
  const spec = object.programs.find((p) => p.name === 'xdp_drop')!;
  assert.equal([xdp.section, xdp.type, xdp.license, xdp.size, xdp.loaded], ['xdp', ProgramType.XDP, 'GPL', spec.insnCount * 8, false]);
  assert.equal(xdp.instructions, bytes.subarray(spec.fileOffset, spec.fileOffset + spec.insnCount * 8));
  assert.is(system.getProgramByName('nope'), undefined);
});

test("goebpf's XDP drop counter, unit-tested: a stand-in program counts into the object's map", () => {
  using system = new MockSystem({ possibleCpus: 4 }).loadElf(XDP_GOEBPF);
  const program = system.getProgramByName('xdp_drop')!.load();
  const drops = system.getMapByName('drops')!;
  program.run = ({ data }) => {
    if (data[12] !== 0x08) return XDP_PASS;
    // The program runs on CPU 0: it counts in CPU 0's slot of the per-CPU value.
    const slots = drops.lookupPerCpu(0).map((v) => new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true));
    slots[0]! += 1n;
    drops.upsert(0, slots);
    return XDP_DROP;
  };
  program.attach('eth0');
  const ipv4 = new Uint8Array(14);
  ipv4[12] = 0x08;
  assert.is(program.testRun({ data: ipv4, repeat: 3 }).retval, XDP_DROP);
  assert.is(program.testRun({ data: new Uint8Array(14) }).retval, XDP_PASS);
  assert.is(dropsSoFar(system), 3, 'lookupInt sums the CPUs');
  assert.equal(drops.lookupPerCpu(0).map((v) => v[0]), [3, 0, 0, 0]);
});

test('errorLoadElf: loadElf and load throw it, as goebpf’s MockSystem returns it', () => {
  const system = new MockSystem();
  system.errorLoadElf = new Error('no such object');
  assert.throws(() => system.loadElf(XDP_GOEBPF), /no such object/);
  assert.throws(() => system.load(new Uint8Array(4)), /no such object/);
  assert.is(system.getMaps().size, 0);
  system.errorLoadElf = undefined;
  assert.throws(() => system.load(new Uint8Array(4)), /ELF/i, 'a bad object fails as inspect() says');
});

test('loading the same object twice is refused, as System does', () => {
  const system = new MockSystem().loadElf(XDP_GOEBPF);
  assert.throws(() => system.loadElf(XDP_GOEBPF), /map 'drops' is already in this System/);
  assert.is(system.getMaps().size, 6, 'nothing half-added');
});

test('constants before load, as System.setConstants: written into .rodata, checked against BTF', () => {
  using system = new MockSystem().setConstants({ snap_len: 32 });
  system.loadElf('test/fixtures/globals.o');
  const rodata = system.getMapByName('.rodata')!;
  assert.equal([rodata.lookup(0)[0], rodata.lookup(0)[4], rodata.frozen], [32, 1, true]);
  using perLoad = new MockSystem().loadElf('test/fixtures/globals.o', { constants: { snap_len: 7 } });
  assert.is(perLoad.getMapByName('.rodata')!.lookup(0)[0], 7);
  assert.throws(() => new MockSystem().loadElf('test/fixtures/globals.o', { constants: { no_such: 1 } }), /no_such/);
});

test('ring buffer sizes are rounded to pages as System does (the mock’s page size is an option)', () => {
  const object = inspect(readFileSync('test/fixtures/maps_btf.o'));
  const declared = object.maps.find((m) => m.name === 'ring')!.maxEntries;
  using system = new MockSystem({ pageSize: 4096 }).loadElf('test/fixtures/maps_btf.o');
  const size = system.getMapByName('ring')!.maxEntries;
  assert.ok(size >= declared && size % 4096 === 0 && ((size / 4096) & (size / 4096 - 1)) === 0, `${declared} → ${size}`);
});

test('BTF maps: map of maps gets its inner template and its initial slots, LPM trie and queue behave', () => {
  using system = new MockSystem().loadElf('test/fixtures/maps_btf.o');
  const object = inspect(readFileSync('test/fixtures/maps_btf.o'));
  const outer = system.getMapByName('array_of_maps')!;
  const innerSpec = object.maps[object.maps.find((m) => m.name === 'array_of_maps')!.innerMap!]!;
  const inner = MockMap.create({ type: innerSpec.type as MapType, keySize: innerSpec.keySize, valueSize: innerSpec.valueSize, maxEntries: innerSpec.maxEntries });
  assert.is(outer.lookupInnerMap(1), system.getMapByName('inner_b'), 'slot 1 starts with inner_b, as the object says');
  outer.insert(0, inner);
  assert.is(outer.lookupInnerMap(0), inner);
  const routes = system.getMapByName('routes')!;
  assert.is(routes.type, MapType.LPMTrie);
  const pending = system.getMapByName('pending')!;
  assert.is(pending.type, MapType.Queue);
  pending.push(new Uint8Array(pending.valueSize).fill(1));
  assert.ok(pending.pop());
});

test('program arrays get the programs their definition names as those load, as with System', () => {
  using system = new MockSystem().loadElf('test/fixtures/tail_calls.o');
  const jumps = system.getMapByName('jumps')!;
  const pinned = system.getMapByName('pinned_jumps')!;
  assert.equal([...jumps.entries()], [], 'nothing loaded, nothing in the slots');
  const tailA = system.getProgramByName('tail_a')!.load();
  assert.is(jumps.lookupInt(1), tailA.id);
  assert.is(pinned.lookupInt(2), tailA.id);
  assert.throws(() => jumps.lookup(3), (e: unknown) => e instanceof SyscallError && e.code === 'ENOENT', 'tail_b is not loaded');
  pinned.close();
  const tailB = system.getProgramByName('tail_b')!.load();
  assert.is(jumps.lookupInt(3), tailB.id, 'a closed array is passed over');
  tailA.close();
  assert.is(jumps.lookupInt(1), tailA.id, 'a closed program stays in its slots');
  assert.equal(system.warnings, []);
});

test('hand-made maps and programs; a SystemLike function takes MockSystem and System; close closes all', () => {
  const system = new MockSystem();
  const counts = MockMap.create({ name: 'drops', type: MapType.Array, valueSize: 8, maxEntries: 1 });
  counts.upsert(0, 5);
  const program = new MockProgram({ name: 'xdp_prog', type: ProgramType.XDP }).load();
  system.addMap(counts).addProgram(program, 'main');
  assert.is(dropsSoFar(system), 5);
  assert.is(system.getProgramByName('main'), program);
  const typed: (s: System) => number = dropsSoFar;
  assert.type(typed, 'function');
  system.close();
  system.close();
  assert.equal([counts.fd, program.loaded], [-1, false]);
});

test('every fixture loads: a MockMap per map and a MockProgram per program that System would make', () => {
  for (const file of readdirSync('test/fixtures').filter((f) => f.endsWith('.o'))) {
    const bytes = readFileSync(`test/fixtures/${file}`);
    const object = inspect(bytes);
    using system = new MockSystem().load(bytes);
    const made = object.maps.filter((m) => !m.innerTemplate && m.origin !== 'kconfig' && m.origin !== 'struct-ops');
    assert.is(system.getMaps().size, made.length, file);
    assert.is(system.warnings.length, object.maps.length - made.length - object.maps.filter((m) => m.innerTemplate).length, file);
    assert.is(system.getPrograms().size, object.programs.filter((p) => !p.subprogram).length, file);
  }
});

test.run();
