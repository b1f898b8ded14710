// The console's routes on one API server (inject): the page and its files with their headers,
// nothing readable outside them, and the read routes' answers (users masked, secrets absent).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ConsoleNodes, ConsoleOverview, ConsoleUser, ConsoleVolDetail, ConsoleVolSummary } from '../../src/api/console/contract.js';
import { maskAccessKey } from '../../src/api/console/views.js';
import { DEFAULT_MP_INODE_STEP, makeCommand } from '../../src/model/index.js';
import { FakeGroup } from '../cluster/fakes.js';
import { fails, ok, singleMaster, startMaster } from '../api/helpers.js';
import { createVol, ROOT_AK, ROOT_SK, T_CLUSTER, userCreateCmd, withNodesN } from '../model/helpers.js';

type App = ReturnType<typeof singleMaster>['app'];

async function get(app: App, url: string, headers: Record<string, string> = {}) {
  return app.inject({ method: 'GET', url, headers });
}

/** The import map the page carries, parsed. */
function importMap(html: string): Record<string, string> {
  const m = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m !== null, 'the page has an import map');
  return (JSON.parse(m[1]) as { imports: Record<string, string> }).imports;
}

void describe('the console page and its files', () => {
  const { app } = singleMaster();
  after(() => app.close());

  void it('serves the page at /console and /console/ with a CSP that admits only its own scripts and the import map', async () => {
    for (const url of ['/console', '/console/', '/console/?x=1']) {
      const res = await get(app, url);
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.equal(res.headers['x-frame-options'], 'DENY');
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /connect-src 'self'/);
      const { createHash } = await import('node:crypto');
      const mapText = /<script type="importmap">([\s\S]*?)<\/script>/.exec(res.body)![1];
      assert.ok(csp.includes(`'sha256-${createHash('sha256').update(mapText).digest('base64')}'`), 'the import map is allowed by its hash');
      assert.doesNotMatch(res.body, /https?:\/\//, 'nothing from another host');
    }
  });

  void it('serves every file the import map names from node_modules, versioned and cacheable for a year', async () => {
    const page = await get(app, '/console/');
    const imports = importMap(page.body);
    assert.deepEqual(Object.keys(imports).sort(), ['@noble/hashes/crypto', '@noble/hashes/hmac', '@noble/hashes/sha2', '@noble/hashes/utils', 'preact', 'preact/hooks', 'preact/jsx-runtime', 'uplot']);
    const css = /<link rel="stylesheet" href="([^"]+uPlot\.min\.css)">/.exec(page.body)![1];
    for (const url of [...Object.values(imports), css]) {
      assert.match(url, /^\/console\/vendor\/[@a-z/-]+@\d+\.\d+\.\d+\//, url);
      const res = await get(app, url);
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.headers['content-type'], url.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8', url);
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    }
  });

  void it('serves the compiled app and the style sheet with an ETag, and 304 when the copy is current', async () => {
    for (const url of ['/console/app/main.js', '/console/app/pages/overview.js', '/console/static/console.css', '/console/static/favicon.svg']) {
      const res = await get(app, url);
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.headers['cache-control'], 'no-cache');
      const etag = String(res.headers.etag);
      const again = await get(app, url, { 'if-none-match': etag });
      assert.equal(again.statusCode, 304, url);
      assert.equal(again.body, '');
    }
  });

  void it('answers 404 for anything outside the console files: traversal, dotfiles, package files, sources, the page template', async () => {
    const page = await get(app, '/console/');
    const preact = importMap(page.body).preact.replace(/dist\/.*$/, '');
    for (const url of [
      '/console/app/../../../package.json',
      '/console/app/%2e%2e/%2e%2e/%2e%2e/package.json',
      '/console/app/..%2f..%2f..%2fpackage.json',
      '/console/static/..%5c..%5cpackage.json',
      '/console/app/main.ts',
      '/console/static/index.html',
      `${preact}package.json`,
      `${preact}src/index.js`,
      `${preact}dist/.hidden.js`,
      '/console/vendor/fastify@5.0.0/fastify.js',
      '/console/vendor/preact/dist/preact.module.js',
      '/console/app/main.js%00.css',
      '/console/nothing',
    ]) {
      const res = await get(app, url);
      assert.equal(res.statusCode, 404, `${url}: ${res.statusCode}`);
    }
  });

  void it('answers 405 to other methods on the page', async () => {
    const res = await app.inject({ method: 'POST', url: '/console' });
    assert.equal(res.statusCode, 405);
  });
});

void describe('the console read routes', () => {
  let app: App;
  let group: FakeGroup;
  before(() => {
    group = new FakeGroup([1], 1);
    group.setHttpAddr(1, '127.0.0.1:17010');
    group.applyNow(userCreateCmd('alice'));
    group.applyNow(userCreateCmd('bob', { description: 'ops' }));
    const { meta, data } = withNodesN(group.state, 3);
    createVol(group.state, 'vol9', 'alice', { meta, data, mps: 2, dps: 3 }, { newOwner: undefined });
    group.applyNow(makeCommand('user.updatePolicy', { userId: 'bob', volume: 'vol9', actions: ['perm:builtin:ReadOnly'] }));
    app = startMaster(group, 1).app;
  });
  after(() => app.close());

  void it('lists users with masked access keys and without secret keys', async () => {
    const res = await get(app, '/console/api/users');
    const users = (JSON.parse(res.body) as { data: ConsoleUser[] }).data;
    assert.deepEqual(
      users.map((u) => [u.id, u.type, u.accessKeyMasked, u.ownVols, u.authorizedVols, u.description]),
      [
        ['root', 'root', `${ROOT_AK.slice(0, 4)}…${ROOT_AK.slice(-3)}`, [], [], ''],
        ['alice', 'normal', maskAccessKey(group.state.users.get('alice')!.accessKey), ['vol9'], [], ''],
        ['bob', 'normal', maskAccessKey(group.state.users.get('bob')!.accessKey), [], ['vol9'], 'ops'],
      ],
    );
    for (const u of group.state.users.values()) {
      assert.ok(!res.body.includes(u.secretKey), `${u.userId}'s secret key`);
      assert.ok(!res.body.includes(u.accessKey), `${u.userId}'s full access key`);
    }
    assert.ok(!res.body.includes(ROOT_SK));
  });

  void it('masks any access key to its first 4 and last 3 characters, short ones further', () => {
    assert.equal(maskAccessKey('7WgP0alY4SbpIPNL'), '7WgP…PNL');
    assert.equal(maskAccessKey('abcdef'), 'ab…');
    assert.equal(maskAccessKey('ab'), '…');
  });

  void it('lists vols with capacity, usage and partition counts, 64-bit values as exact decimal strings', async () => {
    const vols = (await ok(app, '/console/api/vols')) as ConsoleVolSummary[];
    assert.deepEqual(vols, [
      {
        name: 'vol9',
        owner: 'alice',
        status: 'normal',
        capacityBytes: '10737418240',
        usedBytes: '0',
        metaPartitionCount: 2,
        dataPartitionCount: 3,
        writableDataPartitionCount: 3,
        mpReplicaNum: 3,
        dpReplicaNum: 3,
        createTimeUnixSec: T_CLUSTER + 100,
      },
    ]);
  });

  void it("shows a vol's meta partitions with exact inode ranges and members, and its data partitions with hosts", async () => {
    const res = await get(app, '/console/api/vol?name=vol9');
    assert.match(res.body, /"end":"9223372036854775807"/, 'the last range ends at 2^63-1, exactly');
    const vol = (JSON.parse(res.body) as { data: ConsoleVolDetail }).data;
    assert.deepEqual(
      vol.metaPartitions.map((mp) => [mp.start, mp.end, mp.members.length, mp.status]),
      [
        ['0', String(DEFAULT_MP_INODE_STEP), 3, 'ReadWrite'],
        [String(DEFAULT_MP_INODE_STEP + 1), '9223372036854775807', 3, 'ReadWrite'],
      ],
    );
    assert.deepEqual(
      vol.dataPartitions.map((dp) => [dp.hosts, dp.replicaNum, dp.usedBytes]),
      Array.from({ length: 3 }, () => [['10.0.1.1:17310', '10.0.1.2:17310', '10.0.1.3:17310'], 3, '0']),
    );
    await fails(app, '/console/api/vol?name=nope', 7);
    await fails(app, '/console/api/vol', 2);
  });

  void it('lists meta and data nodes with zone, node set and liveness (inactive before any heartbeat)', async () => {
    const nodes = (await ok(app, '/console/api/nodes')) as ConsoleNodes;
    assert.deepEqual(
      nodes.metaNodes.map((n) => [n.kind, n.addr, n.zone, n.active, n.writable]),
      ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((ip) => ['meta', `${ip}:17210`, 'default', false, false]),
    );
    assert.deepEqual(
      nodes.dataNodes.map((n) => [n.kind, n.addr, n.nodeSetId > 0, n.active]),
      ['10.0.1.1', '10.0.1.2', '10.0.1.3'].map((ip) => ['data', `${ip}:17310`, true, false]),
    );
  });

  void it("gives a single member's overview: it leads, it is healthy, the counts of its model", async () => {
    const o = (await ok(app, '/console/api/overview')) as ConsoleOverview;
    assert.equal(o.clusterName, 'test');
    assert.deepEqual(o.self, { id: 1, httpAddr: '127.0.0.1:17010', role: 'leader' });
    assert.deepEqual(o.leader, { id: 1, httpAddr: '127.0.0.1:17010' });
    assert.deepEqual(o.counts, { vols: 1, metaPartitions: 2, dataPartitions: 3, metaNodes: 3, dataNodes: 3, users: 3 });
    assert.deepEqual(
      o.members.map((m) => [m.id, m.role, m.health, m.lag, m.match]),
      [[1, 'leader', 'healthy', 0, group.appliedIndex]],
    );
  });

  void it('serves the series of write-rate samples', async () => {
    const series = (await ok(app, '/console/api/series')) as { memberId: number; intervalMs: number; samples: unknown[] };
    assert.equal(series.memberId, 1);
    assert.equal(series.intervalMs, 1000);
    assert.ok(Array.isArray(series.samples));
  });
});

void describe('the overview of a 3-member group', () => {
  /** A member as the overview sees it over HTTP: its /cubemaster/status and, as leader, /get/raftStatus. */
  function fakeMember(status: object, replicas: Record<string, { Match: number }> | null): Promise<http.Server> {
    const server = http.createServer((req, res) => {
      const reply = (data: unknown): void => void res.setHeader('content-type', 'application/json').end(JSON.stringify({ code: 0, msg: 'success', data }));
      if (req.url === '/cubemaster/status') reply(status);
      else if (req.url === '/get/raftStatus' && replicas !== null) reply({ Replicas: replicas });
      else res.writeHead(404).end('404 page not found\n');
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
  }
  const port = (s: http.Server): number => (s.address() as AddressInfo).port;
  const servers: http.Server[] = [];
  after(() => servers.forEach((s) => s.close()));

  void it("shows each member's own position, the leader's match, lag against the leader's commit, and an unreachable member as such", async () => {
    const leader = await fakeMember({ nodeId: 1, role: 'leader', term: 4, leaderId: 1, commit: 5_000, applied: 5_000, stopping: false }, { '1': { Match: 5_000 }, '2': { Match: 4_990 }, '3': { Match: 2_000 } });
    servers.push(leader);
    const group = new FakeGroup([1, 2, 3], 1);
    group.setHttpAddr(1, `127.0.0.1:${port(leader)}`);
    // Member 3 listens nowhere: a closed port on loopback.
    const closed = await fakeMember({}, null);
    const closedPort = port(closed);
    await new Promise((r) => closed.close(r));
    group.setHttpAddr(3, `127.0.0.1:${closedPort}`);
    // We are member 2, a follower that applied 4,990 entries.
    const self = startMaster(group, 2);
    after(() => self.app.close());
    group.appliedIndex = 4_990;
    const o = (await ok(self.app, '/console/api/overview')) as ConsoleOverview;
    assert.equal(o.self.role, 'follower');
    assert.equal(o.leader?.id, 1);
    assert.deepEqual(
      o.members.map((m) => [m.id, m.reachable, m.role, m.match, m.lag, m.health]),
      [
        [1, true, 'leader', 5_000, 0, 'healthy'],
        [2, true, 'follower', 4_990, 10, 'healthy'],
        [3, false, null, 2_000, null, 'unreachable'],
      ],
    );
    assert.match(o.members[2].error, /ECONNREFUSED/);
  });

  void it('marks a member lagging when its applied index trails the commit by more than the allowed entries', async () => {
    const leader = await fakeMember({ nodeId: 1, role: 'leader', term: 2, leaderId: 1, commit: 50_000, applied: 50_000, stopping: false }, {});
    servers.push(leader);
    const group = new FakeGroup([1, 2], 1);
    group.setHttpAddr(1, `127.0.0.1:${port(leader)}`);
    const self = startMaster(group, 2);
    after(() => self.app.close());
    group.appliedIndex = 10;
    const o = (await ok(self.app, '/console/api/overview')) as ConsoleOverview;
    assert.deepEqual(
      o.members.map((m) => [m.id, m.lag, m.health]),
      [
        [1, 0, 'healthy'],
        [2, 49_990, 'lagging'],
      ],
    );
  });

  void it('says there is no leader, and compares nobody, when this member knows none', async () => {
    const group = new FakeGroup([1], 1);
    const self = startMaster(group, 1);
    after(() => self.app.close());
    self.raft.believedLeader = 0;
    const o = (await ok(self.app, '/console/api/overview')) as ConsoleOverview;
    assert.equal(o.leader, null);
    assert.deepEqual(
      o.members.map((m) => [m.role, m.lag, m.health]),
      [['follower', null, 'unknown']],
    );
  });
});
