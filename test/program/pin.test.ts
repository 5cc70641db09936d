// Pinning programs on a private bpffs and reopening them, here and from a second Node process.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { EbpfMap, MapType } from '../../src/map/map.js';
import { Program, ProgramType } from '../../src/program/program.js';
import { SyscallError } from '../../src/sys/errors.js';
import { programs, XDP } from '../support/asm.js';
import { kernelSuite, withBpffs } from '../kernel/support.js';

const test = kernelSuite('program pin');
const child = fileURLToPath(new URL('./reopen-pinned.js', import.meta.url));

test('a pinned program outlives its fd and is reopened by another process', async () => {
  await withBpffs((dir) => {
    const path = join(dir, 'xdp_drop_ipv4');
    let id: number;
    let tag: string;
    {
      using program = new Program({ name: 'xdp_drop_ipv4', section: 'xdp', type: ProgramType.XDP, license: 'GPL', instructions: programs.xdpDropIpv4() }).load();
      program.pin(path);
      assert.is(program.pinnedPath, path);
      ({ id, tag } = program.info());
    }
    assert.ok(existsSync(path));
    const seen = JSON.parse(execFileSync(process.execPath, [child, path, String(0x0800)], { encoding: 'utf8' })) as Record<string, unknown>;
    assert.equal(seen, { name: 'xdp_drop_ipv4', type: ProgramType.XDP, id, tag, pid: seen['pid'], retval: XDP.DROP, pinnedPath: path });
    assert.is.not(seen['pid'], process.pid);
    const reopened = Program.fromPinned(path);
    assert.is(reopened.info().id, id);
    assert.is(reopened.testRun({ data: new Uint8Array(64) }).retval, XDP.PASS);
    reopened.unpin();
    assert.not.ok(existsSync(path));
    assert.is(reopened.pinnedPath, undefined);
    reopened.unpin();
    reopened.close();
    assert.is([...Program.ids()].includes(id), false);
  });
});

test('pin errors name the program and the path; fromPinned of nothing is ENOENT', async () => {
  await withBpffs((dir) => {
    using program = new Program({ name: 'xdp_pass', section: 'xdp', type: ProgramType.XDP, license: 'GPL', instructions: programs.xdpReturn(XDP.PASS) }).load();
    const path = join(dir, 'twice');
    program.pin(path);
    try {
      program.pin(path);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, SyscallError);
      assert.is((e as SyscallError).code, 'EEXIST');
      assert.match((e as SyscallError).message, `BPF_OBJ_PIN: EEXIST (File exists): program 'xdp_pass' (section 'xdp') at ${path}`);
    }
    program.unpin();
    assert.throws(() => Program.fromPinned(join(dir, 'missing')), /BPF_OBJ_GET: ENOENT/);
    using map = EbpfMap.create({ type: MapType.Array, keySize: 4, valueSize: 4, maxEntries: 1 });
    map.pin(join(dir, 'a_map'));
    assert.throws(() => Program.fromPinned(join(dir, 'a_map')), /Program.fromFd: fd \d+ is not a BPF program \(it is anon_inode:bpf-map\)/);
  });
});

test.run();
