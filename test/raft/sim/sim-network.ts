// The simulated network: each message is lost, delivered once, or duplicated, after a delay
// drawn from the seed; partitions block directed links, so symmetric and one-way cuts are both
// possible. Long delays reorder messages.
import type { SeededRandom } from '../../../src/raft/core/index.js';

export interface NetworkConditions {
  lossRate: number;
  duplicateRate: number;
  /** Share of messages held back for a long time (reordering). */
  longDelayRate: number;
}

export const CALM: NetworkConditions = Object.freeze({ lossRate: 0, duplicateRate: 0, longDelayRate: 0 });

export class SimNetwork {
  conditions: NetworkConditions = { ...CALM };
  private readonly blocked = new Set<number>();

  constructor(
    private readonly random: SeededRandom,
    readonly baseDelayMs: number,
  ) {}

  block(from: number, to: number): void {
    this.blocked.add(from * 65536 + to);
  }

  isBlocked(from: number, to: number): boolean {
    return this.blocked.has(from * 65536 + to);
  }

  get partitioned(): boolean {
    return this.blocked.size > 0;
  }

  heal(): void {
    this.blocked.clear();
  }

  /** When each copy of a message from -> to arrives, relative to now: none if it is lost. */
  deliveryDelays(from: number, to: number): number[] {
    if (this.isBlocked(from, to)) return [];
    const c = this.conditions;
    if (c.lossRate > 0 && this.random.nextFloat() < c.lossRate) return [];
    const delays = [this.delay()];
    if (c.duplicateRate > 0 && this.random.nextFloat() < c.duplicateRate) delays.push(this.delay());
    return delays;
  }

  private delay(): number {
    const base = this.baseDelayMs * (0.5 + this.random.nextFloat());
    if (this.conditions.longDelayRate > 0 && this.random.nextFloat() < this.conditions.longDelayRate) {
      return base + this.random.nextInt(60 * this.baseDelayMs);
    }
    return base;
  }
}
