// Kernel feature probes against the running kernel: each answer agrees with what the kernel then does,
// results are cached, and `ebpf feature probe` prints them.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import {
  haveAttachType, haveBpfLink, haveLinkType, haveMapType, haveProgramHelper, haveProgramType, havePmu,
  kernelConfig, kernelVersion, NotSupportedError, probeAll, requireFeature,
} from '../../src/features/index.js';
import { EbpfMap } from '../../src/map/index.js';
import { AttachType, LinkType, MapType, ProgramType } from '../../src/sys/generated.js';
import { packageRoot } from '../../src/sys/native.js';
import { SyscallError } from '../../src/sys/errors.js';
import { kernelSuite } from '../kernel/support.js';

const test = kernelSuite('feature probes');

test('map types: supported ones create, unsupported ones fail as the probe said', () => {
  for (const type of [MapType.Hash, MapType.RingBuf, MapType.Arena, MapType.BloomFilter, MapType.LPMTrie, MapType.ArrayOfMaps]) {
    const result = haveMapType(type);
    const spec = type === MapType.Arena ? { type, maxEntries: 1, flags: 1024 } : type === MapType.ArrayOfMaps ? { type, innerMap: { type: MapType.Array, valueSize: 4, maxEntries: 1 }, maxEntries: 1 }
      : type === MapType.RingBuf ? { type, maxEntries: 4096 } : type === MapType.BloomFilter ? { type, valueSize: 4, maxEntries: 1 } : { type, keySize: 8, valueSize: 4, maxEntries: 1 };
    if (result.supported) {
      EbpfMap.create(spec).close();
    } else {
      assert.throws(() => EbpfMap.create(spec), (e: unknown) => e instanceof SyscallError && result.reason!.includes(e.code), `${result.feature}: ${result.reason}`);
    }
  }
  assert.ok(haveMapType(MapType.Hash).supported);
  assert.not.ok(haveMapType(MapType.Unspec).supported);
});

test('results are cached per process: the same frozen object', () => {
  const first = haveProgramType(ProgramType.XDP);
  assert.is(haveProgramType(ProgramType.XDP), first);
  assert.ok(Object.isFrozen(first));
  assert.ok(first.supported);
});

test('helpers: bpf_map_lookup_elem (1) in socket filters; an id past the last helper is refused with the verifier\'s words', () => {
  assert.ok(haveProgramHelper(ProgramType.SocketFilter, 1).supported);
  const none = haveProgramHelper(ProgramType.SocketFilter, 100000);
  assert.not.ok(none.supported);
  assert.match(none.reason!, /invalid func|unknown func/);
  // bpf_xdp_adjust_head (44) is for XDP programs only.
  const xdpOnly = haveProgramHelper(ProgramType.SocketFilter, 44);
  assert.not.ok(xdpOnly.supported);
  assert.match(xdpOnly.reason!, /cannot use helper|unknown func/);
  assert.ok(haveProgramHelper(ProgramType.XDP, 44).supported);
});

test('attach and link types, bpf_link, PMUs: consistent with each other and with the kernel config', () => {
  assert.ok(haveBpfLink().supported, 'every 6.x kernel has bpf_link');
  assert.ok(haveAttachType(AttachType.CgroupInetIngress).supported);
  assert.ok(haveAttachType(AttachType.TCXIngress).supported === haveLinkType(LinkType.TCX).supported);
  assert.ok(haveLinkType(LinkType.Cgroup).supported);
  assert.ok(havePmu('tracepoint').supported);
  const config = kernelConfig();
  if (config !== undefined) {
    assert.is(havePmu('kprobe').supported, config.get('CONFIG_KPROBES') === 'y', 'the kprobe PMU exists exactly where CONFIG_KPROBES=y');
    if (!havePmu('kprobe').supported) assert.match(havePmu('kprobe').reason!, /CONFIG_KPROBES/);
  }
  const v = kernelVersion();
  assert.ok(v.major >= 5 && v.release.startsWith(`${v.major}.${v.minor}`));
});

test('requireFeature throws a NotSupportedError naming the feature and the reason', () => {
  requireFeature(haveMapType(MapType.Hash));
  assert.throws(() => requireFeature(haveMapType(MapType.Unspec)), (e: unknown) => e instanceof NotSupportedError && /map type Unspec is not supported by this kernel: not a map type/.test(e.message));
});

test('probeAll and `ebpf feature probe --json` agree', () => {
  const report = probeAll();
  assert.ok(report.mapTypes.length >= 30 && report.programTypes.length >= 30);
  const bin = join(packageRoot, 'dist', 'src', 'cli', 'main.js');
  assert.ok(existsSync(bin));
  const printed = JSON.parse(execFileSync(process.execPath, [bin, 'feature', 'probe', '--json'], { encoding: 'utf8' })) as typeof report;
  assert.equal(printed.mapTypes, report.mapTypes);
  assert.equal(printed.linkTypes, report.linkTypes);
  const table = execFileSync(process.execPath, [bin, 'feature', 'probe'], { encoding: 'utf8' });
  assert.match(table, /^kernel \d+\.\d+/);
  assert.match(table, /map type Hash\s+yes/);
});

test.run();
