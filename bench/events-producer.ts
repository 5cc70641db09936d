// The producer thread of bench/events.bench.ts: BPF_PROG_TEST_RUN with repeat on a program of
// test/fixtures/events.o (by fd: fds are the process's, shared with the reader's thread) until it
// has run `events` times, from the 'go' message on (the thread's start-up is not timed); then posts 'done'.
// It posts its thread id when ready.
import { readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { ATTR, BpfCmd } from '../src/sys/generated.js';
import { native } from '../src/sys/native.js';

const { progFd, events, repeat } = workerData as { progFd: number; events: number; repeat: number };
const F = ATTR.PROG_TEST_RUN;
const packet = new Uint8Array(64);
const out = new Uint8Array(64 + 512);
const attr = new Uint8Array(F.SIZE);
const view = new DataView(attr.buffer);
function produce(): void {
for (let done = 0; done < events; done += repeat) {
  attr.fill(0);
  view.setUint32(F.prog_fd.offset, progFd, true);
  view.setUint32(F.data_size_in.offset, packet.byteLength, true);
  view.setUint32(F.data_size_out.offset, out.byteLength, true);
  view.setUint32(F.repeat.offset, repeat, true);
  const ret = native().bpf(BpfCmd.ProgTestRun, attr, F.data_in.offset, packet, F.data_out.offset, out);
  if (ret < 0) throw new Error(`BPF_PROG_TEST_RUN: ${ret}`);
}
parentPort?.postMessage('done');
}

native(); // loaded before 'ready'
parentPort?.once('message', produce);
// Its thread id, for pinning it to a CPU: /proc/thread-self links to /proc/PID/task/TID.
parentPort?.postMessage({ tid: Number(readlinkSync('/proc/thread-self').split('/').pop()) });
