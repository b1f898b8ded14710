// Keys the FSM owns in the state store, beside the model's records (which all start with '#').
// Written in the same batch as the effects they describe.
import { EMPTY_CONF_STATE, type ConfState, type NodeId } from '../raft/core/index.js';
import type { MemberAddress } from '../raft/member-context.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The last applied entry: {"index":N,"term":T}. */
export const APPLIED_KEY = encoder.encode('\x00raft/applied');
/** Membership as of the applied index, with every member's addresses. */
export const MEMBERS_KEY = encoder.encode('\x00raft/members');
/** Only between a clean stop and the next start: the token of the model image (model-image.ts). */
export const IMAGE_KEY = encoder.encode('\x00raft/image');
/**
 * Only in a snapshot stream, never in a store (snapshot-stream.ts): a packed table's header, then
 * its bytes in parts. In the model's namespace on purpose: a version that does not know them
 * fails to decode them as a record and refuses the snapshot.
 */
export const SNAPSHOT_TABLE_KEY = encoder.encode('#snapshot#table');
export const SNAPSHOT_TABLE_PART_KEY = encoder.encode('#snapshot#part');

export interface AppliedPosition {
  readonly index: number;
  readonly term: number;
}

export interface Membership {
  readonly conf: ConfState;
  readonly addresses: ReadonlyMap<NodeId, MemberAddress>;
}

export const EMPTY_MEMBERSHIP: Membership = { conf: EMPTY_CONF_STATE, addresses: new Map() };

export function encodeApplied(position: AppliedPosition): Uint8Array {
  return encoder.encode(JSON.stringify({ index: position.index, term: position.term }));
}

export function decodeApplied(value: Uint8Array): AppliedPosition {
  const parsed = JSON.parse(decoder.decode(value)) as { index?: unknown; term?: unknown };
  if (!Number.isSafeInteger(parsed.index) || !Number.isSafeInteger(parsed.term)) throw new Error('bad applied index record');
  return { index: parsed.index as number, term: parsed.term as number };
}

export function encodeMembership(m: Membership): Uint8Array {
  return encoder.encode(
    JSON.stringify({ voters: m.conf.voters, learners: m.conf.learners, addresses: Object.fromEntries([...m.addresses].map(([id, a]) => [String(id), a])) }),
  );
}

export function decodeMembership(value: Uint8Array): Membership {
  const parsed = JSON.parse(decoder.decode(value)) as { voters: number[]; learners: number[]; addresses: Record<string, MemberAddress> };
  if (!Array.isArray(parsed.voters) || !Array.isArray(parsed.learners)) throw new Error('bad membership record');
  return {
    conf: { voters: parsed.voters, learners: parsed.learners },
    addresses: new Map(Object.entries(parsed.addresses ?? {}).map(([id, a]) => [Number(id), { httpAddr: a.httpAddr, raftAddr: a.raftAddr }])),
  };
}

export function isFsmKey(key: Uint8Array): boolean {
  return key.length > 0 && key[0] === 0;
}
