// The replicated log as one member sees it: the durable part (storage) followed by the unstable
// tail, with the commit and apply positions (Raft paper, 5.3).
import { assert } from '../../util/assert.js';
import { CompactedError, entrySizeBytes, limitSize, UnavailableError, type RaftStorage } from './storage.js';
import type { Entry, SnapshotMeta } from './types.js';
import { Unstable } from './unstable.js';

export class RaftLog {
  readonly unstable: Unstable;
  /** Highest index known to be committed. */
  committed: number;
  /** Highest index handed to the driver to apply. */
  applying: number;
  /** Highest index the driver confirmed applied. */
  applied: number;

  constructor(
    readonly storage: RaftStorage,
    /** Bound on the committed entries one Ready hands out (memory of the apply batch). */
    readonly maxApplyingBytes: number,
  ) {
    const firstIndex = storage.firstIndex();
    this.unstable = new Unstable(storage.lastIndex() + 1);
    this.committed = firstIndex - 1;
    this.applying = firstIndex - 1;
    this.applied = firstIndex - 1;
  }

  firstIndex(): number {
    const snapshot = this.unstable.snapshot;
    return snapshot !== null ? snapshot.index + 1 : this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.lastIndex() ?? this.storage.lastIndex();
  }

  /** The last index that is durable and still part of this log (the leader's own "match"). */
  persistedIndex(): number {
    if (this.unstable.snapshot !== null) return 0;
    return this.unstable.offset - 1;
  }

  /** Term at `index`; throws CompactedError below the first index - 1, UnavailableError past the last. */
  term(index: number): number {
    const fromUnstable = this.unstable.term(index);
    if (fromUnstable !== null) return fromUnstable;
    if (index < this.firstIndex() - 1) throw new CompactedError(index);
    if (index > this.lastIndex()) throw new UnavailableError(index);
    return this.storage.term(index);
  }

  /**
   * Term at `index`, or 0 when it is compacted or beyond the log. Checked without throwing: a
   * follower asks this for every new entry of every append (findConflict), and building an
   * Error with its stack each time cost followers 2% of their CPU under load (bench:profile).
   */
  termOrZero(index: number): number {
    const fromUnstable = this.unstable.term(index);
    if (fromUnstable !== null) return fromUnstable;
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return 0;
    return this.storage.term(index);
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  matchTerm(index: number, term: number): boolean {
    return this.termOrZero(index) === term && (term !== 0 || index === 0 || index === this.firstIndex() - 1);
  }

  /**
   * Election restriction (5.4.1): a log ending with (lastIndex, lastTerm) is at least as
   * up-to-date as ours.
   */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Handles a leader's append after (index, logTerm) (5.3): if our log holds that entry, the
   * entries are merged (a conflicting suffix truncated) and the commit index advances up to the
   * last entry this append proves we share. Returns that last index and the entries actually
   * written (none when we held them all), or null on mismatch.
   */
  maybeAppend(index: number, logTerm: number, leaderCommit: number, entries: readonly Entry[]): { lastNewIndex: number; written: readonly Entry[] } | null {
    if (!this.matchTerm(index, logTerm)) return null;
    const lastNewIndex = index + entries.length;
    const conflict = this.findConflict(entries);
    let written: readonly Entry[] = [];
    if (conflict !== 0) {
      assert(conflict > this.committed, () => `conflict at ${conflict} within committed ${this.committed}`);
      written = entries.slice(conflict - (index + 1));
      this.append(written);
    }
    this.commitTo(Math.min(leaderCommit, this.commitBoundAfterAppend(lastNewIndex)));
    return { lastNewIndex, written };
  }

  /** How far a follower may commit after an append: only what the append proved we share. */
  protected commitBoundAfterAppend(lastNewIndex: number): number {
    return lastNewIndex;
  }

  /** Appends at the end, or over a conflicting suffix; returns the new last index. */
  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    assert(entries[0].index - 1 >= this.committed, () => `append at ${entries[0].index} would overwrite committed ${this.committed}`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /**
   * The index of the first of `entries` that is not in our log with the same term (a conflict,
   * or simply new), or 0 when we hold them all.
   */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * For a rejected append: the largest index <= `index` whose term is <= `term`, and that term.
   * The leader then probes there, skipping a whole term of conflicting entries at once.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i >= 0; i--) {
      let t: number;
      try {
        t = this.term(i);
      } catch (error) {
        if (error instanceof CompactedError || error instanceof UnavailableError) return { index: i, term: 0 };
        throw error;
      }
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), () => `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /** Commit rule of the leader (5.3, 5.4.2): advance only to an entry of the leader's current term. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.termOrZero(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  /** Entries [lo, hi) from storage and the unstable tail, at most maxSizeBytes (at least one). */
  slice(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    if (lo >= hi) return [];
    const first = this.firstIndex();
    if (lo < first) throw new CompactedError(lo);
    assert(hi <= this.lastIndex() + 1, () => `slice [${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    const offset = this.unstable.offset;
    let result: Entry[] = [];
    if (lo < offset) {
      result = this.storage.entries(lo, Math.min(hi, offset), maxSizeBytes);
      // Storage stopped early because of the size limit: the unstable part is not needed.
      if (result.length < Math.min(hi, offset) - lo) return result;
    }
    if (hi > offset) {
      const tail = this.unstable.slice(Math.max(lo, offset), hi);
      result = result.length === 0 ? tail : result.concat(tail);
    }
    return limitSize(result, maxSizeBytes);
  }

  /** Entries from `lo` to the end, at most maxSizeBytes. */
  entriesFrom(lo: number, maxSizeBytes: number): Entry[] {
    return lo > this.lastIndex() ? [] : this.slice(lo, this.lastIndex() + 1, maxSizeBytes);
  }

  hasNextCommittedEntries(): boolean {
    return this.committed > this.applying && this.unstable.snapshot === null;
  }

  /** The next batch of committed entries to apply, bounded by maxApplyingBytes. */
  nextCommittedEntries(): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    const lo = Math.max(this.applying + 1, this.firstIndex());
    return this.slice(lo, this.committed + 1, this.maxApplyingBytes);
  }

  /**
   * Committed entries not yet handed out that are already in stable storage here (not in the
   * write in flight), bounded by maxApplyingBytes: what the driver may apply before the write
   * in flight finishes. None while a snapshot is pending.
   */
  nextCommittedDurableEntries(): Entry[] {
    if (this.unstable.snapshot !== null) return [];
    const hi = Math.min(this.committed, this.unstable.offset - 1);
    const lo = Math.max(this.applying + 1, this.firstIndex());
    if (hi < lo) return [];
    return this.slice(lo, hi + 1, this.maxApplyingBytes);
  }

  acceptApplying(index: number): void {
    assert(index <= this.committed, () => `applying ${index} beyond committed ${this.committed}`);
    this.applying = Math.max(this.applying, index);
  }

  appliedTo(index: number): void {
    assert(index <= this.committed, () => `applied ${index} beyond committed ${this.committed}`);
    assert(index >= this.applied, () => `applied index moving back from ${this.applied} to ${index}`);
    this.applied = index;
    this.applying = Math.max(this.applying, index);
  }

  /** The snapshot a lagging follower needs: an unstable one, or the stored one. */
  snapshot(): SnapshotMeta {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Replaces the log with a snapshot from the leader (section 7). */
  restore(snapshot: SnapshotMeta): void {
    this.committed = snapshot.index;
    this.unstable.restore(snapshot);
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapshotTo(index: number): void {
    this.unstable.stableSnapshotTo(index);
    // Applying restarts after the snapshot: the state machine now holds everything up to it.
    if (index > this.applied) {
      this.applied = index;
      this.applying = Math.max(this.applying, index);
    }
  }

  payloadSizeBytes(entries: readonly Entry[]): number {
    let size = 0;
    for (const e of entries) size += entrySizeBytes(e);
    return size;
  }
}
