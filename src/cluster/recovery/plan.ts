// The recovery plan: from what the census heard (and the model as it is, for a later round) to
// the commands that rebuild the cluster, the id floors, and the findings for the report. Pure
// and deterministic: the same census and model give the same plan on any member, so a leader
// that takes over mid-way re-plans and adopts only what is still missing.
//
// Order of decisions (docs/recovery.md): node ids (node-identities.ts), then each partition from
// its replicas (partition-rules.ts), then each vol from its partitions (vol-rules.ts), then what
// no node can tell (users, keys, quotas...), then the counters.

import type { AdoptedNode, IdCounters, ModelView, RecoveryFinding, RecoveryNodeIdHint, RecoverySummary } from '../../model/index.js';
import type { CensusSnapshot } from './census.js';
import { Findings, RULE } from './findings.js';
import type { NodeIdentity } from './node-identities.js';
import { decideNodeIdentities } from './node-identities.js';
import { decidePartitions } from './partition-rules.js';
import type { PlannedVol, VolDecisions } from './vol-rules.js';
import { decideVols } from './vol-rules.js';

export interface PlanOptions {
  readonly round: number;
  /** Who holds rebuilt vols until the operator gives them back to their owners. */
  readonly owner: string;
  readonly idMargin: number;
  readonly hints: readonly RecoveryNodeIdHint[];
  readonly legacyDataMediaType: number;
}

export interface RecoveryPlan {
  /** Nodes to adopt (not in the model yet), by id. */
  readonly nodes: readonly AdoptedNode[];
  /** The highest node id any node was known by (node sets go above it). */
  readonly nodeIdFloor: number;
  readonly vols: readonly PlannedVol[];
  readonly extraDataPartitions: VolDecisions['extraDataPartitions'];
  readonly counterFloors: IdCounters;
  readonly summary: RecoverySummary;
  readonly findings: readonly RecoveryFinding[];
  readonly findingsOmitted: number;
}

export function planRecovery(model: ModelView, census: CensusSnapshot, o: PlanOptions): RecoveryPlan {
  const findings = new Findings();
  const identities = decideNodeIdentities(model, census, { hints: o.hints, legacyDataMediaType: o.legacyDataMediaType }, findings);
  const partitions = decidePartitions(census, {
    identities,
    existing: { meta: new Set(model.metaPartitions.keys()), data: new Set(model.dataPartitions.keys()) },
    findings,
  });
  const vols = decideVols(partitions.meta, partitions.data, { model, identities, findings, owner: o.owner });

  for (const [key, count] of [...partitions.silentPeers].sort()) {
    const node = identities.get(key);
    const what = node === undefined ? key : `${node.kind} node ${node.addr}`;
    findings.add('notReported', what, `never answered; it is a replica of ${count} partition(s) its peers reported. It is adopted from its peers' reports; until it comes back those partitions run with fewer replicas`, RULE.silentPeer);
  }
  for (const t of census.silent) {
    const known = identities.has(`meta/${t.addr}`) || identities.has(`data/${t.addr}`);
    if (!known) findings.add('notReported', `node ${t.addr}`, `listed or named, never answered, and no partition names its id: not adopted`, RULE.silentPeer);
  }
  if (o.round === 1) addUnknowns(findings, o.owner);

  const adopt = [...identities.values()].filter((n) => !n.existing).sort((a, b) => a.id - b.id);
  const nodeIdFloor = Math.max(0, ...[...identities.values()].map((n) => n.id), ...o.hints.map((h) => h.id));
  const counterFloors: IdCounters = {
    common: nodeIdFloor + o.idMargin,
    metaPartition: Math.max(partitions.maxMetaId, model.recovery?.preLossIds.metaPartition ?? 0) + o.idMargin,
    dataPartition: Math.max(partitions.maxDataId, model.recovery?.preLossIds.dataPartition ?? 0) + o.idMargin,
  };
  if (o.round === 1) {
    findings.add(
      'unknown',
      'ids',
      `vols get new ids; node sets new ids above ${nodeIdFloor}; the id counters start ${o.idMargin} above the highest id seen (common ${counterFloors.common}, meta partitions ${counterFloors.metaPartition}, data partitions ${counterFloors.dataPartition}) so no new object takes the id of one that stayed silent`,
      RULE.idMargin,
    );
  }
  const { findings: list, omitted } = findings.result();
  const metaPartitionsAdopted = vols.vols.reduce((n, v) => n + v.metaPartitions.length, 0);
  const dataPartitionsAdopted = vols.vols.reduce((n, v) => n + v.dataPartitions.length, 0) + vols.extraDataPartitions.reduce((n, e) => n + e.partitions.length, 0);
  const summary: RecoverySummary = {
    nodesListed: census.listed.length,
    nodesReported: census.metaReports.length + census.dataReports.length,
    nodesRegistering: census.registrations.length,
    metaNodesAdopted: adopt.filter((n) => n.kind === 'meta').length,
    dataNodesAdopted: adopt.filter((n) => n.kind === 'data').length,
    volsAdopted: vols.vols.length,
    metaPartitionsAdopted,
    dataPartitionsAdopted,
    partitionsNotAdopted: partitions.notAdopted + vols.notAdopted,
    conflicts: findings.count('conflict'),
    guesses: findings.count('guess'),
  };
  return {
    nodes: adopt.map(toAdopted),
    nodeIdFloor,
    vols: vols.vols,
    extraDataPartitions: vols.extraDataPartitions,
    counterFloors,
    summary,
    findings: list,
    findingsOmitted: omitted,
  };
}

function toAdopted(n: NodeIdentity): AdoptedNode {
  return { kind: n.kind, id: n.id, addr: n.addr, zoneName: n.zoneName, heartbeatPort: n.heartbeatPort, replicaPort: n.replicaPort, mediaType: n.mediaType };
}

/** What no meta or data node keeps: only the lost masters knew it. */
function addUnknowns(findings: Findings, owner: string): void {
  findings.add('unknown', 'users', `users, their access and secret keys and their policies lived only in the masters. The root user has new keys (read them with "cfs-cli user info root"); recreate the other users, with their old keys if clients still hold them (cfs-cli user create --access-key --secret-key), then give each vol held by ${owner} back to its owner (cfs-cli volume transfer <vol> <owner> --force)`, RULE.placeholderOwner);
  findings.add('unknown', 'quotas', 'directory quotas and their limits lived only in the masters: recreate them (cfs-cli quota create)', '');
  findings.add('unknown', 'vol options', 'capacities, follower read, authentication, transaction masks, QoS limits, descriptions and the other vol options lived only in the masters: each rebuilt vol has defaults (see its guesses); set them with cfs-cli volume update / expand', RULE.volOptions);
  findings.add('unknown', 'cluster settings', 'cluster settings changed at run time (frozen, node info limits, decommission limits) lived only in the masters: set them again', '');
}
