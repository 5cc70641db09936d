// Tracing hooks against the kernel, with real events: a tracepoint and a raw tracepoint see the
// processes the test spawns, a uprobe / uretprobe see the arguments and return value of a function
// of a binary built here (through the uprobe PMU and through tracefs uprobe_events), kprobes fail
// saying the kernel lacks them, an iterator's output is read, a perf_event program samples.
import { execFileSync, spawnSync } from 'node:child_process';
import * as assert from 'uvu/assert';
import { System } from '../../src/program/system.js';
import { AttachError, cleanupProbes, listUsdtProbes, IterAttachment, KprobeAttachType, listLinks, listProbes, LinkAttachment, PerfEventAttachment, PerfType, kprobesUnavailableReason } from '../../src/link/index.js';
import { SyscallError } from '../../src/sys/errors.js';
import { kernelSuite, withBpffs } from '../kernel/support.js';
import { counter, FIXTURE, missingTool, withProbedBinary } from './support.js';

const trace = kernelSuite('link: tracing hooks');

function spawnTrue(n: number): number[] {
  const pids: number[] = [];
  for (let i = 0; i < n; i++) {
    // `sh -c 'echo $$; exec true'`: the pid that execs is the one printed.
    pids.push(Number(execFileSync('sh', ['-c', 'echo $$; exec /bin/true'], { encoding: 'utf8' }).trim()));
  }
  return pids;
}

trace('tracepoint syscalls/sys_enter_execve (from its section) counts the processes spawned, and stops at detach', () => {
  using system = new System().loadElf(FIXTURE);
  const program = system.getProgramByName('count_execve')!.load();
  const execs = system.getMapByName('exec_tp')!;
  const attachment = program.attach();
  assert.instance(attachment, PerfEventAttachment);
  assert.is(attachment.target, 'syscalls/sys_enter_execve');
  const info = attachment.info();
  assert.equal([info.kind, info.legacy, info.linkType], ['tracepoint', false, 'perf_event']);
  const link = listLinks().find((l) => l.id === info.linkId);
  assert.ok(link, 'the link is listed');
  assert.equal([link.typeName, link.progId, link.target.perfEventType, link.target.tracepoint], ['perf_event', program.info().id, 'tracepoint', 'sys_enter_execve']);
  const pids = spawnTrue(3);
  // sh execs twice (sh itself, then true): each pid is seen at least once.
  for (const pid of pids) assert.ok(counter(execs, pid) >= 1n, `exec of pid ${pid} counted`);
  assert.equal(program.attachments, [attachment]);
  program.detach();
  assert.ok(attachment.detached);
  assert.equal(program.attachments, []);
  const after = spawnTrue(1);
  assert.is(counter(execs, after[0]!), 0n, 'not counted after detach');
});

trace('tracepoint through the legacy ioctl, and given as { category, name }', () => {
  using system = new System().loadElf(FIXTURE);
  const program = system.getProgramByName('count_execve')!.load();
  const attachment = program.attach({ category: 'syscalls', name: 'sys_enter_execve' }, { legacy: true });
  assert.is(attachment.info().legacy, true);
  const pids = spawnTrue(2);
  for (const pid of pids) assert.ok(counter(system.getMapByName('exec_tp')!, pid) >= 1n);
  attachment.detach();
  attachment.detach(); // idempotent
});

trace('raw tracepoint sched_process_exec counts the processes spawned', () => {
  using system = new System().loadElf(FIXTURE);
  const program = system.getProgramByName('count_exec_raw')!.load();
  const attachment = program.attach();
  assert.instance(attachment, LinkAttachment);
  const info = attachment.info();
  assert.equal([info.kind, info.target, info.legacy], ['raw_tracepoint', 'sched_process_exec', false]);
  const link = listLinks().find((l) => l.id === info.linkId)!;
  assert.equal([link.typeName, link.target.tracepoint], ['raw_tracepoint', 'sched_process_exec']);
  const pids = spawnTrue(3);
  for (const pid of pids) assert.ok(counter(system.getMapByName('exec_raw')!, pid) >= 1n, `exec of pid ${pid} counted`);
  system.close();
  assert.ok(attachment.detached, 'System.close() detached it');
});

trace('bad tracepoints are refused before any syscall, naming program, hook and target', () => {
  using system = new System().loadElf(FIXTURE);
  const program = system.getProgramByName('count_execve')!;
  assert.throws(() => program.attach('syscalls/sys_enter_execve'), (e: unknown) => e instanceof AttachError && /program 'count_execve'.*tracepoint syscalls\/sys_enter_execve: the program is not loaded/.test(e.message));
  program.load();
  assert.throws(() => program.attach('no_slash'), (e: unknown) => e instanceof AttachError && /"<category>\/<name>"/.test(e.message));
  assert.throws(() => program.attach('../etc'), (e: unknown) => e instanceof AttachError);
  assert.throws(() => program.attach('syscalls/no_such_event_here'), /no tracepoint syscalls\/no_such_event_here on this kernel/);
  const raw = system.getProgramByName('count_exec_raw')!.load();
  assert.throws(() => raw.attach('no_such_tracepoint_x'), (e: unknown) => e instanceof SyscallError && e.code === 'ENOENT' && /count_exec_raw.*raw_tracepoint no_such_tracepoint_x/.test(e.message));
  const cgroupProgram = system.getProgramByName('count_egress')!.load();
  assert.throws(() => cgroupProgram.attach({ category: 'syscalls', name: 'sys_enter_execve' }), (e: unknown) => e instanceof AttachError && /count_egress.*cgroup/.test(e.message));
  program.close();
  assert.throws(() => program.attach(), /not loaded \(load\(\) it first\) or was closed/);
});

for (const legacy of [false, true]) {
  trace(`uprobe and uretprobe on add() of a PIE binary built here see its arguments and return value${legacy ? ' (tracefs uprobe_events)' : ''}`, async () => {
    if (missingTool('cc') !== undefined) return;
    await withProbedBinary((path) => {
      using system = new System().loadElf(FIXTURE);
      const slots = system.getMapByName('slots')!;
      const entry = system.getProgramByName('probe_add')!.load();
      const ret = system.getProgramByName('probe_add_ret')!.load();
      const a = entry.attach({ path, symbol: 'add' }, { legacy });
      const r = ret.attach({ path, symbol: 'add', retprobe: true }, { legacy });
      assert.equal([a.kind, r.kind], ['uprobe', 'uretprobe']);
      if (legacy) {
        const ours = listProbes().filter((p) => p.ours && p.pid === process.pid);
        assert.is(ours.length, 2, JSON.stringify(ours));
        assert.equal(ours.map((p) => p.type).sort(), ['p', 'r']);
      } else {
        const link = listLinks().find((l) => l.id === a.info().linkId)!;
        assert.equal([link.target.perfEventType, link.target.file], ['uprobe', path]);
      }
      assert.is(execFileSync(path, ['7', '35'], { encoding: 'utf8' }).trim(), '42 probe-disabled');
      assert.equal([counter(slots, 0), counter(slots, 1), counter(slots, 2), counter(slots, 3), counter(slots, 4)], [1n, 7n, 35n, 1n, 42n]);
      system.close();
      assert.ok(a.detached && r.detached);
      execFileSync(path, ['1', '2']);
      assert.equal(listProbes().filter((p) => p.ours && p.pid === process.pid), [], 'no event of ours left in tracefs');
    });
  });
}

trace('uprobe on a non-PIE executable (addresses far from file offsets) fires at the right place', async () => {
  if (missingTool('cc') !== undefined) return;
  await withProbedBinary((path) => {
    using system = new System().loadElf(FIXTURE);
    const slots = system.getMapByName('slots')!;
    system.getProgramByName('probe_add')!.load().attach({ path, symbol: 'add' });
    assert.is(execFileSync(path, ['20', '22'], { encoding: 'utf8' }).trim(), '42 probe-disabled');
    assert.equal([counter(slots, 0), counter(slots, 1), counter(slots, 2)], [1n, 20n, 22n]);
  }, { pie: false });
});

for (const legacy of [false, true]) {
  trace(`usdt: the probe's note is found, its semaphore counted up while attached, its argument seen${legacy ? ' (tracefs uprobe_events)' : ''}`, async () => {
    if (missingTool('cc') !== undefined) return;
    await withProbedBinary((path) => {
      const probes = listUsdtProbes(path);
      assert.equal(probes.map((p) => [p.provider, p.name, p.args]), [['test', 'added', '8@%rdi']]);
      assert.ok(probes[0]!.semaphoreOffset > 0n);
      if (missingTool('readelf') === undefined) {
        const notes = execFileSync('readelf', ['-n', path], { encoding: 'utf8' });
        const location = /Provider: test\s+Name: added\s+Location: (0x[0-9a-f]+)/.exec(notes);
        assert.ok(location !== null, notes);
        assert.is(probes[0]!.address, BigInt(location[1]!), 'the location readelf -n shows');
      }
      using system = new System().loadElf(FIXTURE);
      const slots = system.getMapByName('slots')!;
      const program = system.getProgramByName('usdt_hit')!.load();
      assert.is(execFileSync(path, ['1', '2'], { encoding: 'utf8' }).trim(), '3 probe-disabled');
      const attachment = program.attach(`${path}:test:added`, { legacy });
      assert.equal([attachment.kind, attachment.info().legacy], ['usdt', legacy]);
      assert.is(execFileSync(path, ['40', '2'], { encoding: 'utf8' }).trim(), '42 probe-enabled');
      assert.equal([counter(slots, 9), counter(slots, 10)], [1n, 42n]);
      attachment.detach();
      assert.is(execFileSync(path, ['1', '2'], { encoding: 'utf8' }).trim(), '3 probe-disabled');
      assert.is(counter(slots, 9), 1n);
      assert.throws(() => program.attach({ path, provider: 'test', name: 'nope' }), /no USDT probe test:nope in the binary \(it has test:added\)/);
    });
  });
}

trace('uprobe by "path:symbol" string, by offset, and for one pid only', async () => {
  if (missingTool('cc') !== undefined) return;
  await withProbedBinary((path) => {
    using system = new System().loadElf(FIXTURE);
    const slots = system.getMapByName('slots')!;
    const entry = system.getProgramByName('probe_add')!.load();
    const byString = entry.attach(`${path}:add`);
    execFileSync(path, ['1', '2']);
    assert.is(counter(slots, 0), 1n);
    byString.detach();
    // A pid that is not running the binary: nothing fires.
    const other = entry.attach({ path, symbol: 'add', pid: process.pid });
    execFileSync(path, ['1', '2']);
    assert.is(counter(slots, 0), 1n);
    other.detach();
    assert.throws(() => entry.attach({ path, symbol: 'no_such_function' }), /no function symbol no_such_function/);
    assert.throws(() => entry.attach({ path: '/no/such/binary', symbol: 'add' }), (e: unknown) => e instanceof AttachError && /cannot open the binary/.test(e.message));
    assert.throws(() => entry.attach({ path: '/etc/hostname', symbol: 'add' }), /not an ELF file/);
  });
});

trace('a legacy uprobe event outlives a killed process (as documented); cleanupProbes removes it and no one else\'s', async () => {
  if (missingTool('cc') !== undefined) return;
  await withProbedBinary((path) => {
    const index = new URL('../../src/index.js', import.meta.url).href;
    const script = `import(${JSON.stringify(index)}).then((m) => {
      const s = new m.System().loadElf(${JSON.stringify(FIXTURE)});
      s.getProgramByName('probe_add').load().attach({ path: ${JSON.stringify(path)}, symbol: 'add' }, { legacy: true });
      console.log(process.pid);
      process.kill(process.pid, 'SIGKILL');
    });`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    const pid = Number(child.stdout.trim());
    assert.ok(pid > 0, child.stderr);
    const left = listProbes().filter((p) => p.ours && p.pid === pid);
    assert.is(left.length, 1, 'the killed process left its tracefs event');
    const others = listProbes().filter((p) => !(p.ours && (p.pid === pid || p.pid === process.pid)));
    const removed = cleanupProbes();
    assert.ok(removed.includes(`${left[0]!.group}/${left[0]!.event}`), removed.join(', '));
    assert.equal(listProbes().filter((p) => p.ours && (p.pid === pid || p.pid === process.pid)), []);
    // Events of live processes (other runs' attachments) are still there.
    const stillThere = new Set(listProbes().map((p) => p.line));
    for (const p of others.filter((o) => o.pid === undefined || o.pid !== pid)) {
      if (p.ours && p.pid !== undefined) {
        try { process.kill(p.pid, 0); } catch { continue; }
      }
      assert.ok(stillThere.has(p.line), `${p.line} kept`);
    }
  });
});

trace('kprobe: this kernel has no kprobes, and the attach says so before any syscall', () => {
  using system = new System().loadElf(FIXTURE);
  const program = system.getProgramByName('probe_unlinkat')!.load();
  const reason = kprobesUnavailableReason();
  if (reason === undefined) {
    // A kernel with kprobes: the attach works.
    program.attach().detach();
    return;
  }
  assert.match(reason, /no kprobes/);
  assert.throws(() => program.attach(), (e: unknown) => e instanceof AttachError && /program 'probe_unlinkat'.*kprobe do_unlinkat: this kernel has no kprobes \(CONFIG_KPROBES is off/.test(e.message));
  assert.throws(() => program.attach({ symbol: 'do_unlinkat', attachType: KprobeAttachType.Return }), /cannot attach to kretprobe do_unlinkat: this kernel has no kprobes/);
  assert.is(KprobeAttachType.prefix(KprobeAttachType.Return), 'r');
  assert.is(KprobeAttachType.toString(KprobeAttachType.Entry), 'kprobe');
});

trace('iter/bpf_map: the link reads as a stream, one record per map', async () => {
  using system = new System().loadElf(FIXTURE);
  const program = system.getProgramByName('dump_maps')!.load();
  const attachment = program.attach();
  assert.instance(attachment, IterAttachment);
  const iter = attachment as IterAttachment;
  const bytes = iter.read();
  assert.ok(bytes.byteLength >= 8 * 3 && bytes.byteLength % 8 === 0, `${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < bytes.byteLength / 8; i++) assert.is(view.getBigUint64(i * 8, true), BigInt(i));
  const chunks: Buffer[] = [];
  for await (const chunk of iter.stream()) chunks.push(chunk as Buffer);
  assert.ok(Buffer.concat(chunks).byteLength % 8 === 0);
  const link = listLinks().find((l) => l.id === iter.info().linkId)!;
  assert.equal([link.typeName, link.target.iterator], ['iter', 'bpf_map']);
});

trace('perf_event program samples the CPU clock on every CPU', async () => {
  using system = new System().loadElf(FIXTURE);
  const program = system.getProgramByName('count_samples')!.load();
  const attachment = program.attach({ type: PerfType.Software, config: 0, sampleFrequency: 1000 });
  const end = Date.now() + 100;
  while (Date.now() < end) { /* burn CPU to be sampled */ }
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(counter(system.getMapByName('slots')!, 7) > 0n);
  attachment.detach();
  assert.throws(() => program.attach({ type: PerfType.Software, config: 0 }), /give samplePeriod or sampleFrequency/);
});

trace('listLinks agrees with bpftool link show on our links (id, type, program, tracepoint / iterator)', () => {
  if (missingTool('bpftool') !== undefined) return;
  using system = new System().loadElf(FIXTURE);
  const ours = [
    system.getProgramByName('count_exec_raw')!.load().attach(),
    system.getProgramByName('count_execve')!.load().attach(),
    system.getProgramByName('dump_maps')!.load().attach(),
  ].map((a) => a.info().linkId!);
  const bpftool = (JSON.parse(execFileSync('bpftool', ['link', 'show', '-j'], { encoding: 'utf8' })) as Array<Record<string, unknown>>)
    .filter((l) => ours.includes(l.id as number))
    .map((l) => [l.id, l.type, l.prog_id, l.tp_name ?? l.target_name ?? null]);
  const mine = listLinks().filter((l) => ours.includes(l.id))
    .map((l) => [l.id, l.typeName, l.progId, l.typeName === 'perf_event' ? null : (l.target.tracepoint ?? l.target.iterator)]);
  assert.is(bpftool.length, 3);
  assert.equal(mine, bpftool);
});

trace('pin, fromPinned and update of a bpf_link', async () => {
  await withBpffs((dir) => {
    using system = new System().loadElf(FIXTURE);
    const program = system.getProgramByName('count_exec_raw')!.load();
    const attachment = program.attach();
    attachment.pin(`${dir}/link`);
    const id = attachment.info().linkId;
    using reopened = LinkAttachment.fromPinned(`${dir}/link`);
    assert.is(reopened.info().linkId, id);
    // update to the same program type: raw tracepoint links cannot be updated (the kernel says so).
    assert.throws(() => attachment.update(program), (e: unknown) => e instanceof SyscallError && e.syscall === 'BPF_LINK_UPDATE');
    // A tracepoint's perf bpf_link pins too.
    const tracepoint = system.getProgramByName('count_execve')!.load();
    const perfLink = tracepoint.attach();
    perfLink.pin(`${dir}/tp`);
    using fromPin = LinkAttachment.fromPinned(`${dir}/tp`);
    assert.equal([fromPin.info().linkId, fromPin.info().linkType], [perfLink.info().linkId, 'perf_event']);
  });
});

trace('tp_btf program attaches through a raw tracepoint link', () => {
  using system = new System().loadElf(FIXTURE.replace('attach_trace', 'btf_targets'));
  const program = system.getProgramByName('tp_btf_switch')!.load();
  const attachment = program.attach();
  assert.equal([attachment.kind, attachment.target], ['tp_btf', 'sched_switch']);
  const listed = listLinks().find((l) => l.id === attachment.info().linkId)!;
  assert.ok(listed.typeName === 'tracing' || listed.typeName === 'raw_tracepoint', listed.typeName);
  program.close();
  assert.ok(attachment.detached);
});

trace('fentry/fexit/lsm: loading or attaching is refused on kernels without BPF trampolines, clearly', () => {
  using system = new System().loadElf(FIXTURE.replace('attach_trace', 'btf_targets'));
  for (const name of ['fentry_unlinkat', 'fexit_unlinkat']) {
    const program = system.getProgramByName(name)!;
    try {
      program.load();
    } catch (e) {
      assert.ok(e instanceof SyscallError && e.code === 'EPERM', String(e));
      assert.throws(() => program.attach(), /not loaded/);
      continue;
    }
    try {
      program.attach().detach();
    } catch (e) {
      assert.ok(e instanceof SyscallError && /BPF trampolines/.test(e.message), String(e));
    }
  }
});

trace.run();
