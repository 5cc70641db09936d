// goebpf's examples/xdp/bpf_redirect_map in TypeScript: an XDP program on one interface sends the IPv4
// packets it receives out of another, through a DEVMAP (bpf_redirect_map), until Ctrl-C.
//   npm run build   (the BPF object is committed; `make fixtures` rebuilds it)
//   sudo node dist/examples/redirect-map/main.js <in-interface> <out-interface> [--mode ...] [--interval ms]
import { parseArgs } from 'node:util';
import { attachXdp, interfaceIndex, System } from 'ebpf';
import { objectPath, run, runUntilSignal, xdpMode } from '../common.js';

run(() => {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { mode: { type: 'string' }, interval: { type: 'string', default: '1000' } } });
  const [input, output] = positionals;
  if (input === undefined || output === undefined) throw new Error('usage: main.js <in-interface> <out-interface> [--mode any|generic|driver] [--interval ms]');
  const system = new System().loadElf(objectPath(import.meta.url, 'redirect.o'));
  const devices = system.getMapByName('if_redirect')!;
  const redirected = system.getMapByName('redirected')!;
  devices.upsert(0, interfaceIndex(output));
  const program = system.getProgramByName('redirect')!.load();
  const attachment = attachXdp(program, { interface: input, mode: xdpMode(values.mode) });
  console.log(`redirect attached to ${input}, sending IPv4 out of ${output}; Ctrl-C to stop`);
  runUntilSignal(
    Number(values.interval),
    () => console.log(`redirected: ${redirected.lookupInt(0)}`),
    () => {
      attachment.detach();
      system.close();
      console.log('detached');
    },
  );
});
