// objectProblems: what System.load would refuse or leave out, found without a kernel.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ElfError, objectProblems, unloadableReason } from '../../src/inspect.js';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const read = (name: string): Uint8Array => readFileSync(join(fixtures, name));

const problems = suite('objectProblems');

problems('an object ebpf loads whole has none', () => {
  for (const name of ['maps_btf.o', 'globals.o', 'xdp_goebpf.o', 'tail_calls.o']) assert.equal(objectProblems(read(name)), [], name);
});

problems('a section name of no program type is an error naming the program; the core\'s diagnostic is a warning on its section', () => {
  const found = objectProblems(read('sections.o'));
  const error = found.find((p) => p.severity === 'error');
  assert.ok(error, JSON.stringify(found));
  assert.is(error.program, 'unknown_section');
  assert.match(error.message, /^program 'unknown_section' \(section 'no_such_program_type\/anything'\): .*gives no program type/);
  const warning = found.find((p) => p.severity === 'warning');
  assert.ok(warning?.sectionIndex !== undefined && warning.message.startsWith('unknown-section: '), JSON.stringify(found));
});

problems('struct_ops programs are refused and their maps left out', () => {
  const found = objectProblems(read('struct_ops.o'));
  assert.ok(found.some((p) => p.severity === 'error' && p.program !== undefined && p.message.includes('struct_ops')));
  assert.ok(found.some((p) => p.severity === 'warning' && p.map !== undefined));
});

problems('a program that cannot be relocated is an error with the relocation\'s message', () => {
  const found = objectProblems(read('relocs.o'));
  for (const p of found.filter((x) => x.message.includes('cannot be relocated'))) {
    assert.is(p.severity, 'error');
    assert.ok(p.program);
  }
});

problems('a big-endian object is noted', () => {
  assert.ok(objectProblems(read('maps_btf.bpfeb.o')).some((p) => p.severity === 'note' && p.message.startsWith('big-endian')));
});

problems('an unreadable object throws ElfError', () => {
  assert.throws(() => objectProblems(new Uint8Array(64)), (e: unknown) => e instanceof ElfError);
});

problems('unloadableReason: program types System.load refuses', () => {
  assert.match(unloadableReason(0) ?? '', 'no program type');
  assert.is(unloadableReason(6), undefined); // xdp
});

problems.run();
