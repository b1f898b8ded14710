// Majority arithmetic as pure functions (Raft paper, 5.2 and 5.3): the committed index is the
// highest index a majority of voters has persisted; an election is won by a majority of votes.
import type { NodeId } from './types.js';

export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The largest index that at least a majority of `voters` have matched. 0 for an empty set,
 * so that a configuration without voters commits nothing.
 */
export function committedIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  const n = voters.length;
  if (n === 0) return 0;
  if (n === 1) return matchOf(voters[0]);
  const matches = new Array<number>(n);
  for (let i = 0; i < n; i++) matches[i] = matchOf(voters[i]);
  matches.sort((a, b) => b - a);
  return matches[majority(n) - 1];
}

export type VoteResult = 'won' | 'lost' | 'pending';

/** Counts only the votes of `voters`; a vote from anyone else does not exist for this quorum. */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const needed = majority(voters.length);
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  if (granted >= needed) return 'won';
  if (rejected > voters.length - needed) return 'lost';
  return 'pending';
}

/** True when the members in `active` (plus `self` if it votes) form a majority of `voters`. */
export function hasQuorum(voters: readonly NodeId[], isActive: (id: NodeId) => boolean): boolean {
  let active = 0;
  for (const id of voters) if (isActive(id)) active++;
  return voters.length > 0 && active >= majority(voters.length);
}
