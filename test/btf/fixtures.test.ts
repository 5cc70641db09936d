// The fixture objects' BTF: `.maps` decoded field by field (little- and big-endian), .BTF.ext
// per program, and every type checked against `bpftool btf dump file` where bpftool exists.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inspect, type BtfType, type ElfMapSpec } from '../../src/inspect.js';
import { fixtureObjects, fixturesDir } from '../elf/fixture-files.js';
import { haveTool, testNeeding } from '../kernel/support.js';

const MAP = { HASH: 1, ARRAY: 2, PERF_EVENT_ARRAY: 4, LPM_TRIE: 11, ARRAY_OF_MAPS: 12, HASH_OF_MAPS: 13, RINGBUF: 27, QUEUE: 22 };

function bpftoolDump(path: string): string | undefined {
  try {
    return execFileSync('bpftool', ['btf', 'dump', 'file', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 30 });
  } catch {
    return undefined;
  }
}

const ENCODINGS = ['(none)', 'SIGNED', 'CHAR', 'BOOL'];

/** A type in bpftool's raw dump format (bpftool 7.x), from our decoding. */
function bpftoolLines(t: BtfType, types: BtfType[]): string[] {
  const head = `[${t.id}] ${t.kind.toUpperCase()} '${t.name || '(anon)'}'`;
  switch (t.kind) {
    case 'int': {
      const e = t.encoding!;
      const enc = e.signed ? 'SIGNED' : e.char ? 'CHAR' : e.bool ? 'BOOL' : ENCODINGS[0];
      return [`${head} size=${t.size} bits_offset=${e.offset} nr_bits=${e.bits} encoding=${enc}`];
    }
    case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
      return [`${head} type_id=${t.type}`];
    case 'array':
      return [`${head} type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.nelems}`];
    case 'struct': case 'union':
      return [`${head} size=${t.size} vlen=${t.members!.length}`, ...t.members!.map((m) =>
        `\t'${m.name || '(anon)'}' type_id=${m.type} bits_offset=${m.bitOffset}${m.bitfieldSize ? ` bitfield_size=${m.bitfieldSize}` : ''}`)];
    case 'fwd':
      return [`${head} fwd_kind=${t.kindFlag ? 'union' : 'struct'}`];
    case 'func':
      return [`${head} type_id=${t.type} linkage=${t.linkage}`];
    case 'func_proto':
      return [`${head} ret_type_id=${t.type} vlen=${t.params!.length}`, ...t.params!.map((p) => `\t'${p.name || '(anon)'}' type_id=${p.type}`)];
    case 'var':
      return [`${head} type_id=${t.type}, linkage=${t.linkage}`];
    case 'datasec':
      return [`${head} size=${t.size} vlen=${t.vars!.length}`, ...t.vars!.map((v) =>
        `\ttype_id=${v.type} offset=${v.offset} size=${v.size} (${types[v.type]!.kind.toUpperCase()} '${types[v.type]!.name}')`)];
    case 'float':
      return [`${head} size=${t.size}`];
    case 'enum': case 'enum64': {
      const suffix = t.kind === 'enum' ? '' : t.kindFlag ? 'LL' : 'ULL';
      return [`${head} encoding=${t.kindFlag ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values!.length}`,
        ...t.values!.map((v) => `\t'${v.name}' val=${v.value}${suffix}`)];
    }
    case 'decl_tag':
      return [`${head} type_id=${t.type} component_idx=${t.componentIndex}`];
    default:
      return [`${head} (kind not in the fixtures)`];
  }
}

const objects = fixtureObjects();

const VMLINUX = '/sys/kernel/btf/vmlinux';
testNeeding(test, 'the running kernel\'s BTF (every kind, 100k+ types) agrees with bpftool btf dump', ['bpftool'], async () => {
  const { existsSync } = await import('node:fs');
  if (!existsSync(VMLINUX)) return console.log(`  (skipped: no ${VMLINUX}: the kernel was built without CONFIG_DEBUG_INFO_BTF)`);
  const dump = bpftoolDump(VMLINUX);
  assert.ok(dump !== undefined, `bpftool btf dump file ${VMLINUX} failed`);
  const { parseBtf } = await import('../../src/btf/index.js');
  const types = parseBtf(readFileSync(VMLINUX)).btf.types!;
  const expected = dump.trimEnd().split('\n');
  const ours = types.slice(1).flatMap((t) => bpftoolLines(t, types));
  assert.is(ours.length, expected.length);
  for (let i = 0; i < ours.length; i++) {
    if (ours[i] !== expected[i]) assert.is(ours[i], expected[i], `line ${i + 1}`);
  }
});

for (const path of objects) {
  const name = basename(path);
  test(`${name}: BTF types agree with bpftool btf dump`, () => {
    const info = inspect(readFileSync(path), { btfTypes: true });
    const dump = haveTool('bpftool', 'fixture BTF cross-checks against bpftool btf dump') ? bpftoolDump(path) : undefined;
    if (!info.btf) {
      assert.ok(dump === undefined || dump.trim() === '', 'bpftool sees BTF we missed');
      return;
    }
    const types = info.btf.types!;
    assert.is(types.length, info.btf.typeCount);
    for (const t of types) assert.type(t.c, 'string');
    if (dump === undefined) return; // no bpftool on this machine
    const ours = types.slice(1).flatMap((t) => bpftoolLines(t, types));
    assert.equal(ours, dump.trimEnd().split('\n'));
  });
}

for (const variant of ['maps_btf.o', 'maps_btf.bpfeb.o']) {
  test(`${variant}: BTF-defined maps field by field`, () => {
    const info = inspect(readFileSync(join(fixturesDir, variant)));
    assert.is(info.endian, variant.includes('bpfeb') ? 'big' : 'little');
    const btfMaps = info.maps.filter((m) => m.origin === 'btf');
    const byName = new Map(btfMaps.map((m) => [m.name, m]));
    const pick = (n: string): Partial<ElfMapSpec> => {
      const m = byName.get(n)!;
      assert.ok(m, `map ${n}`);
      return { type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags, pinning: m.pinning, numaNode: m.numaNode, mapExtra: m.mapExtra, innerTemplate: m.innerTemplate };
    };
    const plain = { flags: 0, pinning: 0, numaNode: 0, mapExtra: 0, innerTemplate: false };
    assert.equal(pick('flows'), { ...plain, type: MAP.HASH, keySize: 16, valueSize: 8, maxEntries: 4096, flags: 1 });
    assert.equal(pick('pinned_stats'), { ...plain, type: MAP.ARRAY, keySize: 4, valueSize: 8, maxEntries: 16, pinning: 1 });
    assert.equal(pick('routes'), { ...plain, type: MAP.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 256, flags: 1 });
    assert.equal(pick('ring'), { ...plain, type: MAP.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 16384 });
    assert.equal(pick('perf_events'), { ...plain, type: MAP.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 0 });
    assert.equal(pick('pending'), { ...plain, type: MAP.QUEUE, keySize: 0, valueSize: 8, maxEntries: 32 });
    assert.equal(pick('inner_a'), { ...plain, type: MAP.ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 });
    assert.equal(pick('array_of_maps'), { ...plain, type: MAP.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 4 });
    assert.equal(pick('array_of_maps.inner'), { ...plain, type: MAP.ARRAY, keySize: 4, valueSize: 4, maxEntries: 4, innerTemplate: true });
    assert.equal(pick('hash_of_maps'), { ...plain, type: MAP.HASH_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 8 });
    assert.equal(pick('hash_of_maps.inner').innerTemplate, true);

    const aom = byName.get('array_of_maps')!;
    assert.is(info.maps[aom.innerMap!]!.name, 'array_of_maps.inner');
    assert.is(info.maps[byName.get('hash_of_maps')!.innerMap!]!.name, 'hash_of_maps.inner');
    assert.is(byName.get('flows')!.innerMap, null);

    // BTF key/value types, the VAR's symbol and its place in .maps
    const types = inspect(readFileSync(join(fixturesDir, variant)), { btfTypes: true }).btf!.types!;
    const flows = byName.get('flows')!;
    assert.is(types[flows.keyTypeId]!.name, 'flow_key');
    assert.is(types[flows.valueTypeId]!.name, '__u64');
    assert.is(info.symbols[flows.symbolIndex!]!.name, 'flows');
    assert.is(flows.definitionOffset, Number(info.symbols[flows.symbolIndex!]!.value));
    assert.is(info.sections[flows.sectionIndex]!.name, '.maps');
    assert.is(byName.get('ring')!.keyTypeId, 0);

    // every map reference in the code resolves to a (non-template) map of the right name
    for (const r of info.relocations.filter((x) => x.kind === 'map')) {
      assert.is(info.maps[r.map!]!.name, r.symbol);
    }
  });
}

test('core_kconfig.o: func info, line info and CO-RE relocations per program', () => {
  for (const variant of ['core_kconfig.o', 'core_kconfig.bpfeb.o']) {
    const info = inspect(readFileSync(join(fixturesDir, variant)), { btfTypes: true, btfExt: true });
    const types = info.btf!.types!;
    assert.is(info.btf!.hasExt, true);
    const fork = info.programs.find((p) => p.name === 'fork_parent')!;
    const exec = info.programs.find((p) => p.name === 'exec_task')!;
    assert.equal(fork.btfExt!.funcInfo, [{ insn: 0, typeId: fork.btfExt!.funcInfo[0]!.typeId, name: 'fork_parent' }]);
    assert.is(types[fork.btfExt!.funcInfo[0]!.typeId]!.kind, 'func');
    const relos = exec.btfExt!.coreRelocations;
    assert.equal(relos.map((r) => [r.kind, r.access, types[r.typeId]!.name]), [
      ['field_exists', '0:3', 'task_struct'], ['byte_off', '0:0', 'task_struct'],
    ]);
    assert.equal(fork.btfExt!.coreRelocations.map((r) => [r.kind, r.access]), [['byte_off', '0:2'], ['byte_off', '0:1']]);
    const first = fork.btfExt!.lineInfo[0]!;
    assert.equal([first.insn, first.lineNumber, first.line], [0, 24, 'int fork_parent(unsigned long long *ctx) {']);
    assert.match(first.file, /core_kconfig\.c$/);
    for (const p of [fork, exec]) {
      for (const l of p.btfExt!.lineInfo) assert.ok(l.insn >= 0 && l.insn < p.insnCount);
    }
    const secs = info.btf!.extSections.map((s) => [s.section, s.sectionIndex !== null, s.funcInfoCount]);
    assert.equal(secs, [['tp_btf/sched_process_fork', true, 1], ['tp_btf/sched_process_exec', true, 1]]);
  }
});

test('the kernel copy of .BTF: DATASEC sizes and offsets from the ELF, externs laid out, the rest unchanged', async () => {
  const { loadCoreSync } = await import('../../src/wasm/core.js');
  const { btfForKernel, parseBtf } = await import('../../src/btf/index.js');
  for (const variant of ['globals.o', 'globals.bpfeb.o', 'maps_btf.o', 'core_kconfig.o']) {
    const bytes = readFileSync(join(fixturesDir, variant));
    const info = inspect(bytes, { btfTypes: true });
    const core = loadCoreSync();
    const data = core.ebpf_alloc(bytes.length);
    new Uint8Array(core.memory.buffer, data, bytes.length).set(bytes);
    const obj = core.ebpf_object_open(data, bytes.length);
    let blob: Uint8Array | undefined;
    try {
      blob = btfForKernel(core, obj);
    } finally {
      core.ebpf_object_close(obj);
      core.ebpf_free(data);
    }
    const fixed = parseBtf(blob!).btf.types!;
    const raw = info.btf!.types!;
    assert.is(fixed.length, raw.length);
    let datasecs = 0;
    for (const t of raw) {
      const k = fixed[t.id]!;
      if (t.kind === 'var' && t.linkage === 'extern') {
        assert.equal(k, { ...t, linkage: 'global', c: t.c.replace(/^extern /, '') });
        continue;
      }
      if (t.kind !== 'datasec') {
        assert.equal(k, t);
        continue;
      }
      const sec = info.sections.find((s) => s.name === t.name);
      if (!sec) { // .kconfig externs: where the .kconfig map (and extern relocations) put them
        const kconfig = info.maps.find((m) => m.origin === 'kconfig')!;
        assert.is(t.name, '.kconfig');
        assert.is(k.size, kconfig.valueSize);
        k.vars!.forEach((v) => {
          const name = raw[v.type]!.name;
          const r = info.relocations.find((x) => x.symbol === name && x.kind === 'extern')!;
          assert.ok(r, `a relocation of ${name}`);
          assert.is(v.offset, r.targetOffset, `${variant} ${name}`);
        });
        assert.equal(k.vars!.map((v) => v.offset), k.vars!.map((v) => v.offset).sort((a, b) => a - b), 'offset order');
        continue;
      }
      datasecs++;
      assert.is(k.size, sec.size, `${variant} ${t.name} size`);
      k.vars!.forEach((v, i) => {
        const sym = info.symbols.find((s) => s.section === sec.index && s.name === raw[v.type]!.name)!;
        assert.is(v.offset, Number(sym.value), `${variant} ${t.name} var ${i}`);
        assert.is(v.size, t.vars!.find((x) => x.type === v.type)!.size);
      });
      assert.equal(k.vars!.map((v) => v.offset), k.vars!.map((v) => v.offset).sort((a, b) => a - b), 'offset order');
    }
    assert.ok(datasecs > 0);
  }
});

test('programs sharing a section each get their own .BTF.ext records', () => {
  const info = inspect(readFileSync(join(fixturesDir, 'maps_btf.o')), { btfExt: true });
  const xdp = info.programs.filter((p) => p.section === 'xdp');
  assert.ok(xdp.length >= 2);
  for (const p of xdp) {
    assert.equal(p.btfExt!.funcInfo.map((f) => [f.insn, f.name]), [[0, p.name]]);
  }
});

test('per-program .BTF.ext records only when asked; the rest of ObjectInfo is the same either way', () => {
  for (const path of fixtureObjects()) {
    const bytes = readFileSync(path);
    const plain = inspect(bytes), full = inspect(bytes, { btfExt: true });
    assert.ok(plain.programs.every((p) => p.btfExt === undefined), basename(path));
    const stripped = full.programs.map(({ btfExt: _, ...rest }) => rest);
    assert.equal(plain.programs, stripped, basename(path));
    assert.equal({ ...plain, programs: [] }, { ...full, programs: [] }, basename(path));
    if (!full.btf?.hasExt) continue;
    // every record of a section that holds programs lands in one of them
    const total = (key: 'funcInfo' | 'lineInfo' | 'coreRelocations') =>
      full.programs.reduce((n, p) => n + p.btfExt![key].length, 0);
    const withPrograms = full.btf.extSections.filter((s) => full.programs.some((p) => p.section === s.section));
    assert.is(total('funcInfo'), withPrograms.reduce((n, s) => n + s.funcInfoCount, 0), basename(path));
    assert.is(total('lineInfo'), withPrograms.reduce((n, s) => n + s.lineInfoCount, 0), basename(path));
    assert.is(total('coreRelocations'), withPrograms.reduce((n, s) => n + s.coreRelocationCount, 0), basename(path));
  }
});

test('CLI --btf prints the types as C', () => {
  const out = execFileSync(process.execPath, [join(fixturesDir, '../../dist/src/cli/main.js'), 'inspect', join(fixturesDir, 'maps_btf.o'), '--btf'], { encoding: 'utf8' });
  assert.match(out, /struct flow_key \{\n\t__u32 saddr;\n\t__u32 daddr;\n\t__u16 sport;\n\t__u16 dport;\n\t__u32 proto;\n\};/);
  assert.match(out, /typedef unsigned int __u32;/);
});

test.run();
