// The Raft driver with real log stores and state machines (RocksDB, segment files) over an
// in-process network: replication, forwarding errors, linearizable reads on followers, restart
// from disk, catch-up by snapshot after compaction, leadership transfer, adding a member.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { MetadataFsm } from '../../src/fsm/metadata-fsm.js';
import { makeCommand, passwordSha1 } from '../../src/model/index.js';
import { NotLeaderError, type NodeId } from '../../src/raft/core/index.js';
import { RaftLogStore } from '../../src/raft/log/log-store.js';
import { MemberDiskFullError } from '../../src/raft/errors.js';
import { RaftNode } from '../../src/raft/node.js';
import { ChaosDisk } from '../../src/server/chaos-hooks.js';
import { DiskSpaceMonitor } from '../../src/storage/disk-space.js';
import { RaftReplicator } from '../../src/server/raft-adapters.js';
import { MemoryNetwork } from './memory-transport.js';

const root = mkdtempSync(path.join(tmpdir(), 'raft-node-'));
after(() => rmSync(root, { recursive: true, force: true }));
const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
let clusterSeq = 0;

interface Member {
  id: NodeId;
  dir: string;
  node: RaftNode;
  fsm: MetadataFsm;
  log: RaftLogStore;
  replicator: RaftReplicator;
  /** Its disk, which a test may slow down, fill up or fail (both stores). */
  disk: ChaosDisk;
  diskSpace: DiskSpaceMonitor;
}

const address = (id: NodeId) => ({ httpAddr: `h${id}:1`, raftAddr: `r${id}:1` });

async function startMember(network: MemoryNetwork, id: NodeId, dir: string, voters: NodeId[], retainLogs = 1000, slowSaveMs = 0): Promise<Member> {
  const disk = new ChaosDisk();
  const diskSpace = new DiskSpaceMonitor(logger);
  const fsm = await MetadataFsm.open({ storeDir: path.join(dir, 'store'), logger, snapshotChunkSizeBytes: 256, faults: disk, diskSpace });
  // A slow disk: every fsync takes longer, so that acks, commits and new proposals arrive while
  // a write is in flight (the paths of RaftNode.workWhileWriting).
  if (slowSaveMs > 0) disk.slow('raft-log', slowSaveMs, 3_600_000);
  const log = await RaftLogStore.open(path.join(dir, 'wal'), { logger, faults: disk, diskSpace });
  const node = await RaftNode.start({
    id,
    log,
    stateMachine: fsm,
    transport: network.transport(id),
    logger,
    bootstrap: voters.map((v) => ({ id: v, address: address(v) })),
    knownAddresses: new Map(voters.map((v) => [v, address(v)])),
    tickIntervalMs: 10,
    electionTick: 10,
    heartbeatTick: 1,
    retainLogs,
    proposalTimeoutMs: 5000,
    maxPendingProposals: 10_000,
    maxPendingReads: 10_000,
    randomSeed: id * 7919,
    onFatal: (error) => assert.fail(`node ${id} fatal: ${error.message}`),
    diskSpace,
  });
  return { id, dir, node, fsm, log, replicator: new RaftReplicator(node, fsm), disk, diskSpace };
}

async function stopMember(m: Member): Promise<void> {
  await m.node.drain(1000);
  // As the master's stop: an apply waiting for state store space must not hold the loop.
  m.fsm.stopWaitingForSpace();
  await m.node.stop();
  await m.log.close();
  await m.fsm.close();
}

async function startCluster(n: number, retainLogs = 1000, slowSaveMs = 0): Promise<{ network: MemoryNetwork; members: Member[] }> {
  const network = new MemoryNetwork();
  const voters = Array.from({ length: n }, (_, i) => i + 1);
  const dirBase = path.join(root, `c${++clusterSeq}`);
  const members = await Promise.all(voters.map((id) => startMember(network, id, path.join(dirBase, `m${id}`), voters, retainLogs, slowSaveMs)));
  return { network, members };
}

async function waitFor<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const leaderOf = (members: Member[]) => waitFor('a leader', () => members.find((m) => m.node.isLeader()));

function createUser(userId: string) {
  return makeCommand('user.create', {
    userId,
    accessKey: userId.padEnd(16, 'k').slice(0, 16).toUpperCase().replace(/[^A-Z0-9]/g, 'K'),
    secretKey: 'S'.repeat(32),
    passwordSha1: passwordSha1('pw'),
    userType: 2,
    description: '',
    createTimeUnixSec: 1_700_000_000,
  });
}

void test('writes replicate to every member and the proposer gets the apply result', async () => {
  const { members } = await startCluster(3);
  const leader = await leaderOf(members);
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => leader.replicator.propose(createUser(`user${i}`))));
  assert.equal(results.length, 50);
  await assert.rejects(leader.replicator.propose(createUser('user1')), (e: Error & { code?: number }) => e.code === 45);
  const applied = leader.fsm.appliedIndex();
  await waitFor('followers to apply', () => members.every((m) => m.fsm.appliedIndex() === applied));
  assert.equal(new Set(members.map((m) => m.fsm.digest())).size, 1);
  await Promise.all(members.map(stopMember));
});

void test('with writes slower than proposals arrive, every member applies every entry once, in order, and every proposer hears its result', async () => {
  const { members } = await startCluster(3, 1000, 8);
  try {
    const leader = await leaderOf(members);
    // The leader's disk is the slowest: followers acknowledge appends before the leader has even
    // begun writing them, so commits overtake its own writes (a Ready whose committed entries
    // are also its own entries to write).
    leader.disk.slow('raft-log', 40, 3_600_000);
    for (const m of members) if (m !== leader) m.disk.slow('raft-log', 0, 0);
    const deadline = performance.now() + 1_500;
    let created = 0;
    // 24 closed-loop proposers: new proposals, acks and commits keep arriving while writes run.
    await Promise.all(
      Array.from({ length: 24 }, async (_, c) => {
        for (let i = 0; performance.now() < deadline; i++) {
          const user = await leader.replicator.propose(createUser(`p${c}x${i}`));
          assert.equal(user.userId, `p${c}x${i}`);
          created++;
        }
      }),
    );
    assert.ok(created > 24, `${created} proposals settled`);
    const applied = leader.fsm.appliedIndex();
    await waitFor('followers to apply', () => members.every((m) => m.fsm.appliedIndex() === applied));
    assert.equal(new Set(members.map((m) => m.fsm.digest())).size, 1, 'every member holds the same state');
    for (const m of members) assert.equal(m.fsm.view.users.size, created, `member ${m.id} holds every user`);
  } finally {
    await Promise.all(members.map(stopMember));
  }
});

void test('a follower refuses proposals with the leader hint, and serves linearizable reads', async () => {
  const { members } = await startCluster(3);
  const leader = await leaderOf(members);
  const follower = members.find((m) => m !== leader)!;
  await waitFor('the follower to know the leader', () => follower.node.leaderId() === leader.id);
  await assert.rejects(follower.replicator.propose(createUser('x')), (e: unknown) => e instanceof NotLeaderError && e.leaderHint === leader.id);
  await leader.replicator.propose(createUser('written'));
  // A read barrier on the follower waits until it applied the write acknowledged before it.
  await follower.replicator.readBarrier();
  assert.ok(follower.fsm.view.users.has('written'));
  await Promise.all(members.map(stopMember));
});

void test('a member restarts from its disk with the same state and rejoins', async () => {
  const { network, members } = await startCluster(3);
  const leader = await leaderOf(members);
  for (let i = 0; i < 20; i++) await leader.replicator.propose(createUser(`u${i}`));
  const victim = members.find((m) => m !== leader)!;
  const digestBefore = await waitFor('victim applied', () => victim.fsm.appliedIndex() === leader.fsm.appliedIndex() && victim.fsm.digest());
  await stopMember(victim);
  const restarted = await startMember(network, victim.id, victim.dir, [1, 2, 3]);
  assert.equal(restarted.fsm.digest(), digestBefore);
  await leader.replicator.propose(createUser('afterRestart'));
  await waitFor('restarted member to catch up', () => restarted.fsm.view.users.has('afterRestart'));
  await Promise.all([...members.filter((m) => m !== victim), restarted].map(stopMember));
});

void test('a member cut off while the leader compacts catches up by snapshot', async () => {
  const { network, members } = await startCluster(3, 100);
  const leader = await leaderOf(members);
  const lagging = members.find((m) => m !== leader)!;
  network.isolate(lagging.id);
  for (let i = 0; i < 400; i++) await leader.replicator.propose(createUser(`v${i}`));
  await waitFor('leader log compacted', () => leader.log.firstIndex() > lagging.fsm.appliedIndex() + 1);
  network.heal();
  await waitFor('lagging member caught up', () => lagging.fsm.appliedIndex() >= leader.fsm.appliedIndex() - 1, 20_000);
  await waitFor('same state', () => lagging.fsm.digest() === leader.fsm.digest());
  // The log records the snapshot right after the state machine installed it.
  await waitFor('the log to record the snapshot', () => lagging.log.snapshot().index > 0);
  await Promise.all(members.map(stopMember));
});

void test('leadership moves to the target on request', async () => {
  const { members } = await startCluster(3);
  const leader = await leaderOf(members);
  const target = members.find((m) => m !== leader)!;
  await leader.node.transferLeadership(target.id);
  await waitFor('target leads', () => target.node.isLeader());
  await target.replicator.propose(createUser('afterTransfer'));
  await Promise.all(members.map(stopMember));
});

void test('a new member joins as a learner, catches up, then becomes a voter', async () => {
  const { network, members } = await startCluster(3);
  const leader = await leaderOf(members);
  for (let i = 0; i < 30; i++) await leader.replicator.propose(createUser(`w${i}`));
  const joiner = await startMember(network, 4, path.join(root, `join${clusterSeq}`), []);
  await leader.node.addMember(4, address(4), { catchUpTimeoutMs: 10_000 });
  assert.deepEqual(leader.node.conf().voters, [1, 2, 3, 4]);
  await waitFor('joiner applied', () => joiner.fsm.view.users.has('w29'));
  await Promise.all([...members, joiner].map(stopMember));
});

void test('stop fails new work with ShuttingDown and leaves nothing running', async () => {
  const { members } = await startCluster(1);
  const [only] = members;
  await leaderOf(members);
  await only.replicator.propose(createUser('beforeStop'));
  only.node.stopAccepting();
  await assert.rejects(only.replicator.propose(createUser('refused')), /shutting down/);
  await assert.rejects(only.replicator.readBarrier(), /shutting down/);
  await stopMember(only);
});

void test('a leader whose Raft log finds no space refuses writes at once, hands leadership over, and catches up once space returns; nothing is lost', async () => {
  const { members } = await startCluster(3);
  const leader = await leaderOf(members);
  for (let i = 0; i < 10; i++) await leader.replicator.propose(createUser(`before${i}`));
  leader.disk.full('raft-log', 3_600_000);
  // The write that finds the disk full: its outcome is decided by the cluster, not by this disk.
  const inFlight = leader.replicator.propose(createUser('inflight')).then(
    () => 'ok',
    (e: Error) => e.name,
  );
  await waitFor('the leader to see its disk full', () => leader.diskSpace.fullError !== null);
  await assert.rejects(leader.replicator.propose(createUser('refused')), MemberDiskFullError);
  await assert.rejects(leader.replicator.readBarrier(), MemberDiskFullError);
  const next = await waitFor('another member to lead', () => members.find((m) => m !== leader && m.node.isLeader()), 10_000);
  for (let i = 0; i < 10; i++) await next.replicator.propose(createUser(`during${i}`));
  leader.disk.clear();
  await waitFor('space back on the old leader', () => leader.diskSpace.fullError === null, 5_000);
  const outcome = await inFlight;
  await next.replicator.propose(createUser('after'));
  await waitFor('every member applied everything', () => members.every((m) => m.fsm.view.users.has('after') && m.fsm.appliedIndex() === next.fsm.appliedIndex()), 10_000);
  assert.equal(new Set(members.map((m) => m.fsm.digest())).size, 1);
  for (const m of members) {
    for (let i = 0; i < 10; i++) assert.ok(m.fsm.view.users.has(`before${i}`) && m.fsm.view.users.has(`during${i}`));
    assert.equal(m.fsm.view.users.has('refused'), false, 'a refused write did not happen');
    if (outcome === 'ok') assert.ok(m.fsm.view.users.has('inflight'), 'an acknowledged write is everywhere');
  }
  assert.deepEqual([...leader.diskSpace.episodes], [['raft-log', 1]]);
  await Promise.all(members.map(stopMember));
});

void test('a follower whose state store finds no space keeps its model, refuses linearizable reads, and writes everything once space returns', async () => {
  const { members } = await startCluster(3);
  const leader = await leaderOf(members);
  const follower = members.find((m) => m !== leader)!;
  follower.disk.full('state', 3_600_000);
  for (let i = 0; i < 20; i++) await leader.replicator.propose(createUser(`s${i}`));
  await waitFor('the follower to see its disk full', () => follower.diskSpace.fullError !== null);
  await assert.rejects(follower.replicator.readBarrier(), MemberDiskFullError);
  follower.disk.clear();
  await waitFor('space back on the follower', () => follower.diskSpace.fullError === null, 5_000);
  await follower.replicator.readBarrier();
  const audit = await follower.fsm.audit();
  assert.equal(audit.storeDigest, audit.modelDigest, 'the store holds what the model holds');
  assert.equal(audit.storeApplied, audit.applied);
  assert.ok(follower.fsm.view.users.has('s19'));
  await Promise.all(members.map(stopMember));
});

void test('a member whose disk stays full stops promptly: what waits for space is dropped, and a restart replays it from the log', async () => {
  const { network, members } = await startCluster(3);
  const leader = await leaderOf(members);
  const follower = members.find((m) => m !== leader)!;
  follower.disk.full('state', 3_600_000);
  for (let i = 0; i < 20; i++) await leader.replicator.propose(createUser(`t${i}`));
  await waitFor('the follower to see its disk full', () => follower.diskSpace.fullError !== null);
  const startedMs = performance.now();
  await stopMember(follower);
  assert.ok(performance.now() - startedMs < 3_000, `stop took ${performance.now() - startedMs} ms`);
  const restarted = await startMember(network, follower.id, follower.dir, [1, 2, 3]);
  await waitFor('the restarted member to hold every write', () => restarted.fsm.view.users.has('t19'), 10_000);
  await Promise.all([...members.filter((m) => m !== follower), restarted].map(stopMember));
});
