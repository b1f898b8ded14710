// readAhead: the next item is requested while the consumer holds the current one, at most one
// ahead, and leaving early closes the source only once its step in flight settled.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readAhead } from '../../src/util/read-ahead.js';

/** A source that records requests and forbids overlapping steps, as StateIterator does. */
function source(items: number, failAt = -1): { iterable: AsyncIterable<number>; log: string[] } {
  const log: string[] = [];
  let i = 0;
  let stepping = false;
  const iterator: AsyncIterator<number> = {
    next: async () => {
      assert.ok(!stepping, 'overlapping steps');
      stepping = true;
      log.push(`next ${i}`);
      await new Promise((r) => setImmediate(r));
      stepping = false;
      if (i === failAt) throw new Error(`fail at ${i}`);
      return i < items ? { done: false, value: i++ } : { done: true, value: undefined };
    },
    return: () => {
      assert.ok(!stepping, 'return during a step');
      log.push('return');
      return Promise.resolve({ done: true, value: undefined });
    },
  };
  return { iterable: { [Symbol.asyncIterator]: () => iterator }, log };
}

void describe('readAhead', () => {
  void it('yields every item in order, having asked for the next one before the consumer is done', async () => {
    const { iterable, log } = source(3);
    const seen: number[] = [];
    for await (const item of readAhead(iterable)) {
      // While the consumer holds item k, the source has been asked for item k + 1.
      assert.equal(log.at(-1), `next ${item + 1}`);
      seen.push(item);
    }
    assert.deepEqual(seen, [0, 1, 2]);
    assert.deepEqual(log, ['next 0', 'next 1', 'next 2', 'next 3']);
  });

  void it('on break, waits for the step in flight, then closes the source', async () => {
    const { iterable, log } = source(10);
    for await (const item of readAhead(iterable)) if (item === 1) break;
    assert.deepEqual(log, ['next 0', 'next 1', 'next 2', 'return']);
  });

  void it('passes a source failure on, without closing the failed source', async () => {
    const { iterable, log } = source(10, 2);
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const item of readAhead(iterable)) seen.push(item);
      })(),
      /fail at 2/,
    );
    assert.deepEqual(seen, [0, 1]);
    assert.ok(!log.includes('return'));
  });

  void it('a failure of the step fetched ahead is not unhandled when the consumer leaves first', async () => {
    const { iterable } = source(10, 1);
    let unhandled = 0;
    const count = (): void => void unhandled++;
    process.on('unhandledRejection', count);
    try {
      for await (const item of readAhead(iterable)) {
        assert.equal(item, 0);
        await new Promise((r) => setTimeout(r, 5)); // the step ahead fails meanwhile
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
      assert.equal(unhandled, 0);
    } finally {
      process.off('unhandledRejection', count);
    }
  });
});
