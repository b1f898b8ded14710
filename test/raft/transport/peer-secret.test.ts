// The shared-secret handshake on real sockets: members with the same secret talk (messages and
// snapshot streams); a member with another secret, one with none, a recorded handshake replayed,
// and a handshake whose ids were changed on the way are all refused, with nothing reaching Raft
// and the refusal counted and logged on the member refused.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { MessageType, type NodeId } from '../../../src/raft/core/index.js';
import { FrameType, encodeFrame } from '../../../src/raft/transport/frame-codec.js';
import { encodeMessageBatch } from '../../../src/raft/transport/message-codec.js';
import { SharedSecret } from '../../../src/raft/transport/secret-handshake.js';
import { TcpTransport, type TcpTransportOptions } from '../../../src/raft/transport/tcp-transport.js';
import { AUTH_NONCE_BYTES, HelloAuth, StreamKind, decodeAuthChallenge, encodeHello } from '../../../src/raft/transport/transport-wire.js';
import { RecordingRelay, bytesSource, connectAll, helloFrame, msg, rawExchange, snapMessage, startMember, waitFor, type Member } from './transport-test-kit.js';

const CLUSTER = 'secret-cluster';
const SECRET = Buffer.from('the cluster secret, 32+ bytes long');
const OTHER_SECRET = Buffer.from('another secret, also long enough!');

const open: TcpTransport[] = [];
after(async () => {
  await Promise.all(open.map((t) => t.close()));
});

function member(id: NodeId, options: Partial<TcpTransportOptions> = {}): Promise<Member> {
  return startMember(id, { clusterId: CLUSTER, peerAuth: { mode: 'secret', secret: SECRET }, ...options }, open);
}

const connect = connectAll;

function heartbeatFrame(from: NodeId, to: NodeId): Buffer {
  return encodeFrame(FrameType.Messages, encodeMessageBatch([msg(MessageType.Heartbeat, from, to)]));
}

void describe('shared-secret handshake', { timeout: 60_000 }, () => {
  void test('members with the same secret exchange messages and snapshots', async () => {
    const members = await Promise.all([member(1), member(2), member(3)]);
    connect(members);
    for (let i = 1; i <= 20; i++) for (const from of members) from.transport.send(members.filter((m) => m.id !== from.id).map((to) => msg(MessageType.Heartbeat, from.id, to.id, { commit: i })));
    await waitFor('all messages', () => members.every((m) => m.handler.messages.length === 40));
    await members[2].transport.sendSnapshot({ message: snapMessage(3, 1), chunks: bytesSource(512 * 1024) }, new AbortController().signal);
    assert.deepEqual(members[0].handler.snapshots, [{ from: 3, bytes: 512 * 1024 }]);
    for (const m of members) assert.equal(m.transport.metrics().refusedBadSecret + m.transport.metrics().refusedStranger, 0);
    await Promise.all(members.map((m) => m.transport.close()));
  });

  void test('a member with another secret is refused, and both operators see it', async () => {
    const [a, b] = await Promise.all([member(1), member(2, { peerAuth: { mode: 'secret', secret: OTHER_SECRET } })]);
    connect([a, b]);
    b.transport.send([msg(MessageType.Heartbeat, 2, 1)]);
    // The dialer checks the acceptor's proof first, refuses it, and says so before closing.
    await waitFor('the dialer refuses', () => b.transport.metrics().refusedBadSecret === 1);
    await waitFor('the acceptor counts it too', () => a.transport.metrics().refusedBadSecret === 1);
    assert.equal(b.logger.refusals('bad-secret')[0]?.fields.direction, 'outbound');
    assert.equal(a.logger.refusals('bad-secret')[0]?.fields.direction, 'inbound');
    assert.match(String(a.logger.refusals('bad-secret')[0]?.fields.detail), /does not accept our proof/);
    await waitFor('unreachable', () => b.handler.unreachable.includes(1));
    assert.equal(a.handler.messages.length, 0);
    // A raw dialer that answers the challenge with a proof made from another secret: refused by the acceptor.
    const wrong = new SharedSecret(OTHER_SECRET);
    const hello = encodeHello({ stream: StreamKind.Raft, from: 2, to: 1, clusterId: CLUSTER, auth: HelloAuth.Secret, nonce: SharedSecret.nonce() });
    const exchange = await rawExchange(a.addr, encodeFrame(FrameType.Hello, hello), {
      respond: (frame, socket) => {
        if (frame.type !== FrameType.AuthChallenge) return;
        const { nonce } = decodeAuthChallenge(frame.body);
        socket.write(Buffer.concat([encodeFrame(FrameType.AuthProof, wrong.dialerProof(hello, nonce)), heartbeatFrame(2, 1)]));
      },
    });
    assert.match(exchange.errors[0] ?? '', /proof of the shared secret does not verify/);
    assert.equal(a.transport.metrics().refusedBadSecret, 2);
    assert.equal(a.handler.messages.length, 0);
    await Promise.all([a.transport.close(), b.transport.close()]);
  });

  void test('a member without a secret is refused as a stranger; one with a secret is refused by a member without', async () => {
    const [a, plain] = await Promise.all([member(1), member(2, { peerAuth: { mode: 'none' } })]);
    connect([a, plain]);
    plain.transport.send([msg(MessageType.Heartbeat, 2, 1)]);
    await waitFor('refused as a stranger', () => a.transport.metrics().refusedStranger === 1);
    await waitFor('the dialer is told why', () => plain.logger.has('warn', /peer refused our connection/));
    assert.match(String(plain.logger.lines.find((l) => /peer refused our connection/.test(l.msg))?.fields.reason), /offers no authentication, this member requires the shared secret/);
    a.transport.send([msg(MessageType.Heartbeat, 1, 2)]);
    await waitFor('refused by the member without a secret', () => plain.transport.metrics().refusedAuthMismatch === 1);
    assert.equal(a.handler.messages.length + plain.handler.messages.length, 0);
    await Promise.all([a.transport.close(), plain.transport.close()]);
  });

  void test('a recorded handshake replayed later is refused (the challenge is fresh each time)', async () => {
    const [a, b] = await Promise.all([member(1), member(2)]);
    const relay = await RecordingRelay.start(a.addr);
    b.transport.setPeers([{ id: 1, raftAddr: relay.addr }]);
    b.transport.send([msg(MessageType.Heartbeat, 2, 1, { commit: 7 })]);
    await waitFor('the real delivery', () => a.handler.messages.length === 1);
    await relay.close();
    await b.transport.close();
    // Everything member 2 sent: Hello, proof, the heartbeat.
    const recorded = relay.sentBytes;
    const exchange = await rawExchange(a.addr, recorded);
    assert.match(exchange.errors[0] ?? '', /does not verify/);
    assert.equal(a.handler.messages.length, 1, 'the replayed heartbeat was not delivered');
    assert.equal(a.transport.metrics().refusedBadSecret, 1);
    await a.transport.close();
  });

  void test('a handshake whose ids were changed on the way is refused (the proofs bind both ids and the cluster)', async () => {
    const a = await member(1);
    const secret = new SharedSecret(SECRET);
    const nonce = SharedSecret.nonce();
    const sent = encodeHello({ stream: StreamKind.Raft, from: 3, to: 1, clusterId: CLUSTER, auth: HelloAuth.Secret, nonce });
    const original = encodeHello({ stream: StreamKind.Raft, from: 2, to: 1, clusterId: CLUSTER, auth: HelloAuth.Secret, nonce });
    let acceptorProofMatchesOriginal: boolean | null = null;
    const exchange = await rawExchange(a.addr, encodeFrame(FrameType.Hello, sent), {
      respond: (frame, socket) => {
        if (frame.type !== FrameType.AuthChallenge) return;
        const challenge = decodeAuthChallenge(frame.body);
        acceptorProofMatchesOriginal = SharedSecret.matches(secret.acceptorProof(original, challenge.nonce), challenge.proof);
        // The holder of the secret answers for the hello it sent first (from 2): the acceptor saw "from 3".
        socket.write(Buffer.concat([encodeFrame(FrameType.AuthProof, secret.dialerProof(original, challenge.nonce)), heartbeatFrame(3, 1)]));
      },
    });
    assert.equal(acceptorProofMatchesOriginal, false, 'the acceptor proved the hello it received, not another');
    assert.match(exchange.errors[0] ?? '', /does not verify/);
    assert.equal(a.handler.messages.length, 0);
    assert.equal(a.transport.metrics().refusedBadSecret, 1);
    await a.transport.close();
  });

  void test('a dialer that never answers the challenge is closed after connectTimeoutMs; a hello without a nonce is refused', async () => {
    const a = await member(1, { connectTimeoutMs: 300 });
    const silent = await rawExchange(a.addr, helloFrame(2, 1, CLUSTER, HelloAuth.Secret, Buffer.alloc(AUTH_NONCE_BYTES, 1)));
    assert.equal(silent.frames[0]?.type, FrameType.AuthChallenge);
    assert.ok(silent.closedMs >= 250 && silent.closedMs < 3_000, `closed after ${silent.closedMs} ms`);
    assert.ok(a.logger.has('warn', /no proof of the secret/));
    const tlsHello = await rawExchange(a.addr, Buffer.concat([helloFrame(2, 1, CLUSTER, HelloAuth.Tls), heartbeatFrame(2, 1)]));
    assert.match(tlsHello.errors[0] ?? '', /offers peer TLS, this member requires the shared secret/);
    assert.equal(a.transport.metrics().refusedAuthMismatch, 1);
    assert.equal(a.handler.messages.length, 0);
    await a.transport.close();
  });
});
