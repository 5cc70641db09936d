// Run by load.test.ts as a second Node process under --cpu-prof, whose SIGPROF interrupts the verifier
// now and then: loads every program of the object at argv[2] argv[3] times (pins under argv[4]) and
// prints how many loads succeeded, or the first error.
import { System } from '../../src/program/system.js';

const path = process.argv[2]!;
const rounds = Number(process.argv[3]);
const pinRoot = process.argv[4]!;
let loads = 0;
try {
  for (let i = 0; i < rounds; i++) {
    using system = new System().loadElf(path, { pinRoot });
    for (const program of system.getPrograms().values()) {
      program.load();
      loads++;
    }
  }
  process.stdout.write(JSON.stringify({ loads }));
} catch (e) {
  process.stdout.write(JSON.stringify({ loads, error: String(e instanceof Error ? e.message : e).split('\n')[0] }));
}
