// `ebpf btf dump ... format c` (renderCHeader) against bpftool: the kernel's vmlinux BTF gives a
// header that clang-19 -target bpf compiles a CO-RE program against and that equals bpftool's
// `btf dump file ... format c`, up to the mode(byte)/mode(word) attributes newer libbpf adds to
// odd-sized enums (the installed bpftool's libbpf predates them); each fixture's BTF equals bpftool's
// exactly, as C and as the raw listing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { btfAlignOf, btfSizeOf, parseBtf, renderCHeader, type BtfType } from '../../src/inspect.js';
import { fixtureObjects } from '../elf/fixture-files.js';
import { missingTool } from './tools.js';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const VMLINUX = '/sys/kernel/btf/vmlinux';
const ebpf = (...args: string[]): string => execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
const bpftool = (...args: string[]): string => execFileSync('bpftool', args, { encoding: 'utf8', maxBuffer: 1 << 28 });

/** Whitespace and the attributes only newer libbpf prints made uniform. */
const normalize = (text: string): string =>
  text.replace(/ __attribute__\(\(mode\((byte|word)\)\)\)/g, '').replace(/[ \t]+/g, ' ').replace(/\n+/g, '\n').trim();

const PROGRAM = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next) {
  struct sk_buff *skb = 0;
  (void)skb;
  return BPF_CORE_READ(prev, pid) + BPF_CORE_READ(next, mm, total_vm);
}

char LICENSE[] SEC("license") = "GPL";
`;

const skip = missingTool('bpftool', ['version']) ?? missingTool('clang-19') ??
  (existsSync(VMLINUX) ? undefined : (() => {
    if (process.env.EBPF_TEST_STRICT === '1') throw new Error(`EBPF_TEST_STRICT=1 but ${VMLINUX} is absent`);
    return `${VMLINUX} is absent`;
  })());

if (skip) console.log(`  (btf dump comparison with bpftool and clang skipped: ${skip})`);
else {
  test('vmlinux: the header equals bpftool\'s and a CO-RE program compiles against it', () => {
    const ours = ebpf('btf', 'dump', 'file', VMLINUX, 'format', 'c');
    const theirs = bpftool('btf', 'dump', 'file', VMLINUX, 'format', 'c');
    assert.ok(ours.length > 1_000_000, 'a whole vmlinux.h');
    const a = normalize(ours), b = normalize(theirs);
    if (a !== b) {
      const la = a.split('\n'), lb = b.split('\n');
      const at = la.findIndex((l, i) => l !== lb[i]);
      assert.unreachable(`first difference at line ${at + 1}: ours ${JSON.stringify(la[at])}, bpftool ${JSON.stringify(lb[at])}`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'ebpf-vmlinux-'));
    try {
      writeFileSync(join(dir, 'vmlinux.h'), ours);
      writeFileSync(join(dir, 'prog.c'), PROGRAM);
      const r = spawnSync('clang-19', ['-target', 'bpf', '-O2', '-g', '-D__TARGET_ARCH_x86', '-I', dir, '-I', '/usr/include', '-c', join(dir, 'prog.c'), '-o', join(dir, 'prog.o')], { encoding: 'utf8' });
      assert.is(r.status, 0, r.stderr);
      assert.ok(readFileSync(join(dir, 'prog.o')).length > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('vmlinux: the raw listing equals bpftool\'s', () => {
    assert.ok(ebpf('btf', 'dump', VMLINUX) === bpftool('btf', 'dump', 'file', VMLINUX).trimEnd() + '\n', 'raw listing');
  });

  for (const path of fixtureObjects().filter((f) => !f.endsWith('large.o'))) {
    test(`${basename(path)}: btf dump (C and raw) equals bpftool's`, () => {
      assert.fixture(ebpf('btf', 'dump', path, 'format', 'c'), bpftool('btf', 'dump', 'file', path, 'format', 'c').trimEnd() + '\n');
      assert.fixture(ebpf('btf', 'dump', 'file', path), bpftool('btf', 'dump', 'file', path).trimEnd() + '\n');
    });
  }
}

test('renderCHeader: forward declarations for what is only pointed to, definitions before embedding', () => {
  // struct a { struct b *p; }; struct b { struct a x; }; typedef struct b b_t;
  const types = parseBtf(buildBtf()).btf.types!;
  const text = renderCHeader(types, { header: false });
  assert.is(text, 'struct b;\n\nstruct a {\n\tstruct b *p;\n};\n\nstruct b {\n\tstruct a x;\n};\n\ntypedef struct b b_t;\n\n');
});

test('renderCHeader and btfAlignOf on a struct embedding itself (BTF the parser lets through): nothing, no hang', () => {
  const types: BtfType[] = [
    { id: 0, kind: 'void', name: '', c: '' },
    { id: 1, kind: 'struct', name: 'a', c: '', size: 8, members: [{ name: 'a', type: 1, bitOffset: 0, bitfieldSize: 0 }] },
  ];
  assert.is(renderCHeader(types, { header: false }), '');
  assert.is(btfAlignOf(types, 1), 0);
  assert.is(btfSizeOf(types, 1), 8);
});

/** A little-endian raw BTF: [1] struct a {b *p}, [2] ptr -> 3, [3] struct b {a x}, [4] typedef b_t -> 3. */
function buildBtf(): Uint8Array {
  const strings = '\0a\0b\0p\0x\0b_t\0';
  const str = (s: string): number => strings.indexOf(`\0${s}\0`) + 1;
  const words: number[] = [
    str('a'), (4 << 24) | 1, 8, str('p'), 2, 0, // struct a (size 8, 1 member p: type 2 at bit 0)
    0, 2 << 24, 3, // ptr -> 3
    str('b'), (4 << 24) | 1, 8, str('x'), 1, 0, // struct b (size 8, member x: struct a)
    str('b_t'), 8 << 24, 3, // typedef b_t -> 3
  ];
  const typeBytes = words.length * 4, strBytes = strings.length;
  const out = new Uint8Array(24 + typeBytes + strBytes);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, true); v.setUint8(2, 1); v.setUint32(4, 24, true);
  v.setUint32(8, 0, true); v.setUint32(12, typeBytes, true); v.setUint32(16, typeBytes, true); v.setUint32(20, strBytes, true);
  words.forEach((w, i) => v.setUint32(24 + i * 4, w >>> 0, true));
  out.set(new TextEncoder().encode(strings), 24 + typeBytes);
  return out;
}

test.run();
