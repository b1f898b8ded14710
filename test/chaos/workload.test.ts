import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { authKeyOf as serverAuthKeyOf } from '../../src/cluster/auth-key.js';
import type { CfsReply } from '../integration/cfs-client.js';
import { MasterProcess } from '../integration/master-process.js';
import { cubefsModel, type CubeInput, type CubeOperation } from './cubefs-model.js';
import { check } from './lincheck/check.js';
import { isIndeterminate, isUnknownOutput } from './lincheck/operation.js';
import { formatAnomaly } from './lincheck/report/anomaly-text.js';
import { startWorkload, workloadKeys, type OutcomeEvent } from './workload.js';
import { startSimNodes, type SimNodes } from '../../src/nodes/sim/index.js';
import { waitUntil } from '../integration/member-status.js';
import { withDomainEffects } from './domain-history.js';
import { allNodesActive, DOMAIN_MASTER_CONFIG, nodeLiveness } from './domain-nodes.js';
import { readFinalState, sharedMetaNodeIds } from './workload-audit.js';
import { authKeyOf, classifyError, classifyReply, requestFor, type Outcome } from './workload-outcome.js';

const envelope = (code: number, data: unknown = null): CfsReply => ({ status: 200, envelope: { code, msg: code === 0 ? 'success' : 'error', data }, body: '', headers: {} });
const text = (status: number, body: string, headers: Record<string, string> = {}): CfsReply => ({ status, envelope: null, body, headers });
const info: CubeInput = { f: 'user.info', userId: 'u1' };
const create: CubeInput = { f: 'user.create', userId: 'u1', description: 'd' };

void describe('workload outcome rules', () => {
  void it('decodes a code-0 reply into what the model checks', () => {
    assert.deepEqual(classifyReply(info, envelope(0, { user_id: 'u1', description: 'x', access_key: 'a' })), {
      outcome: 'ok',
      output: { kind: 'user', userId: 'u1', description: 'x' },
      kind: 'ok',
    });
    assert.deepEqual(classifyReply({ f: 'metaNode.add', addr: '10.0.0.1:1' }, envelope(0, 7)), {
      outcome: 'ok',
      output: { kind: 'metaNode', addr: '10.0.0.1:1', id: 7 },
      kind: 'ok',
    });
    assert.deepEqual(classifyReply({ f: 'cluster.get' }, envelope(0, { DisableAutoAlloc: true })).outcome, 'ok');
  });

  void it('makes 45, 46 and 13 definite failures only for the operations they answer', () => {
    assert.equal(classifyReply(create, envelope(45)).outcome, 'failed');
    assert.equal(classifyReply(info, envelope(46)).outcome, 'failed');
    assert.equal(classifyReply({ f: 'metaNode.get', addr: '10.0.0.1:1' }, envelope(13)).outcome, 'failed');
    assert.equal(classifyReply(create, envelope(46)).outcome, 'indeterminate');
    assert.equal(classifyReply({ f: 'metaNode.add', addr: '10.0.0.1:1' }, envelope(13)).outcome, 'indeterminate');
  });

  void it('makes a reply that may follow a proposal indeterminate: 502, 503 with outcome unknown, code 4 or 1, malformed data, reset, timeout', () => {
    for (const reply of [text(503, 'abandoned', { 'x-cubemaster-outcome': 'unknown' }), text(502, 'bad gateway'), envelope(4), envelope(1), envelope(0, { user_id: 'u1' })]) {
      assert.equal(classifyReply(create, reply).outcome, 'indeterminate', JSON.stringify(reply));
    }
    assert.deepEqual(classifyError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), { outcome: 'indeterminate', kind: 'error ECONNRESET' });
    assert.deepEqual(classifyError(new Error('request /user/info timed out')), { outcome: 'indeterminate', kind: 'timeout' });
  });

  void it('makes a refusal before anything was proposed rejected: 503 from the gate, 429, 400, refused connection', () => {
    for (const reply of [text(503, 'master is shutting down'), text(429, 'too many'), text(400, 'no leader')]) {
      assert.equal(classifyReply(create, reply).outcome, 'rejected', JSON.stringify(reply));
    }
    assert.deepEqual(classifyError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), { outcome: 'rejected', kind: 'error ECONNREFUSED' });
  });

  void it('sends the user routes JSON and the others query parameters', () => {
    assert.deepEqual(requestFor({ f: 'user.create', userId: 'u1', description: '' }), { pathAndQuery: '/user/create', body: { id: 'u1', type: 2 } });
    assert.deepEqual(requestFor({ f: 'user.update', userId: 'u1', description: 'x' }), { pathAndQuery: '/user/update', body: { user_id: 'u1', description: 'x' } });
    assert.equal(requestFor({ f: 'metaNode.add', addr: '10.0.0.1:17210' }).pathAndQuery, '/metaNode/add?addr=10.0.0.1%3A17210&zoneName=default');
    assert.equal(requestFor({ f: 'cluster.freeze', enable: false }).pathAndQuery, '/cluster/freeze?enable=false');
  });

  void it('derives valid, distinct keys from the seed', () => {
    const keys = workloadKeys({ seed: 4_000_000_000 });
    assert.equal(keys.userIds.length, 8);
    assert.equal(keys.metaNodeAddrs.length, 6);
    assert.ok(keys.userIds.every((id) => /^[A-Za-z][A-Za-z0-9_]{0,20}$/.test(id)), keys.userIds.join());
    assert.equal(new Set(keys.metaNodeAddrs).size, 6);
    assert.equal(new Set([...keys.metaNodeAddrs, ...keys.dataNodeAddrs]).size, 10);
    assert.ok(keys.volNames.every((name) => /^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,61}[a-zA-Z0-9]$/.test(name)), keys.volNames.join());
    // Owners are user ids, never workload users: a create makes its owner user.
    assert.ok(keys.owners.every((id) => /^[A-Za-z][A-Za-z0-9_]{0,20}$/.test(id) && !keys.userIds.includes(id)), keys.owners.join());
    assert.deepEqual(workloadKeys({ seed: 4_000_000_000 }), keys);
    assert.throws(() => workloadKeys({ seed: 1, userIdPrefix: '1bad' }), RangeError);
  });
});

/** The description an acknowledged create or update of a user wrote, or null. */
function written(op: CubeOperation): string | null {
  if (op.input.f !== 'user.create' && op.input.f !== 'user.update') return null;
  return !isUnknownOutput(op.output) && op.output.kind === 'user' && op.input.description !== '' ? op.input.description : null;
}

/**
 * A copy of `history` with one info made stale: it answers a description D that an acknowledged
 * write W wrote, although another acknowledged write of that user (create, update or delete)
 * began after W returned and returned before the info was sent. Descriptions are unique, so
 * nothing wrote D again: no linearization allows that answer. Null when the run has no such info.
 */
function withStaleRead(history: readonly CubeOperation[]): CubeOperation[] | null {
  const acknowledgedWrite = (op: CubeOperation, userId: string): boolean =>
    'userId' in op.input && op.input.userId === userId && op.input.f !== 'user.info' && !isUnknownOutput(op.output) && op.output.kind !== 'error';
  for (let i = 0; i < history.length; i++) {
    const read = history[i];
    if (read.input.f !== 'user.info') continue;
    const userId = read.input.userId;
    for (const w of history) {
      const description = written(w);
      if (description === null || !acknowledgedWrite(w, userId)) continue;
      if (!history.some((later) => acknowledgedWrite(later, userId) && later.call > w.return && later.return < read.call)) continue;
      const copy = history.slice();
      copy[i] = { ...read, output: { kind: 'user', userId, description } };
      return copy;
    }
  }
  return null;
}

/** The output of a definite outcome, undefined otherwise. */
function outputOf(outcome: Outcome): unknown {
  return 'output' in outcome ? outcome.output : undefined;
}

void describe('workload outcome rules: vols and data nodes', () => {
  const vcreate: CubeInput = { f: 'vol.create', name: 'v1', owner: 'o1', capacity: 10, replicaNum: 2, description: 'create c0_1' };
  const vupdate: CubeInput = { f: 'vol.update', name: 'v1', owner: 'o1', capacity: 20, description: 'u' };
  const vexpand: CubeInput = { f: 'vol.expand', name: 'v1', owner: 'o1', capacity: 20 };
  const withMsg = (code: number, msg: string): CfsReply => ({ status: 200, envelope: { code, msg, data: null }, body: '', headers: {} });

  void it('tells the code-1 answers of a create apart by their text', () => {
    const dup = 'action[createVol], clusterID[c] name:v1, err:action[doCreateVol], clusterID[c] name:v1, err:duplicate vol  ';
    assert.deepEqual(classifyReply(vcreate, withMsg(1, dup)), { outcome: 'failed', output: { kind: 'volRefused', reason: 'duplicate' }, kind: 'code 1 duplicate' });
    const placement = 'action[createVol], clusterID[c] name:v1, err:action[createVol] initMetaPartitions failed, ...';
    assert.deepEqual(classifyReply(vcreate, withMsg(1, placement)).outcome, 'failed');
    assert.deepEqual(classifyReply(vcreate, withMsg(1, 'the cluster is frozen, can not create volume')), {
      outcome: 'failed',
      output: { kind: 'volRefused', reason: 'notCreated' },
      kind: 'code 1 notCreated',
    });
    assert.equal(classifyReply(vcreate, withMsg(1, 'internal error (reqId 7)')).outcome, 'indeterminate');
    assert.equal(classifyReply(vcreate, withMsg(4, 'raft timeout')).outcome, 'indeterminate');
  });

  void it('keeps a refused create in the history as notCreated: its begin may have left an intent', () => {
    for (const reply of [text(503, 'leadership is moving'), text(429, 'too many'), text(400, 'no leader')]) {
      assert.deepEqual(classifyReply(vcreate, reply).outcome, 'failed', JSON.stringify(reply));
    }
    assert.deepEqual(classifyError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), vcreate), {
      outcome: 'failed',
      output: { kind: 'volRefused', reason: 'notCreated' },
      kind: 'error ECONNREFUSED',
    });
    assert.equal(classifyReply(vupdate, text(503, 'leadership is moving')).outcome, 'rejected');
  });

  void it('makes 7, 34, "vol not exists" on a marked vol, and 2 on an expand definite', () => {
    assert.deepEqual(outputOf(classifyReply(vupdate, envelope(7))), { kind: 'error', code: 7 });
    assert.deepEqual(outputOf(classifyReply(vupdate, envelope(34))), { kind: 'error', code: 34 });
    const marked = 'action[updateVol], clusterID[c] name:v1, err:vol not exists ';
    assert.deepEqual(outputOf(classifyReply(vupdate, withMsg(1, marked))), { kind: 'volRefused', reason: 'markedDelete' });
    assert.deepEqual(outputOf(classifyReply(vexpand, withMsg(1, marked))), { kind: 'volRefused', reason: 'markedDelete' });
    assert.deepEqual(outputOf(classifyReply(vexpand, envelope(2))), { kind: 'error', code: 2 });
    assert.equal(classifyReply(vupdate, envelope(2)).outcome, 'indeterminate');
    assert.equal(classifyReply({ f: 'vol.get', name: 'v1' }, envelope(34)).outcome, 'indeterminate');
    assert.deepEqual(outputOf(classifyReply({ f: 'dataNode.get', addr: '10.78.0.1:1' }, envelope(12))), { kind: 'error', code: 12 });
  });

  void it('decodes getVol and the data node replies', () => {
    const data = { Name: 'v1', Owner: 'o1', Capacity: 10, DpReplicaNum: 2, Description: 'd', Status: 1, InodeCount: 0 };
    assert.deepEqual(outputOf(classifyReply({ f: 'vol.get', name: 'v1' }, envelope(0, data))), { kind: 'vol', name: 'v1', owner: 'o1', capacity: 10, replicaNum: 2, description: 'd', status: 1 });
    assert.equal(classifyReply({ f: 'vol.get', name: 'v1' }, envelope(0, { Name: 'v1' })).kind, 'malformed reply');
    assert.deepEqual(outputOf(classifyReply({ f: 'dataNode.add', addr: 'a:1' }, envelope(0, 9))), { kind: 'dataNode', addr: 'a:1', id: 9 });
    assert.deepEqual(outputOf(classifyReply({ f: 'dataNode.get', addr: 'a:1' }, envelope(0, { Addr: 'a:1', ID: 9 }))), { kind: 'dataNode', addr: 'a:1', id: 9 });
  });

  void it('sends the vol routes as the cfs-cli does, with authKey = md5(owner)', () => {
    const update = new URLSearchParams(requestFor(vupdate).pathAndQuery.split('?')[1]);
    assert.equal(requestFor(vupdate).pathAndQuery.split('?')[0], '/vol/update');
    assert.equal(update.get('authKey'), authKeyOf('o1'));
    assert.equal(authKeyOf('o1'), serverAuthKeyOf('o1'));
    const create = new URLSearchParams(requestFor(vcreate).pathAndQuery.split('?')[1]);
    assert.deepEqual([create.get('name'), create.get('owner'), create.get('capacity'), create.get('replicaNum'), create.get('description')], ['v1', 'o1', '10', '2', 'create c0_1']);
    assert.throws(() => requestFor({ f: 'vol.removal', name: 'v1', seq: 0 }));
  });
});

/**
 * A copy of `history` with one getVol made stale: it answers what an earlier getVol G0 saw,
 * although an acknowledged update with another description began after G0 returned and returned
 * before this one was sent. Descriptions are unique: nothing wrote G0's again. Null when none.
 */
function withStaleVolRead(history: readonly CubeOperation[]): CubeOperation[] | null {
  const description = (op: CubeOperation): string | null => (!isUnknownOutput(op.output) && op.output.kind === 'vol' ? op.output.description : null);
  for (let i = 0; i < history.length; i++) {
    const read = history[i];
    if (read.input.f !== 'vol.get' || description(read) === null) continue;
    const name = read.input.name;
    for (const earlier of history) {
      if (earlier.input.f !== 'vol.get' || earlier.input.name !== name || earlier.return >= read.call || description(earlier) === null) continue;
      const between = history.some(
        (u) => u.input.f === 'vol.update' && u.input.name === name && !isUnknownOutput(u.output) && u.output.kind === 'done' && u.call > earlier.return && u.return < read.call && u.input.description !== description(earlier),
      );
      if (!between || description(earlier) === description(read)) continue;
      const copy = history.slice();
      copy[i] = { ...read, output: earlier.output };
      return copy;
    }
  }
  return null;
}

const RUN_MS = 3000;
/** Bound on running past RUN_MS for the history to hold enough of every kind. */
const RUN_MAX_MS = 30_000;
/** Answers every run must see: the tests below assert each. */
const REQUIRED_KINDS = ['code 45', 'code 46', 'code 13', 'code 7', 'code 1 duplicate', 'error ECONNREFUSED'];
const SEED = Number(process.env.SEED ?? 61);

void describe('workload against a real master', () => {
  void it(`runs 8 clients for 3 s on a small key space with simulated nodes: a linearizable history of at least 500 operations, with 45, 46, 13 and 7 answers and vols made (seed ${SEED})`, { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'workload-'));
    // 127.0.78.x: a subnet of its own (the chaos clusters use 127.0.80-99.x, other suites 127.0.61.x and more).
    const master = new MasterProcess({
      id: 1,
      host: '127.0.78.1',
      httpPort: 17010,
      raftPort: 17110,
      peers: '1:127.0.78.1:17010:17110',
      dataDir: dir,
      extraConfig: { ...DOMAIN_MASTER_CONFIG },
    });
    let nodes: SimNodes | null = null;
    try {
      await master.start();
      nodes = await startSimNodes({ masterAddrs: ['127.0.78.1:17010'], meta: 3, data: 3 });
      await waitUntil('the simulated nodes to be active', async () => {
        const live = await nodeLiveness(master.url);
        return live !== null && nodes !== null && allNodesActive(nodes, live);
      });
      // Half the clients start on an address nothing listens on: refused, they move to the master.
      const deadUrl = 'http://127.0.78.2:17010';
      const workload = startWorkload({ urls: () => [master.url, deadUrl], clients: 8, seed: SEED, requestTimeoutMs: 5000 });
      const events: OutcomeEvent[] = [];
      const seenKinds = new Set<string>();
      const okOps = new Set<string>();
      let outcomes = 0;
      const unsubscribe = workload.onOutcome((event) => {
        if (events.length < 10) events.push(event);
        outcomes++;
        seenKinds.add(event.kind);
        if (event.kind === 'ok') okOps.add(event.f);
      });
      // RUN_MS, then on until the history holds what the assertions below need (a loaded
      // machine does fewer operations in RUN_MS), up to RUN_MAX_MS.
      const enough = (): boolean => outcomes >= 600 && REQUIRED_KINDS.every((k) => seenKinds.has(k)) && ['vol.create', 'vol.update', 'vol.delete'].every((f) => okOps.has(f));
      const startedMs = performance.now();
      await new Promise((resolve) => setTimeout(resolve, RUN_MS));
      while (!enough() && performance.now() - startedMs < RUN_MAX_MS) await new Promise((resolve) => setTimeout(resolve, 250));
      const live = workload.counters();
      unsubscribe();
      const result = await workload.stop();
      const finalReads = await readFinalState(master.url, result.keys, 5000);

      const { counters, history } = result;
      const summary = `counters ${JSON.stringify({ ...counters, byKind: Object.fromEntries(counters.byKind) })}`;
      console.log(`workload: ${history.length} operations in the history; ${summary}`);
      assert.ok(live.started > 0 && live.started <= counters.started);
      assert.equal(events.length, 10);
      assert.equal(counters.ok + counters.failed + counters.indeterminate + counters.rejected, counters.started, summary);
      // Thousands on a quiet machine; at least hundreds when CI runs other tests beside it.
      assert.ok(history.length >= 500, `only ${history.length} operations: ${summary}`);
      for (const kind of REQUIRED_KINDS) assert.ok((counters.byKind.get(kind) ?? 0) > 0, `no ${kind}: ${summary}`);
      assert.equal(counters.byKind.get('malformed reply') ?? 0, 0, summary);
      // Every operation appears once: indeterminate reads and rejected requests are the only ones left out.
      assert.ok(history.length <= counters.started);
      assert.ok(history.every((op) => isIndeterminate(op) || op.return >= op.call));

      const checked = withDomainEffects([...history, ...finalReads]);
      const verdict = check(cubefsModel, checked, { timeoutMs: 60_000 });
      assert.equal(verdict.verdict, 'linearizable', verdict.anomaly ? formatAnomaly(cubefsModel, verdict.anomaly) : String(verdict.unknownReason));
      console.log(`check: ${verdict.elapsedMs.toFixed(0)} ms, ${verdict.steps} steps, ${verdict.partitionCount} partitions`);
      const keys = result.keys;
      assert.equal(verdict.partitionCount, keys.userIds.length + keys.metaNodeAddrs.length + keys.dataNodeAddrs.length + keys.volNames.length + 1);
      assert.deepEqual(sharedMetaNodeIds(finalReads), []);
      for (const [addr, id] of result.ackedMetaNodes) {
        const read = finalReads.find((op) => op.input.f === 'metaNode.get' && op.input.addr === addr);
        assert.deepEqual(read?.output, { kind: 'metaNode', addr, id });
      }
      assert.ok(result.ackedCreates.size > 0);
      const acknowledged = (f: string): number => history.filter((op) => op.input.f === f && !isUnknownOutput(op.output) && op.output.kind === 'done').length;
      for (const f of ['vol.create', 'vol.update', 'vol.delete']) assert.ok(acknowledged(f) > 0, `no acknowledged ${f}: ${summary}`);

      // The same history with one read made stale must fail: the check has teeth on real data.
      const stale = withStaleRead(history);
      assert.ok(stale !== null, 'no info after an acknowledged update to make stale');
      assert.equal(check(cubefsModel, stale, { timeoutMs: 60_000 }).verdict, 'not-linearizable');
      const staleVol = withStaleVolRead(checked);
      assert.ok(staleVol !== null, 'no getVol after an acknowledged vol update to make stale');
      assert.equal(check(cubefsModel, staleVol, { timeoutMs: 60_000 }).verdict, 'not-linearizable');
    } finally {
      await nodes?.close();
      await master.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
