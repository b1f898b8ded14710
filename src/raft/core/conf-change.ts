// Membership changes, one server at a time (Raft thesis, 4.1 and 4.3, with the fix that a leader
// first commits an entry of its own term). A configuration takes effect on every member as soon
// as its entry is in that member's log, committed or not; a truncated entry takes it back.
import { assert } from '../../util/assert.js';
import type { ConfState, NodeId } from './types.js';

export const ConfChangeType = {
  /** Adds a voter, or promotes an existing learner to voter. */
  AddVoter: 1,
  /** Adds a non-voting member that receives the log (to catch up before promotion). */
  AddLearner: 2,
  RemoveNode: 3,
} as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

const TYPE_NAMES: Record<ConfChangeType, string> = { 1: 'add-voter', 2: 'add-learner', 3: 'remove-node' };

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
  /** Opaque to the core: the driver's description of the member (its address). */
  readonly context: Uint8Array;
}

export function describeConfChange(change: ConfChange): string {
  return `${TYPE_NAMES[change.type]} ${change.nodeId}`;
}

/** Layout: type (1 byte), node id (u32 high, u32 low, big-endian), context. */
export function encodeConfChange(change: ConfChange): Uint8Array {
  const out = new Uint8Array(9 + change.context.byteLength);
  const view = new DataView(out.buffer);
  out[0] = change.type;
  view.setUint32(1, Math.floor(change.nodeId / 0x100000000));
  view.setUint32(5, change.nodeId >>> 0);
  out.set(change.context, 9);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  assert(data.byteLength >= 9, 'conf change entry shorter than its header');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const type = data[0] as ConfChangeType;
  assert(type in TYPE_NAMES, () => `unknown conf change type ${type}`);
  const nodeId = view.getUint32(1) * 0x100000000 + view.getUint32(5);
  return { type, nodeId, context: data.subarray(9) };
}

/**
 * Why `change` cannot be applied to `conf`, or null when it can. Checked by the leader before
 * proposing; apply itself is total so that every member computes the same configuration.
 */
export function confChangeProblem(conf: ConfState, change: ConfChange): string | null {
  const id = change.nodeId;
  if (!Number.isSafeInteger(id) || id <= 0) return `node id ${id} is not a positive integer`;
  const isVoter = conf.voters.includes(id);
  const isLearner = conf.learners.includes(id);
  switch (change.type) {
    case ConfChangeType.AddVoter:
      return isVoter ? `node ${id} is already a voter` : null;
    case ConfChangeType.AddLearner:
      if (isVoter) return `node ${id} is a voter; demotion is not supported`;
      return isLearner ? `node ${id} is already a learner` : null;
    case ConfChangeType.RemoveNode:
      if (!isVoter && !isLearner) return `node ${id} is not a member`;
      if (isVoter && conf.voters.length === 1) return `node ${id} is the last voter`;
      return null;
  }
}

/** The configuration after `change`. Total: a change that makes no sense leaves `conf` as it is. */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState {
  const id = change.nodeId;
  const voters = conf.voters.filter((v) => v !== id);
  const learners = conf.learners.filter((l) => l !== id);
  switch (change.type) {
    case ConfChangeType.AddVoter:
      voters.push(id);
      break;
    case ConfChangeType.AddLearner:
      if (conf.voters.includes(id)) return conf;
      learners.push(id);
      break;
    case ConfChangeType.RemoveNode:
      if (conf.voters.length === 1 && conf.voters[0] === id) return conf;
      break;
  }
  voters.sort((a, b) => a - b);
  learners.sort((a, b) => a - b);
  return { voters, learners };
}

export function isMember(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}

export function confStatesEqual(a: ConfState, b: ConfState): boolean {
  return sameIds(a.voters, b.voters) && sameIds(a.learners, b.learners);
}

function sameIds(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
