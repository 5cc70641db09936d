// The core's ring framing through the readers' ring logic, on synthetic rings (any OS): records at
// every offset of the ring, wrapping its end, from 1 byte to nearly the ring's size; lost records;
// unknown types; torn producer positions; malformed records; zero-copy views detached after a wakeup's
// reads (or when the data area is used up), never showing another record's bytes; ring positions
// exact past 2^53 and across the u64's wrap.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Framer, RECORD_LOST, type FrameResult } from '../../src/events/framer.js';
import { BpfRing, PerfRing, RingCursor } from '../../src/events/rings.js';
import { payload, plainWords, SyntheticBpfRing, SyntheticPerfRing } from './synthetic-rings.js';

interface Read {
  samples: Uint8Array[];
  lost: number[];
  unknown: number;
  discarded: number;
  incomplete: boolean;
}

/** Takes each frame's records, and checks that the core's packed index holds its samples in order. */
function collect(framer: Framer, into: Read): (result: FrameResult) => boolean {
  return (result) => {
    into.unknown += result.unknown;
    into.discarded += result.discarded;
    into.incomplete ||= result.incomplete;
    const half = result.count >> 1;
    let samples = 0;
    for (let i = 0; i < result.count; i++) {
      if (i === half) assert.is(framer.samplesBefore(i), samples, `samples before record ${i}`);
      if (framer.kind(i) === RECORD_LOST) {
        into.lost.push(framer.lost(i));
        continue;
      }
      const copy = framer.copy(i);
      into.samples.push(copy);
      assert.equal(Array.from(framer.packedView(samples)), Array.from(copy), `packed sample ${samples} is record ${i}`);
      samples++;
    }
    assert.is(result.samples, samples, 'samples in the packed index');
    assert.is(framer.samplesBefore(result.count), samples);
    return true;
  };
}

function readPerf(ring: PerfRing, framer: Framer): Read {
  const out: Read = { samples: [], lost: [], unknown: 0, discarded: 0, incomplete: false };
  ring.read(framer, collect(framer, out), 'test ring');
  return out;
}

function readBpf(ring: BpfRing, framer: Framer): Read {
  const out: Read = { samples: [], lost: [], unknown: 0, discarded: 0, incomplete: false };
  ring.read(framer, collect(framer, out), 'test ring');
  return out;
}

function samePrefix(got: Uint8Array, want: Uint8Array, label: string): void {
  assert.ok(got.length >= want.length && got.length - want.length < 8, `${label}: ${got.length} bytes for ${want.length}`);
  assert.equal(Array.from(got.subarray(0, want.length)), Array.from(want), label);
  assert.ok(got.subarray(want.length).every((b) => b === 0), `${label}: padding is zeros`);
}

const PERF_SIZE = 256;
const U64 = (1n << 64n) - 1n;

/**
 * Where the synthetic rings' positions start counting (multiples of every ring size here): 0, 2^20
 * before 2^53 and 2^20 before 2^64. A test starting its ring shortly before base + 2^20 crosses
 * 2^53 (past which a number is no longer exact) or the u64's wrap to 0 (as the kernel's arithmetic
 * wraps).
 */
const BASES = [0n, 2n ** 53n - 2n ** 20n, 2n ** 64n - 2n ** 20n];

test('perf: a sample at every 8-byte offset of the ring, 1 byte to nearly the ring size, wrapping its end', () => {
  const framer = new Framer(PERF_SIZE);
  for (let start = 0; start < PERF_SIZE * 2; start += 8) {
    for (const n of [1, 3, 4, 5, 8, 13, 64, 100, PERF_SIZE / 2, PERF_SIZE - 12]) {
      const synthetic = new SyntheticPerfRing(PERF_SIZE, start);
      const ring = new PerfRing(synthetic.meta, synthetic.data, plainWords, 'test ring');
      const want = payload(n, start + n);
      synthetic.sample(want);
      synthetic.publish();
      const got = readPerf(ring, framer);
      assert.is(got.samples.length, 1, `start ${start} size ${n}`);
      samePrefix(got.samples[0]!, want, `start ${start} size ${n}`);
      assert.is(synthetic.tail, synthetic.head, 'data_tail written back to data_head');
    }
  }
});

test('perf: many records in one read keep their order across the wrap, and the ring is reused (positions past 2^53, across 2^64)', () => {
  for (const base of BASES) {
    const framer = new Framer(PERF_SIZE);
    // 50 rounds move ~40 rings on: start 25 rings before base + 2^20, so the positions cross it.
    const synthetic = new SyntheticPerfRing(PERF_SIZE, 2 ** 20 - 25 * PERF_SIZE + 40, base);
    const ring = new PerfRing(synthetic.meta, synthetic.data, plainWords, 'test ring');
    let seq = 0;
    for (let round = 0; round < 50; round++) {
      const wanted: Uint8Array[] = [];
      while (synthetic.head - synthetic.tail + 40 <= PERF_SIZE) {
        const want = payload(1 + (seq % 23), seq++);
        wanted.push(want);
        synthetic.sample(want);
      }
      synthetic.publish();
      const got = readPerf(ring, framer);
      assert.is(got.samples.length, wanted.length);
      got.samples.forEach((s, i) => samePrefix(s, wanted[i]!, `base ${base} round ${round} record ${i}`));
      assert.is(synthetic.tail, synthetic.head, `base ${base} round ${round}: data_tail written back exactly`);
    }
    assert.ok(synthetic.head > 2 ** 20, 'crossed base + 2^20');
  }
});

test('perf: PERF_RECORD_LOST becomes a lost notice in order, other types are counted and skipped', () => {
  const framer = new Framer(PERF_SIZE);
  const synthetic = new SyntheticPerfRing(PERF_SIZE, 200);
  const ring = new PerfRing(synthetic.meta, synthetic.data, plainWords, 'test ring');
  synthetic.sample(payload(5, 1));
  synthetic.lost(7n);
  synthetic.record(14, new Uint8Array(16)); // PERF_RECORD_THROTTLE-like: unknown here
  synthetic.record(99, new Uint8Array(3));
  synthetic.sample(payload(9, 2));
  synthetic.publish();
  const got = readPerf(ring, framer);
  assert.is(got.samples.length, 2);
  assert.equal(got.lost, [7]);
  assert.is(got.unknown, 2);
  assert.is(synthetic.tail, synthetic.head);
});

test('perf: a data_head torn inside a record hands over only the whole records before it', () => {
  const framer = new Framer(PERF_SIZE);
  const synthetic = new SyntheticPerfRing(PERF_SIZE, 232);
  const ring = new PerfRing(synthetic.meta, synthetic.data, plainWords, 'test ring');
  synthetic.sample(payload(10, 1));
  const second = synthetic.head;
  synthetic.sample(payload(30, 2));
  for (let torn = second + 1; torn < synthetic.head; torn++) {
    synthetic.publish(torn);
    const got = readPerf(ring, framer);
    assert.is(got.samples.length, torn === second + 1 ? 1 : 0, `head at ${torn}`);
    assert.ok(got.incomplete, `head at ${torn}: the cut record is left`);
    assert.is(synthetic.tail, second);
  }
  synthetic.publish();
  const got = readPerf(ring, framer);
  assert.is(got.samples.length, 1);
  samePrefix(got.samples[0]!, payload(30, 2), 'second record');
});

test('perf: a data_head behind the tail or more than a ring ahead is an error naming the ring', () => {
  const framer = new Framer(PERF_SIZE);
  const synthetic = new SyntheticPerfRing(PERF_SIZE, 64);
  const ring = new PerfRing(synthetic.meta, synthetic.data, plainWords, 'test ring');
  synthetic.publish(64 + PERF_SIZE + 8);
  assert.throws(() => readPerf(ring, framer), /test ring: data_head 328 is 264 bytes from data_tail 64, outside \[0, 256\]: a torn or corrupt producer position/);
  synthetic.publish(8);
  assert.throws(() => readPerf(ring, framer), /test ring: data_head 8 is -56 bytes from data_tail 64/);
  // The message names the u64s exactly, here across the wrap (the tail 192 bytes before 2^64).
  const wrapping = new SyntheticPerfRing(PERF_SIZE, 64, 2n ** 64n - 256n);
  wrapping.publish(64 + PERF_SIZE + 8);
  const tail = new PerfRing(wrapping.meta, wrapping.data, plainWords, 'test ring');
  assert.throws(() => readPerf(tail, framer), /test ring: data_head 72 is 264 bytes from data_tail 18446744073709551424, outside/);
  // A head 2^32 bytes ahead (only its high half differs) is as far as it looks.
  wrapping.publish(64 + 2 ** 32);
  assert.throws(() => readPerf(tail, framer), /is 4294967296 bytes from data_tail/);
});

test('perf: a record smaller than its header or a raw size past its record is refused', () => {
  const framer = new Framer(PERF_SIZE);
  const synthetic = new SyntheticPerfRing(PERF_SIZE, 0);
  const ring = new PerfRing(synthetic.meta, synthetic.data, plainWords, 'test ring');
  new DataView(synthetic.data.buffer).setUint16(6, 4, true);
  synthetic.publish(8);
  assert.throws(() => readPerf(ring, framer), /test ring: perf ring: record at position 0 has size 4, smaller than its header/);
  const bad = new SyntheticPerfRing(PERF_SIZE, 0);
  bad.sample(payload(8, 0));
  new DataView(bad.data.buffer).setUint32(8, 100, true);
  bad.publish();
  assert.throws(() => readPerf(new PerfRing(bad.meta, bad.data, plainWords, 'test ring'), framer), /PERF_RECORD_SAMPLE at position 0: raw size does not fit its 24-byte record/);
});

const BPF_SIZE = 256;

test('ringbuf: a record at every 8-byte offset, 1 byte to nearly the ring size, wrapping its end', () => {
  const framer = new Framer(BPF_SIZE);
  for (let start = 0; start < BPF_SIZE * 2; start += 8) {
    for (const n of [1, 2, 7, 8, 9, 31, 100, BPF_SIZE / 2, BPF_SIZE - 8]) {
      const synthetic = new SyntheticBpfRing(BPF_SIZE, start);
      const ring = new BpfRing(synthetic.consumer, synthetic.producer, synthetic.data, plainWords, 'test ring');
      const want = payload(n, start + n);
      synthetic.record(want);
      synthetic.publish();
      const got = readBpf(ring, framer);
      assert.is(got.samples.length, 1, `start ${start} size ${n}`);
      assert.equal(Array.from(got.samples[0]!), Array.from(want), `start ${start} size ${n}`);
      assert.is(synthetic.consumerPos, synthetic.position, 'consumer_pos written back');
    }
  }
});

test('ringbuf: the kernel\'s double mapping (the data twice in a row) frames a wrapping range as one part', () => {
  const framer = new Framer(BPF_SIZE);
  for (let start = 0; start < BPF_SIZE * 2; start += 8) {
    for (const n of [1, 9, 100, BPF_SIZE / 2, BPF_SIZE - 16]) {
      const synthetic = new SyntheticBpfRing(BPF_SIZE, start);
      const total = (8 + n + 7) & ~7;
      const wrapped = (start % BPF_SIZE) + total - BPF_SIZE; // bytes of the record past the ring's end
      const want = [payload(n, start)];
      if (wrapped <= 0 && total + 16 <= BPF_SIZE) want.push(payload(4, start + 1)); // a second one when it fits
      for (const p of want) synthetic.record(p);
      synthetic.publish();
      const twice = new Uint8Array(2 * BPF_SIZE);
      twice.set(synthetic.data);
      twice.set(synthetic.data, BPF_SIZE);
      // Spoil the wrapped part's first copy: only a read of the second copy gets the record right.
      if (wrapped > 0) twice.fill(0xee, 0, wrapped);
      const ring = new BpfRing(synthetic.consumer, synthetic.producer, twice, plainWords, 'test ring', true);
      assert.is(ring.size, BPF_SIZE);
      const got = readBpf(ring, framer);
      assert.equal(got.samples.map((s) => Array.from(s)), want.map((w) => Array.from(w)), `start ${start} size ${n}`);
      assert.is(synthetic.consumerPos, synthetic.position, 'consumer_pos written back');
    }
  }
});

test('ringbuf: a busy record holds back the ones after it until committed; discarded ones are skipped', () => {
  const framer = new Framer(BPF_SIZE);
  const synthetic = new SyntheticBpfRing(BPF_SIZE, 216);
  const ring = new BpfRing(synthetic.consumer, synthetic.producer, synthetic.data, plainWords, 'test ring');
  synthetic.record(payload(3, 1));
  const busy = synthetic.record(payload(20, 2), 'busy');
  synthetic.record(payload(4, 3), 'discard');
  synthetic.record(payload(5, 4));
  synthetic.publish();
  let got = readBpf(ring, framer);
  assert.is(got.samples.length, 1);
  assert.is(synthetic.consumerPos, busy, 'consumer_pos stops at the busy record');
  got = readBpf(ring, framer);
  assert.is(got.samples.length, 0, 'still busy');
  synthetic.commit(busy);
  got = readBpf(ring, framer);
  assert.equal(got.samples.map((s) => Array.from(s)), [Array.from(payload(20, 2)), Array.from(payload(5, 4))]);
  assert.is(got.discarded, 1);
  assert.is(synthetic.consumerPos, synthetic.position);
});

test('ringbuf: a producer_pos torn inside a record hands over only the records before it', () => {
  const framer = new Framer(BPF_SIZE);
  const synthetic = new SyntheticBpfRing(BPF_SIZE, 0);
  const ring = new BpfRing(synthetic.consumer, synthetic.producer, synthetic.data, plainWords, 'test ring');
  synthetic.record(payload(12, 1));
  const second = synthetic.position;
  synthetic.record(payload(40, 2));
  for (let torn = second + 1; torn < synthetic.position; torn++) {
    synthetic.publish(torn);
    const got = readBpf(ring, framer);
    assert.is(got.samples.length, torn === second + 1 ? 1 : 0);
    assert.is(synthetic.consumerPos, second);
  }
  synthetic.publish(synthetic.position + BPF_SIZE);
  assert.throws(() => readBpf(ring, framer), /test ring: producer_pos .* outside \[0, 256\]: a torn or corrupt producer position/);
  synthetic.publish();
  assert.is(readBpf(ring, framer).samples.length, 1);
});

test('ringbuf: many records of every size in one read, in order, ring reused many times over (positions past 2^53, across 2^64)', () => {
  for (const base of BASES) {
    const framer = new Framer(BPF_SIZE);
    // 100 rounds move ~100 rings on: start 50 rings before base + 2^20, so the positions cross it.
    const synthetic = new SyntheticBpfRing(BPF_SIZE, 2 ** 20 - 50 * BPF_SIZE, base);
    const ring = new BpfRing(synthetic.consumer, synthetic.producer, synthetic.data, plainWords, 'test ring');
    let seq = 0;
    for (let round = 0; round < 100; round++) {
      const wanted: Uint8Array[] = [];
      for (;;) {
        const want = payload(1 + ((seq * 7) % 61), seq);
        if (synthetic.position - synthetic.consumerPos + ((8 + want.length + 7) & ~7) > BPF_SIZE) break;
        synthetic.record(want);
        wanted.push(want);
        seq++;
      }
      synthetic.publish();
      const got = readBpf(ring, framer);
      assert.equal(got.samples.map((s) => Array.from(s)), wanted.map((w) => Array.from(w)), `base ${base} round ${round}`);
      assert.is(synthetic.consumerPos, synthetic.position, `base ${base} round ${round}: consumer_pos written back exactly`);
    }
    assert.ok(synthetic.position > 2 ** 20, 'crossed base + 2^20');
  }
});

test('ringbuf: a large read gives space back every 16 KB as it copies, and what it gave back can be overwritten at once', () => {
  // 256 KB of records, starting near the end so they wrap: 100-byte ones (one frame), 8-byte ones
  // (16384 records: four frames of 4096).
  // Also with the positions crossing 2^53 and 2^64 (BASES: they start 1000 bytes before base + 2^20).
  const size = 256 * 1024;
  for (const [length, base] of [100, 8].flatMap((n) => BASES.map((b) => [n, b] as const))) {
    const total = (8 + length + 7) & ~7;
    const framer = new Framer(size);
    const synthetic = new SyntheticBpfRing(size, 2 ** 20 - 1000, base);
    const start = synthetic.consumerPos;
    const releases: number[] = [];
    // A producer racing the reader: each time space comes back, it scribbles over all of it.
    const words = {
      storeReleaseU64(buffer: ArrayBuffer, offset: number, value: number | bigint): void {
        const before = synthetic.consumerPos;
        plainWords.storeReleaseU64(buffer, offset, value);
        const at = Number((BigInt(value) - base) & U64);
        assert.ok(typeof value === 'number' ? value < 2 ** 53 : value >= 2n ** 53n, `${value}: a number below 2^53, a bigint past it`);
        releases.push(at);
        for (let p = before; p < at; p++) synthetic.data[p % size] = 0xee;
      },
    };
    const ring = new BpfRing(synthetic.consumer, synthetic.producer, synthetic.data, words, 'test ring');
    const wanted: Uint8Array[] = [];
    for (let seq = 0; synthetic.position - start + total <= size; seq++) {
      const want = payload(length, seq);
      synthetic.record(want);
      wanted.push(want);
    }
    synthetic.publish();
    const got = readBpf(ring, framer);
    assert.is(got.samples.length, wanted.length, `${length}-byte records`);
    got.samples.forEach((sample, i) => samePrefix(sample, wanted[i]!, `${length}-byte record ${i}`));
    assert.is(synthetic.consumerPos, synthetic.position);
    // Given back at record boundaries, every 16 KB (rounded up to a record), the rest of a frame at its end.
    const every = Math.ceil((16 * 1024) / total) * total;
    const frame = framer.maxRecords * total;
    assert.is(releases.length, length === 100 ? Math.ceil((synthetic.position - start) / every) : 16, `${length}-byte records: releases`);
    releases.forEach((at, i) => {
      const step = at - (i === 0 ? start : releases[i - 1]!);
      assert.ok((at - start) % total === 0 && step > 0 && step <= Math.min(every, frame), `${length}-byte records: release ${i} at ${at - start}, ${step} bytes`);
    });
  }
});

test('zero-copy views are detached once the framer is invalidated; copies stay', () => {
  const framer = new Framer(BPF_SIZE);
  const synthetic = new SyntheticBpfRing(BPF_SIZE, 0);
  const ring = new BpfRing(synthetic.consumer, synthetic.producer, synthetic.data, plainWords, 'test ring');
  synthetic.record(payload(16, 9));
  synthetic.publish();
  let view: Uint8Array | undefined;
  let copy: Uint8Array | undefined;
  ring.read(framer, () => {
    view = framer.view(0);
    copy = framer.copy(0);
    return true;
  }, 'test ring');
  assert.equal(Array.from(view!), Array.from(payload(16, 9)));
  framer.invalidate();
  assert.is(view!.length, 0, 'the view is detached');
  assert.throws(() => view!.slice(), TypeError);
  assert.equal(Array.from(copy!), Array.from(payload(16, 9)));
});

test('chunks framed while views are out go after them: each view shows its own record until the area is used up, then all are detached', () => {
  const framer = new Framer(BPF_SIZE);
  const synthetic = new SyntheticBpfRing(BPF_SIZE, 0);
  const ring = new BpfRing(synthetic.consumer, synthetic.producer, synthetic.data, plainWords, 'test ring');
  // 48-byte records, 56 bytes with their header: the data area (the ring and as much spare, 512 bytes)
  // holds nine chunks of one.
  const big = (seed: number): Uint8Array => payload(48, seed);
  const kept: Array<{ view: Uint8Array; seed: number }> = [];
  for (let seed = 1; seed <= 12; seed++) {
    synthetic.record(big(seed));
    synthetic.publish();
    ring.read(framer, (result) => {
      for (let i = 0; i < result.count; i++) kept.push({ view: framer.view(i), seed });
      return true;
    }, 'test ring');
    for (const { view, seed: own } of kept) {
      if (view.length !== 0) assert.equal(Array.from(view.subarray(0, 8)), Array.from(big(own).subarray(0, 8)), `record ${own} seen after ${seed}`);
    }
    if (seed === 9) assert.ok(kept.every(({ view }) => view.length !== 0), 'nine chunks fit the area: all still attached');
    if (seed === 10) assert.ok(kept.slice(0, 9).every(({ view }) => view.length === 0), 'the tenth did not: the earlier views were detached first');
  }
  framer.invalidate();
  assert.ok(kept.every(({ view }) => view.length === 0));
});

test('a ring whose size is not a power of two, or more than 2^31 bytes, is refused', () => {
  assert.throws(() => new PerfRing(new ArrayBuffer(4096), new Uint8Array(100), plainWords, 'odd ring'), /odd ring: ring data size 100 is not a power of two/);
  // Virtual memory only: nothing of it is touched.
  assert.throws(() => new PerfRing(new ArrayBuffer(4096), new Uint8Array(2 ** 32), plainWords, 'huge ring'), /huge ring: ring data size 4294967296 is more than 2147483648 bytes/);
});

/** A u64 word holding `value`, as the readers see a ring's position. */
function u64Word(value: bigint): Uint32Array {
  const words = new Uint32Array(2);
  new DataView(words.buffer).setBigUint64(0, value & U64, true);
  return words;
}

test('RingCursor: positions are exact at any u64 (numbers below 2^53, bigints past it), its base moves past 2^52, distances across it', () => {
  for (const start of [0n, 12345n, 2n ** 32n - 8n, 2n ** 52n - 8n, 2n ** 53n - 8n, 2n ** 63n + 5n, 2n ** 64n - 8n]) {
    const cursor = new RingCursor(u64Word(start), 0);
    let want = start;
    // Steps as a read's (small) and as 2^51 bytes at once, which only a unit test can take: the
    // cursor's base moves as it passes 2^52 bytes from it.
    for (const step of [0, 8, 4096, 2 ** 31, 2 ** 51, 2 ** 51, 24, 2 ** 51, 2 ** 32 - 8, 2 ** 51]) {
      cursor.advance(step);
      want = (want + BigInt(step)) & U64;
      const got = cursor.position();
      assert.is(typeof got, want < 2n ** 53n ? 'number' : 'bigint', `${start} + ${step}: ${got}`);
      assert.is(BigInt(got), want, `${start}: position after a ${step}-byte step`);
      assert.is(BigInt(cursor.position(100)), (want + 100n) & U64);
      assert.ok(cursor.at >= 0 && cursor.at < 2 ** 52 + 2 ** 51, `at ${cursor.at} stays below 2^52 plus a step`);
      for (const distance of [0, 8, 2 ** 31, 2 ** 32 + 8, -8, -(2 ** 32)]) {
        assert.is(cursor.distanceTo(u64Word(want + BigInt(distance)), 0), distance, `${want} to ${distance} bytes on`);
      }
      assert.ok(cursor.distanceTo(u64Word(want + 2n ** 62n), 0) > 2 ** 52, 'a corrupt word far ahead reads as far');
    }
  }
});

test.run();
