// Which segment files of the Raft log still hold something a restart needs, so that the log
// store can delete whole old segments after a compaction or a snapshot install.
//
// A segment is needed while it holds (a) a live entry above the snapshot index, (b) the latest
// hard state record, or (c) the latest snapshot (install or compaction) record. For (a) each
// segment keeps the highest index of the entries written there that are still live: writing an
// entry at index i replaces every stored entry >= i (a leader's overwrite), so every segment's
// bound drops to at most i - 1; installing a snapshot replaces the whole log, so every bound drops
// to 0. Compaction does not change the bounds: a segment is obsolete once its bound is <= the
// snapshot index. Bounds only ever err high (kept too long), never low (deleted too early).
//
// Deletion is by prefix (SegmentLog.deleteSegmentsBefore): the oldest segments up to the first
// one still needed. A replay that starts after deleted segments still sees every entry above the
// snapshot index and the latest hard state and snapshot records (log-replay.ts relies on this).

export class SegmentLiveness {
  /** segment -> highest live entry index written in it (0: none). Insertion order = segment order. */
  readonly #liveMaxIndex = new Map<number, number>();
  /** Segment of the latest hard state record, or null when none was ever written. */
  #hardStateSegment: number | null = null;
  /** Segment of the snapshot record in effect (install or compaction), or null when none. */
  #snapshotSegment: number | null = null;

  /** Entries up to lastIndex were written into `segment` (after truncate() for an overwrite). */
  entriesWritten(segment: number, lastIndex: number): void {
    const current = this.#liveMaxIndex.get(segment) ?? 0;
    this.#liveMaxIndex.set(segment, Math.max(current, lastIndex));
  }

  /** Every stored entry above `index` was replaced. */
  truncate(index: number): void {
    for (const [segment, liveMax] of this.#liveMaxIndex) {
      if (liveMax > index) this.#liveMaxIndex.set(segment, index);
    }
  }

  /** A snapshot install replaced the whole log. */
  installed(segment: number): void {
    this.truncate(0);
    this.snapshotWritten(segment);
  }

  snapshotWritten(segment: number): void {
    this.#snapshotSegment = segment;
  }

  hardStateWritten(segment: number): void {
    this.#hardStateSegment = segment;
  }

  /**
   * The segment to pass to deleteSegmentsBefore: the first of `segments` (ascending, as listed by
   * the segment log; the last one is the current segment and is never deleted) that is still
   * needed with the snapshot at `snapshotIndex`.
   */
  firstNeededSegment(segments: readonly number[], snapshotIndex: number): number {
    const pinned = Math.min(this.#hardStateSegment ?? Infinity, this.#snapshotSegment ?? Infinity);
    for (let i = 0; i < segments.length - 1; i++) {
      const segment = segments[i];
      if (segment >= pinned || (this.#liveMaxIndex.get(segment) ?? 0) > snapshotIndex) return segment;
    }
    return segments[segments.length - 1];
  }

  forget(deleted: readonly number[]): void {
    for (const segment of deleted) this.#liveMaxIndex.delete(segment);
  }

  /** For tests and logs. */
  describe(): { segment: number; liveMaxIndex: number }[] {
    return [...this.#liveMaxIndex].map(([segment, liveMaxIndex]) => ({ segment, liveMaxIndex }));
  }
}
