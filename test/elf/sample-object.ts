// A goebpf-style object built without a compiler, in either byte order: two XDP programs in one
// section (one calls a .text subprogram), legacy maps with inner_map_def and persistent_path,
// .rodata strings, .data, .bss, license, version, and a code section with an unknown name.
import {
  R_BPF, SHF, SHT, STB, STT, buildElf, call, concat, cstr, exit, ldImm64, mov0, u32s, type BuiltElf,
} from './elf-builder.js';

export const PATHS = '/sys/fs/bpf/outer\0/sys/fs/bpf/counters\0';

export function sampleObject(bigEndian = false): BuiltElf {
  const be = bigEndian;
  const xdp = concat(ldImm64(1, 0, 0, be), call(0, 1, be), mov0(be), exit(be), call(1, -1, be), exit(be));
  const text = concat(ldImm64(1, 0, 4, be), mov0(be), exit(be));
  const ptr = (v: number): Uint8Array => (be ? u32s([0, v], be) : u32s([v, 0], be));
  const def = (type: number, key: number, value: number, max: number, flags: number, inner: number, path: number) =>
    concat(u32s([type, key, value, max, flags, 0], be), ptr(inner), ptr(path));
  const maps = concat(def(2, 4, 8, 4, 0, 0, 0), def(12, 4, 4, 2, 0, 0, 0), def(6, 4, 8, 16, 1, 0, 18));
  return buildElf({
    bigEndian,
    sections: [
      { name: 'xdp', flags: SHF.ALLOC | SHF.EXECINSTR, data: xdp },
      { name: '.text', flags: SHF.ALLOC | SHF.EXECINSTR, data: text },
      { name: 'maps', flags: SHF.ALLOC | SHF.WRITE, data: maps },
      { name: '.rodata.str1.1', flags: SHF.ALLOC, data: new TextEncoder().encode(PATHS) },
      { name: '.data', flags: SHF.ALLOC | SHF.WRITE, data: u32s([7, 9], be) },
      { name: '.bss', type: SHT.NOBITS, flags: SHF.ALLOC | SHF.WRITE, size: 16 },
      { name: 'license', flags: SHF.ALLOC, data: cstr('Dual MIT/GPL') },
      { name: 'version', flags: SHF.ALLOC, data: u32s([0x40f00], be) },
      { name: 'unknown_sec', flags: SHF.ALLOC | SHF.EXECINSTR, data: concat(mov0(be), exit(be)) },
    ],
    symbols: [
      { name: '.rodata.str1.1', section: '.rodata.str1.1', type: STT.SECTION, bind: STB.LOCAL },
      { name: '.data', section: '.data', type: STT.SECTION, bind: STB.LOCAL },
      { name: 'prog1', section: 'xdp', value: 0, size: 40, type: STT.FUNC },
      { name: 'prog2', section: 'xdp', value: 40, size: 16, type: STT.FUNC },
      { name: 'sub', section: '.text', value: 0, size: 32, type: STT.FUNC },
      { name: 'inner', section: 'maps', value: 0, size: 40, type: STT.OBJECT },
      { name: 'outer', section: 'maps', value: 40, size: 40, type: STT.OBJECT },
      { name: 'counters', section: 'maps', value: 80, size: 40, type: STT.OBJECT },
      { name: '_license', section: 'license', value: 0, size: 13, type: STT.OBJECT },
      { name: 'ksym_extern', section: 0, type: STT.NOTYPE },
    ],
    relocs: [
      { section: 'xdp', offset: 0, symbol: 'counters', type: R_BPF.R64_64 },
      { section: 'xdp', offset: 40, symbol: 'sub', type: R_BPF.R64_32 },
      { section: '.text', offset: 0, symbol: '.data', type: R_BPF.R64_64 },
      { section: 'maps', offset: 64, symbol: 'inner', type: R_BPF.ABS64 },
      { section: 'maps', offset: 72, symbol: '.rodata.str1.1', type: R_BPF.ABS64 },
      { section: 'maps', offset: 112, symbol: '.rodata.str1.1', type: R_BPF.ABS64 },
    ],
  });
}
