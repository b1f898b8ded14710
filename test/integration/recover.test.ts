// Issue 11, point 5: every master lost, no backup; `cubemaster recover` starts a new cluster that
// rebuilds vols, partitions and nodes from the nodes' reports (docs/recovery.md).
//
// Real master processes (3, then 3 new ones on the same addresses), simulated meta and data
// nodes in this process with state files (they outlive the masters, as real nodes do; one is
// restarted during the outage and must get its old id back). Before the loss: users, three vols
// (volA with a split meta partition, one of whose replicas missed the range update; volG whose
// middle meta partition is lost on every node). After the loss: the views of volA and volB,
// ranges exact to 2^63-1, hosts, node ids, all as the old cluster served them; volG left
// untouched on its nodes; users, owners and capacities marked in the report; the orphan sweep
// deletes a stray partition with a new id but none of the pre-loss ones; the new cluster takes
// writes; every member holds the same model and wrote the same report.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Opcode } from '../../src/nodes/opcodes.js';
import type { SimNodes } from '../../src/nodes/sim/index.js';
import { SimDataNode, startSimNodes } from '../../src/nodes/sim/index.js';
import { TcpTaskClient } from '../../src/nodes/tcp-task-client.js';
import { parseJsonExact } from '../../src/util/json.js';
import { cfsGet, cfsRequest } from './cfs-client.js';
import { MasterCluster } from './cluster.js';
import type { MasterProcess } from './master-process.js';

const SUBNET = 63;
const CONFIG = {
  tickInterval: 100,
  electionTick: 10,
  nodeHeartbeatIntervalMs: 500,
  orphanPartitionGraceMs: 1_000,
  dataPartitionTopUpDelayMs: 600_000,
};
const INODE_ID_MAX = 9_223_372_036_854_775_807n;
const WAIT_MS = 40_000;

interface Envelope<T = unknown> {
  code: number;
  msg: string;
  data: T;
}

/** A GET whose body is parsed 64-bit exact (End 2^63-1 stays exact). */
async function get<T = unknown>(m: MasterProcess, path: string, params: Record<string, string | number> = {}): Promise<Envelope<T>> {
  const reply = await cfsGet(m.url, path, params, { timeoutMs: 30_000 });
  assert.equal(reply.status, 200, `${path}: HTTP ${reply.status} ${reply.body}`);
  return parseJsonExact(reply.body) as Envelope<T>;
}

async function must<T = unknown>(m: MasterProcess, path: string, params: Record<string, string | number> = {}): Promise<T> {
  const e = await get<T>(m, path, params);
  assert.equal(e.code, 0, `${path}: ${e.msg}`);
  return e.data;
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await Promise.resolve().then(check).catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface MetaPartitionView {
  PartitionID: number;
  Start: bigint | number;
  End: bigint | number;
  Members: string[];
  LeaderAddr: string;
  MaxInodeID: bigint | number;
}
interface DataPartitionView {
  PartitionID: number;
  Hosts: string[];
  ReplicaNum: number;
  LeaderAddr: string;
}
interface NodeView {
  ID: number;
  Addr: string;
  Status: boolean;
}

/** What a client and an operator see of the cluster, in a form to compare before and after. */
async function clusterView(m: MasterProcess, vols: readonly string[]): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const name of vols) {
    const mps = await must<MetaPartitionView[]>(m, '/client/metaPartitions', { name });
    const dps = await must<{ DataPartitions: DataPartitionView[] }>(m, '/client/partitions', { name });
    out[name] = {
      meta: mps.map((p) => ({ id: p.PartitionID, start: BigInt(p.Start), end: BigInt(p.End), members: p.Members })),
      data: dps.DataPartitions.map((p) => ({ id: p.PartitionID, hosts: p.Hosts, replicas: p.ReplicaNum })).sort((a, b) => a.id - b.id),
    };
  }
  const ids = (nodes: NodeView[]): [number, string][] => nodes.map((n): [number, string] => [n.ID, n.Addr]).sort((a, b) => a[0] - b[0]);
  out['metaNodes'] = ids(await must<NodeView[]>(m, '/admin/cluster/getAllMetaNodes'));
  out['dataNodes'] = ids(await must<NodeView[]>(m, '/admin/cluster/getAllDataNodes'));
  return out;
}

function authKey(owner: string): string {
  return createHash('md5').update(owner).digest('hex');
}

interface Report {
  round: number;
  phase: string;
  summary: Record<string, number>;
  preLossIds: { metaPartition: number; dataPartition: number };
  findings: Record<string, { subject: string; detail: string; rule: string }[]>;
  rebuilt: { vols: { name: string; owner: string }[] };
  nextSteps: string[];
}

void describe('every master lost: cubemaster recover rebuilds the cluster from its nodes', { timeout: 300_000 }, () => {
  let old: MasterCluster;
  let fresh: MasterCluster;
  let sims: SimNodes;
  let stateDir: string;
  let restarted: SimDataNode;
  let restartedStart: Promise<void>;
  let restartedOldId = 0;
  let restartedHeld: number[] = [];
  let beforeView: unknown;
  let laggingAddr = '';
  let healLaggingDisk: () => void = () => undefined;
  let volAMax = 0;
  let volGLost = 0;
  const users = ['alice', 'bob'];

  before(async () => {
    old = new MasterCluster({ subnet: SUBNET, size: 3, extraConfig: CONFIG });
    await old.start();
    let leader = await old.leader();
    const masterAddrs = old.masters.map((m) => `${m.spec.host}:${m.spec.httpPort}`);
    stateDir = mkdtempSync(path.join(tmpdir(), 'recover-sims-'));
    // Real nodes retry registration until a master answers; the recovery holds it back a while.
    sims = await startSimNodes({ masterAddrs, meta: 4, data: 4, stateDir, common: { registerTriesMax: 600, registerRetryDelayMs: 200, httpTimeoutMs: 3_000 } });
    await until('every node active on the leader', async () => {
      const meta = await must<NodeView[]>(await old.leader(), '/admin/cluster/getAllMetaNodes');
      const data = await must<NodeView[]>(await old.leader(), '/admin/cluster/getAllDataNodes');
      return meta.length === 4 && data.length === 4 && [...meta, ...data].every((n) => n.Status);
    });
    leader = await old.leader();
    for (const id of users) {
      const r = await cfsRequest<unknown>(leader.url, '/user/create', { body: { id, type: 3 } });
      assert.equal(r.envelope?.code, 0, r.body);
    }
    for (const [name, owner] of [['volA', 'alice'], ['volB', 'bob'], ['volG', 'alice']]) {
      await must(leader, '/admin/createVol', { name, owner, capacity: 30, mpCount: 3, dpCount: 3, replicaNum: 3 });
    }
    // volA's last meta partition: inodes in use, one replica that will miss the split's update.
    const mpsA = await must<MetaPartitionView[]>(leader, '/client/metaPartitions', { name: 'volA' });
    const lastA = mpsA[mpsA.length - 1];
    const holdersA = sims.metaNodes.filter((n) => n.partition(lastA.PartitionID) !== undefined);
    for (const n of holdersA) n.setMaxInodeId(lastA.PartitionID, BigInt(lastA.Start) + 1_000n);
    laggingAddr = lastA.Members[1];
    const lagging = holdersA.find((n) => n.addr === laggingAddr);
    assert.ok(lagging !== undefined);
    healLaggingDisk = lagging.failWhen((t) => t.opCode === Opcode.UpdateMetaPartition && t.partitionId === lastA.PartitionID, 'disk busy');
    await until('volA\'s last meta partition to report a leader', async () => (await must<MetaPartitionView[]>(await old.leader(), '/client/metaPartitions', { name: 'volA' })).at(-1)?.LeaderAddr !== '');
    await must(await old.leader(), '/metaPartition/create', { name: 'volA', count: 1 });
    // volG loses its middle meta partition on every node (failed disks).
    const mpsG = await must<MetaPartitionView[]>(leader, '/client/metaPartitions', { name: 'volG' });
    volGLost = mpsG[1].PartitionID;
    for (const n of sims.metaNodes) n.losePartition(volGLost);

    beforeView = await clusterView(await old.leader(), ['volA', 'volB']);
    const view = beforeView as Record<string, { meta: { id: number; end: bigint }[] }>;
    volAMax = view['volA'].meta.at(-1)?.id ?? 0;
    assert.equal(view['volA'].meta.length, 4, 'volA has a split meta partition');
    assert.equal(view['volA'].meta.at(-1)?.end, INODE_ID_MAX);

    // Every master lost: SIGKILL, and their disks wiped.
    await Promise.all(old.masters.map((m) => m.kill()));
    for (const m of old.masters) rmSync(m.spec.dataDir, { recursive: true, force: true });

    // A data node restarted while no master was up: it waits in registration.
    const victim = sims.dataNodes[0];
    restartedOldId = victim.nodeId;
    restartedHeld = victim.partitions().map((p) => p.partitionId);
    await victim.crash();
    restarted = new SimDataNode({ masterAddrs, stateFile: path.join(stateDir, 'data-0.json'), registerTriesMax: 600, registerRetryDelayMs: 200, httpTimeoutMs: 3_000 });
    restartedStart = restarted.start();

    // The new cluster: fresh directories, same addresses, every member started with `recover`.
    // One meta and one data node are listed; the others are found through their peers.
    const listed = `meta:${sims.metaNodes[0].addr},data:${sims.dataNodes[1].addr}`;
    fresh = new MasterCluster({ subnet: SUBNET, size: 3, extraConfig: CONFIG, command: { name: 'recover', args: ['--nodes', listed, '--collect-timeout-ms', '20000'] } });
    await fresh.start();
    await until('the recovery round to finish', async () => {
      const r = await must<{ report: Report | null }>(await fresh.leader(), '/cubemaster/recovery');
      return r.report?.phase === 'done';
    });
  });

  after(async () => {
    await restarted?.close();
    await sims?.close();
    await fresh?.destroy();
    await old?.destroy();
    if (stateDir !== undefined) rmSync(stateDir, { recursive: true, force: true });
  });

  void it('serves the vols as the old cluster did: ranges exact to 2^63-1, hosts, node ids', async () => {
    const leader = await fresh.leader();
    assert.deepEqual(await clusterView(leader, ['volA', 'volB']), beforeView);
    assert.equal((await get(leader, '/admin/getVol', { name: 'volG' })).code, 7, 'volG, with a hole in its inode range, is not rebuilt');
  });

  void it('works for clients again: /client/vol with the placeholder owner\'s key, leaders in the views', async () => {
    const leader = await fresh.leader();
    const vol = await must<{ Owner: string; MetaPartitions: MetaPartitionView[] }>(leader, '/client/vol', { name: 'volA', authKey: authKey('root') });
    assert.equal(vol.Owner, 'root');
    assert.equal(vol.MetaPartitions.at(-1)?.End, INODE_ID_MAX);
    await until('every partition of volA to have a leader', async () => {
      const l = await fresh.leader();
      const mps = await must<MetaPartitionView[]>(l, '/client/metaPartitions', { name: 'volA' });
      const dps = await must<{ DataPartitions: DataPartitionView[] }>(l, '/client/partitions', { name: 'volA' });
      return [...mps, ...dps.DataPartitions].every((p) => p.LeaderAddr !== '');
    });
  });

  void it('reports what it rebuilt, what it could not know, and the conflicts it settled', async () => {
    const reports = fresh.masters.map((m) => path.join(m.spec.dataDir, 'recovery-report.json'));
    await until('every member to write the report', () => reports.every((f) => existsSync(f) && existsSync(f.replace(/\.json$/, '.txt'))));
    const texts = reports.map((f) => readFileSync(f, 'utf8'));
    assert.ok(texts.every((t) => t === texts[0]), 'every member wrote the same report');
    const report = parseJsonExact(texts[0]) as Report;
    assert.equal(report.round, 1);
    assert.equal(report.summary['volsAdopted'], 2);
    assert.equal(report.summary['metaNodesAdopted'], 4);
    assert.equal(report.summary['dataNodesAdopted'], 4);
    assert.deepEqual(report.rebuilt.vols.map((v) => [v.name, v.owner]), [['volA', 'root'], ['volB', 'root']]);
    const subjects = (kind: string, rule?: string): string[] => report.findings[kind].filter((f) => rule === undefined || f.rule === rule).map((f) => f.subject);
    for (const s of ['users', 'quotas', 'vol options']) assert.ok(subjects('unknown').includes(s), `unknown: ${s}`);
    for (const v of ['vol volA', 'vol volB']) {
      assert.ok(subjects('guess', 'placeholder-owner').includes(v));
      assert.ok(subjects('guess', 'capacity').includes(v));
    }
    assert.ok(subjects('notAdopted', 'inode-range').includes('vol volG'));
    const lag = report.findings['conflict'].find((f) => f.rule === 'lagging-range');
    assert.ok(lag !== undefined && lag.detail.includes(laggingAddr), `a lagging replica on ${laggingAddr}: ${JSON.stringify(report.findings['conflict'])}`);
    assert.ok(report.nextSteps.some((s) => s.includes('volume transfer')));
    const text = readFileSync(reports[0].replace(/\.json$/, '.txt'), 'utf8');
    assert.match(text, /Not known to any node/);
    assert.match(text, /volG/);
    // The users did not survive; the report says so, the cluster says so.
    const list = await must<{ user_id: string }[]>(await fresh.leader(), '/user/list');
    assert.deepEqual(list.map((u) => u.user_id), ['root']);
  });

  void it('gives the node that restarted during the outage its old id back, and it keeps its partitions', async () => {
    await restartedStart;
    assert.equal(restarted.nodeId, restartedOldId);
    assert.deepEqual(restarted.partitions().map((p) => p.partitionId), restartedHeld);
    assert.deepEqual(restarted.expiredPartitionIds(), []);
    assert.deepEqual(restarted.identityMismatches(), []);
  });

  void it('sends the lagging replica its range once it can take it', async () => {
    const lagging = sims.metaNodes.find((n) => n.addr === laggingAddr);
    const mpsA = await must<MetaPartitionView[]>(await fresh.leader(), '/client/metaPartitions', { name: 'volA' });
    const narrowed = mpsA[mpsA.length - 2];
    assert.equal(lagging?.partition(narrowed.PartitionID)?.end, INODE_ID_MAX, 'still stale while its disk refuses');
    healLaggingDisk();
    await until('the lagging replica to narrow its End', () => lagging?.partition(narrowed.PartitionID)?.end === BigInt(narrowed.End));
  });

  void it('takes writes: a new vol gets partition ids above the pre-loss range, on the same nodes', async () => {
    const leader = await fresh.leader();
    await must(leader, '/admin/createVol', { name: 'volD', owner: 'carol', capacity: 10, mpCount: 3, dpCount: 3, replicaNum: 3 });
    const r = await must<{ report: Report }>(leader, '/cubemaster/recovery');
    const mps = await must<MetaPartitionView[]>(leader, '/client/metaPartitions', { name: 'volD' });
    assert.ok(mps.every((p) => p.PartitionID > r.report.preLossIds.metaPartition), JSON.stringify(mps.map((p) => p.PartitionID)));
    assert.ok(mps.every((p) => p.PartitionID > volAMax));
    const onNodes = sims.metaNodes.filter((n) => n.partition(mps[0].PartitionID) !== undefined);
    assert.equal(onNodes.length, 3, 'the meta nodes created the new partition');
  });

  void it('never sweeps a pre-loss partition as an orphan, but still sweeps a new one', async () => {
    const r = await must<{ report: Report }>(await fresh.leader(), '/cubemaster/recovery');
    const strayId = r.report.preLossIds.metaPartition + 50;
    const node = sims.metaNodes[2];
    const client = new TcpTaskClient({ syncReplyTimeoutMs: 3_000 });
    try {
      await client.createMetaPartition(node.addr, {
        partitionId: strayId,
        volName: 'stray',
        start: 0n,
        end: INODE_ID_MAX,
        members: [{ id: node.nodeId, addr: node.addr, heartbeatPort: node.heartbeatPort, replicaPort: node.replicaPort }],
      });
    } finally {
      await client.close();
    }
    await until('the stray partition with a new id to be swept', () => node.partition(strayId) === undefined, 30_000);
    // volG was reported all along (never adopted): its partitions are still on their nodes.
    const volGMeta = sims.metaNodes.flatMap((n) => n.partitions().filter((p) => p.volName === 'volG'));
    assert.equal(volGMeta.length, 6, 'two meta partitions of volG on three nodes each');
    assert.ok(volGMeta.every((p) => p.partitionId !== volGLost));
    const volGData = [...sims.dataNodes.slice(1), restarted].flatMap((n) => n.partitions().filter((p) => p.volName === 'volG'));
    assert.equal(volGData.length, 9, 'three data partitions of volG on three nodes each');
  });

  void it('holds the same model on every member', async () => {
    let digests: { applied: number; modelDigest: string }[] = [];
    await until('every member at the same applied index', async () => {
      digests = await Promise.all(fresh.masters.map((m) => must<{ applied: number; modelDigest: string }>(m, '/cubemaster/audit')));
      return digests.every((d) => d.applied === digests[0].applied);
    });
    assert.ok(digests.every((d) => d.modelDigest === digests[0].modelDigest), JSON.stringify(digests));
  });
});
