// goebpf's examples/xdp/basic_firewall in TypeScript: drops the IPv4 packets from the given CIDRs with
// an XDP program and prints how many each rule matched, until Ctrl-C.
//   npm run build   (the BPF object is committed; `make fixtures` rebuilds it)
//   sudo node dist/examples/basic-firewall/main.js eth0 10.0.0.0/8 192.0.2.1/32 [--mode ...] [--interval ms]
import { parseArgs } from 'node:util';
import { attachXdp, System } from 'ebpf';
import { objectPath, run, runUntilSignal, xdpMode } from '../common.js';

run(() => {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { mode: { type: 'string' }, interval: { type: 'string', default: '1000' } } });
  const [iface, ...cidrs] = positionals;
  if (iface === undefined || cidrs.length === 0) throw new Error('usage: main.js <interface> <cidr>... [--mode any|generic|driver] [--interval ms]');
  const system = new System().loadElf(objectPath(import.meta.url, 'firewall.o'));
  const blacklist = system.getMapByName('blacklist')!;
  const matches = system.getMapByName('matches')!;
  if (cidrs.length > blacklist.maxEntries) throw new Error(`at most ${blacklist.maxEntries} rules`);
  // An LPM trie takes CIDR strings as keys; the value is the rule's index in `matches`.
  cidrs.forEach((cidr, index) => blacklist.insert(cidr, index));
  const program = system.getProgramByName('firewall')!.load();
  const attachment = attachXdp(program, { interface: iface, mode: xdpMode(values.mode) });
  console.log(`firewall attached to ${iface}, dropping ${cidrs.join(', ')}; Ctrl-C to stop`);
  runUntilSignal(
    Number(values.interval),
    () => console.log(cidrs.map((cidr, index) => `${cidr}: ${matches.lookupInt(index)}`).join('  ')),
    () => {
      attachment.detach();
      system.close();
      console.log('detached');
    },
  );
});
