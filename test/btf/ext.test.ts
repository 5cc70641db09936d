// .BTF.ext built by hand: records grouped per section and split per program, and each defect
// rejected with a message naming the block, the section and the offset.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseBtf } from '../../src/btf/index.js';
import { ElfError } from '../../src/inspect.js';
import { BtfBuilder, buildExt, type ExtDef } from './btf-builder.js';

function base(): { b: BtfBuilder; fa: number; fb: number; task: number } {
  const b = new BtfBuilder();
  const int = b.int('int', 4, 32, 1);
  const proto = b.funcProto(int, []);
  const fa = b.func('prog_a', proto);
  const fb = b.func('prog_b', proto);
  const task = b.struct('task', 8, [{ name: 'pid', type: int }, { name: 'tgid', type: int, bitOffset: 32 }]);
  return { b, fa, fb, task };
}

function rejects(def: (x: ReturnType<typeof base>) => ExtDef, message: RegExp, bigEndian = false): void {
  const x = base();
  const ext = buildExt(x.b, def(x), bigEndian);
  try {
    parseBtf(x.b.build(bigEndian), ext);
  } catch (e) {
    assert.instance(e, ElfError);
    assert.is((e as ElfError).status, 2);
    assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`accepted; expected ${message}`);
}

for (const bigEndian of [false, true]) {
  const label = bigEndian ? 'big-endian' : 'little-endian';

  test(`${label}: func info, line info and CO-RE relocations, per section and per program`, () => {
    const { b, fa, fb, task } = base();
    const file = b.str('prog.c'), l1 = b.str('int a = 1;'), l2 = b.str('return task->pid;');
    const access = b.str('0:0'), whole = b.str('0');
    const ext = buildExt(b, {
      // two programs share section "xdp": prog_a at insn 0 (3 insns), prog_b at byte 24 (2 insns)
      func: [{ section: 'xdp', records: [[0, fa], [24, fb]] }],
      line: [{ section: 'xdp', records: [[0, file, l1, (7 << 10) | 3], [32, file, l2, (9 << 10) | 12]] }],
      core: [{ section: 'xdp', records: [[8, task, access, 0], [24, task, whole, 9], [32, task, access, 12]] }],
    }, bigEndian);
    const parsed = parseBtf(b.build(bigEndian), ext, [
      { section: 'xdp', insnOffset: 0, insnCount: 3 },
      { section: 'xdp', insnOffset: 24, insnCount: 2 },
      { section: 'tc', insnOffset: 0, insnCount: 2 },
    ]);
    assert.is(parsed.btf.hasExt, true);
    assert.equal(parsed.btf.extSections, [{ section: 'xdp', sectionIndex: null, funcInfoCount: 2, lineInfoCount: 2, coreRelocationCount: 3 }]);
    const [a, bProg, tc] = parsed.programs;
    assert.equal(a, {
      funcInfo: [{ insn: 0, typeId: fa, name: 'prog_a' }],
      lineInfo: [{ insn: 0, file: 'prog.c', line: 'int a = 1;', lineNumber: 7, column: 3, fileOffset: file, lineOffset: l1 }],
      coreRelocations: [{ insn: 1, typeId: task, access: '0:0', accessOffset: access, kind: 'byte_off', kindValue: 0 }],
    });
    assert.equal(bProg, {
      funcInfo: [{ insn: 0, typeId: fb, name: 'prog_b' }],
      lineInfo: [{ insn: 1, file: 'prog.c', line: 'return task->pid;', lineNumber: 9, column: 12, fileOffset: file, lineOffset: l2 }],
      coreRelocations: [
        { insn: 0, typeId: task, access: '0', accessOffset: whole, kind: 'type_size', kindValue: 9 },
        { insn: 1, typeId: task, access: '0:0', accessOffset: access, kind: 'type_matches', kindValue: 12 },
      ],
    });
    assert.equal(tc, { funcInfo: [], lineInfo: [], coreRelocations: [] });
  });

  test(`${label}: larger records (newer compilers) are read by their declared size`, () => {
    const { b, fa } = base();
    const ext = buildExt(b, { func: [{ section: 'tc', records: [[0, fa, 0xdead, 0xbeef]] }], recSizes: [16, 16, 16] }, bigEndian);
    const parsed = parseBtf(b.build(bigEndian), ext, [{ section: 'tc', insnOffset: 0, insnCount: 1 }]);
    assert.equal(parsed.programs[0]!.funcInfo, [{ insn: 0, typeId: fa, name: 'prog_a' }]);
  });

  test(`${label}: defects`, () => {
    rejects(({ task }) => ({ func: [{ section: 'xdp', records: [[0, task]] }] }), /BTF\.ext: func_info of section 'xdp' at offset 12: type \[5\] is struct, expected a func/, bigEndian);
    rejects(() => ({ func: [{ section: 'xdp', records: [[0, 99]] }] }), /type \[99\] is missing, expected a func/, bigEndian);
    rejects(({ task }) => ({ core: [{ section: 'xdp', records: [[0, task, 0, 13]] }] }), /core_relo of section 'xdp' at offset 12 has unknown kind 13/, bigEndian);
    rejects(({ task }) => ({ core: [{ section: 'xdp', records: [[0, task, 5000, 0]] }] }), /core_relo record at offset 12: access string offset 5000 is outside the BTF strings/, bigEndian);
    rejects(() => ({ line: [{ section: 'xdp', records: [[0, 7000, 0, 0]] }] }), /line_info record at offset 12: file name offset 7000/, bigEndian);
    rejects(() => ({ func: [{ section: 'xdp', records: [] }] }), /func_info of section 'xdp' declares 0 records/, bigEndian);
    rejects(({ fa }) => ({ func: [{ section: 'xdp', records: [[0, fa]] }], recSizes: [4, 16, 16] }), /func_info record size 4 is not a multiple of 4 of at least 8/, bigEndian);
    rejects(({ fa }) => ({ func: [{ section: 'xdp', records: [[0, fa]] }, { section: 'xdp', records: [[8, fa]] }] }), /func_info lists section 'xdp' twice/, bigEndian);
  });
}

test('a .BTF.ext whose counts overrun its block, or with a bad header, is an error', () => {
  const { b, fa } = base();
  const ext = buildExt(b, { func: [{ section: 'xdp', records: [[0, fa]] }] });
  const btf = b.build();
  const v = new DataView(ext.buffer);
  const overrun = ext.slice();
  new DataView(overrun.buffer).setUint32(32 + 8, 1000, true); // the count of the first section
  assert.throws(() => parseBtf(btf, overrun), /func_info of section 'xdp' declares 1000 records of 8 bytes, but 8 bytes remain/);
  const badMagic = ext.slice();
  badMagic[0] = 0;
  assert.throws(() => parseBtf(btf, badMagic), /BTF\.ext: bad magic/);
  const outside = ext.slice();
  new DataView(outside.buffer).setUint32(12, v.getUint32(12, true) + 100, true); // func_info length
  assert.throws(() => parseBtf(btf, outside), /BTF\.ext: func_info \(offset 0, 120 bytes\) lies outside the 20 bytes after the header/);
  for (let len = 0; len < ext.length; len++) {
    try {
      parseBtf(btf, ext.subarray(0, len));
    } catch (e) {
      assert.instance(e, ElfError, (e as Error).message);
    }
  }
});

test.run();
