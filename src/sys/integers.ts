// The one integer-argument check of the public API: every number a caller gives that ends up in a
// bpf_attr (or decides a size or a count) passes through here first. A number that is not an integer
// (NaN, 1.5, Infinity, a string) is a TypeError; an integer outside its field's range is a
// RangeError. Nothing is wrapped (-1 → 0xffffffff), truncated (1.5 → 1) or zeroed (NaN → 0), as a
// DataView or a Uint32Array store would do silently. No `node:` import: the mocks use it too.

export const U32_MAX = 0xffffffff;
export const U64_MAX = (1n << 64n) - 1n;

function shown(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

/** `value` as an integer in [min, max]; `what` names it in the error (`testRun: repeat`). */
export function integerArg(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${what} must be an integer, not ${shown(value)}`);
  if (value < min || value > max) throw new RangeError(`${what} ${value} is out of range [${min}, ${max}]`);
  return value;
}

/** A u32 field (`flags`, sizes, counts, fds, ids). */
export function u32Arg(value: unknown, what: string): number {
  return integerArg(value, what, 0, U32_MAX);
}

/** An optional u32 field: undefined stays undefined. */
export function optionalU32(value: unknown, what: string): number | undefined {
  return value === undefined ? undefined : u32Arg(value, what);
}

/** A u64 field as a bigint: a bigint in [0, 2^64 - 1], or a non-negative safe integer number. */
export function u64Arg(value: unknown, what: string): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n || value > U64_MAX) throw new RangeError(`${what} ${value}n is out of range [0, 2^64 - 1]`);
    return value;
  }
  return BigInt(integerArg(value, what, 0, Number.MAX_SAFE_INTEGER));
}

/**
 * Element flags (lookup/update/push/batch elem_flags): u64 in the kernel; numbers up to 2^53 - 1
 * here (BPF_F_CPU puts the CPU in the upper 32 bits, which a number holds exactly).
 */
export function elementFlagsArg(value: unknown, what: string): number {
  return integerArg(value, what, 0, Number.MAX_SAFE_INTEGER);
}

// The intrinsic byteLength getters, taken once: a view's own (or its subclass's) `byteLength` and
// `length` are properties anyone can redefine, and a size written into an attr must be the real one.
const typedArrayByteLength = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, 'byteLength')!.get!;
const dataViewByteLength = Object.getOwnPropertyDescriptor(DataView.prototype, 'byteLength')!.get!;

/** The real byte length of a TypedArray or DataView (0 once detached); TypeError for anything else. */
export function byteLengthOf(view: unknown, what: string): number {
  try {
    return typedArrayByteLength.call(view) as number;
  } catch {
    try {
      return dataViewByteLength.call(view) as number;
    } catch {
      throw new TypeError(`${what} must be a Uint8Array (or another TypedArray or DataView)`);
    }
  }
}

/**
 * Whether n is a power of two (1, 2, 4, ...) and a safe integer (anything else: false). `n & (n - 1)`
 * alone works on 32 bits, so 2^32 + 2^31 would pass it.
 */
export function isPowerOfTwo(n: number): boolean {
  if (!Number.isSafeInteger(n) || n < 1) return false;
  while (n > 0x40000000) {
    if (n % 2 !== 0) return false;
    n /= 2;
  }
  return (n & (n - 1)) === 0;
}

/** The least power of two not below n (1 for n ≤ 1). */
export function powerOfTwoAtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
