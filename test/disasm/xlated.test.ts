// program.disassemble() on programs loaded from the fixtures agrees with `bpftool prog dump xlated`
// (its JSON, with opcodes) instruction by instruction: bytes, text (up to the kernel's spelling of
// numbers), helper and subprogram names, map ids and offsets, functions and source lines.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { System } from '../../src/program/system.js';
import type { Program } from '../../src/program/program.js';
import type { DisasmInstruction } from '../../src/inspect.js';
import { fixturesDir } from '../elf/fixture-files.js';
import { kernelSuite, withBpffs } from '../kernel/support.js';
import { missingTool } from './tools.js';

const test = kernelSuite('disassembly of loaded programs');

interface BpftoolInsn {
  proto?: string;
  src?: string;
  disasm: string;
  opcodes: { code: string; src_reg: string; dst_reg: string; off: string[]; imm: string[] };
}

function bpftoolXlated(id: number): BpftoolInsn[] {
  const r = spawnSync('bpftool', ['-j', 'prog', 'dump', 'xlated', 'id', String(id), 'opcodes'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`bpftool prog dump xlated id ${id}: ${r.stderr}`);
  return JSON.parse(r.stdout) as BpftoolInsn[];
}

/** Numbers as signed decimals, no spaces, LLVM's and the kernel's spellings of the same operation made one. */
function canonical(text: string, kernel: boolean): string {
  let t = text;
  if (kernel) {
    // The kernel's names for the atomics (kernel/bpf/disasm.c) as LLVM spells them.
    t = t.replace(/atomic64_fetch_(\w+)\(/, 'atomic_fetch_$1(')
      .replace(/^(\w+) = atomic64_xchg\(\(u64 \*\)\((.*?)\), (\w+)\)$/, '$1 = xchg_64($2, $3)')
      .replace(/^(\w+) = atomic_xchg\(\(u32 \*\)\((.*?)\), (\w+)\)$/, '$1 = xchg32_32($2, $3)')
      .replace(/^(\w+) = atomic64_cmpxchg\(\(u64 \*\)\((.*?)\), (\w+), (\w+)\)$/, '$1 = cmpxchg_64($2, $3, $4)')
      .replace(/^(\w+) = atomic_cmpxchg\(\(u32 \*\)\((.*?)\), (\w+), (\w+)\)$/, '$1 = cmpxchg32_32($2, $3, $4)');
  }
  // 32-bit atomics: the kernel writes w registers, llvm-objdump's default r (the bytes are compared exactly).
  if (/lock|atomic|xchg/.test(t)) t = t.replace(/\bw(\d+)/g, 'r$1');
  t = t.replace(/ ll$/, '').replace(/goto pc([+-])/, 'goto $1').replace(/\s+/g, '');
  t = t.replace(/(-?)(0x[0-9a-f]+|\d+)/gi, (_m, sign: string, n: string) => {
    let v = BigInt(n);
    // The kernel prints a conditional jump's imm as unsigned 32-bit hex.
    if (kernel && /^if/.test(t) && v >= 0x80000000n && v < 0x100000000n) v -= 0x100000000n;
    return (sign ? -v : v).toString();
  });
  return t.replace(/^(w|r)(\d+)=(w|r)(\d+)$/, '$1$2=$3$4');
}

function compare(program: Program, label: string): number {
  const id = program.info().id;
  const want = bpftoolXlated(id);
  const got = program.disassemble();
  assert.ok(got.jitedLength > 0 || got.xlatedLength > 0, `${label}: sizes`);
  const bySlot = new Map<number, DisasmInstruction>(got.instructions.map((i) => [i.index, i]));
  let slot = 0, compared = 0;
  for (const w of want) {
    const g = bySlot.get(slot);
    assert.ok(g, `${label}: instruction ${slot} (${w.disasm})`);
    const where = `${label} instruction ${slot}: ${w.disasm} / ${g.text}`;
    const bytes = [Number(w.opcodes.code), Number(w.opcodes.src_reg), Number(w.opcodes.dst_reg), ...w.opcodes.off.map(Number), ...w.opcodes.imm.slice(0, 4).map(Number)];
    assert.equal([g.opcode, g.src, g.dst, g.off & 0xff, (g.off >> 8) & 0xff, ...g.raw.split(' ').slice(4, 8).map((b) => parseInt(b, 16))], bytes, `${where}: bytes`);
    const kernelText = w.disasm.replace(/^\([0-9a-f]{2}\) /, '');
    const call = /^call (?:pc[+-]\d+#bpf_prog_[0-9a-f]{16}_)?([\w.]+?)(?:#-?\d+)?$/.exec(kernelText);
    const subprog = /^r\d+ = subprog\[([+-]\d+)\]$/.exec(kernelText);
    const mapRef = /^r\d+ = map\[id:(\d+)\](?:\[0\]\+(\d+))?$/.exec(kernelText);
    if (/^BUG_/.test(kernelText) || g.opcode === 0x06) {
      // bpftool's copy of the kernel's printer predates this instruction (ldsx, gotol in bpftool 7.1):
      // the bytes above were compared, and llvm-objdump checks the text of these on the fixtures.
      assert.not.match(g.llvm, /unknown/, `${where}: decoded`);
    } else if (call) {
      assert.ok(g.call, `${where}: a call`);
      // The kernel names subprograms by their (15-character) kernel name.
      assert.ok(g.call.name.startsWith(call[1]!), `${where}: callee ${g.call.name} vs ${call[1]}`);
    } else if (subprog) {
      assert.is(g.call?.target, slot + 1 + Number(subprog[1]), `${where}: subprogram address`);
    } else if (mapRef) {
      assert.is(g.reference?.mapId, Number(mapRef[1]), `${where}: map id`);
      if (mapRef[2] !== undefined) assert.is(g.reference?.offset, Number(mapRef[2]), `${where}: offset`);
    } else {
      // bpftool 7.1's printer ignores off on ALU instructions (movsx, sdiv, smod came later): it shows
      // them as mov, div, mod. The bytes above were compared; so is the text up to that.
      const oldPrinter = ((g.opcode & 7) === 4 || (g.opcode & 7) === 7) && g.off !== 0 && !/\(s\d+\)|s[/%]=/.test(kernelText);
      const text = oldPrinter ? g.llvm.replace(/\(s\d+\)/, '').replace(/ s([/%]=) /, ' $1 ') : g.llvm;
      assert.is(canonical(text, false), canonical(kernelText, true), `${where}: text`);
    }
    if (w.src !== undefined) assert.is(g.source?.text?.trimStart(), w.src, `${where}: source line`);
    if (w.proto !== undefined) assert.ok(g.label && w.proto.includes(`${g.label}(`), `${where}: function ${g.label} vs ${w.proto}`);
    slot += g.opcode === 0x18 ? 2 : 1;
    compared++;
  }
  assert.is(compared, got.instructions.length, `${label}: instruction count`);
  return compared;
}

const FIXTURES: [string, string[]][] = [
  ['globals.o', ['socket_snap', 'tp_getppid']],
  ['relocs.o', ['xdp_sum', 'tc_sum']],
  ['tail_calls.o', []],
  ['maps_btf.o', []],
  ['sections.o', []],
  ['constants.o', []],
  ['insns.o', []],
];

const skip = missingTool('bpftool', ['version']);
if (skip) console.log(`  (bpftool comparison of loaded programs skipped: ${skip})`);
else {
  for (const [file, only] of FIXTURES) {
    test(`${file}: program.disassemble() agrees with bpftool prog dump xlated`, () => withBpffs((pinRoot) => {
      using system = new System().loadElf(join(fixturesDir, file), { pinRoot });
      let programs = 0;
      for (const [name, program] of system.getPrograms()) {
        if (only.length && !only.includes(name)) continue;
        try {
          program.load();
        } catch (e) {
          if (only.includes(name)) throw e;
          continue; // programs this kernel refuses are other tests' concern
        }
        compare(program, `${file} ${name}`);
        programs++;
      }
      assert.ok(programs > 0, `${file}: some program loaded`);
    }));
  }
}

test.run();
