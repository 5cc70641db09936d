// The property-based memory-safety checks, run by properties.test.ts in a child process (one group
// per process: a crash is that group's failure). Every public call that reaches the kernel, and the
// bridge's exports, get hostile numbers, lying views (a subclass whose byteLength says anything),
// detached buffers, closed and reused fds and foreign cursors. Each run checks that the call returns
// or throws an Error (never crashes), that the guard bytes around every buffer are untouched, and,
// per group, that no fd leaks. Usage: node properties-child.js GROUP [runs] [seed]
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EbpfMap, MapBatchCursor, MapType } from '../../src/map/index.js';
import type { KeyValue } from '../../src/map/keyvalue.js';
import { Program, ProgramType } from '../../src/program/index.js';
import { ATTR, BpfCmd } from '../../src/sys/generated.js';
import { native, type Bytes } from '../../src/sys/native.js';
import { detachedView, guarded, lyingView, openFds, type Guarded } from './support.js';

const [group = 'maps', runsArg = '150', seedArg] = process.argv.slice(2);
const numRuns = Number(runsArg);
const seed = seedArg === undefined ? undefined : Number(seedArg);

/** Numbers a careless or hostile caller passes. */
const hostileNumber = fc.oneof(
  fc.integer({ min: -5, max: 70 }),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, -1, 0.5, 1.5, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 2 ** 64, -(2 ** 31)),
  fc.double(),
  fc.integer(),
);
const hostileValue = fc.oneof(hostileNumber, fc.bigInt({ min: -1n, max: 1n << 65n }), fc.constantFrom(undefined, null, '7', {}));
/** An optional numeric argument: mostly absent or valid (so calls reach the kernel), sometimes hostile. */
const maybeHostile = fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: fc.nat(64), weight: 2 }, { arbitrary: hostileValue, weight: 2 });

/** How a buffer argument is handed over: honest, lying about its length, detached. */
type BufferKind = 'honest' | 'liar' | 'detached';
const bufferSpec = fc.record({ size: fc.integer({ min: 0, max: 96 }), kind: fc.constantFrom<BufferKind>('honest', 'honest', 'liar', 'detached'), claimed: fc.integer({ min: 0, max: 100_000 }) });
type BufferSpec = { size: number; kind: BufferKind; claimed: number };

/** The buffer of a spec, and its guards (detached buffers have none to check). */
function buffer(spec: BufferSpec, guards: Guarded[]): Uint8Array {
  if (spec.kind === 'detached') return detachedView(spec.size);
  const g = guarded(spec.size);
  guards.push(g);
  return spec.kind === 'liar' ? lyingView(g.view, spec.claimed) : g.view;
}

/** Calls fn; anything but a return or a thrown Error fails the property. */
function survives(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof Error)) throw new Error(`threw a non-Error: ${String(e)}`);
  }
}

function checkGuards(guards: Guarded[], what: string): void {
  if (!guards.every((g) => g.intact())) throw new Error(`${what}: bytes written outside a buffer`);
}

function run<Ts extends unknown[]>(name: string, property: fc.IProperty<Ts>): void {
  const start = Date.now();
  fc.assert(property, { numRuns, seed, endOnFailure: true });
  console.log(`ok ${name} (${numRuns} runs, ${Date.now() - start} ms)`);
}

// ---- maps: every EbpfMap call that reaches the kernel ----

const MAP_SPECS = [
  { type: MapType.Hash, keySize: 4, valueSize: 8, maxEntries: 64 },
  { type: MapType.Array, keySize: 4, valueSize: 8, maxEntries: 64 },
  { type: MapType.PerCPUHash, keySize: 8, valueSize: 12, maxEntries: 16 },
  { type: MapType.LPMTrie, keySize: 20, valueSize: 4, maxEntries: 16 },
  { type: MapType.Queue, keySize: 0, valueSize: 16, maxEntries: 16 },
];

function mapsGroup(): void {
  const fdsBefore = openFds();
  const maps = MAP_SPECS.map((spec) => EbpfMap.create(spec));
  const ops = ['lookup', 'upsert', 'delete', 'getNextKey', 'lookupBatchInto', 'lookupAndDeleteBatchInto', 'updateBatch', 'deleteBatch', 'lookupBatch', 'push', 'entries'] as const;
  run('EbpfMap calls with hostile numbers and buffers', fc.property(
    fc.integer({ min: 0, max: maps.length - 1 }), fc.constantFrom(...ops), fc.array(maybeHostile, { minLength: 4, maxLength: 4 }),
    fc.array(bufferSpec, { minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 2 ** 31 }),
    (mapIndex, op, numbers, specs, keySeed) => {
      const guards: Guarded[] = [];
      const m = maps[mapIndex]!;
      const [a, b, c] = specs.map((s) => buffer(s, guards)) as [Uint8Array, Uint8Array, Uint8Array];
      const key: KeyValue = keySeed % 3 === 0 ? a : keySeed % 64;
      const n = numbers as never[];
      survives(() => {
        switch (op) {
          case 'lookup': return m.lookup(key, n[0]);
          case 'upsert': return m.upsert(key, b, n[0]);
          case 'delete': return m.delete(key);
          case 'getNextKey': return m.getNextKey(key);
          case 'lookupBatchInto': return m.lookupBatchInto(new MapBatchCursor(Math.abs(keySeed % 24)), b, c, n[0]);
          case 'lookupAndDeleteBatchInto': return m.lookupAndDeleteBatchInto(new MapBatchCursor(m.keySize), b, c, n[1]);
          case 'updateBatch': return m.updateBatch(b, c, { flags: n[2] });
          case 'deleteBatch': return m.deleteBatch(b);
          case 'lookupBatch': return m.lookupBatch({ chunkSize: n[3] });
          case 'push': return m.push(b, n[0]);
          case 'entries': return [...m.entries()].length;
        }
      });
      checkGuards(guards, op);
    },
  ));
  run('batch cursors: foreign, undersized, fake, after close', fc.property(
    fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 24 }), fc.boolean(),
    (first, second, cursorKeySize, fake) => {
      const guards: Guarded[] = [];
      const keys = guarded(24 * 4), values = guarded(4 * 8 * 64);
      guards.push(keys, values);
      const cursor = fake ? ({ token: new Uint8Array(1), started: true, done: false } as unknown as MapBatchCursor) : new MapBatchCursor(cursorKeySize);
      survives(() => maps[first]!.lookupBatchInto(cursor, keys.view, values.view, 2));
      survives(() => maps[second]!.lookupBatchInto(cursor, keys.view, values.view, 2));
      checkGuards(guards, 'cursor');
    },
  ));
  for (const m of maps) m.close();
  if (openFds() !== fdsBefore) throw new Error(`fds leaked: ${fdsBefore} before, ${openFds()} after`);
}

// ---- closed and reused fds ----

function fdsGroup(): void {
  const fdsBefore = openFds();
  run('a map whose fd is closed behind its back and reused', fc.property(
    fc.boolean(), fc.integer({ min: 1, max: 4096 }), fc.constantFrom('lookup', 'upsert', 'entries', 'batch', 'close'),
    (usedBefore, bigValue, op) => {
      const m = EbpfMap.create({ type: MapType.Hash, keySize: 4, valueSize: 4, maxEntries: 4 });
      if (usedBefore) m.upsert(1, 1);
      native().close(m.fd);
      const reuser = EbpfMap.create({ type: MapType.Hash, keySize: 4, valueSize: bigValue * 16, maxEntries: 4 });
      reuser.upsert(1, new Uint8Array(bigValue * 16).fill(9));
      const guards: Guarded[] = [guarded(8), guarded(8)];
      survives(() => {
        switch (op) {
          case 'lookup': return m.lookup(1);
          case 'upsert': return m.upsert(1, 2);
          case 'entries': return [...m.entries()];
          case 'batch': return m.lookupBatchInto(new MapBatchCursor(4), guards[0]!.view, guards[1]!.view, 1);
          case 'close': return undefined;
        }
      });
      survives(() => m.close());
      // The map that reused the number is untouched and still open.
      if (reuser.lookup(1).length !== bigValue * 16) throw new Error('the reusing map changed');
      reuser.close();
      checkGuards(guards, op);
    },
  ));
  run('fromFd of any number borrows (never closes the caller\'s fd)', fc.property(hostileValue, (fd) => {
    survives(() => EbpfMap.fromFd(fd as number).close());
  }));
  if (openFds() !== fdsBefore) throw new Error(`fds leaked: ${fdsBefore} before, ${openFds()} after`);
}

// ---- programs: load and test runs ----

const PASS = Uint8Array.from([0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

function programsGroup(): void {
  const program = new Program({ name: 'pass', type: ProgramType.XDP, license: 'GPL', instructions: PASS }).load();
  const fdsBefore = openFds();
  run('testRun with hostile options, lying and detached data/ctx', fc.property(
    fc.array(maybeHostile, { minLength: 5, maxLength: 5 }), fc.option(bufferSpec), fc.option(bufferSpec),
    (numbers, dataSpec, ctxSpec) => {
      const guards: Guarded[] = [];
      const data = dataSpec === null ? undefined : buffer({ ...dataSpec, size: dataSpec.size + 14 }, guards);
      const ctx = ctxSpec === null ? undefined : buffer(ctxSpec, guards);
      const [repeat, flags, cpu, dataSizeOut, ctxSizeOut] = numbers as number[];
      let out: number | undefined;
      survives(() => (out = program.testRun({ data, ctx, repeat: typeof repeat === 'number' ? repeat % 8 : repeat, flags, cpu, dataSizeOut, ctxSizeOut }).data.length));
      checkGuards(guards, 'testRun');
      // The program passes the packet unchanged: the kernel read no more than the real data.
      const real = dataSpec === null || dataSpec.kind === 'detached' ? 0 : dataSpec.size + 14;
      if (out !== undefined && out > real) throw new Error(`testRun: the kernel read ${out} bytes of a ${real}-byte packet`);
    },
  ));
  run('Program with hostile instructions and load options', fc.property(bufferSpec, fc.array(maybeHostile, { minLength: 4, maxLength: 4 }), (spec, numbers) => {
    const guards: Guarded[] = [];
    const instructions = buffer({ ...spec, size: spec.size - (spec.size % 8) }, guards);
    const [logLevel, logSize, flags, kernVersion] = numbers as number[];
    survives(() => new Program({ name: 'p', type: ProgramType.XDP, license: 'GPL', instructions, flags, kernVersion }).load({ logLevel, logSize }).close());
    checkGuards(guards, 'load');
  }));
  if (openFds() !== fdsBefore) throw new Error(`fds leaked: ${fdsBefore} before, ${openFds()} after`);
  program.close();
}

// ---- the bridge's exports ----

// Commands with pointer rules, and their pointer offsets (src/sys/generated.ts's ATTR).
const POINTER_COMMANDS: Array<{ cmd: BpfCmd; offsets: number[]; size: number }> = [
  { cmd: BpfCmd.MapLookupElem, offsets: [8, 16], size: ATTR.MAP_ELEM.SIZE },
  { cmd: BpfCmd.MapUpdateElem, offsets: [8, 16], size: ATTR.MAP_ELEM.SIZE },
  { cmd: BpfCmd.MapGetNextKey, offsets: [8, 16], size: ATTR.MAP_ELEM.SIZE },
  { cmd: BpfCmd.MapLookupAndDeleteElem, offsets: [8, 16], size: ATTR.MAP_ELEM.SIZE },
  { cmd: BpfCmd.MapLookupBatch, offsets: [0, 8, 16, 24], size: ATTR.MAP_BATCH.SIZE },
  { cmd: BpfCmd.MapUpdateBatch, offsets: [0, 8, 16, 24], size: ATTR.MAP_BATCH.SIZE },
  { cmd: BpfCmd.MapDeleteBatch, offsets: [16, 24], size: ATTR.MAP_BATCH.SIZE },
  { cmd: BpfCmd.ObjGetInfoByFd, offsets: [8, 0x10000 + 56, 0x10000 + 32], size: ATTR.OBJ_GET_INFO_BY_FD.SIZE },
  { cmd: BpfCmd.ProgTestRun, offsets: [16, 24, 48, 56], size: ATTR.PROG_TEST_RUN.SIZE },
  { cmd: BpfCmd.ProgLoad, offsets: [8, 16, 32, 80, 96], size: ATTR.PROG_LOAD.SIZE },
];

function bridgeGroup(): void {
  const bridge = native();
  const map = EbpfMap.create({ type: MapType.Hash, keySize: 8, valueSize: 24, maxEntries: 32 });
  for (let i = 0; i < 20; i++) map.upsert(BigInt(i), new Uint8Array(24).fill(i));
  const program = new Program({ name: 'pass', type: ProgramType.XDP, license: 'GPL', instructions: PASS }).load();
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-props-'));
  const file = join(dir, 'f');
  writeFileSync(file, new Uint8Array(5000));
  const fileFd = openSync(file, 'r+');
  const fdsBefore = openFds();
  try {
    run('bpf(cmd, attr, pointers) with hostile sizes and buffers', fc.property(
      fc.constantFrom(...POINTER_COMMANDS), fc.uint8Array({ minLength: 0, maxLength: 200 }),
      fc.array(fc.tuple(fc.nat(5), bufferSpec), { maxLength: 5 }), fc.array(fc.nat(0xffffffff), { minLength: 8, maxLength: 8 }),
      (command, rawAttr, pointers, counts) => {
        const guards: Guarded[] = [];
        const attr = new Uint8Array(Math.max(rawAttr.length, command.size));
        attr.set(rawAttr);
        const view = new DataView(attr.buffer);
        // Real objects where the command wants them, so the kernel gets as far as the buffers.
        const fd = command.cmd === BpfCmd.ProgTestRun || command.cmd === BpfCmd.ObjGetInfoByFd ? program.fd : map.fd;
        if (command.cmd === BpfCmd.ProgLoad) view.setUint32(0, ProgramType.XDP, true);
        else view.setUint32(command.cmd >= BpfCmd.MapLookupBatch && command.cmd <= BpfCmd.MapDeleteBatch ? 36 : 0, fd, true);
        // Counts and sizes: small, huge, or random (4, 8, 12, 28, 32, 40, 44, 88: the size fields).
        [4, 8, 12, 28, 32, 40, 44, 88].forEach((off, i) => {
          if (off + 4 <= attr.length && command.cmd !== BpfCmd.ObjGetInfoByFd) view.setUint32(off, counts[i]! % 3 === 0 ? counts[i]! % 64 : counts[i]!, true);
        });
        if (command.cmd === BpfCmd.ObjGetInfoByFd) view.setUint32(4, counts[0]! % 300, true);
        if (command.cmd === BpfCmd.ProgTestRun) view.setUint32(32, 1, true); // repeat
        const pairs: Array<number | Bytes | null> = [];
        for (const [i, spec] of pointers) pairs.push(command.offsets[i % command.offsets.length]!, buffer(spec, guards));
        survives(() => {
          const ret = bridge.bpf(command.cmd, attr, ...pairs);
          if (ret > 0 && (command.cmd === BpfCmd.ProgLoad)) bridge.close(ret);
        });
        checkGuards(guards, `bpf(${command.cmd})`);
      },
    ));
    run('bpfPrepare/bpfRun with hostile buffers and flags', fc.property(
      fc.constantFrom(BpfCmd.MapLookupElem, BpfCmd.MapUpdateElem, BpfCmd.MapGetNextKey, BpfCmd.MapDeleteElem, BpfCmd.MapLookupAndDeleteElem),
      fc.integer({ min: 1, max: 64 }), fc.nat(64), fc.nat(64), hostileValue,
      (cmd, scratchSize, keyLength, valueLength, flags) => {
        const scratch = bridge.scratch(scratchSize + 16);
        const attr = new Uint8Array(32);
        new DataView(attr.buffer).setUint32(0, map.fd, true);
        survives(() => {
          const p = bridge.bpfPrepare(cmd, attr, 8, new Uint8Array(scratch, 0, Math.min(keyLength, scratchSize)), 16, new Uint8Array(scratch, 0, Math.min(valueLength, scratchSize)));
          if (typeof p === 'number') return;
          try {
            bridge.bpfRun(p, flags as number);
          } finally {
            bridge.bpfRelease(p);
          }
        });
      },
    ));
    const [readEnd, writeEnd] = pipeFds();
    run('ioctl, perfEventOpen and mmap with hostile sizes', fc.property(
      fc.constantFrom(0x541b, 0x5411, 0x2400, 0x80082407, 0x40082404, 0x4008240b, 0xc008240a, 0x80001234, 0x40ff1234),
      bufferSpec, fc.nat(0xffffffff), hostileValue, hostileValue,
      (request, spec, attrSize, length, offset) => {
        const guards: Guarded[] = [];
        const arg = buffer(spec, guards);
        if (spec.kind !== 'detached' && spec.size >= 8) new DataView(arg.buffer, arg.byteOffset, spec.size).setUint32(4, attrSize % 3 === 0 ? attrSize % 256 : attrSize, true);
        survives(() => bridge.ioctl(readEnd, request, arg));
        survives(() => bridge.ioctl(readEnd, request, spec.size));
        survives(() => bridge.perfEventOpen(arg, -1, -1, -1, 0)); // pid -1 with cpu -1: EINVAL after reading attr
        survives(() => {
          const mapping = bridge.mmap(fileFd, length as number, 1, 1, offset as number);
          if (typeof mapping !== 'number') {
            void new Uint8Array(mapping).reduce((a, b) => a + b, 0); // touching every page: no SIGBUS
            bridge.munmap(mapping);
          }
        });
        checkGuards(guards, 'ioctl/perf/mmap');
      },
    ));
    closeSync(readEnd);
    closeSync(writeEnd);
  } finally {
    closeSync(fileFd);
    rmSync(dir, { recursive: true, force: true });
  }
  if (openFds() !== fdsBefore) throw new Error(`fds leaked: ${fdsBefore} before, ${openFds()} after`);
  map.close();
  program.close();
}

function pipeFds(): [number, number] {
  // Two fds of one FIFO (opened read-write, so neither open blocks): FIONREAD answers on it.
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-fifo-'));
  const path = join(dir, 'fifo');
  try {
    execFileSync('mkfifo', [path]); // Node has no mkfifo
    const read = openSync(path, 'r+');
    const write = openSync(path, 'r+');
    return [read, write];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const groups: Record<string, () => void> = { maps: mapsGroup, fds: fdsGroup, programs: programsGroup, bridge: bridgeGroup };
const body = groups[group];
if (body === undefined) throw new Error(`unknown group ${group}`);
body();
console.log('done');
