// What the leader knows of each member's log (Raft paper, 5.3: nextIndex and matchIndex),
// and how it paces appends to it:
// - probe: one append at a time until the follower's match is found;
// - replicate: appends pipelined optimistically, bounded by the in-flight window;
// - snapshot: the follower needs a snapshot; nothing else is sent until it reports back.
import { assert } from '../../util/assert.js';
import { Inflights } from './inflights.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from within the current election timeout (check-quorum). */
  recentActive = false;
  /** In probe state: an append is out and unanswered. */
  probeSent = false;
  /** The highest commit index this member was told (and can act on). */
  sentCommit = 0;
  readonly inflights: Inflights;

  constructor(next: number, maxInflightMsgs: number, maxInflightBytes: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  becomeProbe(): void {
    // After a snapshot, the follower holds at least the snapshot: probe right after it.
    this.next = this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.resetState('probe');
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.resetState('replicate');
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** An acknowledgement up to `index`; false when it tells nothing new (stale or duplicate). */
  maybeUpdate(index: number): boolean {
    const updated = this.match < index;
    if (updated) {
      this.match = index;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of the append after `rejected`; `matchHint` is the follower's guess of the last
   * index where our logs may agree. False when the rejection is stale and must be ignored.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe state only the rejection of the append we sent last counts.
    if (this.next - 1 !== rejected) return false;
    if (matchHint < this.match) {
      // The follower no longer holds entries it acknowledged: its disk lost them (power loss on a
      // disk that lied about fsync, or an operator's cut). Raft assumes this never happens; the
      // leader recovers by forgetting the match instead of probing above the follower's log
      // forever. A lower match only makes the commit count more conservative.
      this.match = 0;
    }
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Bookkeeping after sending an append of `count` entries (`sizeBytes` in all). */
  sentEntries(count: number, sizeBytes: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next += count;
        this.inflights.add(this.next - 1, sizeBytes);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    } else {
      assert(false, 'sent entries to a member in snapshot state');
    }
  }

  /** Whether an (empty) append would tell this member of a commit index it has not heard of. */
  canBumpCommit(committed: number): boolean {
    return this.sentCommit < Math.min(committed, this.next - 1);
  }

  /** Whether appends to this member are out and unacknowledged (its ack will bring a send). */
  hasAppendsInFlight(): boolean {
    return this.state === 'replicate' && this.inflights.size > 0;
  }

  /** Records that an append or heartbeat told this member `commit` (it commits no further than its log). */
  sentCommitTo(commit: number): void {
    this.sentCommit = Math.max(this.sentCommit, commit);
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }
}
