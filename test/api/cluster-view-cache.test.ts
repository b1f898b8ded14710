// /admin/getCluster answered from a cached body (src/api/cluster-view-cache.ts): after every
// kind of change the body is byte for byte what building the view afresh gives, and a change
// acknowledged to a client is in the very next answer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDataHeartbeat, applyMetaHeartbeat } from '../../src/cluster/heartbeats.js';
import type { MasterPeerInfo } from '../../src/cluster/ports.js';
import { ClusterViewCache } from '../../src/api/cluster-view-cache.js';
import { okEnvelopeBytes, OkEnvelopeTemplate } from '../../src/api/envelope.js';
import type { ModelState, ModelView } from '../../src/model/index.js';
import { ClusterNotBootstrappedError, clusterView, emptyState, makeCommand, setDataNodeLive, UTC_VIEW } from '../../src/model/index.js';
import { dataReport, metaReport } from '../cluster/heartbeat-reports.js';
import { bootstrapCmd, bootstrapped, createVol, dataNodeAddCmd, ok as applyOk, withNodes } from '../model/helpers.js';
import { FakeGroup } from '../cluster/fakes.js';
import { call, ok, singleMaster, startMaster, type TestMaster } from './helpers.js';

const AT = { wallMs: Date.UTC(2026, 10, 25, 18, 42, 6), monoMs: 1_000 };

function peers(...ids: number[]): MasterPeerInfo[] {
  return ids.map((id) => ({ id, httpAddr: `127.0.0.1:${17000 + id}`, raftAddr: `127.0.0.1:${18000 + id}`, isLearner: false }));
}

/** What the route sent before the cache: the view built afresh, serialized whole. */
function uncached(model: ModelView, leaderAddr: string, applied: number, masters: readonly MasterPeerInfo[]): Buffer {
  const masterPeers = masters.map((p) => ({ id: p.id, addr: p.httpAddr }));
  return okEnvelopeBytes(clusterView(model, { ...UTC_VIEW, leaderAddr, applied, masterPeers, legacyDataMediaType: 0 }));
}

/** A cache and the inputs of its next call; `check` asserts the body equals the uncached one. */
function cached(model: () => ModelState) {
  const cache = new ClusterViewCache({ viewOptions: UTC_VIEW, legacyDataMediaType: 0 });
  const source = { leaderAddr: '127.0.0.1:17001', applied: 1, peers: peers(1) };
  return {
    cache,
    source,
    check: (what: string): Buffer => {
      const body = cache.body(model(), source).bytes;
      assert.equal(body.toString('utf8'), uncached(model(), source.leaderAddr, source.applied, source.peers).toString('utf8'), what);
      return body;
    },
  };
}

void describe('OkEnvelopeTemplate', () => {
  void it('fills holes anywhere (first, adjacent, last, the only member) to the bytes of the whole', () => {
    const data = { A: 'x', B: 1, C: [1, { d: 'e' }], D: 9007199254740993n, E: null, F: true };
    const cases: (readonly (keyof typeof data)[])[] = [[], ['A'], ['F'], ['B', 'C'], ['A', 'F'], ['A', 'B', 'C', 'E', 'F'], ['B', 'E']];
    for (const holes of cases) {
      const template = new OkEnvelopeTemplate(data, holes);
      const values = holes.map((h, i) => (typeof data[h] === 'string' ? `v"${i}\u0000` : 1000 + i));
      const filled = { ...data, ...Object.fromEntries(holes.map((h, i) => [h, values[i]])) };
      assert.equal(template.fill(values).toString('utf8'), okEnvelopeBytes(filled).toString('utf8'), `holes ${holes.join(',')}`);
    }
    const only = new OkEnvelopeTemplate({ X: 1 }, ['X']);
    assert.equal(only.fill(['y']).toString('utf8'), okEnvelopeBytes({ X: 'y' }).toString('utf8'));
  });

  void it('skips undefined members as JSON.stringify does, and refuses holes out of order', () => {
    const data = { A: 1, B: undefined, C: 'c', D: undefined };
    assert.equal(new OkEnvelopeTemplate(data, ['C']).fill(['z']).toString('utf8'), okEnvelopeBytes({ ...data, C: 'z' }).toString('utf8'));
    assert.throws(() => new OkEnvelopeTemplate(data, ['C', 'A']));
    assert.throws(() => new OkEnvelopeTemplate(data, ['B']));
  });
});

void describe('ClusterViewCache', () => {
  void it('gives the uncached bytes after every kind of change, and the same body while nothing changes', () => {
    let state = bootstrapped();
    const { cache, source, check } = cached(() => state);
    const first = check('fresh cluster');
    assert.equal(cache.body(state, source).bytes, first, 'nothing changed: the cached body itself');

    const nodes = withNodes(state);
    check('nodes added');
    const vol = createVol(state, 'vol1', 'alice', { ...nodes, mps: 1, dps: 1 });
    const dp = [...state.dataPartitions.values()].find((p) => p.volId === vol.id)!;
    check('vol created');
    applyOk(state, makeCommand('cluster.setFrozen', { frozen: true }));
    check('cluster setting');

    // Heartbeat-derived state changes outside Raft: node status, then a vol's used bytes.
    assert.ok(applyMetaHeartbeat(state, nodes.meta[0].addr, metaReport(), AT));
    const active = check('meta node heartbeat');
    assert.match(active.toString('utf8'), /"MetaNodes":\[\{"Addr":"127\.0\.0\.1:17210","Status":true/);
    const report = { partitionId: dp.id, volName: 'vol1', status: 2, isLeader: true, totalBytes: 1n << 30n, usedBytes: 5n << 30n, diskPath: '/disk0', extentCount: 1, needCompare: false, decommissionRepairProgress: 0, localPeers: [], triggerDiskError: false, forbidWriteOpOfProtoVer0: false, readOnlyReasons: 0, isMissingTinyExtent: false, isRepairing: false };
    assert.ok(applyDataHeartbeat(state, nodes.data[0].addr, dataReport([report]), AT));
    assert.match(check('data node heartbeat with a partition report').toString('utf8'), /"UsedSize":5368709120/);
    setDataNodeLive(state, nodes.data[0].nodeId, { isActive: false });
    check('data node marked inactive');

    source.applied = 42;
    check('applied moved');
    source.leaderAddr = '';
    check('no leader');
    source.peers = peers(1, 2, 3);
    check('members added');
    source.peers = [{ ...source.peers[1], httpAddr: '127.0.0.2:17010' }, source.peers[0]];
    check('a member at a new addr');

    // A snapshot install replaces the model: a new object whose counters may equal the old one's.
    const replaced = bootstrapped();
    const added = applyOk(replaced, dataNodeAddCmd('127.0.0.9:17310'));
    for (let frozen = true; replaced.version < state.version; frozen = !frozen) applyOk(replaced, makeCommand('cluster.setFrozen', { frozen }));
    while (replaced.live.version < state.live.version) setDataNodeLive(replaced, added.id, { isActive: false });
    assert.deepEqual([replaced.version, replaced.live.version], [state.version, state.live.version]);
    state = replaced;
    assert.match(check('model replaced').toString('utf8'), /127\.0\.0\.9:17310/);
  });

  void it('throws as the view does before bootstrap, and caches nothing then', () => {
    const cache = new ClusterViewCache({ viewOptions: UTC_VIEW });
    const state = emptyState();
    const source = { leaderAddr: '', applied: 0, peers: peers(1) };
    assert.throws(() => cache.body(state, source), ClusterNotBootstrappedError);
    applyOk(state, bootstrapCmd());
    assert.equal(cache.body(state, source).bytes.toString('utf8'), uncached(state, '', 0, source.peers).toString('utf8'));
  });
});

void describe('GET /admin/getCluster (cached body)', () => {
  async function body(m: TestMaster): Promise<Buffer> {
    const res = await call(m.app, '/admin/getCluster');
    assert.equal(res.envelope.code, 0);
    const info = m.raft.info();
    assert.equal(res.text, uncached(m.group.state, info.leaderHttpAddr, info.applied, info.peers).toString('utf8'), 'the uncached bytes');
    return res.raw;
  }
  const view = async (m: TestMaster) =>
    JSON.parse((await body(m)).toString('utf8')) as { data: Record<string, unknown> & { MetaNodes: { Addr: string }[]; MasterNodes: { Addr: string }[]; VolStatInfo: { Name: string }[] } };

  void it('shows each acknowledged change in the next answer', async () => {
    const m = singleMaster();
    await view(m);
    // Node registration, a cluster setting: acknowledged by the API, then read.
    assert.equal(typeof (await ok(m.app, '/metaNode/add?addr=127.0.0.1:17210&zoneName=')), 'number');
    assert.deepEqual((await view(m)).data.MetaNodes.map((n) => n.Addr), ['127.0.0.1:17210']);
    await ok(m.app, '/cluster/freeze?enable=true');
    assert.equal((await view(m)).data.DisableAutoAlloc, true);
    assert.equal((await view(m)).data.Applied, m.group.appliedIndex);
    await ok(m.app, '/cluster/freeze?enable=false');
    assert.equal((await view(m)).data.DisableAutoAlloc, false);
    // A vol committed through the log (as its create route does), then read.
    const nodes = { meta: [{ nodeId: m.group.state.metaNodes.keys().next().value!, addr: '127.0.0.1:17210' }], data: [{ nodeId: applyOk(m.group.state, dataNodeAddCmd('127.0.0.1:17310')).id, addr: '127.0.0.1:17310' }] };
    createVol(m.group.state, 'vol1', 'alice', { ...nodes, mps: 1, dps: 1 });
    assert.deepEqual((await view(m)).data.VolStatInfo.map((v) => v.Name), ['vol1']);
    // Applied moves without a model change (a no-op entry).
    m.group.appliedIndex += 1;
    assert.equal((await view(m)).data.Applied, m.group.appliedIndex);
  });

  void it('shows a new member and a leader at a new addr', async () => {
    const m = startMaster(new FakeGroup([1, 2], 1), 1);
    assert.equal((await view(m)).data.LeaderAddr, '127.0.0.1:17001');
    m.group.peers.set(3, { httpAddr: '127.0.0.1:17003', isLearner: false });
    assert.deepEqual((await view(m)).data.MasterNodes.map((n) => n.Addr), ['127.0.0.1:17001', '127.0.0.1:17002', '127.0.0.1:17003']);
    m.group.setHttpAddr(1, '127.0.0.2:17010');
    assert.equal((await view(m)).data.LeaderAddr, '127.0.0.2:17010');
  });
});
