// Programs relocated by the core and loaded through System into the real kernel: every fixture program
// the kernel accepts (attach targets, kfuncs and __ksym variables found in the running kernel), map
// references (the goebpf XDP drop counter), global data, bpf-to-bpf calls (shared subprograms, a
// bpf_loop callback), func/line info reaching the kernel, BTF for maps, and clear errors for what
// cannot be loaded.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { release } from 'node:os';
import { kernelVersionCode, readKernelConfig } from '../../src/program/kconfig.js';
import { ProgramType } from '../../src/program/program.js';
import { KernelSymbolError, System, UnsupportedError } from '../../src/program/system.js';
import { VerifierError } from '../../src/program/verifier.js';
import { KERNEL_MAY_LACK, kernelSuite, loadsUnlessKernelLacks, withBpffs, testNeeding } from '../kernel/support.js';

const test = kernelSuite('program relocate');
const fixturesDir = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const fixture = (name: string): string => fixturesDir + name;

const XDP_DROP = 1, XDP_PASS = 2;
const STRUCT_OPS = /struct_ops programs need the BTF id of their kernel operations table/;
const TARGET = (program: string, section: string, target: string, kind: string, name: string): RegExp =>
  new RegExp(`/btf_targets\\.o: program '${program}' \\(section '${section}'\\): attach target '${target}' not found: the kernel's BTF \\(/sys/kernel/btf/vmlinux\\) has no ${kind} '${name}'$`);

/** Programs of the fixtures that do not load through System, with their error, or the kernel feature
 * they need that some kernels lack (they load where it is there). Every other program loads. */
const REFUSED: Record<string, Record<string, RegExp | keyof typeof KERNEL_MAY_LACK>> = {
  'btf_targets.o': {
    fentry_unlinkat: 'trampolines', fexit_unlinkat: 'trampolines', fmod_ret_file_open: 'trampolines', lsm_file_open: 'trampolines',
    fentry_missing: TARGET('fentry_missing', 'fentry/ebpf_fixture_no_such_function', 'ebpf_fixture_no_such_function', 'func', 'ebpf_fixture_no_such_function'),
    tp_btf_missing: TARGET('tp_btf_missing', 'tp_btf/ebpf_fixture_no_such_tracepoint', 'ebpf_fixture_no_such_tracepoint', 'typedef', 'btf_trace_ebpf_fixture_no_such_tracepoint'),
    lsm_missing: TARGET('lsm_missing', 'lsm/ebpf_fixture_no_such_hook', 'ebpf_fixture_no_such_hook', 'func', 'bpf_lsm_ebpf_fixture_no_such_hook'),
    iter_missing: TARGET('iter_missing', 'iter/ebpf_fixture_no_such_iterator', 'ebpf_fixture_no_such_iterator', 'func', 'bpf_iter_ebpf_fixture_no_such_iterator'),
  },
  'externs.o': { ksym_read: 'kallsymsVariables' },
  'ksyms.o': {
    kfunc_other_prototype: /\/ksyms\.o: program 'kfunc_other_prototype': instruction \d+: kfunc 'bpf_rcu_read_lock___two_args' is not resolved: it is declared with 2 parameter\(s\), the kernel's 'bpf_rcu_read_lock' \[\d+\] takes 0$/,
    kfunc_other_types: /\/ksyms\.o: program 'kfunc_other_types': instruction \d+: kfunc 'bpf_cgroup_release___by_id' is not resolved: its prototype is not compatible with the kernel's 'bpf_cgroup_release' \[\d+\] \(parameter or return types differ in kind\)$/,
    ksym_other_type: /\/ksyms\.o: program 'ksym_other_type': instruction \d+: __ksym variable 'bpf_prog_active' is not resolved: its type is not compatible with the kernel's 'bpf_prog_active' \[\d+\]$/,
    missing_kfunc: /\/ksyms\.o: program 'missing_kfunc': instruction 0: kfunc 'ebpf_fixture_missing_kfunc' is not resolved: the kernel's BTF \(\/sys\/kernel\/btf\/vmlinux\) has no function 'ebpf_fixture_missing_kfunc'$/,
    missing_address: /\/ksyms\.o: program 'missing_address': instruction \d+: untyped __ksym variable 'ebpf_fixture_missing_addr' is not resolved: \/proc\/kallsyms has no symbol 'ebpf_fixture_missing_addr'$/,
  },
  'sections.o': {
    fentry_unlinkat: 'trampolines', fexit_unlinkat: 'trampolines', lsm_file_open: 'trampolines',
    unknown_section: /the section name gives no program type: pass one in programTypes$/,
  },
  'struct_ops.o': { fixture_init: STRUCT_OPS, fixture_ssthresh: STRUCT_OPS, fixture_cong_avoid: STRUCT_OPS, fixture_undo_cwnd: STRUCT_OPS },
};

test('every fixture program loads through System, except those listed with the reason they cannot', async () => {
  const objects = readdirSync(fixturesDir).filter((f) => f.endsWith('.o') && !f.endsWith('.bpfeb.o')).sort();
  assert.ok(objects.length >= 9);
  // LIBBPF_PIN_BY_NAME maps (maps_btf.o's pinned_stats) pin under a private bpffs, not /sys/fs/bpf.
  await withBpffs((pinRoot) => loadEveryFixture(objects, pinRoot));
});

function loadEveryFixture(objects: string[], pinRoot: string): void {
  let loaded = 0;
  for (const name of objects) {
    // goebpf's persistent_path is absolute: moved into the private bpffs too.
    using system = new System().loadElf(fixture(name), { pinRoot, maps: name === 'xdp_goebpf.o' ? { pinned_counts: { persistentPath: `${pinRoot}/goebpf_fixture_counts` } } : undefined });
    const refused = REFUSED[name] ?? {};
    for (const [program, p] of system.getPrograms()) {
      const why = refused[program];
      if (why === undefined) {
        p.load();
        assert.ok(p.info().id > 0);
        loaded++;
        continue;
      }
      if (typeof why === 'string') {
        if (loadsUnlessKernelLacks(p, why)) loaded++;
        continue;
      }
      assert.throws(() => p.load(), (e: unknown) => (e instanceof UnsupportedError || e instanceof KernelSymbolError) && why.test(e.message), `${name} ${program}`);
    }
    assert.equal(Object.keys(refused).filter((p) => !system.getPrograms().has(p)), [], `${name}: listed programs missing`);
  }
  assert.ok(loaded > 230, `${loaded} programs loaded`); // large.o alone has 200
}

/** An Ethernet + IPv4 + UDP packet of `size` bytes (at least 42). */
function udpPacket(size: number, sourcePort: number): Uint8Array {
  const packet = new Uint8Array(size);
  const view = new DataView(packet.buffer);
  packet.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2], 0);
  view.setUint16(12, 0x0800); // IPv4
  packet.set([0x45, 0], 14);
  view.setUint16(16, size - 14);
  packet.set([64, 17], 22); // TTL, UDP
  packet.set([10, 199, 0, 1, 10, 199, 0, 2], 26);
  view.setUint16(34, sourcePort);
  view.setUint16(36, 53);
  view.setUint16(38, size - 34);
  return packet;
}

test('xdp_goebpf.o: the goebpf XDP drop counter drops crafted packets and counts them in its per-CPU map', () => withBpffs((bpffs) => {
  using system = new System().loadElf(fixture('xdp_goebpf.o'), { maps: { pinned_counts: { persistentPath: `${bpffs}/counts` } } });
  const pinned = system.getMapByName('pinned_counts')!;
  try {
    using xdp = system.getProgramByName('xdp_drop')!.load();
    const drops = system.getMapByName('drops')!;
    const total = (): bigint => drops.lookupPerCpu(0).reduce((sum, v) => sum + new DataView(v.buffer, v.byteOffset).getBigUint64(0, true), 0n);
    assert.is(total(), 0n);
    for (const [i, size] of [64, 128, 1500].entries()) assert.is(xdp.testRun({ data: udpPacket(size, 1000 + i) }).retval, XDP_DROP);
    assert.is(total(), 3n);
    assert.is(xdp.testRun({ data: udpPacket(80, 7), repeat: 10 }).retval, XDP_DROP);
    assert.is(total(), 13n);
    assert.equal(xdp.info().mapIds, [drops.info().id]);
  } finally {
    pinned.unpin();
  }
}));

test('globals.o: a socket filter reads .rodata and counts into .data and .bss through shared subprograms', () => {
  using system = new System().loadElf(fixture('globals.o'));
  using snap = system.getProgramByName('socket_snap')!.load();
  const data = system.getMapByName('.data')!, bss = system.getMapByName('.bss')!;
  const u64 = (bytes: Uint8Array, at: number): bigint => new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(at, true);
  // The kernel pulls the Ethernet header off a socket filter's skb: skb->len is size - 14.
  assert.is(snap.testRun({ data: udpPacket(114, 1) }).retval, 64); // min(100, snap_len 64)
  assert.is(snap.testRun({ data: udpPacket(54, 1) }).retval, 40);
  assert.is(u64(data.lookup(0), 0), 102n); // packets_seen: 100 initially
  assert.is(u64(bss.lookup(0), 8), 100n * 1n + 40n * 1n); // bytes_seen: len * weights[len & 3]
  using tp = system.getProgramByName('tp_getppid')!.load();
  assert.is(tp.info().mapIds.length, 3);
});

test('relocs.o: xdp_sum (pc-relative call, bpf_loop callback) and tc_sum share a subprogram, both loaded at once', () => {
  using system = new System().loadElf(fixture('relocs.o'));
  using xdp = system.getProgramByName('xdp_sum')!.load();
  using tc = system.getProgramByName('tc_sum')!.load();
  const results = system.getMapByName('results')!, data = system.getMapByName('.data')!, bss = system.getMapByName('.bss')!;
  const u64 = (bytes: Uint8Array, at = 0): bigint => new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(at, true);
  assert.is(xdp.testRun({ data: udpPacket(68, 1) }).retval, XDP_PASS);
  assert.is(u64(bss.lookup(0), 8), 10n); // loop_total: 1 + 2 + 3 + 4 (68 % 16 = 4)
  assert.is(new DataView(bss.lookup(0).buffer).getUint32(0, true), 68); // last_length
  assert.is(xdp.testRun({ data: udpPacket(150, 1) }).retval, XDP_DROP); // is_long
  assert.is(u64(bss.lookup(0), 8), 21n); // 150 % 16 = 6
  assert.is(results.lookupUint64(0), 3n * (68n + 150n)); // record() -> scale()
  assert.is(tc.testRun({ data: udpPacket(64, 1), ctx: new Uint8Array(192) }).retval, 0);
  assert.is(results.lookupUint64(1), 3n * 64n);
  assert.is(u64(data.lookup(0)), 7n + 3n); // calls: 7 initially, one per record()
  assert.is(tc.type, ProgramType.SchedCLS);
});

test('a ring buffer of 1000 bytes is created with a power-of-two number of pages, as libbpf does', () => {
  using system = new System().loadElf(fixture('relocs.o'));
  const size = system.getMapByName('events')!.maxEntries;
  assert.ok(size >= 4096 && (size & (size - 1)) === 0, `${size}`);
});

testNeeding(test, 'func and line info reach the kernel: bpftool shows every function and its source lines', ['bpftool'], () => {
  using system = new System().loadElf(fixture('globals.o'));
  using snap = system.getProgramByName('socket_snap')!.load();
  const info = snap.info();
  assert.ok(info.btfId > 0);
  const dump = execFileSync('bpftool', ['prog', 'dump', 'xlated', 'id', String(info.id)], { encoding: 'utf8' });
  for (const line of ['int socket_snap(struct __sk_buff * skb):', '; account(skb->len);', 'void account(__u32 len):',
    '; __sync_fetch_and_add(&packets_seen, 1);', 'int clamp_len(int len):', '__u32 weigh(__u32 value):', '; return value * weights[value & 3];']) {
    assert.ok(dump.includes(line), `bpftool output lacks "${line}":\n${dump}`);
  }
});

test('maps get the object\'s BTF: BTF maps their key and value types, global data its DATASEC', () => {
  using system = new System().loadElf(fixture('relocs.o'));
  assert.equal(system.warnings, []);
  const results = system.getMapByName('results')!.info();
  assert.ok(results.btfId > 0 && results.btfKeyTypeId > 0 && results.btfValueTypeId > 0);
  const bss = system.getMapByName('.bss')!.info();
  assert.is(bss.btfId, results.btfId);
  assert.is(bss.btfKeyTypeId, 0);
  assert.ok(bss.btfValueTypeId > 0);
});

test('kfunc declarations (.ksyms extern FUNCs) are rewritten so the kernel takes the object\'s BTF', () => {
  using system = new System().loadElf(fixture('externs.o'));
  assert.equal(system.warnings, []);
  assert.ok(system.getMapByName('.bss')!.info().btfId > 0);
});

test('BTF the kernel refuses: a warning, maps and programs load without it', () => {
  // Function "record" renamed "rec-rd", no C identifier: the core reads the BTF, the kernel refuses it.
  const bytes = new Uint8Array(readFileSync(fixture('relocs.o')));
  const name = new TextEncoder().encode('\0record\0');
  let patched = 0;
  for (let at = bytes.indexOf(0); at >= 0; at = bytes.indexOf(0, at + 1)) {
    if (name.every((b, i) => bytes[at + i] === b)) { bytes[at + 4] = 0x2d; patched++; }
  }
  assert.ok(patched > 0);
  using system = new System().load(bytes);
  assert.is(system.warnings.length, 1);
  assert.match(system.warnings[0]!, /^the kernel refused the object's BTF \(BPF_BTF_LOAD: EINVAL: .*\); its maps and programs load without BTF$/);
  assert.is(system.getMapByName('.bss')!.info().btfId, 0);
  using tc = system.getProgramByName('tc_sum')!.load();
  assert.is(tc.info().btfId, 0);
  assert.is(tc.testRun({ data: udpPacket(64, 1), ctx: new Uint8Array(192) }).retval, 0);
  // a bpf_loop callback needs func_info, which comes with BTF
  assert.throws(() => system.getProgramByName('xdp_sum')!.load(), (e: unknown) => e instanceof VerifierError && /missing btf func_info/.test(e.message));
});

test('externs.o: .kconfig values from the running kernel (release, /proc/config.gz), read by a raw_tp program', () => {
  using system = new System().loadElf(fixture('externs.o'));
  const kconfig = system.getMapByName('.kconfig')!;
  assert.throws(() => kconfig.update(0, new Uint8Array(kconfig.valueSize)), /EPERM/); // frozen
  using program = system.getProgramByName('kconfig_read')!.load();
  // raw_tp test runs take only a context: no data, no output, no repeat
  assert.is(program.testRun({ ctx: new Uint8Array(8), dataSizeOut: 0, ctxSizeOut: 0, repeat: 0 }).retval, 0);
  const seen = system.getMapByName('.bss')!.lookup(0);
  const view = new DataView(seen.buffer, seen.byteOffset + 8); // after `seen`
  assert.is(view.getUint32(0, true), kernelVersionCode(release()));
  const config = readKernelConfig()!;
  assert.is(view.getInt32(4, true), Number(config.get('CONFIG_HZ') ?? 0));
  assert.is(view.getUint32(8, true), 0); // CONFIG_EBPF_FIXTURE_ABSENT: weak, absent
  assert.is(view.getUint8(12), config.get('CONFIG_BPF_SYSCALL') === 'y' ? 1 : 0);
  const hostname = new TextDecoder().decode(seen.subarray(8 + 13, 8 + 13 + 16)).replace(/\0+$/, '');
  assert.is(`"${hostname}"`, config.get('CONFIG_DEFAULT_HOSTNAME') ?? '""');
});

test('struct_ops maps are not created (a warning says why), the rest of the object is', () => {
  using system = new System().loadElf(fixture('struct_ops.o'));
  assert.equal([...system.getMaps().keys()], []);
  assert.match(system.warnings.join('\n'), 'map \'fixture_cc\' (.struct_ops) is not created');
});

test('a program loads again from a second System while the first is loaded; closing frees the core object', () => {
  const first = new System().loadElf(fixture('relocs.o'));
  const a = first.getProgramByName('xdp_sum')!.load();
  using second = new System().loadElf(fixture('relocs.o'));
  using b = second.getProgramByName('xdp_sum')!.load();
  assert.is.not(a.info().id, b.info().id);
  const unloaded = first.getProgramByName('tc_sum')!;
  first.getMapByName('results')!.close();
  assert.throws(() => unloaded.load(), (e: unknown) => e instanceof UnsupportedError && /'results' refers to map 'results', which has no fd \(not created, or closed\)$/.test(e.message));
  first.close();
  assert.throws(() => unloaded.load(), /the object was closed/);
});

test.run();
