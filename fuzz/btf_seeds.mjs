// Seeds for fuzz/fuzz_btf.c: for each object given, writes OUTDIR/<name>.btf holding a
// little-endian u32 size of its .BTF, the .BTF, then its .BTF.ext (if any).
// Usage: node fuzz/btf_seeds.mjs OUTDIR OBJECT...
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const [outDir, ...objects] = process.argv.slice(2);
for (const path of objects) {
  const bytes = readFileSync(path);
  const le = bytes[5] === 1;
  const u16 = (at) => (le ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at) => (le ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const u64 = (at) => Number(le ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at));
  const shoff = u64(40);
  const shnum = u16(60);
  const header = (i) => shoff + i * 64;
  const names = u64(header(u16(62)) + 24);
  const section = (wanted) => {
    for (let i = 0; i < shnum; i++) {
      const h = header(i);
      const start = names + u32(h);
      const name = bytes.subarray(start, bytes.indexOf(0, start)).toString('latin1');
      if (name === wanted) return bytes.subarray(u64(h + 24), u64(h + 24) + u64(h + 32));
    }
    return Buffer.alloc(0);
  };
  const btf = section('.BTF');
  if (btf.length === 0) continue;
  const size = Buffer.alloc(4);
  size.writeUInt32LE(btf.length);
  writeFileSync(join(outDir, `${basename(path)}.btf`), Buffer.concat([size, btf, section('.BTF.ext')]));
}
