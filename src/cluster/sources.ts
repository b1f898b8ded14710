// The non-deterministic inputs of a command, resolved once on the proposer (ARCHITECTURE.md, "A
// change of state flows one way"): the time and random bytes. Services take them injected, so
// tests pin them and every member applies the same bytes.

import { randomBytes, randomFillSync } from 'node:crypto';
import { randomAlnum } from '../model/index.js';

export interface Clock {
  /** Wall-clock time, unix milliseconds: what is stored and shown; an NTP step moves it. */
  nowMs(): number;
  /**
   * Monotonic milliseconds of this process (CLOCK_MONOTONIC through performance.now()), which a
   * wall-clock step does not move. For ages and timeouts measured on this member only (node
   * liveness); never stored, replicated or compared across members or restarts.
   */
  monoMs(): number;
}

export interface RandomSource {
  /** `length` uniformly random bytes. */
  bytes(length: number): Uint8Array;
}

export const systemClock: Clock = { nowMs: () => Date.now(), monoMs: () => performance.now() };

/**
 * Cryptographic random bytes, drawn from a pool refilled 64 KiB at a time: one randomFillSync per
 * ~700 generated key pairs instead of one call (and one syscall) per key.
 */
class PooledCryptoRandom implements RandomSource {
  private readonly pool = Buffer.alloc(64 * 1024);
  private used = this.pool.length;

  bytes(length: number): Uint8Array {
    if (length > this.pool.length) return randomBytes(length);
    if (this.used + length > this.pool.length) {
      randomFillSync(this.pool);
      this.used = 0;
    }
    // A copy: the caller may keep it, and the pool's bytes are never handed out twice.
    const out = Uint8Array.prototype.slice.call(this.pool, this.used, this.used + length);
    this.used += length;
    return out;
  }
}

export const cryptoRandom: RandomSource = new PooledCryptoRandom();

/**
 * A random alphanumeric key (generated AK/SK, spec 1.3) through the model's `randomAlnum`, fed
 * from `random` in blocks. randomAlnum skips bytes >= 248, so one block of 2 x length bytes is
 * nearly always enough; a further block is drawn when it is not.
 */
export function randomKey(random: RandomSource, length: number): string {
  let block = random.bytes(length * 2);
  let next = 0;
  return randomAlnum(length, () => {
    if (next >= block.length) {
      block = random.bytes(length);
      next = 0;
    }
    return block[next++];
  });
}

export function nowUnixSec(clock: Clock): number {
  return Math.floor(clock.nowMs() / 1000);
}
