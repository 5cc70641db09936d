// Property-based memory-safety tests (fast-check) over every public call that reaches the kernel and
// over the bridge's exports: each group runs in a child process (properties-child.ts), so a crash is
// that group's failure and not the runner's death. The child checks guard bytes and fd counts.
import * as assert from 'uvu/assert';
import { kernelSuite } from '../kernel/support.js';
import { describeChild, isolatedModule } from './support.js';

const properties = kernelSuite('memory safety properties (fast-check, each group in a child process)');

// Runs per property: modest, so the whole file stays well under 20 s on a shared machine. A failure
// prints fast-check's seed and counterexample; rerun a group with
// `node dist/test/safety/properties-child.js GROUP RUNS SEED`.
const RUNS: Record<string, number> = { maps: 400, fds: 40, programs: 200, bridge: 300 };

for (const [group, runs] of Object.entries(RUNS)) {
  properties(`${group}: the process survives, nothing is written outside a buffer, no fd leaks`, () => {
    const r = isolatedModule('properties-child', [group, String(runs)], 60_000);
    assert.is(r.status, 0, `${group}: ${describeChild(r)}`);
    assert.match(r.stdout, /done/, `${group}: ${describeChild(r)}`);
  });
}

properties.run();
