// Map operations through ebpf next to the same raw bpf(2) loops in C (bench/c/map_ops.c), in one run:
// lookup, update and get-next-key on a 4-byte-key hash map, and the batch lookup's per-element rate.
// Two ebpf sides: EbpfMap (the library's API: lookupInt, upsert, getNextKeyInt, lookupBatchInto) and
// the raw bridge as EbpfMap should drive it (src/sys: bpfPrepare + bpfRun), the floor EbpfMap
// can reach. The C program runs beside the bench and the sides alternate short rounds of each
// operation; each keeps its best round. Times are CPU time (user + system) of the process, not wall
// time: the machine is shared, and waiting for a core is no part of an operation's cost.
// Ratio = C time / ebpf time (1.0 = as fast as C); the targets apply to EbpfMap.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FD } from '../src/sys/bpf.js';
import { check } from '../src/sys/errors.js';
import { ATTR, BPF_ANY, BpfCmd, MapType } from '../src/sys/generated.js';
import { native, nativeUnavailableReason, type PreparedBpf } from '../src/sys/native.js';
import { EbpfMap, MapBatchCursor } from '../src/map/index.js';
import type { BenchEntry } from './run.js';

const ENTRIES = 10_000;
const BATCH = 1_000;
const ROUNDS = 40;
const ENOENT = 2;

type Op = 'lookup' | 'update' | 'getNextKey' | 'batchLookup';
const OPS: Array<{ op: Op; label: string; count: number; target: number }> = [
  { op: 'lookup', label: 'lookup', count: 10_000, target: 0.85 },
  { op: 'update', label: 'update', count: 10_000, target: 0.85 },
  { op: 'getNextKey', label: 'get next key', count: 10_000, target: 0.85 },
  { op: 'batchLookup', label: 'batch lookup (per element)', count: 50_000, target: 0.5 },
];

/** One side of the comparison: runs `count` operations, returns CPU ns per operation (per element for batches). */
type Runner = (op: Op, count: number) => Promise<number> | number;

/** CPU time of this process (user + system) in ns; after warm-up no JIT or GC thread adds to it. */
function cpuNs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

const source = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'c', 'map_ops.c');

/** Compiles bench/c/map_ops.c and starts it; each round is one "OP COUNT" line answered by one line. */
function startC(dir: string): { run: Runner; stop(): void } {
  const binary = join(dir, 'map_ops');
  execFileSync(process.env.CC ?? 'cc', ['-O2', '-o', binary, source], { stdio: 'inherit' });
  const child = spawn(binary, [String(ENTRIES), String(BATCH)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async run(op, count) {
      child.stdin.write(`${op} ${count}\n`);
      const line = await lines.next();
      if (line.done) throw new Error(`bench/c/map_ops exited (status ${child.exitCode}) during ${op}`);
      return Number(line.value);
    },
    stop() {
      child.stdin.end();
    },
  };
}

/**
 * The same loops through the bridge, as EbpfMap drives it: one prepared call per command (bpfPrepare,
 * which checks the key and value buffers against the map once and holds them), then bpfRun per
 * operation.
 */
function startBridge(): { run: Runner; stop(): void } {
  const bridge = native();
  const create = new Uint8Array(ATTR.MAP_CREATE.SIZE);
  const createView = new DataView(create.buffer);
  createView.setUint32(ATTR.MAP_CREATE.map_type.offset, MapType.Hash, true);
  createView.setUint32(ATTR.MAP_CREATE.key_size.offset, 4, true);
  createView.setUint32(ATTR.MAP_CREATE.value_size.offset, 8, true);
  createView.setUint32(ATTR.MAP_CREATE.max_entries.offset, ENTRIES, true);
  const map = new FD(check(bridge.bpf(BpfCmd.MapCreate, create), 'BPF_MAP_CREATE'));

  const scratch = bridge.scratch(16);
  const key = new Uint32Array(scratch, 0, 1);
  const next = new Uint32Array(scratch, 4, 1);
  const value = new BigUint64Array(scratch, 8, 1);
  value[0] = 1n;
  const prepare = (cmd: BpfCmd, flags: number, pointerAt: number, pointer: ArrayBufferView): PreparedBpf => {
    const attr = new Uint8Array(ATTR.MAP_ELEM.SIZE);
    const view = new DataView(attr.buffer);
    view.setUint32(ATTR.MAP_ELEM.map_fd.offset, map.fd, true);
    void flags; // BPF_ANY and 0: bpfRun's default
    const prepared = bridge.bpfPrepare(cmd, attr, ATTR.MAP_ELEM.key.offset, key, pointerAt, pointer);
    if (typeof prepared === 'number') check(prepared, 'bpfPrepare');
    return prepared as PreparedBpf;
  };
  const update = prepare(BpfCmd.MapUpdateElem, BPF_ANY, ATTR.MAP_ELEM.value.offset, value);
  const lookup = prepare(BpfCmd.MapLookupElem, 0, ATTR.MAP_ELEM.value.offset, value);
  const getNextKey = prepare(BpfCmd.MapGetNextKey, 0, ATTR.MAP_ELEM.next_key.offset, next);

  const batch = new Uint8Array(ATTR.MAP_BATCH.SIZE);
  const batchView = new DataView(batch.buffer);
  const keys = new Uint32Array(BATCH);
  const values = new BigUint64Array(BATCH);
  const inBatch = new Uint32Array(1);
  const outBatch = new Uint32Array(1);

  const single = (prepared: PreparedBpf, count: number): number => {
    const start = cpuNs();
    for (let i = 0; i < count; i++) {
      key[0] = i % ENTRIES;
      const ret = bridge.bpfRun(prepared) ?? 0;
      if (ret < 0 && !(ret === -ENOENT && prepared === getNextKey)) check(ret, 'bpf'); // ENOENT: last key
    }
    return (cpuNs() - start) / count;
  };
  const batchLookup = (elements: number): number => {
    let done = 0;
    const start = cpuNs();
    while (done < elements) {
      let first = true;
      outBatch[0] = 0;
      for (;;) {
        inBatch[0] = outBatch[0]!;
        batch.fill(0);
        batchView.setUint32(ATTR.MAP_BATCH.count.offset, BATCH, true);
        batchView.setUint32(ATTR.MAP_BATCH.map_fd.offset, map.fd, true);
        const ret = bridge.bpf(BpfCmd.MapLookupBatch, batch, ATTR.MAP_BATCH.in_batch.offset, first ? null : inBatch,
          ATTR.MAP_BATCH.out_batch.offset, outBatch, ATTR.MAP_BATCH.keys.offset, keys, ATTR.MAP_BATCH.values.offset, values);
        done += batchView.getUint32(ATTR.MAP_BATCH.count.offset, true);
        first = false;
        if (ret === -ENOENT) break; // the sweep is done
        check(ret, 'BPF_MAP_LOOKUP_BATCH');
      }
    }
    return (cpuNs() - start) / done;
  };

  single(update, ENTRIES);
  return {
    run(op, count) {
      switch (op) {
        case 'lookup': return single(lookup, count);
        case 'update': return single(update, count);
        case 'getNextKey': return single(getNextKey, count);
        case 'batchLookup': return batchLookup(count);
      }
    },
    stop() {
      map.close();
    },
  };
}

/** The same operations through EbpfMap's allocation-free calls. */
function startEbpfMap(): { run: Runner; stop(): void } {
  const map = EbpfMap.create({ name: 'bench', type: MapType.Hash, keySize: 4, valueSize: 8, maxEntries: ENTRIES });
  const keys = new Uint8Array(BATCH * 4);
  const values = new Uint8Array(BATCH * 8);
  const single = (body: (key: number) => void, count: number): number => {
    const start = cpuNs();
    for (let i = 0; i < count; i++) body(i % ENTRIES);
    return (cpuNs() - start) / count;
  };
  const lookup = (key: number): void => {
    map.lookupInt(key);
  };
  const update = (key: number): void => {
    map.upsert(key, 1);
  };
  const getNextKey = (key: number): void => {
    map.getNextKeyInt(key);
  };
  const batchLookup = (elements: number): number => {
    let done = 0;
    const start = cpuNs();
    while (done < elements) {
      const cursor = new MapBatchCursor(4);
      while (!cursor.done) done += map.lookupBatchInto(cursor, keys, values, BATCH);
    }
    return (cpuNs() - start) / done;
  };
  single(update, ENTRIES);
  return {
    run(op, count) {
      switch (op) {
        case 'lookup': return single(lookup, count);
        case 'update': return single(update, count);
        case 'getNextKey': return single(getNextKey, count);
        case 'batchLookup': return batchLookup(count);
      }
    },
    stop() {
      map.close();
    },
  };
}

const entry: BenchEntry = {
  name: `map: hash map, 4-byte keys, 8-byte values, ${ENTRIES} entries; best of ${ROUNDS} alternating rounds`,
  async run() {
    const why = nativeUnavailableReason();
    if (why !== undefined || process.getuid?.() !== 0) {
      console.log(`  skipped: ${why ?? 'needs root for bpf()'}`);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'ebpf-bench-'));
    const sides: Array<{ name: string; runner: { run: Runner; stop(): void } }> = [
      { name: 'C', runner: startC(dir) },
      { name: 'EbpfMap', runner: startEbpfMap() },
      { name: 'bridge', runner: startBridge() },
    ];
    try {
      for (const { op, count } of OPS) for (const side of sides.slice(1)) await side.runner.run(op, count); // warm-up: JIT
      const best = new Map(OPS.map(({ op }) => [op, sides.map(() => Infinity)]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const { op, count } of OPS) {
          const row = best.get(op)!;
          for (const [i, side] of sides.entries()) row[i] = Math.min(row[i]!, await side.runner.run(op, count));
        }
      }
      console.log('  CPU ns per operation (per element for batches), best round of each side');
      console.log(
        `  ${'operation'.padEnd(28)}${'C ns'.padStart(8)}${'EbpfMap ns'.padStart(12)}${'ratio'.padStart(7)}` +
          `${'target'.padStart(8)}${'bridge ns'.padStart(11)}${'ratio'.padStart(7)}`,
      );
      for (const { op, label, target } of OPS) {
        const [cNs, mapNs, bridgeNs] = best.get(op)! as [number, number, number];
        const mapRatio = cNs / mapNs;
        console.log(
          `  ${label.padEnd(28)}${cNs.toFixed(1).padStart(8)}${mapNs.toFixed(1).padStart(12)}${mapRatio.toFixed(2).padStart(7)}` +
            `${`≥${target}`.padStart(8)}${bridgeNs.toFixed(1).padStart(11)}${(cNs / bridgeNs).toFixed(2).padStart(7)}` +
            `  ${mapRatio >= target ? 'ok' : 'BELOW TARGET'}`,
        );
      }
    } finally {
      for (const side of sides) side.runner.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default entry;
