// The native bridge against the real kernel: bpf() with pointer fix-ups, fds, mmap, perf_event_open,
// netlink sockets and uv_poll readiness.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as assert from 'uvu/assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { bpf, FD, getFdById, getNextId, ids, objGet, objGetInfoByFd, objPin } from '../../src/sys/bpf.js';
import { SyscallError } from '../../src/sys/errors.js';
import { ATTR, BPF_ANY, BPF_F_MMAPABLE, BPF_NOEXIST, BpfCmd, MAP_INFO, MapType } from '../../src/sys/generated.js';
import { native, type PreparedBpf } from '../../src/sys/native.js';
import { kernelSuite, withBpffs } from '../kernel/support.js';

const test = kernelSuite('bridge');

function createMap(type: MapType, keySize: number, valueSize: number, maxEntries: number, flags = 0, name = ''): FD {
  const attr = new Uint8Array(ATTR.MAP_CREATE.SIZE);
  const view = new DataView(attr.buffer);
  view.setUint32(ATTR.MAP_CREATE.map_type.offset, type, true);
  view.setUint32(ATTR.MAP_CREATE.key_size.offset, keySize, true);
  view.setUint32(ATTR.MAP_CREATE.value_size.offset, valueSize, true);
  view.setUint32(ATTR.MAP_CREATE.max_entries.offset, maxEntries, true);
  view.setUint32(ATTR.MAP_CREATE.map_flags.offset, flags, true);
  attr.set(new TextEncoder().encode(name), ATTR.MAP_CREATE.map_name.offset);
  return new FD(bpf(BpfCmd.MapCreate, attr));
}

function elemAttr(fd: FD, flags = 0): Uint8Array {
  const attr = new Uint8Array(ATTR.MAP_ELEM.SIZE);
  const view = new DataView(attr.buffer);
  view.setUint32(ATTR.MAP_ELEM.map_fd.offset, fd.fd, true);
  view.setBigUint64(ATTR.MAP_ELEM.flags.offset, BigInt(flags), true);
  return attr;
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

test('BPF_MAP_CREATE gives an fd; close is idempotent and disposes', () => {
  const map = createMap(MapType.Hash, 4, 8, 16);
  assert.ok(map.fd > 2);
  assert.is(map.closed, false);
  map.close();
  assert.is(map.closed, true);
  assert.is(map.fd, -1);
  map.close();
  {
    using scoped = createMap(MapType.Array, 4, 4, 1);
    assert.ok(scoped.fd > 2);
  }
});

test('a failing command throws a SyscallError named after it', () => {
  try {
    createMap(MapType.Hash, 0, 8, 16);
    assert.unreachable('a zero key size was accepted');
  } catch (e) {
    assert.instance(e, SyscallError);
    assert.is((e as SyscallError).syscall, 'BPF_MAP_CREATE');
    assert.is((e as SyscallError).code, 'EINVAL');
  }
});

test('update and lookup round-trip through pointer fix-ups', () => {
  using map = createMap(MapType.Hash, 4, 8, 16);
  const key = new Uint32Array([42]);
  const value = new BigUint64Array([0x1122334455667788n]);
  bpf(BpfCmd.MapUpdateElem, elemAttr(map, BPF_NOEXIST), ATTR.MAP_ELEM.key.offset, key, ATTR.MAP_ELEM.value.offset, value);
  const out = new Uint8Array(8);
  bpf(BpfCmd.MapLookupElem, elemAttr(map), ATTR.MAP_ELEM.key.offset, key, ATTR.MAP_ELEM.value.offset, out);
  assert.is(new DataView(out.buffer).getBigUint64(0, true), 0x1122334455667788n);
  // A view with a byte offset into a larger buffer: the pointer is the view's, not the buffer's start.
  const shared = new Uint8Array(32);
  const window = shared.subarray(8, 16);
  bpf(BpfCmd.MapLookupElem, elemAttr(map), ATTR.MAP_ELEM.key.offset, new DataView(key.buffer), ATTR.MAP_ELEM.value.offset, window);
  assert.equal([...shared.subarray(8, 16)], [...out]);
  assert.equal([...shared.subarray(0, 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
  const missing = native().bpf(BpfCmd.MapLookupElem, elemAttr(map), ATTR.MAP_ELEM.key.offset, new Uint32Array([7]), ATTR.MAP_ELEM.value.offset, out);
  assert.is(missing, -2);
  // null writes a NULL pointer: the kernel reads key 0 → EFAULT.
  assert.is(native().bpf(BpfCmd.MapLookupElem, elemAttr(map), ATTR.MAP_ELEM.key.offset, null, ATTR.MAP_ELEM.value.offset, out), -14);
});

/** Runs a full garbage collection (and lets finalizers run). */
async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('bpfPrepare/bpfRun: checked once against the map, buffers on a bridge-owned scratch, flags per run', async () => {
  using map = createMap(MapType.Hash, 4, 8, 16);
  const bridge = native();
  const scratch = bridge.scratch(16);
  const key = new Uint32Array(scratch, 0, 1);
  const value = new BigUint64Array(scratch, 8, 1);
  const prepare = (cmd: BpfCmd): PreparedBpf => {
    const prepared = bridge.bpfPrepare(cmd, elemAttr(map), ATTR.MAP_ELEM.key.offset, key, ATTR.MAP_ELEM.value.offset, value);
    assert.type(prepared, 'object');
    return prepared as PreparedBpf;
  };
  const update = prepare(BpfCmd.MapUpdateElem);
  const lookup = prepare(BpfCmd.MapLookupElem);
  for (let k = 0; k < 16; k++) {
    key[0] = k;
    value[0] = BigInt(k) * 1000n;
    assert.is(bridge.bpfRun(update, BPF_NOEXIST), undefined);
  }
  assert.is(bridge.bpfRun(update, BPF_NOEXIST), -17, 'flags reach the kernel: EEXIST');
  for (let k = 0; k < 16; k++) {
    key[0] = k;
    value[0] = 0n;
    assert.is(bridge.bpfRun(lookup), undefined);
    assert.is(value[0], BigInt(k) * 1000n);
  }
  key[0] = 99;
  assert.is(bridge.bpfRun(lookup), -2);
  // Buffers not on a scratch, a value view smaller than the map's values, offsets that are no field.
  assert.throws(() => bridge.bpfPrepare(BpfCmd.MapLookupElem, elemAttr(map), 8, new Uint32Array(1), 16, new BigUint64Array(1)), /scratch/);
  assert.throws(() => bridge.bpfPrepare(BpfCmd.MapLookupElem, elemAttr(map), 8, key, 16, new Uint8Array(scratch, 8, 4)), RangeError);
  assert.throws(() => bridge.bpfPrepare(BpfCmd.MapLookupElem, elemAttr(map), 8, key, 24, value), TypeError);
  assert.throws(() => bridge.bpfPrepare(BpfCmd.MapLookupElem, 'attr' as unknown as Uint8Array), TypeError);
  assert.throws(() => bridge.bpfPrepare(BpfCmd.MapCreate, new Uint8Array(ATTR.MAP_CREATE.SIZE)), /only map element commands/);
  assert.throws(() => bridge.bpfRun({} as unknown as PreparedBpf), TypeError);
  assert.throws(() => bridge.bpfRun(lookup, NaN), TypeError);
  assert.throws(() => bridge.bpfRun(lookup, -1), RangeError);
  // Released: the private fd is closed, runs answer EBADF, release is idempotent.
  bridge.bpfRelease(lookup);
  bridge.bpfRelease(lookup);
  assert.is(bridge.bpfRun(lookup), -9);
  bridge.bpfRelease(update);
});

test('prepared calls of one map share one fd dup, closed with the last released', () => {
  using map = createMap(MapType.Array, 4, 4, 1);
  const bridge = native();
  const scratch = bridge.scratch(8);
  const key = new Uint32Array(scratch, 0, 1), value = new Uint32Array(scratch, 4, 1);
  const dupsOf = (): number => readdirSync('/proc/self/fd').length;
  const before = dupsOf();
  const first = bridge.bpfPrepare(BpfCmd.MapLookupElem, elemAttr(map), 8, key, 16, value) as PreparedBpf;
  const second = bridge.bpfPrepare(BpfCmd.MapUpdateElem, first, 8, key, 16, value) as PreparedBpf;
  assert.is(dupsOf(), before + 1);
  value[0] = 5;
  assert.is(bridge.bpfRun(second), undefined);
  value[0] = 0;
  assert.is(bridge.bpfRun(first), undefined);
  assert.is(value[0], 5);
  bridge.bpfRelease(first);
  assert.is(bridge.bpfRun(second), undefined, 'the dup lives while a call uses it');
  assert.is(bridge.bpfPrepare(BpfCmd.MapDeleteElem, first, 8, key), -9, 'a released call shares nothing');
  bridge.bpfRelease(second);
  assert.is(dupsOf(), before);
});

test('the bridge checks each pointer against its command\'s sizes; unknown pointers and commands are refused', () => {
  using map = createMap(MapType.Hash, 8, 16, 4);
  const key = new Uint8Array(8), value = new Uint8Array(16);
  assert.is(native().bpf(BpfCmd.MapLookupElem, elemAttr(map), 8, key, 16, value), -2);
  assert.throws(() => native().bpf(BpfCmd.MapLookupElem, elemAttr(map), 8, new Uint8Array(7), 16, value), /holds 7 bytes; the kernel would access 8/);
  assert.throws(() => native().bpf(BpfCmd.MapLookupElem, elemAttr(map), 8, key, 16, new Uint8Array(15)), /holds 15 bytes; the kernel would access 16/);
  assert.throws(() => native().bpf(BpfCmd.MapDeleteElem, elemAttr(map), 8, key, 16, value), /not one the bridge fills/);
  assert.throws(() => native().bpf(BpfCmd.MapCreate, new Uint8Array(ATTR.MAP_CREATE.SIZE), 8, key), /command 0 \(with this attr\) takes no pointers/);
  const obj = new Uint8Array(ATTR.OBJ.SIZE);
  assert.throws(() => native().bpf(BpfCmd.ObjGet, obj, 0, new Uint8Array([0x61, 0x62])), /no NUL inside its 2 bytes/);
  const run = new Uint8Array(ATTR.PROG_TEST_RUN.SIZE);
  assert.throws(() => native().bpf(BpfCmd.ProgTestRun, run, 24, new Uint8Array(4)), /size field of 0, which the kernel reads as unbounded/);
  // BPF_LINK_CREATE: rules by attach type (uprobe_multi 48, kprobe_multi 42), checked before the call.
  const link = new Uint8Array(ATTR.LINK_CREATE.SIZE);
  const linkView = new DataView(link.buffer);
  linkView.setUint32(8, 48, true);
  linkView.setUint32(48, 4, true); // cnt
  assert.throws(() => native().bpf(BpfCmd.LinkCreate, link, 16, new Uint8Array([0x2f]), 24, new BigUint64Array(4)), /no NUL/);
  assert.throws(() => native().bpf(BpfCmd.LinkCreate, link, 16, new Uint8Array([0x2f, 0]), 24, new BigUint64Array(3)), /holds 24 bytes; the kernel would access 32/);
  linkView.setUint32(8, 42, true);
  assert.throws(() => native().bpf(BpfCmd.LinkCreate, link, 24, new BigUint64Array(4)), /not one the bridge fills/);
  linkView.setUint32(8, 0, true);
  assert.throws(() => native().bpf(BpfCmd.LinkCreate, link, 16, new Uint8Array(8)), /takes no pointers/);
  assert.throws(() => native().ioctl(0, 0x541b, 7), /takes a buffer/);
  assert.throws(() => native().ioctl(0, 0x2400 /* PERF_EVENT_IOC_ENABLE */, new Uint8Array(8)), /takes a number, not a buffer/);
});

test('a prepared call keeps its scratch memory whatever happens to the ArrayBuffer (detached, collected)', async () => {
  using map = createMap(MapType.Array, 4, 4096, 4);
  const bridge = native();
  const prepared = (() => {
    const scratch = bridge.scratch(8 + 4096);
    const p = bridge.bpfPrepare(BpfCmd.MapLookupElem, elemAttr(map), 8, new Uint32Array(scratch, 0, 1), 16, new Uint8Array(scratch, 8, 4096));
    // Transferring detaches the ArrayBuffer here; the memory stays the prepared call's.
    structuredClone(scratch, { transfer: [scratch] });
    return p as PreparedBpf;
  })();
  await collectGarbage();
  for (let i = 0; i < 100; i++) assert.is(bridge.bpfRun(prepared), undefined);
  bridge.bpfRelease(prepared);
  // A scratch cannot be detached (V8 copies it instead); were it detached, prepare would refuse it.
  const scratch = bridge.scratch(16);
  const key = new Uint32Array(scratch, 0, 1);
  structuredClone(scratch, { transfer: [scratch] });
  if (scratch.byteLength === 0) assert.throws(() => bridge.bpfPrepare(BpfCmd.MapLookupElem, elemAttr(map), 8, key, 16, null), TypeError);
  else bridge.bpfRelease(bridge.bpfPrepare(BpfCmd.MapLookupElem, elemAttr(map), 8, key, 16, null) as PreparedBpf);
  // Plain buffers the kernel would access: detached and resizable ones are refused.
  const detached = new Uint8Array(8);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  assert.throws(() => native().bpf(BpfCmd.MapLookupElem, elemAttr(map), 8, detached, 16, null), /detached/);
  const Resizable = ArrayBuffer as unknown as new (size: number, options: { maxByteLength: number }) => ArrayBuffer;
  const resizable = new Uint8Array(new Resizable(8, { maxByteLength: 16 }));
  assert.throws(() => native().bpf(BpfCmd.MapLookupElem, elemAttr(map), 8, resizable, 16, null), /resizable/);
  assert.throws(() => native().bpf(BpfCmd.MapLookupElem, new Uint8Array(new SharedArrayBuffer(32)), 8, null), /shared/);
});

test('the FinalizationRegistry closes the fds of FDs collected unclosed', async () => {
  const before = openFds();
  (() => {
    for (let i = 0; i < 50; i++) createMap(MapType.Array, 4, 4, 1);
  })();
  assert.ok(openFds() >= before + 50);
  for (let attempt = 0; attempt < 10 && openFds() > before; attempt++) await collectGarbage();
  assert.is(openFds(), before);
});

test('bad bpf() arguments are programmer errors, not errnos', () => {
  const attr = new Uint8Array(ATTR.MAP_ELEM.SIZE);
  assert.throws(() => native().bpf(BpfCmd.MapLookupElem, [0, 0, 0, 0] as unknown as Uint8Array), TypeError);
  assert.throws(() => native().bpf(BpfCmd.MapLookupElem, attr, 12, new Uint8Array(4)), RangeError);
  assert.throws(() => native().bpf(BpfCmd.MapLookupElem, attr, ATTR.MAP_ELEM.SIZE, new Uint8Array(4)), RangeError);
  assert.throws(() => native().bpf(BpfCmd.MapLookupElem, attr, 8), TypeError);
  assert.throws(() => native().bpf(BpfCmd.MapLookupElem, attr, 8, 'key' as unknown as Uint8Array), TypeError);
  const pairs = Array.from({ length: 7 }, () => [8, null]).flat();
  assert.throws(() => native().bpf(BpfCmd.MapLookupElem, attr, ...pairs), /at most 6 \(offset, buffer\) pairs/);
  // Missing, NaN, fractional or out-of-range numbers are never converted silently (NaN would be 0).
  const call = native() as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const [name, args, error] of [
    ['bpf', [], TypeError],
    ['bpf', [BpfCmd.MapLookupElem], TypeError],
    ['bpf', [NaN, attr], TypeError],
    ['bpf', [1.5, attr], TypeError],
    ['bpf', [-1, attr], RangeError],
    ['bpf', [2 ** 32, attr], RangeError],
    ['bpf', [BpfCmd.MapLookupElem, attr, NaN, new Uint8Array(4)], TypeError],
    ['bpf', [BpfCmd.MapLookupElem, attr, 8.5, new Uint8Array(4)], TypeError],
    ['bpf', [BpfCmd.MapLookupElem, attr, -8, new Uint8Array(4)], RangeError],
    ['bpfPrepare', [NaN, attr], TypeError],
    ['bpfPrepare', [BpfCmd.MapLookupElem], TypeError],
    ['close', [], TypeError],
    ['close', [NaN], TypeError],
    ['close', [0.5], TypeError],
    ['close', [2 ** 40], RangeError],
    ['dup', ['1'], TypeError],
    ['ioctl', [-1, NaN, 0], TypeError],
    ['ioctl', [-1, 0, NaN], TypeError],
    ['mmap', [-1, 4096, 1, 1, NaN], TypeError],
    ['mmap', [-1, 4096, 1, 1, -4096], RangeError],
    ['socket', [16, Infinity, 0], TypeError],
    ['recvmsg', [-1, new Uint8Array(4), 0.5], TypeError],
    ['poll', [-1, 99, () => {}], RangeError],
    ['loadAcquireU64', [new ArrayBuffer(16), NaN], TypeError],
    ['storeReleaseU32', [new ArrayBuffer(16), 0, -1], RangeError],
    ['storeReleaseU64', [new ArrayBuffer(16), 0, 2n ** 64n], RangeError],
    ['storeReleaseU64', [new ArrayBuffer(16), 0, 2 ** 53], RangeError],
    ['storeReleaseU64', [new ArrayBuffer(16), 0, -1], RangeError],
    ['storeReleaseU64', [new ArrayBuffer(16), 0, 0.5], TypeError],
    ['storeReleaseU64', [new ArrayBuffer(16), 0, '1'], TypeError],
  ] as const) {
    assert.throws(() => call[name]!(...args), (e: unknown) => e instanceof error, `${name}(${args.map(String).join(', ')}) should throw ${error.name}`);
  }
  // Valid ints still reach the kernel, which answers with -errno.
  assert.is(native().close(-1), -9);
  assert.is(native().ioctl(-1, 0x80082407, 0), -9);
  assert.is(native().ioctl(-1, 0x80082407 | 0, 0), -9);
});

test('mmap of a BPF_F_MMAPABLE array shares memory with the map', () => {
  using map = createMap(MapType.Array, 4, 8, 512, BPF_F_MMAPABLE);
  const PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
  const buffer = native().mmap(map.fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
  assert.instance(buffer, ArrayBuffer);
  const mapping = buffer as ArrayBuffer;
  assert.is(mapping.byteLength, 4096);
  new BigUint64Array(mapping)[3] = 99n;
  const out = new BigUint64Array(1);
  bpf(BpfCmd.MapLookupElem, elemAttr(map), ATTR.MAP_ELEM.key.offset, new Uint32Array([3]), ATTR.MAP_ELEM.value.offset, out);
  assert.is(out[0], 99n);
  bpf(BpfCmd.MapUpdateElem, elemAttr(map, BPF_ANY), ATTR.MAP_ELEM.key.offset, new Uint32Array([4]), ATTR.MAP_ELEM.value.offset, new BigUint64Array([1234n]));
  assert.is(native().loadAcquireU64(mapping, 32), 1234n);
  native().storeReleaseU64(mapping, 40, 0xffffffffffffffffn);
  assert.is(new BigUint64Array(mapping)[5], 0xffffffffffffffffn);
  native().storeReleaseU64(mapping, 40, 2 ** 53 - 1); // a ring position as the readers pass it
  assert.is(new BigUint64Array(mapping)[5], 2n ** 53n - 1n);
  native().storeReleaseU32(mapping, 48, 7);
  assert.is(native().loadAcquireU32(mapping, 48), 7);
  assert.throws(() => native().loadAcquireU64(mapping, 4092), RangeError);
  assert.throws(() => native().loadAcquireU64(mapping, 4), RangeError);
  assert.is(native().munmap(mapping), 0);
  assert.is(mapping.byteLength, 0);
  assert.is(native().munmap(mapping), -22);
  assert.is(native().munmap(new ArrayBuffer(8)), -22);
  // Without BPF_F_MMAPABLE the kernel refuses the mapping: -errno, not a throw.
  using plain = createMap(MapType.Array, 4, 8, 16);
  assert.ok((native().mmap(plain.fd, 4096, PROT_READ, MAP_SHARED, 0) as number) < 0);
});

test('perf_event_open of a software event, enabled and disabled by ioctl', () => {
  const PERF_TYPE_SOFTWARE = 1, PERF_COUNT_SW_TASK_CLOCK = 1, PERF_FLAG_FD_CLOEXEC = 8;
  const PERF_EVENT_IOC_ENABLE = 0x2400, PERF_EVENT_IOC_DISABLE = 0x2401, PERF_EVENT_IOC_ID = 0x80082407;
  const attr = new Uint8Array(128);
  const view = new DataView(attr.buffer);
  view.setUint32(0, PERF_TYPE_SOFTWARE, true);
  view.setUint32(4, attr.byteLength, true);
  view.setBigUint64(8, BigInt(PERF_COUNT_SW_TASK_CLOCK), true);
  view.setBigUint64(40, 1n, true); // disabled
  using event = new FD(native().perfEventOpen(attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
  assert.is(native().ioctl(event.fd, PERF_EVENT_IOC_ENABLE, 0), 0);
  const id = new BigUint64Array(1);
  assert.is(native().ioctl(event.fd, PERF_EVENT_IOC_ID, id), 0);
  assert.ok(id[0] > 0n);
  assert.is(native().ioctl(event.fd, PERF_EVENT_IOC_DISABLE, 0), 0);
  assert.is(native().perfEventOpen(attr, 0, -1, -1, 0xffff), -22);
});

const AF_NETLINK = 16, SOCK_RAW = 3, NETLINK_ROUTE = 0, RTM_NEWLINK = 16, RTM_GETLINK = 18;
const NLM_F_REQUEST = 1, NLM_F_DUMP = 0x300, SOL_SOCKET = 1, SO_RCVBUF = 8, MSG_DONTWAIT = 0x40;

function sockaddrNl(): Uint8Array {
  const address = new Uint8Array(12);
  new DataView(address.buffer).setUint16(0, AF_NETLINK, true);
  return address;
}

function getLinkDump(): Uint8Array {
  const request = new Uint8Array(32);
  const view = new DataView(request.buffer);
  view.setUint32(0, request.byteLength, true);
  view.setUint16(4, RTM_GETLINK, true);
  view.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, true);
  view.setUint32(8, 1, true);
  return request;
}

test('netlink socket: bind, sendmsg, recvmsg, setsockopt/getsockopt', () => {
  const bridge = native();
  using socket = new FD(bridge.socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
  assert.is(bridge.bind(socket.fd, sockaddrNl()), 0);
  assert.is(bridge.setsockopt(socket.fd, SOL_SOCKET, SO_RCVBUF, new Int32Array([1 << 16])), 0);
  const size = new Int32Array(1);
  assert.is(bridge.getsockopt(socket.fd, SOL_SOCKET, SO_RCVBUF, size), 4);
  assert.ok(size[0]! >= 1 << 16);
  assert.is(bridge.recvmsg(socket.fd, new Uint8Array(64), MSG_DONTWAIT), -11);
  const request = getLinkDump();
  assert.is(bridge.sendmsg(socket.fd, request, sockaddrNl()), request.byteLength);
  const reply = new Uint8Array(1 << 16);
  const received = bridge.recvmsg(socket.fd, reply, 0);
  assert.ok(received >= 16);
  assert.is(new DataView(reply.buffer).getUint16(4, true), RTM_NEWLINK);
  assert.is(bridge.socket(-1, SOCK_RAW, 0), -97);
});

test('poll reports readiness on the Node loop and stops', async () => {
  const bridge = native();
  using socket = new FD(bridge.socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
  assert.is(bridge.bind(socket.fd, sockaddrNl()), 0);
  const UV_READABLE = 1;
  const events: Array<[number, number]> = [];
  const ready = new Promise<void>((resolve) => {
    const handle = bridge.poll(socket.fd, UV_READABLE, (status, revents) => {
      events.push([status, revents]);
      bridge.pollStop(handle as Parameters<typeof bridge.pollStop>[0]);
      resolve();
    });
    assert.type(handle, 'object');
  });
  bridge.sendmsg(socket.fd, getLinkDump(), sockaddrNl());
  await ready;
  assert.equal(events, [[0, UV_READABLE]]);
  assert.ok(bridge.recvmsg(socket.fd, new Uint8Array(1 << 16), MSG_DONTWAIT) > 0);
  assert.throws(() => bridge.pollStop({} as Parameters<typeof bridge.pollStop>[0]), TypeError);
  assert.ok((bridge.poll(-1, UV_READABLE, () => {}) as number) < 0);
});

test('poll works on a worker thread, on that thread\'s own loop', async () => {
  const nativeModule = pathToFileURL(join(new URL('.', import.meta.url).pathname, '../../src/sys/native.js')).href;
  const source = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(nativeModule)}).then(({ native }) => {
      const bridge = native();
      const fd = bridge.socket(${AF_NETLINK}, ${SOCK_RAW}, ${NETLINK_ROUTE});
      const address = new Uint8Array(12);
      address[0] = ${AF_NETLINK};
      bridge.bind(fd, address);
      const request = new Uint8Array(${JSON.stringify([...getLinkDump()])});
      const handle = bridge.poll(fd, 1, (status, events) => {
        bridge.pollStop(handle);
        bridge.close(fd);
        parentPort.postMessage([status, events]);
      });
      bridge.sendmsg(fd, request, address);
    });`;
  const worker = new Worker(source, { eval: true });
  const message = await new Promise<unknown>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  assert.equal(message, [0, 1]);
  await worker.terminate();
});

test('a worker that exits while polling leaves the main thread running', async () => {
  const nativeModule = pathToFileURL(join(new URL('.', import.meta.url).pathname, '../../src/sys/native.js')).href;
  const source = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(nativeModule)}).then(({ native }) => {
      const bridge = native();
      const fd = bridge.socket(${AF_NETLINK}, ${SOCK_RAW}, ${NETLINK_ROUTE});
      bridge.poll(fd, 1, () => {});
      parentPort.postMessage('polling');
    });`;
  const worker = new Worker(source, { eval: true });
  await new Promise((resolve) => worker.once('message', resolve));
  assert.is(await worker.terminate(), 1);
});

test('pin, get by path, info by fd, id iteration and fd by id', async () => {
  using map = createMap(MapType.Hash, 4, 8, 16, 0, 'sys_test');
  const info = new Uint8Array(MAP_INFO.SIZE);
  assert.ok(objGetInfoByFd(map, info) >= 64);
  const view = new DataView(info.buffer);
  assert.is(view.getUint32(MAP_INFO.type.offset, true), MapType.Hash);
  assert.is(view.getUint32(MAP_INFO.key_size.offset, true), 4);
  assert.is(view.getUint32(MAP_INFO.value_size.offset, true), 8);
  const id = view.getUint32(MAP_INFO.id.offset, true);
  const all = [...ids('map')];
  assert.ok(all.includes(id));
  assert.is(getNextId('map', Math.max(...all)), undefined);
  using byId = getFdById('map', id);
  const again = new Uint8Array(MAP_INFO.SIZE);
  objGetInfoByFd(byId, again);
  assert.is(new DataView(again.buffer).getUint32(MAP_INFO.id.offset, true), id);
  await withBpffs((dir) => {
    const path = join(dir, 'pinned');
    objPin(map, path);
    using opened = objGet(path);
    objGetInfoByFd(opened, again);
    assert.is(new DataView(again.buffer).getUint32(MAP_INFO.id.offset, true), id);
    using copy = opened.dup();
    assert.ok(copy.fd !== opened.fd);
  });
  try {
    objGet('/nonexistent/pin');
    assert.unreachable('objGet of a missing path succeeded');
  } catch (e) {
    assert.is((e as SyscallError).code, 'ENOENT');
    assert.match((e as SyscallError).message, /^BPF_OBJ_GET: ENOENT .*: \/nonexistent\/pin$/);
  }
});

test('a thousand create/close cycles leak no fd', () => {
  const before = openFds();
  for (let i = 0; i < 1000; i++) createMap(MapType.Array, 4, 4, 1).close();
  assert.is(openFds(), before);
});

test.run();
