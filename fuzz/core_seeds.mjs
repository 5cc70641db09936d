// Seeds for fuzz/fuzz_core.c: each object given with CO-RE relocations paired with the .BTF of every
// object given (its own included), once opened lazily and once eagerly: OUTDIR/<object>+<btf>.core
// holds a little-endian u32 (bit 31: eager) with the object's size, the object, then the .BTF.
// Usage: node fuzz/core_seeds.mjs OUTDIR OBJECT...
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

function section(bytes, wanted) {
  const le = bytes[5] === 1;
  const u16 = (at) => (le ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at) => (le ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const u64 = (at) => Number(le ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at));
  const shoff = u64(40), shnum = u16(60);
  const names = u64(shoff + u16(62) * 64 + 24);
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * 64, start = names + u32(h);
    if (bytes.subarray(start, bytes.indexOf(0, start)).toString('latin1') === wanted) return bytes.subarray(u64(h + 24), u64(h + 24) + u64(h + 32));
  }
  return Buffer.alloc(0);
}

const [outDir, ...paths] = process.argv.slice(2);
const objects = paths.map((path) => ({ path, bytes: readFileSync(path) }));
for (const local of objects) {
  const ext = section(local.bytes, '.BTF.ext');
  const u32 = (at) => (ext[0] === 0x9f ? ext.readUInt32LE(at) : ext.readUInt32BE(at));
  if (ext.length < 32 || u32(4) < 32 || u32(28) === 0) continue; // no core_relo block
  for (const target of objects) {
    const btf = section(target.bytes, '.BTF');
    if (btf.length === 0) continue;
    for (const eager of [0, 1]) {
      const head = Buffer.alloc(4);
      head.writeUInt32LE((local.bytes.length | (eager << 31)) >>> 0);
      writeFileSync(join(outDir, `${basename(local.path)}+${basename(target.path)}${eager ? '.eager' : ''}.core`), Buffer.concat([head, local.bytes, btf]));
    }
  }
}
