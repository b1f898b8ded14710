// The recovery report (docs/recovery.md "Reading the report"): what was rebuilt, what was
// guessed, every conflict and the rule that settled it, what was left out, and the next steps.
// Built from the replicated model (the recovery record and the records it adopted), so every
// member prints the same report for the same applied state. 64-bit values stay bigint (printed
// exact by stringifyJson).

import type { ModelView, RecoveryFinding, RecoveryFindingKind, RecoveryRecord } from '../../model/index.js';
import { dataPartitionsOf, GIB, metaPartitionsOf, RECOVERY_FINDING_KINDS, ROOT_USER_ID } from '../../model/index.js';

export interface RecoveryReport {
  readonly cluster: string;
  readonly round: number;
  readonly phase: RecoveryRecord['phase'];
  readonly beganAt: string;
  readonly finishedAt: string;
  readonly params: RecoveryRecord['params'];
  readonly summary: RecoveryRecord['summary'];
  /** Partition ids up to these are the cluster's from before the loss (never swept as orphans). */
  readonly preLossIds: RecoveryRecord['preLossIds'];
  readonly rebuilt: {
    readonly nodes: readonly { kind: 'meta' | 'data'; id: number; addr: string; zone: string; nodeSet: number }[];
    readonly vols: readonly ReportVol[];
  };
  readonly findings: { readonly [K in RecoveryFindingKind]: readonly RecoveryFinding[] };
  readonly findingsOmitted: number;
  readonly nextSteps: readonly string[];
}

interface ReportVol {
  readonly name: string;
  readonly id: number;
  readonly owner: string;
  readonly capacityGB: number;
  readonly mpReplicaNum: number;
  readonly dpReplicaNum: number;
  readonly metaPartitions: readonly { id: number; start: bigint; end: bigint; peers: string[] }[];
  readonly dataPartitions: readonly { id: number; hosts: string[]; disks: string[]; sizeBytes: bigint }[];
}

function iso(unixSec: number): string {
  return unixSec === 0 ? '' : new Date(unixSec * 1000).toISOString();
}

/** Null when the cluster never had a recovery. */
export function buildRecoveryReport(model: ModelView): RecoveryReport | null {
  const r = model.recovery;
  if (r === null) return null;
  const vols = [...model.vols.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  const findings = Object.fromEntries(RECOVERY_FINDING_KINDS.map((k) => [k, r.findings.filter((f) => f.kind === k)])) as unknown as RecoveryReport['findings'];
  return {
    cluster: model.cluster?.name ?? '',
    round: r.round,
    phase: r.phase,
    beganAt: iso(r.beganAtUnixSec),
    finishedAt: iso(r.finishedAtUnixSec),
    params: r.params,
    summary: r.summary,
    preLossIds: r.preLossIds,
    rebuilt: {
      nodes: [
        ...[...model.metaNodes.values()].map((n) => ({ kind: 'meta' as const, id: n.id, addr: n.addr, zone: n.zoneName, nodeSet: n.nodeSetId })),
        ...[...model.dataNodes.values()].map((n) => ({ kind: 'data' as const, id: n.id, addr: n.addr, zone: n.zoneName, nodeSet: n.nodeSetId })),
      ].sort((a, b) => a.id - b.id),
      vols: vols.map((v) => ({
        name: v.name,
        id: v.id,
        owner: v.owner,
        capacityGB: v.capacityGB,
        mpReplicaNum: v.mpReplicaNum,
        dpReplicaNum: v.dpReplicaNum,
        metaPartitions: metaPartitionsOf(model, v.id).map((p) => ({ id: p.id, start: p.start, end: p.end, peers: p.peers.map((q) => `${q.nodeId}@${q.addr}`) })),
        dataPartitions: dataPartitionsOf(model, v.id).map((p) => ({ id: p.id, hosts: p.peers.map((q) => q.addr), disks: p.replicas.map((q) => q.diskPath), sizeBytes: p.sizeBytes })),
      })),
    },
    findings,
    findingsOmitted: r.findingsOmitted,
    nextSteps: nextSteps(model, r),
  };
}

function nextSteps(model: ModelView, r: RecoveryRecord): string[] {
  const steps: string[] = [];
  const count = (k: RecoveryFindingKind): number => r.findings.filter((f) => f.kind === k).length;
  if (r.phase === 'collecting') return ['the round is still collecting node reports; this report is complete once it finished'];
  if (count('notReported') > 0) steps.push('Bring back the nodes listed under notReported (same address and config): they rejoin with the ids their partitions know, and their replicas catch up through raft.');
  if (count('notAdopted') > 0) {
    steps.push(
      'Partitions and vols under notAdopted are left untouched on their nodes (never deleted by the master). Once the nodes that hold the missing pieces answer, run another round: cubemaster recover --force --config master.json --nodes <addrs> (on any one master).',
    );
  }
  const placeholder = [...model.vols.values()].filter((v) => v.owner === ROOT_USER_ID).map((v) => v.name).sort();
  steps.push('Read the new root keys: cfs-cli user info root (the old ones lived only in the lost masters).');
  if (placeholder.length > 0) {
    steps.push(
      `Recreate each vol owner (cfs-cli user create <user> --access-key <old AK> --secret-key <old SK> keeps the keys clients hold), then give the vol back: cfs-cli volume transfer <vol> <user> --force. Vols held by ${ROOT_USER_ID}: ${placeholder.join(', ')}. FUSE clients mount with authKey = md5(owner): until the transfer only clients already mounted keep working.`,
    );
  }
  steps.push('Set each vol\'s capacity (cfs-cli volume expand <vol> <GB>) and options (cfs-cli volume update <vol> ...): the rebuilt values are marked under guess.');
  steps.push('Recreate quotas (cfs-cli quota create) and other users\' policies (cfs-cli user perm).');
  if (count('conflict') > 0) steps.push('Review the conflicts: each says which rule decided; docs/recovery.md explains the rules.');
  const total = [...model.dataPartitions.values()].reduce((n, p) => n + p.sizeBytes, 0n);
  steps.push(`The cluster takes writes now (${model.vols.size} vols, ${Number(total / GIB)} GB of data partitions); take backups of the masters from now on.`);
  return steps;
}

/** The human summary: the counts, the findings by kind, the next steps. */
export function recoveryReportText(report: RecoveryReport): string {
  const s = report.summary;
  const lines = [
    `cubemaster recovery report: cluster ${report.cluster}, round ${report.round} (${report.phase})`,
    `began ${report.beganAt}${report.finishedAt === '' ? '' : `, finished ${report.finishedAt}`}`,
    '',
    `nodes: ${s.nodesListed} listed, ${s.nodesReported} reported, ${s.nodesRegistering} waiting to register; adopted ${s.metaNodesAdopted} meta and ${s.dataNodesAdopted} data nodes`,
    `vols: ${s.volsAdopted} adopted with ${s.metaPartitionsAdopted} meta and ${s.dataPartitionsAdopted} data partitions; ${s.partitionsNotAdopted} partitions not adopted`,
    `findings: ${s.conflicts} conflicts, ${s.guesses} guesses${report.findingsOmitted > 0 ? `, ${report.findingsOmitted} more not kept` : ''}`,
    `partition ids up to ${report.preLossIds.metaPartition} (meta) and ${report.preLossIds.dataPartition} (data) are pre-loss: the master never deletes them as orphans`,
  ];
  const titles: Record<RecoveryFindingKind, string> = {
    conflict: 'Conflicts (and the rule that settled each)',
    notAdopted: 'Not adopted (left untouched on the nodes)',
    notReported: 'Did not report',
    unknown: 'Not known to any node (only the lost masters had it)',
    guess: 'Guesses (marked defaults)',
  };
  for (const kind of ['conflict', 'notAdopted', 'notReported', 'unknown', 'guess'] as const) {
    const list = report.findings[kind];
    if (list.length === 0) continue;
    lines.push('', `${titles[kind]}:`);
    for (const f of list) lines.push(`  - ${f.subject}: ${f.detail}${f.rule === '' ? '' : ` [rule ${f.rule}]`}`);
  }
  lines.push('', 'Rebuilt vols:');
  for (const v of report.rebuilt.vols) {
    lines.push(`  - ${v.name} (id ${v.id}, owner ${v.owner}, ${v.capacityGB} GB): ${v.metaPartitions.length} meta partitions, ${v.dataPartitions.length} data partitions`);
  }
  lines.push('', 'Next steps:');
  report.nextSteps.forEach((step, i) => lines.push(`  ${i + 1}. ${step}`));
  return `${lines.join('\n')}\n`;
}
