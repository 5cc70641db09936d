// The inspector page's worker logic (web/src/session.ts) in Node: for every fixture, and for seeded
// mutants of them, every request the page makes is answered (an error message at worst, never an
// exception), and every answer survives the structured clone that carries it to the page.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { disassembleProgram, formatDisassembly } from '../../src/inspect.js';
import type { Request, Response } from '../../web/src/protocol.js';
import { InspectorSession } from '../../web/src/session.js';
import { fixtureObjects } from '../elf/fixture-files.js';
import { DISASSEMBLY_PAGE } from '../../web/src/protocol.js';
import { LONG, longProgramObject } from './long-program.js';
import { prng } from '../support/prng.js';

const MUTANTS_PER_FIXTURE = 25;

/** Every request the page can make of an opened object, each answered and cloneable. */
function exercise(session: InspectorSession, name: string, bytes: Uint8Array): Response {
  let id = 0;
  const ask = (make: (id: number) => Request): Response => {
    const request = make(++id);
    const response = session.handle(request);
    assert.is(response.id, request.id, name);
    structuredClone(response);
    if (response.kind === 'error') assert.ok(response.message.length > 0 && response.message.length < 2000, `${name}: ${response.message}`);
    return response;
  };
  const opened = ask((i) => ({ kind: 'open', id: i, name, bytes: bytes.slice().buffer }));
  if (opened.kind !== 'opened') return opened;
  const { info, btf } = opened.model;
  for (const p of info.programs) ask((i) => ({ kind: 'disassemble', id: i, program: p.name }));
  for (const s of info.sections) ask((i) => ({ kind: 'section', id: i, sectionIndex: s.index }));
  const count = btf ? btf.kinds.length : 0;
  for (const typeId of [0, 1, count >> 1, count - 1, count, -1]) {
    ask((i) => ({ kind: 'type', id: i, typeId }));
    ask((i) => ({ kind: 'header', id: i, typeId }));
  }
  ask((i) => ({ kind: 'disassemble', id: i, program: 'no such program' }));
  return opened;
}

const session = suite('inspector session');

session('every fixture opens, and every request on it is answered', () => {
  for (const file of fixtureObjects()) {
    const bytes = readFileSync(file);
    const opened = exercise(new InspectorSession(), basename(file), bytes);
    assert.is(opened.kind, 'opened', `${basename(file)}: ${opened.kind === 'error' ? opened.message : ''}`);
  }
});

session('the disassembly answered is formatDisassembly of disassembleProgram', () => {
  const file = fixtureObjects().find((f) => f.endsWith('/maps_btf.o'))!;
  const bytes = readFileSync(file);
  const s = new InspectorSession();
  s.handle({ kind: 'open', id: 1, name: 'maps_btf.o', bytes: bytes.slice().buffer });
  const r = s.handle({ kind: 'disassemble', id: 2, program: 'tp_inner_lookup' });
  assert.is(r.kind, 'disassembled');
  if (r.kind !== 'disassembled') return;
  const expected = disassembleProgram(bytes, 'tp_inner_lookup');
  assert.is(r.result.text, formatDisassembly(expected));
  assert.is(r.result.textWithoutRaw, formatDisassembly(expected, { raw: false }));
});

session('a long program comes a page at a time: the page holding a slot, each page\'s text its own', () => {
  const bytes = longProgramObject();
  const all = disassembleProgram(bytes, 'long_one');
  assert.is(all.length, LONG.slots - 1);
  const s = new InspectorSession();
  assert.is(s.handle({ kind: 'open', id: 1, name: 'long.o', bytes: bytes.slice().buffer }).kind, 'opened');
  const page = (at?: number) => {
    const r = s.handle({ kind: 'disassemble', id: 2, program: 'long_one', ...(at === undefined ? {} : { at }) });
    assert.is(r.kind, 'disassembled');
    if (r.kind !== 'disassembled') throw new Error('no page');
    assert.is(r.result.total, all.length);
    assert.equal(r.result.instructions, all.slice(r.result.start, r.result.start + DISASSEMBLY_PAGE));
    assert.is(r.result.text, formatDisassembly(r.result.instructions));
    return r.result;
  };
  assert.is(page().start, 0);
  assert.is(page(0).start, 0);
  assert.is(page(LONG.wide).start, 0);
  assert.is(page(LONG.wide + 1).start, 0, 'the second slot of an ld_imm64 is on its page');
  assert.is(page(LONG.wide + 2).start, DISASSEMBLY_PAGE);
  assert.is(page(LONG.jumpTarget).start, 2 * DISASSEMBLY_PAGE);
  assert.is(page(10 ** 9).start, 2 * DISASSEMBLY_PAGE, 'past the end: the last page');
  assert.is(page(-5).start, 0);
  assert.is(all[0]!.jumpTarget, LONG.jumpTarget);
});

session('before an object opens, and after one failed to, requests get an error', () => {
  const s = new InspectorSession();
  assert.equal(s.handle({ kind: 'type', id: 1, typeId: 1 }), { kind: 'error', id: 1, message: 'no object is open' });
  const bad = s.handle({ kind: 'open', id: 2, name: 'bad.o', bytes: new Uint8Array(10).buffer });
  assert.is(bad.kind, 'error');
  assert.is(s.handle({ kind: 'section', id: 3, sectionIndex: 0 }).kind, 'error');
});

session('seeded mutants of every fixture: an object or an error, every request answered', () => {
  const next = prng(0x5eed0b1);
  for (const file of fixtureObjects()) {
    const original = readFileSync(file);
    if (original.length > 65536) continue; // large.o: the core's own mutation test covers it
    for (let round = 0; round < MUTANTS_PER_FIXTURE; round++) {
      const bytes = Uint8Array.from(original);
      const edits: string[] = [];
      for (let k = 1 + next(4); k > 0; k--) {
        const at = next(bytes.length);
        bytes[at] = next(256);
        edits.push(`${at}=${bytes[at]}`);
      }
      try {
        exercise(new InspectorSession(), `${basename(file)} [${edits.join(',')}]`, bytes);
      } catch (e) {
        throw new Error(`${basename(file)} with bytes ${edits.join(', ')}: ${(e as Error).stack}`);
      }
    }
  }
});

session.run();
