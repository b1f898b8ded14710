// Peer TLS on real sockets: members with certificates of the cluster CA talk (messages and
// snapshot streams, encrypted on the wire); a stranger without a certificate, a certificate of
// another CA, an expired one, a member presenting member 2's certificate while claiming to be
// member 3, a certificate of another cluster, and a listener presenting another member's
// certificate are all refused: the connection closes, nothing reaches Raft, and the refusal is
// counted and logged with its reason, once per address.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createCertAuthority, issueClientCertificate, issueMemberCertificate, type CertAuthority, type PemPair } from '../../../src/cli/cert-factory.js';
import { MessageType, type NodeId } from '../../../src/raft/core/index.js';
import { FrameType, encodeFrame } from '../../../src/raft/transport/frame-codec.js';
import { encodeMessageBatch } from '../../../src/raft/transport/message-codec.js';
import { PeerAuthConfigError } from '../../../src/raft/transport/peer-security.js';
import { TcpTransport, type PeerAuth, type TcpTransportOptions } from '../../../src/raft/transport/tcp-transport.js';
import { HelloAuth } from '../../../src/raft/transport/transport-wire.js';
import { RecordingRelay, TestLogger, app, bytesSource, connectAll, handleCounts, helloFrame, msg, rawExchange, snapMessage, startMember, waitFor, type Member } from './transport-test-kit.js';

const CLUSTER = 'tls-cluster';
const DAY_MS = 24 * 3600 * 1000;

interface Pki {
  readonly ca: CertAuthority;
  readonly members: Map<NodeId, PemPair>;
  readonly otherCa: CertAuthority;
  /** Member 2 of this cluster, signed by another CA. */
  readonly wrongCa: PemPair;
  /** Member 2, expired yesterday. */
  readonly expired: PemPair;
  /** Member 2 of another cluster, signed by the right CA. */
  readonly otherCluster: PemPair;
  /** Signed by the right CA, naming no member. */
  readonly client: PemPair;
}

let pki: Pki;
before(async () => {
  const ca = await createCertAuthority();
  const otherCa = await createCertAuthority({ commonName: 'another CA' });
  const members = new Map<NodeId, PemPair>();
  for (const id of [1, 2, 3]) members.set(id, await issueMemberCertificate(ca, { clusterId: CLUSTER, memberId: id, addresses: ['127.0.0.1'] }));
  pki = {
    ca,
    members,
    otherCa,
    wrongCa: await issueMemberCertificate(otherCa, { clusterId: CLUSTER, memberId: 2 }),
    expired: await issueMemberCertificate(ca, { clusterId: CLUSTER, memberId: 2, notBefore: new Date(Date.now() - 30 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) }),
    otherCluster: await issueMemberCertificate(ca, { clusterId: 'other-cluster', memberId: 2 }),
    client: await issueClientCertificate(ca, { commonName: 'admin' }),
  };
});

function tlsAuth(id: NodeId, ca: CertAuthority = pki.ca, pair: PemPair = pki.members.get(id)!): PeerAuth {
  return { mode: 'tls', ca: ca.certPem, cert: pair.certPem, key: pair.keyPem };
}

const open: TcpTransport[] = [];
after(async () => {
  await Promise.all(open.map((t) => t.close()));
});

function member(id: NodeId, options: Partial<TcpTransportOptions> = {}): Promise<Member> {
  return startMember(id, { clusterId: CLUSTER, connectTimeoutMs: 2_000, peerAuth: tlsAuth(id), ...options }, open);
}

const connect = connectAll;

/** A TLS client presenting `pair` (or no certificate) that trusts the cluster CA. */
function client(pair: PemPair | null): { ca: string; cert?: string; key?: string; checkServerIdentity: () => undefined } {
  return { ca: pki.ca.certPem, ...(pair === null ? {} : { cert: pair.certPem, key: pair.keyPem }), checkServerIdentity: () => undefined };
}

/** Hello from `from` to `to`, then a heartbeat: what a member would send first. */
function helloAndHeartbeat(from: NodeId, to: NodeId): Buffer {
  return Buffer.concat([helloFrame(from, to, CLUSTER, HelloAuth.Tls), encodeHeartbeatFrame(from, to)]);
}

function encodeHeartbeatFrame(from: NodeId, to: NodeId): Buffer {
  return encodeFrame(FrameType.Messages, encodeMessageBatch([msg(MessageType.Heartbeat, from, to)]));
}

void describe('peer TLS', { timeout: 60_000 }, () => {
  void test('members with certificates of the cluster CA exchange messages and snapshots, and the wire holds no plaintext', async () => {
    const members = await Promise.all([member(1), member(2), member(3)]);
    // Member 1 reaches member 2 through a relay that records the bytes.
    const relay = await RecordingRelay.start(members[1].addr);
    connect(members);
    members[0].transport.setPeers([...members.map((m) => ({ id: m.id, raftAddr: m.id === 2 ? relay.addr : m.addr }))]);
    const marker = Buffer.from('PLAINTEXT-MARKER-THAT-MUST-NOT-APPEAR-ON-THE-WIRE');
    for (let i = 1; i <= 50; i++) {
      for (const from of members) from.transport.send(members.filter((m) => m.id !== from.id).map((to) => app(from.id, to.id, i, marker)));
    }
    await waitFor('all messages', () => members.every((m) => m.handler.messages.length === 100));
    for (const m of members) assert.ok(m.handler.messages.every((x) => Buffer.from(x.entries[0].data).equals(marker)));
    // A snapshot stream on its own connection, through the relay too.
    await members[0].transport.sendSnapshot({ message: snapMessage(1, 2), chunks: bytesSource(1 << 20) }, new AbortController().signal);
    assert.deepEqual(members[1].handler.snapshots, [{ from: 1, bytes: 1 << 20 }]);
    const wire = relay.sentBytes;
    assert.ok(wire.length > (1 << 20), `only ${wire.length} bytes relayed`);
    assert.equal(wire.indexOf(marker), -1, 'message data appeared in plaintext on the wire');
    assert.equal(wire.indexOf(Buffer.from(CLUSTER)), -1, 'the hello appeared in plaintext on the wire');
    for (const m of members) {
      const metrics = m.transport.metrics();
      assert.equal(metrics.refusedStranger + metrics.refusedUntrusted + metrics.refusedExpired + metrics.refusedIdMismatch + metrics.refusedTlsHandshake, 0);
      assert.equal(m.transport.peerAuthMode, 'tls');
    }
    await relay.close();
    await Promise.all(members.map((m) => m.transport.close()));
  });

  void test('refused: a stranger without a certificate, a certificate of another CA, an expired one, one of another cluster, one naming no member', async () => {
    const b = await member(1);
    const cases: { name: string; pair: PemPair | null; reason: string; detail: RegExp }[] = [
      { name: 'stranger', pair: null, reason: 'stranger', detail: /no client certificate/ },
      { name: 'wrong CA', pair: pki.wrongCa, reason: 'untrusted', detail: /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/ },
      { name: 'expired', pair: pki.expired, reason: 'expired', detail: /CERT_HAS_EXPIRED/ },
      { name: 'another cluster', pair: pki.otherCluster, reason: 'id-mismatch', detail: /cluster "other-cluster"/ },
      { name: 'no member', pair: pki.client, reason: 'id-mismatch', detail: /names no member/ },
    ];
    for (const c of cases) {
      const exchange = await rawExchange(b.addr, helloAndHeartbeat(2, 1), { tls: client(c.pair) });
      assert.ok(exchange.closedMs < 2_000, `${c.name}: closed after ${exchange.closedMs} ms`);
      assert.equal(exchange.errors.length, 1, `${c.name}: the refusal reason is sent to the peer`);
      assert.match(exchange.errors[0], c.detail, c.name);
      // One warn line per address and reason; the same reason again from there goes to debug.
      assert.equal(b.logger.refusals(c.reason).length, 1, `${c.name}: one warn line with reason ${c.reason}`);
      const line = b.logger.lines.findLast((l) => l.fields.reason === c.reason);
      assert.equal(line?.fields.remote, '127.0.0.1');
      assert.match(String(line?.fields.detail), c.detail);
    }
    assert.equal(b.handler.messages.length, 0, 'nothing from a refused connection reached Raft');
    const metrics = b.transport.metrics();
    assert.deepEqual(
      [metrics.refusedStranger, metrics.refusedUntrusted, metrics.refusedExpired, metrics.refusedIdMismatch],
      [1, 1, 1, 2],
    );
    await b.transport.close();
  });

  void test("refused: a member presenting member 2's certificate while its hello claims member 3", async () => {
    const a = await member(1);
    const exchange = await rawExchange(a.addr, helloAndHeartbeat(3, 1), { tls: client(pki.members.get(2)!) });
    assert.match(exchange.errors[0] ?? '', /the client certificate names member 2, the hello claims member 3/);
    assert.equal(a.handler.messages.length, 0);
    assert.equal(a.transport.metrics().refusedIdMismatch, 1);
    assert.equal(a.logger.refusals('id-mismatch')[0]?.fields.peer, 3);
    // The same certificate with its own id is a member like any other.
    const good = await rawExchange(a.addr, helloAndHeartbeat(2, 1), { tls: client(pki.members.get(2)!), timeoutMs: 300 });
    assert.deepEqual(good.errors, []);
    await waitFor('the heartbeat of the honest member', () => a.handler.messages.length === 1);
    assert.equal(a.handler.messages[0].from, 2);
    await a.transport.close();
  });

  void test('refused by the dialer: a listener presenting the certificate of another member than the one dialed', async () => {
    const [a, c] = await Promise.all([member(1), member(3)]);
    // Member 1 believes member 2 is at member 3's address (stale peers, or an impostor there).
    a.transport.setPeers([{ id: 2, raftAddr: c.addr }]);
    a.transport.send([msg(MessageType.Heartbeat, 1, 2)]);
    await waitFor('the dialer refuses', () => a.transport.metrics().refusedIdMismatch === 1);
    await waitFor('reported unreachable', () => a.handler.unreachable.includes(2));
    const logged = a.logger.refusals('id-mismatch');
    assert.equal(logged.length, 1);
    assert.equal(logged[0].fields.direction, 'outbound');
    assert.match(String(logged[0].fields.detail), /presents the certificate of member 3 of cluster "tls-cluster"; we dialed member 2/);
    assert.equal(c.handler.messages.length, 0, 'the listener got nothing');
    await Promise.all([a.transport.close(), c.transport.close()]);
  });

  void test('members of two CAs refuse each other both ways; a member without TLS is refused at the handshake', async () => {
    const good = await member(1);
    const foreign = await member(2, { peerAuth: tlsAuth(2, pki.otherCa, pki.wrongCa) });
    connect([good, foreign]);
    good.transport.send([msg(MessageType.Heartbeat, 1, 2)]);
    foreign.transport.send([msg(MessageType.Heartbeat, 2, 1)]);
    // Each dialer checks the listener's certificate first (TLS 1.3) and refuses it.
    await waitFor('refusals on both sides', () => good.transport.metrics().refusedUntrusted === 1 && foreign.transport.metrics().refusedUntrusted === 1);
    for (const m of [good, foreign]) {
      assert.equal(m.logger.refusals('untrusted')[0]?.fields.direction, 'outbound');
      assert.ok(m.handler.unreachable.length > 0);
    }
    assert.equal(good.handler.messages.length + foreign.handler.messages.length, 0);
    const plain = await member(3, { peerAuth: { mode: 'none' } });
    plain.transport.setPeers([{ id: 1, raftAddr: good.addr }]);
    plain.transport.send([msg(MessageType.Heartbeat, 3, 1)]);
    await waitFor('the plaintext member refused', () => good.transport.metrics().refusedTlsHandshake === 1);
    assert.equal(good.logger.refusals('tls-handshake').length, 1);
    assert.equal(good.handler.messages.length, 0);
    // And the other way: a TLS member dialing a member without TLS is refused by name there.
    good.transport.setPeers([{ id: 3, raftAddr: plain.addr }]);
    good.transport.send([msg(MessageType.Heartbeat, 1, 3)]);
    await waitFor('TLS refused by the plaintext member', () => plain.transport.metrics().refusedAuthMismatch === 1);
    assert.match(String(plain.logger.refusals('auth-mismatch')[0]?.fields.detail), /speaks TLS/);
    await Promise.all([good.transport.close(), foreign.transport.close(), plain.transport.close()]);
  });

  void test('a stranger knocking again and again is counted every time and logged once', async () => {
    const a = await member(1);
    for (let i = 0; i < 8; i++) await rawExchange(a.addr, helloAndHeartbeat(2, 1), { tls: client(null) });
    assert.equal(a.transport.metrics().refusedStranger, 8);
    assert.equal(a.logger.refusals('stranger').length, 1);
    assert.equal(a.logger.lines.filter((l) => l.level === 'debug' && l.fields.reason === 'stranger').length, 7);
    await a.transport.close();
  });

  void test('a member will not start with a certificate that is not its own, not the CA\'s, expired, or with another key', () => {
    const start = (id: NodeId, auth: PeerAuth): TcpTransport => new TcpTransport({ selfId: id, clusterId: CLUSTER, listenHost: '127.0.0.1', listenPort: 0, logger: new TestLogger(), peerAuth: auth });
    const rejects = (auth: PeerAuth, id: NodeId, pattern: RegExp): void => {
      assert.throws(() => start(id, auth), (err) => err instanceof PeerAuthConfigError && pattern.test(err.message), String(pattern));
    };
    rejects(tlsAuth(1, pki.ca, pki.members.get(2)), 1, /names member 2 of cluster "tls-cluster", but this is member 1/);
    rejects(tlsAuth(2, pki.ca, pki.wrongCa), 2, /not signed by the CA given/);
    rejects(tlsAuth(2, pki.ca, pki.expired), 2, /expired on/);
    rejects(tlsAuth(2, pki.ca, pki.otherCluster), 2, /cluster "other-cluster"/);
    rejects({ mode: 'tls', ca: pki.ca.certPem, cert: pki.members.get(1)!.certPem, key: pki.members.get(2)!.keyPem }, 1, /does not belong to the member certificate/);
    rejects({ mode: 'tls', ca: 'not a pem', cert: pki.members.get(1)!.certPem, key: pki.members.get(1)!.keyPem }, 1, /CA file holds no PEM certificate/);
    rejects({ mode: 'secret', secret: Buffer.from('short') }, 1, /at least 16/);
  });

  void test('close() leaves nothing behind, even with a connection stuck before its TLS handshake', async () => {
    const baseline = handleCounts();
    const [a, b] = await Promise.all([member(1), member(2)]);
    connect([a, b]);
    a.transport.send([msg(MessageType.Heartbeat, 1, 2)]);
    await waitFor('delivery', () => b.handler.messages.length === 1);
    const { port } = b.transport.address();
    const silent = net.connect({ host: '127.0.0.1', port });
    silent.on('error', () => undefined);
    await new Promise<void>((resolve) => silent.once('connect', () => resolve()));
    const started = Date.now();
    await Promise.all([a.transport.close(), b.transport.close()]);
    assert.ok(Date.now() - started < 1_000, `close took ${Date.now() - started} ms`);
    await new Promise<void>((resolve) => (silent.destroyed ? resolve() : silent.once('close', () => resolve())));
    assert.deepEqual(handleCounts(), baseline);
  });
});
