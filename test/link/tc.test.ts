// TC on a veth pair with real packets: pings from the test's namespace into a fresh netns; the host end's
// egress sees the echo requests, its ingress the replies. tcx links (with ordering) and classic clsact
// + cls_bpf filters; after each test no link, filter or qdisc of ours is left.
import * as assert from 'uvu/assert';
import { attachTc, queryTcx, TcFilterAttachment, type TcAttachParams } from '../../src/link/tc.js';
import { AttachRefusedError } from '../../src/link/attach-error.js';
import { LinkAttachment } from '../../src/link/attachment.js';
import { hasClsact, listFilters } from '../../src/netlink/tc.js';
import { interfaceIndex } from '../../src/netlink/link.js';
import { getProgramInfoByFd } from '../../src/program/info.js';
import { kernelSuite, testNeeding } from '../kernel/support.js';
import { haveLinkType } from '../../src/features/link.js';
import { LinkType } from '../../src/sys/generated.js';
import { withCleanNetns, COUNTER, linkIds, NetFixture, ping, tc } from './net-support.js';

const test = kernelSuite('tc attach');

function id(program: { fd: number }): number {
  return getProgramInfoByFd(program.fd).id;
}

testNeeding(test, 'tcx ingress and egress count the replies and requests of pings across a veth pair, and go on detach', () => ['ip', haveLinkType(LinkType.TCX)], async () => {
  await withCleanNetns(async (ns) => {
    using fixture = new NetFixture();
    const ingress = attachTc(fixture.program('tc_ingress'), { interface: ns.hostIf, direction: 'ingress' });
    const egress = attachTc(fixture.program('tc_egress'), { interface: ns.hostIf, direction: 'egress' });
    const ids = [ingress.info().linkId!, egress.info().linkId!];
    try {
      assert.instance(ingress, LinkAttachment);
      assert.is(ingress.info().kind, 'tcx');
      assert.is(ingress.info().target, `${ns.hostIf} ingress`);
      assert.equal(queryTcx(ns.hostIf, 'ingress').programs, [{ programId: id(fixture.program('tc_ingress')), linkId: ids[0] }]);
      assert.is(await ping(ns.peerAddress, 3), 3);
      assert.is(fixture.counter(COUNTER.tcIngress), 3);
      assert.is(fixture.counter(COUNTER.tcEgress), 3);
    } finally {
      ingress.detach();
      egress.detach();
    }
    assert.equal(queryTcx(ns.hostIf, 'ingress').programs, []);
    assert.equal(queryTcx(ns.hostIf, 'egress').programs, []);
    for (const linkId of ids) assert.not.ok(linkIds().has(linkId));
    assert.is(hasClsact(interfaceIndex(ns.hostIf)), false);
  });
});

testNeeding(test, 'tcx ordering: before/after by program, link or id decide which of two programs runs first', () => ['ip', haveLinkType(LinkType.TCX)], async () => {
  await withCleanNetns(async (ns) => {
    using fixture = new NetFixture();
    const a = fixture.program('tc_order_a');
    const b = fixture.program('tc_order_b');
    const order = async (): Promise<number> => {
      fixture.counters.update(COUNTER.order, 0n);
      assert.is(await ping(ns.peerAddress, 1), 1);
      return fixture.counter(COUNTER.order) & 0xff;
    };
    {
      using first = attachTc(a, { interface: ns.hostIf, direction: 'ingress' });
      using _second = attachTc(b, { interface: ns.hostIf, direction: 'ingress', before: a });
      assert.equal(queryTcx(ns.hostIf, 'ingress').programs.map((p) => p.programId), [id(b), id(a)]);
      assert.is(await order(), 0xba);
      assert.instance(first, LinkAttachment);
    }
    {
      using first = attachTc(a, { interface: ns.hostIf, direction: 'ingress' });
      using _second = attachTc(b, { interface: ns.hostIf, direction: 'ingress', after: first as LinkAttachment });
      assert.is(await order(), 0xab);
    }
    {
      using _first = attachTc(a, { interface: ns.hostIf, direction: 'ingress' });
      using _second = attachTc(b, { interface: ns.hostIf, direction: 'ingress', before: { programId: id(a) } });
      assert.is(await order(), 0xba);
      // The same program twice on one hook, and an anchor that is not on it, are refused.
      assert.throws(() => attachTc(a, { interface: ns.hostIf, direction: 'ingress' }), (e: unknown) => e instanceof AttachRefusedError && e.code === 'EEXIST' && /once per hook/.test(e.message));
      assert.throws(() => attachTc(fixture.program('tc_ingress'), { interface: ns.hostIf, direction: 'ingress', after: fixture.program('tc_egress') }), (e: unknown) => e instanceof AttachRefusedError && e.code === 'ENOENT');
      const { revision } = queryTcx(ns.hostIf, 'ingress');
      assert.throws(() => attachTc(fixture.program('tc_ingress'), { interface: ns.hostIf, direction: 'ingress', expectedRevision: revision + 5n }), (e: unknown) => e instanceof AttachRefusedError && e.code === 'ESTALE');
      using _third = attachTc(fixture.program('tc_ingress'), { interface: ns.hostIf, direction: 'ingress', expectedRevision: revision, before: true });
      assert.is(queryTcx(ns.hostIf, 'ingress').programs[0]?.programId, id(fixture.program('tc_ingress')));
    }
    assert.equal(queryTcx(ns.hostIf, 'ingress').programs, []);
  });
});

testNeeding(test, 'classic cls_bpf ingress and egress filters count pings; the clsact qdisc we made goes with the last filter', ['ip', 'tc'], async () => {
  await withCleanNetns(async (ns) => {
    using fixture = new NetFixture();
    const index = interfaceIndex(ns.hostIf);
    const ingress = attachTc(fixture.program('tc_ingress'), { interface: ns.hostIf, direction: 'ingress', method: 'classic' });
    const egress = attachTc(fixture.program('tc_egress'), { interface: ns.hostIf, direction: 'egress', method: 'classic', priority: 7, handle: 3 });
    try {
      assert.instance(ingress, TcFilterAttachment);
      assert.is(ingress.info().legacy, true);
      assert.is(hasClsact(index), true);
      const [filter] = listFilters(index, 'egress');
      assert.equal(filter, { ifindex: index, direction: 'egress', priority: 7, handle: 3, kind: 'bpf', bpf: { progId: id(fixture.program('tc_egress')), name: 'tc_egress', directAction: true } });
      assert.match(tc('filter', 'show', 'dev', ns.hostIf, 'ingress'), /tc_ingress.*direct-action/);
      assert.is(await ping(ns.peerAddress, 3), 3);
      assert.is(fixture.counter(COUNTER.tcIngress), 3);
      assert.is(fixture.counter(COUNTER.tcEgress), 3);
      ingress.detach();
      assert.equal(listFilters(index, 'ingress'), []);
      assert.is(hasClsact(index), true, 'the egress filter still uses the qdisc');
    } finally {
      ingress.detach();
      egress.detach();
    }
    assert.equal(listFilters(index, 'egress'), []);
    assert.is(hasClsact(index), false, 'our qdisc is gone with our last filter');
    assert.not.match(tc('qdisc', 'show', 'dev', ns.hostIf), /clsact/);
  });
});

testNeeding(test, 'classic: EEXIST without replace, replace swaps, detach removes only ours, a qdisc we did not make stays', ['ip', 'tc'], async () => {
  await withCleanNetns(async (ns) => {
    using fixture = new NetFixture();
    const index = interfaceIndex(ns.hostIf);
    tc('qdisc', 'add', 'dev', ns.hostIf, 'clsact'); // someone else's qdisc
    const a = fixture.program('tc_order_a');
    const b = fixture.program('tc_order_b');
    const first = attachTc(a, { interface: ns.hostIf, direction: 'ingress', priority: 10, handle: 1 });
    try {
      assert.throws(
        () => attachTc(b, { interface: ns.hostIf, direction: 'ingress', priority: 10, handle: 1 }),
        (e: unknown) => e instanceof AttachRefusedError && e.code === 'EEXIST' && e.message.includes(`program 'tc_order_b' on tc ${ns.hostIf} ingress`) && /replace: true/.test(e.message),
      );
      const second = attachTc(b, { interface: ns.hostIf, direction: 'ingress', priority: 10, handle: 1, replace: true });
      assert.is(listFilters(index, 'ingress')[0]?.bpf?.progId, id(b));
      first.detach(); // no longer ours: b runs there now
      assert.is(listFilters(index, 'ingress')[0]?.bpf?.progId, id(b));
      second.update(a);
      assert.is(listFilters(index, 'ingress')[0]?.bpf?.name, 'tc_order_a');
      fixture.counters.update(COUNTER.order, 0n);
      assert.is(await ping(ns.peerAddress, 1), 1);
      assert.is(fixture.counter(COUNTER.order), 0xa);
      second.detach();
      assert.equal(listFilters(index, 'ingress'), []);
      assert.is(hasClsact(index), true, 'the qdisc someone else made stays');
    } finally {
      first.detach();
      tc('qdisc', 'del', 'dev', ns.hostIf, 'clsact');
    }
  });
});

test('bad input is refused before any attach', () => {
  using fixture = new NetFixture();
  const program = fixture.program('tc_ingress');
  assert.throws(() => attachTc(fixture.program('xdp_count'), 5 as unknown as TcAttachParams), /^program 'xdp_count': cannot attach to tc: expected TcAttachParams \{ interface, direction \}, got 5$/);
  assert.throws(() => attachTc(fixture.program('xdp_count'), { interface: 'lo', direction: 'ingress' }), /program 'xdp_count': cannot attach to tcx lo ingress: it is a xdp program; tcx runs sched_cls programs/);
  assert.throws(() => attachTc(program, { interface: 'lo', direction: 'sideways' as 'ingress' }), /direction "sideways" is neither/);
  assert.throws(() => attachTc(program, { interface: 'lo', direction: 'ingress', priority: 1, before: true }), /not both/);
  assert.throws(() => attachTc(program, { interface: 'lo', direction: 'ingress', method: 'tcx', priority: 1 }), /need method 'classic'/);
  assert.throws(() => attachTc(program, { interface: 'lo', direction: 'ingress', method: 'classic', priority: 70000 }), /priority 70000/);
  assert.throws(() => attachTc(program, { interface: 'ebnone0', direction: 'egress' }), (e: unknown) => e instanceof AttachRefusedError && e.code === 'ENODEV' && /no interface named "ebnone0"/.test(e.message));
  assert.throws(() => attachTc(program, { interface: 'lo', direction: 'ingress', before: {} as { programId: number } }), /before must be a loaded program/);
});

test.run();
