// The findings a recovery plan collects for the operator, and the names of the rules that settle
// conflicts (each rule is explained in docs/recovery.md under its name). Bounded: past the limit
// only a count is kept, and the most important kinds come first in the report.

import type { RecoveryFinding, RecoveryFindingKind } from '../../model/index.js';
import { RECOVERY_FINDINGS_MAX } from '../../model/index.js';

/** Rule names, as docs/recovery.md documents them. */
export const RULE = {
  nodeId: 'node-id',
  idClash: 'id-clash',
  zoneMedia: 'zone-media',
  authority: 'partition-authority',
  volName: 'vol-name',
  staleReplica: 'stale-replica',
  peerIdentity: 'peer-identity',
  laggingRange: 'lagging-range',
  interruptedSplit: 'interrupted-split',
  inodeRange: 'inode-range',
  existingVol: 'existing-vol',
  silentPeer: 'silent-peer',
  placeholderOwner: 'placeholder-owner',
  capacity: 'capacity',
  volOptions: 'vol-options',
  newIds: 'new-ids',
  idMargin: 'id-margin',
} as const;

/** Report order: what needs action first. */
const KIND_ORDER: readonly RecoveryFindingKind[] = ['conflict', 'notAdopted', 'notReported', 'unknown', 'guess'];

export class Findings {
  private readonly items: RecoveryFinding[] = [];

  add(kind: RecoveryFindingKind, subject: string, detail: string, rule = ''): void {
    this.items.push({ kind, subject, detail, rule });
  }

  count(kind: RecoveryFindingKind): number {
    return this.items.filter((f) => f.kind === kind).length;
  }

  /** Sorted by kind (stable within a kind), cut at the limit. */
  result(max = RECOVERY_FINDINGS_MAX): { findings: RecoveryFinding[]; omitted: number } {
    const sorted = KIND_ORDER.flatMap((k) => this.items.filter((f) => f.kind === k));
    return { findings: sorted.slice(0, max), omitted: Math.max(0, sorted.length - max) };
  }
}
