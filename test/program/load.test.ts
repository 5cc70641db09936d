// Loading real programs into the kernel: test runs on crafted packets, a map counter, verifier errors.
import { readdirSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { Program, ProgramType, type ProgramSpec } from '../../src/program/program.js';
import { VerifierError } from '../../src/program/verifier.js';
import { EbpfMap, MapType } from '../../src/map/map.js';
import { SyscallError } from '../../src/sys/errors.js';
import { programs, XDP } from '../support/asm.js';
import { kernelSuite } from '../kernel/support.js';

const test = kernelSuite('program load');

const xdp = (name: string, instructions: Uint8Array, section = 'xdp'): ProgramSpec => ({ name, section, type: ProgramType.XDP, license: 'GPL', instructions });

/** An Ethernet frame of `length` bytes with this ethertype. */
function frame(ethertype: number, length = 64): Uint8Array {
  const bytes = new Uint8Array(length);
  bytes.fill(0xaa, 0, 12);
  bytes[12] = ethertype >> 8;
  bytes[13] = ethertype & 0xff;
  return bytes;
}

test('XDP test runs: IPv4 frames are dropped, others passed, the packet comes back unchanged', () => {
  using program = new Program(xdp('xdp_drop_ipv4', programs.xdpDropIpv4())).load();
  assert.ok(program.fd > 2);
  assert.is(program.loaded, true);
  const ipv4 = frame(0x0800);
  const ipv4Run = program.testRun({ data: ipv4 });
  assert.is(ipv4Run.retval, XDP.DROP);
  assert.equal(ipv4Run.data, ipv4);
  assert.ok(ipv4Run.durationNs >= 0);
  assert.is(program.testRun({ data: frame(0x86dd) }).retval, XDP.PASS);
  assert.is(program.testRun({ data: frame(0x0806, 14), repeat: 1000 }).retval, XDP.PASS);
});

test('XDP returning a constant action', () => {
  for (const action of [XDP.DROP, XDP.PASS, XDP.TX, XDP.ABORTED]) {
    using program = new Program(xdp('xdp_const', programs.xdpReturn(action))).load();
    assert.is(program.testRun({ data: frame(0x0800) }).retval, action);
  }
});

test('a TC classifier test run takes and gives back a __sk_buff context', () => {
  using program = new Program({ name: 'tc_mark', section: 'tc', type: ProgramType.SchedCLS, license: 'GPL', instructions: programs.tcReturnMark() }).load();
  // struct __sk_buff: mark is the u32 at offset 8; test runs accept it (and a few others) as input.
  const skb = new Uint8Array(192);
  new DataView(skb.buffer).setUint32(8, 2 /* TC_ACT_SHOT */, true);
  const result = program.testRun({ data: frame(0x0800), ctx: skb });
  assert.is(result.retval, 2);
  assert.is(result.ctx?.byteLength, 192);
  assert.is(new DataView(result.ctx!.buffer, result.ctx!.byteOffset).getUint32(8, true), 2);
  assert.is(program.testRun({ data: frame(0x0800) }).retval, 0 /* TC_ACT_OK: mark 0 */);
  assert.is(program.testRun({ data: frame(0x0800) }).ctx, undefined);
});

test('a test run whose output outgrows dataSizeOut reruns with room for it all', () => {
  using program = new Program(xdp('xdp_pass', programs.xdpReturn(XDP.PASS))).load();
  const result = program.testRun({ data: frame(0x0800, 200), dataSizeOut: 16 });
  assert.is(result.data.byteLength, 200);
  assert.equal(result.data, frame(0x0800, 200));
});

test('a socket filter test run returns the bytes it keeps', () => {
  using program = new Program({ name: 'keep_all', section: 'socket', type: ProgramType.SocketFilter, license: 'GPL', instructions: programs.socketKeepAll() }).load();
  const result = program.testRun({ data: frame(0x0800, 100) });
  // Socket programs see the frame after its Ethernet header, as on a socket: skb->len is 100 - 14.
  assert.is(result.retval, 86);
  assert.is(result.data.byteLength, 100);
});

for (const type of [MapType.Array, MapType.PerCPUArray]) {
  test(`a program counts its runs in a map (${MapType[type]})`, () => {
    using map = EbpfMap.create({ name: 'runs', type, keySize: 4, valueSize: 8, maxEntries: 1 });
    using program = new Program(xdp('xdp_count', programs.xdpCount(map.fd))).load();
    assert.is(map.lookupUint64(0), 0n);
    program.testRun({ data: frame(0x0800) });
    assert.is(map.lookupUint64(0), 1n);
    program.testRun({ data: frame(0x0800), repeat: 41 });
    // Per-CPU values are summed over the CPUs the runs happened on.
    assert.is(map.lookupUint64(0), 42n);
    assert.equal(program.info().mapIds, [map.info().id]);
  });
}

test('VerifierError: program, section and the failing instruction; whole log on .log', () => {
  const program = new Program(xdp('xdp_reads_r2', programs.readsUninitialisedRegister(), 'xdp/broken'));
  try {
    program.load();
    assert.unreachable('the verifier accepted a read of an uninitialised register');
  } catch (e) {
    assert.instance(e, VerifierError);
    assert.instance(e, SyscallError);
    const error = e as VerifierError;
    assert.is(error.code, 'EACCES');
    assert.is(error.program, 'xdp_reads_r2');
    assert.is(error.section, 'xdp/broken');
    assert.match(error.message, 'program \'xdp_reads_r2\' (section \'xdp/broken\')');
    assert.match(error.message, '1: (bf) r0 = r2');
    assert.match(error.message, 'R2 !read_ok');
    assert.match(error.log, /processed \d+ insns/);
    assert.is(error.truncated, false);
  }
  assert.is(program.loaded, false);
});

test('VerifierError for a write below the stack', () => {
  const error = (() => {
    try {
      new Program(xdp('xdp_deep_stack', programs.writesBelowStack())).load();
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.instance(error, VerifierError);
  assert.match((error as VerifierError).message, /1: \(7a\) \*\(u64 \*\)\(r10 -520\) = 1\n\tinvalid write to stack R10 off=-520 size=8/);
});

test('a log too small for the verdict grows until it fits', () => {
  try {
    new Program(xdp('xdp_reads_r2', programs.readsUninitialisedRegister())).load({ logLevel: 2, logSize: 16 });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, VerifierError);
    assert.is((e as VerifierError).truncated, false);
    assert.match((e as VerifierError).message, 'R2 !read_ok');
  }
});

test('a log capped below its size is reported truncated, with the errno of the log-less try', () => {
  try {
    new Program(xdp('xdp_reads_r2', programs.readsUninitialisedRegister())).load({ logSize: 128, logSizeMax: 128 });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, VerifierError);
    assert.is((e as VerifierError).truncated, true);
    assert.is((e as VerifierError).code, 'EACCES');
  }
});

test('logLevel keeps the log of a successful load', () => {
  using quiet = new Program(xdp('xdp_pass', programs.xdpReturn(XDP.PASS))).load();
  assert.is(quiet.verifierLog, undefined);
  using chatty = new Program(xdp('xdp_pass', programs.xdpDropIpv4())).load({ logLevel: 2 });
  assert.match(chatty.verifierLog ?? '', /processed \d+ insns/);
  assert.match(chatty.verifierLog ?? '', /\(61\) r2 = \*\(u32 \*\)\(r1 \+0\)/);
});

test('errors other than the verifier name the program; loading twice is refused', () => {
  const spec: ProgramSpec = { name: 'wrong_license', section: 'socket', type: ProgramType.SocketFilter, license: 'GPL', instructions: programs.socketKeepAll() };
  try {
    // Socket filters cannot be XDP-expected; an unknown program type is EINVAL before any verification.
    new Program({ ...spec, type: 999 as ProgramType }).load();
    assert.unreachable();
  } catch (e) {
    assert.instance(e, SyscallError);
    assert.not.instance(e, VerifierError);
    assert.match((e as SyscallError).message, /^BPF_PROG_LOAD: EINVAL .*program 'wrong_license' \(section 'socket'\)/);
  }
  using program = new Program(spec).load();
  assert.throws(() => program.load(), /already loaded/);
});

test('names: the kernel gets 15 accepted characters, the program keeps its own', () => {
  using program = new Program(xdp('xdp-with/odd.characters_and_length', programs.xdpReturn(XDP.PASS))).load();
  assert.is(program.name, 'xdp-with/odd.characters_and_length');
  assert.is(program.info().name, 'xdpwithodd.char');
});

test('close is idempotent, the fd is gone after it, and instructions are the caller\'s own bytes', () => {
  const instructions = programs.xdpReturn(XDP.PASS);
  const program = new Program(xdp('xdp_pass', instructions)).load();
  assert.is(program.instructions, instructions);
  assert.is(program.size, 16);
  const fd = program.fd;
  program.close();
  program.close();
  assert.is(program.loaded, false);
  assert.throws(() => program.fd, /is closed/);
  assert.throws(() => program.load(), /was loaded and closed: a Program loads once/);
  assert.throws(() => Program.fromFd(fd), /is not open|is not a BPF program/);
});

test('no fd leaks over many load / test run / close cycles, failed loads included', () => {
  const count = (): number => readdirSync('/proc/self/fd').length;
  const before = count();
  for (let i = 0; i < 300; i++) {
    using program = new Program(xdp('xdp_cycle', programs.xdpDropIpv4())).load();
    program.testRun({ data: frame(0x0800) });
    program.info();
    if (i % 10 === 0) {
      assert.throws(() => new Program(xdp('xdp_bad', programs.readsUninitialisedRegister())).load(), (e: unknown) => e instanceof VerifierError);
      using again = Program.fromId(program.info().id);
      again.instructions;
    }
  }
  assert.is(count(), before);
});

test.run();
