// Three masters as real processes with peer TLS and HTTPS (client certificates required), their
// certificates made by the certs command's factory: a leader is elected, writes through a
// follower are forwarded to the leader over HTTPS, simulated nodes register over HTTPS, a member
// that lost its disk catches up by a snapshot streamed over TLS, and a stranger knocking on the
// Raft port is refused, logged and counted in /metrics. A member given another member's
// certificate refuses to start, naming the key.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { createCertAuthority, issueClientCertificate, issueMemberCertificate } from '../../src/cli/cert-factory.js';
import { startSimNodes } from '../../src/nodes/sim/index.js';
import { cfsGet, cfsRequest, closeIdleConnections, useTls, type TlsTrust } from './cfs-client.js';
import { MasterCluster } from './cluster.js';
import { lostWrites, readState, startLoad } from './load.js';
import { MasterProcess } from './master-process.js';
import { memberAudit, memberStatus, waitUntil } from './member-status.js';

const SUBNET = 71;
const RAFT_PORT = 17110;

const certDir = mkdtempSync(path.join(tmpdir(), 'tls-certs-'));
let cluster: MasterCluster;
let trust: TlsTrust;

before(async () => {
  cluster = new MasterCluster({
    subnet: SUBNET,
    size: 3,
    extraConfig: { retainLogs: 100, tickInterval: 50, clusterName: 'itest' },
    memberConfig: (id) => ({
      raftTlsCaFile: path.join(certDir, 'ca.pem'),
      raftTlsCertFile: path.join(certDir, `member-${id}.pem`),
      raftTlsKeyFile: path.join(certDir, `member-${id}-key.pem`),
      // The member certificate serves HTTPS too (it names the member's IP).
      httpTlsCertFile: path.join(certDir, `member-${id}.pem`),
      httpTlsKeyFile: path.join(certDir, `member-${id}-key.pem`),
      httpTlsCaFile: path.join(certDir, 'ca.pem'),
      httpTlsRequireClientCert: true,
    }),
  });
  const ca = await createCertAuthority();
  writeFileSync(path.join(certDir, 'ca.pem'), ca.certPem);
  for (const m of cluster.masters) {
    const pair = await issueMemberCertificate(ca, { clusterId: 'itest', memberId: m.spec.id, addresses: [m.spec.host] });
    writeFileSync(path.join(certDir, `member-${m.spec.id}.pem`), pair.certPem);
    writeFileSync(path.join(certDir, `member-${m.spec.id}-key.pem`), pair.keyPem, { mode: 0o600 });
  }
  const client = await issueClientCertificate(ca, { commonName: 'itest-client' });
  trust = { ca: ca.certPem, cert: client.certPem, key: client.keyPem };
  useTls(trust);
});

after(async () => {
  await cluster?.destroy();
  rmSync(certDir, { recursive: true, force: true });
  useTls(undefined);
  closeIdleConnections();
});

void test('3 masters with peer TLS and HTTPS: election, forwarded writes, nodes over HTTPS, snapshot catch-up over TLS, a stranger refused', { timeout: 180_000 }, async () => {
  await cluster.start();
  const leader = await cluster.leader();
  assert.ok(leader.url.startsWith('https://'));
  for (const m of cluster.masters) assert.match(m.logs, /"peerAuth":"tls"/, `member ${m.spec.id} runs peer TLS`);

  // HTTPS only for clients with a certificate of the CA (the shared client has one).
  assert.equal((await cfsGet(leader.url, '/admin/getIp')).status, 200);
  await assert.rejects(
    new Promise((resolve, reject) => {
      const socket = tls.connect({ host: leader.spec.host, port: leader.spec.httpPort, ca: trust.ca }, () => socket.write('GET /admin/getIp HTTP/1.1\r\nHost: x\r\n\r\n'));
      socket.on('data', resolve);
      socket.on('error', reject);
      socket.on('close', () => reject(new Error('closed without an answer')));
    }),
    'a client without a certificate gets no answer',
  );

  // A write through a follower is forwarded to the leader over HTTPS (with the member's certificate).
  const follower = cluster.masters.find((m) => m !== leader)!;
  const created = await cfsRequest(follower.url, '/user/create', { body: { id: 'tls_user', type: 2 } });
  assert.equal(created.envelope?.code, 0, created.body);
  const info = await cfsGet<{ user_id: string }>(leader.url, '/user/info', { user: 'tls_user' });
  assert.equal(info.envelope?.data.user_id, 'tls_user');

  // Simulated nodes register and report over HTTPS.
  const nodes = await startSimNodes({
    masterAddrs: cluster.masters.map((m) => `${m.spec.host}:${m.spec.httpPort}`),
    meta: 1,
    data: 1,
    common: { masterTls: trust, httpTimeoutMs: 5_000 },
  });
  try {
    const metaNodes = await cfsGet<{ Addr: string }[]>(leader.url, '/admin/cluster/getAllMetaNodes');
    assert.deepEqual(metaNodes.envelope?.data.map((n) => n.Addr), [nodes.metaNodes[0].addr]);
  } finally {
    await nodes.close();
  }

  // A member that lost its disk comes back empty and catches up by snapshot, streamed over TLS.
  const replaced = cluster.masters.find((m) => m !== leader && m !== follower)!;
  replaced.signal('SIGTERM');
  assert.deepEqual(await replaced.waitExit(15_000), { code: 0, signal: null });
  rmSync(path.join(replaced.spec.dataDir, 'wal'), { recursive: true, force: true });
  rmSync(path.join(replaced.spec.dataDir, 'store'), { recursive: true, force: true });
  const before = await memberStatus(leader.url);
  const load = startLoad({ urls: [leader.url], clients: 8, prefix: 'tls_load' });
  await waitUntil('leader compaction', async () => (await memberStatus(leader.url)).firstIndex > before.lastIndex + 1, 60_000);
  const acked = await load.stop();
  assert.ok(acked.ackedUsers.size > 0);
  await replaced.start();
  const leaderApplied = (await memberStatus(leader.url)).applied;
  await waitUntil('the new member caught up', async () => {
    const s = await memberStatus(replaced.url);
    return s.applied >= leaderApplied && s.leaderId !== 0 && s.firstIndex > before.lastIndex;
  }, 60_000);
  assert.match(leader.logs, /snapshot sent and acknowledged/);
  assert.deepEqual(lostWrites(acked, await readState(replaced.url)).slice(0, 10), []);
  const [a, b] = await Promise.all([memberAudit(leader.url), memberAudit(replaced.url)]);
  if (a.applied === b.applied) assert.equal(a.modelDigest, b.modelDigest);

  // A stranger (TLS, no certificate) on the Raft port: refused, logged with its reason, counted.
  const refusalsBefore = refusalCount(await metricsText(leader.url), 'stranger');
  await new Promise<void>((resolve) => {
    const socket = tls.connect({ host: leader.spec.host, port: RAFT_PORT, ca: trust.ca, checkServerIdentity: () => undefined }, () => socket.write('hello'));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
    socket.resume();
  });
  await waitUntil('the refusal in the log', () => Promise.resolve(/refused a connection from an unauthenticated peer.*"reason":"stranger"|"reason":"stranger".*refused a connection from an unauthenticated peer/.test(leader.logs)), 5_000);
  assert.equal(refusalCount(await metricsText(leader.url), 'stranger'), refusalsBefore + 1);

  for (const m of cluster.masters) assert.deepEqual(m.crashLines(), [], `member ${m.spec.id}`);
  await cluster.stop();
  for (const m of cluster.masters) assert.deepEqual(m.exitInfo, { code: 0, signal: null });
});

void test('a member given the certificate of another member refuses to start, naming the key', { timeout: 60_000 }, async () => {
  const m = cluster.masters[0];
  const wrong = new MasterProcess({
    ...m.spec,
    dataDir: path.join(cluster.dir, 'wrong'),
    extraConfig: { ...m.spec.extraConfig, raftTlsCertFile: path.join(certDir, 'member-2.pem'), raftTlsKeyFile: path.join(certDir, 'member-2-key.pem') },
  });
  await assert.rejects(wrong.start(15_000), /exited during start-up/);
  assert.equal(wrong.exitInfo?.code, 1);
  assert.match(wrong.logs, /names member 2 of cluster \\"itest\\", but this is member 1/);
  assert.match(wrong.logs, /raftTlsCertFile/);
});

async function metricsText(url: string): Promise<string> {
  return (await cfsGet(url, '/metrics', {}, { timeoutMs: 5_000 })).body;
}

function refusalCount(metrics: string, reason: string): number {
  const match = new RegExp(`^cubemaster_raft_peer_refusals_total\\{reason="${reason}"\\} (\\d+)`, 'm').exec(metrics);
  assert.ok(match !== null, 'the refusals counter is exported');
  return Number(match[1]);
}
