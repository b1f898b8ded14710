// The domain part of a chaos run's final audit, from the outside (HTTP views and the simulated
// nodes), after the cluster healed and converged:
//
// 1. settle: wait (bounded) until the leader's sweeps have run: every simulated node active on
//    the leader, no vol left marked for deletion, no intent left (getVol answers 7 for every
//    workload name /vol/list does not show), and the nodes hold exactly the partitions the
//    views name, on exactly the hosts they name (no orphan, nothing of an undone create or a
//    removed vol, nothing missing);
// 2. views, through every member (each answers /vol/list itself after a read barrier; the
//    partition views are leader-read, so a follower forwards them): the members list the same
//    vols; for each vol, the meta partitions sorted by id start at 0, each starts right after the
//    previous one ends, the last ends at 2^63-1 (bodies parsed with parseJsonExact: JSON.parse
//    rounds that number); every meta partition has MpReplicaNum distinct members and every data
//    partition DpReplicaNum distinct hosts, each a live node of its kind (replica health is not
//    in any view, so "or reported under-replicated" cannot be read from outside: with every
//    node up after the heal, a replica on a node that is not live is reported as a problem);
//    partition ids are unique across vols; a workload vol that is gone has no view and no
//    partition; vol and node ids, from one counter, are distinct.
// Each problem is one line naming the member, the vol and what differs.

import type { SimNodes } from '../../src/nodes/sim/index.js';
import { INT64_MAX, parseJsonExact } from '../../src/util/json.js';
import { cfsGet } from '../integration/cfs-client.js';
import type { ChaosCluster } from './chaos-cluster.js';
import { allNodesActive, nodeLiveness, partitionsOnNodes, type NodeLiveness } from './domain-nodes.js';

interface Envelope {
  readonly code: number;
  readonly msg: string;
  readonly data: unknown;
}

/** GET with an exact (64-bit) parse of the body; null on a transport error or a non-envelope. */
async function getExact(url: string, path: string, params: Record<string, string> = {}): Promise<Envelope | null> {
  try {
    const reply = await cfsGet(url, path, params, { timeoutMs: 10_000 });
    if (reply.status !== 200) return null;
    const body = parseJsonExact(reply.body) as Partial<Envelope> | null;
    return body !== null && typeof body === 'object' && typeof body.code === 'number' ? (body as Envelope) : null;
  } catch {
    return null;
  }
}

interface VolListEntry {
  readonly Name: string;
  readonly Owner: string;
  readonly Status: number;
}

interface VolViews {
  readonly id: number;
  readonly mpReplicaNum: number;
  readonly dpReplicaNum: number;
  readonly mps: readonly { id: number; start: bigint; end: bigint; members: readonly string[] }[];
  readonly dps: readonly { id: number; replicaNum: number; hosts: readonly string[] }[];
}

const asBig = (v: unknown): bigint | null => (typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : typeof v === 'bigint' ? v : null);
const asStrings = (v: unknown): string[] | null => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : null);

async function volList(url: string): Promise<VolListEntry[] | null> {
  const reply = await getExact(url, '/vol/list', { keywords: '' });
  return reply?.code === 0 && Array.isArray(reply.data) ? (reply.data as VolListEntry[]) : null;
}

/** getVol + both partition views of one vol through `url`, decoded; a string says what failed. */
async function volViews(url: string, name: string): Promise<VolViews | string> {
  const [vol, mps, dps] = await Promise.all([
    getExact(url, '/admin/getVol', { name }),
    getExact(url, '/client/metaPartitions', { name }),
    getExact(url, '/client/partitions', { name }),
  ]);
  if (vol?.code !== 0 || mps?.code !== 0 || dps?.code !== 0) return `views answer ${[vol, mps, dps].map((e) => (e === null ? 'nothing' : `code ${e.code}`)).join(', ')}`;
  const v = vol.data as Record<string, unknown>;
  if (typeof v.ID !== 'number' || typeof v.MpReplicaNum !== 'number' || typeof v.DpReplicaNum !== 'number') return 'getVol: no ID/MpReplicaNum/DpReplicaNum';
  const metaPartitions: VolViews['mps'][number][] = [];
  for (const raw of Array.isArray(mps.data) ? (mps.data as Record<string, unknown>[]) : []) {
    const start = asBig(raw.Start);
    const end = asBig(raw.End);
    const members = asStrings(raw.Members);
    if (typeof raw.PartitionID !== 'number' || start === null || end === null || members === null) return `metaPartitions: malformed entry ${JSON.stringify(raw, (_, x: unknown) => (typeof x === 'bigint' ? String(x) : x))}`;
    metaPartitions.push({ id: raw.PartitionID, start, end, members });
  }
  const dataPartitions: VolViews['dps'][number][] = [];
  const dpList = (dps.data as { DataPartitions?: unknown } | null)?.DataPartitions;
  for (const raw of Array.isArray(dpList) ? (dpList as Record<string, unknown>[]) : []) {
    const hosts = asStrings(raw.Hosts);
    if (typeof raw.PartitionID !== 'number' || typeof raw.ReplicaNum !== 'number' || hosts === null) return `partitions: malformed entry ${JSON.stringify(raw)}`;
    dataPartitions.push({ id: raw.PartitionID, replicaNum: raw.ReplicaNum, hosts });
  }
  return { id: v.ID, mpReplicaNum: v.MpReplicaNum, dpReplicaNum: v.DpReplicaNum, mps: metaPartitions, dps: dataPartitions };
}

/** The rules of one vol's views (see the header); `live` is the leader's node view. */
export function volViewProblems(name: string, views: VolViews, live: NodeLiveness): string[] {
  const problems: string[] = [];
  const mps = [...views.mps].sort((a, b) => a.id - b.id);
  if (mps.length === 0) problems.push(`vol ${name}: no meta partition`);
  mps.forEach((mp, i) => {
    const expectedStart = i === 0 ? 0n : mps[i - 1].end + 1n;
    if (mp.start !== expectedStart) problems.push(`vol ${name}: meta partition ${mp.id} starts at ${mp.start}, expected ${expectedStart}`);
    if (mp.end < mp.start) problems.push(`vol ${name}: meta partition ${mp.id} ends at ${mp.end} before its start ${mp.start}`);
  });
  const last = mps.at(-1);
  if (last !== undefined && last.end !== INT64_MAX) problems.push(`vol ${name}: the last meta partition ${last.id} ends at ${last.end}, not ${INT64_MAX}`);
  const replicas = (what: string, addrs: readonly string[], replicaNum: number, nodes: NodeLiveness['meta']): void => {
    if (new Set(addrs).size !== addrs.length) problems.push(`vol ${name}: ${what} has a host twice: ${addrs.join(' ')}`);
    if (addrs.length !== replicaNum) problems.push(`vol ${name}: ${what} has ${addrs.length} replicas, the vol ${replicaNum}: ${addrs.join(' ')}`);
    for (const addr of addrs) if (nodes.get(addr)?.active !== true) problems.push(`vol ${name}: ${what} has a replica on ${addr}, ${nodes.has(addr) ? 'not live' : 'not a node of that kind'} (no view reports under-replication)`);
  };
  for (const mp of mps) replicas(`meta partition ${mp.id}`, mp.members, views.mpReplicaNum, live.meta);
  if (views.dps.length === 0) problems.push(`vol ${name}: no data partition`);
  for (const dp of views.dps) {
    if (dp.replicaNum !== views.dpReplicaNum) problems.push(`vol ${name}: data partition ${dp.id} has ReplicaNum ${dp.replicaNum}, the vol ${views.dpReplicaNum}`);
    replicas(`data partition ${dp.id}`, dp.hosts, views.dpReplicaNum, live.data);
  }
  return problems;
}

/** `meta/<id>` / `data/<id>` → sorted hosts, from the views of every vol. */
function partitionsInViews(byVol: ReadonlyMap<string, VolViews>): Map<string, { addrs: string[]; volName: string }> {
  const out = new Map<string, { addrs: string[]; volName: string }>();
  for (const [volName, v] of byVol) {
    for (const mp of v.mps) out.set(`meta/${mp.id}`, { addrs: [...mp.members].sort(), volName });
    for (const dp of v.dps) out.set(`data/${dp.id}`, { addrs: [...dp.hosts].sort(), volName });
  }
  return out;
}

/** Differences between the nodes' partitions and the views' (empty when they match exactly). */
function nodeDifferences(nodes: SimNodes, byVol: ReadonlyMap<string, VolViews>): string[] {
  const expected = partitionsInViews(byVol);
  const actual = partitionsOnNodes(nodes);
  const out: string[] = [];
  for (const [key, e] of expected) {
    const a = actual.get(key);
    if (a === undefined) out.push(`${key} of vol ${e.volName} is on no node (views: ${e.addrs.join(' ')})`);
    else if (a.addrs.join(' ') !== e.addrs.join(' ')) out.push(`${key} of vol ${e.volName} is on ${a.addrs.join(' ')}, the views say ${e.addrs.join(' ')}`);
    else if (a.volNames.size !== 1 || !a.volNames.has(e.volName)) out.push(`${key}: the nodes hold it for vol ${[...a.volNames].join(',')}, the views for ${e.volName}`);
  }
  for (const [key, a] of actual) if (!expected.has(key)) out.push(`${key} (vol ${[...a.volNames].join(',')}) is on ${a.addrs.join(' ')} but in no view`);
  return out;
}

/**
 * Waits until the sweeps have run (see the header), up to `timeoutMs`. Returns nothing when the
 * nodes settled, else what still differed at the deadline.
 */
export async function settleDomain(cluster: ChaosCluster, nodes: SimNodes, volNames: readonly string[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let last: string[] = ['no leader answered'];
  for (;;) {
    last = await settledProblems(cluster, nodes, volNames);
    if (last.length === 0) return [];
    if (Date.now() > deadline) return last.slice(0, 20).map((p) => `not settled after ${timeoutMs} ms: ${p}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function settledProblems(cluster: ChaosCluster, nodes: SimNodes, volNames: readonly string[]): Promise<string[]> {
  const leader = await cluster.leaderId();
  if (leader === 0) return ['no leader'];
  const url = cluster.member(leader).url;
  const [live, vols] = await Promise.all([nodeLiveness(url), volList(url)]);
  if (live === null || vols === null) return [`leader ${leader} does not answer its node or vol views`];
  if (!allNodesActive(nodes, live)) return [`leader ${leader} does not see every simulated node active`];
  const marked = vols.filter((v) => v.Status !== 0).map((v) => v.Name);
  if (marked.length > 0) return [`vols still marked for deletion: ${marked.join(' ')}`];
  // getVol answers for a create's intent too (src/model/vol-views.ts): a name not listed that
  // getVol still shows is an intent the sweep has not undone yet.
  for (const name of volNames) {
    if (vols.some((v) => v.Name === name)) continue;
    const vol = await getExact(url, '/admin/getVol', { name });
    if (vol?.code !== 7) return [`vol ${name} is not listed, but getVol answers ${vol === null ? 'nothing' : `code ${vol.code}`}: an intent not undone yet?`];
  }
  const byVol = new Map<string, VolViews>();
  for (const v of vols) {
    const views = await volViews(url, v.Name);
    if (typeof views === 'string') return [`vol ${v.Name}: ${views}`];
    byVol.set(v.Name, views);
  }
  return nodeDifferences(nodes, byVol);
}

/**
 * The view rules (see the header) through every member; `volNames` are the workload's, to check
 * that those gone have nothing left. Call after settleDomain and a converge.
 */
export async function checkDomainViews(cluster: ChaosCluster, nodes: SimNodes, volNames: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  let leader = 0;
  for (let attempt = 0; attempt < 50 && leader === 0; attempt++) {
    leader = await cluster.leaderId();
    if (leader === 0) await new Promise((r) => setTimeout(r, 200));
  }
  if (leader === 0) return ['domain views: no leader'];
  const live = await nodeLiveness(cluster.member(leader).url);
  if (live === null) return [`domain views: leader ${leader} does not answer its node views`];
  let reference: { id: number; list: string } | null = null;
  for (const m of cluster.masters) {
    const who = `member ${m.spec.id}${m.spec.id === leader ? ' (leader)' : ''}`;
    const vols = await volList(m.url);
    if (vols === null) {
      problems.push(`${who}: /vol/list does not answer`);
      continue;
    }
    const list = JSON.stringify(vols.map((v) => [v.Name, v.Owner, v.Status]).sort());
    if (reference === null) reference = { id: m.spec.id, list };
    else if (reference.list !== list) problems.push(`${who} lists vols ${list}, member ${reference.id} ${reference.list}`);
    const byVol = new Map<string, VolViews>();
    const partitionOwner = new Map<string, string>();
    for (const v of vols) {
      const views = await volViews(m.url, v.Name);
      if (typeof views === 'string') {
        problems.push(`${who}: vol ${v.Name}: ${views}`);
        continue;
      }
      byVol.set(v.Name, views);
      for (const p of volViewProblems(v.Name, views, live)) problems.push(`${who}: ${p}`);
      for (const key of [...views.mps.map((p) => `meta/${p.id}`), ...views.dps.map((p) => `data/${p.id}`)]) {
        const other = partitionOwner.get(key);
        if (other !== undefined) problems.push(`${who}: ${key} belongs to vols ${other} and ${v.Name}`);
        partitionOwner.set(key, v.Name);
      }
    }
    for (const name of volNames) {
      if (vols.some((v) => v.Name === name)) continue;
      const [vol, mps] = await Promise.all([getExact(m.url, '/admin/getVol', { name }), getExact(m.url, '/client/metaPartitions', { name })]);
      if (vol?.code !== 7 || mps?.code !== 7) problems.push(`${who}: vol ${name} is not listed, but getVol answers ${vol?.code ?? 'nothing'} and metaPartitions ${mps?.code ?? 'nothing'} (expected 7)`);
    }
    for (const d of nodeDifferences(nodes, byVol)) problems.push(`${who}: ${d}`);
    const ids = new Map<number, string[]>();
    const claim = (id: number, what: string): void => {
      ids.set(id, [...(ids.get(id) ?? []), what]);
    };
    for (const [addr, n] of live.meta) claim(n.id, `meta node ${addr}`);
    for (const [addr, n] of live.data) claim(n.id, `data node ${addr}`);
    for (const [name, v] of byVol) claim(v.id, `vol ${name}`);
    for (const [id, owners] of ids) if (owners.length > 1) problems.push(`${who}: common id ${id} is held by ${owners.join(', ')}`);
  }
  return problems;
}
