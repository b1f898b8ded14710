// The tail of the log not yet known to be durable: entries (and possibly a snapshot) that were
// appended in memory and either wait for the next Ready or are being written by the driver.
import { assert } from '../../util/assert.js';
import type { Entry, SnapshotMeta } from './types.js';

export class Unstable {
  /** A snapshot received from the leader and not yet persisted. */
  snapshot: SnapshotMeta | null = null;
  /** Whether `snapshot` has been handed to the driver in a Ready. */
  snapshotInProgress = false;
  entries: Entry[] = [];
  /** Index of entries[0]; every index below it is durable (in storage) and matches our log. */
  offset: number;
  /** Index of the first entry not yet handed to the driver. */
  offsetInProgress: number;

  constructor(offset: number) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  lastIndex(): number | null {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === null ? null : this.snapshot.index;
  }

  /** The term at `index` if this tail knows it. */
  term(index: number): number | null {
    if (index < this.offset) {
      return this.snapshot !== null && this.snapshot.index === index ? this.snapshot.term : null;
    }
    const i = index - this.offset;
    return i < this.entries.length ? this.entries[i].term : null;
  }

  /** Entries not yet handed to the driver. */
  nextEntries(): Entry[] {
    const from = this.offsetInProgress - this.offset;
    return from >= this.entries.length ? [] : this.entries.slice(from);
  }

  nextSnapshot(): SnapshotMeta | null {
    return this.snapshotInProgress ? null : this.snapshot;
  }

  /** Everything returned by nextEntries/nextSnapshot is now with the driver. */
  acceptInProgress(): void {
    this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot !== null) this.snapshotInProgress = true;
  }

  /** The driver made entries up to (index, term) durable; drop them unless since overwritten. */
  stableTo(index: number, term: number): void {
    if (this.term(index) !== term || index < this.offset) return;
    const n = index + 1 - this.offset;
    this.entries = n >= this.entries.length ? [] : this.entries.slice(n);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  stableSnapshotTo(index: number): void {
    if (this.snapshot !== null && this.snapshot.index === index) {
      this.snapshot = null;
      this.snapshotInProgress = false;
    }
  }

  restore(snapshot: SnapshotMeta): void {
    this.offset = snapshot.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = snapshot;
    this.snapshotInProgress = false;
  }

  /** Appends `entries`, first dropping any entry at or after entries[0].index (a conflict). */
  truncateAndAppend(entries: readonly Entry[]): void {
    const from = entries[0].index;
    const end = this.offset + this.entries.length;
    if (from === end) {
      for (const e of entries) this.entries.push(e);
    } else if (from <= this.offset) {
      // Replaces the whole tail; the durable log from `from` on is overwritten by the driver.
      this.offset = from;
      this.entries = entries.slice();
    } else {
      assert(from < end, () => `unstable append at ${from} leaves a gap after ${end - 1}`);
      this.entries = this.entries.slice(0, from - this.offset);
      for (const e of entries) this.entries.push(e);
    }
    this.offsetInProgress = Math.min(this.offsetInProgress, from);
  }

  /** Entries [lo, hi) held here; lo must be >= offset. */
  slice(lo: number, hi: number): Entry[] {
    assert(lo >= this.offset && hi <= this.offset + this.entries.length, () => `unstable slice [${lo}, ${hi}) out of [${this.offset}, ${this.offset + this.entries.length})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
