// The memo of search configurations already explored (Lowe's cache; Porcupine's too): a
// configuration is (which operations are linearized, model state). Two equal configurations
// have the same futures, so the second visit is pruned.
//
// We prune one step further for indeterminate operations (return = +Infinity). Such an
// operation precedes nothing and the model accepts it in every state, so it can always be put
// last. Hence (L, s) can do everything (L + some indeterminate ops, s) can: the linearized
// indeterminate ops of the latter could as well be moved to the end. So a configuration is
// pruned when one with the same determinate ops and state and a *subset* of its indeterminate
// ops was seen. Without this, k pending :info writes make 2^k configurations per point.

interface Bucket<S> {
  /** Offset of the determinate set's words in the arena. */
  readonly determinate: number;
  readonly state: S;
  /** Arena offsets of the indeterminate sets seen with this (determinate set, state); an antichain. */
  readonly indeterminateSets: number[];
}

/** What one configuration costs besides its sets: map and bucket entries, array slots. */
const ENTRY_OVERHEAD_BYTES = 96;
/** Initial arena size in words; it doubles as needed. */
const ARENA_WORDS_INITIAL = 1 << 12;

export class LinearizationMemo<S> {
  /** By state hash (a string, whose hash V8 caches), then by a hash of the determinate set. */
  private readonly buckets = new Map<string, Map<number, Bucket<S>[]>>();
  private entries = 0;
  /**
   * Every stored set's words, back to back: one typed array instead of millions of small ones
   * keeps the garbage collector out of the search.
   */
  private arena = new Uint32Array(ARENA_WORDS_INITIAL);
  private arenaUsed = 0;
  private readonly determinateWords: number;
  private readonly indeterminateWords: number;

  constructor(
    private readonly equal: (a: S, b: S) => boolean,
    determinateCount: number,
    indeterminateCount: number,
  ) {
    this.determinateWords = Math.ceil(determinateCount / 32);
    this.indeterminateWords = Math.ceil(indeterminateCount / 32);
  }

  /** An estimate of the memory held, for the search's memory limit. */
  get approximateBytes(): number {
    return this.arena.byteLength + this.entries * ENTRY_OVERHEAD_BYTES;
  }

  /**
   * Records a configuration. Returns false when it, or one that dominates it, was seen before:
   * the caller then skips it.
   */
  visit(stateHash: string, state: S, determinateHash: number, determinate: Uint32Array, indeterminate: Uint32Array): boolean {
    let byDeterminate = this.buckets.get(stateHash);
    if (!byDeterminate) {
      byDeterminate = new Map();
      this.buckets.set(stateHash, byDeterminate);
    }
    let candidates = byDeterminate.get(determinateHash);
    if (!candidates) {
      candidates = [];
      byDeterminate.set(determinateHash, candidates);
    }
    const bucket = candidates.find((b) => this.storedEquals(b.determinate, determinate) && this.equal(b.state, state));
    if (!bucket) {
      candidates.push({ determinate: this.store(determinate), state, indeterminateSets: [this.store(indeterminate)] });
      this.entries++;
      return true;
    }
    const sets = bucket.indeterminateSets;
    for (const seen of sets) if (this.storedIsSubsetOf(seen, indeterminate)) return false;
    // The new set dominates any seen superset of it: drop those to keep the scan short.
    for (let i = sets.length - 1; i >= 0; i--) {
      if (this.isSubsetOfStored(indeterminate, sets[i])) {
        sets[i] = sets[sets.length - 1];
        sets.pop();
        this.entries--;
      }
    }
    sets.push(this.store(indeterminate));
    this.entries++;
    return true;
  }

  private store(words: Uint32Array): number {
    if (this.arenaUsed + words.length > this.arena.length) {
      const grown = new Uint32Array(Math.max(this.arena.length * 2, this.arenaUsed + words.length));
      grown.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = grown;
    }
    const offset = this.arenaUsed;
    this.arena.set(words, offset);
    this.arenaUsed += words.length;
    return offset;
  }

  private storedEquals(offset: number, words: Uint32Array): boolean {
    const arena = this.arena;
    for (let i = 0; i < this.determinateWords; i++) if (arena[offset + i] !== words[i]) return false;
    return true;
  }

  private storedIsSubsetOf(offset: number, words: Uint32Array): boolean {
    const arena = this.arena;
    for (let i = 0; i < this.indeterminateWords; i++) if ((arena[offset + i] & ~words[i]) !== 0) return false;
    return true;
  }

  private isSubsetOfStored(words: Uint32Array, offset: number): boolean {
    const arena = this.arena;
    for (let i = 0; i < this.indeterminateWords; i++) if ((words[i] & ~arena[offset + i]) !== 0) return false;
    return true;
  }
}
