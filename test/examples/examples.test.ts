// goebpf's examples ported to examples/, each run the way a user would: `node dist/examples/NAME/main.js`
// with arguments, in a test netns where it takes an interface, traffic sent at it, its printed counts
// read, then Ctrl-C (SIGINT): it must detach and exit 0, leaving nothing attached.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import * as assert from 'uvu/assert';
import { kernelSuite, testNeeding, withNetns } from '../kernel/support.js';
import { ping } from '../link/net-support.js';

const test = kernelSuite('examples');
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A running example: its output so far, waits on it, and a Ctrl-C that resolves with its exit code. */
class Example {
  readonly child: ChildProcess;
  output = '';
  #exit: Promise<number | null>;

  constructor(name: string, args: string[], netns?: string) {
    const script = join(root, 'dist', 'examples', name, 'main.js');
    const [file, argv] = netns === undefined ? [process.execPath, [script, ...args]] : ['ip', ['netns', 'exec', netns, process.execPath, script, ...args]];
    this.child = spawn(file, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.#exit = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Waits (at most timeoutMs) until the output matches; fails with the output otherwise. */
  async waitFor(pattern: RegExp, timeoutMs = 10000): Promise<RegExpMatchArray> {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(25)) {
      const match = pattern.exec(this.output);
      if (match !== null) return match;
      if (this.child.exitCode !== null) break;
    }
    throw new Error(`no ${pattern} in the example's output:\n${this.output}`);
  }

  /** Ctrl-C; the exit code (killed outright after 10 s). */
  async interrupt(): Promise<number | null> {
    this.child.kill('SIGINT');
    const timeout = setTimeout(() => this.child.kill('SIGKILL'), 10000);
    try {
      return await this.#exit;
    } finally {
      clearTimeout(timeout);
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

function xdpOf(netns: string | undefined, iface: string): string {
  const args = netns === undefined ? ['-j', 'link', 'show', iface] : ['-n', netns, '-j', 'link', 'show', iface];
  const [link] = JSON.parse(execFileSync('ip', args, { encoding: 'utf8' })) as Array<{ xdp?: unknown }>;
  return link?.xdp === undefined ? 'none' : JSON.stringify(link.xdp);
}

testNeeding(test, 'xdp-packet-counter counts the pings an interface in a netns receives, in driver mode', ['ip'], async () => {
  await withNetns(async (ns) => {
    const example = new Example('xdp-packet-counter', [ns.peerIf, '--mode', 'driver', '--interval', '100'], ns.name);
    try {
      await example.waitFor(/packet_count attached to/);
      assert.is(await ping(ns.peerAddress, 3), 3);
      await example.waitFor(/ICMP: 3 {2}TCP: 0 {2}UDP: 0/);
      assert.is(await example.interrupt(), 0, example.output);
      assert.match(example.output, /detached/);
      assert.is(xdpOf(ns.name, ns.peerIf), 'none');
    } finally {
      example.kill();
    }
  });
});

testNeeding(test, 'basic-firewall drops the blocked CIDR, counts its matches, and lets traffic through once stopped', ['ip'], async () => {
  await withNetns(async (ns) => {
    const example = new Example('basic-firewall', [ns.peerIf, '192.0.2.0/24', `${ns.hostAddress}/32`, '--mode', 'generic', '--interval', '100'], ns.name);
    try {
      await example.waitFor(/firewall attached to/);
      assert.is(await ping(ns.peerAddress, 2, 300), 0, 'dropped');
      await example.waitFor(new RegExp(`192\\.0\\.2\\.0/24: 0 {2}${ns.hostAddress.replaceAll('.', '\\.')}/32: 2`));
      assert.is(await example.interrupt(), 0, example.output);
      assert.is(await ping(ns.peerAddress, 1), 1, 'passes once the firewall is gone');
    } finally {
      example.kill();
    }
  });
});

testNeeding(test, 'redirect-map sends what one veth receives out of another (DEVMAP), generic mode', ['ip'], async () => {
  await withNetns(async (first) => {
    await withNetns(async (second) => {
      const rxPackets = (): number => {
        const [link] = JSON.parse(execFileSync('ip', ['-n', second.name, '-s', '-j', 'link', 'show', second.peerIf], { encoding: 'utf8' })) as Array<{ stats64: { rx: { packets: number } } }>;
        return link!.stats64.rx.packets;
      };
      assert.is(await ping(first.peerAddress, 1), 1, 'neighbours resolved before redirecting');
      const example = new Example('redirect-map', [first.hostIf, second.hostIf, '--mode', 'generic', '--interval', '100']);
      try {
        await example.waitFor(/redirect attached to/);
        const before = rxPackets();
        // The echo replies coming into first.hostIf leave through second.hostIf: no reply reaches us.
        assert.is(await ping(first.peerAddress, 3, 300), 0);
        await example.waitFor(/redirected: [3-9]/);
        assert.ok(rxPackets() - before >= 3, `${second.peerIf} received ${rxPackets() - before} packets`);
        assert.is(await example.interrupt(), 0, example.output);
        assert.is(xdpOf(undefined, first.hostIf), 'none');
        assert.is(await ping(first.peerAddress, 1), 1);
      } finally {
        example.kill();
      }
    });
  });
});

testNeeding(test, 'socket-filter-counter counts the datagrams its UDP socket receives in a netns', ['ip'], async () => {
  await withNetns(async (ns) => {
    const port = 20000 + (process.pid % 20000);
    const example = new Example('socket-filter-counter', ['--host', ns.peerAddress, '--port', String(port), '--interval', '100'], ns.name);
    const sender = dgram.createSocket('udp4');
    try {
      await example.waitFor(/packet_counter attached to UDP/);
      for (const text of ['one', 'two', 'three', 'four']) {
        await new Promise<void>((resolve, reject) => sender.send(text, port, ns.peerAddress, (e) => (e ? reject(e) : resolve())));
      }
      // 4 datagrams of 3 to 5 bytes: 8-byte UDP headers + payloads = 47 bytes as the filter sees them.
      await example.waitFor(/packets: 4 {2}bytes: 47 {2}received: 4/);
      assert.is(await example.interrupt(), 0, example.output);
      assert.match(example.output, /detached/);
    } finally {
      sender.close();
      example.kill();
    }
  });
});

testNeeding(test, 'xdp-dump prints the TCP SYN a client in a netns sends across the veth pair, and detaches on Ctrl-C', ['ip'], async () => {
  await withNetns(async (ns) => {
    const example = new Example('xdp-dump', ['--interface', ns.hostIf]);
    const server = createServer();
    try {
      await example.waitFor(/listening for TCP SYNs on/);
      await new Promise<void>((resolve) => server.listen(0, ns.hostAddress, resolve));
      const port = (server.address() as AddressInfo).port;
      server.on('connection', (socket) => socket.destroy());
      execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, '-e',
        `require('net').connect(${port}, '${ns.hostAddress}').on('connect', function () { this.destroy(); })`], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10000 });
      const [, source] = await example.waitFor(new RegExp(`SYN (${ns.peerAddress.replaceAll('.', '\\.')}:\\d+) -> ${ns.hostAddress.replaceAll('.', '\\.')}:${port} `));
      assert.ok(source !== undefined);
      assert.is(await example.interrupt(), 0, example.output);
      assert.match(example.output, /received \d+ events, lost 0/);
      assert.is(xdpOf(undefined, ns.hostIf), 'none');
    } finally {
      server.close();
      example.kill();
    }
  });
});

test('an example given a missing interface says so and exits 1', async () => {
  const example = new Example('xdp-packet-counter', ['ebnone0']);
  try {
    const code = await new Promise<number | null>((resolve) => example.child.once('exit', resolve));
    assert.is(code, 1);
    assert.match(example.output, /error: RTM_GETLINK: ENODEV .*program 'packet_count' on xdp ebnone0: no interface named "ebnone0"/);
  } finally {
    example.kill();
  }
});

test.run();
