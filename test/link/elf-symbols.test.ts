// The ELF64 symbol reader for uprobes, against outside oracles: for a PIE and a non-PIE executable
// built here and for the C library, the bytes at the file offset it computes are the bytes
// llvm-objdump disassembles at the symbol's address; malformed files are errors naming what and where.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { functionSymbolNames, resolveSymbol } from '../../src/link/elf-symbols.js';
import { missingTool, withProbedBinary } from './support.js';

/** The first bytes llvm-objdump shows for symbol in the file, as hex. */
function objdumpBytes(path: string, symbol: string): string {
  const text = execFileSync('llvm-objdump-19', ['-d', `--disassemble-symbols=${symbol}`, path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const lines = text.split('\n').filter((l) => /^\s+[0-9a-f]+:\s/.test(l)).slice(0, 3);
  return lines.map((l) => l.split('\t')[0]!.replace(/^\s*[0-9a-f]+:\s*/, '').replace(/\s+/g, '')).join('');
}

function check(path: string, symbol: string): void {
  const bytes = readFileSync(path);
  const resolved = resolveSymbol(bytes, path, symbol);
  const expected = objdumpBytes(path, symbol);
  assert.ok(expected.length >= 2, `llvm-objdump shows ${symbol} in ${path}`);
  const at = Buffer.from(bytes.subarray(Number(resolved.offset), Number(resolved.offset) + expected.length / 2)).toString('hex');
  assert.is(at, expected, `${path}:${symbol} at file offset 0x${resolved.offset.toString(16)} (address 0x${resolved.address.toString(16)})`);
}

for (const pie of [true, false]) {
  test(`${pie ? 'PIE' : 'non-PIE'} executable: add's file offset holds its code`, async () => {
    if (missingTool('cc') !== undefined || missingTool('llvm-objdump-19') !== undefined) return;
    await withProbedBinary((path) => {
      check(path, 'add');
      check(path, 'main');
      const r = resolveSymbol(readFileSync(path), path, 'add+4');
      assert.is(r.offset, resolveSymbol(readFileSync(path), path, 'add').offset + 4n);
      if (!pie) assert.ok(r.address - r.offset >= 0x400000n, 'non-PIE addresses are far from file offsets');
      assert.ok(functionSymbolNames(readFileSync(path), path).includes('add'));
    }, { pie });
  });
}

test('shared object: a .dynsym function of the C library', () => {
  const libc = '/lib/x86_64-linux-gnu/libc.so.6';
  if (!existsSync(libc) || missingTool('llvm-objdump-19') !== undefined) return;
  const bytes = readFileSync(libc);
  const r = resolveSymbol(bytes, libc, 'getpid');
  assert.ok(r.offset > 0n);
  const expected = objdumpBytes(libc, 'getpid');
  if (expected !== '') assert.is(Buffer.from(bytes.subarray(Number(r.offset), Number(r.offset) + expected.length / 2)).toString('hex'), expected);
});

test('malformed or unsuitable files are errors naming the file and what is wrong', () => {
  assert.throws(() => resolveSymbol(new Uint8Array(10), 'x', 'f'), /x: not an ELF file/);
  const elf32 = new Uint8Array(64);
  elf32.set([0x7f, 0x45, 0x4c, 0x46, 1, 1]);
  assert.throws(() => resolveSymbol(elf32, 'y', 'f'), /y: not a 64-bit ELF file/);
  const elf = new Uint8Array(64);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1]);
  const view = new DataView(elf.buffer);
  view.setBigUint64(40, 1000n, true); // e_shoff past the end
  view.setUint16(58, 64, true);
  view.setUint16(60, 3, true);
  assert.throws(() => resolveSymbol(elf, 'z', 'f'), /z: ELF section headers at offset 1000 \(192 bytes\) is outside the file \(64 bytes\)/);
  view.setUint16(60, 0, true);
  assert.throws(() => resolveSymbol(elf, 'z', 'f'), /no function symbol f.*no function symbols: stripped\? give an offset instead/);
  assert.throws(() => resolveSymbol(elf, 'z', 'bad name'), /is not a symbol name/);
});

test.run();
