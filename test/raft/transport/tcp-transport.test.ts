// TcpTransport on real sockets (127.0.0.1, ephemeral ports): delivery, batching, bounded queues,
// unreachable reports, reconnection, malformed input, hello refusal, and teardown without
// leftover handles.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { EntryType, MessageType, type Message, type NodeId } from '../../../src/raft/core/index.js';
import { FrameType, encodeFrame } from '../../../src/raft/transport/frame-codec.js';
import { encodeMessageBatch } from '../../../src/raft/transport/message-codec.js';
import { TcpTransport, parseHostPort, type TcpTransportOptions } from '../../../src/raft/transport/tcp-transport.js';
import { HelloAuth, StreamKind, decodeErrorReason, encodeHello } from '../../../src/raft/transport/transport-wire.js';
import { connectAll, startMember, type Member } from './transport-test-kit.js';

const CLUSTER = 'test-cluster';
const TEST_TIMEOUT_MS = 60_000;

const open: TcpTransport[] = [];
after(async () => {
  await Promise.all(open.map((t) => t.close()));
});

function member(id: NodeId, options: Partial<TcpTransportOptions> = {}): Promise<Member> {
  return startMember(id, { clusterId: CLUSTER, ...options }, open);
}

const connect = connectAll;

function msg(type: Message['type'], from: NodeId, to: NodeId, fields: Partial<Message> = {}): Message {
  return {
    type,
    from,
    to,
    term: 3,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    snapshot: null,
    context: '',
    ...fields,
  };
}

function app(from: NodeId, to: NodeId, index: number, dataBytes = 128): Message {
  return msg(MessageType.App, from, to, {
    index: index - 1,
    logTerm: 3,
    commit: index - 1,
    entries: [{ term: 3, index, type: EntryType.Normal, data: Buffer.alloc(dataBytes, index % 251) }],
  });
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A port nobody listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A raw client: connects, writes `bytes`, collects what comes back until the server closes. */
async function rawExchange(addr: string, bytes: Buffer): Promise<{ received: Buffer; closedMs: number }> {
  const { host, port } = parseHostPort(addr);
  const socket = net.connect({ host, port });
  const chunks: Buffer[] = [];
  const startedMs = Date.now();
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(bytes);
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { received: Buffer.concat(chunks), closedMs: Date.now() - startedMs };
}

function hello(from: NodeId, to: NodeId, clusterId = CLUSTER): Buffer {
  return encodeFrame(FrameType.Hello, encodeHello({ stream: StreamKind.Raft, from, to, clusterId, auth: HelloAuth.None, nonce: Buffer.alloc(0) }));
}

const HANDLE_KINDS = /^(TCPSocketWrap|TCPServerWrap|TCPConnectWrap|TCPWRAP|PipeWrap|Timeout|Immediate)$/;
function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) if (HANDLE_KINDS.test(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

void describe('TcpTransport', { timeout: TEST_TIMEOUT_MS }, () => {
  void test('three members exchange messages; each sender\'s messages arrive in order', async () => {
    const members = await Promise.all([member(1), member(2), member(3)]);
    connect(members);
    const perPair = 200;
    for (let i = 1; i <= perPair; i++) {
      for (const from of members) {
        const out = members.filter((m) => m.id !== from.id).map((to) => app(from.id, to.id, i, 16));
        from.transport.send(out);
      }
    }
    await waitFor('all messages', () => members.every((m) => m.handler.messages.length === 2 * perPair));
    for (const m of members) {
      for (const from of members.filter((x) => x.id !== m.id)) {
        const got = m.handler.messages.filter((x) => x.from === from.id);
        assert.deepEqual(got.map((x) => x.entries[0].index), Array.from({ length: perPair }, (_, k) => k + 1));
        assert.ok(got.every((x) => x.to === m.id && x.entries[0].data.length === 16));
      }
      assert.deepEqual(m.handler.unreachable, []);
    }
    await Promise.all(members.map((m) => m.transport.close()));
  });

  void test('batching: thousands of sends in one tick leave in a handful of frames', async () => {
    const [a, b] = await Promise.all([member(1), member(2)]);
    connect([a, b]);
    a.transport.send([msg(MessageType.Heartbeat, 1, 2)]); // dial first
    await waitFor('first message', () => b.handler.messages.length === 1);
    const before = a.transport.metrics();
    const count = 3_000;
    for (let i = 1; i <= count; i++) a.transport.send([app(1, 2, i, 64)]);
    await waitFor('batch', () => b.handler.messages.length === 1 + count);
    const metrics = a.transport.metrics();
    const frames = metrics.framesSent - before.framesSent;
    const messages = metrics.messagesSent - before.messagesSent;
    assert.equal(messages, count);
    assert.ok(frames <= 10, `${count} messages took ${frames} frames`);
    assert.equal(b.transport.metrics().messagesReceived, 1 + count);
    assert.equal(metrics.messagesDropped, 0);
    await Promise.all([a.transport.close(), b.transport.close()]);
  });

  void test('a full queue drops the excess and reports the peer unreachable (count and bytes bounds)', async () => {
    const [a, b] = await Promise.all([member(1, { maxQueuedMessagesPerPeer: 100, maxQueuedBytesPerPeer: 1 << 20 }), member(2)]);
    connect([a, b]);
    // All in one tick, while the connection is still being dialed: the queue holds 100.
    a.transport.send(Array.from({ length: 150 }, (_, k) => app(1, 2, k + 1, 8)));
    assert.equal(a.transport.queues().get(2)?.messages, 100);
    await waitFor('unreachable report', () => a.handler.unreachable.includes(2));
    assert.equal(a.transport.metrics().messagesDropped, 50);
    await waitFor('queued messages', () => b.handler.messages.length === 100);
    // The byte bound: 20 messages of 64 KiB do not fit in 1 MiB.
    a.transport.send(Array.from({ length: 20 }, (_, k) => app(1, 2, 1_000 + k, 64 * 1024)));
    assert.ok(a.transport.queues().get(2)!.bytes <= 1 << 20);
    await waitFor('byte-bounded messages', () => b.handler.messages.length >= 115);
    assert.ok(a.transport.metrics().messagesDropped > 50);
    await Promise.all([a.transport.close(), b.transport.close()]);
  });

  void test('a message larger than a frame is dropped with a warning and reported', async () => {
    const [a, b] = await Promise.all([member(1, { maxFrameBytes: 64 * 1024, snapshotChunkSizeBytes: 32 * 1024 }), member(2)]);
    connect([a, b]);
    a.transport.send([app(1, 2, 1, 100 * 1024), app(1, 2, 2, 100)]);
    await waitFor('the small one', () => b.handler.messages.length === 1);
    assert.equal(b.handler.messages[0].entries[0].index, 2);
    assert.ok(a.logger.has('warn', /larger than a frame/));
    assert.deepEqual(a.handler.unreachable, [2]);
    await Promise.all([a.transport.close(), b.transport.close()]);
  });

  void test('a peer that is down is reported unreachable, and sends during the backoff too', async () => {
    const a = await member(1, { reconnectBackoffInitialMs: 500, reconnectBackoffMaxMs: 1_000 });
    a.transport.setPeers([{ id: 1, raftAddr: a.addr }, { id: 9, raftAddr: `127.0.0.1:${await deadPort()}` }]);
    a.transport.send([msg(MessageType.Heartbeat, 1, 9)]);
    await waitFor('unreachable after refused connect', () => a.handler.unreachable.length === 1);
    assert.deepEqual(a.handler.unreachable, [9]);
    assert.equal(a.transport.queues().get(9)?.state, 'backoff');
    a.transport.send([msg(MessageType.Heartbeat, 1, 9)]);
    await waitFor('unreachable during backoff', () => a.handler.unreachable.length === 2);
    assert.equal(a.transport.metrics().connectAttempts, 1, 'no redial during the backoff');
    assert.ok(a.logger.has('warn', /cannot connect to peer/));
    // A peer with no address at all: dropped and reported.
    a.transport.send([msg(MessageType.Heartbeat, 1, 77)]);
    await waitFor('unreachable for unknown peer', () => a.handler.unreachable.includes(77));
    await a.transport.close();
  });

  void test('reconnects after the peer restarts on the same address', async () => {
    const a = await member(1);
    let b = await member(2);
    connect([a, b]);
    a.transport.send([msg(MessageType.Heartbeat, 1, 2, { commit: 1 })]);
    await waitFor('first delivery', () => b.handler.messages.length === 1);
    const port = parseHostPort(b.addr).port;
    await b.transport.close();
    // The connection loss is noticed (and reported) without sending anything.
    await waitFor('loss reported', () => a.handler.unreachable.includes(2));
    assert.ok(a.logger.has('warn', /connection to peer lost/));
    b = await member(2, { listenPort: port });
    // The driver keeps sending heartbeats; one gets through once the backoff has passed.
    const deadline = Date.now() + 5_000;
    while (b.handler.messages.length === 0) {
      assert.ok(Date.now() < deadline, 'no delivery after the restart');
      a.transport.send([msg(MessageType.Heartbeat, 1, 2, { commit: 2 })]);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(b.handler.messages[0].commit, 2);
    assert.ok(a.transport.metrics().connectAttempts >= 2);
    await Promise.all([a.transport.close(), b.transport.close()]);
  });

  void test('a peer that stops reading: the queue stays bounded and the stalled connection is dropped', async () => {
    // A "peer" that accepts and never reads: the kernel buffers fill, then write() says wait.
    const sink = net.createServer({ pauseOnConnect: true });
    const held: net.Socket[] = [];
    sink.on('connection', (socket) => held.push(socket));
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    const maxQueuedBytesPerPeer = 2 << 20;
    const a = await member(1, { maxQueuedBytesPerPeer, writeStallTimeoutMs: 500 });
    a.transport.setPeers([{ id: 5, raftAddr: `127.0.0.1:${(sink.address() as net.AddressInfo).port}` }]);
    let maxQueued = 0;
    const startedMs = Date.now();
    while (!a.handler.unreachable.includes(5) && Date.now() - startedMs < 10_000) {
      a.transport.send(Array.from({ length: 16 }, (_, k) => app(1, 5, k + 1, 32 * 1024)));
      maxQueued = Math.max(maxQueued, a.transport.queues().get(5)?.bytes ?? 0);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(a.handler.unreachable.includes(5), 'overflow reported');
    assert.ok(maxQueued <= maxQueuedBytesPerPeer, `queued ${maxQueued} bytes`);
    await waitFor('stall detected', () => a.logger.lines.some((l) => /did not drain/.test(String(l.fields.reason))), 5_000);
    await a.transport.close();
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => sink.close(() => resolve()));
  });

  void test('bad input closes the connection with a warning and never crashes the member', async () => {
    const [a, b] = await Promise.all([member(1), member(2)]);
    connect([a, b]);
    const cases: [string, Buffer][] = [
      ['garbage', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
      ['frame before hello', encodeFrame(FrameType.Messages, encodeMessageBatch([msg(MessageType.Heartbeat, 1, 2)]))],
      ['bad checksum', (() => {
        const frame = Buffer.concat([hello(1, 2), encodeFrame(FrameType.Messages, encodeMessageBatch([msg(MessageType.Heartbeat, 1, 2)]))]);
        frame[frame.length - 1] ^= 0xff;
        return frame;
      })()],
      ['undecodable batch', Buffer.concat([hello(1, 2), encodeFrame(FrameType.Messages, Buffer.from([5, 1, 2, 3]))])],
      ['message to another member', Buffer.concat([hello(1, 2), encodeFrame(FrameType.Messages, encodeMessageBatch([msg(MessageType.Heartbeat, 1, 3)]))])],
      ['message from another sender', Buffer.concat([hello(1, 2), encodeFrame(FrameType.Messages, encodeMessageBatch([msg(MessageType.Heartbeat, 3, 2)]))])],
      ['snapshot frame on a raft stream', Buffer.concat([hello(1, 2), encodeFrame(FrameType.SnapshotChunk, Buffer.from('x'))])],
      // A header announcing 1 GiB: refused from the header, nothing buffered.
      ['oversized frame', Buffer.concat([hello(1, 2), Buffer.from([0, 0, 0, 0x40, FrameType.Messages, 0, 0, 0, 0])])],
    ];
    for (const [name, bytes] of cases) {
      const warningsBefore = b.logger.lines.filter((l) => l.level === 'warn').length;
      const { closedMs } = await rawExchange(b.addr, bytes);
      assert.ok(closedMs < 2_000, `${name}: closed after ${closedMs} ms`);
      assert.ok(b.logger.lines.filter((l) => l.level === 'warn').length > warningsBefore, `${name}: no warning logged`);
    }
    assert.ok(b.logger.has('warn', /bad frame/));
    assert.equal(b.handler.messages.length, 0, 'nothing from a bad connection was delivered');
    assert.equal(b.transport.metrics().badFrames, cases.length);
    // The member still works.
    a.transport.send([msg(MessageType.Heartbeat, 1, 2)]);
    await waitFor('delivery after the bad input', () => b.handler.messages.length === 1);
    await Promise.all([a.transport.close(), b.transport.close()]);
  });

  void test('a hello for another cluster or another member is refused with the reason', async () => {
    const b = await member(2);
    const wrongCluster = await rawExchange(b.addr, hello(1, 2, 'other-cluster'));
    assert.match(decodeErrorReason(wrongCluster.received.subarray(9)), /cluster "other-cluster"/);
    const wrongMember = await rawExchange(b.addr, hello(1, 3));
    assert.match(decodeErrorReason(wrongMember.received.subarray(9)), /dialed member 3, this is member 2/);
    assert.equal(b.transport.metrics().helloRejected, 2);
    // A real transport of another cluster: refused, logged on both sides, reported unreachable.
    const stranger = await member(1, { clusterId: 'elsewhere' });
    stranger.transport.setPeers([{ id: 2, raftAddr: b.addr }]);
    stranger.transport.send([msg(MessageType.Heartbeat, 1, 2)]);
    await waitFor('refusal seen by the dialer', () => stranger.logger.has('warn', /peer refused our connection/));
    await waitFor('unreachable', () => stranger.handler.unreachable.includes(2));
    assert.equal(b.handler.messages.length, 0);
    await Promise.all([b.transport.close(), stranger.transport.close()]);
  });

  void test('an inbound connection that never says hello is closed after connectTimeoutMs', async () => {
    const b = await member(2, { connectTimeoutMs: 200 });
    const { closedMs } = await rawExchange(b.addr, Buffer.alloc(0));
    assert.ok(closedMs >= 150 && closedMs < 2_000, `closed after ${closedMs} ms`);
    assert.ok(b.logger.has('warn', /no hello/));
    await b.transport.close();
  });

  void test('setPeers: a changed address is used for the next connection; a removed peer is dropped', async () => {
    const [a, b, c] = await Promise.all([member(1), member(2), member(3)]);
    // Member 2's id first points at member 3's listener: refused there (wrong member).
    a.transport.setPeers([{ id: 2, raftAddr: c.addr }]);
    a.transport.send([msg(MessageType.Heartbeat, 1, 2)]);
    await waitFor('refused at the wrong address', () => a.handler.unreachable.includes(2));
    a.transport.setPeers([{ id: 2, raftAddr: b.addr }]);
    a.transport.send([msg(MessageType.Heartbeat, 1, 2)]);
    await waitFor('delivered at the new address', () => b.handler.messages.length === 1);
    a.transport.setPeers([]);
    assert.equal(a.transport.queues().size, 0);
    assert.throws(() => a.transport.setPeers([{ id: 2, raftAddr: 'nohost' }]), /bad raft address/);
    await Promise.all([a.transport.close(), b.transport.close(), c.transport.close()]);
  });

  void test('close() leaves no socket, server or timer behind; it is idempotent and later sends are ignored', async () => {
    const baseline = handleCounts();
    const members = await Promise.all([member(1), member(2), member(3)]);
    connect(members);
    members[0].transport.setPeers([...members.map((m) => ({ id: m.id, raftAddr: m.addr })), { id: 4, raftAddr: `127.0.0.1:${await deadPort()}` }]);
    for (let i = 1; i <= 50; i++) {
      for (const from of members) from.transport.send(members.filter((m) => m.id !== from.id).map((to) => app(from.id, to.id, i)));
      members[0].transport.send([msg(MessageType.Heartbeat, 1, 4)]);
    }
    await waitFor('traffic', () => members.every((m) => m.handler.messages.length === 100));
    assert.notDeepEqual(handleCounts(), baseline);
    const closing = members.map((m) => m.transport.close());
    assert.equal(members[0].transport.close(), closing[0]);
    await Promise.all(closing);
    assert.deepEqual(handleCounts(), baseline);
    members[0].transport.send([msg(MessageType.Heartbeat, 1, 2)]);
    assert.deepEqual(handleCounts(), baseline);
  });
});
