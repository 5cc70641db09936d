// XDP on a veth pair with real packets: pings from the test's namespace into a fresh netns; the XDP
// program on the host end sees the echo replies coming back. Links and netlink, generic and driver
// mode, a firewall, replace and UPDATE_IF_NOEXIST, and errors; nothing is left attached after a test.
import { execFileSync } from 'node:child_process';
import * as assert from 'uvu/assert';
import { attachXdp, queryXdpPrograms, XdpAttachMode, XdpNetlinkAttachment, XdpResult } from '../../src/link/xdp.js';
import { AttachRefusedError } from '../../src/link/attach-error.js';
import { AttachError } from '../../src/link/target.js';
import { LinkAttachment } from '../../src/link/attachment.js';
import { getProgramInfoByFd } from '../../src/program/info.js';
import { kernelSuite, testNeeding, withBpffs } from '../kernel/support.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { haveLinkType } from '../../src/features/link.js';
import { LinkType } from '../../src/sys/generated.js';
import { withCleanNetns, COUNTER, linkIds, NetFixture, ping } from './net-support.js';

const test = kernelSuite('xdp attach');

function id(program: { fd: number }): number {
  return getProgramInfoByFd(program.fd).id;
}

for (const method of ['link', 'netlink'] as const) {
  for (const [modeName, mode, attached] of [['generic', XdpAttachMode.Generic, 'generic'], ['driver', XdpAttachMode.Driver, 'driver']] as const) {
    testNeeding(test, `XDP ${method} in ${modeName} mode counts the echo replies of pings across a veth pair, and detaches`, () => (method === 'link' ? ['ip', haveLinkType(LinkType.XDP)] : ['ip']), async () => {
      await withCleanNetns(async (ns) => {
        using fixture = new NetFixture();
        const program = fixture.program('xdp_count');
        const attachment = attachXdp(program, { interface: ns.hostIf, mode, method });
        const linkId = attachment.info().linkId;
        try {
          assert.instance(attachment, method === 'link' ? LinkAttachment : XdpNetlinkAttachment);
          const info = attachment.info();
          assert.is(info.kind, 'xdp');
          assert.is(info.program, 'xdp_count');
          assert.is(info.legacy, method === 'netlink');
          if (method === 'link') assert.ok(info.linkId! > 0 && linkIds().has(info.linkId!));
          const state = queryXdpPrograms(ns.hostIf);
          assert.is(state.mode, attached);
          assert.is(state.progId, id(program));
          assert.is(await ping(ns.peerAddress, 3), 3);
          assert.is(fixture.counter(COUNTER.xdp), 3);
        } finally {
          attachment.detach();
        }
        assert.is(attachment.detached, true);
        attachment.detach(); // idempotent
        assert.is(queryXdpPrograms(ns.hostIf).mode, 'none');
        if (linkId !== undefined) assert.not.ok(linkIds().has(linkId), 'the link is gone');
        assert.is(await ping(ns.peerAddress, 2), 2);
        assert.is(fixture.counter(COUNTER.xdp), 3, 'no counting once detached');
      });
    });
  }
}

testNeeding(test, 'a string is an interface name: goebpf\'s program.Attach("eth0"), a bpf_link by default', () => ['ip', haveLinkType(LinkType.XDP)], async () => {
  await withCleanNetns(async (ns) => {
    using fixture = new NetFixture();
    using attachment = attachXdp(fixture.program('xdp_count'), ns.hostIf);
    assert.instance(attachment, LinkAttachment);
    assert.ok(['driver', 'generic'].includes(queryXdpPrograms(ns.hostIf).mode));
  });
});

testNeeding(test, 'an XDP firewall drops the blocked source and passes others', ['ip'], async () => {
  await withCleanNetns(async (ns) => {
    using fixture = new NetFixture();
    using _attachment = attachXdp(fixture.program('xdp_firewall'), { interface: ns.hostIf, mode: XdpAttachMode.Generic });
    const peer = Uint8Array.from(ns.peerAddress.split('.').map(Number));
    fixture.blocked.insert(Uint8Array.of(192, 0, 2, 1), 0n); // TEST-NET-1: not the peer
    assert.is(await ping(ns.peerAddress, 3), 3, 'an unblocked source passes');
    assert.is(fixture.counter(COUNTER.firewall), 0);
    fixture.blocked.insert(peer, 0n);
    assert.is(await ping(ns.peerAddress, 2, 300), 0, 'the blocked source is dropped');
    assert.is(fixture.counter(COUNTER.firewall), 2);
    assert.is(fixture.blocked.lookupInt(peer), 2);
    fixture.blocked.delete(peer);
    assert.is(await ping(ns.peerAddress, 1), 1, 'passes again once unblocked');
  });
});

testNeeding(test, 'netlink: a second program fails without replace (UPDATE_IF_NOEXIST), replaces with replace, expected program checked', () => ['ip', haveLinkType(LinkType.XDP)], async () => {
  await withCleanNetns(async (ns) => {
    using fixture = new NetFixture();
    const a = fixture.program('xdp_count');
    const b = fixture.program('xdp_count_b');
    const first = attachXdp(a, { interface: ns.hostIf, mode: XdpAttachMode.Generic, method: 'netlink' });
    try {
      const refused = (() => {
        try {
          attachXdp(b, { interface: ns.hostIf, mode: XdpAttachMode.Generic, method: 'netlink' });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      assert.instance(refused, AttachRefusedError);
      const error = refused as AttachRefusedError;
      assert.is(error.code, 'EBUSY');
      assert.match(error.message, `program 'xdp_count_b' on xdp ${ns.hostIf}`);
      assert.match(error.message, /already attached|another XDP program/i);
      // A link cannot take an interface a netlink program holds.
      assert.throws(() => attachXdp(b, { interface: ns.hostIf, mode: XdpAttachMode.Generic, method: 'link' }), (e: unknown) => e instanceof AttachRefusedError && e.code === 'EBUSY');
      // Replacing with the wrong expected program fails; with the right one it swaps.
      assert.throws(() => attachXdp(b, { interface: ns.hostIf, mode: XdpAttachMode.Generic, replace: b }), (e: unknown) => e instanceof AttachRefusedError && e.code === 'EEXIST' && /expected/.test(e.message));
      assert.is(queryXdpPrograms(ns.hostIf).progId, id(a));
      const second = attachXdp(b, { interface: ns.hostIf, mode: XdpAttachMode.Generic, replace: a });
      assert.is(queryXdpPrograms(ns.hostIf).progId, id(b));
      assert.is(await ping(ns.peerAddress, 2), 2);
      assert.is(fixture.counter(COUNTER.xdp), 0);
      assert.is(fixture.counter(COUNTER.xdpB), 2);
      // Detaching the replaced attachment leaves the program that took its place.
      first.detach();
      assert.is(queryXdpPrograms(ns.hostIf).progId, id(b));
      // replace: true replaces whatever is there.
      const third = attachXdp(a, { interface: ns.hostIf, mode: XdpAttachMode.Generic, replace: true });
      assert.is(queryXdpPrograms(ns.hostIf).progId, id(a));
      second.detach();
      assert.is(queryXdpPrograms(ns.hostIf).progId, id(a));
      // update() swaps the program of a netlink attachment in place.
      third.update(b);
      assert.is(queryXdpPrograms(ns.hostIf).progId, id(b));
      third.detach();
      assert.is(queryXdpPrograms(ns.hostIf).mode, 'none');
    } finally {
      first.detach();
      execFileSync('ip', ['link', 'set', 'dev', ns.hostIf, 'xdpgeneric', 'off']);
    }
  });
});

testNeeding(test, 'a link is updated in place, and a second link on the interface is refused', () => ['ip', haveLinkType(LinkType.XDP)], async () => {
  await withCleanNetns(async (ns) => {
    using fixture = new NetFixture();
    const a = fixture.program('xdp_count');
    const b = fixture.program('xdp_count_b');
    using attachment = attachXdp(a, { interface: ns.hostIf, mode: XdpAttachMode.Generic });
    assert.throws(() => attachXdp(b, { interface: ns.hostIf, mode: XdpAttachMode.Generic }), (e: unknown) => e instanceof AttachRefusedError && e.code === 'EBUSY' && e.message.includes(`on xdp ${ns.hostIf}`));
    attachment.update(b);
    assert.is(queryXdpPrograms(ns.hostIf).progId, id(b));
    assert.is(await ping(ns.peerAddress, 2), 2);
    assert.is(fixture.counter(COUNTER.xdpB), 2);
    assert.is(fixture.counter(COUNTER.xdp), 0);
  });
});

testNeeding(test, 'a pinned XDP link outlives its fd and is found again by its pin; removing the pin and the fd detaches it', () => ['ip', haveLinkType(LinkType.XDP)], async () => {
  await withCleanNetns(async (ns) => {
    await withBpffs(async (dir) => {
      using fixture = new NetFixture();
      const program = fixture.program('xdp_count');
      const attachment = attachXdp(program, { interface: ns.hostIf, mode: XdpAttachMode.Generic });
      const path = join(dir, 'xdp_link');
      attachment.pin(path);
      attachment.detach(); // closes our fd: the pin keeps the link
      assert.is(queryXdpPrograms(ns.hostIf).progId, id(program));
      const again = LinkAttachment.fromPinned(path);
      assert.ok(again.info().linkId! > 0);
      assert.is(await ping(ns.peerAddress, 2), 2);
      assert.is(fixture.counter(COUNTER.xdp), 2);
      rmSync(path);
      again.detach();
      assert.is(queryXdpPrograms(ns.hostIf).mode, 'none');
    });
  });
});

testNeeding(test, 'driver mode on an interface without native XDP fails with the kernel\'s explanation', () => ['ip', haveLinkType(LinkType.XDP)], () => {
  const name = `ebifb${process.pid.toString(36)}`.slice(0, 15);
  try {
    execFileSync('ip', ['link', 'add', name, 'type', 'ifb'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    // A kernel feature (the ifb driver, an interface without native XDP), not a tool to install.
    console.log(`  skipped the driver-mode refusal check: cannot make an ifb interface: ${String(e).split('\n')[0]}`);
    return;
  }
  try {
    using fixture = new NetFixture();
    const program = fixture.program('xdp_count');
    for (const method of ['netlink', 'link'] as const) {
      try {
        attachXdp(program, { interface: name, mode: XdpAttachMode.Driver, method });
        assert.unreachable(`${method}: attached in driver mode to ifb`);
      } catch (e) {
        assert.instance(e, AttachRefusedError, String(e));
        const error = e as AttachRefusedError;
        assert.is(error.code, 'EOPNOTSUPP');
        assert.is(error.target, `${name} (driver mode)`);
        assert.match(error.message, `program 'xdp_count' on xdp ${name} (driver mode)`);
        if (method === 'netlink') assert.match(error.extack ?? '', /native mode/i);
        assert.match(error.message, /does not support this XDP mode/);
      }
    }
    assert.is(queryXdpPrograms(name).mode, 'none');
  } finally {
    execFileSync('ip', ['link', 'del', name]);
  }
});

test('bad input is refused before any attach: wrong program type, unknown interface, bad mode or name', () => {
  using fixture = new NetFixture();
  const tc = fixture.program('tc_ingress');
  const xdp = fixture.program('xdp_count');
  assert.throws(() => attachXdp(tc, 'lo'), (e: unknown) => e instanceof AttachError && e.program === 'tc_ingress' && e.hook === 'xdp' && e.target === 'lo' && /program 'tc_ingress': cannot attach to xdp lo: it is a sched_cls program; xdp runs xdp programs/.test(e.message));
  assert.throws(() => attachXdp(xdp, 'ebnone0'), (e: unknown) => e instanceof AttachRefusedError && e.code === 'ENODEV' && /no interface named "ebnone0"/.test(e.message));
  assert.throws(() => attachXdp(xdp, { interface: 'lo', mode: 3 as XdpAttachMode }), /mode 3 is not an XdpAttachMode/);
  assert.throws(() => attachXdp(xdp, 'a/b'), /not a valid interface name/);
  assert.throws(() => attachXdp(xdp, null as unknown as string), (e: unknown) => e instanceof AttachError && /^program 'xdp_count': cannot attach to xdp: expected an interface name or XdpAttachParams, got null$/.test(e.message));
  assert.throws(() => attachXdp(xdp, { interface: undefined as unknown as string }), /program 'xdp_count': cannot attach to xdp undefined: the interface must be a name or a positive index, got undefined/);
  assert.throws(() => attachXdp(xdp, { interface: 'lo', replace: fixture.system.getProgramByName('xdp_firewall')! }), /the program to replace is not loaded/);
  assert.throws(() => attachXdp(xdp, { interface: 'lo', method: 'link', replace: true }), /replace.*netlink/);
  const unloaded = fixture.system.getProgramByName('xdp_firewall')!;
  assert.throws(() => attachXdp(unloaded, 'lo'), /not loaded/);
});

test('XdpResult and XdpAttachMode carry goebpf\'s values', () => {
  assert.equal(XdpResult, { Aborted: 0, Drop: 1, Pass: 2, Tx: 3, Redirect: 4 });
  assert.is(XdpAttachMode.None, 0);
  assert.is(XdpAttachMode.Skb, 2);
  assert.is(XdpAttachMode.Drv, 4);
  assert.is(XdpAttachMode.Hw, 8);
  assert.is(XdpAttachMode.Generic, XdpAttachMode.Skb);
});

test.run();
