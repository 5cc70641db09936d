// Unit tests of key/value encoding and host helpers; the cases are goebpf's own (utils_test.go).
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createLpmTrieKey,
  keyValueToBytes,
  nullTerminatedStringToString,
  parseFlexibleIntegerLittleEndian,
  sumFlexibleIntegers,
  type KeyValue,
} from '../../src/map/keyvalue.js';
import { getNumOfPossibleCpus, ktimeToDate, ktimeToTime, parseNumOfPossibleCpus } from '../../src/map/host.js';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

test('parseNumOfPossibleCpus: goebpf cases and ranges', () => {
  const ok: Array<[string, number]> = [
    ['0', 1], ['0-0', 1], ['0-1', 2], ['0-14', 15], ['0-1\r\n', 2],
    ['0-3,5', 5], ['0,2-3\n', 3], ['0-1,1', 2],
  ];
  for (const [text, n] of ok) assert.is(parseNumOfPossibleCpus(text), n, JSON.stringify(text));
  for (const text of ['', '1', '1-1', '1-', '-1', '\r\n', '0-', '3-1', '0,,1', 'x']) {
    assert.throws(() => parseNumOfPossibleCpus(text), /invalid CPU list/, JSON.stringify(text));
  }
});

test('getNumOfPossibleCpus reads /sys/devices/system/cpu/possible', () => {
  const n = getNumOfPossibleCpus();
  assert.ok(Number.isInteger(n) && n >= 1);
  assert.is(getNumOfPossibleCpus(), n);
});

test('nullTerminatedStringToString: goebpf cases', () => {
  assert.is(nullTerminatedStringToString(bytes(0x61, 0x62, 0x63)), 'abc');
  assert.is(nullTerminatedStringToString(bytes(0x64, 0x65, 0x66, 0, 0x67)), 'def');
  assert.is(nullTerminatedStringToString(bytes(0, 0x68)), '');
  assert.is(nullTerminatedStringToString(bytes(0)), '');
});

test('keyValueToBytes: goebpf positive cases', () => {
  const u = (s: string): Uint8Array => new TextEncoder().encode(s);
  const runs: Array<[KeyValue, number, Uint8Array]> = [
    [0x0, 0, bytes()],
    [0xff, 1, bytes(0xff)],
    [0xff00, 2, bytes(0, 0xff)],
    [0x7ffefdfc, 4, bytes(0xfc, 0xfd, 0xfe, 0x7f)],
    [0x7fffffff, 4, bytes(0xff, 0xff, 0xff, 0x7f)],
    [0x7fffffffffffffffn, 8, bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)],
    [0x7f, 1, bytes(0x7f)],
    [0x7f, 2, bytes(0x7f, 0)],
    [0x7f, 4, bytes(0x7f, 0, 0, 0)],
    [0x7f, 8, bytes(0x7f, 0, 0, 0, 0, 0, 0, 0)],
    [-1, 8, bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)],
    [-100, 8, bytes(0x9c, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)],
    [-1n, 8, bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)],
    [0, 1, bytes(0)],
    [1, 2, bytes(1, 0)],
    [0xffff, 8, bytes(0xff, 0xff, 0, 0, 0, 0, 0, 0)],
    [0xffffff, 4, bytes(0xff, 0xff, 0xff, 0)],
    [0xffffffff, 4, bytes(0xff, 0xff, 0xff, 0xff)],
    [0xffffffff, 8, bytes(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0)],
    [0x100000000, 8, bytes(0, 0, 0, 0, 1, 0, 0, 0)],
    [0n, 8, bytes(0, 0, 0, 0, 0, 0, 0, 0)],
    [0xffffffffn, 8, bytes(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0)],
    [0xffffffffffffffffn, 8, bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)],
    ['', 0, bytes()],
    ['', 1, bytes(0)],
    ['a', 1, u('a')],
    ['b', 4, bytes(0x62, 0, 0, 0)],
    ['bc', 4, bytes(0x62, 0x63, 0, 0)],
    ['aaaa', 4, u('aaaa')],
    [bytes(), 0, bytes()],
    [bytes(), 1, bytes(0)],
    [u('a'), 1, u('a')],
    [bytes(0x62, 0, 0, 0), 4, bytes(0x62, 0, 0, 0)],
    [Buffer.from([1, 2]), 2, bytes(1, 2)],
    [{ fd: 7 }, 4, bytes(7, 0, 0, 0)],
    [createLpmTrieKey('192.168.1.0/24'), 8, bytes(0x18, 0, 0, 0, 0xc0, 0xa8, 0x01, 0)],
    [createLpmTrieKey('192.168.1.55/24'), 8, bytes(0x18, 0, 0, 0, 0xc0, 0xa8, 0x01, 0)],
    [createLpmTrieKey('192.168.1.1'), 8, bytes(0x20, 0, 0, 0, 0xc0, 0xa8, 0x01, 0x01)],
    [createLpmTrieKey('0.0.0.0/0'), 8, bytes(0, 0, 0, 0, 0, 0, 0, 0)],
    [createLpmTrieKey('::/0'), 20, new Uint8Array(20)],
    [createLpmTrieKey('::1/64'), 20, bytes(0x40, 0, 0, 0, ...new Array<number>(16).fill(0))],
    [createLpmTrieKey('FE80::8329'), 20,
      bytes(0x80, 0, 0, 0, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x83, 0x29)],
    [createLpmTrieKey('::ffff:10.0.0.1'), 20,
      bytes(0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1)],
  ];
  for (const [value, size, expected] of runs) {
    assert.equal(keyValueToBytes(value, size), expected, `${String(value)} in ${size} bytes`);
  }
});

test('keyValueToBytes: CIDR strings are LPM keys only for LPM tries', () => {
  assert.equal(keyValueToBytes('10.1.0.0/16', 8, { lpm: true }), bytes(16, 0, 0, 0, 10, 1, 0, 0));
  assert.equal(keyValueToBytes('10.1', 4), new TextEncoder().encode('10.1'));
});

test('keyValueToBytes: goebpf negative cases are TypeErrors naming map and sizes', () => {
  const runs: Array<[KeyValue, number]> = [
    [0x1ff, 1], [0x10ffff, 2], [0x10ffffffff, 4], [-1, 4],
    [1n << 64n, 8], [1, 0], [1n, 0], ['1', 0], ['1dasdasdsa', 3],
    [bytes(0x61), 0], [bytes(0x61, 0, 1, 2, 3), 3],
    [createLpmTrieKey('::1'), 8],
  ];
  for (const [value, size] of runs) {
    assert.throws(() => keyValueToBytes(value, size), (e: unknown) => e instanceof TypeError, `${String(value)} in ${size}`);
  }
  try {
    keyValueToBytes(0x1ff, 1, { map: 'counters', what: 'key' });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, TypeError);
    assert.is((e as Error).message, 'map \'counters\': key 511 needs 2 bytes but the key size is 1');
  }
  assert.throws(() => keyValueToBytes(1.5, 4), /not an integer/);
  assert.throws(() => keyValueToBytes([1] as unknown as KeyValue, 4), /type Array is not supported/);
  assert.throws(() => keyValueToBytes({ fd: -1 }, 4), /fd is -1/);
});

test('createLpmTrieKey rejects what is not an address or a prefix', () => {
  for (const bad of ['', '1.2.3', '1.2.3.4/33', '256.0.0.1', '01.2.3.4', '::1/129', '1::2::3', 'fe80::1%eth0', 'x/8', '1.2.3.4/']) {
    assert.throws(() => createLpmTrieKey(bad), (e: unknown) => e instanceof TypeError, bad);
  }
  assert.is(createLpmTrieKey('10.20.30.40/12').toString(), '10.16.0.0/12');
});

test('parseFlexibleIntegerLittleEndian: goebpf cases', () => {
  const runs: Array<[Uint8Array, bigint]> = [
    [bytes(0xff), 0xffn],
    [bytes(0, 0xff), 0xff00n],
    [bytes(0xe8, 0x3), 1000n],
    [bytes(0xfc, 0xfd, 0xfe, 0x7f), 0x7ffefdfcn],
    [bytes(0xff, 0xff, 0xff, 0x7f), 0x7fffffffn],
    [bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), 0x7fffffffffffffffn],
    [bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 0xffffffffffffffffn],
    [bytes(0x7f, 0, 0, 0), 0x7fn],
    [bytes(0x7f, 0, 0, 0, 0, 0, 0, 0), 0x7fn],
  ];
  for (const [raw, expected] of runs) assert.is(parseFlexibleIntegerLittleEndian(raw), expected);
});

test('sumFlexibleIntegers: per-CPU sums (goebpf cases, laid out with the kernel 8-byte stride)', () => {
  // goebpf's TestParseFlexibleMultiInteger packs values back to back; the kernel pads each CPU's
  // value to 8 bytes, so the same numbers are laid out with that stride here.
  const perCpu = (valueSize: number, values: number[][]): Uint8Array => {
    const out = new Uint8Array(values.length * 8);
    values.forEach((v, i) => out.set(v.slice(0, valueSize), i * 8));
    return out;
  };
  assert.is(sumFlexibleIntegers(perCpu(1, [[255]]), 1, 8), 255n);
  assert.is(sumFlexibleIntegers(perCpu(1, [[255], [1], [2]]), 1, 8), 258n);
  assert.is(sumFlexibleIntegers(perCpu(2, [[0xe8, 0x3], [0x1, 0]]), 2, 8), 1001n);
  assert.is(sumFlexibleIntegers(perCpu(4, [[0xa0, 0x86, 0x01, 0]]), 4, 8), 100000n);
  assert.is(sumFlexibleIntegers(perCpu(4, [[0xa0, 0x86, 0x01, 0], [1, 0, 0, 0]]), 4, 8), 100001n);
  assert.is(sumFlexibleIntegers(bytes(0, 0, 0, 0, 1, 0, 0, 0), 8, 8), 0x100000000n);
  assert.is(sumFlexibleIntegers(bytes(0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0), 8, 8), 0x100000001n);
});

test('ktimeToTime / ktimeToDate: a monotonic stamp of now is now', () => {
  const before = Date.now();
  const date = ktimeToDate(process.hrtime.bigint());
  const after = Date.now();
  assert.ok(date.getTime() >= before - 2 && date.getTime() <= after + 2, `${date.getTime()} vs ${before}..${after}`);
  const ns = ktimeToTime(process.hrtime.bigint() - 5_000_000_000n);
  assert.ok(Math.abs(Number(ns / 1_000_000n) - (Date.now() - 5000)) < 20);
  const boot = ktimeToDate(0, 'boottime');
  const uptimeS = Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
  assert.ok(Math.abs(boot.getTime() - (Date.now() - uptimeS * 1000)) < 1000, `boot ${boot.toISOString()}`);
});

test.run();
