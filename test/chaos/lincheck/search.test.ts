import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bruteForceLinearizable } from './brute-force-oracle.js';
import { check } from './check.js';
import { registerModel, type RegisterValue } from './models/register-model.js';
import { LOST, cas, read, write, type RegisterOp } from './register-history-builder.js';

/** mulberry32: a small seeded generator, so a failing case can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A register history from a simulated run: each operation takes effect at a random instant
 * inside its interval (so the run is linearizable), some answers are lost (and their effect
 * dropped half the time), and some answers are then corrupted to make violations likely.
 */
function randomHistory(random: () => number, size: number): RegisterOp[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const values: RegisterValue[] = [null, 1, 2, 3];
  const planned = Array.from({ length: size }, (_, i) => {
    const call = Math.floor(random() * 20);
    const ret = call + 1 + Math.floor(random() * 8);
    return { clientId: i, call, ret, at: call + random() * (ret - call), kind: pick(['read', 'write', 'cas'] as const), lost: random() < 0.25 };
  });
  let register: RegisterValue = null;
  const history: RegisterOp[] = [];
  for (const p of [...planned].sort((a, b) => a.at - b.at)) {
    const ret = p.lost ? LOST : p.ret;
    const happens = !p.lost || random() < 0.5;
    if (p.kind === 'read') {
      history.push(read(p.clientId, p.call, ret, random() < 0.2 ? pick(values) : register));
    } else if (p.kind === 'write') {
      const value = pick(values.slice(1));
      if (happens) register = value;
      history.push(write(p.clientId, p.call, ret, value));
    } else {
      const expected = pick(values);
      const swapped = register === expected;
      if (swapped && happens) register = pick(values.slice(1));
      history.push(cas(p.clientId, p.call, ret, expected, register, random() < 0.2 ? !swapped : swapped));
    }
  }
  return history;
}

void describe('search', () => {
  // LINCHECK_FUZZ_ROUNDS and LINCHECK_FUZZ_SEED run a longer or different campaign by hand.
  const rounds = Number(process.env.LINCHECK_FUZZ_ROUNDS ?? 3000);
  const seed = Number(process.env.LINCHECK_FUZZ_SEED ?? 20_240_501);
  void it(`agrees with a brute-force check on ${rounds} random small register histories (seed ${seed})`, () => {
    const random = prng(seed);
    let violations = 0;
    for (let round = 0; round < rounds; round++) {
      const history = randomHistory(random, 3 + (round % 6));
      const expected = bruteForceLinearizable(registerModel, history) ? 'linearizable' : 'not-linearizable';
      const actual = check(registerModel, history).verdict;
      assert.equal(actual, expected, `round ${round}: ${JSON.stringify(history)}`);
      if (expected === 'not-linearizable') violations++;
    }
    // Both answers must be well represented, or the comparison proves little.
    assert.ok(violations > rounds / 10 && violations < (rounds * 9) / 10, `${violations} violations`);
  });

  void it('answers unknown, quickly, when the step budget runs out', () => {
    const writers = Array.from({ length: 12 }, (_, i) => write(i, 0, 100, i + 1));
    const history = [...writers, read(99, 101, 102, 42)];
    const result = check(registerModel, history, { stepsMax: 1000 });
    assert.equal(result.verdict, 'unknown');
    assert.equal(result.unknownReason, 'step-limit');
    assert.ok(result.steps < 1000 + 5000, `${result.steps} steps`);
  });

  void it('answers unknown when the time budget runs out', () => {
    // 14 concurrent writes of distinct values, then an impossible read: exhausting every
    // order takes about 14 * 2^14 configurations, far more than 1 ms.
    const writers = Array.from({ length: 14 }, (_, i) => write(i, 0, 100, i + 1));
    const result = check(registerModel, [...writers, read(99, 101, 102, 42)], { timeoutMs: 1 });
    assert.equal(result.verdict, 'unknown');
    assert.equal(result.unknownReason, 'timeout');
  });

  void it('answers unknown when the memo grows past its limit', () => {
    const writers = Array.from({ length: 12 }, (_, i) => write(i, 0, 100, i + 1));
    const result = check(registerModel, [...writers, read(99, 101, 102, 42)], { memoBytesMax: 64 * 1024 });
    assert.equal(result.verdict, 'unknown');
    assert.equal(result.unknownReason, 'memo-limit');
  });
});
