// The API's side of a recovery round (docs/recovery.md): while a round is asked for or collects,
// node registration answers an error the nodes retry on (never the hint that makes a datanode
// exit), and the registering node is noted; GET /cubemaster/recovery serves the report and the
// round's progress; once the round finished, nodes register again.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RecoveryService } from '../../src/cluster/recovery/recovery-service.js';
import { makeCommand, emptyRecoverySummary } from '../../src/model/index.js';
import { TaskQueue } from '../../src/nodes/task-queue.js';
import { call, ok, singleMaster, startMaster } from './helpers.js';
import { FakeGroup, fixedClock, T_CLUSTER_MS } from '../cluster/fakes.js';

const PARAMS = { nodes: [{ kind: 'meta' as const, addr: '127.0.0.1:17210' }], collectTimeoutMs: 600_000, idMargin: 100, nodeIdHints: [] };

void describe('registration and the report while a recovery round runs', () => {
  const queue = new TaskQueue({ sender: { sendAdminTask: () => Promise.reject(new Error('no nodes here')) } });
  let service: RecoveryService | null = null;

  after(async () => {
    await service?.stop();
    await queue.stop();
  });

  void it('holds registration from the request until the finish, and serves the report', async () => {
    const group = new FakeGroup([1], 1);
    group.setHttpAddr(1, '127.0.0.1:17010');
    const replicator = group.replicator(1);
    service = new RecoveryService({
      replicator,
      queue,
      clock: fixedClock(T_CLUSTER_MS),
      selfHttpAddr: '127.0.0.1:17010',
      nodeSetCapacity: 18,
      legacyDataMediaType: 0,
      proposeTimeoutMs: 1_000,
      roundIntervalMs: 20,
      request: { params: PARAMS, newRound: false },
    });
    const m = startMaster(group, 1, { recovery: service });
    const held = await m.app.inject({ url: '/metaNode/add?addr=127.0.0.1:17211&zoneName=&heartbeatPort=17231&replicaPort=17232' });
    // Before the begin is even proposed: a member asked to recover does not register nodes.
    const body = JSON.parse(held.body) as { code: number; msg: string };
    assert.equal(body.code, 1);
    assert.match(body.msg, /cluster is being recovered/);
    assert.doesNotMatch(body.msg, /mediaType not match/);

    service.start();
    for (let i = 0; i < 100 && m.group.state.recovery?.phase !== 'collecting'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(m.group.state.recovery?.phase, 'collecting');
    const dataHeld = await call(m.app, '/dataNode/add?addr=127.0.0.1:17311&zoneName=z1&heartbeatPort=17331&replicaPort=17332&mediaType=2');
    assert.equal(dataHeld.envelope?.code, 1);
    const progress = (await ok(m.app, '/cubemaster/recovery')) as { report: { phase: string; round: number }; progress: { collecting: boolean; registering: number; pending: string[] } };
    assert.equal(progress.report.phase, 'collecting');
    assert.equal(progress.progress.collecting, true);
    assert.equal(progress.progress.registering, 1);
    assert.deepEqual(progress.progress.pending, ['127.0.0.1:17210']);

    await service.stop();
    await replicator.propose(
      makeCommand('recovery.finish', {
        round: 1,
        timeUnixSec: T_CLUSTER_MS / 1000,
        counterFloors: { common: 100, metaPartition: 100, dataPartition: 100 },
        summary: emptyRecoverySummary(),
        findings: [{ kind: 'unknown', subject: 'users', detail: 'lived only in the masters', rule: '' }],
        findingsOmitted: 0,
      }),
    );
    const id = await ok(m.app, '/metaNode/add?addr=127.0.0.1:17211&zoneName=&heartbeatPort=17231&replicaPort=17232');
    assert.equal(id, 102, 'registered above the id floor the recovery set');
    const text = await ok(m.app, '/cubemaster/recovery?format=text');
    assert.equal(typeof text, 'string');
    assert.match(text as string, /round 1 \(done\)/);
    assert.match(text as string, /users: lived only in the masters/);
    assert.equal((await call(m.app, '/cubemaster/recovery?format=xml')).envelope?.code, 2);
  });

  void it('answers a null report on a cluster that never had a recovery', async () => {
    const m = singleMaster();
    assert.deepEqual(await ok(m.app, '/cubemaster/recovery'), { report: null, progress: null });
  });
});
