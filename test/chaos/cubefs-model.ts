// The sequential specification of the master API the chaos workload drives (workload.ts), for
// the linearizability checker (lincheck/). Semantics follow the apply functions and routes:
//
// - users (src/model/apply-users.ts, src/api/routes/users.ts, src/cluster/users.ts):
//   create on an absent id makes the user with the given description ('' when none), on an
//   existing id answers 45 and changes nothing; update answers 46 when absent, else replaces the
//   description, except that '' keeps it (CubeFS: an empty value is absent); delete answers 46
//   when absent, else removes; info answers 46 when absent, else the user. Root is never used.
// - meta and data nodes (src/model/apply/nodes.ts): add returns the node id; a new addr gets an
//   id the server allocates (any positive id is accepted), and the addr keeps it for ever: a
//   repeated add returns the same id. Nodes are never removed. get answers 13 (meta) or 12
//   (data) when absent, else the id. Ids are also unique across addrs (meta and data nodes share
//   the common counter), but that constraint spans keys: it is left out so that the history can
//   be checked one key at a time (lincheck's partition, Herlihy & Wing's locality); the final
//   audit checks it on the final state instead.
// - volumes: one vol name is one key; the rules are in domain-vol-model.ts. Owners are user ids
//   outside the workload's users (a create makes its owner user on the fly, which would
//   otherwise cross keys).
// - the cluster flag (src/model/apply-cluster.ts applySetFrozen): freeze(enable) sets
//   DisableAutoAllocate (printed `DisableAutoAlloc` by /admin/getCluster) and always succeeds.
//
// A partition holds one key (a user id, a node addr, a vol name, or the flag), and so does its
// state. `null` is a key no operation touched: the user, node or vol is absent, the flag is at its
// initial value (`false` on a fresh cluster; `createCubefsModel({ initialFrozen: 'unknown' })`
// for a cluster whose flag a previous run may have set).

import { AssertionError, unreachable } from '../../src/util/assert.js';
import { describeVolInput, describeVolOutput, hashVolState, stepVol, VOL_CODES, type VolInput, type VolOutput, type VolState } from './domain-vol-model.js';
import type { Model, StepResult } from './lincheck/model.js';
import { isUnknownOutput, type Observed, type Operation } from './lincheck/operation.js';

export type CubeInput =
  | { readonly f: 'user.create'; readonly userId: string; readonly description: string }
  | { readonly f: 'user.update'; readonly userId: string; readonly description: string }
  | { readonly f: 'user.delete'; readonly userId: string }
  | { readonly f: 'user.info'; readonly userId: string }
  | { readonly f: 'metaNode.add'; readonly addr: string }
  | { readonly f: 'metaNode.get'; readonly addr: string }
  | { readonly f: 'dataNode.add'; readonly addr: string }
  | { readonly f: 'dataNode.get'; readonly addr: string }
  | { readonly f: 'cluster.freeze'; readonly enable: boolean }
  | { readonly f: 'cluster.get' }
  | VolInput;

/** Every operation of a history, `vol.removal` (added by domain-history.ts, never sent) included. */
export type CubeOpName = CubeInput['f'];

/** The operations a workload client sends. */
export type ClientOpName = Exclude<CubeOpName, 'vol.removal'>;
export type ClientInput = Exclude<CubeInput, { readonly f: 'vol.removal' }>;

export const CUBE_OP_NAMES: readonly ClientOpName[] = [
  'user.create',
  'user.update',
  'user.delete',
  'user.info',
  'metaNode.add',
  'metaNode.get',
  'dataNode.add',
  'dataNode.get',
  'cluster.freeze',
  'cluster.get',
  'vol.create',
  'vol.get',
  'vol.update',
  'vol.expand',
  'vol.delete',
];

/** The refusals that are answers about the key itself, so the model can check them. */
export const DEFINITE_CODES = { duplicateUser: 45, userNotExists: 46, metaNodeNotExists: 13, dataNodeNotExists: 12, ...VOL_CODES } as const;

export type CubeOutput =
  /** delete and freeze: the envelope's `data` is a message the SDK throws away. */
  | { readonly kind: 'done' }
  /** create, update, info: proto.UserInfo; `userId` is the reply's own `user_id`. */
  | { readonly kind: 'user'; readonly userId: string; readonly description: string }
  /** add (a bare id; `addr` is the request's) and get (MetaNodeInfo / DataNodeInfo `Addr`, `ID`). */
  | { readonly kind: 'metaNode'; readonly addr: string; readonly id: number }
  | { readonly kind: 'dataNode'; readonly addr: string; readonly id: number }
  /** /admin/getCluster `DisableAutoAlloc`. */
  | { readonly kind: 'cluster'; readonly frozen: boolean }
  /** HTTP 200 with one of DEFINITE_CODES. */
  | { readonly kind: 'error'; readonly code: number }
  | VolOutput;

export type CubeState =
  | null
  | { readonly kind: 'user'; readonly description: string }
  /** `id` null: registered by an operation whose answer was lost, id not seen yet. */
  | { readonly kind: 'metaNode'; readonly id: number | null }
  | { readonly kind: 'dataNode'; readonly id: number | null }
  | { readonly kind: 'cluster'; readonly frozen: boolean }
  | VolState;

export type CubeOperation = Operation<CubeInput, CubeOutput>;

export interface CubefsModelOptions {
  /** The flag before the history: false on a fresh cluster; 'unknown' accepts either. */
  readonly initialFrozen?: boolean | 'unknown';
}

/** The partition an operation belongs to: `user:<id>`, `metaNode:<addr>`, `dataNode:<addr>`, `vol:<name>` or `cluster`. */
export function keyOf(input: CubeInput): string {
  switch (input.f) {
    case 'user.create':
    case 'user.update':
    case 'user.delete':
    case 'user.info':
      return `user:${input.userId}`;
    case 'metaNode.add':
    case 'metaNode.get':
      return `metaNode:${input.addr}`;
    case 'dataNode.add':
    case 'dataNode.get':
      return `dataNode:${input.addr}`;
    case 'vol.create':
    case 'vol.get':
    case 'vol.update':
    case 'vol.expand':
    case 'vol.delete':
    case 'vol.removal':
      return `vol:${input.name}`;
    case 'cluster.freeze':
    case 'cluster.get':
      return 'cluster';
    default:
      return unreachable(input, 'cubefs input');
  }
}

type UserState = Extract<CubeState, { kind: 'user' }> | null;
type NodeState = Extract<CubeState, { kind: 'metaNode' | 'dataNode' }> | null;
type NodeInput = Extract<CubeInput, { f: `${'metaNode' | 'dataNode'}.${string}` }>;
type ClusterState = Extract<CubeState, { kind: 'cluster' }> | null;

const ABSENT = null;
const accept = (state: CubeState): StepResult<CubeState> => ({ ok: true, state });
const reject = (state: CubeState): StepResult<CubeState> => ({ ok: false, state });
const isCode = (output: CubeOutput, code: number): boolean => output.kind === 'error' && output.code === code;

function asKind<K extends NonNullable<CubeState>['kind']>(state: CubeState, kind: K): Extract<CubeState, { kind: K }> | null {
  if (state === null || state.kind === kind) return state as Extract<CubeState, { kind: K }> | null;
  throw new AssertionError(`a ${kind} operation met state ${hashState(state)}: partition bug`);
}

function userOutputIs(output: CubeOutput, userId: string, description: string): boolean {
  return output.kind === 'user' && output.userId === userId && output.description === description;
}

function stepUser(state: UserState, input: Extract<CubeInput, { userId: string }>, output: Observed<CubeOutput>): StepResult<CubeState> {
  const unknown = isUnknownOutput(output);
  switch (input.f) {
    case 'user.create': {
      if (state !== ABSENT) return unknown || isCode(output, DEFINITE_CODES.duplicateUser) ? accept(state) : reject(state);
      const created = { kind: 'user', description: input.description } as const;
      return unknown || userOutputIs(output, input.userId, input.description) ? accept(created) : reject(state);
    }
    case 'user.update': {
      if (state === ABSENT) return unknown || isCode(output, DEFINITE_CODES.userNotExists) ? accept(state) : reject(state);
      // UpdateUserRequest: '' keeps the current description.
      const updated = input.description === '' ? state : ({ kind: 'user', description: input.description } as const);
      return unknown || userOutputIs(output, input.userId, updated.description) ? accept(updated) : reject(state);
    }
    case 'user.delete':
      if (state === ABSENT) return unknown || isCode(output, DEFINITE_CODES.userNotExists) ? accept(state) : reject(state);
      return unknown || output.kind === 'done' ? accept(ABSENT) : reject(state);
    case 'user.info':
      if (unknown) return accept(state);
      if (state === ABSENT) return isCode(output, DEFINITE_CODES.userNotExists) ? accept(state) : reject(state);
      return userOutputIs(output, input.userId, state.description) ? accept(state) : reject(state);
    default:
      return unreachable(input, 'user input');
  }
}

/** Meta and data nodes alike; `kind` is which (the state and the outputs carry it). */
function stepNode(kind: 'metaNode' | 'dataNode', state: NodeState, input: NodeInput, output: Observed<CubeOutput>): StepResult<CubeState> {
  const isAdd = input.f === 'metaNode.add' || input.f === 'dataNode.add';
  if (isUnknownOutput(output)) {
    // An add whose answer was lost registered the addr, with an id nobody saw (yet).
    return accept(isAdd && state === ABSENT ? { kind, id: null } : state);
  }
  const notExists = kind === 'metaNode' ? DEFINITE_CODES.metaNodeNotExists : DEFINITE_CODES.dataNodeNotExists;
  if (state === ABSENT && !isAdd) return isCode(output, notExists) ? accept(state) : reject(state);
  // add on any state, get on a registered addr: the reply carries the id, which must be the
  // addr's id for ever. A state with an id not seen yet takes the first one seen: the same
  // answer a set of states "every id" filtered by this reply gives, as one state.
  if (output.kind !== kind || output.addr !== input.addr || !Number.isSafeInteger(output.id) || output.id <= 0) return reject(state);
  if (state !== ABSENT && state.id !== null && state.id !== output.id) return reject(state);
  return accept({ kind, id: output.id });
}

/** The model for a cluster whose flag starts at `initialFrozen` (default false: a fresh cluster). */
export function createCubefsModel(options: CubefsModelOptions = {}): Model<CubeInput, CubeOutput, CubeState> {
  const initialFrozen = options.initialFrozen ?? false;

  const stepCluster = (state: ClusterState, input: Extract<CubeInput, { f: `cluster.${string}` }>, output: Observed<CubeOutput>): StepResult<CubeState> => {
    const unknown = isUnknownOutput(output);
    if (input.f === 'cluster.freeze') return unknown || output.kind === 'done' ? accept({ kind: 'cluster', frozen: input.enable }) : reject(state);
    if (unknown) return accept(state);
    if (output.kind !== 'cluster') return reject(state);
    if (state !== null) return output.frozen === state.frozen ? accept(state) : reject(state);
    if (initialFrozen === 'unknown') return accept({ kind: 'cluster', frozen: output.frozen });
    return output.frozen === initialFrozen ? accept(state) : reject(state);
  };

  return {
    name: 'cubefs',
    init: () => null,

    step(state, input, output) {
      switch (input.f) {
        case 'user.create':
        case 'user.update':
        case 'user.delete':
        case 'user.info':
          return stepUser(asKind(state, 'user'), input, output);
        case 'metaNode.add':
        case 'metaNode.get':
          return stepNode('metaNode', asKind(state, 'metaNode'), input, output);
        case 'dataNode.add':
        case 'dataNode.get':
          return stepNode('dataNode', asKind(state, 'dataNode'), input, output);
        case 'cluster.freeze':
        case 'cluster.get':
          return stepCluster(asKind(state, 'cluster'), input, output);
        case 'vol.create':
        case 'vol.get':
        case 'vol.update':
        case 'vol.expand':
        case 'vol.delete':
        case 'vol.removal':
          return stepVol(asKind(state, 'vol'), input, isUnknownOutput(output) || isVolStepOutput(output) ? output : { kind: 'error', code: -1 });
        default:
          return unreachable(input, 'cubefs input');
      }
    },

    partition(history) {
      const byKey = new Map<string, CubeOperation[]>();
      for (const op of history) {
        const key = keyOf(op.input);
        const ops = byKey.get(key);
        if (ops) ops.push(op);
        else byKey.set(key, [op]);
      }
      return [...byKey.values()];
    },

    // A read that pins a value not seen yet (a meta node id, an unknown initial flag) narrows the
    // state. Forcing it early (what read-only means to the search) is still right for a meta node
    // id, which no operation ever changes, but not for an unknown flag: an earlier concurrent
    // read may have seen the other value before a freeze. So getCluster is read-only only when
    // the initial flag is known.
    // A vol.get is read-only too: the background removal is an operation of its own in the
    // history (domain-history.ts), not a change the state makes by itself, so a get the model
    // accepts now may go now.
    isReadOnly: (input) =>
      input.f === 'user.info' ||
      input.f === 'metaNode.get' ||
      input.f === 'dataNode.get' ||
      input.f === 'vol.get' ||
      (input.f === 'cluster.get' && initialFrozen !== 'unknown'),

    equal: (a, b) => hashState(a) === hashState(b),
    hash: hashState,
    describeOperation,
    describeState: hashState,
  };
}

/** The outputs a vol step reads; any other one is a wrong answer (passed on as an impossible code). */
function isVolStepOutput(output: CubeOutput): output is Extract<CubeOutput, { kind: 'vol' | 'volRefused' | 'done' | 'error' }> {
  return output.kind === 'vol' || output.kind === 'volRefused' || output.kind === 'done' || output.kind === 'error';
}

/** A fresh cluster: no workload user, node or vol, the flag false. */
export const cubefsModel = createCubefsModel();

/** Distinct states, distinct strings (descriptions are JSON-quoted, so they cannot mimic a tag). */
function hashState(state: CubeState): string {
  if (state === null) return 'initial';
  switch (state.kind) {
    case 'user':
      return `user ${JSON.stringify(state.description)}`;
    case 'metaNode':
    case 'dataNode':
      return `${state.kind} id ${state.id ?? '?'}`;
    case 'cluster':
      return `frozen ${state.frozen}`;
    case 'vol':
      return hashVolState(state);
    default:
      return unreachable(state, 'cubefs state');
  }
}

function describeOutput(output: Observed<CubeOutput>): string {
  if (isUnknownOutput(output)) return '?';
  switch (output.kind) {
    case 'done':
      return 'ok';
    case 'user':
      return `${output.userId} ${JSON.stringify(output.description)}`;
    case 'metaNode':
    case 'dataNode':
      return `${output.addr} id ${output.id}`;
    case 'cluster':
      return `frozen ${output.frozen}`;
    case 'error':
      return `code ${output.code}`;
    case 'vol':
    case 'volRefused':
      return describeVolOutput(output);
    default:
      return unreachable(output, 'cubefs output');
  }
}

function describeOperation(input: CubeInput, output: Observed<CubeOutput>): string {
  const answer = describeOutput(output);
  switch (input.f) {
    case 'user.create':
    case 'user.update':
      return `${input.f}(${input.userId}, ${JSON.stringify(input.description)}) → ${answer}`;
    case 'user.delete':
    case 'user.info':
      return `${input.f}(${input.userId}) → ${answer}`;
    case 'metaNode.add':
    case 'metaNode.get':
    case 'dataNode.add':
    case 'dataNode.get':
      return `${input.f}(${input.addr}) → ${answer}`;
    case 'cluster.freeze':
      return `cluster.freeze(${input.enable}) → ${answer}`;
    case 'cluster.get':
      return `cluster.get → ${answer}`;
    case 'vol.create':
    case 'vol.get':
    case 'vol.update':
    case 'vol.expand':
    case 'vol.delete':
    case 'vol.removal':
      return `${describeVolInput(input)} → ${answer}`;
    default:
      return unreachable(input, 'cubefs input');
  }
}
