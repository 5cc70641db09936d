// MockProgram without a kernel: Program's surface, goebpf's attach state, and testRun through a JS
// function standing in for the program.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Program } from '../../src/index.js';
import { VerifierError } from '../../src/program/verifier.js';
import { AttachType, MockProgram, ProgramType, type ProgramLike } from '../../src/mock/index.js';

const XDP_DROP = 1;
const XDP_PASS = 2;

test('a function typed against ProgramLike takes a MockProgram and a Program', () => {
  const describe = (p: ProgramLike): string => `${p.name}:${p.size}`;
  assert.is(describe(new MockProgram({ name: 'p', type: ProgramType.XDP })), 'p:16');
  const typed: (p: Program) => string = describe;
  assert.type(typed, 'function');
});

test('spec: defaults and checks', () => {
  const p = new MockProgram({ name: 'xdp_prog', type: ProgramType.XDP, section: 'xdp', expectedAttachType: AttachType.XDP });
  assert.equal([p.name, p.section, p.type, p.expectedAttachType, p.license, p.size, p.loaded, p.verifierLog], ['xdp_prog', 'xdp', ProgramType.XDP, AttachType.XDP, 'GPL', 16, false, undefined]);
  assert.equal(p.instructions, new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]));
  assert.throws(() => new MockProgram({ name: 'bad', type: ProgramType.XDP, instructions: new Uint8Array(12) }), (e: unknown) => e instanceof RangeError && /program 'bad': instructions are 12 bytes/.test(e.message));
  assert.is(p.toString(), 'MockProgram(xdp_prog, xdp)');
});

test('load, fd, id; loads once; errors name the program as Program does', () => {
  const p = new MockProgram({ name: 'p', type: ProgramType.SocketFilter, section: 'socket' });
  assert.throws(() => p.fd, /program 'p' \(section 'socket'\) is not loaded/);
  assert.is(p.load(), p);
  assert.ok(p.loaded && p.fd >= 1 << 24 && p.id > 0);
  assert.throws(() => p.load(), /is already loaded/);
  p.close();
  p.close();
  assert.is(p.loaded, false);
  assert.throws(() => p.fd, /is closed/);
  assert.throws(() => p.load(), /was loaded and closed: a Program loads once/);
});

test('loadError: load throws it and the program stays unloaded', () => {
  const rejected = new VerifierError(13, { program: 'p', section: 'xdp' }, '0: (85) call bpf_unknown#9999\ninvalid func unknown#9999\n', false);
  const p = new MockProgram({ name: 'p', type: ProgramType.XDP, loadError: rejected });
  assert.throws(() => p.load(), (e: unknown) => e === rejected);
  assert.is(p.loaded, false);
  p.loadError = undefined;
  assert.ok(p.load().loaded);
});

test('pin/unpin, attach/detach (goebpf Attached), close detaches, using disposes', () => {
  const p = new MockProgram({ name: 'p', type: ProgramType.XDP });
  assert.throws(() => p.attach('eth0'), /not loaded/);
  p.load();
  p.pin('/sys/fs/bpf/p');
  assert.is(p.pinnedPath, '/sys/fs/bpf/p');
  p.unpin();
  assert.is(p.pinnedPath, undefined);
  p.attach('eth0');
  assert.equal([p.attached, p.attachTarget], [true, 'eth0']);
  p.detach();
  assert.is(p.attached, false);
  p.attach({ interface: 'eth0', mode: 'skb' });
  {
    using scoped = p;
    assert.ok(scoped.attached);
  }
  assert.equal([p.loaded, p.attached], [false, false]);
});

test('info: name, tag, type, ids, sizes, run count, GPL', () => {
  const p = new MockProgram({ name: 'a-very-long-program-name', type: ProgramType.XDP, license: 'Dual BSD/GPL', run: () => XDP_PASS }).load();
  p.testRun({ repeat: 3 });
  const info = p.info();
  assert.is(info.name, 'averylongprogra');
  assert.match(info.tag, /^[0-9a-f]{16}$/);
  assert.equal([info.type, info.id, info.fd, info.xlatedProgramLen, info.runCount, info.gplCompatible], [ProgramType.XDP, p.id, p.fd, 16, 3n, true]);
  assert.ok(info.loadTime instanceof Date);
  assert.is(new MockProgram({ name: 'q', type: ProgramType.XDP, license: 'Proprietary' }).load().info().gplCompatible, false);
});

test('testRun calls the stand-in with copies; its return value, packet and context come back', () => {
  const calls: number[] = [];
  const p = new MockProgram({
    name: 'xdp_drop',
    type: ProgramType.XDP,
    run: ({ data, ctx }) => {
      calls.push(data.length);
      data[0] = 0xff; // edits the output packet in place
      if (ctx !== undefined) ctx[0] = 7;
      return data[12] === 0x08 ? XDP_PASS : XDP_DROP;
    },
  });
  assert.throws(() => p.testRun(), /not loaded/);
  p.load();
  const packet = new Uint8Array(14);
  packet[12] = 0x08;
  const r = p.testRun({ data: packet, ctx: new Uint8Array(4), repeat: 2 });
  assert.is(r.retval, XDP_PASS);
  assert.is(r.data[0], 0xff);
  assert.is(packet[0], 0, "the caller's packet is not touched");
  assert.equal(r.ctx, new Uint8Array([7, 0, 0, 0]));
  assert.ok(r.durationNs >= 0);
  assert.equal(calls, [14, 14]);
  assert.is(p.runCount, 2);
  p.run = () => ({ retval: XDP_DROP, data: new Uint8Array([1, 2]) });
  const replaced = p.testRun({ data: packet });
  assert.equal([replaced.retval, replaced.data, replaced.ctx], [XDP_DROP, new Uint8Array([1, 2]), undefined]);
  p.run = undefined;
  assert.throws(() => p.testRun(), /has no run function/);
});

test.run();
