// `ebpf prog` and `ebpf map` against bpftool's JSON for the same programs and maps (loaded here from
// the fixtures): ids, names, types, tags, sizes, map ids, BTF ids; every element's key and value
// bytes and their BTF formatting; `prog dump xlated` as the library's disassembly.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { System } from '../../src/program/system.js';
import { EbpfMap, MapType } from '../../src/map/map.js';
import { fixturesDir } from '../elf/fixture-files.js';
import { kernelSuite, withBpffs } from '../kernel/support.js';
import { missingTool } from './tools.js';

const test = kernelSuite('ebpf prog/map against bpftool');
const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

const ebpf = (...args: string[]): unknown => JSON.parse(execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 }));
const bpftool = (...args: string[]): unknown => JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 }));

type Json = Record<string, unknown>;
const pick = (o: Json, keys: readonly string[]): Json => Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));

const PROG_KEYS = ['id', 'type', 'name', 'tag', 'gpl_compatible', 'uid', 'bytes_xlated', 'jited', 'bytes_jited', 'bytes_memlock', 'map_ids', 'btf_id'];
const MAP_KEYS = ['id', 'type', 'name', 'flags', 'bytes_key', 'bytes_value', 'max_entries', 'bytes_memlock', 'frozen', 'btf_id'];

const skip = missingTool('bpftool', ['version']);
if (skip) console.log(`  (CLI comparison with bpftool skipped: ${skip})`);
else {
  test('prog show/list and map show/list/dump agree with bpftool -j', () => withBpffs((pinRoot) => {
    using globals = new System().loadElf(join(fixturesDir, 'globals.o'), { pinRoot });
    using maps = new System().loadElf(join(fixturesDir, 'maps_btf.o'), { pinRoot });
    const program = globals.getProgramByName('socket_snap')!.load();
    const flows = maps.getMapByName('flows')!;
    const key = new Uint8Array(flows.info().keySize);
    new DataView(key.buffer).setUint32(0, 0x0a000001, true);
    new DataView(key.buffer).setUint32(4, 0x0a000002, true);
    new DataView(key.buffer).setUint16(8, 443, true);
    flows.upsert(key, 12345678901234n);
    maps.getMapByName('pinned_stats')!.upsert(3, 7n);

    const id = program.info().id;
    const ours = ebpf('prog', 'show', String(id), '-j') as Json;
    const theirs = bpftool('prog', 'show', 'id', String(id)) as Json;
    assert.equal(pick(ours, PROG_KEYS), pick(theirs, PROG_KEYS), 'prog show');
    assert.ok(Math.abs((ours.loaded_at as number) - (theirs.loaded_at as number)) <= 1, 'loaded_at');
    assert.equal(pick(ebpf('prog', 'show', 'id', String(id), '-p') as Json, PROG_KEYS), pick(theirs, PROG_KEYS), 'id ID, -p');
    const listed = (ebpf('prog', 'list', '-j') as Json[]).find((p) => p.id === id);
    assert.equal(pick(listed!, PROG_KEYS), pick(theirs, PROG_KEYS), 'prog list');

    const mapIds = [...globals.getMaps().values(), ...maps.getMaps().values()].map((m) => m.info().id);
    const ourMaps = ebpf('map', 'list', '-j') as Json[];
    let dumped = 0;
    for (const mapId of mapIds) {
      const mine = ebpf('map', 'show', String(mapId), '-j') as Json;
      const want = bpftool('map', 'show', 'id', String(mapId)) as Json;
      assert.equal(pick(mine, MAP_KEYS), pick(want, MAP_KEYS), `map show ${mapId}`);
      assert.equal(pick(ourMaps.find((m) => m.id === mapId)!, MAP_KEYS), pick(want, MAP_KEYS), `map list ${mapId}`);
      const wantDump = spawnSync('bpftool', ['-j', 'map', 'dump', 'id', String(mapId)], { encoding: 'utf8' });
      if (wantDump.status !== 0 || (want.type as string) === 'perf_event_array') continue; // maps bpftool cannot dump either
      assert.equal(ebpf('map', 'dump', String(mapId), '-j'), JSON.parse(wantDump.stdout), `map dump ${mapId} (${want.name as string})`);
      dumped++;
    }
    assert.ok(dumped >= 6, `${dumped} maps dumped`);
    const flowDump = ebpf('map', 'dump', String(flows.info().id), '-j') as { formatted: { key: Json; value: number } }[];
    assert.equal(flowDump[0]!.formatted, { key: { saddr: 0x0a000001, daddr: 0x0a000002, sport: 443, dport: 0, proto: 0 }, value: 12345678901234 });
  }));

  test('map dump of maps without BTF (per-CPU array, hash) agrees with bpftool -j; text shows bytes', () => {
    using percpu = EbpfMap.create({ name: `dz_pcpu_${process.pid % 10000}`, type: MapType.PerCPUArray, keySize: 4, valueSize: 12, maxEntries: 3 });
    percpu.upsert(1, new Uint8Array(12).fill(7));
    using hash = EbpfMap.create({ name: `dz_hash_${process.pid % 10000}`, type: MapType.Hash, keySize: 2, valueSize: 3, maxEntries: 4 });
    hash.upsert(new Uint8Array([1, 2]), new Uint8Array([3, 4, 5]));
    for (const map of [percpu, hash]) {
      const id = String(map.info().id);
      assert.equal(ebpf('map', 'dump', 'id', id, '-j'), bpftool('map', 'dump', 'id', id), `map dump ${map.name}`);
    }
    const text = execFileSync(process.execPath, [cli, 'map', 'dump', String(hash.info().id)], { encoding: 'utf8' });
    assert.is(text, 'key: 01 02  value: 03 04 05\nFound 1 element\n');
  });

  test('prog dump xlated prints the library\'s disassembly; bad ids are one-line errors', () => {
    using globals = new System().loadElf(join(fixturesDir, 'globals.o'));
    const program = globals.getProgramByName('socket_snap')!.load();
    const id = String(program.info().id);
    const text = execFileSync(process.execPath, [cli, 'prog', 'dump', 'xlated', 'id', id], { encoding: 'utf8' });
    assert.match(text, /^socket_snap:\t; int socket_snap\(struct __sk_buff \*skb\)\n/);
    assert.match(text, /call account/);
    const json = ebpf('prog', 'dump', id, '-j') as { instructions: { text: string }[]; xlated_length: number };
    assert.is(json.instructions.length, program.disassemble().instructions.length);
    assert.is(json.xlated_length, program.info().xlatedProgramLen);
    for (const args of [['prog', 'show', '0'], ['prog', 'show', 'id', '4294967295'], ['map', 'dump', 'pinned', '/nonexistent/x'], ['prog', 'frob']]) {
      const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
      assert.is(r.status, 1, args.join(' '));
      assert.match(r.stderr, /^ebpf: [^\n]+\n$/, args.join(' '));
    }
  });
}

test.run();
