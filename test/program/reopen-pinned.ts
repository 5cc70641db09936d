// Run by pin.test.ts as a second Node process: opens the program pinned at argv[2], test-runs it on a
// 64-byte frame with the ethertype in argv[3], and prints what it found as JSON.
import { Program } from '../../src/program/program.js';

const path = process.argv[2]!;
const ethertype = Number(process.argv[3]);
const frame = new Uint8Array(64);
frame[12] = ethertype >> 8;
frame[13] = ethertype & 0xff;
using program = Program.fromPinned(path);
const info = program.info();
const { retval } = program.testRun({ data: frame });
process.stdout.write(JSON.stringify({ name: program.name, type: program.type, id: info.id, tag: info.tag, pid: process.pid, retval, pinnedPath: program.pinnedPath }));
