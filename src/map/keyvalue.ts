// Keys and values of eBPF maps as bytes, following goebpf's KeyValueToBytes rules:
// - number / bigint: a "flexible" little-endian integer: any value fits as long as its significant
//   bytes fit in `size` (0x1ff needs 2 bytes); negative numbers are 64-bit two's complement, so they
//   need 8 bytes, as in goebpf;
// - string: its UTF-8 bytes, zero-padded to `size`; longer is an error;
// - Uint8Array / Buffer: copied, zero-padded to `size`; longer is an error;
// - LpmTrieKey (createLpmTrieKey("10.0.0.0/8")): u32 prefix length (host order) then the address in
//   network order, the layout of the kernel's `struct bpf_lpm_trie_key`;
// - an object with a numeric `fd` (EbpfMap, Program): the fd, for map-in-map and prog arrays.
// Pure code: no `node:` import, usable in the browser.
import { describeMap, quoted } from '../sys/describe.js';

/** A key of an LPM trie: prefix length and network-order address, masked to the prefix. */
export class LpmTrieKey {
  constructor(
    readonly prefixLen: number,
    /** 4 bytes (IPv4) or 16 bytes (IPv6), network order. */
    readonly address: Uint8Array,
  ) {}

  toString(): string {
    return `${formatIp(this.address)}/${this.prefixLen}`;
  }
}

/** Anything holding a kernel object's file descriptor (EbpfMap, Program). */
export interface HasFd {
  readonly fd: number;
}

/** What a key or value may be given as (goebpf's KeyValueToBytes): integers, strings, bytes, LPM keys, or an fd holder. */
export type KeyValue = number | bigint | string | Uint8Array | LpmTrieKey | HasFd;

/** Where a key or value goes, for error messages: `map 'counters': key ...`. */
export interface KeyValueContext {
  map?: string;
  what?: 'key' | 'value';
  /** Strings are CIDR / IP addresses (the map is an LPM trie), not text. */
  lpm?: boolean;
}

const TWO_32 = 4294967296;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

function where(ctx: KeyValueContext | undefined): string {
  const what = ctx?.what ?? 'key/value';
  return ctx?.map !== undefined ? `${describeMap(ctx.map)}: ${what}` : what;
}

function tooLong(ctx: KeyValueContext | undefined, size: number, given: number, shown: string): TypeError {
  return new TypeError(`${where(ctx)} ${shown} needs ${given} bytes but the ${ctx?.what ?? 'key/value'} size is ${size}`);
}

/**
 * Writes `value` into `dst[offset .. offset+size)` (zero-filled first), without allocating for
 * numbers, bigints, byte arrays and fds. Throws a TypeError naming map, expected and given size.
 */
export function encodeKeyValue(dst: Uint8Array, offset: number, value: KeyValue, size: number, ctx?: KeyValueContext): void {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new TypeError(`${where(ctx)} ${value} is not an integer in ±2^53 (use a bigint for 64-bit values)`);
    }
    const lo = value >>> 0;
    const hi = Math.floor(value / TWO_32) >>> 0;
    const needed = value < 0 ? 8 : hi !== 0 ? 4 + byteLength32(hi) : byteLength32(lo);
    if (needed > size) throw tooLong(ctx, size, needed, String(value));
    dst.fill(0, offset, offset + size);
    writeU32Partial(dst, offset, lo, Math.min(size, 4));
    if (size > 4) writeU32Partial(dst, offset + 4, hi, Math.min(size - 4, 4));
    return;
  }
  if (typeof value === 'bigint') {
    let v = value;
    if (v < 0n) {
      if (v < -(1n << 63n)) throw new TypeError(`${where(ctx)} ${value} is below -2^63`);
      v = BigInt.asUintN(64, v);
    }
    dst.fill(0, offset, offset + size);
    let i = 0;
    while (v > 0n) {
      if (i === size) {
        let needed = i;
        for (let rest = v; rest > 0n; rest >>= 8n) needed++;
        throw tooLong(ctx, size, needed, `${value}n`);
      }
      dst[offset + i++] = Number(v & 0xffn);
      v >>= 8n;
    }
    return;
  }
  if (value instanceof Uint8Array) {
    if (value.length > size) throw tooLong(ctx, size, value.length, `of ${value.length} bytes`);
    dst.set(value, offset);
    dst.fill(0, offset + value.length, offset + size);
    return;
  }
  if (typeof value === 'string') {
    if (ctx?.lpm) {
      encodeKeyValue(dst, offset, createLpmTrieKey(value), size, ctx);
      return;
    }
    const bytes = textEncoder.encode(value);
    if (bytes.length > size) throw tooLong(ctx, size, bytes.length, JSON.stringify(value));
    dst.set(bytes, offset);
    dst.fill(0, offset + bytes.length, offset + size);
    return;
  }
  if (value instanceof LpmTrieKey) {
    const needed = 4 + value.address.length;
    if (needed > size) throw tooLong(ctx, size, needed, `LPM key ${value.toString()}`);
    dst.fill(0, offset, offset + size);
    writeU32Partial(dst, offset, value.prefixLen, 4);
    dst.set(value.address, offset + 4);
    return;
  }
  if (value !== null && typeof value === 'object' && typeof (value as HasFd).fd === 'number') {
    const fd = (value as HasFd).fd;
    if (fd < 0) throw new TypeError(`${where(ctx)} is an object whose fd is ${fd} (closed or not created)`);
    encodeKeyValue(dst, offset, fd, size, ctx);
    return;
  }
  throw new TypeError(`${where(ctx)} of type ${describeType(value)} is not supported (number, bigint, string, Uint8Array, LPM key, object with fd)`);
}

/** goebpf's KeyValueToBytes: `value` as exactly `size` bytes. */
export function keyValueToBytes(value: KeyValue, size: number, ctx?: KeyValueContext): Uint8Array {
  const out = new Uint8Array(size);
  encodeKeyValue(out, 0, value, size, ctx);
  return out;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'Array';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

function byteLength32(v: number): number {
  return v === 0 ? 0 : v < 0x100 ? 1 : v < 0x10000 ? 2 : v < 0x1000000 ? 3 : 4;
}

function writeU32Partial(dst: Uint8Array, offset: number, v: number, n: number): void {
  for (let i = 0; i < n; i++) dst[offset + i] = (v >>> (8 * i)) & 0xff;
}

/** goebpf's NullTerminatedStringToString: the UTF-8 text up to the first NUL (or the whole array). */
export function nullTerminatedStringToString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return textDecoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** goebpf's ParseFlexibleIntegerLittleEndian: any number of bytes as an unsigned little-endian integer. */
export function parseFlexibleIntegerLittleEndian(bytes: Uint8Array): bigint {
  let result = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) result = (result << 8n) | BigInt(bytes[i]!);
  return result;
}

/**
 * Sums per-CPU integer values laid out as the kernel copies them to user space: one value of
 * `valueSize` bytes every `stride` bytes (`roundUp(valueSize, 8)` for per-CPU maps).
 */
export function sumFlexibleIntegers(bytes: Uint8Array, valueSize: number, stride: number): bigint {
  let sum = 0n;
  for (let off = 0; off + valueSize <= bytes.length; off += stride) {
    sum += parseFlexibleIntegerLittleEndian(bytes.subarray(off, off + valueSize));
  }
  return sum;
}

/**
 * goebpf's CreateLPMtrieKey: "192.168.0.0/16", "10.1.2.3" (a /32), "fe80::1/64", "::1" (a /128).
 * The address is masked to the prefix ("192.168.1.55/24" gives 192.168.1.0/24).
 */
export function createLpmTrieKey(cidr: string): LpmTrieKey {
  const slash = cidr.indexOf('/');
  const ipText = slash < 0 ? cidr : cidr.slice(0, slash);
  const address = parseIp(ipText);
  if (address === undefined) throw new TypeError(`LPM trie key ${quoted(cidr)}: ${quoted(ipText)} is not an IPv4 or IPv6 address`);
  const bits = address.length * 8;
  let prefixLen = bits;
  if (slash >= 0) {
    const text = cidr.slice(slash + 1);
    prefixLen = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
    if (!(prefixLen <= bits)) throw new TypeError(`LPM trie key ${quoted(cidr)}: prefix length ${quoted(text)} is not in 0..${bits}`);
  }
  for (let i = 0; i < address.length; i++) {
    const keep = Math.max(0, Math.min(8, prefixLen - i * 8));
    address[i]! &= (0xff00 >> keep) & 0xff;
  }
  return new LpmTrieKey(prefixLen, address);
}

/** An IPv4 (4 bytes) or IPv6 (16 bytes) address in network order, or undefined if `text` is neither. */
export function parseIp(text: string): Uint8Array | undefined {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part[0] === '0')) return undefined;
    const v = Number(part);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === undefined) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
        out.push(parseInt(part, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function formatIp(address: Uint8Array): string {
  if (address.length === 4) return address.join('.');
  const groups: string[] = [];
  for (let i = 0; i < address.length; i += 2) groups.push(((address[i]! << 8) | address[i + 1]!).toString(16));
  return groups.join(':');
}
