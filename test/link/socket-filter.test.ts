// Socket filters on real UDP sockets (loopback): the filter keeps datagrams whose payload starts with
// 'y' and drops the others; the socket given as a Node dgram socket, a net socket or a raw fd.
import dgram from 'node:dgram';
import net from 'node:net';
import { openSync, closeSync } from 'node:fs';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import * as assert from 'uvu/assert';
import { attachSocketFilter, socketFdOf, SocketFilterAttachType, SocketFilterAttachment, SocketFilterResult } from '../../src/link/socket-filter.js';
import { AttachRefusedError } from '../../src/link/attach-error.js';
import { native } from '../../src/sys/native.js';
import { kernelSuite } from '../kernel/support.js';
import { COUNTER, NetFixture } from './net-support.js';

const test = kernelSuite('socket filter attach');

/** Sends each message to the receiver and returns what it got within a short, bounded wait. */
async function exchange(receiver: dgram.Socket, messages: string[]): Promise<string[]> {
  const got: string[] = [];
  const onMessage = (data: Buffer): void => {
    got.push(data.toString());
  };
  receiver.on('message', onMessage);
  const sender = dgram.createSocket('udp4');
  try {
    const { port } = receiver.address();
    for (const message of messages) {
      await new Promise<void>((resolve, reject) => sender.send(message, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    }
    const expected = messages.filter((m) => m.startsWith('y')).length;
    for (let waited = 0; waited < 2000 && got.length < messages.length; waited += 20) {
      await sleep(20);
      if (got.length >= expected && waited >= 200) break;
    }
    return got;
  } finally {
    sender.close();
    receiver.off('message', onMessage);
  }
}

async function boundReceiver(): Promise<dgram.Socket> {
  const receiver = dgram.createSocket('udp4');
  receiver.bind(0, '127.0.0.1');
  await once(receiver, 'listening');
  return receiver;
}

test('a socket filter on a Node dgram socket passes only the datagrams it keeps; detach lets all through', async () => {
  using fixture = new NetFixture();
  const receiver = await boundReceiver();
  try {
    const attachment = attachSocketFilter(fixture.program('socket_yes'), { socketFd: receiver, attachType: SocketFilterAttachType.Filter });
    assert.instance(attachment, SocketFilterAttachment);
    assert.is(attachment.info().kind, 'socket_filter');
    assert.equal(await exchange(receiver, ['yes 1', 'no 1', 'yes 2', 'no 2', 'yes 3']), ['yes 1', 'yes 2', 'yes 3']);
    assert.is(fixture.counter(COUNTER.socketKept), 3);
    assert.is(fixture.counter(COUNTER.socketDropped), 2);
    attachment.detach();
    attachment.detach();
    assert.equal(await exchange(receiver, ['no 3', 'yes 4']), ['no 3', 'yes 4']);
    assert.is(fixture.counter(COUNTER.socketKept), 3, 'the program no longer runs');
  } finally {
    receiver.close();
  }
});

test('goebpf\'s form: a raw socket fd, as a number or in SocketFilterAttachParams', async () => {
  using fixture = new NetFixture();
  const receiver = await boundReceiver();
  try {
    const fd = socketFdOf(receiver);
    assert.ok(fd > 2);
    {
      using _attachment = attachSocketFilter(fixture.program('socket_yes'), fd);
      assert.equal(await exchange(receiver, ['no', 'yes']), ['yes']);
    }
    {
      using _attachment = attachSocketFilter(fixture.program('socket_yes'), { socketFd: fd });
      assert.equal(await exchange(receiver, ['nope', 'yep']), ['yep']);
    }
    {
      using _attachment = attachSocketFilter(fixture.program('socket_yes'), receiver); // the Node socket itself
      assert.equal(await exchange(receiver, ['nah', 'yes!']), ['yes!']);
    }
    assert.equal(await exchange(receiver, ['no again']), ['no again']);
  } finally {
    receiver.close();
  }
});

test('a net socket\'s fd is read from its handle; a filter attaches to a TCP listener', async () => {
  using fixture = new NetFixture();
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const fd = socketFdOf(server);
    assert.ok(fd > 2);
    using attachment = attachSocketFilter(fixture.program('socket_yes'), { socketFd: server });
    assert.is(attachment.target, `socket fd ${fd}`);
  } finally {
    server.close();
  }
});

test('SO_ATTACH_REUSEPORT_EBPF on a SO_REUSEPORT socket, detached with SO_DETACH_REUSEPORT_BPF', () => {
  using fixture = new NetFixture();
  const bridge = native();
  const fd = bridge.socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */, 0);
  assert.ok(fd > 0);
  try {
    assert.is(bridge.setsockopt(fd, 1 /* SOL_SOCKET */, 15 /* SO_REUSEPORT */, new Int32Array([1])), 0);
    const address = new Uint8Array(16);
    new Uint16Array(address.buffer, 0, 1)[0] = 2;
    address.set([127, 0, 0, 1], 4);
    assert.is(bridge.bind(fd, address), 0);
    const attachment = attachSocketFilter(fixture.program('socket_yes'), { socketFd: fd, attachType: SocketFilterAttachType.ReusePort });
    assert.is(attachment.kind, 'sk_reuseport');
    attachment.detach();
    // Nothing is attached any more: a second detach by hand finds nothing.
    assert.is(bridge.setsockopt(fd, 1, 68 /* SO_DETACH_REUSEPORT_BPF */, new Int32Array(1)), -2 /* ENOENT */);
    // An sk_reuseport program goes on the group by default.
    const reuseport = attachSocketFilter(fixture.program('reuseport_pass'), fd);
    assert.is(reuseport.kind, 'sk_reuseport');
    reuseport.detach();
    assert.is(bridge.setsockopt(fd, 1, 68, new Int32Array(1)), -2);
  } finally {
    bridge.close(fd);
  }
});

test('bad input: wrong program type, not a socket, an unbound dgram socket, an unknown attach type', () => {
  using fixture = new NetFixture();
  const program = fixture.program('socket_yes');
  const unbound = dgram.createSocket('udp4');
  const file = openSync('/dev/null', 'r');
  try {
    assert.throws(() => attachSocketFilter(fixture.program('xdp_count'), { socketFd: 0 }), /program 'xdp_count': cannot attach to socket_filter socket fd 0: it is a xdp program/);
    assert.throws(() => attachSocketFilter(program, { socketFd: file }), (e: unknown) => e instanceof AttachRefusedError && e.code === 'ENOTSOCK' && /not a socket/.test(e.message));
    assert.throws(() => attachSocketFilter(program, { socketFd: unbound }), /no file descriptor yet \(bind or connect it first\)/);
    assert.throws(() => attachSocketFilter(program, { socketFd: 0, attachType: 51 as SocketFilterAttachType }), /attachType 51 is not a SocketFilterAttachType/);
  } finally {
    closeSync(file);
    unbound.close();
  }
  assert.equal(SocketFilterResult, { Deny: 0, Allow: 1, KeepAll: 0xffffffff });
  assert.is(SocketFilterAttachType.Filter, 50);
  assert.is(SocketFilterAttachType.ReusePort, 52);
});

test.run();
