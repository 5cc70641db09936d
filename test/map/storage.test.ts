// Kernel test: local-storage maps (socket, inode, task, cgroup storage), which the kernel only
// creates with BTF for key and value. A minimal BTF blob (one `int` type) is loaded here by hand;
// real programs get theirs from the btf module.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { EbpfMap, MapType } from '../../src/map/index.js';
import { SyscallError, errnoError } from '../../src/sys/errors.js';
import { native } from '../../src/sys/native.js';
import { BpfCmd, BPF_F_NO_PREALLOC } from '../../src/sys/generated.js';
import { kernelSuite } from '../kernel/support.js';

const suite = kernelSuite('map local storage');
const ENOTSUPP = 524;

/** BTF with one type, [1] `int` (signed, 32 bits): enough for a storage map's key and value. */
function intOnlyBtf(): Uint8Array {
  const strings = new TextEncoder().encode('\0int\0');
  const types = new Uint8Array(16);
  const t = new DataView(types.buffer);
  t.setUint32(0, 1, true); // name_off: "int"
  t.setUint32(4, 1 << 24, true); // info: kind INT, vlen 0
  t.setUint32(8, 4, true); // size
  t.setUint32(12, (1 << 24) | 32, true); // BTF_INT_SIGNED, offset 0, 32 bits
  const blob = new Uint8Array(24 + types.length + strings.length);
  const h = new DataView(blob.buffer);
  h.setUint16(0, 0xeb9f, true);
  h.setUint8(2, 1); // version
  h.setUint32(4, 24, true); // hdr_len
  h.setUint32(8, 0, true); // type_off
  h.setUint32(12, types.length, true);
  h.setUint32(16, types.length, true); // str_off
  h.setUint32(20, strings.length, true);
  blob.set(types, 24);
  blob.set(strings, 24 + types.length);
  return blob;
}

let btfFd = -1;
const open: number[] = [];

suite.before(() => {
  const blob = intOnlyBtf();
  const attr = new Uint8Array(32);
  new DataView(attr.buffer).setUint32(16, blob.length, true); // btf_size
  btfFd = native().bpf(BpfCmd.BtfLoad, attr, 0, blob, 8, null);
  if (btfFd < 0) throw errnoError(-btfFd, 'BPF_BTF_LOAD', 'int-only BTF');
});

suite.after(() => {
  for (const fd of open) closeSync(fd);
  if (btfFd >= 0) native().close(btfFd);
});

function storageMap(name: string, type: MapType): EbpfMap | undefined {
  try {
    return EbpfMap.create({ name, type, keySize: 4, valueSize: 4, maxEntries: 0, flags: BPF_F_NO_PREALLOC, btf: { fd: btfFd, keyTypeId: 1, valueTypeId: 1 } });
  } catch (e) {
    if (e instanceof SyscallError && (e.errno === ENOTSUPP || e.code === 'EOPNOTSUPP' || e.code === 'EINVAL')) {
      console.log(`  (${name}: this kernel cannot create it: ${e.message})`);
      return undefined;
    }
    throw e;
  }
}

/** Keys of storage maps are fds of the owning object; the kernel has no get-next-key for them. */
function exercise(m: EbpfMap, ownerFds: number[]): void {
  ownerFds.forEach((fd, i) => m.insert(fd, 100 + i));
  ownerFds.forEach((fd, i) => assert.is(m.lookupInt(fd), 100 + i));
  assert.is(m.info().btfValueTypeId, 1);
  assert.throws(() => [...m.keys()], (e: unknown) => e instanceof SyscallError && e.syscall === 'BPF_MAP_GET_NEXT_KEY');
  for (const fd of ownerFds) m.delete(fd);
  for (const fd of ownerFds) assert.throws(() => m.lookup(fd), (e: unknown) => e instanceof SyscallError && e.code === 'ENOENT');
}

suite('SK_STORAGE: per-socket values keyed by socket fd', () => {
  const m = storageMap('sk_store', MapType.SKStorage);
  if (m === undefined) return;
  using _ = m;
  const socks = [0, 1, 2].map(() => {
    const fd = native().socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */, 0);
    assert.ok(fd >= 0);
    open.push(fd);
    return fd;
  });
  exercise(m, socks);
});

suite('INODE_STORAGE: per-inode values keyed by file fd', () => {
  const m = storageMap('inode_store', MapType.InodeStorage);
  if (m === undefined) return;
  using _ = m;
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-inode-'));
  try {
    const fds = [0, 1].map((i) => {
      writeFileSync(join(dir, `f${i}`), 'x');
      const fd = openSync(join(dir, `f${i}`), 'r');
      open.push(fd);
      return fd;
    });
    exercise(m, fds);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

suite('TASK_STORAGE: can be created (its keys are pidfds)', () => {
  const m = storageMap('task_store', MapType.TaskStorage);
  if (m === undefined) return;
  using _ = m;
  assert.is(m.info().type, MapType.TaskStorage);
});

suite('CGRP_STORAGE: per-cgroup values keyed by cgroup v2 directory fd', () => {
  const m = storageMap('cgrp_store', MapType.CgrpStorage);
  if (m === undefined) return;
  using _ = m;
  const line = readFileSync('/proc/mounts', 'latin1').split('\n').find((l) => l.split(' ')[2] === 'cgroup2');
  if (line === undefined) {
    console.log('  (CGRP_STORAGE: created, not filled: no cgroup v2 mount)');
    return;
  }
  const fd = openSync(line.split(' ')[1]!, 'r');
  open.push(fd);
  exercise(m, [fd]);
});

suite.run();
