// The replicated state of a recovery (docs/recovery.md): a cluster rebuilt from the reports of its
// meta and data nodes after every master was lost. One record, `#recovery#state`, says whether a
// recovery round is collecting reports (node registration waits, the orphan sweep is off), what
// it was asked to do, and, once it finished, what it found and which partition ids belong to the
// cluster as it was before the loss (the orphan sweep never deletes those: a partition the
// recovery did not see is late, not an orphan).
//
// Only the cluster layer (src/cluster/recovery/) proposes the commands that write it; the model
// keeps the findings as plain data so that every member can print the same report.

import type { IdCounters } from './state.js';

export type RecoveryPhase = 'collecting' | 'done';

/** A node address the operator listed; `any` = not said, the recovery asks both kinds. */
export interface RecoveryNodeTarget {
  readonly kind: 'meta' | 'data' | 'any';
  readonly addr: string;
}

/** An operator's hint: the node at `addr` had raft id `id` (read from the node's partition files). */
export interface RecoveryNodeIdHint {
  readonly addr: string;
  readonly id: number;
}

/** What the operator asked for (`cubemaster recover` flags); any leader can run the round from it. */
export interface RecoveryParams {
  readonly nodes: readonly RecoveryNodeTarget[];
  /** Reports are collected until every known node answered, or this long. */
  readonly collectTimeoutMs: number;
  /** Id counters end this far above the highest id any node reported (ids of nodes that stayed silent). */
  readonly idMargin: number;
  readonly nodeIdHints: readonly RecoveryNodeIdHint[];
}

/** Kinds of findings, as the report groups them. */
export const RECOVERY_FINDING_KINDS = ['unknown', 'guess', 'conflict', 'notAdopted', 'notReported'] as const;
export type RecoveryFindingKind = (typeof RECOVERY_FINDING_KINDS)[number];

/**
 * One thing the operator must know: what could not be known, what was guessed, a conflict and
 * the rule that settled it, an object left out, a node that never answered.
 */
export interface RecoveryFinding {
  readonly kind: RecoveryFindingKind;
  /** What it is about: "vol vol1", "meta partition 7", "data node 127.0.0.1:17310", "users". */
  readonly subject: string;
  readonly detail: string;
  /** The documented rule applied (docs/recovery.md), '' when none applies. */
  readonly rule: string;
}

/** Counts for the report's first lines. */
export interface RecoverySummary {
  readonly nodesListed: number;
  readonly nodesReported: number;
  readonly nodesRegistering: number;
  readonly metaNodesAdopted: number;
  readonly dataNodesAdopted: number;
  readonly volsAdopted: number;
  readonly metaPartitionsAdopted: number;
  readonly dataPartitionsAdopted: number;
  readonly partitionsNotAdopted: number;
  readonly conflicts: number;
  readonly guesses: number;
}

export const RECOVERY_SUMMARY_KEYS = [
  'nodesListed',
  'nodesReported',
  'nodesRegistering',
  'metaNodesAdopted',
  'dataNodesAdopted',
  'volsAdopted',
  'metaPartitionsAdopted',
  'dataPartitionsAdopted',
  'partitionsNotAdopted',
  'conflicts',
  'guesses',
] as const satisfies readonly (keyof RecoverySummary)[];

export function emptyRecoverySummary(): RecoverySummary {
  return Object.fromEntries(RECOVERY_SUMMARY_KEYS.map((k) => [k, 0])) as unknown as RecoverySummary;
}

/** Bound on the findings one round keeps (the rest are counted in `findingsOmitted`). */
export const RECOVERY_FINDINGS_MAX = 10_000;
/** Bound on the node targets and hints of one round. */
export const RECOVERY_NODES_MAX = 100_000;

/** Partition ids at or below these belong to the cluster as it was before the loss. */
export interface PreLossIds {
  readonly metaPartition: number;
  readonly dataPartition: number;
}

/** `#recovery#state`. */
export interface RecoveryRecord {
  /** 1 for the recovery that rebuilt the cluster; later rounds adopt what the first one missed. */
  readonly round: number;
  readonly phase: RecoveryPhase;
  readonly params: RecoveryParams;
  readonly beganAtUnixSec: number;
  /** 0 while collecting. */
  readonly finishedAtUnixSec: number;
  /** 0/0 until the first round finished; only grows. */
  readonly preLossIds: PreLossIds;
  /** The last finished round's counts and findings (empty while the first round collects). */
  readonly summary: RecoverySummary;
  readonly findings: readonly RecoveryFinding[];
  readonly findingsOmitted: number;
}

/** The counters a finish raises the id counters to (at least). */
export type RecoveryCounterFloors = IdCounters;

/** A recovery round is collecting: node registration waits, the orphan sweep stays off. */
export function recoveryCollecting(model: { readonly recovery: RecoveryRecord | null }): boolean {
  return model.recovery?.phase === 'collecting';
}

/**
 * The partition id may name a partition of the cluster before the loss (at or below the ids the
 * recovery reserved): one a node reports without a record is late, never an orphan to delete.
 */
export function isPreLossPartition(model: { readonly recovery: RecoveryRecord | null }, kind: 'meta' | 'data', id: number): boolean {
  const ids = model.recovery?.preLossIds;
  if (ids === undefined) return false;
  return id <= (kind === 'meta' ? ids.metaPartition : ids.dataPartition);
}
