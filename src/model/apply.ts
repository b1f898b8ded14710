// apply(model, command, ctx) -> { result, changes }: the deterministic heart of the state
// machine. It reads the model and never writes it; the FSM writes `changes` to RocksDB (one
// batch with the applied index) and then calls applyChanges. Rules:
// - no clock, no randomness, no I/O, no dependence on Map iteration order: every input that is
//   not replicated state arrives inside the command;
// - a command that breaks a rule is still applied: its result is a typed OperatingError that
//   reaches the proposer, and it produces no changes (handlers throw before returning any);
// - cost is O(size of the change): map lookups, plus a sorted-array lookup for node sets.
// The FSM must call applyChanges before applying the next command.

import { OperatingError } from '../util/errors.js';
import { applyBootstrap, applyIdsReserve, applySetFrozen } from './apply-cluster.js';
import { applyDataNodeAdd, applyMetaNodeAdd } from './apply-nodes.js';
import { applyUserCreate, applyUserDelete, applyUserUpdate } from './apply-users.js';
import type { Change } from './changes.js';
import type { Command, CommandOf, CommandType } from './commands.js';
import type { CounterName, ModelView, UserRecord } from './state.js';

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
