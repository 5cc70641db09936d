// ELF maps whose definitions a loader must complete, created in the kernel by a System: what the
// kernel reports (BPF_OBJ_GET_INFO_BY_FD) for goebpf's omitted sizes and libbpf's adjusted ones.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { getNumOfPossibleCpus, getPageSize } from '../../src/map/host.js';
import { System } from '../../src/program/system.js';
import { SyscallError } from '../../src/sys/errors.js';
import { kernelSuite, withBpffs } from '../kernel/support.js';

const test = kernelSuite('program elf maps');
const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));

function sizes(system: System, name: string): [number, number, number] {
  const info = system.getMapByName(name)!.info();
  return [info.keySize, info.valueSize, info.maxEntries];
}

test('goebpf_defaults.o: omitted sizes are filled in as goebpf does, the program loads next to them', () => {
  using system = new System().loadElf(fixture('goebpf_defaults.o'));
  const cpus = getNumOfPossibleCpus();
  assert.equal(sizes(system, 'events'), [4, 4, cpus]);
  assert.equal(sizes(system, 'jumps'), [4, 4, 8]);
  assert.equal(sizes(system, 'counters'), [4, 8, 4]);
  assert.equal(sizes(system, 'wide_events'), [4, 4, 2]);
  system.getMapByName('counters')!.update(3, 7n);
  assert.is(system.getMapByName('counters')!.lookupUint64(3), 7n);
  using program = system.getProgramByName('accept_all')!.load();
  assert.is(program.testRun({ data: new Uint8Array(60) }).retval, 60 - 14); // skb->len after the Ethernet header is pulled
});

test('maps_defaults.o: ring buffers rounded up to a power-of-2 number of pages, perf event array sized by CPUs', () => {
  using system = new System().loadElf(fixture('maps_defaults.o'));
  const page = getPageSize();
  const ring = (name: string): number => system.getMapByName(name)!.info().maxEntries;
  assert.is(ring('odd_ring'), page === 4096 ? 16384 : page);
  assert.is(ring('three_page_ring'), page === 4096 ? 16384 : page);
  assert.is(ring('exact_ring'), page <= 32768 ? 32768 : page);
  assert.is(ring('user_ring'), page === 4096 ? 8192 : page);
  assert.is(system.getMapByName('odd_ring')!.maxEntries, ring('odd_ring'));
  assert.equal(sizes(system, 'bare_events'), [4, 4, getNumOfPossibleCpus()]);
});

test('maps_btf.o: maps whose type takes no key/value BTF are created without it, the others with it', async () => {
  await withBpffs((pinRoot) => {
    using system = new System().loadElf(fixture('maps_btf.o'), { pinRoot });
    const btfIds = (name: string): [boolean, boolean, boolean] => {
      const info = system.getMapByName(name)!.info();
      return [info.btfId !== 0, info.btfKeyTypeId !== 0, info.btfValueTypeId !== 0];
    };
    assert.equal(btfIds('flows'), [true, true, true]);
    for (const name of ['array_of_maps', 'hash_of_maps', 'perf_events', 'pending']) assert.equal(btfIds(name), [false, false, false], name);
  });
});

test('maps_btf.o: array_of_maps starts with inner_b in slot 1, as its definition says; other slots stay empty', async () => {
  await withBpffs((pinRoot) => {
    using system = new System().loadElf(fixture('maps_btf.o'), { pinRoot });
    const outer = system.getMapByName('array_of_maps')!;
    const slot = outer.lookup(1);
    assert.is(new DataView(slot.buffer, slot.byteOffset).getUint32(0, true), system.getMapByName('inner_b')!.info().id);
    assert.throws(() => outer.lookup(0), (e: unknown) => e instanceof SyscallError && e.code === 'ENOENT');
    assert.equal(system.warnings, []);
  });
});

test('a load that fails removes the pins it made and keeps those it reused', async () => {
  await withBpffs((pinRoot) => {
    // A new bpffs holds the kernel's maps.debug and progs.debug.
    const pins = (): string[] => readdirSync(pinRoot).filter((name) => !name.endsWith('.debug'));
    // pinned_stats (pinned by name) is made before pending, whose queue of 0 entries the kernel refuses.
    const failing = { pinRoot, maps: { pending: { maxEntries: 0 } } };
    assert.throws(() => new System().loadElf(fixture('maps_btf.o'), failing), (e: unknown) => e instanceof SyscallError && e.code === 'EINVAL' && /map 'pending'/.test(e.message));
    assert.equal(pins(), [], 'the pin made by the failed load is gone');
    {
      using first = new System().loadElf(fixture('maps_btf.o'), { pinRoot });
      assert.is(first.getMapByName('pinned_stats')!.reused, false);
    }
    assert.equal(pins(), ['pinned_stats']);
    assert.throws(() => new System().loadElf(fixture('maps_btf.o'), failing), /map 'pending'/);
    assert.equal(pins(), ['pinned_stats'], 'a pin the failed load reused stays');
    using again = new System().loadElf(fixture('maps_btf.o'), { pinRoot });
    assert.is(again.getMapByName('pinned_stats')!.reused, true);
  });
});

test.run();
