// The window of appends sent to one follower and not yet acknowledged, bounded by count and
// bytes, so a slow follower cannot make the leader buffer without limit (flow control).
import { assert } from '../../util/assert.js';

export class Inflights {
  /** Ring buffer of the last index of each in-flight append and its size. */
  private readonly indexes: number[];
  private readonly sizes: number[];
  private start = 0;
  private count = 0;
  private bytes = 0;

  constructor(
    readonly maxMsgs: number,
    readonly maxBytes: number,
  ) {
    assert(maxMsgs > 0, 'maxInflightMsgs must be positive');
    this.indexes = new Array<number>(maxMsgs).fill(0);
    this.sizes = new Array<number>(maxMsgs).fill(0);
  }

  add(lastIndex: number, sizeBytes: number): void {
    assert(!this.full(), 'inflights: add while full');
    const slot = (this.start + this.count) % this.maxMsgs;
    this.indexes[slot] = lastIndex;
    this.sizes[slot] = sizeBytes;
    this.count++;
    this.bytes += sizeBytes;
  }

  /** Frees every append whose last index is <= `index` (acknowledged). */
  freeLE(index: number): void {
    while (this.count > 0 && this.indexes[this.start] <= index) {
      this.bytes -= this.sizes[this.start];
      this.start = (this.start + 1) % this.maxMsgs;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  /** Frees the oldest append: it is presumed lost, so that one more can probe the follower. */
  freeFirstOne(): void {
    if (this.count > 0) this.freeLE(this.indexes[this.start]);
  }

  full(): boolean {
    return this.count === this.maxMsgs || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  get size(): number {
    return this.count;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}
