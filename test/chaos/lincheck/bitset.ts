// A fixed-size set of small integers (operation indices), the "which operations are already
// linearized" half of a search configuration. Words are 32 bits so copies are cheap to store.

export class Bitset {
  readonly words: Uint32Array;

  constructor(readonly size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32));
  }

  add(index: number): void {
    this.words[index >>> 5] |= 1 << (index & 31);
  }

  delete(index: number): void {
    this.words[index >>> 5] &= ~(1 << (index & 31));
  }

  has(index: number): boolean {
    return (this.words[index >>> 5] & (1 << (index & 31))) !== 0;
  }

  /** A frozen copy of the words, for the memo cache. */
  snapshot(): Uint32Array {
    return this.words.slice();
  }
}
