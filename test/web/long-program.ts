// An object with one program longer than the inspector shows at once (DISASSEMBLY_PAGE), built
// without a compiler: a jump from the first instruction far into a later page, an ld_imm64 across
// a page boundary, and an exit at the end.
import { SHF, STT, buildElf, cstr, exit, insn, ldImm64, mov0 } from '../elf/elf-builder.js';

/** Where things are in the long program, by instruction slot. */
export const LONG = { jumpTarget: 9000, wide: 3999, slots: 10_003 } as const;

export function longProgramObject(): Uint8Array {
  const parts: Uint8Array[] = [insn(0x05, 0, 0, LONG.jumpTarget - 1, 0)]; // goto +(target - 1)
  while (parts.length < LONG.wide) parts.push(mov0());
  parts.push(ldImm64(1, 0, 0x1234)); // slots 3999 and 4000: straddles the first page's end
  let slots = LONG.wide + 2;
  while (slots < LONG.slots - 1) {
    parts.push(mov0());
    slots++;
  }
  parts.push(exit());
  const code = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    code.set(p, at);
    at += p.length;
  }
  return buildElf({
    sections: [
      { name: 'xdp', flags: SHF.ALLOC | SHF.EXECINSTR, data: code },
      { name: 'license', flags: SHF.ALLOC, data: cstr('GPL') },
    ],
    symbols: [{ name: 'long_one', section: 'xdp', value: 0, size: code.length, type: STT.FUNC }],
  }).bytes;
}
