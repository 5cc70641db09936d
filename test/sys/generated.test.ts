// The generated tables agree with the kernel ABI's fixed points (values that can never change).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ATTR, ATTR_SIZE, AttachType, BPF_ANY, BPF_EXIST, BPF_F_MMAPABLE, BPF_F_NO_PREALLOC, BPF_NOEXIST, BpfCmd, LinkType,
  MAP_INFO, MapType, PROG_INFO, ProgramType, attachTypeName, bpfCmdName, mapTypeName, programTypeName,
} from '../../src/sys/generated.js';

test('MapType covers goebpf names in TypeScript casing and newer kernel types', () => {
  const goebpf: Array<[keyof typeof MapType, number]> = [
    ['Hash', 1], ['Array', 2], ['ProgArray', 3], ['PerfEventArray', 4], ['PerCPUHash', 5], ['PerCPUArray', 6],
    ['StackTrace', 7], ['CgroupArray', 8], ['LRUHash', 9], ['LRUPerCPUHash', 10], ['LPMTrie', 11], ['ArrayOfMaps', 12],
    ['HashOfMaps', 13], ['DevMap', 14], ['SockMap', 15], ['CPUMap', 16], ['XSKMap', 17], ['SockHash', 18],
    ['CgroupStorage', 19], ['ReusePortSockArray', 20], ['PerCPUCgroupStorage', 21], ['Queue', 22], ['Stack', 23],
    ['SKStorage', 24],
  ];
  for (const [name, value] of goebpf) assert.is(MapType[name], value, name);
  assert.is(MapType.RingBuf, 27);
  assert.is(MapType.BloomFilter, 30);
  assert.is(mapTypeName(MapType.LPMTrie), 'lpm_trie');
  assert.is(mapTypeName(9999), 'map_type(9999)');
});

test('ProgramType, AttachType, LinkType and BpfCmd', () => {
  assert.is(ProgramType.SocketFilter, 1);
  assert.is(ProgramType.Kprobe, 2);
  assert.is(ProgramType.SchedCLS, 3);
  assert.is(ProgramType.XDP, 6);
  assert.is(programTypeName(6), 'xdp');
  assert.is(AttachType.CgroupInetIngress, 0);
  assert.is(attachTypeName(AttachType.XDP), 'xdp');
  assert.is(LinkType.XDP, 6);
  assert.is(BpfCmd.MapCreate, 0);
  assert.is(BpfCmd.ObjGetInfoByFd, 15);
  assert.is(bpfCmdName(BpfCmd.MapLookupBatch), 'BPF_MAP_LOOKUP_BATCH');
  assert.is(bpfCmdName(BpfCmd.ProgRun), 'BPF_PROG_TEST_RUN');
});

test('flags and bpf_attr layouts', () => {
  assert.equal([BPF_ANY, BPF_NOEXIST, BPF_EXIST], [0, 1, 2]);
  assert.is(BPF_F_NO_PREALLOC, 1);
  assert.is(BPF_F_MMAPABLE, 1 << 10);
  assert.equal(ATTR.MAP_ELEM.key, { offset: 8, size: 8 });
  assert.equal(ATTR.MAP_ELEM.value, ATTR.MAP_ELEM.next_key);
  assert.is(ATTR.MAP_CREATE.map_name.size, 16);
  assert.equal(ATTR.MAP_BATCH.count, { offset: 32, size: 4 });
  assert.ok(ATTR_SIZE >= ATTR.PROG_LOAD.SIZE);
  assert.equal(ATTR.LINK_CREATE.perf_event.bpf_cookie, { offset: 16, size: 8 });
  assert.equal(MAP_INFO.key_size, { offset: 8, size: 4 });
  assert.equal(PROG_INFO.tag, { offset: 8, size: 8 });
});

test.run();
