// What the kernel says about loaded programs: ProgramInfo against bpftool, ids, listing, reopening by
// id or fd, run-time statistics.
import { execFileSync } from 'node:child_process';
import * as assert from 'uvu/assert';
import { enableRunTimeStats, getProgramInfoByFd, getProgramInfoById } from '../../src/program/info.js';
import { Program, ProgramType, type ProgramSpec } from '../../src/program/program.js';
import { EbpfMap, MapType } from '../../src/map/map.js';
import { FD } from '../../src/sys/bpf.js';
import { native } from '../../src/sys/native.js';
import { programs, XDP } from '../support/asm.js';
import { kernelSuite, testNeeding } from '../kernel/support.js';

const test = kernelSuite('program info');

const xdp = (name: string, instructions: Uint8Array): ProgramSpec => ({ name, section: 'xdp', type: ProgramType.XDP, license: 'GPL', instructions });
const packet = new Uint8Array(64);

function arrayMap(): EbpfMap {
  return EbpfMap.create({ type: MapType.Array, keySize: 4, valueSize: 8, maxEntries: 1 });
}

interface BpftoolProgram {
  id: number;
  type: string;
  name: string;
  tag: string;
  gpl_compatible: boolean;
  loaded_at: number;
  uid: number;
  bytes_xlated: number;
  jited: boolean;
  bytes_jited: number;
  map_ids?: number[];
}

function bpftoolShow(id: number): BpftoolProgram {
  return JSON.parse(execFileSync('bpftool', ['prog', 'show', 'id', String(id), '-j'], { encoding: 'utf8' })) as BpftoolProgram;
}

testNeeding(test, 'ProgramInfo agrees with `bpftool prog show`', ['bpftool'], () => {
  using map = arrayMap();
  using program = new Program(xdp('xdp_count_info', programs.xdpCount(map.fd))).load();
  const info = program.info();
  const shown = bpftoolShow(info.id);
  assert.is(info.id, shown.id);
  assert.is(info.name, shown.name);
  assert.is(info.tag, shown.tag);
  assert.is(shown.type, 'xdp');
  assert.is(info.type, ProgramType.XDP);
  assert.is(info.xlatedProgramLen, shown.bytes_xlated);
  assert.is(info.jitedProgramLen, shown.bytes_jited);
  assert.is(info.createdByUid, shown.uid);
  assert.is(info.gplCompatible, shown.gpl_compatible);
  assert.equal(info.mapIds, shown.map_ids);
  assert.equal(info.mapIds, [map.info().id]);
  // bpftool prints whole seconds from its own boot-time estimate.
  assert.ok(Math.abs(info.loadTime.getTime() / 1000 - shown.loaded_at) <= 2, `${info.loadTime.toISOString()} vs ${shown.loaded_at}`);
  assert.is(info.fd, program.fd);
  assert.ok(info.verifiedInsns > 0);
});

testNeeding(test, 'a socket filter agrees with bpftool too, and its load time is now', ['bpftool'], () => {
  const before = Date.now();
  using program = new Program({ name: 'sock_keep', type: ProgramType.SocketFilter, license: 'Dual BSD/GPL', instructions: programs.socketKeepAll() }).load();
  const info = program.info();
  const shown = bpftoolShow(info.id);
  assert.is(shown.type, 'socket_filter');
  assert.is(info.tag, shown.tag);
  assert.equal(info.mapIds, []);
  assert.equal(shown.map_ids, undefined);
  // Load time comes from CLOCK_BOOTTIME: within a few ms of the wall clock around the load.
  assert.ok(info.loadTime.getTime() >= before - 20 && info.loadTime.getTime() <= Date.now() + 20, `${info.loadTime.getTime()} not in [${before}, ${Date.now()}]`);
});

test('by id and by fd give the same info; ids() and list() include the program', () => {
  using program = new Program(xdp('xdp_listed', programs.xdpReturn(XDP.PASS))).load();
  const byFd = getProgramInfoByFd(program.fd);
  const byId = getProgramInfoById(byFd.id);
  // loadTime is converted from loadTimeNs against the clocks at each call: equal within a millisecond or two.
  assert.equal({ ...byId, fd: byFd.fd, loadTime: byFd.loadTime }, byFd);
  assert.ok(Math.abs(byId.loadTime.getTime() - byFd.loadTime.getTime()) <= 2);
  assert.is(byId.fd, -1);
  assert.ok([...Program.ids()].includes(byFd.id));
  const listed = [...Program.list()].find((info) => info.id === byFd.id);
  assert.is(listed?.tag, byFd.tag);
  const ids = [...Program.ids()];
  assert.equal(ids, [...ids].sort((a, b) => a - b));
});

test('fromId and fromFd read name, type and the kernel\'s instructions', () => {
  using program = new Program(xdp('xdp_reopened', programs.xdpDropIpv4())).load();
  using byId = Program.fromId(program.info().id);
  assert.is(byId.name, 'xdp_reopened');
  assert.is(byId.type, ProgramType.XDP);
  assert.is(byId.license, 'GPL');
  assert.is(byId.section, undefined);
  assert.is(byId.size, program.info().xlatedProgramLen);
  assert.is(byId.instructions.byteLength, byId.size);
  assert.is(byId.info().tag, program.info().tag);
  assert.is(byId.testRun({ data: packet }).retval, XDP.PASS);
  using byFd = Program.adoptFd(native().dup(byId.fd));
  assert.is(byFd.info().id, program.info().id);
});

test('fromFd refuses a map fd and closes the FD it was given', () => {
  using map = arrayMap();
  const mapFd = new FD(native().dup(map.fd));
  assert.throws(() => Program.fromFd(mapFd), /Program.fromFd: fd \d+ is not a BPF program \(it is anon_inode:bpf-map\)/);
  assert.is(mapFd.closed, true);
  assert.throws(() => getProgramInfoById(0x7fffffff), /BPF_PROG_GET_FD_BY_ID: ENOENT/);
});

test('run count and run time are counted while statistics are on', () => {
  using program = new Program(xdp('xdp_stats', programs.xdpReturn(XDP.DROP))).load();
  {
    using stats = enableRunTimeStats();
    assert.ok(stats.fd > 2);
    program.testRun({ data: packet, repeat: 25 });
    const info = program.info();
    assert.is(info.runCount, 25n);
    assert.ok(info.runTimeNs > 0n);
  }
});

test.run();
