// The disassembler agrees with llvm-objdump-19 -d on every fixture object, both byte orders:
// instruction by instruction, bytes and text (spacing and hex case normalized), and jump targets.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { disassembleSpec, inspect, type DisasmInstruction, type ObjectInfo } from '../../src/inspect.js';
import { fixtureObjects } from '../elf/fixture-files.js';
import { missingTool } from './tools.js';

const OBJDUMP = 'llvm-objdump-19';

interface ObjdumpLine { section: string; slot: number; raw: string; text: string; target?: { symbol: string; offset: number } }

function objdump(path: string, alu32: boolean): ObjdumpLine[] {
  const r = spawnSync(OBJDUMP, ['-d', ...(alu32 ? ['--mcpu=v4'] : []), path], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${OBJDUMP} failed on ${path}: ${r.stderr}`);
  const out: ObjdumpLine[] = [];
  let section = '';
  for (const line of r.stdout.split('\n')) {
    const s = /^Disassembly of section (.*):$/.exec(line);
    if (s) { section = s[1]!; continue; }
    const m = /^\s*(\d+):\t([0-9a-f ]+?)\s*\t(.*)$/.exec(line);
    if (!m) continue;
    let text = m[3]!;
    let target: ObjdumpLine['target'];
    const t = / <([^>+]+)(?:\+(0x[0-9a-f]+))?>$/.exec(text);
    if (t) {
      target = { symbol: t[1]!, offset: Number(t[2] ?? 0) };
      text = text.slice(0, t.index);
    }
    out.push({ section, slot: Number(m[1]), raw: m[2]!, text, ...(target ? { target } : {}) });
  }
  return out;
}

const normalize = (text: string): string => text.replace(/\s+/g, ' ').trim().toLowerCase();

function ours(bytes: Uint8Array, info: ObjectInfo, alu32: boolean): Map<string, { insn: DisasmInstruction; sectionOffset: number; section: number }> {
  const bySlot = new Map<string, { insn: DisasmInstruction; sectionOffset: number; section: number }>();
  for (const p of info.programs) {
    for (const insn of disassembleSpec(bytes, info, p, { alu32 })) {
      const sectionOffset = p.insnOffset + insn.offset;
      bySlot.set(`${p.section}:${sectionOffset / 8}`, { insn, sectionOffset, section: p.sectionIndex });
      if (insn.jumpTarget !== undefined) (insn as DisasmInstruction & { targetOffset?: number }).targetOffset = p.insnOffset + insn.jumpTarget * 8;
    }
  }
  return bySlot;
}

const skip = missingTool(OBJDUMP);
if (skip) {
  console.log(`  (llvm-objdump comparison skipped: ${skip})`);
} else {
  const files = fixtureObjects();
  test('there are fixtures of both byte orders', () => {
    assert.ok(files.some((f) => f.endsWith('.bpfeb.o')) && files.some((f) => !f.endsWith('.bpfeb.o')));
  });
  for (const path of files) {
    for (const alu32 of [false, true]) {
      test(`${basename(path)}: every instruction as llvm-objdump -d${alu32 ? ' --mcpu=v4' : ''} prints it`, () => {
        const bytes = readFileSync(path);
        const info = inspect(bytes, { btfExt: true });
        const got = ours(bytes, info, alu32);
        const want = objdump(path, alu32);
        assert.ok(want.length > 0, 'objdump printed instructions');
        let compared = 0;
        for (const w of want) {
          const g = got.get(`${w.section}:${w.slot}`);
          assert.ok(g, `${w.section} instruction ${w.slot} (${w.text}) was not disassembled`);
          assert.is(g.insn.raw, w.raw, `${w.section} instruction ${w.slot}: bytes`);
          compared++;
          // Without alu32, LLVM 19 decodes a 32-bit atomic as the plain add whatever its imm says
          // (or not at all): ours prints what the instruction does (the --mcpu=v4 run compares it).
          if (!alu32 && g.insn.opcode === 0xc3 && g.insn.imm !== 0) continue;
          assert.is(normalize(g.insn.llvm), normalize(w.text), `${w.section} instruction ${w.slot}: text`);
          if (w.target) {
            const symbol = info.symbols.find((s) => s.name === w.target!.symbol && s.section === g.section);
            assert.ok(symbol, `${w.section} instruction ${w.slot}: objdump's target symbol ${w.target.symbol}`);
            const targetOffset = (g.insn as DisasmInstruction & { targetOffset?: number }).targetOffset;
            assert.is(targetOffset, Number(symbol.value) + w.target.offset, `${w.section} instruction ${w.slot}: jump target`);
          }
        }
        assert.is(compared, [...got.values()].length, 'as many instructions as objdump');
      });
    }
  }
}

test.run();
