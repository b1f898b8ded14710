// The per-follower window of unacknowledged appends (flow control): bounded by count and bytes,
// freed in order by acknowledgements.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Inflights } from '../../../src/raft/core/inflights.js';

void describe('Inflights', () => {
  void it('is full after maxMsgs appends, whatever their size', () => {
    const w = new Inflights(3, 0);
    w.add(5, 10);
    w.add(6, 10);
    assert.equal(w.full(), false);
    w.add(7, 10);
    assert.equal(w.full(), true);
    assert.equal(w.size, 3);
  });

  void it('is full once the bytes in flight reach maxBytes, before the count limit', () => {
    const w = new Inflights(10, 100);
    w.add(1, 60);
    assert.equal(w.full(), false);
    w.add(2, 40);
    assert.equal(w.full(), true);
    assert.equal(w.size, 2);
    assert.equal(w.sizeBytes, 100);
  });

  void it('accepts one append larger than maxBytes, then is full', () => {
    const w = new Inflights(10, 100);
    w.add(1, 500);
    assert.equal(w.full(), true);
  });

  void it('treats maxBytes 0 as no byte limit', () => {
    const w = new Inflights(2, 0);
    w.add(1, 1e9);
    assert.equal(w.full(), false);
  });

  void it('refuses an append while full (a caller bug)', () => {
    const w = new Inflights(1, 0);
    w.add(1, 1);
    assert.throws(() => w.add(2, 1), /add while full/);
  });

  void it('frees every append up to and including the acknowledged index, oldest first', () => {
    const w = new Inflights(4, 0);
    w.add(3, 10);
    w.add(5, 20);
    w.add(9, 30);
    w.freeLE(4); // acknowledges the append ending at 3 only
    assert.equal(w.size, 2);
    assert.equal(w.sizeBytes, 50);
    w.freeLE(9);
    assert.equal(w.size, 0);
    assert.equal(w.sizeBytes, 0);
  });

  void it('ignores an acknowledgement below the oldest append (stale)', () => {
    const w = new Inflights(4, 0);
    w.add(10, 10);
    w.freeLE(9);
    assert.equal(w.size, 1);
    w.freeLE(0);
    assert.equal(w.size, 1);
  });

  void it('frees the window again after it is full', () => {
    const w = new Inflights(2, 0);
    w.add(1, 1);
    w.add(2, 1);
    assert.equal(w.full(), true);
    w.freeLE(1);
    assert.equal(w.full(), false);
    w.add(3, 1);
    assert.equal(w.full(), true);
  });

  void it('keeps the order across the end of its ring buffer', () => {
    const w = new Inflights(3, 0);
    for (let i = 1; i <= 3; i++) w.add(i, i);
    w.freeLE(2);
    w.add(4, 4);
    w.add(5, 5); // wraps around
    assert.equal(w.size, 3);
    assert.equal(w.sizeBytes, 3 + 4 + 5);
    w.freeLE(4);
    assert.equal(w.size, 1);
    assert.equal(w.sizeBytes, 5);
    w.add(6, 6);
    w.add(7, 7);
    w.freeLE(6);
    assert.equal(w.size, 1);
    assert.equal(w.sizeBytes, 7);
  });

  void it('frees only the oldest append when asked to presume it lost', () => {
    const w = new Inflights(2, 0);
    w.add(4, 10);
    w.add(6, 20);
    assert.equal(w.full(), true);
    w.freeFirstOne();
    assert.equal(w.full(), false);
    assert.equal(w.size, 1);
    assert.equal(w.sizeBytes, 20);
    w.freeFirstOne();
    w.freeFirstOne(); // empty: nothing to free
    assert.equal(w.size, 0);
  });

  void it('empties on reset', () => {
    const w = new Inflights(2, 10);
    w.add(1, 10);
    w.reset();
    assert.equal(w.size, 0);
    assert.equal(w.sizeBytes, 0);
    assert.equal(w.full(), false);
  });

  void it('needs room for at least one append', () => {
    assert.throws(() => new Inflights(0, 0), /must be positive/);
  });
});
