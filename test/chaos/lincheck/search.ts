// Wing & Gong's search for a linearization, in Lowe's just-in-time form with memoization (the
// algorithm Porcupine implements). It walks the time-ordered event list: at a call it tries to
// linearize that operation next (the model must accept it and the resulting configuration must
// be new); at a return it has passed over an operation that had to be linearized by then, so
// it backtracks. Depth-first; the memo makes it visit each configuration at most once.
//
// The search is resumable (`run(steps)`), so the checker can interleave partitions and stop
// at the first one that fails, wherever it is in the list.

import { assert } from '../../../src/util/assert.js';
import { Bitset } from './bitset.js';
import { buildEventList, lift, unlift, type EventEntry } from './event-list.js';
import { LinearizationMemo } from './linearization-memo.js';
import type { Model } from './model.js';
import { isIndeterminate, isUnknownOutput, type Operation } from './operation.js';

/** The deepest the search got: no ordering of the history gets past `blockedAt`. */
export interface FurthestPoint<S> {
  /** Operation indices, in linearization order, of the longest prefix that reached it. */
  readonly prefix: readonly number[];
  readonly stateAfterPrefix: S;
  /** The operation whose return was reached while it was still not linearized. */
  readonly blockedOpIndex: number;
  readonly blockedAt: number;
}

export type SearchOutcome<S> =
  | { readonly kind: 'linearizable'; readonly order: readonly number[] }
  | { readonly kind: 'not-linearizable'; readonly furthest: FurthestPoint<S> };

interface Frame<S> {
  readonly call: EventEntry;
  readonly stateBefore: S;
  /**
   * Linearized as a read-only operation the model accepted: then putting it next loses no
   * linearization (see `step`), so on backtracking its siblings are not tried.
   */
  readonly forced: boolean;
}

/** A fixed pseudo-random 32-bit number per operation, XORed into a running hash of a set. */
function zobristKeys(count: number): Int32Array {
  const keys = new Int32Array(count);
  let seed = 0x9e3779b9 | 0;
  for (let i = 0; i < count; i++) {
    // xorshift32: deterministic, so runs (and their timings) are reproducible.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    keys[i] = seed;
  }
  return keys;
}

export class LinearizationSearch<I, O, S> {
  private readonly indeterminate: boolean[];
  private readonly readOnly: boolean[];
  /** Each operation's bit in the determinate or the indeterminate set. */
  private readonly slot: number[] = [];
  private readonly determinateSet: Bitset;
  private readonly indeterminateSet: Bitset;
  private readonly zobrist: Int32Array;
  private determinateHash = 0;

  private readonly memo: LinearizationMemo<S>;
  private readonly head: EventEntry;
  private readonly stack: Frame<S>[] = [];
  private state: S;
  private cursor: EventEntry | null;
  private furthest: FurthestPoint<S> | null = null;
  private furthestPosition = -1;
  private outcome: SearchOutcome<S> | null = null;
  private stepsTaken = 0;

  constructor(
    private readonly model: Model<I, O, S>,
    private readonly ops: readonly Operation<I, O>[],
  ) {
    // Determinate and indeterminate operations live in separate sets: the memo treats the
    // latter specially (see linearization-memo.ts).
    this.indeterminate = ops.map((op) => isIndeterminate(op));
    this.readOnly = ops.map((op) => model.isReadOnly?.(op.input) ?? false);
    let determinateCount = 0;
    let indeterminateCount = 0;
    for (const isInfo of this.indeterminate) this.slot.push(isInfo ? indeterminateCount++ : determinateCount++);
    this.determinateSet = new Bitset(determinateCount);
    this.indeterminateSet = new Bitset(indeterminateCount);
    this.zobrist = zobristKeys(ops.length);
    this.memo = new LinearizationMemo<S>((a, b) => model.equal(a, b), determinateCount, indeterminateCount);
    this.head = buildEventList(ops);
    this.state = model.init();
    this.cursor = this.head.next;
  }

  get steps(): number {
    return this.stepsTaken;
  }

  get memoBytes(): number {
    return this.memo.approximateBytes;
  }

  /** Searches for at most `stepsMax` more steps; returns the outcome, or null if not done. */
  run(stepsMax: number): SearchOutcome<S> | null {
    for (let budget = stepsMax; this.outcome === null && budget > 0; budget--) {
      this.stepsTaken++;
      this.step();
    }
    return this.outcome;
  }

  private step(): void {
    const entry = this.cursor;
    if (entry === null) {
      this.outcome = { kind: 'linearizable', order: this.order() };
      return;
    }
    if (entry.isCall) {
      this.tryLinearize(entry);
      return;
    }
    if (this.indeterminate[entry.opIndex]) {
      this.finishWithIndeterminateOnly();
      return;
    }
    // The return of an operation not linearized yet: every ordering with this prefix fails.
    if (entry.position > this.furthestPosition || (entry.position === this.furthestPosition && this.stack.length > this.furthest!.prefix.length)) {
      this.furthestPosition = entry.position;
      this.furthest = { prefix: this.order(), stateAfterPrefix: this.state, blockedOpIndex: entry.opIndex, blockedAt: entry.time };
    }
    this.backtrack();
  }

  private tryLinearize(call: EventEntry): void {
    const op = this.ops[call.opIndex];
    const result = this.model.step(this.state, op.input, op.output);
    assert(result.ok || !isUnknownOutput(op.output), () => `model ${this.model.name} rejected an unknown output`);
    // A read-only operation the model accepts now may as well go now: in any linearization
    // that places it later, moving it here changes no state, and everything that must precede
    // it is linearized already (else the cursor would have met a return first). Not so for an
    // indeterminate one: the memo prunes it against the very configuration it would leave
    // (see linearization-memo.ts), and forcing it would then abandon this configuration.
    const forced = result.ok && this.readOnly[call.opIndex] && !this.indeterminate[call.opIndex];
    if (result.ok) {
      this.mark(call.opIndex, true);
      if (this.memo.visit(this.model.hash(result.state), result.state, this.determinateHash, this.determinateSet.words, this.indeterminateSet.words)) {
        this.stack.push({ call, stateBefore: this.state, forced });
        this.state = result.state;
        lift(call);
        this.cursor = this.head.next;
        return;
      }
      this.mark(call.opIndex, false);
      // Seen before, and it failed: so does this configuration, since that was its best move.
      if (forced) {
        this.backtrack();
        return;
      }
    }
    // A call's return comes after it in the list, so there is always a next entry.
    this.cursor = call.next!;
  }

  /** Undoes the last linearization, and moves on to the next candidate after it. */
  private backtrack(): void {
    for (;;) {
      const frame = this.stack.pop();
      if (!frame) {
        // The first backtrack of a search is always at a return, which sets `furthest`.
        assert(this.furthest !== null, 'search exhausted without reaching any return');
        this.outcome = { kind: 'not-linearizable', furthest: this.furthest };
        return;
      }
      this.state = frame.stateBefore;
      this.mark(frame.call.opIndex, false);
      unlift(frame.call);
      if (!frame.forced) {
        this.cursor = frame.call.next;
        return;
      }
    }
  }

  /**
   * Returns at +Infinity sort last, so when the cursor meets one every determinate operation is
   * linearized: the indeterminate ones left never took effect, or took effect last.
   */
  private finishWithIndeterminateOnly(): void {
    const rest: number[] = [];
    for (let entry = this.head.next; entry !== null; entry = entry.next) if (entry.isCall) rest.push(entry.opIndex);
    for (const opIndex of rest) {
      const op = this.ops[opIndex];
      const result = this.model.step(this.state, op.input, op.output);
      assert(result.ok, () => `model ${this.model.name} rejected an unknown output`);
      this.state = result.state;
    }
    this.outcome = { kind: 'linearizable', order: [...this.order(), ...rest] };
  }

  private mark(opIndex: number, linearized: boolean): void {
    const slot = this.slot[opIndex];
    if (this.indeterminate[opIndex]) {
      if (linearized) this.indeterminateSet.add(slot);
      else this.indeterminateSet.delete(slot);
      return;
    }
    if (linearized) this.determinateSet.add(slot);
    else this.determinateSet.delete(slot);
    this.determinateHash ^= this.zobrist[opIndex];
  }

  private order(): number[] {
    return this.stack.map((frame) => frame.call.opIndex);
  }
}
