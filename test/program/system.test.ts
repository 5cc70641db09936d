// System on the fixture objects: maps created (pinned ones reused, global data written, .rodata
// frozen), programs loaded (BTF attach targets found in the running kernel), those this version cannot
// load refused with an UnsupportedError.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { EbpfMap, MapType } from '../../src/map/map.js';
import { ProgramType } from '../../src/program/program.js';
import { System, UnsupportedError } from '../../src/program/system.js';
import { SyscallError } from '../../src/sys/errors.js';
import { KERNEL_MAY_LACK, kernelSuite, withBpffs } from '../kernel/support.js';

const test = kernelSuite('program system');
const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));

/** Loads every program it can; returns the names loaded and the errors of the others. */
function loadAll(system: System): { loaded: string[]; refused: Map<string, Error> } {
  const loaded: string[] = [];
  const refused = new Map<string, Error>();
  for (const [name, program] of system.getPrograms()) {
    try {
      program.load();
      loaded.push(name);
    } catch (e) {
      refused.set(name, e as Error);
    }
  }
  return { loaded, refused };
}

test('sections.o: every program loads but the one of an unknown section (and, without BPF trampolines, fentry/fexit/lsm)', () => {
  using system = new System().loadElf(fixture('sections.o'));
  const { loaded, refused } = loadAll(system);
  const trampolines = ['fentry_unlinkat', 'fexit_unlinkat', 'lsm_file_open'];
  assert.equal(loaded.filter((name) => !trampolines.includes(name)).sort(), [
    'cgroup_connect4_allow', 'cgroup_skb_allow', 'classifier_pass', 'iter_task', 'kprobe_unlinkat', 'kretprobe_unlinkat',
    'perf_event_sample', 'raw_tp_switch', 'reuseport_pass', 'socket_accept_all', 'socket_drop_all',
    'tcx_ingress_pass', 'tp_exit', 'tracepoint_exec', 'uprobe_main', 'uretprobe_main', 'xdp_frags_pass',
  ]);
  for (const name of trampolines) assert.ok(loaded.includes(name) || KERNEL_MAY_LACK.trampolines(refused.get(name)), name);
  assert.equal([...refused.keys()].filter((name) => !trampolines.includes(name)), ['unknown_section']);
  assert.instance(refused.get('unknown_section'), UnsupportedError);
  assert.match(refused.get('unknown_section')!.message, 'gives no program type');
  const xdp = system.getProgramByName('xdp_frags_pass')!;
  assert.is(xdp.type, ProgramType.XDP);
  assert.is(xdp.section, 'xdp.frags');
  assert.is(xdp.license, 'GPL');
  assert.is(xdp.info().name, 'xdp_frags_pass');
  assert.is(system.getProgramByName('nope'), undefined);
});

test('a type given for a section that names none', () => {
  using system = new System().loadElf(fixture('sections.o'), { programTypes: { unknown_section: ProgramType.SocketFilter } });
  using program = system.getProgramByName('unknown_section')!.load();
  assert.is(program.testRun({ data: new Uint8Array(64) }).retval, 0);
});

test('xdp_goebpf.o: goebpf maps are created, programs referring to them load', () => withBpffs((bpffs) => {
  // The object's persistent_path (/sys/fs/bpf/goebpf_fixture_counts) is moved into a private bpffs.
  const path = `${bpffs}/goebpf_fixture_counts`;
  using system = new System().loadElf(fixture('xdp_goebpf.o'), { maps: { pinned_counts: { persistentPath: path } } });
  const pinned = system.getMapByName('pinned_counts')!;
  try {
    assert.equal([...system.getMaps().keys()].sort(), ['.rodata.str1.1', 'drops', 'events', 'inner', 'outer', 'pinned_counts']);
    assert.is(system.getMapByName('drops')!.type, MapType.PerCPUArray);
    assert.is(system.getMapByName('outer')!.type, MapType.ArrayOfMaps);
    assert.is(pinned.pinnedPath, path);
    using drop = system.getProgramByName('xdp_drop')!.load();
    assert.is(drop.info().mapIds.length, 1);
    using tc = system.getProgramByName('tc_mark')!.load();
    assert.is(tc.type, ProgramType.SchedCLS);
    const skb = new Uint8Array(192);
    const result = tc.testRun({ data: new Uint8Array(64), ctx: skb });
    assert.is(result.retval, 0);
    assert.is(new DataView(result.ctx!.buffer, result.ctx!.byteOffset).getUint32(8, true), 0x42);
  } finally {
    pinned.unpin();
  }
  assert.not.ok(existsSync(path));
}));

test('globals.o: .data and .rodata hold their initial values, .rodata is frozen, .bss is zero', () => {
  using system = new System().loadElf(fixture('globals.o'));
  const rodata = system.getMapByName('.rodata')!;
  const first = rodata.lookup(0);
  assert.is(new DataView(first.buffer, first.byteOffset).getUint32(0, true), 64); // snap_len
  assert.throws(() => rodata.update(0, new Uint8Array(rodata.valueSize)), (e: unknown) => e instanceof SyscallError && e.code === 'EPERM');
  assert.ok(system.getMapByName('.data')!.lookup(0).some((b) => b !== 0));
  assert.ok(system.getMapByName('.bss')!.lookup(0).every((b) => b === 0));
  using program = system.getProgramByName('socket_snap')!.load();
  assert.is(program.type, ProgramType.SocketFilter);
});

test('maps_btf.o: BTF maps, inner templates, pinning by name under a pin root, reused by a second System', async () => {
  await withBpffs((pinRoot) => {
    let id: number;
    {
      using system = new System().loadElf(fixture('maps_btf.o'), { pinRoot });
      assert.not.ok(system.getMaps().has('array_of_maps.inner'));
      assert.is(system.getMapByName('array_of_maps')!.type, MapType.ArrayOfMaps);
      assert.is(system.getMapByName('ring')!.type, MapType.RingBuf);
      const stats = system.getMapByName('pinned_stats')!;
      assert.ok(existsSync(join(pinRoot, 'pinned_stats')));
      stats.update(3, 99n);
      id = stats.info().id;
    }
    using again = new System().loadElf(fixture('maps_btf.o'), { pinRoot });
    const stats = again.getMapByName('pinned_stats')!;
    assert.is(stats.info().id, id);
    assert.is(stats.lookupUint64(3), 99n);
    stats.unpin();
  });
});

test('close closes every map and program; loading the same object twice into one System is refused', () => {
  const system = new System().loadElf(fixture('sections.o'));
  const program = system.getProgramByName('socket_accept_all')!.load();
  assert.throws(() => system.loadElf(fixture('sections.o')), /program 'tracepoint_exec' \(section 'tracepoint\/sched\/sched_process_exec'\) is already in this System/);
  const withMaps = new System().loadElf(fixture('globals.o'));
  const data: EbpfMap = withMaps.getMapByName('.data')!;
  system.close();
  withMaps.close();
  system.close();
  assert.is(program.loaded, false);
  assert.is(data.fd, -1);
});

test('a big-endian object is refused before any map is created', () => {
  using system = new System();
  assert.throws(() => system.loadElf(fixture('globals.bpfeb.o')), (e: unknown) => e instanceof UnsupportedError && /big-endian/.test(e.message));
  assert.is(system.getMaps().size, 0);
});

test('no fd leaks over System load / close cycles, refused loads included', () => {
  const count = (): number => readdirSync('/proc/self/fd').length;
  const before = count();
  for (let i = 0; i < 20; i++) {
    using system = new System().loadElf(fixture('globals.o'));
    system.loadElf(fixture('sections.o'));
    loadAll(system);
  }
  assert.is(count(), before);
});

test.run();
