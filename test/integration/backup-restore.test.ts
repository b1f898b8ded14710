// Issue 11, point 4: backup and restore with real processes. A 3-master cluster with simulated
// meta and data nodes, a user and vols:
// - a backup saved from a follower during a write load holds a consistent state: restored into
//   a new master, it loads (model invariants checked), its digest is the file's, and every write
//   acknowledged before the save began is in it;
// - a backup of the quiet cluster has the digest every member reports; restored into a fresh
//   3-member group (the new members, not the old ones), each new member reports that digest,
//   every read route answers as on the old cluster (heartbeat-derived and master-identity fields
//   aside), and the new group elects a leader and takes writes;
// - a restore refuses a non-empty directory, and verify refuses an altered file (exit 5).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startSimNodes, type SimNodes } from '../../src/nodes/sim/index.js';
import { parseJsonExact, stringifyJson } from '../../src/util/json.js';
import { rootKeys, runCli } from '../cli/run-cli.js';
import { cfsGet, cfsRequest } from './cfs-client.js';
import { MasterCluster } from './cluster.js';
import { startLoad } from './load.js';
import { MasterProcess } from './master-process.js';
import { memberAudit, memberStatus, waitUntil } from './member-status.js';

const CONFIG = { nodeHeartbeatIntervalMs: 500, dataPartitionTopUpDelayMs: 3_600_000, tickInterval: 50 };
const NEW_SUBNET = 73;
const SINGLE_SUBNET = 72;

interface SaveReport {
  file: string;
  member: string;
  index: number;
  term: number;
  records: number;
  stateDigest: string;
  memberId: number;
}

async function data<T>(url: string, route: string, params: Record<string, string | number> = {}): Promise<T> {
  const reply = await cfsGet<T>(url, route, params, { timeoutMs: 30_000 });
  assert.equal(reply.envelope?.code, 0, `${route} ${JSON.stringify(params)}: ${reply.body.slice(0, 300)}`);
  return reply.envelope.data;
}

/** A route's answer (64-bit exact), with the fields that are not compared masked. */
async function routeAnswer(url: string, route: string): Promise<unknown> {
  const reply = await cfsRequest(url, route, { timeoutMs: 30_000 });
  if (reply.status !== 200) return `HTTP ${reply.status}`;
  return normalize(parseJsonExact(reply.body));
}

/** Paths where two JSON values differ, with both values. */
function differences(a: unknown, b: unknown, at = ''): string[] {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`));
  }
  return stringifyJson(a ?? null) === stringifyJson(b ?? null) ? [] : [`${at}: ${stringifyJson(a ?? null)} vs ${stringifyJson(b ?? null)}`];
}

/**
 * Fields that legitimately differ between the old group and one restored from its backup:
 * which masters there are and who leads (new members, new addresses, new applied index), and
 * what only heartbeats tell (liveness, usage, reports: the restored group has not heard from the
 * nodes, which still report to the old one). Everything else must be equal.
 */
const NOT_COMPARED = new Set([
  'LeaderAddr',
  'MasterNodes',
  'Applied',
  'Ip',
  // heartbeat-derived (live-state.ts)
  'IsActive',
  'Status',
  'ReportTime',
  'IsWriteAble',
  'IsWritable',
  'UsedWeight',
  'TotalWeight',
  'AvailableSpace',
  'MaxMemAvailWeight',
  'Ratio',
  'UsageRatio',
  'SelectCount',
  'SelectedTimes',
  'Threshold',
  'MetaPartitionCount',
  'DataPartitionCount',
  'DataPartitionReports',
  'MetaPartitionReports',
  'PersistenceMetaPartitions',
  'PersistenceDataPartitions',
  'PersistenceDataPartitionsWithDiskPath',
  'AllDisks',
  'BadDisks',
  'LostDisks',
  'CanAllowPartition',
  'CanAllocPartition',
  'cpuUtil',
  'ioUtil',
  'Total',
  'Used',
  'Available',
  'MaxInodeID',
  'InodeCount',
  'DentryCount',
  'FreeListLen',
  'TxCnt',
  'TxRbInoCnt',
  'TxRbDenCnt',
  'IsRecover',
  'Replicas',
  'LeaderReportTime',
  'LastLoadedTime',
  'RwDpCnt',
  'RwDpOfSSDCnt',
  'RwDpOfHDDCnt',
  'DataNodeStatInfo',
  'MetaNodeStatInfo',
  'ZoneStatInfo',
  'UsedSize',
  'UsedGB',
  'UsedRatio',
  'DataNodes',
  'MetaNodes',
  // from the nodes' partition reports
  'StatByMigrateStorageClass',
  'ForbidWriteOpOfProtoVer0',
  // active nodes per node set
  'CanAllocMetaNodeCnt',
  'CanAllocDataNodeCnt',
  // a member's own reverse-DNS cache of node IPs (cluster/host-names.ts), filled on first sight
  'DomainAddr',
]);

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = NOT_COMPARED.has(k) ? '(not compared)' : normalize(v);
    return out;
  }
  return value;
}

void test('a backup saved during writes restores into a new group with the same state; the new group takes writes', { timeout: 300_000 }, async () => {
  const old = new MasterCluster({ subnet: 71, size: 3, extraConfig: CONFIG });
  const work = mkdtempSync(path.join(tmpdir(), 'backup-'));
  const started: MasterProcess[] = [];
  let nodes: SimNodes | null = null;
  try {
    await old.start();
    const leader = await old.leader();
    const follower = old.masters.find((m) => m !== leader)!;
    nodes = await startSimNodes({ masterAddrs: old.masters.map((m) => `${m.spec.host}:${m.spec.httpPort}`), meta: 3, data: 3 });
    const keys = await rootKeys(leader.url);
    const masters = old.masters.map((m) => `${m.spec.host}:${m.spec.httpPort}`).join(',');

    const alice = await cfsRequest(leader.url, '/user/create', { body: { id: 'alice', type: 3 } });
    assert.equal(alice.envelope?.code, 0, alice.body);
    for (const name of ['vol1', 'vol2']) {
      await waitUntil(`create ${name}`, async () => {
        const r = await runCli(['vol', 'create', name, 'alice', '--capacity', '20', '--dp-count', '3', '--masters', masters, '--json']);
        return r.code === 0 ? r : null;
      }, 60_000);
    }

    // 1. Saved from a follower while 8 clients write.
    const load = startLoad({ urls: old.urls, clients: 8, prefix: 'bk' });
    await waitUntil('some acknowledged writes', () => Promise.resolve(load.result.acked >= 100), 30_000);
    const ackedBeforeSave = new Set(load.result.ackedUsers);
    const fileA = path.join(work, 'during-load.snap');
    const saveA = await runCli(['snapshot', 'save', fileA, '--member', `${follower.spec.host}:${follower.spec.httpPort}`, '--masters', masters, '--json'], { env: keys });
    const ackedDuring = load.result.acked;
    const loadResult = await load.stop();
    assert.equal(saveA.code, 0, saveA.stderr);
    const a = JSON.parse(saveA.stdout) as SaveReport;
    assert.equal(a.memberId, follower.spec.id);
    assert.ok(loadResult.acked > ackedDuring || ackedDuring > ackedBeforeSave.size, 'writes went on during the save');
    console.log(`backup A: index ${a.index}, ${a.records} records, saved from master ${a.memberId} during ${loadResult.acked} acknowledged writes`);

    // Restored into one new master: it loads, has the file's digest, and every write acknowledged
    // before the save is in it.
    const singleDir = path.join(work, 'single');
    const single = `1:127.0.${SINGLE_SUBNET}.1:17010:17110`;
    const restoreA = await runCli(['snapshot', 'restore', fileA, '--data-dir', singleDir, '--members', single, '--id', '1', '--json']);
    assert.equal(restoreA.code, 0, restoreA.stderr);
    const one = new MasterProcess({ id: 1, host: `127.0.${SINGLE_SUBNET}.1`, httpPort: 17010, raftPort: 17110, peers: single, dataDir: singleDir, extraConfig: CONFIG });
    started.push(one);
    await one.start();
    await waitUntil('the restored master to lead', async () => (await memberStatus(one.url)).role === 'leader');
    const auditA = await memberAudit(one.url);
    assert.equal(auditA.modelDigest, a.stateDigest, 'the restored model is the backup');
    assert.equal(auditA.storeDigest, a.stateDigest, 'the restored store is the backup');
    const restoredUsers = new Set((await data<{ user_id: string }[]>(one.url, '/user/list', { keywords: 'bk_' })).map((u) => u.user_id));
    const missing = [...ackedBeforeSave].filter((u) => !restoredUsers.has(u));
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} users acknowledged before the save are missing from it`);
    one.signal('SIGTERM');
    assert.deepEqual(await one.waitExit(15_000), { code: 0, signal: null });

    // 2. The quiet cluster: every member at the same index holds the backup's digest.
    await waitUntil('members to agree', async () => {
      const s = await Promise.all(old.masters.map((m) => memberStatus(m.url)));
      return s.every((x) => x.applied === s[0].applied) ? s : null;
    });
    const fileB = path.join(work, 'quiet.snap');
    const saveB = await runCli(['snapshot', 'save', fileB, '--masters', masters, '--json'], { env: keys });
    assert.equal(saveB.code, 0, saveB.stderr);
    const b = JSON.parse(saveB.stdout) as SaveReport;
    for (const m of old.masters) {
      const audit = await memberAudit(m.url);
      assert.equal(audit.applied >= b.index, true);
      assert.equal(audit.modelDigest, b.stateDigest, `master ${m.spec.id} (applied ${audit.applied}) vs backup at ${b.index}`);
    }

    // Restored into a fresh group of 3 new members.
    const newDir = path.join(work, 'new');
    const hosts = [1, 2, 3].map((i) => `127.0.${NEW_SUBNET}.${i}`);
    const peers = hosts.map((h, i) => `${i + 1}:${h}:17010:17110`).join(',');
    const restoreB = await runCli(['snapshot', 'restore', fileB, '--data-dir', newDir, '--members', peers]);
    assert.equal(restoreB.code, 0, restoreB.stderr);
    assert.match(restoreB.stdout, new RegExp(`"peers": "${peers}"`));
    const again = await runCli(['snapshot', 'restore', fileB, '--data-dir', newDir, '--members', peers]);
    assert.equal(again.code, 5, 'a restore into directories that hold data is refused');
    assert.match(again.stderr, /is not empty/);
    const fresh = hosts.map(
      (host, i) => new MasterProcess({ id: i + 1, host, httpPort: 17010, raftPort: 17110, peers, dataDir: path.join(newDir, String(i + 1)), extraConfig: CONFIG }),
    );
    started.push(...fresh);
    await Promise.all(fresh.map((m) => m.start()));
    const newLeader = await waitUntil('a leader in the new group', async () => {
      const s = await Promise.all(fresh.map((m) => memberStatus(m.url)));
      const l = s.find((x) => x.role === 'leader');
      return l !== undefined && s.every((x) => x.leaderId === l.nodeId) ? fresh[l.nodeId - 1] : null;
    });
    const newMasters = fresh.map((m) => `${m.spec.host}:${m.spec.httpPort}`).join(',');
    const members = JSON.parse((await runCli(['members', 'list', '--masters', newMasters, '--json'])).stdout) as { id: number; httpAddr: string; learner: boolean }[];
    assert.deepEqual(
      members.map((m) => [m.id, m.httpAddr, m.learner]),
      fresh.map((m) => [m.spec.id, `${m.spec.host}:${m.spec.httpPort}`, false]),
      'the restored group is the new members',
    );
    for (const m of fresh) {
      const audit = await memberAudit(m.url);
      assert.equal(audit.modelDigest, b.stateDigest, `new master ${m.spec.id}`);
      assert.equal(audit.storeDigest, b.stateDigest, `new master ${m.spec.id} store`);
    }

    // Every read route answers the same on both groups.
    const vols = ['vol1', 'vol2'];
    const authKey = createHash('md5').update('alice').digest('hex');
    const mps = await data<{ PartitionID: number }[]>(leader.url, '/client/metaPartitions', { name: 'vol1' });
    const dps = (await data<{ DataPartitions: { PartitionID: number }[] }>(leader.url, '/client/partitions', { name: 'vol1' })).DataPartitions;
    const metaNodes = await data<{ Addr: string }[]>(leader.url, '/admin/cluster/getAllMetaNodes');
    const dataNodes = await data<{ Addr: string }[]>(leader.url, '/admin/cluster/getAllDataNodes');
    const routes = [
      '/admin/getCluster',
      '/admin/getNodeInfo',
      '/admin/getIp',
      '/cluster/stat',
      '/vol/list?keywords=',
      '/user/list?keywords=',
      '/user/info?user=alice',
      '/user/info?user=root',
      '/zone/list',
      '/topo/get',
      '/nodeSet/list',
      '/admin/cluster/getAllMetaNodes',
      '/admin/cluster/getAllDataNodes',
      ...vols.flatMap((v) => [
        `/admin/getVol?name=${v}`,
        `/client/vol?name=${v}&authKey=${authKey}`,
        `/client/metaPartitions?name=${v}`,
        `/client/partitions?name=${v}`,
        `/client/volStat?name=${v}`,
        `/vol/users?name=${v}`,
      ]),
      ...mps.map((p) => `/metaPartition/get?id=${p.PartitionID}`),
      ...dps.map((p) => `/dataPartition/get?id=${p.PartitionID}&name=vol1`),
      ...metaNodes.map((n) => `/metaNode/get?addr=${n.Addr}`),
      ...dataNodes.map((n) => `/dataNode/get?addr=${n.Addr}`),
    ];
    const differing: string[] = [];
    for (const route of routes) {
      const found = differences(await routeAnswer(leader.url, route), await routeAnswer(newLeader.url, route));
      if (found.length > 0) differing.push(`${route}: ${found.slice(0, 5).join('; ')}`);
    }
    assert.deepEqual(differing, [], `routes that answer differently (old vs new):\n${differing.join('\n')}`);
    console.log(`${routes.length} read routes answer alike on the old and the restored group`);

    // The new group takes writes (through any member), and its members agree.
    const bob = await cfsRequest(fresh[(newLeader.spec.id % 3)].url, '/user/create', { body: { id: 'bob', type: 3 } });
    assert.equal(bob.envelope?.code, 0, bob.body);
    const expand = await runCli(['vol', 'expand', 'vol1', '30', '--masters', newMasters]);
    assert.equal(expand.code, 0, expand.stderr);
    assert.equal((await data<{ Capacity: number }>(newLeader.url, '/admin/getVol', { name: 'vol1' })).Capacity, 30);
    await waitUntil('new members to converge', async () => {
      const audits = await Promise.all(fresh.map((m) => memberAudit(m.url)));
      return audits.every((x) => x.applied === audits[0].applied && x.modelDigest === audits[0].modelDigest) && audits[0].modelDigest !== b.stateDigest;
    });

    // An altered backup is refused.
    const bytes = readFileSync(fileB);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    const altered = path.join(work, 'altered.snap');
    writeFileSync(altered, bytes);
    const verify = await runCli(['snapshot', 'verify', altered]);
    assert.equal(verify.code, 5, verify.stderr);
    assert.match(verify.stderr, /mismatch|unreadable|out of key order/);
    assert.equal((await runCli(['snapshot', 'verify', fileB])).code, 0);

    for (const m of [...old.masters, ...started]) assert.deepEqual(m.crashLines(), [], `master ${m.spec.id} at ${m.spec.host}`);
    await Promise.all(fresh.map(async (m) => {
      m.signal('SIGTERM');
      assert.deepEqual(await m.waitExit(15_000), { code: 0, signal: null });
    }));
    await old.stop();
  } finally {
    await nodes?.close();
    await Promise.all(started.map((m) => m.kill()));
    await old.destroy();
    rmSync(work, { recursive: true, force: true });
  }
});
