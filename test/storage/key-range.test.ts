import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { prefixEnd, resolveRange } from '../../src/storage/key-range.js';
import { AssertionError } from '../../src/util/assert.js';

const hex = (b: Buffer | null): string | null => (b === null ? null : b.toString('hex'));

// node:test owns and awaits the suite's promise; `void` says so to the floating-promise rule.
void describe('key ranges', () => {
  void test('prefixEnd increments the last byte below 0xff and drops the rest', () => {
    assert.equal(hex(prefixEnd(Buffer.from([0x61, 0x62]))), '6163');
    assert.equal(hex(prefixEnd(Buffer.from([0x61, 0xff, 0xff]))), '62');
    assert.equal(prefixEnd(Buffer.from([0xff, 0xff])), null);
  });

  void test('a prefix becomes [prefix, prefixEnd) unless a given bound is tighter', () => {
    const p = Buffer.from('a/');
    assert.deepEqual([hex(resolveRange({ prefix: p }).gte), hex(resolveRange({ prefix: p }).lt)], ['612f', '6130']);
    const tighter = resolveRange({ prefix: p, gte: Buffer.from('a/5'), lt: Buffer.from('a/7') });
    assert.deepEqual([hex(tighter.gte), hex(tighter.lt)], ['612f35', '612f37']);
    const looser = resolveRange({ prefix: p, gte: Buffer.from('a'), lte: Buffer.from('b') });
    assert.deepEqual([hex(looser.gte), hex(looser.lt), looser.lte], ['612f', '6130', null]);
    const exclusive = resolveRange({ prefix: p, gt: Buffer.from('a/1') });
    assert.deepEqual([exclusive.gte, hex(exclusive.gt)], [null, '612f31']);
  });

  void test('refuses contradictory or empty bounds', () => {
    assert.throws(() => resolveRange({ gt: Buffer.from('a'), gte: Buffer.from('a') }), AssertionError);
    assert.throws(() => resolveRange({ lt: Buffer.alloc(0) }), AssertionError);
    assert.throws(() => resolveRange({ limit: -1 }), AssertionError);
  });
});
