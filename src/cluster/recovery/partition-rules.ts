// One record per partition from the reports of its replicas (docs/recovery.md, rules
// `partition-authority`, `vol-name`, `stale-replica`, `peer-identity`, `lagging-range`).
//
// The replicas of a partition are one raft group: its leader's view is the committed one. So
// the leader's report decides the vol, the peers and (meta) the range. Without a leader (no
// quorum among the survivors): for a meta partition the report with the smallest End (an End
// only ever shrinks, through a split the group committed), for a data partition the peer list
// most replicas report. Ties go to the lowest addr, so every planner decides the same.

import type { PartitionPeer, PartitionStatus } from '../../model/index.js';
import { PartitionStatus as Status } from '../../model/index.js';
import type { DataPartitionReport, MetaPartitionReport } from '../../nodes/heartbeat-report.js';
import type { ReplicaPeer } from '../../nodes/task-requests.js';
import type { CensusSnapshot, NodeKind } from './census.js';
import type { Findings } from './findings.js';
import { RULE } from './findings.js';
import type { NodeIdentity } from './node-identities.js';
import { nodeKey } from './node-identities.js';

export interface MetaCandidate {
  readonly id: number;
  readonly volName: string;
  readonly start: bigint;
  readonly end: bigint;
  readonly peers: readonly PartitionPeer[];
  /** The highest inode cursor any replica reported. */
  readonly maxInodeId: bigint;
}

export interface DataCandidate {
  readonly id: number;
  readonly volName: string;
  readonly peers: readonly PartitionPeer[];
  /** Per peer: the disk its node reported, '' when that peer did not report. */
  readonly diskPaths: readonly string[];
  readonly sizeBytes: bigint;
  readonly status: PartitionStatus;
}

interface Replica<R> {
  readonly addr: string;
  readonly report: R;
}

/** What the rules decided; `silentPeers` counts, per node, the partitions naming it that it did not report. */
export interface PartitionDecisions {
  readonly meta: MetaCandidate[];
  readonly data: DataCandidate[];
  /** Partitions seen but not adopted (each has a finding). */
  readonly notAdopted: number;
  readonly silentPeers: Map<string, number>;
  readonly maxMetaId: number;
  readonly maxDataId: number;
}

const byAddr = <R>(a: Replica<R>, b: Replica<R>): number => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0);

function group<R extends { readonly partitionId: number }>(reports: readonly { addr: string; partitions: readonly R[] }[]): Map<number, Replica<R>[]> {
  const out = new Map<number, Replica<R>[]>();
  for (const { addr, partitions } of reports) {
    for (const p of partitions) out.set(p.partitionId, [...(out.get(p.partitionId) ?? []), { addr, report: p }]);
  }
  for (const replicas of out.values()) replicas.sort(byAddr);
  return new Map([...out].sort((a, b) => a[0] - b[0]));
}

function peersText(peers: readonly ReplicaPeer[]): string {
  return peers.map((p) => `${p.id}@${p.addr}`).join(',');
}

export interface PartitionRuleContext {
  readonly identities: ReadonlyMap<string, NodeIdentity>;
  /** Partition ids the model already holds (a later round): skipped. */
  readonly existing: { readonly meta: ReadonlySet<number>; readonly data: ReadonlySet<number> };
  readonly findings: Findings;
}

export function decidePartitions(census: CensusSnapshot, ctx: PartitionRuleContext): PartitionDecisions {
  const meta: MetaCandidate[] = [];
  const data: DataCandidate[] = [];
  const silentPeers = new Map<string, number>();
  let notAdopted = 0;
  let maxMetaId = 0;
  let maxDataId = 0;
  for (const [id, replicas] of group(census.metaReports.map((r) => ({ addr: r.addr, partitions: r.report.metaPartitions })))) {
    maxMetaId = Math.max(maxMetaId, id);
    if (ctx.existing.meta.has(id)) continue;
    const c = decideMeta(id, replicas, ctx, silentPeers);
    if (c === null) notAdopted++;
    else meta.push(c);
  }
  for (const [id, replicas] of group(census.dataReports.map((r) => ({ addr: r.addr, partitions: r.report.dataPartitions })))) {
    maxDataId = Math.max(maxDataId, id);
    if (ctx.existing.data.has(id)) continue;
    const c = decideData(id, replicas, ctx, silentPeers);
    if (c === null) notAdopted++;
    else data.push(c);
  }
  return { meta, data, notAdopted, silentPeers, maxMetaId, maxDataId };
}

/** Leaders first (several leaders: a conflict, the first by the tie rule wins), else `fallback`. */
function authorityOf<R extends { readonly isLeader: boolean }>(
  what: string,
  replicas: readonly Replica<R>[],
  order: (a: Replica<R>, b: Replica<R>) => number,
  fallback: () => Replica<R>,
  findings: Findings,
): Replica<R> {
  const leaders = replicas.filter((r) => r.report.isLeader).sort(order);
  if (leaders.length > 1) findings.add('conflict', what, `${leaders.map((l) => l.addr).join(', ')} all report leadership: ${leaders[0].addr} decides`, RULE.authority);
  return leaders[0] ?? fallback();
}

/**
 * The replicas that agree with the authority on the vol (others are conflicts), the peers as
 * records (null when a peer does not match an adopted node), and the findings on the rest.
 */
function commonChecks<R extends { readonly volName: string; readonly localPeers: readonly ReplicaPeer[] }>(
  kind: NodeKind,
  what: string,
  replicas: readonly Replica<R>[],
  authority: Replica<R>,
  ctx: PartitionRuleContext,
  silentPeers: Map<string, number>,
): { peers: PartitionPeer[]; members: Replica<R>[] } | null {
  const { findings } = ctx;
  const volName = authority.report.volName;
  for (const r of replicas) {
    if (r.report.volName !== volName) findings.add('conflict', what, `replica on ${r.addr} belongs to vol "${r.report.volName}", the group to "${volName}": that replica is left alone`, RULE.volName);
  }
  const sameVol = replicas.filter((r) => r.report.volName === volName);
  const peersWire = authority.report.localPeers;
  const peers: PartitionPeer[] = [];
  const ids = new Set<number>();
  const addrs = new Set<string>();
  for (const p of peersWire) {
    const identity = ctx.identities.get(nodeKey(kind, p.addr));
    if (identity === undefined || identity.id !== p.id || ids.has(p.id) || addrs.has(p.addr)) {
      const why = identity === undefined ? `no ${kind} node could be adopted at ${p.addr}` : identity.id !== p.id ? `${p.addr} is node ${identity.id}, the partition says ${p.id}` : `peer ${p.id}@${p.addr} listed twice`;
      findings.add('notAdopted', what, `vol ${volName}: ${why}; the partition is left on its nodes`, RULE.peerIdentity);
      return null;
    }
    ids.add(p.id);
    addrs.add(p.addr);
    peers.push({ nodeId: p.id, addr: p.addr });
  }
  if (peers.length === 0) {
    findings.add('notAdopted', what, `vol ${volName}: ${authority.addr} reports no peers; the partition is left on its nodes`, RULE.peerIdentity);
    return null;
  }
  const signature = peersText(peersWire);
  for (const r of sameVol) {
    if (!addrs.has(r.addr)) {
      findings.add('notAdopted', what, `replica on ${r.addr} is not one of the group's peers [${signature}] (a leftover of a move): left on its node`, RULE.staleReplica);
    } else if (r !== authority && peersText(r.report.localPeers) !== signature) {
      findings.add('conflict', what, `replica on ${r.addr} lists peers [${peersText(r.report.localPeers)}], ${authority.addr} lists [${signature}]: the latter is kept`, RULE.authority);
    }
  }
  const reported = new Set(sameVol.map((r) => r.addr));
  for (const p of peers) {
    if (!reported.has(p.addr)) silentPeers.set(nodeKey(kind, p.addr), (silentPeers.get(nodeKey(kind, p.addr)) ?? 0) + 1);
  }
  return { peers, members: sameVol.filter((r) => addrs.has(r.addr)) };
}

function decideMeta(id: number, replicas: readonly Replica<MetaPartitionReport>[], ctx: PartitionRuleContext, silentPeers: Map<string, number>): MetaCandidate | null {
  const what = `meta partition ${id}`;
  const smallestEnd = (a: Replica<MetaPartitionReport>, b: Replica<MetaPartitionReport>): number =>
    a.report.end < b.report.end ? -1 : a.report.end > b.report.end ? 1 : byAddr(a, b);
  const authority = authorityOf(what, replicas, smallestEnd, () => [...replicas].sort(smallestEnd)[0], ctx.findings);
  const checked = commonChecks('meta', what, replicas, authority, ctx, silentPeers);
  if (checked === null) return null;
  const { start, end } = authority.report;
  let maxInodeId = 0n;
  for (const r of checked.members) {
    if (r.report.maxInodeId > maxInodeId) maxInodeId = r.report.maxInodeId;
    if (r.report.start !== start) {
      ctx.findings.add('conflict', what, `replica on ${r.addr} starts at ${r.report.start}, ${authority.addr} at ${start}: the latter is kept`, RULE.laggingRange);
    } else if (r.report.end !== end) {
      ctx.findings.add('conflict', what, `replica on ${r.addr} ends at ${r.report.end}, ${authority.addr} at ${end}: ${end} is kept and sent to it`, RULE.laggingRange);
    }
  }
  return { id, volName: authority.report.volName, start, end, peers: checked.peers, maxInodeId };
}

function decideData(id: number, replicas: readonly Replica<DataPartitionReport>[], ctx: PartitionRuleContext, silentPeers: Map<string, number>): DataCandidate | null {
  const what = `data partition ${id}`;
  const majority = (): Replica<DataPartitionReport> => {
    const votes = new Map<string, Replica<DataPartitionReport>[]>();
    for (const r of replicas) {
      const key = `${r.report.volName}|${peersText(r.report.localPeers)}`;
      votes.set(key, [...(votes.get(key) ?? []), r]);
    }
    const ranked = [...votes.values()].sort((a, b) => b.length - a.length || byAddr(a[0], b[0]));
    return ranked[0][0];
  };
  const authority = authorityOf(what, replicas, byAddr, majority, ctx.findings);
  const checked = commonChecks('data', what, replicas, authority, ctx, silentPeers);
  if (checked === null) return null;
  const diskOf = new Map(checked.members.map((r) => [r.addr, r.report.diskPath]));
  return {
    id,
    volName: authority.report.volName,
    peers: checked.peers,
    diskPaths: checked.peers.map((p) => diskOf.get(p.addr) ?? ''),
    sizeBytes: authority.report.totalBytes,
    status: authority.report.status === Status.ReadOnly ? Status.ReadOnly : Status.ReadWrite,
  };
}
