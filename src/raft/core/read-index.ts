// ReadIndex (Raft thesis, 6.4): a read is linearizable once the state machine has applied the
// leader's commit index as of the read's arrival, provided the leader was still the leader then.
// Leadership is confirmed by a heartbeat round acknowledged by a quorum; acknowledging a later
// heartbeat confirms every earlier request too, so requests are released in arrival order.
import { assert } from '../../util/assert.js';
import type { NodeId } from './types.js';

export interface PendingRead {
  readonly context: string;
  /** The leader's commit index when the request arrived. */
  readonly index: number;
  /** Who asked: the leader itself, or a follower that forwarded the request. */
  readonly from: NodeId;
  readonly acks: Set<NodeId>;
}

export class ReadIndexQueue {
  private readonly queue: PendingRead[] = [];
  private head = 0;
  private readonly byContext = new Map<string, PendingRead>();

  constructor(readonly maxPending: number) {}

  get size(): number {
    return this.byContext.size;
  }

  has(context: string): boolean {
    return this.byContext.has(context);
  }

  add(context: string, index: number, from: NodeId, self: NodeId): void {
    assert(!this.byContext.has(context), () => `duplicate read context ${context}`);
    const read: PendingRead = { context, index, from, acks: new Set([self]) };
    this.queue.push(read);
    this.byContext.set(context, read);
  }

  /** Records `from`'s acknowledgement of the heartbeat that carried `context`; its ack set, or null if unknown. */
  recordAck(context: string, from: NodeId): ReadonlySet<NodeId> | null {
    const read = this.byContext.get(context);
    if (read === undefined) return null;
    read.acks.add(from);
    return read.acks;
  }

  /** Removes and returns every request up to and including `context`, oldest first. */
  releaseThrough(context: string): PendingRead[] {
    const released: PendingRead[] = [];
    while (this.head < this.queue.length) {
      const read = this.queue[this.head++];
      this.byContext.delete(read.context);
      released.push(read);
      if (read.context === context) break;
    }
    this.compactQueue();
    return released;
  }

  lastContext(): string | null {
    return this.head < this.queue.length ? this.queue[this.queue.length - 1].context : null;
  }

  /** Empties the queue (leadership lost) and returns what was waiting. */
  drain(): PendingRead[] {
    const all = this.queue.slice(this.head);
    this.queue.length = 0;
    this.head = 0;
    this.byContext.clear();
    return all;
  }

  private compactQueue(): void {
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}
