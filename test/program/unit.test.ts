// Kernel-free parts of programs: kernel names, how verifier logs are quoted, the test assembler's encodings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Program, ProgramType } from '../../src/program/program.js';
import { kernelObjectName, OBJ_NAME_LEN, writeObjectName } from '../../src/program/name.js';
import { decisiveLines, VerifierError } from '../../src/program/verifier.js';
import { SyscallError } from '../../src/sys/errors.js';
import { exit, ldMapFd, movImm, programs } from '../support/asm.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

test('kernel names keep 15 accepted characters, as libbpf truncates', () => {
  assert.is(kernelObjectName('xdp_prog'), 'xdp_prog');
  assert.is(kernelObjectName('a_very_long_program_name'), 'a_very_long_pro');
  assert.is(kernelObjectName('tc-ingress/v1.2'), 'tcingressv1.2');
  assert.is(kernelObjectName('ünïcode_ok'), 'ncode_ok');
});

test('the name field BPF_PROG_LOAD gets holds kernelObjectName, NUL-padded', () => {
  for (const name of ['xdp_prog', 'a_very_long_program_name', 'tc-ingress/v1.2', 'ünïcode_ok', '-/-', 'a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q']) {
    const field = new Uint8Array(OBJ_NAME_LEN);
    writeObjectName(field, name);
    const expected = new Uint8Array(OBJ_NAME_LEN);
    expected.set(new TextEncoder().encode(kernelObjectName(name)));
    assert.equal(field, expected, name);
  }
});

// A rejection as kernel 6.x logs it at level 1 (out-of-bounds stack write).
const STACK_LOG = [
  'func#0 @0',
  '0: R1=ctx() R10=fp0',
  '0: (b7) r0 = 0                        ; R0_w=0',
  '1: (7a) *(u64 *)(r10 -520) = 1',
  'invalid write to stack R10 off=-520 size=8',
  'processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
  '',
].join('\n');

test('decisive lines: the verdict and the instruction it concerns, without the statistics', () => {
  assert.equal(decisiveLines(STACK_LOG), ['1: (7a) *(u64 *)(r10 -520) = 1', 'invalid write to stack R10 off=-520 size=8']);
});

test('decisive lines: at most three lines of context when no instruction line is near', () => {
  const log = ['0: (b7) r0 = 0', 'a', 'b', 'c', 'd', 'verdict', ''].join('\n');
  assert.equal(decisiveLines(log), ['b', 'c', 'd', 'verdict']);
  assert.equal(decisiveLines('only line\n'), ['only line']);
  const withSource = ['0: (b7) r0 = 0', '; return r2; @ prog.c:9', '1: (bf) r0 = r2', 'R2 !read_ok', ''].join('\n');
  assert.equal(decisiveLines(withSource), ['; return r2; @ prog.c:9', '1: (bf) r0 = r2', 'R2 !read_ok']);
});

test('VerifierError names program and section, quotes the verdict, keeps the whole log', () => {
  const e = new VerifierError(13, { program: 'xdp_bad', section: 'xdp/bad' }, STACK_LOG, false);
  assert.instance(e, SyscallError);
  assert.is(e.name, 'VerifierError');
  assert.is(e.code, 'EACCES');
  assert.is(e.syscall, 'BPF_PROG_LOAD');
  assert.match(e.message, /^BPF_PROG_LOAD: EACCES \(Permission denied\): program 'xdp_bad' \(section 'xdp\/bad'\) rejected by the verifier:/);
  assert.match(e.message, /\t1: \(7a\) \*\(u64 \*\)\(r10 -520\) = 1\n\tinvalid write to stack R10 off=-520 size=8\n/);
  assert.match(e.message, /4 earlier line\(s\); whole log on \.log/);
  assert.is(e.log, STACK_LOG);
  assert.is(e.lines.length, 6);
  assert.is(new VerifierError(28, { program: 'p' }, STACK_LOG, true).message.includes('log truncated'), true);
});

test('the assembler encodes like clang', () => {
  assert.is(hex(movImm(0, 2)), 'b700000002000000');
  assert.is(hex(exit()), '9500000000000000');
  // ld_imm64 r1, map fd 5 (src_reg BPF_PSEUDO_MAP_FD), second slot zero.
  assert.is(hex(ldMapFd(1, 5)), '18110000050000000000000000000000');
  assert.is(programs.xdpDropIpv4().byteLength % 8, 0);
});

test('a spec must hold whole instructions', () => {
  const spec = { name: 'p', section: 's', type: ProgramType.XDP, license: 'GPL' };
  assert.throws(() => new Program({ ...spec, instructions: new Uint8Array(0) }), /program 'p' \(section 's'\): instructions are 0 bytes/);
  assert.throws(() => new Program({ ...spec, instructions: new Uint8Array(12) }), /12 bytes, not a non-empty multiple of 8/);
  const program = new Program({ ...spec, instructions: programs.xdpReturn(2) });
  assert.is(program.size, 16);
  assert.is(program.loaded, false);
  assert.throws(() => program.fd, /program 'p' \(section 's'\) is not loaded/);
  program.close();
});

test.run();
