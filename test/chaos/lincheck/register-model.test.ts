import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { check } from './check.js';
import { registerModel } from './models/register-model.js';
import { LOST, cas, read, write, type RegisterOp } from './register-history-builder.js';

const verdictOf = (history: RegisterOp[]): string => check(registerModel, history, { timeoutMs: 5_000 }).verdict;

// node:test owns and awaits the suite's promise; `void` says so to the floating-promise rule.
void describe('register model: histories that must be rejected', () => {
  void it('rejects a stale read after a newer write completed', () => {
    assert.equal(verdictOf([write(0, 0, 1, 1), write(1, 2, 3, 2), read(2, 4, 5, 1)]), 'not-linearizable');
  });

  void it('rejects a lost acknowledged write (a later read sees the initial nil)', () => {
    assert.equal(verdictOf([write(0, 0, 1, 1), read(1, 2, 3, null)]), 'not-linearizable');
  });

  void it('rejects a read of a value that was never written', () => {
    assert.equal(verdictOf([write(0, 0, 1, 1), write(1, 2, 6, 2), read(2, 3, 4, 7)]), 'not-linearizable');
  });

  void it('rejects reads going back in time (the second of two sequential reads returns the older value)', () => {
    // The write is concurrent with both reads, so either value alone is fine; both in this order is not.
    assert.equal(verdictOf([write(0, 0, 1, 1), write(1, 2, 10, 2), read(2, 3, 4, 2), read(2, 5, 6, 1)]), 'not-linearizable');
  });

  void it('rejects a cas that succeeded on a value that was not there', () => {
    assert.equal(verdictOf([write(0, 0, 1, 1), cas(1, 2, 3, 2, 3)]), 'not-linearizable');
  });

  void it('rejects a failed cas when the expected value was certainly there', () => {
    assert.equal(verdictOf([write(0, 0, 1, 1), cas(1, 2, 3, 1, 3, false)]), 'not-linearizable');
  });

  void it('rejects an indeterminate write that is seen and then unseen', () => {
    assert.equal(verdictOf([write(0, 0, 1, 1), write(1, 2, LOST, 2), read(2, 3, 4, 2), read(2, 5, 6, 1)]), 'not-linearizable');
  });

  void it('rejects a read of an indeterminate write from before that write was called', () => {
    assert.equal(verdictOf([read(0, 0, 1, 5), write(1, 2, LOST, 5)]), 'not-linearizable');
  });
});

void describe('register model: histories that must be accepted', () => {
  void it('accepts concurrent overlapping writes in either order', () => {
    const writes = [write(0, 0, 5, 1), write(1, 1, 6, 2)];
    assert.equal(verdictOf([...writes, read(2, 7, 8, 1)]), 'linearizable');
    assert.equal(verdictOf([...writes, read(2, 7, 8, 2)]), 'linearizable');
  });

  void it('accepts an indeterminate write that took effect', () => {
    assert.equal(verdictOf([write(0, 0, 1, 1), write(1, 2, LOST, 2), read(2, 5, 6, 2)]), 'linearizable');
  });

  void it('accepts an indeterminate write that did not take effect', () => {
    assert.equal(verdictOf([write(0, 0, 1, 1), write(1, 2, LOST, 2), read(2, 5, 6, 1)]), 'linearizable');
  });

  void it('accepts an indeterminate write that took effect long after its call', () => {
    assert.equal(verdictOf([write(1, 0, LOST, 2), read(2, 5, 6, null), read(2, 7, 8, null), read(3, 9, 10, 2)]), 'linearizable');
  });

  void it('accepts an indeterminate cas either way', () => {
    const base = [write(0, 0, 1, 1), cas(1, 2, LOST, 1, 3)];
    assert.equal(verdictOf([...base, read(2, 4, 5, 3)]), 'linearizable');
    assert.equal(verdictOf([...base, read(2, 4, 5, 1)]), 'linearizable');
  });

  void it('accepts a read concurrent with a write seeing either value', () => {
    const base = [write(0, 0, 1, 1), write(1, 2, 5, 2)];
    assert.equal(verdictOf([...base, read(2, 3, 4, 1)]), 'linearizable');
    assert.equal(verdictOf([...base, read(2, 3, 4, 2)]), 'linearizable');
  });

  void it('accepts nil values: a read of the unwritten register and a cas from nil', () => {
    assert.equal(verdictOf([read(0, 0, 1, null), cas(1, 2, 3, null, 4), read(0, 4, 5, 4)]), 'linearizable');
  });

  void it('treats an operation returning at the instant another is called as concurrent', () => {
    assert.equal(verdictOf([write(0, 0, 3, 1), read(1, 3, 4, null)]), 'linearizable');
  });

  void it('accepts the empty history', () => {
    assert.equal(verdictOf([]), 'linearizable');
  });
});
