// goebpf's examples/xdp/packet_counter in TypeScript: counts the packets an interface receives by IP
// protocol with an XDP program, printing the counts until Ctrl-C.
//   npm run build   (the BPF object is committed; `make fixtures` rebuilds it)
//   sudo node dist/examples/xdp-packet-counter/main.js eth0 [--mode any|generic|driver] [--interval ms]
import { parseArgs } from 'node:util';
import { attachXdp, System } from 'ebpf';
import { objectPath, run, runUntilSignal, xdpMode } from '../common.js';

const PROTOCOLS: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP' };

run(() => {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { mode: { type: 'string' }, interval: { type: 'string', default: '1000' } } });
  const iface = positionals[0];
  if (iface === undefined) throw new Error('usage: main.js <interface> [--mode any|generic|driver] [--interval ms]');
  const system = new System().loadElf(objectPath(import.meta.url, 'packet_counter.o'));
  const program = system.getProgramByName('packet_count')!.load();
  const protocols = system.getMapByName('protocols')!;
  const attachment = attachXdp(program, { interface: iface, mode: xdpMode(values.mode) });
  console.log(`packet_count attached to ${iface}; Ctrl-C to stop`);
  runUntilSignal(
    Number(values.interval),
    () => console.log(Object.entries(PROTOCOLS).map(([protocol, name]) => `${name}: ${protocols.lookupInt(Number(protocol))}`).join('  ')),
    () => {
      attachment.detach();
      system.close();
      console.log('detached');
    },
  );
});
