// Fixtures of the volume and partition API tests: a listening master (the API over a FakeGroup
// member, with its own node task client) and simulated meta/data nodes that registered with it
// over HTTP and take admin tasks over TCP (src/nodes/sim). Their heartbeat reports come back as
// POSTs to the master's /metaNode/response and /dataNode/response, which apply them before
// answering, so a report the node saw acknowledged is in the model.

import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { DomainOps } from '../../src/cluster/domain-ops.js';
import { modelDigest } from '../../src/model/index.js';
import { Opcode } from '../../src/nodes/opcodes.js';
import { TcpTaskClient } from '../../src/nodes/tcp-task-client.js';
import { startSimNodes, type SimDataNode, type SimMetaNode, type SimNodes, type StartSimNodesOptions } from '../../src/nodes/sim/index.js';
import { FakeGroup } from '../cluster/fakes.js';
import { listen, startMaster, T_USERS_MS, type TestMaster } from './helpers.js';

/** md5hex(owner): the authKey the SDK sends (spec 1.3). */
export function authKey(owner: string): string {
  return createHash('md5').update(owner).digest('hex');
}

export const ALICE_KEY = authKey('alice');

type QueryValue = string | number | boolean | null;

/** `pairs` as a raw query, each key replaced from `overrides` (null drops it), new keys appended. */
function query(path: string, pairs: readonly (readonly [string, QueryValue])[], overrides: Readonly<Record<string, QueryValue>>): string {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const [k, v] of pairs) {
    seen.add(k);
    const value = k in overrides ? overrides[k] : v;
    if (value !== null) out.push(`${k}=${value}`);
  }
  for (const [k, v] of Object.entries(overrides)) if (!seen.has(k) && v !== null) out.push(`${k}=${v}`);
  return `${path}?${out.join('&')}`;
}

/**
 * `cfs-cli volume create volB alice --replica-num 1 --mp-count 1 --dp-count 1 --dp-size 11
 * --capacity 10 -y`, the query exactly as captured (cli-vs-master-with-meta-data-nodes.jsonl),
 * with `overrides` (null drops a key).
 */
export function createVolQuery(overrides: Readonly<Record<string, QueryValue>> = {}): string {
  return query(
    '/admin/createVol',
    [
      ['dpSize', 11], ['remoteCacheMultiRead', false], ['flashNodeTimeoutCount', 5], ['remoteCacheSameZoneTimeout', 400], ['name', 'volB'],
      ['metaFollowerRead', false], ['description', ''], ['maximallyRead', false], ['enableQuota', false], ['txTimeout', 1], ['mpCount', 1],
      ['ebsBlkSize', 8388608], ['remoteCachePath', ''], ['remoteCacheSameRegionTimeout', 100], ['deleteLockTime', 0], ['volStorageClass', 0],
      ['owner', 'alice'], ['normalZonesFirst', false], ['remoteCacheMaxFileSizeGB', 128], ['remoteCacheOnlyForNotSSD', true], ['capacity', 10],
      ['followerRead', true], ['zoneName', ''], ['dpReadOnlyWhenVolFull', false], ['clientIDKey', ''], ['remoteCacheEnable', ''],
      ['remoteCacheReadTimeout', 2000], ['crossZone', false], ['dpCount', 1], ['replicaNum', 1], ['allowedStorageClass', ''],
      ['remoteCacheAutoPrepare', ''], ['remoteCacheTTL', 432000],
    ],
    overrides,
  );
}

/** `cfs-cli volume update volB --description hello -y` exactly as captured, with `overrides`. */
export function volUpdateQuery(overrides: Readonly<Record<string, QueryValue>> = {}): string {
  return query(
    '/vol/update',
    [
      ['authKey', ALICE_KEY], ['capacity', 15], ['dpReadOnlyWhenVolFull', false], ['enablePersistAccessTime', false], ['name', 'volB'],
      ['ignoreTinyRecover', false], ['forbidWriteOpOfProtoVersion0', true], ['ebsBlkSize', 8388608], ['leaderRetryTimeout', 0],
      ['remoteCacheMaxFileSizeGB', 128], ['metaFollowerRead', false], ['enableQuota', false], ['accessTimeValidInterval', 86400],
      ['crossZone', false], ['followerRead', true], ['maximallyRead', false], ['replicaNum', 1], ['remoteCachePath', ''],
      ['remoteCacheReadTimeout', 2000], ['flashNodeTimeoutCount', 5], ['autoDpMetaRepair', false], ['volStorageClass', 1],
      ['remoteCacheOnlyForNotSSD', true], ['remoteCacheSameZoneTimeout', 400], ['remoteCacheSameRegionTimeout', 100], ['remoteCacheTTL', 432000],
      ['description', 'hello'], ['zoneName', 'default'], ['directRead', false], ['clientIDKey', ''], ['interval', 0], ['trashInterval', 0],
      ['remoteCacheEnable', false], ['remoteCacheMultiRead', false], ['deleteLockTime', 0], ['remoteCacheAutoPrepare', false],
    ],
    overrides,
  );
}

/** One GET on a fresh connection to the listening master (for what inject cannot show: the client port). */
export function httpGet(addr: string, path: string, headers: Readonly<Record<string, string>> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const colon = addr.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host: addr.slice(0, colon), port: Number(addr.slice(colon + 1)), path, method: 'GET', headers: { connection: 'close', ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export interface DomainMaster extends TestMaster {
  /** The master's HTTP addr. */
  readonly addr: string;
  readonly nodes: TcpTaskClient;
  readonly ops: DomainOps;
  readonly sims: SimNodes;
  /** Every running sim node heartbeats once; resolves when each report reached the model. */
  heartbeat(): Promise<void>;
  close(): Promise<void>;
}

export interface DomainMasterOptions extends Pick<StartSimNodesOptions, 'zones' | 'dataOptions' | 'metaOptions'> {
  readonly meta: number;
  readonly data: number;
  readonly singleNodeMode?: boolean;
  /** Heartbeat once after the nodes registered (default true), so placement sees them live. */
  readonly live?: boolean;
}

const WAIT_MS_MAX = 5_000;

export async function waitUntil(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS_MAX;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A listening master over a one-member FakeGroup, plus `meta` + `data` sim nodes registered with
 * it (meta first, so ids are deterministic: meta nodes 2.., then data nodes), live after one
 * heartbeat. Close it in `after`.
 */
export async function domainMaster(o: DomainMasterOptions): Promise<DomainMaster> {
  const group = new FakeGroup([1], 1);
  // The sync task reply wait is 30 s in production; a test that loses a node must end sooner.
  const nodes = new TcpTaskClient({ syncReplyTimeoutMs: 3_000, ackReplyTimeoutMs: 2_000, dialTimeoutMs: 1_000, syncTriesMax: 2, retryDelayMs: 20 });
  const ops = new DomainOps();
  const master = startMaster(group, 1, {
    cluster: { clusterName: 'test', selfId: 1, selfHttpAddr: '', singleNodeMode: o.singleNodeMode ?? false },
    domain: { nodes, ops },
  });
  let sims: SimNodes | null = null;
  const close = async (): Promise<void> => {
    await master.app.close();
    await ops.quiesce(0, 1_000);
    await nodes.close();
    await sims?.close();
  };
  try {
    const addr = await listen(master.app);
    group.setHttpAddr(1, addr);
    sims = await startSimNodes({
      masterAddrs: [addr],
      meta: o.meta,
      data: o.data,
      zones: o.zones,
      common: { registerRetryDelayMs: 20, httpTimeoutMs: 2_000 },
      metaOptions: o.metaOptions,
      dataOptions: o.dataOptions,
    });
    const all = [...sims.metaNodes, ...sims.dataNodes];
    const heartbeat = async (): Promise<void> => {
      const running = all.filter((n) => n.state === 'running');
      const before = running.map((n) => reportsPosted(n));
      const request = { currTimeSec: Math.floor(T_USERS_MS / 1000), masterAddr: addr };
      await Promise.all(running.map((n) => nodes.heartbeat(n.addr, n.kind, request)));
      await waitUntil('heartbeat reports', () => running.every((n, i) => reportsPosted(n) > before[i]));
    };
    const dm: DomainMaster = { ...master, addr, nodes, ops, sims, heartbeat, close };
    if (o.live ?? true) await heartbeat();
    return dm;
  } catch (e) {
    await close();
    throw e;
  }
}

/** Heartbeat reports the node POSTed and the master acknowledged. */
function reportsPosted(n: SimMetaNode | SimDataNode): number {
  const op = n.kind === 'meta' ? Opcode.MetaNodeHeartbeat : Opcode.DataNodeHeartbeat;
  return n.events().filter((e) => e.type === 'response-posted' && e.opCode === op && e.error === null).length;
}

/** Task results (not heartbeats) with `opCode` the node POSTed and the master acknowledged. */
export function resultsPosted(n: SimMetaNode | SimDataNode, opCode: number): number {
  return n.events().filter((e) => e.type === 'response-posted' && e.opCode === opCode && e.error === null).length;
}

/** Partition ids each sim node holds, by node addr (meta and data separately). */
export function simHoldings(dm: DomainMaster): { meta: Record<string, number[]>; data: Record<string, number[]> } {
  const meta: Record<string, number[]> = {};
  const data: Record<string, number[]> = {};
  for (const n of dm.sims.metaNodes) meta[n.addr] = n.partitions().map((p) => p.partitionId);
  for (const n of dm.sims.dataNodes) data[n.addr] = n.partitions().map((p) => p.partitionId);
  return { meta, data };
}

/** Every partition id on any sim node. */
export function simPartitionCount(dm: DomainMaster): { meta: number; data: number } {
  return {
    meta: dm.sims.metaNodes.reduce((s, n) => s + n.partitions().length, 0),
    data: dm.sims.dataNodes.reduce((s, n) => s + n.partitions().length, 0),
  };
}

/** The admin tasks (heartbeats left out) every sim node received, oldest first per node. */
export function nodeTasks(dm: DomainMaster): { addr: string; op: string; partitionId: number; outcome: string }[] {
  return [...dm.sims.metaNodes, ...dm.sims.dataNodes].flatMap((n) =>
    n
      .tasks()
      .filter((t) => t.opCode !== Opcode.MetaNodeHeartbeat && t.opCode !== Opcode.DataNodeHeartbeat)
      .map((t) => ({ addr: n.addr, op: t.op, partitionId: t.partitionId, outcome: t.outcome })),
  );
}

/** What must not move when a request is refused: records, proposals, node tasks, node partitions. */
export function snapshot(dm: DomainMaster): { digest: string; proposed: number; tasks: number; partitions: { meta: number; data: number } } {
  return { digest: modelDigest(dm.group.state), proposed: dm.group.proposed.length, tasks: nodeTasks(dm).length, partitions: simPartitionCount(dm) };
}
