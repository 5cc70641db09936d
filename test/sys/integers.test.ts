// sys/integers.ts's power-of-two helpers, on the sizes the event readers and ring buffer maps check
// (ring bytes, perf pages, queue bytes), including those past 32 bits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isPowerOfTwo, powerOfTwoAtLeast } from '../../src/sys/integers.js';

test('isPowerOfTwo: every power of two a safe integer holds, and nothing else', () => {
  for (let k = 0; k <= 52; k++) {
    assert.ok(isPowerOfTwo(2 ** k), `2^${k}`);
    if (k >= 2) assert.not.ok(isPowerOfTwo(2 ** k + 2 ** (k - 1)), `2^${k} + 2^${k - 1}`);
    if (k >= 2) assert.not.ok(isPowerOfTwo(2 ** k - 1), `2^${k} - 1`);
  }
  // What `n & (n - 1)` on 32 bits lets through.
  assert.not.ok(isPowerOfTwo(2 ** 32 + 2 ** 31));
  assert.not.ok(isPowerOfTwo(2 ** 40 + 2 ** 33));
  for (const n of [0, -1, -4, 0.5, 1.5, 3, 6, 12, Number.NaN, Infinity, 2 ** 53, 2 ** 60]) assert.not.ok(isPowerOfTwo(n), String(n));
});

test('powerOfTwoAtLeast: the least power of two not below n', () => {
  assert.is(powerOfTwoAtLeast(0), 1);
  assert.is(powerOfTwoAtLeast(1), 1);
  assert.is(powerOfTwoAtLeast(3), 4);
  assert.is(powerOfTwoAtLeast(4096), 4096);
  assert.is(powerOfTwoAtLeast(4097), 8192);
  assert.is(powerOfTwoAtLeast(2 ** 32 + 1), 2 ** 33);
});

test.run();
