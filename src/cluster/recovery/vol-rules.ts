// Vols from their partitions (docs/recovery.md, rules `inode-range`, `interrupted-split`,
// `existing-vol`, `placeholder-owner`, `capacity`, `vol-options`). Nodes know a partition's vol
// by name only: the vol gets a new id, and what only the lost masters knew (owner, capacity,
// options) gets a marked default. A vol is adopted only whole: its meta partitions, in id order,
// must cover the inode range [0, 2^63-1] without a gap, as the model requires (spec 3.1);
// otherwise its partitions are left alone on their nodes (the orphan sweep never deletes them,
// see isPreLossPartition) until a later round finds the missing ones.

import type { AdoptedDataPartition, CommandOf, ModelView } from '../../model/index.js';
import { checkVolName, DEFAULT_VOL_SETTINGS, GIB, INODE_ID_MAX, MediaType, StorageClass as Classes, volByName, VolStatus } from '../../model/index.js';
import type { Findings } from './findings.js';
import { RULE } from './findings.js';
import type { NodeIdentity } from './node-identities.js';
import { nodeKey } from './node-identities.js';
import type { DataCandidate, MetaCandidate } from './partition-rules.js';

/** The Go master's default data partition size (spec 1.5 createVol dpSize 0). */
export const DEFAULT_DP_SIZE_BYTES = 120n * GIB;

/** A vol to adopt: the fields of its `recovery.adoptVol` the plan decides (all its data partitions). */
export type PlannedVol = Omit<CommandOf<'recovery.adoptVol'>, 'v' | 'type' | 'round' | 'owner' | 'createTimeUnixSec'>;

export interface VolDecisions {
  readonly vols: PlannedVol[];
  /** Data partitions for vols the model already has (a later round). */
  readonly extraDataPartitions: { readonly volName: string; readonly partitions: readonly AdoptedDataPartition[] }[];
  readonly notAdopted: number;
}

/** The most common value; ties go to the larger one. */
function mode<T extends number | bigint>(values: readonly T[]): T | undefined {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: T | undefined;
  let n = 0;
  for (const [v, c] of counts) {
    if (c > n || (c === n && best !== undefined && v > best)) {
      best = v;
      n = c;
    }
  }
  return best;
}

function byVol<T extends { readonly volName: string; readonly id: number }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(item.volName, [...(out.get(item.volName) ?? []), item]);
  for (const list of out.values()) list.sort((a, b) => a.id - b.id);
  return out;
}

/**
 * A split the lost leader committed while a replica set still had the old End: the old last
 * partition reports End 2^63-1 and the new one starts inside that range. When the old one's
 * cursor is below the new start no inode lives past it, so its End becomes new start - 1: what
 * the split set out to do (the master then sends the range update to its nodes).
 */
function completeInterruptedSplits(mps: readonly MetaCandidate[], vol: string, findings: Findings): MetaCandidate[] {
  const out: MetaCandidate[] = [];
  for (const mp of mps) {
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.end === INODE_ID_MAX && mp.start > prev.start && mp.start <= prev.end && prev.maxInodeId < mp.start) {
      out[out.length - 1] = { ...prev, end: mp.start - 1n };
      findings.add('conflict', `meta partition ${prev.id}`, `vol ${vol}: reports End ${INODE_ID_MAX}, but meta partition ${mp.id} starts at ${mp.start} and the cursor is ${prev.maxInodeId}: End set to ${mp.start - 1n}`, RULE.interruptedSplit);
    }
    out.push(mp);
  }
  return out;
}

/** Why the ranges (in id order) do not cover [0, 2^63-1] exactly; null when they do. */
function rangeProblem(mps: readonly MetaCandidate[]): string | null {
  if (mps.length === 0) return 'no meta partition reported';
  let expect = 0n;
  for (const [i, mp] of mps.entries()) {
    if (mp.start > expect) return `no meta partition reported for inodes [${expect}, ${mp.start - 1n}]`;
    if (mp.start < expect) return `meta partition ${mp.id} [${mp.start}, ${mp.end}] overlaps meta partition ${mps[i - 1].id} (ends at ${expect - 1n})`;
    if (mp.end < mp.start) return `meta partition ${mp.id} ends at ${mp.end} before its start ${mp.start}`;
    const last = i === mps.length - 1;
    if (!last && mp.end === INODE_ID_MAX) return `meta partition ${mp.id} ends at ${INODE_ID_MAX} but higher ids follow`;
    expect = mp.end + 1n;
  }
  const lastEnd = mps[mps.length - 1].end;
  return lastEnd === INODE_ID_MAX ? null : `no meta partition reported for inodes [${lastEnd + 1n}, ${INODE_ID_MAX}]`;
}

export interface VolRuleContext {
  readonly model: ModelView;
  readonly identities: ReadonlyMap<string, NodeIdentity>;
  readonly findings: Findings;
  readonly owner: string;
}

function adoptedData(dp: DataCandidate, identities: ReadonlyMap<string, NodeIdentity>): AdoptedDataPartition {
  const media = identities.get(nodeKey('data', dp.peers[0].addr))?.mediaType ?? MediaType.SSD;
  return { id: dp.id, peers: dp.peers, diskPaths: dp.diskPaths, sizeBytes: dp.sizeBytes, mediaType: media, status: dp.status };
}

export function decideVols(meta: readonly MetaCandidate[], data: readonly DataCandidate[], ctx: VolRuleContext): VolDecisions {
  const { model, findings } = ctx;
  const mpsByVol = byVol(meta);
  const dpsByVol = byVol(data);
  const names = [...new Set([...mpsByVol.keys(), ...dpsByVol.keys()])].sort();
  const vols: PlannedVol[] = [];
  const extraDataPartitions: VolDecisions['extraDataPartitions'][number][] = [];
  let notAdopted = 0;
  for (const name of names) {
    const mps = mpsByVol.get(name) ?? [];
    const dps = dpsByVol.get(name) ?? [];
    const leftAlone = (why: string, rule: string): void => {
      findings.add('notAdopted', `vol ${name}`, `${why}; its ${mps.length} meta and ${dps.length} data partitions are left on their nodes`, rule);
      notAdopted += mps.length + dps.length;
    };
    const existing = volByName(model, name);
    if (existing !== undefined) {
      // A later round: the vol's ranges are whole already, only data partitions can join it.
      if (mps.length > 0) {
        findings.add('notAdopted', `vol ${name}`, `meta partitions ${mps.map((p) => p.id).join(', ')} are not in the vol, whose inode range is covered already`, RULE.existingVol);
        notAdopted += mps.length;
      }
      if (dps.length === 0) continue;
      if (existing.status !== VolStatus.Normal) {
        findings.add('notAdopted', `vol ${name}`, `marked for deletion: data partitions ${dps.map((p) => p.id).join(', ')} not added`, RULE.existingVol);
        notAdopted += dps.length;
        continue;
      }
      extraDataPartitions.push({ volName: name, partitions: dps.map((dp) => adoptedData(dp, ctx.identities)) });
      continue;
    }
    try {
      checkVolName(name);
    } catch {
      leftAlone(`"${name}" is not a valid vol name`, RULE.volName);
      continue;
    }
    const ranged = completeInterruptedSplits(mps, name, findings);
    const problem = rangeProblem(ranged);
    if (problem !== null) {
      leftAlone(problem, RULE.inodeRange);
      continue;
    }
    vols.push(planVol(name, ranged, dps, ctx));
  }
  return { vols, extraDataPartitions, notAdopted };
}

function planVol(name: string, mps: readonly MetaCandidate[], dps: readonly DataCandidate[], ctx: VolRuleContext): PlannedVol {
  const { findings, identities } = ctx;
  const subject = `vol ${name}`;
  const mpReplicaNum = mode(mps.map((p) => p.peers.length)) ?? 3;
  const dpReplicaNum = mode(dps.map((p) => p.peers.length)) ?? mpReplicaNum;
  const dpSizeBytes = mode(dps.map((p) => p.sizeBytes)) ?? DEFAULT_DP_SIZE_BYTES;
  const totalBytes = dps.reduce((sum, p) => sum + p.sizeBytes, 0n);
  const capacityGB = Number((totalBytes + GIB - 1n) / GIB) || 1;
  const zones = new Set<string>();
  for (const p of [...mps.flatMap((m) => m.peers.map((q) => nodeKey('meta', q.addr))), ...dps.flatMap((d) => d.peers.map((q) => nodeKey('data', q.addr)))]) {
    const z = identities.get(p)?.zoneName;
    if (z !== undefined) zones.add(z);
  }
  const zoneName = [...zones].sort().join(',');
  const hdd = dps.filter((d) => identities.get(nodeKey('data', d.peers[0].addr))?.mediaType === MediaType.HDD).length;
  const volStorageClass = hdd * 2 > dps.length ? Classes.ReplicaHDD : Classes.ReplicaSSD;
  if (dps.length === 0) findings.add('guess', subject, `no data partition reported: data replica count ${dpReplicaNum} and data partition size ${dpSizeBytes / GIB} GB assumed`, RULE.capacity);
  findings.add('guess', subject, `owner unknown: "${ctx.owner}" holds it until it is given back to its owner (cfs-cli volume transfer ${name} <owner> --force)`, RULE.placeholderOwner);
  findings.add('guess', subject, `capacity unknown: ${capacityGB} GB, the size of its ${dps.length} data partitions (cfs-cli volume expand to set it)`, RULE.capacity);
  findings.add('guess', subject, `options unknown (follower read, authenticate, quotas, transactions, description...): defaults, zone "${zoneName}" from its nodes (cfs-cli volume update to set them)`, RULE.volOptions);
  return {
    name,
    capacityGB,
    mpReplicaNum,
    dpReplicaNum,
    dpSizeBytes,
    volStorageClass,
    settings: { ...DEFAULT_VOL_SETTINGS, zoneName, crossZone: zones.size > 1, followerRead: dpReplicaNum < 3 },
    metaPartitions: mps.map((mp) => ({ id: mp.id, start: mp.start, end: mp.end, peers: mp.peers })),
    dataPartitions: dps.map((dp) => adoptedData(dp, identities)),
  };
}
