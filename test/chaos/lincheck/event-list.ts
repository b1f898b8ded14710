// The history as one time-ordered, doubly linked list of call and return events, as in Lowe's
// "just-in-time linearization" (and Porcupine): linearizing an operation unlinks its two events,
// and backtracking links them back in O(1), so the search never copies the history.

import { assert } from '../../../src/util/assert.js';
import type { Operation } from './operation.js';

export class EventEntry {
  prev: EventEntry | null = null;
  next: EventEntry | null = null;
  /** For a call, its return event; null for a return. */
  match: EventEntry | null = null;

  constructor(
    readonly opIndex: number,
    readonly isCall: boolean,
    readonly time: number,
    /** Rank in time order; the search compares how far it got by this. */
    readonly position: number,
  ) {}
}

/** Builds the list and returns its head sentinel (`head.next` is the earliest event). */
export function buildEventList(ops: readonly Operation<unknown, unknown>[]): EventEntry {
  const events: { opIndex: number; isCall: boolean; time: number }[] = [];
  ops.forEach((op, opIndex) => {
    assert(Number.isFinite(op.call), () => `operation ${opIndex} has no call time`);
    assert(op.call <= op.return, () => `operation ${opIndex} returns (${op.return}) before its call (${op.call})`);
    events.push({ opIndex, isCall: true, time: op.call }, { opIndex, isCall: false, time: op.return });
  });
  // At equal times calls go first: an operation that returns at the instant another is called
  // does not precede it (precedence needs return < call), so they must be treated as concurrent.
  events.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.opIndex - b.opIndex);

  const head = new EventEntry(-1, false, Number.NEGATIVE_INFINITY, -1);
  const callOf = new Map<number, EventEntry>();
  let tail = head;
  events.forEach((event, position) => {
    const entry = new EventEntry(event.opIndex, event.isCall, event.time, position);
    entry.prev = tail;
    tail.next = entry;
    tail = entry;
    if (event.isCall) callOf.set(event.opIndex, entry);
    else callOf.get(event.opIndex)!.match = entry;
  });
  return head;
}

/** Unlinks an operation's call and return (it has just been linearized). */
export function lift(call: EventEntry): void {
  const ret = call.match!;
  call.prev!.next = call.next;
  call.next!.prev = call.prev;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

/** Undoes `lift`; must be called in the reverse order of the lifts (the search's stack order). */
export function unlift(call: EventEntry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  call.next!.prev = call;
}
