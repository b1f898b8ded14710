// apply(model, command, ctx) -> { result, changes }: the deterministic heart of the state
// machine. It reads the model and never writes it; the FSM writes `changes` to RocksDB (one
// batch with the applied index) and then calls applyChanges. Rules:
// - no clock, no randomness, no I/O, no dependence on Map iteration order: every input that is
//   not replicated state arrives inside the command;
// - a command that breaks a rule is still applied: its result is a typed OperatingError that
//   reaches the proposer, and it produces no changes (handlers throw before returning any);
// - cost is O(size of the change): map lookups, plus a sorted-array lookup for node sets.
// The FSM must call applyChanges before applying the next command.

import { OperatingError } from '../../util/errors.js';
import { applyBootstrap, applyIdsReserve, applySetFrozen, applySetNodeInfo } from './cluster.js';
import { applyNodeRemove, applyNodeSetRdOnly } from './node-state.js';
import { applyDataNodeAdd, applyMetaNodeAdd } from './nodes.js';
import { applyDataPartitionsAdd, applyMetaPartitionSplit, applyReplaceReplica } from './partitions.js';
import { applyRemovePolicy, applyUpdatePolicy } from './policies.js';
import {
  applyRecoveryAdoptDataPartitions,
  applyRecoveryAdoptNodes,
  applyRecoveryAdoptVol,
  applyRecoveryBegin,
  applyRecoveryFinish,
} from './recovery.js';
import { applyUserCreate, applyUserDelete, applyUserUpdate } from './users.js';
import {
  applyVolCreateAbort,
  applyVolCreateBegin,
  applyVolCreateCommit,
  applyVolRemove,
  applyVolSetDeleted,
  applyVolTransfer,
  applyVolUpdate,
} from './vols.js';
import type { Command, CommandOf, CommandType } from '../commands.js';
import type { ModelView } from '../state.js';
import type { ApplyContext, Applied, CommandResults, ResultOf, Success } from './results.js';

type Handler<T extends CommandType> = (model: ModelView, command: CommandOf<T>) => Success<CommandResults[T]>;

const HANDLERS: { readonly [T in CommandType]: Handler<T> } = {
  'cluster.bootstrap': applyBootstrap,
  'cluster.setFrozen': applySetFrozen,
  'ids.reserve': applyIdsReserve,
  'metaNode.add': applyMetaNodeAdd,
  'dataNode.add': applyDataNodeAdd,
  'user.create': applyUserCreate,
  'user.update': applyUserUpdate,
  'user.delete': applyUserDelete,
  'cluster.setNodeInfo': applySetNodeInfo,
  'vol.createBegin': applyVolCreateBegin,
  'vol.createCommit': applyVolCreateCommit,
  'vol.createAbort': applyVolCreateAbort,
  'vol.update': applyVolUpdate,
  'vol.setDeleted': applyVolSetDeleted,
  'vol.remove': applyVolRemove,
  'vol.transfer': applyVolTransfer,
  'user.updatePolicy': applyUpdatePolicy,
  'user.removePolicy': applyRemovePolicy,
  'mp.split': applyMetaPartitionSplit,
  'dp.add': applyDataPartitionsAdd,
  'partition.replaceReplica': applyReplaceReplica,
  'node.setRdOnly': applyNodeSetRdOnly,
  'node.remove': applyNodeRemove,
  'recovery.begin': applyRecoveryBegin,
  'recovery.adoptNodes': applyRecoveryAdoptNodes,
  'recovery.adoptVol': applyRecoveryAdoptVol,
  'recovery.adoptDataPartitions': applyRecoveryAdoptDataPartitions,
  'recovery.finish': applyRecoveryFinish,
};

export function apply<C extends Command>(model: ModelView, command: C, _ctx: ApplyContext): Applied<ResultOf<C>> {
  const handler = HANDLERS[command.type] as unknown as (m: ModelView, c: C) => Success<ResultOf<C>>;
  try {
    const { value, changes } = handler(model, command);
    return { result: { ok: true, value }, changes };
  } catch (e) {
    // Only operating errors are results; anything else is a bug and must crash the member.
    if (e instanceof OperatingError) return { result: { ok: false, error: e }, changes: [] };
    throw e;
  }
}
