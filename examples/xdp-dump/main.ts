// xdp_dump (goebpf's example): loads xdp_dump.o, attaches its XDP program to an interface and prints
// every TCP SYN it sees, read from the perf event array `perfmap` with PerfEvents, until Ctrl-C.
// Run as root: `node dist/examples/xdp-dump/main.js --interface eth0`.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PerfEvents, System } from 'ebpf';
import { decodeSynEvent } from './event.js';

const { values } = parseArgs({
  options: {
    object: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), '../../../examples/xdp-dump/xdp_dump.o') },
    interface: { type: 'string', default: 'eth0' },
  },
});

const system = new System().loadElf(values.object!);
const program = system.getProgramByName('xdp_dump')!.load();
program.attach(values.interface!);
const perf = new PerfEvents(system.getMapByName('perfmap')!).startForAllProcessesAndCPUs(4096);
console.log(`listening for TCP SYNs on ${values.interface}; press Ctrl-C to stop`);

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
for await (const item of perf.records({ signal: controller.signal })) {
  if (item.kind === 'lost') {
    console.log(`(lost ${item.lost} events on CPU ${item.cpu})`);
    continue;
  }
  const e = decodeSynEvent(item.data);
  console.log(`CPU ${item.cpu}: SYN ${e.srcIp}:${e.srcPort} -> ${e.dstIp}:${e.dstPort} (${e.packet.byteLength} bytes)`);
}
perf.stop();
console.log(`received ${perf.eventsReceived} events, lost ${perf.eventsLost}`);
system.close();
