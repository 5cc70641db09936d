// cgroup hooks against the kernel with real traffic: a cgroup_skb program counts the packets a
// process placed in a test cgroup sends over loopback, attached through a bpf_link and through
// BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI; the netns hooks attach through links.
import { execFileSync } from 'node:child_process';
import * as assert from 'uvu/assert';
import { System } from '../../src/program/system.js';
import { AttachError, CgroupLegacyAttachment, LinkAttachment, listLinks } from '../../src/link/index.js';
import { AttachType } from '../../src/sys/generated.js';
import { SyscallError } from '../../src/sys/errors.js';
import { kernelSuite, testNeeding, withBpffs, withNetns } from '../kernel/support.js';
import { counter, FIXTURE, withCgroup } from './support.js';

const cgroup = kernelSuite('link: cgroup hooks');

/** Runs bash in the cgroup, sending `count` UDP datagrams to 127.0.0.1:9 (discard; nobody need listen). */
function sendFromCgroup(path: string, count: number): void {
  execFileSync('bash', ['-c', `echo $$ > ${path}/cgroup.procs && for i in $(seq ${count}); do echo x > /dev/udp/127.0.0.1/9; done`], { stdio: 'ignore' });
}

cgroup('cgroup_skb/egress counts the packets of a process in a test cgroup: link, then legacy BPF_PROG_ATTACH', async () => {
  await withCgroup((path) => {
    using system = new System().loadElf(FIXTURE);
    const slots = system.getMapByName('slots')!;
    const program = system.getProgramByName('count_egress')!.load();
    const link = program.attach(path);
    assert.instance(link, LinkAttachment);
    const listed = listLinks().find((l) => l.id === link.info().linkId)!;
    assert.equal([listed.typeName, listed.target.attachType], ['cgroup', 'cgroup_inet_egress']);
    sendFromCgroup(path, 5);
    assert.is(counter(slots, 5), 5n);
    link.detach();
    sendFromCgroup(path, 2);
    assert.is(counter(slots, 5), 5n, 'not counted after detach');

    const legacy = program.attach({ cgroup: path }, { legacy: true });
    assert.instance(legacy, CgroupLegacyAttachment);
    assert.is(legacy.info().legacy, true);
    sendFromCgroup(path, 3);
    assert.is(counter(slots, 5), 8n);
    // The same program twice with BPF_F_ALLOW_MULTI: the kernel says EINVAL, and the error says why.
    assert.throws(() => program.attach(path, { legacy: true }), (e: unknown) => e instanceof SyscallError && e.code === 'EINVAL' && /count_egress.*cgroup_inet_egress.*already attached there/.test(e.message));
    program.detach();
    assert.ok(legacy.detached);
    sendFromCgroup(path, 1);
    assert.is(counter(slots, 5), 8n);
  });
});

cgroup('cgroup_skb/ingress by fd with an explicit attach type; bad targets are refused before any syscall', async () => {
  await withCgroup((path) => {
    using system = new System().loadElf(FIXTURE);
    const program = system.getProgramByName('count_ingress')!.load();
    assert.throws(() => program.attach({ cgroup: path, attachType: AttachType.CgroupInet4Connect }), (e: unknown) => e instanceof AttachError && /cgroup_inet4_connect is not a hook of cgroup_skb programs/.test(e.message));
    assert.throws(() => program.attach('/no/such/cgroup'), (e: unknown) => e instanceof AttachError && /cannot attach to cgroup cgroup_inet_ingress \/no\/such\/cgroup: cannot open it/.test(e.message));
    assert.throws(() => program.attach('/etc/hostname'), (e: unknown) => e instanceof AttachError && /cannot open it/.test(e.message));
    const attachment = program.attach({ cgroup: path, attachType: AttachType.CgroupInetIngress });
    assert.is(attachment.info().kind, 'cgroup');
    system.close();
    assert.ok(attachment.detached);
  });
});

cgroup('a cgroup link is updated to another program without a gap, pinned, and reopened from its pin', async () => {
  await withCgroup(async (path) => {
    await withBpffs((dir) => {
      using system = new System().loadElf(FIXTURE);
      const slots = system.getMapByName('slots')!;
      const egress = system.getProgramByName('count_egress')!.load();
      const other = system.getProgramByName('count_ingress')!.load();
      const link = egress.attach(path);
      sendFromCgroup(path, 2);
      link.update(other);
      sendFromCgroup(path, 3);
      assert.equal([counter(slots, 5), counter(slots, 6)], [2n, 3n], 'the packets after the update went to the new program');
      link.pin(`${dir}/cgroup-link`);
      using reopened = LinkAttachment.fromPinned(`${dir}/cgroup-link`);
      assert.is(reopened.info().linkId, link.info().linkId);
      assert.is(listLinks().find((l) => l.id === link.info().linkId)!.progId, other.info().id);
      link.detach();
      // Pinned: the link lives on until the pin goes.
      assert.ok(listLinks().some((l) => l.id === reopened.info().linkId));
    });
  });
});

testNeeding(cgroup, 'sk_lookup attaches to a test network namespace through a netns link', ['ip'], async () => {
  await withNetns((netns) => {
    using system = new System().loadElf(FIXTURE);
    const program = system.getProgramByName('lookup_pass')!.load();
    const attachment = program.attach(`/var/run/netns/${netns.name}`);
    const listed = listLinks().find((l) => l.id === attachment.info().linkId)!;
    assert.equal([attachment.kind, listed.typeName, listed.target.attachType], ['sk_lookup', 'netns', 'sk_lookup']);
    assert.ok(Number(listed.target.netnsIno) > 0);
    assert.throws(() => program.attach('/no/such/netns'), (e: unknown) => e instanceof AttachError && /sk_lookup \/no\/such\/netns: cannot open it/.test(e.message));
    program.detach();
    assert.ok(attachment.detached);
  });
});

cgroup.run();
