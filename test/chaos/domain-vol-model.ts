// The volume part of the chaos model (cubefs-model.ts): one vol name is one key, and its state
// is what /admin/getVol shows of it (owner, capacity, dp replica count, description, status),
// or absent. Semantics follow the routes and services (src/api/routes/vols.ts,
// src/cluster/vols.ts) and the apply functions (src/model/apply/vols.ts), in their check order:
//
// - create (/admin/createVol): takes effect at its commit, and only on an absent name: the vol
//   appears with Status 0. Its answers: ok; code 1 "duplicate vol" (the name is taken); code 1
//   "action[createVol] ... err:..." otherwise (placement or node work failed: the name was free
//   when it was checked, and no vol was made: whole or gone, docs/volume-create.md); or a refusal
//   that made nothing (the cluster is frozen, 503/429/400, refused connection). The last kind is
//   kept in the history as `notCreated` rather than left out as other refusals are: a create is
//   several proposals, and a refusal of its commit can come after its begin left an intent.
// - the intent: between begin and commit (and, for a create that failed or whose answer was
//   lost, until the abort, the sweep's every 5 s) the name is reserved: a create answers
//   "duplicate vol", and getVol shows the vol of the running create (with no partitions yet,
//   as the Go master does: src/model/vol-views.ts), while update, expand, delete, /vol/list and
//   the partition views answer as if it did not exist. The model does not hold intents in the
//   state: domain-history.ts marks each duplicate answer that some other create's intent may
//   explain (`intentMayHold`), and each getVol answer that shows the fields of a create whose
//   intent may have been there (`intentMayShow`; descriptions are unique, so the answer names
//   the create). The model accepts a marked duplicate in any state, and a marked getVol on an
//   absent vol too. An unmarked duplicate needs the vol to exist, an unmarked getVol to show it.
// - update (/vol/update with capacity and description): 7 absent, code 1 "vol not exists"
//   when marked for deletion, 34 when the authKey is not md5(owner); else both are set.
// - expand (/vol/expand): 7 absent, 2 when the capacity is not larger, 1 marked, 34 authKey;
//   else the capacity is set. The route checks in that order (after a read barrier), and apply
//   checks marked, then larger, again (the command carries its direction): so "marked" is a
//   possible answer whatever the size, and 2 whatever the status.
// - delete (/vol/delete): 7 absent, 34 authKey; else Status 1 (again on a marked vol: no change).
// - removal: the leader's cleanup removes a marked vol at some time after the mark. It is not an
//   operation anyone calls: domain-history.ts adds one `vol.removal` per delete that may have
//   marked, indeterminate from the delete's call on (it may happen at any later time, or not
//   before the history ends). It removes the vol if it is marked, else does nothing.
//   Removals of one name are interchangeable, and dozens stay open to the end of a run: tried in
//   every order, k of them make k! configurations. So they are used in call order only (the
//   state counts those used; removal `seq` takes effect only as the next one, else it is a
//   no-op the memo prunes). Nothing is lost: if some removals took effect at times t1 < t2 < ...,
//   at least i removals were called by t_i, so the i-th one called can take the i-th effect.
// - get (/admin/getVol, leader-read: after a read barrier): 7 absent, else the fields.
//
// An answer that was lost (timeout, 502, 503 outcome unknown, code 4) may have taken effect at
// any time after the call, and what takes effect then is the *command* the route proposed:
// vol.update / vol.setDeleted carry the vol's name, not its id, and apply re-checks that the vol
// exists, is not marked (update, expand) and, for an expand, grows; not its authKey, which the
// route checked earlier against the vol as it was. So a lost update, expand or delete that takes
// effect does so whatever the owner is now: weaker, but honest (a vol deleted, removed and
// created again by another owner in between would take it).

// Bugs this model found (fixed outside the suite; the histories that showed them must fail):
// - expand race (chaos seed 533231, fixed by 8ca4c9d): /vol/expand checked "larger than now" on
//   the leader's model only and proposed an unconditional vol.update, so an update to 40 and an
//   expand to 20, concurrent on a vol of 10, were both acknowledged and the vol ended at 20.
// - stale refusals (fixed by d0fc115): the vol routes' checks (7, 1 marked, 34, 2, duplicate)
//   read the leader's model with no read barrier: a leader cut off from its peers refused an
//   expand to 20 with code 2 "should be larger than the old capacity[30]" after the new leader
//   had acknowledged an update to 10.

import { unreachable } from '../../src/util/assert.js';
import type { StepResult } from './lincheck/model.js';
import { isUnknownOutput, type Observed } from './lincheck/operation.js';

export type VolInput =
  | {
      readonly f: 'vol.create';
      readonly name: string;
      readonly owner: string;
      readonly capacity: number;
      readonly replicaNum: number;
      readonly description: string;
      /** Set by domain-history.ts: another create's invisible intent may explain a "duplicate vol". */
      readonly intentMayHold?: boolean;
    }
  | {
      readonly f: 'vol.get';
      readonly name: string;
      /** Set by domain-history.ts: the answer shows the vol of a create whose intent may have been there. */
      readonly intentMayShow?: boolean;
    }
  | { readonly f: 'vol.update'; readonly name: string; readonly owner: string; readonly capacity: number; readonly description: string }
  | { readonly f: 'vol.expand'; readonly name: string; readonly owner: string; readonly capacity: number }
  | { readonly f: 'vol.delete'; readonly name: string; readonly owner: string }
  /** The background removal of a marked vol (never sent; always indeterminate); `seq`: its rank by call among the name's removals. */
  | { readonly f: 'vol.removal'; readonly name: string; readonly seq: number };

export type VolOpName = VolInput['f'];

/** The code-1 answers of the vol routes, told apart by their text (workload-outcome.ts). */
export type VolRefusal = 'duplicate' | 'markedDelete' | 'createFailed' | 'notCreated';

export type VolOutput =
  /** /admin/getVol: Owner, Capacity, DpReplicaNum, Description, Status; `name` is the reply's Name. */
  | {
      readonly kind: 'vol';
      readonly name: string;
      readonly owner: string;
      readonly capacity: number;
      readonly replicaNum: number;
      readonly description: string;
      readonly status: number;
    }
  | { readonly kind: 'volRefused'; readonly reason: VolRefusal };

/** The outputs the vol steps read besides their own: shared with the rest of the model. */
export type SharedOutput = { readonly kind: 'done' } | { readonly kind: 'error'; readonly code: number };

export const VOL_CODES = { paramError: 2, volNotExists: 7, authKeyMismatch: 34 } as const;

export const VOL_STATUS = { normal: 0, markDelete: 1 } as const;

export interface VolFields {
  readonly owner: string;
  readonly capacity: number;
  readonly replicaNum: number;
  readonly description: string;
  readonly status: number;
}

/** The vol of a name (null: absent) and how many of its removals took effect; `null` as a whole is `{ vol: null, removals: 0 }`. */
export interface VolState {
  readonly kind: 'vol';
  readonly vol: VolFields | null;
  readonly removals: number;
}

type State = VolState | null;
type Output = VolOutput | SharedOutput;

const isCode = (output: Output, code: number): boolean => output.kind === 'error' && output.code === code;
const isRefusal = (output: Output, reason: VolRefusal): boolean => output.kind === 'volRefused' && output.reason === reason;

/** One vol operation on the state of its name. */
export function stepVol(whole: State, input: VolInput, observed: Observed<Output>): StepResult<State> {
  const removals = whole?.removals ?? 0;
  const step = stepFields(whole?.vol ?? null, removals, input, isUnknownOutput(observed) ? null : observed);
  if (!step.ok) return { ok: false, state: whole };
  const used = step.removalUsed ? removals + 1 : removals;
  return { ok: true, state: step.vol === null && used === 0 ? null : { kind: 'vol', vol: step.vol, removals: used } };
}

interface FieldStep {
  readonly ok: boolean;
  readonly vol: VolFields | null;
  /** The next removal in call order took effect. */
  readonly removalUsed: boolean;
}

const accept = (vol: VolFields | null, removalUsed = false): FieldStep => ({ ok: true, vol, removalUsed });
const reject = (vol: VolFields | null): FieldStep => ({ ok: false, vol, removalUsed: false });

/** The step on the vol alone; `output` null: the answer was lost. */
function stepFields(state: VolFields | null, removals: number, input: VolInput, output: Output | null): FieldStep {
  const marked = state !== null && state.status === VOL_STATUS.markDelete;
  switch (input.f) {
    case 'vol.create': {
      const created: VolFields = { owner: input.owner, capacity: input.capacity, replicaNum: input.replicaNum, description: input.description, status: VOL_STATUS.normal };
      if (output === null) return accept(state === null ? created : state);
      if (output.kind === 'done') return state === null ? accept(created) : reject(state);
      if (isRefusal(output, 'duplicate')) return state !== null || input.intentMayHold === true ? accept(state) : reject(state);
      if (isRefusal(output, 'createFailed')) return state === null ? accept(state) : reject(state);
      return isRefusal(output, 'notCreated') ? accept(state) : reject(state);
    }
    case 'vol.get':
      if (output === null) return accept(state);
      if (state === null) return isCode(output, VOL_CODES.volNotExists) || (output.kind === 'vol' && input.intentMayShow === true) ? accept(state) : reject(state);
      return output.kind === 'vol' && output.name === input.name && sameVol(state, output) ? accept(state) : reject(state);
    case 'vol.update': {
      if (state === null) return output === null || isCode(output, VOL_CODES.volNotExists) ? accept(state) : reject(state);
      const updated: VolFields = { ...state, capacity: input.capacity, description: input.description };
      if (output === null) return accept(marked ? state : updated);
      if (marked) return isRefusal(output, 'markedDelete') ? accept(state) : reject(state);
      if (state.owner !== input.owner) return isCode(output, VOL_CODES.authKeyMismatch) ? accept(state) : reject(state);
      return output.kind === 'done' ? accept(updated) : reject(state);
    }
    case 'vol.expand': {
      if (state === null) return output === null || isCode(output, VOL_CODES.volNotExists) ? accept(state) : reject(state);
      const expanded: VolFields = { ...state, capacity: input.capacity };
      const grows = input.capacity > state.capacity;
      if (output === null) return accept(!marked && grows ? expanded : state);
      // Both check orders (see the header): the route's (size, then marked) and apply's (marked, then size).
      if (isCode(output, VOL_CODES.paramError)) return grows ? reject(state) : accept(state);
      if (isRefusal(output, 'markedDelete')) return marked ? accept(state) : reject(state);
      if (!grows || marked) return reject(state);
      if (state.owner !== input.owner) return isCode(output, VOL_CODES.authKeyMismatch) ? accept(state) : reject(state);
      return output.kind === 'done' ? accept(expanded) : reject(state);
    }
    case 'vol.delete': {
      if (state === null) return output === null || isCode(output, VOL_CODES.volNotExists) ? accept(state) : reject(state);
      const deleted: VolFields = { ...state, status: VOL_STATUS.markDelete };
      if (output === null) return accept(deleted);
      if (state.owner !== input.owner) return isCode(output, VOL_CODES.authKeyMismatch) ? accept(state) : reject(state);
      return output.kind === 'done' ? accept(deleted) : reject(state);
    }
    case 'vol.removal':
      // Only ever indeterminate; a determinate one is a history bug. Only the next one in call
      // order takes effect (see the header).
      if (output !== null) return reject(state);
      return marked && input.seq === removals ? accept(null, true) : accept(state);
    default:
      return unreachable(input, 'vol input');
  }
}

function sameVol(state: VolFields, output: Extract<VolOutput, { kind: 'vol' }>): boolean {
  return (
    output.owner === state.owner &&
    output.capacity === state.capacity &&
    output.replicaNum === state.replicaNum &&
    output.description === state.description &&
    output.status === state.status
  );
}

export function isVolInput(input: { readonly f: string }): input is VolInput {
  return input.f.startsWith('vol.');
}

function hashFields(v: VolFields): string {
  return JSON.stringify([v.owner, v.capacity, v.replicaNum, v.description, v.status]);
}

export function hashVolState(state: VolState): string {
  return `vol ${state.vol === null ? 'absent' : hashFields(state.vol)} after ${state.removals} removals`;
}

export function describeVolOutput(output: VolOutput): string {
  switch (output.kind) {
    case 'vol':
      return `${output.name} ${hashFields(output)}`;
    case 'volRefused':
      return output.reason;
    default:
      return unreachable(output, 'vol output');
  }
}

export function describeVolInput(input: VolInput): string {
  switch (input.f) {
    case 'vol.create':
      return `vol.create(${input.name}, owner ${input.owner}, ${input.capacity} GB, ${input.replicaNum} replicas, ${JSON.stringify(input.description)}${input.intentMayHold === true ? ', an intent may hold' : ''})`;
    case 'vol.update':
      return `vol.update(${input.name}, as ${input.owner}, ${input.capacity} GB, ${JSON.stringify(input.description)})`;
    case 'vol.expand':
      return `vol.expand(${input.name}, as ${input.owner}, ${input.capacity} GB)`;
    case 'vol.delete':
      return `vol.delete(${input.name}, as ${input.owner})`;
    case 'vol.get':
      return `${input.f}(${input.name}${input.intentMayShow === true ? ', an intent may show' : ''})`;
    case 'vol.removal':
      return `${input.f}(${input.name}, #${input.seq})`;
    default:
      return unreachable(input, 'vol input');
  }
}
