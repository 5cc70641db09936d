// goebpf's xdp_dump example (examples/xdp-dump): its XDP program on the host end of a veth pair sees a
// TCP SYN sent from the test network namespace, and PerfEvents delivers exactly one event with the
// connection's addresses and ports, followed by the packet.
// The program is attached with a bpf link made here (BPF_LINK_CREATE, BPF_XDP), so the test does not
// depend on src/link's XDP attach, which the example's main.ts uses.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { decodeSynEvent, type SynEvent } from '../../examples/xdp-dump/event.js';
import { PerfEvents } from '../../src/events/perf.js';
import { System } from '../../src/program/system.js';
import { bpf, FD } from '../../src/sys/bpf.js';
import { ATTR, AttachType, BpfCmd } from '../../src/sys/generated.js';
import { kernelSuite, testNeeding, withNetns } from '../kernel/support.js';

const test = kernelSuite('example xdp_dump');
const OBJECT = fileURLToPath(new URL('../../../examples/xdp-dump/xdp_dump.o', import.meta.url));

/** BPF_LINK_CREATE of an XDP program on an interface of this namespace; closing the link detaches it. */
function xdpLink(progFd: number, iface: string): FD {
  const ifindex = Number(readFileSync(`/sys/class/net/${iface}/ifindex`, 'latin1'));
  const F = ATTR.LINK_CREATE;
  const attr = new Uint8Array(F.SIZE);
  const view = new DataView(attr.buffer);
  view.setUint32(F.prog_fd.offset, progFd, true);
  view.setUint32(F.target_ifindex.offset, ifindex, true);
  view.setUint32(F.attach_type.offset, AttachType.XDP, true);
  return new FD(bpf(BpfCmd.LinkCreate, attr));
}

testNeeding(test, 'a TCP SYN across the veth pair yields one event with its addresses and ports', ['ip'], async () => {
  await withNetns(async (netns) => {
    using system = new System().loadElf(OBJECT);
    const program = system.getProgramByName('xdp_dump')!.load();
    using _link = xdpLink(program.fd, netns.hostIf);
    using perf = new PerfEvents(system.getMapByName('perfmap')!).startForAllProcessesAndCPUs(4096);
    const events: SynEvent[] = [];
    perf.on('data', (r: { data: Uint8Array }) => events.push(decodeSynEvent(r.data)));
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, netns.hostAddress, resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const accepted = new Promise<number>((resolve) =>
        server.once('connection', (socket) => {
          resolve(socket.remotePort!);
          socket.destroy();
        }),
      );
      // A client inside the namespace: its SYN arrives on the host end, where the program is.
      execFileSync('ip', ['netns', 'exec', netns.name, process.execPath, '-e',
        `require('net').connect(${port}, '${netns.hostAddress}').on('connect', function () { this.destroy(); })`], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10000 });
      const clientPort = await accepted;
      const deadline = Date.now() + 5000;
      while (events.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 50)); // a second SYN would show by now
      const syns = events.filter((e) => e.dstPort === port);
      assert.is(syns.length, 1, 'one SYN');
      const [syn] = syns;
      assert.equal([syn!.srcIp, syn!.srcPort, syn!.dstIp, syn!.dstPort], [netns.peerAddress, clientPort, netns.hostAddress, port]);
      // The packet follows the item: Ethernet, then IPv4 carrying TCP.
      assert.equal([syn!.packet[12], syn!.packet[13], syn!.packet[14]! >> 4, syn!.packet[23]], [0x08, 0x00, 4, 6]);
      assert.is(perf.eventsLost, 0);
    } finally {
      server.close();
    }
  });
});

test.run();
