// goebpf's examples/socket_filter/packet_counter in TypeScript: a socket filter counts the packets and
// bytes a UDP socket receives (keeping them all), printing the counts until Ctrl-C.
//   npm run build   (the BPF object is committed; `make fixtures` rebuilds it)
//   node dist/examples/socket-filter-counter/main.js [--host 0.0.0.0] [--port 9000] [--interval ms]
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';
import { attachSocketFilter, SocketFilterAttachType, System } from 'ebpf';
import { objectPath, run, runUntilSignal } from '../common.js';

run(() => {
  const { values } = parseArgs({ options: { host: { type: 'string', default: '0.0.0.0' }, port: { type: 'string', default: '9000' }, interval: { type: 'string', default: '1000' } } });
  const system = new System().loadElf(objectPath(import.meta.url, 'socket_counter.o'));
  const program = system.getProgramByName('packet_counter')!.load();
  const counter = system.getMapByName('counter')!;
  const socket = dgram.createSocket('udp4');
  let received = 0;
  socket.on('message', () => received++);
  socket.on('error', (e) => {
    console.error(`error: ${e.message}`);
    process.exit(1);
  });
  socket.bind(Number(values.port), values.host, () => {
    run(() => {
      // The socket has its fd once bound: the filter goes on it (goebpf's SocketFilterAttachParams).
      const attachment = attachSocketFilter(program, { socketFd: socket, attachType: SocketFilterAttachType.Filter });
      console.log(`packet_counter attached to UDP ${values.host}:${socket.address().port}; Ctrl-C to stop`);
      runUntilSignal(
        Number(values.interval),
        () => console.log(`packets: ${counter.lookupInt(0)}  bytes: ${counter.lookupInt(1)}  received: ${received}`),
        () => {
          attachment.detach();
          socket.close();
          system.close();
          console.log('detached');
        },
      );
    });
  });
});
