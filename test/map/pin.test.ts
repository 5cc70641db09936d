// Kernel test: pinning in a private bpffs, reopening from a second Node process, bpftool agrees.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { EbpfMap, MapType } from '../../src/map/index.js';
import { SyscallError } from '../../src/sys/errors.js';
import { kernelSuite, haveTool, withBpffs } from '../kernel/support.js';

const suite = kernelSuite('map pinning');
const mapModule = fileURLToPath(new URL('../../src/map/index.js', import.meta.url));

/** Runs `body` in a second Node process with EbpfMap in scope; returns what it prints. */
function inSecondProcess(body: string): string {
  const script = `import { EbpfMap } from ${JSON.stringify(mapModule)};\n${body}`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
}

suite('pin, reopen with fromPinned in a second process, bpftool dump agrees, unpin', async () => {
  await withBpffs(async (dir) => {
    const path = join(dir, 'counts');
    using m = EbpfMap.create({ name: 'pin_counts', type: MapType.Hash, keySize: 4, valueSize: 8, maxEntries: 16 });
    for (let k = 1; k <= 5; k++) m.insert(k, k * 111);
    m.pin(path);
    assert.is(m.pinnedPath, path);
    const out = inSecondProcess(`
      const m = EbpfMap.fromPinned(${JSON.stringify(path)});
      const rows = [];
      for (let k = 1; k <= 5; k++) rows.push([k, m.lookupInt(k)]);
      m.upsert(6, 666);
      console.log(JSON.stringify({ name: m.name, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, rows }));
      m.close();
    `);
    const seen = JSON.parse(out) as { name: string; type: number; keySize: number; valueSize: number; maxEntries: number; rows: number[][] };
    assert.equal(seen, { name: 'pin_counts', type: MapType.Hash, keySize: 4, valueSize: 8, maxEntries: 16, rows: [[1, 111], [2, 222], [3, 333], [4, 444], [5, 555]] });
    assert.is(m.lookupInt(6), 666, 'the second process wrote through the pin');
    if (haveTool('bpftool', 'the bpftool map dump cross-check')) {
      const dump = JSON.parse(execFileSync('bpftool', ['map', 'dump', 'pinned', path, '-j'], { encoding: 'utf8' })) as Array<{ key: string[]; value: string[] }>;
      const fromTool = new Map(dump.map((e) => [parseInt(e.key[0]!, 16), Buffer.from(e.value.map((b) => parseInt(b, 16))).readBigUInt64LE()]));
      const fromUs = new Map([...m.entries()].map(([k, v]) => [Buffer.from(k).readUInt32LE(), Buffer.from(v).readBigUInt64LE()]));
      assert.equal([...fromTool.entries()].sort(), [...fromUs.entries()].sort());
      assert.is(fromTool.size, 6);
    }
    m.unpin();
    assert.not.ok(existsSync(path));
    assert.throws(() => EbpfMap.fromPinned(path), (e: unknown) => e instanceof SyscallError && e.code === 'ENOENT');
  });
});

suite('persistentPath reuses the pinned map, and refuses an incompatible one', async () => {
  await withBpffs(async (dir) => {
    const path = join(dir, 'persist');
    const spec = { name: 'pin_persist', type: MapType.Array, valueSize: 4, maxEntries: 4, persistentPath: path } as const;
    using first = EbpfMap.create(spec);
    first.update(2, 42);
    using second = EbpfMap.create(spec);
    assert.is(second.info().id, first.info().id);
    assert.is(second.lookupInt(2), 42);
    assert.throws(() => EbpfMap.create({ ...spec, maxEntries: 5 }), /pinned at .* is Array .* 4 entries; the spec asks for/);
    first.unpin();
  });
});

suite('pinning outside bpffs is a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-nopin-'));
  try {
    using m = EbpfMap.create({ type: MapType.Array, valueSize: 4, maxEntries: 1 });
    assert.throws(() => m.pin(join(dir, 'x')), (e: unknown) => e instanceof SyscallError && e.syscall === 'BPF_OBJ_PIN' && /cannot pin at .*: .* is not on a bpffs mount/.test(e.message));
    assert.is(m.pinnedPath, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

suite.run();
