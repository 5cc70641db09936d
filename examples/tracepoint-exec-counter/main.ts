// Tracepoint exec counter: loads exec_counter.o, attaches its program to the tracepoint
// syscalls/sys_enter_execve (named by its section) and prints how many processes were executed,
// until Ctrl-C (or --duration seconds). Run as root: `node dist/examples/tracepoint-exec-counter/main.js`.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { System } from 'ebpf';

const { values } = parseArgs({
  options: {
    object: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), '../../../examples/tracepoint-exec-counter/exec_counter.o') },
    interval: { type: 'string', default: '1' },
    duration: { type: 'string' },
  },
});

const system = new System().loadElf(values.object!);
const program = system.getProgramByName('count_exec')!;
program.load();
const attachment = program.attach(); // tracepoint syscalls/sys_enter_execve, from SEC(...)
const counts = system.getMapByName('exec_count')!;
console.log(`attached ${attachment.describe()}; press Ctrl-C to stop`);

const read = (key: number): bigint => new DataView(counts.lookup(key).buffer).getBigUint64(0, true);
let last = -1n;
const timer = setInterval(() => {
  const total = read(0);
  if (total !== last) console.log(`execs: ${total} (last pid ${read(1)})`);
  last = total;
}, Number(values.interval) * 1000);

function stop(): void {
  clearInterval(timer);
  console.log(`execs: ${read(0)}`);
  system.close(); // detaches the program, closes it and the map
  console.log('detached');
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
if (values.duration !== undefined) setTimeout(() => { process.removeAllListeners('SIGINT'); stop(); }, Number(values.duration) * 1000);
