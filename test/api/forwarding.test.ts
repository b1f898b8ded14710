// Follower -> leader forwarding over real HTTP between two or three API servers (spec 2).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { FORWARDED_BY_HEADER } from '../../src/api/forward.js';
import { CHANGE_LEADER_MSG } from '../../src/api/routes/raft.js';
import { FakeGroup } from '../cluster/fakes.js';
import type { Answer, TestMaster } from './helpers.js';
import { answer, listen, startMaster } from './helpers.js';

interface Member extends TestMaster {
  readonly addr: string;
  /** Requests this member's server received (method, url, headers). */
  readonly seen: { method: string; url: string; headers: Record<string, unknown> }[];
}

const opened: Member[] = [];
after(async () => {
  for (const m of opened) await m.app.close();
});

/** Starts a server per member, listening on 127.0.0.1, with the group's peers set to them. */
async function members(group: FakeGroup, ids: readonly number[], forward?: { timeoutMs: number }): Promise<Member[]> {
  const out: Member[] = [];
  for (const id of ids) {
    const m = startMaster(group, id, forward === undefined ? {} : { forward });
    const seen: Member['seen'] = [];
    m.app.addHook('onRequest', (request, _reply, done) => {
      seen.push({ method: request.method, url: request.raw.url ?? '', headers: { ...request.headers } });
      done();
    });
    const addr = await listen(m.app);
    group.setHttpAddr(id, addr);
    const member = { ...m, addr, seen };
    opened.push(member);
    out.push(member);
  }
  return out;
}

async function send(m: Member, url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`http://${m.addr}${url}`, init);
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => (headers[k] = v));
  return answer(res.status, headers, Buffer.from(await res.arrayBuffer()));
}

const json = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

void describe('a write on a follower', () => {
  void it('is answered by the leader, transparently: same method, path, query, body and headers', async () => {
    const group = new FakeGroup([1, 2], 1);
    const [leader, follower] = await members(group, [1, 2]);
    const res = await send(follower, '/user/create?clientIDKey=', { ...json({ id: 'dave', type: 3 }), headers: { 'content-type': 'application/json', 'user-agent': 'cubefs-sdk/test' } });
    assert.equal(res.status, 200);
    const env = res.envelope;
    assert.equal(env.code, 0);
    assert.equal((env.data as { user_id: string }).user_id, 'dave');
    assert.equal(group.state.users.has('dave'), true);
    // exactly one proposal, by the leader
    assert.deepEqual(group.proposed.map((c) => c.type), ['user.create']);
    const atLeader = leader.seen.find((r) => r.url.startsWith('/user/create'));
    assert.ok(atLeader !== undefined, 'the leader received the request');
    assert.equal(atLeader.method, 'POST');
    assert.equal(atLeader.url, '/user/create?clientIDKey=');
    assert.equal(atLeader.headers['user-agent'], 'cubefs-sdk/test');
    assert.equal(atLeader.headers['content-type'], 'application/json');
    assert.equal(atLeader.headers[FORWARDED_BY_HEADER], '2');
    assert.equal(atLeader.headers['x-request-id'], follower.seen.at(-1)?.headers['x-request-id'] ?? atLeader.headers['x-request-id']);
    assert.match(String(atLeader.headers['x-forwarded-for']), /127\.0\.0\.1/);
  });

  void it('forwards GET query writes and form POST bodies, and passes gzip replies through', async () => {
    const group = new FakeGroup([1, 2], 1);
    const [, follower] = await members(group, [1, 2]);
    const add = await send(follower, '/metaNode/add?clientIDKey=&heartbeatPort=17230&replicaPort=17231&addr=127.0.0.1:17210&zoneName=');
    assert.equal(add.text, '{"code":0,"msg":"success","data":2}');
    const freeze = await send(follower, '/cluster/freeze', { method: 'POST', body: 'enable=true', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(freeze.envelope.data, 'set DisableAutoAllocate to true successfully');
    assert.equal(group.state.cluster?.disableAutoAllocate, true);
    const gz = await send(follower, '/user/create', { ...json({ id: 'erin', type: 3 }), headers: { 'content-type': 'application/json', 'x-cfs-accept-encoding': 'gzip' } });
    assert.equal(gz.headers['x-cfs-content-encoding'], 'gzip');
    assert.equal((JSON.parse(gunzipSync(gz.raw).toString('utf8')) as { code: number }).code, 0);
    // error envelopes come back as the leader wrote them
    const dup = await send(follower, '/user/create', json({ id: 'erin', type: 3 }));
    assert.deepEqual(JSON.parse(dup.text), { code: 45, msg: 'duplicate user id', data: null });
  });

  void it('gets 400 "no leader" when no leader is known, and nothing is proposed', async () => {
    const group = new FakeGroup([1, 2], 0);
    const [, follower] = await members(group, [1, 2]);
    const res = await send(follower, '/user/create', json({ id: 'dave', type: 3 }));
    assert.equal(res.status, 400);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.equal(res.text, 'no leader');
    assert.equal(group.proposed.length, 0);
    // reads need a leader for their ReadIndex too
    const read = await send(follower, '/user/info?user=root');
    assert.equal(read.status, 400);
    assert.equal(read.text, 'no leader');
  });

  void it('gets 502 when the leader cannot be reached (the SDK then tries the next master)', async () => {
    const group = new FakeGroup([1, 2], 1);
    const [follower] = await members(group, [2]);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    group.setHttpAddr(1, `127.0.0.1:${port}`);
    const res = await send(follower, '/cluster/freeze?enable=true');
    assert.equal(res.status, 502);
    assert.match(res.text, /ECONNREFUSED/);
  });

  void it('gets 502 within the forward deadline when the leader hangs', async () => {
    const group = new FakeGroup([1, 2], 1);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    group.beforePropose = () => held;
    const [, follower] = await members(group, [1, 2], { timeoutMs: 200 });
    const started = Date.now();
    const res = await send(follower, '/cluster/freeze?enable=true');
    assert.equal(res.status, 502);
    assert.match(res.text, /no reply within 200 ms/);
    assert.ok(Date.now() - started < 2_000);
    release();
  });
});

void describe('a forwarded request', () => {
  void it('is never forwarded again: two members that each believe the other leads do not bounce it', async () => {
    const group = new FakeGroup([1, 2, 3], 3);
    const [a, b] = await members(group, [1, 2]);
    a.raft.believedLeader = 2;
    b.raft.believedLeader = 1;
    const res = await send(a, '/cluster/freeze?enable=true');
    assert.equal(res.status, 400);
    assert.equal(res.text, a.addr, "b answers with the leader it believes in (a)");
    assert.equal(a.seen.length, 1, 'a saw the client request only');
    assert.equal(b.seen.length, 1, 'b saw the forwarded request once');
    assert.equal(b.seen[0].headers[FORWARDED_BY_HEADER], '1');
    assert.equal(group.proposed.length, 0);
  });

  void it('is forwarded once to the new leader when leadership moves mid-request', async () => {
    const group = new FakeGroup([1, 2], 1);
    const [first, second] = await members(group, [1, 2]);
    let moves = 0;
    group.beforePropose = (memberId) => {
      if (memberId === 1 && moves++ === 0) group.leaderId = 2; // the proposal at 1 is not committed
    };
    const res = await send(first, '/user/create', json({ id: 'dave', type: 3 }));
    assert.equal(res.envelope.code, 0);
    assert.equal(group.state.users.has('dave'), true);
    assert.equal(second.seen.filter((r) => r.url === '/user/create').length, 1);
    assert.equal(group.proposed.length, 2, 'proposed at 1 (dropped), then at 2');
  });

  void it('is refused with 400 when leadership moves again at the new leader', async () => {
    const group = new FakeGroup([1, 2], 1);
    const [first, second] = await members(group, [1, 2]);
    group.beforePropose = (memberId) => {
      group.leaderId = memberId === 1 ? 2 : 1;
    };
    const res = await send(first, '/user/create', json({ id: 'dave', type: 3 }));
    assert.equal(res.status, 400);
    assert.equal(res.text, first.addr);
    assert.equal(second.seen.length, 1);
    assert.equal(first.seen.length, 1);
    assert.equal(group.state.users.has('dave'), false);
  });
});

void describe('reads and local routes on a follower', () => {
  void it('serves reads from its own model after a read barrier, without asking the leader over HTTP', async () => {
    const group = new FakeGroup([1, 2], 1);
    const [leader, follower] = await members(group, [1, 2]);
    const barriers = group.readBarriers;
    for (const url of ['/user/info?user=root', '/user/list', '/admin/getNodeInfo']) {
      assert.equal((await send(follower, url)).envelope.code, 0, url);
    }
    assert.equal(group.readBarriers - barriers, 3);
    assert.equal((await send(follower, '/admin/getIp')).envelope.code, 0);
    assert.equal(leader.seen.length, 0);
    const metrics = await send(follower, '/metrics');
    assert.match(metrics.text, /cubemaster_api_requests_total\{route="\/user\/info",method="GET",status="200",code="0"\} 1/);
    assert.equal(leader.seen.length, 0);
  });

  void it('skips the read barrier for a read marked serializable, and only for read routes', async () => {
    const group = new FakeGroup([1, 2], 1);
    const [leader, follower] = await members(group, [1, 2]);
    const barriers = group.readBarriers;
    const serializable = { headers: { 'x-cubemaster-consistency': 'serializable' } };
    const info = await send(follower, '/user/info?user=root', serializable);
    assert.equal(info.envelope.code, 0);
    assert.equal((info.envelope.data as { user_id: string }).user_id, 'root');
    assert.equal(group.readBarriers - barriers, 0);
    // Any other value is a plain linearizable read.
    assert.equal((await send(follower, '/user/info?user=root', { headers: { 'x-cubemaster-consistency': 'stale' } })).envelope.code, 0);
    assert.equal(group.readBarriers - barriers, 1);
    // Heartbeat-derived views still go to the leader, which still reads behind a barrier.
    assert.equal((await send(follower, '/admin/getCluster', serializable)).envelope.code, 0);
    assert.equal(leader.seen.filter((r) => r.url === '/admin/getCluster').length, 1);
    assert.equal(group.readBarriers - barriers, 2);
  });

  // Node liveness, usage and partition reports come from heartbeats, which only the leader holds.
  void it('forwards the views of heartbeat-derived state to the leader', async () => {
    const group = new FakeGroup([1, 2], 1);
    const [leader, follower] = await members(group, [1, 2]);
    const urls = ['/admin/getCluster', '/admin/cluster/getAllMetaNodes', '/admin/cluster/getAllDataNodes', '/topo/get', '/zone/list', '/cluster/stat'];
    for (const url of urls) assert.equal((await send(follower, url)).envelope.code, 0, url);
    const cluster = (await send(follower, '/admin/getCluster')).envelope.data as { LeaderAddr: string };
    assert.equal(cluster.LeaderAddr, leader.addr);
    assert.equal((await send(follower, '/metaNode/get?addr=127.0.0.1:1')).envelope.code, 13);
    assert.equal((await send(follower, '/dataNode/get?addr=127.0.0.1:1')).envelope.code, 12);
    assert.deepEqual(
      leader.seen.map((r) => r.url),
      [...urls, '/admin/getCluster', '/metaNode/get?addr=127.0.0.1:1', '/dataNode/get?addr=127.0.0.1:1'],
    );
  });

  void it('answers /get/raftStatus with the leader\'s view (proxied, spec 2)', async () => {
    const group = new FakeGroup([1, 2], 1);
    const [, follower] = await members(group, [1, 2]);
    const data = (await send(follower, '/get/raftStatus')).envelope.data as { NodeID: number; State: string };
    assert.equal(data.NodeID, 1);
    assert.equal(data.State, 'StateLeader');
  });

  void it('/master/changeleader on a follower makes that follower the leader, through the leader', async () => {
    const group = new FakeGroup([1, 2, 3], 1);
    const [leader, , third] = await members(group, [1, 2, 3]);
    const res = await send(third, '/master/changeleader');
    assert.equal(res.envelope.data, CHANGE_LEADER_MSG);
    assert.deepEqual(leader.raft.calls.map((c) => [c.op, c.id]), [['transferLeadership', 3]]);
    assert.equal(group.leaderId, 3);
    assert.equal(third.raft.calls.length, 0);
  });
});
