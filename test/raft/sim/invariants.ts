// The safety properties of Raft (paper, Figure 3) and of our driver contract, checked from the
// outside with the simulator's own bookkeeping: nothing here trusts the core's view of itself.
import { majority } from '../../../src/raft/core/quorum.js';
import type { NodeId } from '../../../src/raft/core/index.js';

export class Violation extends Error {
  constructor(
    readonly property: string,
    detail: string,
  ) {
    super(`${property}: ${detail}`);
    this.name = 'Violation';
  }
}

const TERM_SPACE = 1_000_000;

export class Invariants {
  /** (index, term) -> hash of the whole history up to it, from its first durable copy. */
  private readonly chains = new Map<number, number>();
  /** index -> term of the entry committed there (whoever committed it). */
  private readonly committed = new Map<number, number>();
  /**
   * observer's term -> highest index a member in that term knew committed. An entry known
   * committed by a member of term t was committed in a term <= t, so every leader of a term
   * above t must hold it; a (stale) leader of a lower term need not (paper, 5.4.3).
   */
  private readonly maxCommittedSeenInTerm = new Map<number, number>();
  /** index -> state machine digest after applying it. */
  private readonly digests = new Map<number, number>();
  private readonly leaders = new Map<number, NodeId>();
  /** Highest index of a proposal reported committed to its client. */
  maxAcked = 0;

  /** Log matching: two logs holding an entry with the same index and term agree on everything before it. */
  durableEntry(node: NodeId, index: number, term: number, chain: number): void {
    const key = index * TERM_SPACE + term;
    const known = this.chains.get(key);
    if (known === undefined) this.chains.set(key, chain);
    else if (known !== chain) throw new Violation('log matching', `node ${node} holds ${term}/${index} with a history that differs from another member's`);
  }

  chainOf(index: number, term: number): number | undefined {
    return this.chains.get(index * TERM_SPACE + term);
  }

  /** Commit safety: once an index is committed with a term, no member commits another entry there. */
  commit(node: NodeId, index: number, term: number, observerTerm: number): void {
    if (index > (this.maxCommittedSeenInTerm.get(observerTerm) ?? 0)) this.maxCommittedSeenInTerm.set(observerTerm, index);
    const known = this.committed.get(index);
    if (known === undefined) {
      this.committed.set(index, term);
    } else if (known !== term) {
      throw new Violation('state machine safety', `node ${node} committed ${term}/${index} but ${known}/${index} was committed before`);
    }
  }

  committedTerm(index: number): number | undefined {
    return this.committed.get(index);
  }

  /** State machine safety: every member has the same state after applying the same index. */
  applied(node: NodeId, index: number, digest: number): void {
    const known = this.digests.get(index);
    if (known === undefined) this.digests.set(index, digest);
    else if (known !== digest) throw new Violation('state machine safety', `node ${node} applied a different state machine history at index ${index}`);
  }

  /** Election safety: at most one leader per term. */
  leader(node: NodeId, term: number): void {
    const known = this.leaders.get(term);
    if (known === undefined) this.leaders.set(term, node);
    else if (known !== node) throw new Violation('election safety', `nodes ${known} and ${node} were both leader in term ${term}`);
  }

  /**
   * Leader completeness: a new leader's log holds every committed entry (and so every proposal
   * reported committed). `termAt` gives the leader's term at an index, null if compacted into
   * its snapshot, undefined if beyond its log.
   */
  leaderCompleteness(node: NodeId, term: number, termAt: (index: number) => number | null | undefined): void {
    let index = 0;
    for (const [seenInTerm, max] of this.maxCommittedSeenInTerm) if (seenInTerm < term && max > index) index = max;
    if (index === 0) return;
    const have = termAt(index);
    if (have === null) return; // inside the leader's snapshot: its digest was checked on install
    const want = this.committed.get(index)!;
    if (have !== want) {
      throw new Violation('leader completeness', `node ${node}, leader of term ${term}, has ${have === undefined ? 'no entry' : `term ${have}`} at committed index ${index} (committed term ${want})`);
    }
  }

  /** Commit counted over the right configuration: a majority of its voters durably hold the entry. */
  commitQuorum(leader: NodeId, index: number, term: number, voters: readonly NodeId[], durableChain: (voter: NodeId, index: number) => number | undefined): void {
    const chain = this.chainOf(index, term);
    if (chain === undefined) throw new Violation('commit quorum', `leader ${leader} committed ${term}/${index}, which no member holds durably`);
    let holders = 0;
    for (const v of voters) if (durableChain(v, index) === chain) holders++;
    if (holders < majority(voters.length)) {
      throw new Violation('commit quorum', `leader ${leader} committed ${term}/${index} held durably by ${holders} of voters (${voters.join(' ')})`);
    }
  }

  /**
   * The leader commit rule (5.4.2, Figure 8): a leader advances its commit index only to an
   * entry of its own term; earlier entries are committed indirectly with it.
   */
  leaderCommitRule(leader: NodeId, leaderTerm: number, index: number, entryTerm: number): void {
    if (entryTerm !== leaderTerm) throw new Violation('leader commit rule', `leader ${leader} of term ${leaderTerm} advanced its commit index to ${index}, an entry of term ${entryTerm}`);
  }

  /** One configuration change at a time: a leader's log holds at most one uncommitted one. */
  pendingConfChanges(leader: NodeId, count: number): void {
    if (count > 1) throw new Violation('one pending configuration change', `leader ${leader} has ${count} uncommitted configuration changes`);
  }

  /** Linearizable reads: a read index covers every write acknowledged before the read began. */
  read(node: NodeId, context: string, index: number, ackedBeforeInvoke: number): void {
    if (index < ackedBeforeInvoke) {
      throw new Violation('linearizable read', `node ${node} answered read ${context} at index ${index}, but index ${ackedBeforeInvoke} was acknowledged before the read began`);
    }
  }
}
