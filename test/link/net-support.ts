// Shared by the network attach tests: the net_attach.o fixture loaded, its counters read, and ping
// (ICMP echo over a raw socket through the bridge: machines here have no ping binary), sent from the
// test's namespace across a veth pair into a test netns and bounded in count and time.
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { System } from '../../src/program/system.js';
import type { Program } from '../../src/program/program.js';
import type { EbpfMap } from '../../src/map/map.js';
import { ids } from '../../src/sys/bpf.js';
import { native } from '../../src/sys/native.js';
import * as assert from 'uvu/assert';
import { withNetns, type Netns } from '../kernel/support.js';
import { fixturesDir } from '../elf/fixture-files.js';
import { queryXdpPrograms } from '../../src/link/xdp.js';
import { queryTcx } from '../../src/link/tc.js';
import { hasClsact } from '../../src/netlink/tc.js';
import { interfaceIndex } from '../../src/netlink/link.js';
import { haveLinkType } from '../../src/features/link.js';
import { LinkType } from '../../src/sys/generated.js';

export const NET_FIXTURE = join(fixturesDir, 'net_attach.o');

/** Counter indexes of net_attach.c. */
export const COUNTER = { xdp: 0, xdpB: 1, firewall: 2, tcIngress: 3, tcEgress: 4, order: 5, socketKept: 6, socketDropped: 7 } as const;

/** net_attach.o loaded, with the named programs loaded. */
export class NetFixture implements Disposable {
  readonly system = new System().loadElf(NET_FIXTURE);

  program(name: string): Program {
    const program = this.system.getProgramByName(name);
    if (program === undefined) throw new Error(`net_attach.o has no program ${name}`);
    return program.loaded ? program : program.load();
  }

  get counters(): EbpfMap {
    const map = this.system.getMapByName('counters');
    if (map === undefined) throw new Error('net_attach.o has no counters map');
    return map;
  }

  get blocked(): EbpfMap {
    const map = this.system.getMapByName('blocked');
    if (map === undefined) throw new Error('net_attach.o has no blocked map');
    return map;
  }

  counter(index: number): number {
    return this.counters.lookupInt(index);
  }

  resetCounters(): void {
    for (let i = 0; i < 8; i++) this.counters.update(i, 0n);
  }

  [Symbol.dispose](): void {
    this.system.close();
  }
}

const AF_INET = 2;
const SOCK_RAW = 3;
const IPPROTO_ICMP = 1;
const MSG_DONTWAIT = 0x40;

function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ipv4Bytes(address: string): number[] {
  return address.split('.').map((part) => Number(part));
}

let pingId = (process.pid & 0xffff) ^ 0x5a5a;

/**
 * Sends `count` ICMP echo requests to address (one at a time, each waiting up to `waitMs` for its
 * reply) and returns how many replies came back. Bounded: at most count × waitMs.
 */
export async function ping(address: string, count: number, waitMs = 1000): Promise<number> {
  const bridge = native();
  const fd = bridge.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (fd < 0) throw new Error(`ping: socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) failed: errno ${-fd}`);
  const id = (pingId = (pingId + 1) & 0xffff);
  const target = ipv4Bytes(address);
  const sockaddr = new Uint8Array(16);
  new Uint16Array(sockaddr.buffer, 0, 1)[0] = AF_INET;
  sockaddr.set(target, 4);
  const buffer = new Uint8Array(2048);
  let replies = 0;
  try {
    for (let seq = 1; seq <= count; seq++) {
      const request = new Uint8Array(16);
      request[0] = 8; // echo request
      request[4] = id >> 8;
      request[5] = id & 0xff;
      request[6] = seq >> 8;
      request[7] = seq & 0xff;
      request.set([0x65, 0x62, 0x70, 0x66, 0x74, 0x65, 0x73, 0x74], 8); // "ebpftest"
      const sum = checksum(request);
      request[2] = sum >> 8;
      request[3] = sum & 0xff;
      const sent = bridge.sendmsg(fd, request, sockaddr);
      if (sent < 0) throw new Error(`ping ${address}: sendmsg failed: errno ${-sent}`);
      const deadline = Date.now() + waitMs;
      for (let got = false; !got && Date.now() < deadline; ) {
        const n = bridge.recvmsg(fd, buffer, MSG_DONTWAIT);
        if (n < 0) {
          await sleep(5);
          continue;
        }
        const ihl = (buffer[0]! & 0x0f) * 4;
        const fromTarget = target.every((byte, i) => buffer[12 + i] === byte);
        const icmp = buffer.subarray(ihl, n);
        if (fromTarget && icmp[0] === 0 && ((icmp[4]! << 8) | icmp[5]!) === id && ((icmp[6]! << 8) | icmp[7]!) === seq) {
          replies++;
          got = true;
        }
      }
    }
  } finally {
    bridge.close(fd);
  }
  return replies;
}

/** The ids of the live bpf_links. */
export function linkIds(): Set<number> {
  return new Set(ids('link'));
}

/** `tc` output, for leftovers checks: qdiscs and filters of a device. */
export function tc(...args: string[]): string {
  return execFileSync('tc', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** withNetns, then a check that nothing of the test's is left on the host end (after its `using`s ran). */
export async function withCleanNetns<R>(fn: (netns: Netns) => Promise<R> | R): Promise<R> {
  return withNetns(async (netns) => {
    const result = await fn(netns);
    assertNothingLeft(netns.hostIf);
    return result;
  });
}

/** Fails the test if the interface still has an XDP program, a tcx program or a clsact qdisc. */
export function assertNothingLeft(iface: string): void {
  assert.is(queryXdpPrograms(iface).mode, 'none', `an XDP program is left on ${iface}`);
  if (haveLinkType(LinkType.TCX).supported) {
    for (const direction of ['ingress', 'egress'] as const) assert.equal(queryTcx(iface, direction).programs, [], `a tcx program is left on ${iface} ${direction}`);
  }
  assert.is(hasClsact(interfaceIndex(iface)), false, `a clsact qdisc is left on ${iface}`);
}
