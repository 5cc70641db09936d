// What the kernel tests of the event readers share (kernel.test.ts, thread.test.ts): the fixture
// object test/fixtures/events.o, its globals, the check of a record's checksummed words, taking
// items from a reader, and the process's fds and ring mappings (for leak checks).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import type { EventItem, EventReader, EventRecord } from '../../src/events/reader.js';
import type { EbpfMap } from '../../src/map/map.js';
import type { System } from '../../src/program/system.js';

export const EVENTS = fileURLToPath(new URL('../../../test/fixtures/events.o', import.meta.url));
const CHECK_MUL = 0x9e3779b97f4a7c15n;
const U64 = (1n << 64n) - 1n;
/** XDP test runs need a packet: an Ethernet header's worth. */
export const PACKET = new Uint8Array(64);

/** .bss of events.o: seq, failures, user_sum, user_count. */
export function globals(system: System): { seq: bigint; failures: bigint; userSum: bigint; userCount: bigint } {
  const bss = system.getMapByName('.bss') as EbpfMap;
  const view = new DataView(bss.lookup(0).buffer);
  return { seq: view.getBigUint64(0, true), failures: view.getBigUint64(8, true), userSum: view.getBigUint64(16, true), userCount: view.getBigUint64(24, true) };
}

/** The sequence number of a record, after checking its words (seq * CHECK_MUL + i). */
export function checkRecord(data: Uint8Array, size: number): bigint {
  assert.ok(data.byteLength >= size, `a ${data.byteLength}-byte record for ${size}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const seq = view.getBigUint64(0, true);
  for (let i = 1; i < size / 8; i++) {
    if (view.getBigUint64(i * 8, true) !== ((seq * CHECK_MUL + BigInt(i)) & U64)) assert.unreachable(`record ${seq}: word ${i} is corrupt`);
  }
  return seq;
}

/** Takes items from the reader's iterator until `done` says so (or fails after timeoutMs). */
export async function take(reader: EventReader, done: (items: EventItem[]) => boolean, timeoutMs = 5000): Promise<EventItem[]> {
  const items: EventItem[] = [];
  const signal = AbortSignal.timeout(timeoutMs);
  for await (const item of reader.records({ signal })) {
    items.push(item);
    if (done(items)) return items;
  }
  assert.unreachable(`timed out after ${items.length} items`);
  return items;
}

/** Waits while `pending()` holds, checking every `stepMs`, for `timeoutMs` at most (the caller asserts after). */
export async function waitWhile(pending: () => boolean, timeoutMs = 5000, stepMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pending() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, stepMs));
}

export const records = (items: EventItem[]): EventRecord[] => items.filter((i): i is EventRecord => i.kind === 'record');

export function fds(): Set<string> {
  return new Set(readdirSync('/proc/self/fd'));
}

export function ringMappings(): string[] {
  return readFileSync('/proc/self/maps', 'latin1').split('\n').filter((line) => /perf_event|bpf-ringbuf|anon_inode:bpf|bpf-map/.test(line));
}
