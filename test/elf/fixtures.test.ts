// The committed fixtures (test/fixtures/*.c, built little- and big-endian) decoded field by field.
// Expected values come from the C sources; instruction counts and offsets, which depend on the
// compiler, are checked against the symbol table instead.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inspect, mapInitialData, type ObjectInfo, type ElfProgramSpec } from '../../src/inspect.js';
import { fixturesDir } from './fixture-files.js';

// Everything inspect() can tell, the per-program .BTF.ext records (opt-in) included.
const load = (name: string): ObjectInfo => inspect(readFileSync(join(fixturesDir, name)), { btfExt: true });
const variants = (base: string): [string, ObjectInfo, boolean][] =>
  [`${base}.o`, `${base}.bpfeb.o`].map((f) => [f, load(f), f.includes('bpfeb')]);

const loadable = (info: ObjectInfo): ElfProgramSpec[] => info.programs.filter((p) => !p.subprogram);
const mapNamed = (info: ObjectInfo, name: string) => {
  const m = info.maps.find((x) => x.name === name);
  assert.ok(m, `no map ${name}`);
  return m!;
};
const relocsOf = (info: ObjectInfo, p: ElfProgramSpec) =>
  info.relocations.slice(p.relocationStart, p.relocationStart + p.relocationCount);
/** [kind, symbol, target map or program name] of each relocation of a program, in code order. */
const relocSummary = (info: ObjectInfo, p: ElfProgramSpec) =>
  relocsOf(info, p).map((r) => [r.kind, r.symbol,
    r.map !== null ? info.maps[r.map]!.name : r.targetProgram !== null ? info.programs[r.targetProgram]!.name : null]);

/** Every program's size and place agree with its function symbol and section. */
function checkProgramGeometry(info: ObjectInfo): void {
  for (const p of info.programs) {
    const sec = info.sections[p.sectionIndex]!;
    assert.is(sec.name, p.section);
    assert.is(p.fileOffset, sec.offset + p.insnOffset);
    assert.ok(p.insnCount > 0, `${p.name} has instructions`);
    if (p.symbolIndex !== null) {
      const sym = info.symbols[p.symbolIndex]!;
      assert.equal([sym.name, sym.type, sym.section, sym.value, sym.size], [p.name, 'func', p.sectionIndex, p.insnOffset, p.insnCount * 8]);
    }
    for (const r of relocsOf(info, p)) {
      assert.is(r.program, p.index);
      assert.ok(r.offset >= p.insnOffset && r.offset < p.insnOffset + p.insnCount * 8, `${p.name}: relocation inside`);
    }
  }
}

for (const [file, info, be] of variants('xdp_goebpf')) {
  test(`${file}: license, version, byte order`, () => {
    assert.equal([info.license, info.kernelVersion, info.endian], ['GPL', 0xfffffffe, be ? 'big' : 'little']);
    assert.equal(info.diagnostics, []);
  });

  test(`${file}: one program in each goebpf section kind`, () => {
    assert.equal(loadable(info).map((p) => [p.name, p.section, p.typeName, p.expectedAttachTypeName, p.attachTarget, p.retprobe]), [
      ['xdp_drop', 'xdp', 'xdp', 'xdp', null, false],
      ['socket_count', 'socket_filter', 'socket_filter', null, null, false],
      ['kprobe_execve', 'kprobe/__x64_sys_execve', 'kprobe', null, '__x64_sys_execve', false],
      ['kretprobe_execve', 'kretprobe/__x64_sys_execve', 'kprobe', null, '__x64_sys_execve', true],
      ['tc_mark', 'tc', 'sched_cls', null, null, false],
      ['tp_exec', 'tracepoint/syscalls/sys_enter_execve', 'tracepoint', null, 'syscalls/sys_enter_execve', false],
    ]);
    assert.is(info.programs.length, 6, 'no subprograms');
    checkProgramGeometry(info);
  });

  test(`${file}: goebpf bpf_map_def maps, inner_map_def and persistent_path resolved`, () => {
    const legacy = info.maps.filter((m) => m.origin === 'legacy');
    assert.equal(legacy.map((m) => [m.name, m.typeName, m.keySize, m.valueSize, m.maxEntries, m.flags, m.definitionOffset]), [
      ['drops', 'percpu_array', 4, 8, 1, 0, 0],
      ['inner', 'array', 4, 4, 4, 0, 40],
      ['outer', 'array_of_maps', 4, 4, 8, 0, 80],
      ['pinned_counts', 'hash', 4, 8, 1024, 1, 120],
      ['events', 'perf_event_array', 4, 4, 64, 0, 160],
    ]);
    assert.equal(legacy.map((m) => m.innerMap === null ? null : info.maps[m.innerMap]!.name), [null, null, 'inner', null, null]);
    assert.equal(legacy.map((m) => m.persistentPath), [null, null, null, '/sys/fs/bpf/goebpf_fixture_counts', null]);
    assert.ok(legacy.every((m) => m.pinning === 0 && m.numaNode === 0 && m.mapExtra === 0 && m.initialData === null));
  });

  test(`${file}: the persistent_path string lives in .rodata.str1.1`, () => {
    const strs = mapNamed(info, '.rodata.str1.1');
    assert.equal([strs.origin, strs.valueSize, strs.flags], ['rodata', '/sys/fs/bpf/goebpf_fixture_counts'.length + 1, 0x80]);
  });

  test(`${file}: map relocations of each program, then the maps section's pointers`, () => {
    const byName = (n: string) => loadable(info).find((p) => p.name === n)!;
    assert.equal(relocSummary(info, byName('xdp_drop')), [['map', 'drops', 'drops']]);
    assert.equal(relocSummary(info, byName('socket_count')), [['map', 'pinned_counts', 'pinned_counts'], ['map', 'pinned_counts', 'pinned_counts']]);
    assert.equal(relocSummary(info, byName('kprobe_execve')), [['map', 'events', 'events']]);
    assert.equal(relocSummary(info, byName('kretprobe_execve')), [['map', 'outer', 'outer']]);
    assert.equal(relocSummary(info, byName('tc_mark')), []);
    assert.equal(relocSummary(info, byName('tp_exec')), [['map', 'events', 'events']]);
    const slots = info.relocations.filter((r) => r.program === null);
    assert.equal(slots.map((r) => [r.section, r.offset, r.kind, r.symbol, info.maps[r.map!]!.name]), [
      ['maps', 80 + 24, 'data-slot', 'inner', 'outer'],
      ['maps', 120 + 32, 'data-slot', '.rodata.str1.1', 'pinned_counts'],
    ]);
  });
}

for (const [file, info, be] of variants('globals')) {
  test(`${file}: programs and .text subprograms`, () => {
    assert.is(info.license, 'Dual BSD/GPL');
    assert.equal(loadable(info).map((p) => [p.name, p.section, p.typeName, p.attachTarget]), [
      ['socket_snap', 'socket', 'socket_filter', null],
      ['tp_getppid', 'tracepoint/syscalls/sys_enter_getppid', 'tracepoint', 'syscalls/sys_enter_getppid'],
    ]);
    const subs = info.programs.filter((p) => p.subprogram);
    assert.equal(subs.map((p) => [p.name, p.section, p.global]).sort(), [['account', '.text', false], ['clamp_len', '.text', true], ['weigh', '.text', false]]);
    checkProgramGeometry(info);
  });

  test(`${file}: .rodata, .data and .bss as array maps with their initial values`, () => {
    const data = info.maps.filter((m) => ['data', 'rodata', 'bss', 'kconfig'].includes(m.origin));
    assert.equal(data.map((m) => [m.name, m.origin, m.typeName, m.keySize, m.valueSize, m.maxEntries, m.flags]), [
      ['.rodata', 'rodata', 'array', 4, 4 + 16, 1, 0x80], // snap_len, weights[4]
      ['.data', 'data', 'array', 4, 8, 1, 0],              // packets_seen
      ['.bss', 'bss', 'array', 4, 16, 1, 0],               // bytes_seen, last_pid (+ padding)
    ]);
    const bytes = readFileSync(join(fixturesDir, file));
    const view = (m: string) => { const d = mapInitialData(bytes, mapNamed(info, m))!; return new DataView(d.buffer, d.byteOffset, d.byteLength); };
    const rodata = view('.rodata');
    const u32 = (at: number) => rodata.getUint32(at, !be);
    assert.equal([u32(0), u32(4), u32(8), u32(12), u32(16)].sort((a, b) => a - b), [1, 2, 4, 8, 64]);
    assert.is(view('.data').getBigUint64(0, !be), 100n);
    assert.is(mapNamed(info, '.bss').initialData, null);
  });

  test(`${file}: data references carry their offsets, calls their callee`, () => {
    const prog = (n: string) => info.programs.find((p) => p.name === n)!;
    assert.equal(relocSummary(info, prog('socket_snap')).map((r) => r[2]), ['account', 'clamp_len']);
    assert.equal(relocSummary(info, prog('tp_getppid')), [['data', 'last_pid', '.bss'], ['call', 'clamp_len', 'clamp_len'], ['call', '.text', 'account']]);
    assert.equal(relocSummary(info, prog('clamp_len')), [['data', 'snap_len', '.rodata']]);
    assert.equal(relocSummary(info, prog('account')), [['data', 'packets_seen', '.data'], ['data', 'bytes_seen', '.bss']]);
    assert.equal(relocSummary(info, prog('weigh')), [['data', 'weights', '.rodata']]);
    const sym = (n: string) => info.symbols.find((s) => s.name === n)!;
    for (const r of info.relocations.filter((x) => x.kind === 'data')) {
      if (info.symbols[r.symbolIndex]!.type === 'object') assert.is(r.targetOffset, sym(r.symbol).value);
    }
    for (const r of info.relocations.filter((x) => x.kind === 'call')) {
      const callee = info.programs[r.targetProgram!]!;
      assert.is(r.targetOffset, callee.insnOffset);
      assert.is(r.targetSectionIndex, callee.sectionIndex);
    }
  });
}

for (const [file, info] of variants('sections')) {
  test(`${file}: every section name's program type and attach type`, () => {
    assert.equal([info.license, info.kernelVersion], ['GPL', 0x00060100]);
    assert.equal(loadable(info).map((p) => [p.name, p.typeName, p.expectedAttachTypeName, p.attachTarget]), [
      ['tracepoint_exec', 'tracepoint', null, 'sched/sched_process_exec'],
      ['tp_exit', 'tracepoint', null, 'sched/sched_process_exit'],
      ['raw_tp_switch', 'raw_tracepoint', null, 'sched_switch'],
      ['kprobe_unlinkat', 'kprobe', null, 'do_unlinkat'],
      ['kretprobe_unlinkat', 'kprobe', null, 'do_unlinkat'],
      ['uprobe_main', 'kprobe', null, '/proc/self/exe:main'],
      ['uretprobe_main', 'kprobe', null, '/proc/self/exe:main'],
      ['xdp_frags_pass', 'xdp', 'xdp', null],
      ['tcx_ingress_pass', 'sched_cls', 'tcx_ingress', null],
      ['classifier_pass', 'sched_cls', null, null],
      ['cgroup_skb_allow', 'cgroup_skb', 'cgroup_inet_ingress', null],
      ['cgroup_connect4_allow', 'cgroup_sock_addr', 'cgroup_inet4_connect', null],
      ['socket_accept_all', 'socket_filter', null, null],
      ['socket_drop_all', 'socket_filter', null, null],
      ['reuseport_pass', 'sk_reuseport', 'sk_reuseport_select', null],
      ['perf_event_sample', 'perf_event', null, null],
      ['lsm_file_open', 'lsm', 'lsm_mac', 'file_open'],
      ['fentry_unlinkat', 'tracing', 'trace_fentry', 'do_unlinkat'],
      ['fexit_unlinkat', 'tracing', 'trace_fexit', 'do_unlinkat'],
      ['iter_task', 'tracing', 'trace_iter', 'task'],
      ['unknown_section', 'unspec', null, null],
    ]);
    const p = (n: string) => info.programs.find((x) => x.name === n)!;
    assert.equal([p('kretprobe_unlinkat').retprobe, p('uretprobe_main').retprobe, p('kprobe_unlinkat').retprobe], [true, true, false]);
    assert.ok(p('xdp_frags_pass').xdpFrags);
    assert.ok(p('unknown_section').unknownSection);
    assert.is(p('socket_accept_all').sectionIndex, p('socket_drop_all').sectionIndex, 'two programs share "socket"');
    assert.ok(p('socket_drop_all').insnOffset > 0);
    checkProgramGeometry(info);
  });

  test(`${file}: the unknown section is a diagnostic`, () => {
    const unknown = info.diagnostics.filter((d) => d.kind === 'unknown-section');
    assert.is(unknown.length, 1);
    assert.match(unknown[0]!.message, /no_such_program_type\/anything/);
  });
}

for (const [file, info] of variants('core_kconfig')) {
  test(`${file}: tp_btf programs, kconfig externs, .bss`, () => {
    assert.equal(loadable(info).map((p) => [p.name, p.typeName, p.expectedAttachTypeName, p.attachTarget, p.needsBtfTarget]), [
      ['fork_parent', 'tracing', 'trace_raw_tp', 'sched_process_fork', true],
      ['exec_task', 'tracing', 'trace_raw_tp', 'sched_process_exec', true],
    ]);
    // each program gets its own .BTF.ext records: its function first, CO-RE reads of task_struct
    for (const p of loadable(info)) {
      assert.is(p.btfExt!.funcInfo[0]!.name, p.name);
      assert.is(p.btfExt!.funcInfo[0]!.insn, 0);
      assert.ok(p.btfExt!.lineInfo.length > 0);
      assert.ok(p.btfExt!.coreRelocations.length > 0, `${p.name} has CO-RE relocations`);
    }
    const externs = info.relocations.filter((r) => r.kind === 'extern');
    assert.equal(externs.map((r) => [r.symbol, r.targetSectionIndex, info.programs[r.program!]!.name]).sort(),
      [['CONFIG_BPF_JIT', null, 'exec_task'], ['LINUX_KERNEL_VERSION', null, 'exec_task']]);
    // .kconfig packed as libbpf packs it: 4-byte LINUX_KERNEL_VERSION first, then the 1-byte bool
    const kconfig = mapNamed(info, '.kconfig');
    assert.equal([kconfig.origin, kconfig.typeName, kconfig.keySize, kconfig.valueSize, kconfig.maxEntries, kconfig.flags,
      kconfig.sectionIndex, kconfig.initialData], ['kconfig', 'array', 4, 5, 1, 0x80, 0, null]);
    assert.equal(externs.map((r) => [r.symbol, info.maps[r.map!]!.name, r.targetOffset]).sort(),
      [['CONFIG_BPF_JIT', '.kconfig', 4], ['LINUX_KERNEL_VERSION', '.kconfig', 0]]);
    assert.equal(info.symbols.filter((s) => s.section === 0 && s.name).map((s) => [s.name, s.binding]).sort(),
      [['CONFIG_BPF_JIT', 'weak'], ['LINUX_KERNEL_VERSION', 'global']]);
    assert.equal(info.maps.filter((m) => m.origin === 'bss').map((m) => [m.name, m.valueSize]), [['.bss', 8]]);
    checkProgramGeometry(info);
  });
}

for (const [file, info] of variants('struct_ops')) {
  test(`${file}: struct_ops programs and the .struct_ops table pointing at them`, () => {
    assert.equal(loadable(info).map((p) => [p.name, p.typeName, p.attachTarget]), [
      ['fixture_init', 'struct_ops', 'fixture_init'],
      ['fixture_ssthresh', 'struct_ops', 'fixture_ssthresh'],
      ['fixture_cong_avoid', 'struct_ops', 'fixture_cong_avoid'],
      ['fixture_undo_cwnd', 'struct_ops', 'fixture_undo_cwnd'],
    ]);
    const cc = mapNamed(info, 'fixture_cc');
    // 4 function pointers and char name[16]
    assert.equal([cc.origin, cc.typeName, cc.keySize, cc.valueSize, cc.maxEntries, cc.flags, cc.definitionOffset, cc.initialData?.size],
      ['struct-ops', 'struct_ops', 4, 48, 1, 0, 0, 48]);
    assert.ok(cc.valueTypeId > 0);
    assert.is(info.sections[cc.sectionIndex]!.kind, 'struct-ops');
    const slots = info.relocations.filter((r) => r.section === '.struct_ops');
    assert.ok(slots.every((r) => info.maps[r.map!]!.name === 'fixture_cc'));
    assert.equal(slots.map((r) => [r.offset, r.kind, info.programs[r.targetProgram!]!.name]), [
      [0, 'data-slot', 'fixture_init'], [8, 'data-slot', 'fixture_ssthresh'],
      [16, 'data-slot', 'fixture_cong_avoid'], [24, 'data-slot', 'fixture_undo_cwnd'],
    ]);
    checkProgramGeometry(info);
  });
}

for (const [file, info] of variants('maps_btf')) {
  test(`${file}: programs sharing xdp and tc, and their map references`, () => {
    assert.equal(loadable(info).map((p) => [p.name, p.section, p.typeName]), [
      ['xdp_count', 'xdp', 'xdp'], ['xdp_route', 'xdp', 'xdp'], ['tc_flows', 'tc', 'sched_cls'],
      ['tc_ring', 'tc', 'sched_cls'], ['tp_inner_lookup', 'tracepoint/syscalls/sys_enter_getpid', 'tracepoint'],
    ]);
    const refs = (n: string) => relocSummary(info, info.programs.find((p) => p.name === n)!).map((r) => [r[0], r[1]]);
    assert.equal(refs('xdp_count'), [['map', 'pinned_stats']]);
    assert.equal(refs('xdp_route'), [['map', 'routes']]);
    assert.equal(refs('tc_flows'), [['map', 'flows'], ['map', 'pending']]);
    assert.equal(refs('tc_ring'), [['map', 'ring']]);
    assert.equal(refs('tp_inner_lookup'), [['map', 'array_of_maps'], ['map', 'hash_of_maps'], ['map', 'perf_events']]);
    const slot = info.relocations.filter((r) => r.section === '.maps');
    assert.equal(slot.map((r) => [r.kind, r.symbol, info.maps[r.map!]!.name]), [['data-slot', 'inner_b', 'array_of_maps']]);
    checkProgramGeometry(info);
  });

  test(`${file}: BTF-defined maps, inner maps as templates, references resolved`, () => {
    const row = (n: string) => {
      const m = mapNamed(info, n);
      return [m.origin, m.typeName, m.keySize, m.valueSize, m.maxEntries, m.flags, m.pinning, m.numaNode,
        m.innerMap === null ? null : info.maps[m.innerMap]!.name, m.innerTemplate];
    };
    assert.equal(row('flows'), ['btf', 'hash', 16, 8, 4096, 1, 0, 0, null, false]);
    assert.equal(row('pinned_stats'), ['btf', 'array', 4, 8, 16, 0, 1, 0, null, false]);
    assert.equal(row('routes'), ['btf', 'lpm_trie', 8, 4, 256, 1, 0, 0, null, false]);
    assert.equal(row('ring'), ['btf', 'ringbuf', 0, 0, 4096 * 4, 0, 0, 0, null, false]);
    assert.equal(row('perf_events'), ['btf', 'perf_event_array', 4, 4, 0, 0, 0, 0, null, false]);
    assert.equal(row('pending'), ['btf', 'queue', 0, 8, 32, 0, 0, 0, null, false]);
    assert.equal(row('inner_a'), ['btf', 'array', 4, 4, 4, 0, 0, 0, null, false]);
    assert.equal(row('inner_b'), ['btf', 'array', 4, 4, 4, 0, 0, 0, null, false]);
    assert.equal(row('array_of_maps'), ['btf', 'array_of_maps', 4, 4, 4, 0, 0, 0, 'array_of_maps.inner', false]);
    assert.equal(row('array_of_maps.inner'), ['btf', 'array', 4, 4, 4, 0, 0, 0, null, true]);
    assert.equal(row('hash_of_maps'), ['btf', 'hash_of_maps', 4, 4, 8, 0, 0, 0, 'hash_of_maps.inner', false]);
    assert.equal(row('hash_of_maps.inner'), ['btf', 'hash', 4, 8, 64, 0, 0, 0, null, true]);
    assert.is(info.maps.length, 12);
    // __type() gives BTF ids, __uint(key_size/value_size) does not
    assert.ok(mapNamed(info, 'flows').keyTypeId > 0 && mapNamed(info, 'flows').valueTypeId > 0);
    assert.equal([mapNamed(info, 'perf_events').keyTypeId, mapNamed(info, 'perf_events').valueTypeId], [0, 0]);
    for (const r of info.relocations.filter((x) => x.kind === 'map')) assert.is(info.maps[r.map!]!.name, r.symbol);
    assert.equal(info.diagnostics, []);
  });
}

test('large.o: 200 programs over 8 section kinds', () => {
  const info = load('large.o');
  const progs = loadable(info);
  assert.is(progs.length, 200);
  assert.equal([...new Set(progs.map((p) => p.typeName))].sort(),
    ['cgroup_skb', 'kprobe', 'perf_event', 'raw_tracepoint', 'sched_cls', 'socket_filter', 'tracepoint', 'xdp']);
  checkProgramGeometry(info);
  const mapRefs = info.relocations.filter((r) => r.kind === 'map');
  assert.ok(mapRefs.length >= 200);
  for (const r of mapRefs) assert.is(info.maps[r.map!]!.name, r.symbol);
  assert.equal(info.maps.filter((m) => m.origin === 'btf').map((m) => m.name).sort(),
    Array.from({ length: 50 }, (_, i) => `map_${i}`).sort());
});

test.run();
