// The non-deterministic inputs of a command, resolved once on the proposer (ARCHITECTURE.md, "A
// change of state flows one way"): the time and random bytes. Services take them injected, so
// tests pin them and every member applies the same bytes.

import { randomBytes } from 'node:crypto';
import { randomAlnum } from '../model/index.js';

export interface Clock {
  /** Wall-clock time, unix milliseconds. */
  nowMs(): number;
}

export interface RandomSource {
  /** `length` uniformly random bytes. */
  bytes(length: number): Uint8Array;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

export const cryptoRandom: RandomSource = { bytes: (length) => randomBytes(length) };

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
