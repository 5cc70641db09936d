// rtnetlink against iproute2 as the oracle: interfaces (a dump and lookups by name and index), the XDP
// program of an interface, qdiscs and filters, as `ip -j link` and `tc -j` report them.
import { execFileSync } from 'node:child_process';
import * as assert from 'uvu/assert';
import { getInterface, interfaceIndex, interfaceName, listInterfaces, queryXdp } from '../../src/netlink/link.js';
import { NetlinkError } from '../../src/netlink/socket.js';
import { listFilters, listQdiscs } from '../../src/netlink/tc.js';
import { attachTc } from '../../src/link/tc.js';
import { attachXdp, XdpAttachMode } from '../../src/link/xdp.js';
import { getProgramInfoByFd } from '../../src/program/info.js';
import { kernelSuite, testNeeding } from '../kernel/support.js';
import { NetFixture, withCleanNetns } from '../link/net-support.js';

const test = kernelSuite('netlink interfaces and tc');

function json<T>(file: string, args: string[]): T {
  return JSON.parse(execFileSync(file, args, { encoding: 'utf8' })) as T;
}

testNeeding(test, 'the interface dump and lookups by name and index agree with `ip -j link`', ['ip'], async () => {
  await withCleanNetns((ns) => {
    // Other test runs add and remove interfaces meanwhile: what ip lists both before and after the
    // dump must be in it, and what the dump has must be in one of the two.
    const ip = json<Array<{ ifindex: number; ifname: string; mtu: number }>>('ip', ['-j', 'link', 'show']);
    const ours = new Set(listInterfaces().map((i) => `${i.index} ${i.name}`));
    const ipAfter = new Set(json<Array<{ ifindex: number; ifname: string }>>('ip', ['-j', 'link', 'show']).map((i) => `${i.ifindex} ${i.ifname}`));
    const ipBefore = new Set(ip.map((i) => `${i.ifindex} ${i.ifname}`));
    for (const entry of ipBefore) if (ipAfter.has(entry)) assert.ok(ours.has(entry), `${entry} is missing from the dump`);
    for (const entry of ours) assert.ok(ipBefore.has(entry) || ipAfter.has(entry), `${entry} is in the dump only`);
    assert.ok(ours.has(`${interfaceIndex(ns.hostIf)} ${ns.hostIf}`));
    const host = ip.find((i) => i.ifname === ns.hostIf)!;
    assert.is(interfaceIndex(ns.hostIf), host.ifindex);
    assert.is(interfaceName(host.ifindex), ns.hostIf);
    assert.is(getInterface(ns.hostIf).mtu, host.mtu);
    assert.is((getInterface(ns.hostIf).flags & 1) !== 0, true, 'IFF_UP');
    // The peer end is in the other namespace: not here.
    assert.throws(() => interfaceIndex(ns.peerIf), (e: unknown) => e instanceof NetlinkError && e.code === 'ENODEV' && e.message.includes(`no interface named "${ns.peerIf}"`));
    assert.throws(() => interfaceName(0x7ffffff0), (e: unknown) => e instanceof NetlinkError && e.code === 'ENODEV');
    assert.throws(() => interfaceIndex('x'.repeat(16)), /not a valid interface name/);
  });
});

testNeeding(test, 'the XDP program and mode of an interface agree with `ip -j link`', ['ip'], async () => {
  await withCleanNetns((ns) => {
    using fixture = new NetFixture();
    const program = fixture.program('xdp_count');
    using _attachment = attachXdp(program, { interface: ns.hostIf, mode: XdpAttachMode.Generic, method: 'netlink' });
    const [link] = json<Array<{ xdp?: { mode: number; prog: { id: number } } }>>('ip', ['-j', 'link', 'show', ns.hostIf]);
    const state = queryXdp(ns.hostIf);
    assert.is(state.mode, 'generic');
    assert.is(link?.xdp?.mode, 2 /* XDP_ATTACHED_SKB */);
    assert.is(state.progId, link?.xdp?.prog.id);
    assert.is(state.genericProgId, getProgramInfoByFd(program.fd).id);
    assert.is(state.driverProgId, 0);
  });
});

testNeeding(test, 'qdiscs and cls_bpf filters agree with `tc -j`', ['ip', 'tc'], async () => {
  await withCleanNetns((ns) => {
    using fixture = new NetFixture();
    const index = interfaceIndex(ns.hostIf);
    using _attachment = attachTc(fixture.program('tc_ingress'), { interface: ns.hostIf, direction: 'ingress', method: 'classic', priority: 3, handle: 9 });
    const qdiscs = json<Array<{ kind: string; handle: string }>>('tc', ['-j', 'qdisc', 'show', 'dev', ns.hostIf]);
    assert.equal(listQdiscs(index).map((q) => q.kind).sort(), qdiscs.map((q) => q.kind).sort());
    const filters = json<Array<{ pref: number; kind: string; options?: { handle: string; bpf_name: string; prog: { id: number } } }>>('tc', ['-j', 'filter', 'show', 'dev', ns.hostIf, 'ingress']);
    const theirs = filters.filter((f) => f.options !== undefined);
    const ours = listFilters(index, 'ingress');
    assert.is(ours.length, theirs.length);
    assert.equal(ours.map((f) => [f.priority, `0x${f.handle.toString(16)}`, f.bpf?.name, f.bpf?.progId]), theirs.map((f) => [f.pref, f.options!.handle, f.options!.bpf_name, f.options!.prog.id]));
    assert.equal(listFilters(index, 'egress'), []);
  });
});

test.run();
