// Issue 8, point 3: a volume create interrupted by SIGKILL or SIGTERM of the leader, by the
// leader being deposed, or by a node task that fails, leaves either a whole, usable volume or no
// trace of it: no vol record, no intent holding the name, no partition left on any node.
// Masters are real processes (3 members); the meta and data nodes are simulated in this process
// but speak the real protocol (HTTP registration and reports, TCP admin tasks).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Opcode } from '../../src/nodes/opcodes.js';
import type { SimNodes } from '../../src/nodes/sim/index.js';
import { startSimNodes } from '../../src/nodes/sim/index.js';
import { parseJsonExact } from '../../src/util/json.js';
import { cfsGet } from './cfs-client.js';
import { MasterCluster } from './cluster.js';
import type { MasterProcess } from './master-process.js';

const CONFIG = {
  tickInterval: 100,
  electionTick: 10,
  nodeHeartbeatIntervalMs: 500,
  orphanPartitionGraceMs: 1_000,
  domainStopGraceMs: 5_000,
};
/** Long enough for the interruption to land while the data partitions are being created. */
const SLOW_CREATE_MS = 2_000;
const SETTLE_TIMEOUT_MS = 30_000;

interface Envelope<T = unknown> {
  code: number;
  msg: string;
  data: T;
}

async function get<T = unknown>(m: MasterProcess, path: string, params: Record<string, string | number> = {}): Promise<Envelope<T>> {
  const reply = await cfsGet<T>(m.url, path, params, { timeoutMs: 60_000 });
  assert.ok(reply.envelope !== null, `${path}: no envelope (HTTP ${reply.status})`);
  return reply.envelope;
}

function createVol(m: MasterProcess, name: string): Promise<Envelope> {
  return get(m, '/admin/createVol', { name, owner: 'alice', capacity: 10, mpCount: 3, dpCount: 3, replicaNum: 3 });
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = SETTLE_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function partitionsOnNodes(nodes: SimNodes): { meta: Map<number, string[]>; data: Map<number, string[]> } {
  const meta = new Map<number, string[]>();
  const data = new Map<number, string[]>();
  for (const n of nodes.metaNodes) for (const p of n.partitions()) meta.set(p.partitionId, [...(meta.get(p.partitionId) ?? []), n.addr].sort());
  for (const n of nodes.dataNodes) for (const p of n.partitions()) data.set(p.partitionId, [...(data.get(p.partitionId) ?? []), n.addr].sort());
  return { meta, data };
}

interface MetaPartitionView {
  PartitionID: number;
  Members: string[];
}
interface DataPartitionsView {
  DataPartitions: { PartitionID: number; Hosts: string[] }[];
}

/**
 * The vol is whole (every partition of its views lives on exactly the nodes the views name,
 * and the nodes hold nothing else) or gone (no vol, no partition on any node, and the name is
 * free again). Returns which.
 */
async function assertWholeOrGone(cluster: MasterCluster, nodes: SimNodes, name: string): Promise<'whole' | 'gone'> {
  const leader = await cluster.leader();
  // A create in progress shows in getVol (its intent) until it finishes or a new leader rolls it
  // back: wait for either end, not for the first answer (a loaded machine sees the middle).
  let vol = await get(leader, '/admin/getVol', { name });
  let dpsReply = await get<DataPartitionsView | null>(leader, '/client/partitions', { name });
  await until(`${name} to be whole or gone (getVol ${vol.code}, partitions ${dpsReply.code})`, async () => {
    vol = await get(leader, '/admin/getVol', { name });
    dpsReply = await get<DataPartitionsView | null>(leader, '/client/partitions', { name });
    return vol.code !== 0 || (dpsReply.code === 0 && dpsReply.data !== null && dpsReply.data.DataPartitions.length === 3);
  });
  let lastSeen = '';
  if (vol.code === 0) {
    const mps = (await get<MetaPartitionView[]>(leader, '/client/metaPartitions', { name })).data;
    const dps = dpsReply.data!.DataPartitions;
    assert.equal(mps.length, 3);
    assert.equal(dps.length, 3);
    const expected = {
      meta: new Map(mps.map((p) => [p.PartitionID, [...p.Members].sort()])),
      data: new Map(dps.map((p) => [p.PartitionID, [...p.Hosts].sort()])),
    };
    // Nothing else may remain on the nodes once the orphan sweep had its chance.
    const text = (m: { meta: Map<number, string[]>; data: Map<number, string[]> }): string =>
      JSON.stringify({ meta: [...m.meta].sort((a, b) => a[0] - b[0]), data: [...m.data].sort((a, b) => a[0] - b[0]) });
    await until(`the nodes to hold exactly the vol partitions ${text(expected)}`, () => {
      const on = partitionsOnNodes(nodes);
      if (text(on) !== text(expected)) lastSeen = text(on);
      return text(on) === text(expected);
    }).catch((e: Error) => {
      throw new Error(`${e.message}; the nodes hold ${lastSeen}`);
    });
    return 'whole';
  }
  assert.equal(vol.code, 7, `getVol: ${vol.msg}`);
  await until('every partition to be deleted from the nodes', () => {
    const on = partitionsOnNodes(nodes);
    lastSeen = JSON.stringify({ meta: [...on.meta], data: [...on.data] });
    return on.meta.size === 0 && on.data.size === 0;
  }).catch((e: Error) => {
    throw new Error(`${e.message}; the nodes hold ${lastSeen}`);
  });
  const list = (await get<{ Name: string }[]>(leader, '/vol/list', { keywords: '' })).data;
  assert.equal(list.some((v) => v.Name === name), false);
  return 'gone';
}

/** Clean up between cases: the vol deleted and removed, so the next case starts from empty nodes. */
async function deleteVol(cluster: MasterCluster, nodes: SimNodes, name: string): Promise<void> {
  const leader = await cluster.leader();
  const vol = await get<{ Owner: string }>(leader, '/admin/getVol', { name });
  if (vol.code !== 0) return;
  const { createHash } = await import('node:crypto');
  const authKey = createHash('md5').update(vol.data.Owner).digest('hex');
  assert.equal((await get(leader, '/vol/delete', { name, authKey })).code, 0);
  await until('the deleted vol to be removed', async () => (await get(await cluster.leader(), '/admin/getVol', { name })).code === 7);
  await until('its partitions to leave the nodes', () => {
    const on = partitionsOnNodes(nodes);
    return on.meta.size === 0 && on.data.size === 0;
  });
}

function slowDataPartitionCreates(nodes: SimNodes, ms: number): void {
  for (const n of nodes.dataNodes) n.delayMs(Opcode.CreateDataPartition, ms);
}

/** Resolves once the create reached its node work: the meta partitions exist on the nodes. */
async function createInProgress(nodes: SimNodes): Promise<void> {
  await until('the create to reach the nodes', () => partitionsOnNodes(nodes).meta.size > 0, 10_000);
}

void describe('a volume create that is interrupted leaves a whole volume or no trace', { timeout: 300_000 }, () => {
  let cluster: MasterCluster;
  let nodes: SimNodes;

  before(async () => {
    cluster = new MasterCluster({ subnet: 61, size: 3, extraConfig: CONFIG });
    await cluster.start();
    await cluster.leader();
    nodes = await startSimNodes({ masterAddrs: cluster.masters.map((m) => `${m.spec.host}:${m.spec.httpPort}`), meta: 3, data: 3 });
    // Placement needs live nodes: wait for the leader to have heard from all six.
    await until('every node to be active on the leader', async () => {
      const leader = await cluster.leader();
      const meta = (await get<{ Status: boolean }[]>(leader, '/admin/cluster/getAllMetaNodes')).data;
      const data = (await get<{ Status: boolean }[]>(leader, '/admin/cluster/getAllDataNodes')).data;
      return meta.length === 3 && data.length === 3 && [...meta, ...data].every((n) => n.Status);
    });
  });

  after(async () => {
    await nodes?.close();
    await cluster?.stop();
    for (const m of cluster?.masters ?? []) assert.deepEqual(m.crashLines(), [], `member ${m.spec.id} crash output`);
    await cluster?.destroy();
  });

  void it('a node task that fails rolls the create back: error reply, no vol, no partition left', async () => {
    const leader = await cluster.leader();
    nodes.dataNodes[2].failNext(Opcode.CreateDataPartition, 1, 'disk full (injected)');
    const reply = await createVol(leader, 'volfail');
    assert.notEqual(reply.code, 0, 'the create must fail');
    assert.match(reply.msg, /disk full \(injected\)/);
    assert.equal(await assertWholeOrGone(cluster, nodes, 'volfail'), 'gone');
    assert.equal((await createVol(await cluster.leader(), 'volfail')).code, 0, 'the name is free again');
    assert.equal(await assertWholeOrGone(cluster, nodes, 'volfail'), 'whole');
    await deleteVol(cluster, nodes, 'volfail');
  });

  void it('SIGKILL of the leader mid-create: the new leader undoes it', async () => {
    const leader = await cluster.leader();
    slowDataPartitionCreates(nodes, SLOW_CREATE_MS);
    const pending = createVol(leader, 'volkill').catch((e: unknown) => e);
    await createInProgress(nodes);
    await leader.kill();
    await pending;
    slowDataPartitionCreates(nodes, 0);
    assert.equal(await assertWholeOrGone(cluster, nodes, 'volkill'), 'gone', 'an uncommitted create cannot survive its leader');
    await leader.start();
    assert.equal((await createVol(await cluster.leader(), 'volkill')).code, 0, 'the name is free again');
    await deleteVol(cluster, nodes, 'volkill');
  });

  void it('SIGTERM of the leader mid-create: the create finishes within the stop grace and the vol is whole', async () => {
    const leader = await cluster.leader();
    slowDataPartitionCreates(nodes, SLOW_CREATE_MS);
    const pending = createVol(leader, 'volterm');
    await createInProgress(nodes);
    leader.signal('SIGTERM');
    const reply = await pending;
    assert.deepEqual(await leader.waitExit(20_000), { code: 0, signal: null });
    slowDataPartitionCreates(nodes, 0);
    assert.equal(reply.code, 0, `the acknowledged create: ${reply.msg}`);
    assert.equal(await assertWholeOrGone(cluster, nodes, 'volterm'), 'whole');
    await leader.start();
    await deleteVol(cluster, nodes, 'volterm');
  });

  void it('a leader deposed mid-create stops its work; the vol ends whole or gone, never half', async () => {
    const leader = await cluster.leader();
    const other = cluster.masters.find((m) => m !== leader && m.running)!;
    slowDataPartitionCreates(nodes, SLOW_CREATE_MS);
    const pending = createVol(leader, 'voldepose');
    await createInProgress(nodes);
    // Served by `other`: it asks the leader to hand leadership over to it.
    assert.equal((await get(other, '/master/changeleader')).code, 0);
    await until('leadership to move', async () => (await cluster.leader()) === other);
    const reply = await pending;
    slowDataPartitionCreates(nodes, 0);
    const outcome = await assertWholeOrGone(cluster, nodes, 'voldepose');
    // A create that was acknowledged must have left a whole vol.
    if (reply.code === 0) assert.equal(outcome, 'whole');
    else assert.equal((await createVol(await cluster.leader(), 'voldepose')).code, 0, 'the name is free again');
    console.log(`deposed mid-create: reply code ${reply.code} (${reply.msg}), outcome ${outcome}`);
    await deleteVol(cluster, nodes, 'voldepose');
  });

  // Issue 8: 64-bit integers stay exact through JSON, Raft, RocksDB and a restart. 2^53 + 1 is
  // the first integer a double cannot hold.
  void it('inode ids above 2^53 stay exact from a node report through a split, Raft, RocksDB and a restart of every master', async () => {
    assert.equal((await createVol(await cluster.leader(), 'vol64')).code, 0);
    const exactPartitions = async (m: MasterProcess): Promise<{ PartitionID: number; Start: bigint | number; End: bigint | number; MaxInodeID: bigint | number }[]> => {
      const reply = await cfsGet(m.url, '/client/metaPartitions', { name: 'vol64' });
      return (parseJsonExact(reply.body) as { data: { PartitionID: number; Start: bigint; End: bigint; MaxInodeID: bigint }[] }).data;
    };
    const before = await exactPartitions(await cluster.leader());
    const last = before[before.length - 1];
    const maxInode = (1n << 53n) + 1n;
    for (const n of nodes.metaNodes) if (n.partition(last.PartitionID) !== undefined) n.setMaxInodeId(last.PartitionID, maxInode);
    // The reported cursor is past 75% of a step: the leader's split check splits the partition.
    await until('the split of the last meta partition', async () => (await exactPartitions(await cluster.leader())).length === 4);
    const step = 4_194_304n; // the cluster default inode step (spec 3.1)
    const check = (mps: Awaited<ReturnType<typeof exactPartitions>>, who: string): void => {
      const split = mps.find((p) => p.PartitionID === last.PartitionID)!;
      assert.equal(split.End, maxInode + step / 4n, `${who}: End of the split partition`);
      assert.equal(mps[3].Start, maxInode + step / 4n + 1n, `${who}: Start of the new partition`);
      assert.equal(mps[3].End, (1n << 63n) - 1n, `${who}: End of the new last partition`);
    };
    check(await exactPartitions(await cluster.leader()), 'leader');
    await cluster.stop();
    await cluster.start();
    await cluster.leader();
    for (const m of cluster.masters) check(await exactPartitions(m), `member ${m.spec.id} after restart`);
    await until('the heartbeat report to reach the new leader', async () => {
      const mps = await exactPartitions(await cluster.leader());
      return mps.find((p) => p.PartitionID === last.PartitionID)?.MaxInodeID === maxInode;
    });
    await deleteVol(cluster, nodes, 'vol64');
  });
});
