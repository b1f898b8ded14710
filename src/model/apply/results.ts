// What apply returns: the typed result of each command type, and the handler contract.

import type { OperatingError } from '../../util/errors.js';
import type { Change } from '../changes.js';
import type { Command } from '../commands.js';
import type { RecoveryRecord } from '../recovery-state.js';
import type { ClusterRecord, CounterName, UserRecord } from '../state.js';
import type { DataPartitionRecord, MetaPartitionRecord, VolIntentRecord, VolRecord } from '../vol-state.js';

export interface ApplyContext {
  /** Raft index and term of the entry; for tracing only, they must not change the outcome. */
  readonly index: number;
  readonly term: number;
}

export interface NodeAddResult {
  readonly id: number;
  readonly nodeSetId: number;
  /** false when the addr was already registered: CubeFS returns the existing id (spec 1.5, 11). */
  readonly created: boolean;
}

export interface CommandResults {
  'cluster.bootstrap': { readonly clusterCreated: boolean; readonly rootCreated: boolean };
  'cluster.setFrozen': { readonly frozen: boolean };
  'ids.reserve': { readonly counter: CounterName; readonly first: number; readonly last: number };
  'metaNode.add': NodeAddResult;
  'dataNode.add': NodeAddResult;
  'user.create': UserRecord;
  'user.update': UserRecord;
  'user.delete': { readonly userId: string };
  'cluster.setNodeInfo': ClusterRecord;
  'vol.createBegin': VolIntentRecord;
  'vol.createCommit': VolRecord;
  'vol.createAbort': { readonly volId: number; readonly aborted: boolean };
  'vol.update': VolRecord;
  'vol.setDeleted': VolRecord;
  'vol.remove': { readonly volId: number; readonly removed: boolean };
  'vol.transfer': UserRecord;
  'user.updatePolicy': UserRecord;
  'user.removePolicy': UserRecord;
  'mp.split': { readonly updated: MetaPartitionRecord; readonly added: readonly MetaPartitionRecord[] };
  'dp.add': { readonly added: readonly DataPartitionRecord[] };
  'partition.replaceReplica': { readonly partitionId: number };
  'node.setRdOnly': { readonly addr: string; readonly rdOnly: boolean };
  'node.remove': { readonly addr: string; readonly removed: boolean };
  'recovery.begin': RecoveryRecord;
  'recovery.adoptNodes': { readonly added: number; readonly existing: number };
  'recovery.adoptVol': VolRecord;
  'recovery.adoptDataPartitions': { readonly added: number };
  'recovery.finish': RecoveryRecord;
}

export type ResultOf<C extends Command> = CommandResults[C['type']];

export type ApplyResult<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: OperatingError };

export interface Applied<R> {
  readonly result: ApplyResult<R>;
  /** Empty whenever `result.ok` is false. */
  readonly changes: readonly Change[];
}

/** What a handler returns on success; on a rule violation it throws an OperatingError. */
export interface Success<R> {
  readonly value: R;
  readonly changes: readonly Change[];
}

