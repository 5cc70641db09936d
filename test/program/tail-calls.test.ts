// Program arrays whose BTF definition names programs (`.values = { [1] = (void *)&tail_a }`), in the
// kernel: each program goes into its slots when it loads, so a tail call through the array reaches
// the targets loaded so far; in a pinned array reused by a later System, its programs replace what
// the slots held (as libbpf does).
// Fixture: test/fixtures/tail_calls.c (jumps: 1 → tail_a, 3 → tail_b; pinned_jumps: 0 → tail_b,
// 2 → tail_a; tail_a returns 10, tail_b 20, an empty slot lets entry return 1).
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import type { EbpfMap } from '../../src/map/map.js';
import type { Program } from '../../src/program/program.js';
import { ProgramType } from '../../src/program/program.js';
import { System } from '../../src/program/system.js';
import { SyscallError } from '../../src/sys/errors.js';
import { kernelSuite, withBpffs } from '../kernel/support.js';

const test = kernelSuite('program array slots');
const TAIL_CALLS = fileURLToPath(new URL('../../../test/fixtures/tail_calls.o', import.meta.url));
const ETH_HLEN = 14;

/** What `entry` returns when the packet names `slot`: the target's value, or 1 if the slot is empty. */
function through(entry: Program, slot: number): number {
  const data = new Uint8Array(ETH_HLEN + 2);
  data[ETH_HLEN] = slot;
  return entry.testRun({ data }).retval;
}

/** The id of the program a prog array slot holds, or 'empty' (ENOENT). */
function slotId(map: EbpfMap, slot: number): number | 'empty' {
  try {
    return map.lookupInt(slot);
  } catch (e) {
    if (e instanceof SyscallError && e.code === 'ENOENT') return 'empty';
    throw e;
  }
}

test('a tail call reaches the targets once they are loaded, before or after the entry program', async () => {
  await withBpffs((pinRoot) => {
    using system = new System().loadElf(TAIL_CALLS, { pinRoot });
    const jumps = system.getMapByName('jumps')!;
    const entry = system.getProgramByName('entry')!.load();
    assert.equal([0, 1, 2, 3].map((slot) => through(entry, slot)), [1, 1, 1, 1], 'no target loaded: every tail call falls through');
    const tailA = system.getProgramByName('tail_a')!.load();
    const tailB = system.getProgramByName('tail_b')!.load();
    assert.equal([0, 1, 2, 3].map((slot) => through(entry, slot)), [1, 10, 1, 20]);
    assert.equal([0, 1, 2, 3].map((slot) => slotId(jumps, slot)), ['empty', tailA.info().id, 'empty', tailB.info().id]);
    // Targets loaded before the entry program: pinned_jumps was filled when they loaded.
    const entryPinned = system.getProgramByName('entry_pinned')!.load();
    assert.equal([0, 1, 2, 3].map((slot) => through(entryPinned, slot)), [20, 1, 10, 1]);
    // A closed program stays in its slots: the array holds its own reference.
    tailA.close();
    assert.is(through(entry, 1), 10);
    jumps.delete(1);
    assert.is(through(entry, 1), 1);
    assert.equal(system.warnings, []);
  });
});

test('loading some targets leaves the slots of the others empty', async () => {
  await withBpffs((pinRoot) => {
    using system = new System().loadElf(TAIL_CALLS, { pinRoot });
    const tailB = system.getProgramByName('tail_b')!.load();
    const entry = system.getProgramByName('entry')!.load();
    const jumps = system.getMapByName('jumps')!;
    assert.is(slotId(jumps, 1), 'empty');
    assert.throws(() => jumps.lookup(1), (e: unknown) => e instanceof SyscallError && e.code === 'ENOENT');
    assert.is(slotId(jumps, 3), tailB.info().id);
    assert.equal([through(entry, 1), through(entry, 3)], [1, 20]);
    assert.equal([0, 1, 2, 3].map((slot) => slotId(system.getMapByName('pinned_jumps')!, slot)), [tailB.info().id, 'empty', 'empty', 'empty']);
  });
});

test('a program array reused from a pin gets the new programs in their slots, as with libbpf; the others keep what they hold', async () => {
  await withBpffs((pinRoot) => {
    let firstTailA: number;
    {
      using first = new System().loadElf(TAIL_CALLS, { pinRoot });
      firstTailA = first.getProgramByName('tail_a')!.load().info().id;
      first.getProgramByName('tail_b')!.load();
      assert.is(slotId(first.getMapByName('pinned_jumps')!, 2), firstTailA);
    }
    // The first System is closed, its programs with it; the pin keeps the array and what it holds.
    using second = new System().loadElf(TAIL_CALLS, { pinRoot });
    const pinned = second.getMapByName('pinned_jumps')!;
    const tailB = second.getProgramByName('tail_b')!.load();
    assert.equal([0, 2].map((slot) => slotId(pinned, slot)), [tailB.info().id, firstTailA], 'tail_b replaced; the first tail_a still in slot 2');
    const entryPinned = second.getProgramByName('entry_pinned')!.load();
    assert.equal([0, 1, 2, 3].map((slot) => through(entryPinned, slot)), [20, 1, 10, 1]);
    const tailA = second.getProgramByName('tail_a')!.load();
    assert.ok(tailA.info().id !== firstTailA);
    assert.equal([0, 1, 2, 3].map((slot) => slotId(pinned, slot)), [tailB.info().id, 'empty', tailA.info().id, 'empty']);
    // jumps is not pinned: created by this System, filled with its programs.
    assert.equal([1, 3].map((slot) => slotId(second.getMapByName('jumps')!, slot)), [tailA.info().id, tailB.info().id]);
  });
});

test('a refused slot puts back what a reused array held in the slots filled before it', async () => {
  await withBpffs((pinRoot) => {
    let firstTailB: number;
    {
      using first = new System().loadElf(TAIL_CALLS, { pinRoot });
      firstTailB = first.getProgramByName('tail_b')!.load().info().id;
      first.getProgramByName('entry_pinned')!.load(); // pinned_jumps now belongs to socket filters
    }
    // tail_b as a TC program: jumps (new, unowned) takes it, then pinned_jumps (reused) refuses it
    // and jumps slot 3 is emptied again; pinned_jumps slot 0 keeps the first System's tail_b.
    using second = new System().loadElf(TAIL_CALLS, { pinRoot, programTypes: { tail_b: ProgramType.SchedCLS } });
    const tailB = second.getProgramByName('tail_b')!;
    assert.throws(() => tailB.load(), (e: unknown) => e instanceof Error && /\/tail_calls\.o: map 'pinned_jumps': cannot put program 'tail_b' \(section 'socket'\) in slot 0: .*EINVAL.*; the program is closed$/.test(e.message));
    assert.is(slotId(second.getMapByName('jumps')!, 3), 'empty');
    assert.is(slotId(second.getMapByName('pinned_jumps')!, 0), firstTailB);
  });
});

test('a slot that refuses the program fails its load naming map, slot and program; its other slots are emptied again', async () => {
  await withBpffs((pinRoot) => {
    // tail_b as a TC program: pinned_jumps belongs to socket filters once entry_pinned is loaded, and
    // the kernel refuses a program of another type in it; jumps, still unowned, takes it first.
    using system = new System().loadElf(TAIL_CALLS, { pinRoot, programTypes: { tail_b: ProgramType.SchedCLS } });
    system.getProgramByName('entry_pinned')!.load();
    const tailB = system.getProgramByName('tail_b')!;
    assert.throws(() => tailB.load(), (e: unknown) => e instanceof Error && e.cause instanceof SyscallError && e.cause.code === 'EINVAL' &&
      /\/tail_calls\.o: map 'pinned_jumps': cannot put program 'tail_b' \(section 'socket'\) in slot 0: .*EINVAL.*; the program is closed$/.test(e.message));
    assert.is(tailB.loaded, false);
    assert.is(slotId(system.getMapByName('jumps')!, 3), 'empty');
    assert.is(slotId(system.getMapByName('pinned_jumps')!, 0), 'empty');
  });
});

test.run();
