// Programs loaded with BTF: func_info and line_info passed with the program (five pointers in one
// BPF_PROG_LOAD with the log), source lines in the verifier log and in a VerifierError.
import * as assert from 'uvu/assert';
import { Program, ProgramType, type ProgramBtf } from '../../src/program/program.js';
import { VerifierError } from '../../src/program/verifier.js';
import { bpf, FD } from '../../src/sys/bpf.js';
import { ATTR, BpfCmd } from '../../src/sys/generated.js';
import { programs, XDP } from '../support/asm.js';
import { kernelSuite } from '../kernel/support.js';

const test = kernelSuite('program btf');

const STRINGS = ['', 'int', 'xdp_btf', 'prog.c', 'return XDP_PASS;', 'return r2;'];
const stringOffset = (s: string): number => STRINGS.slice(0, STRINGS.indexOf(s)).reduce((n, t) => n + t.length + 1, 0);

/** BTF of `static int xdp_btf(void)`: [1] int, [2] int (void), [3] func xdp_btf. */
function buildBtf(): Uint8Array {
  const types = new DataView(new ArrayBuffer(16 + 12 + 12));
  const words = [
    stringOffset('int'), (1 << 24) | 0, 4, (1 << 24) | 32, // INT, signed, 32 bits
    0, 13 << 24, 1, // FUNC_PROTO returning [1], no parameters
    stringOffset('xdp_btf'), 12 << 24, 2, // FUNC (static) of [2]
  ];
  words.forEach((w, i) => types.setUint32(i * 4, w, true));
  const strings = new TextEncoder().encode(STRINGS.join('\0') + '\0');
  const blob = new Uint8Array(24 + types.byteLength + strings.byteLength);
  const header = new DataView(blob.buffer);
  header.setUint16(0, 0xeb9f, true);
  header.setUint8(2, 1);
  header.setUint32(4, 24, true);
  header.setUint32(8, 0, true);
  header.setUint32(12, types.byteLength, true);
  header.setUint32(16, types.byteLength, true);
  header.setUint32(20, strings.byteLength, true);
  blob.set(new Uint8Array(types.buffer), 24);
  blob.set(strings, 24 + types.byteLength);
  return blob;
}

function loadBtf(): FD {
  const blob = buildBtf();
  const attr = new Uint8Array(ATTR.BTF_LOAD.SIZE);
  new DataView(attr.buffer).setUint32(ATTR.BTF_LOAD.btf_size.offset, blob.byteLength, true);
  return new FD(bpf(BpfCmd.BtfLoad, attr, ATTR.BTF_LOAD.btf.offset, blob));
}

/** func_info for instruction 0 and one line_info per [instruction, source line]. */
function programBtf(fd: FD, lines: Array<[insn: number, source: string, line: number]>): ProgramBtf {
  const funcInfo = new Uint32Array([0, 3]);
  const lineInfo = new Uint32Array(lines.flatMap(([insn, source, line]) => [insn, stringOffset('prog.c'), stringOffset(source), (line << 10) | 5]));
  return { fd: fd.fd, funcInfo: new Uint8Array(funcInfo.buffer), funcInfoRecSize: 8, lineInfo: new Uint8Array(lineInfo.buffer), lineInfoRecSize: 16 };
}

test('func and line info load with the program; the log quotes source lines', () => {
  using btf = loadBtf();
  using program = new Program({
    name: 'xdp_btf', section: 'xdp', type: ProgramType.XDP, license: 'GPL',
    instructions: programs.xdpReturn(XDP.PASS), btf: programBtf(btf, [[0, 'return XDP_PASS;', 7]]),
  }).load({ logLevel: 2 });
  assert.match(program.verifierLog ?? '', '; return XDP_PASS; @ prog.c:7');
  assert.ok(program.info().btfId > 0);
  assert.is(program.testRun({ data: new Uint8Array(64) }).retval, XDP.PASS);
});

test('a VerifierError of a program with line info quotes its source line', () => {
  using btf = loadBtf();
  try {
    new Program({
      name: 'xdp_btf', section: 'xdp/bad', type: ProgramType.XDP, license: 'GPL',
      instructions: programs.readsUninitialisedRegister(), btf: programBtf(btf, [[0, 'return XDP_PASS;', 7], [1, 'return r2;', 9]]),
    }).load();
    assert.unreachable();
  } catch (e) {
    assert.instance(e, VerifierError);
    const error = e as VerifierError;
    assert.match(error.message, '\t; return r2; @ prog.c:9\n\t1: (bf) r0 = r2\n\tR2 !read_ok\n');
    assert.match(error.log, '; return XDP_PASS; @ prog.c:7');
  }
});

test.run();
