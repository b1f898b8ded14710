// The driver's handle on the core: inputs in, Ready out, advance() back.
//
// Handling one Ready, in this order:
//   1. send `leaderMessages` (they may leave before the local write);
//   2. persist `snapshot` (with the state machine data it describes), then `entries`, then
//      `hardState`, with one fsync for all of it;
//   3. send `messages` (votes and append acks vouch for what was just made durable);
//   4. apply `committedEntries` in order; serve `readStates` once their index is applied;
//   5. call advance().
// Inputs (step, propose, tick...) may arrive between ready() and advance(); the next Ready is
// only taken after advance().
import { assert } from '../../util/assert.js';
import type { ConfChange } from './conf-change.js';
import { Raft, type ProposalPosition, type RaftConfig } from './raft.js';
import type { ConfState, Entry, HardState, Message, NodeId, Ready, StateRole } from './types.js';

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: 'probe' | 'replicate' | 'snapshot';
  readonly recentActive: boolean;
  readonly inflightMsgs: number;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly lead: NodeId;
  readonly role: StateRole;
  readonly conf: ConfState;
  readonly leadTransferee: NodeId;
  /** Leader only: each member's replication progress. */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus>;
}

export class RawNode {
  private prevHardState: HardState;
  private outstanding: Ready | null = null;

  constructor(readonly raft: Raft) {
    this.prevHardState = raft.log.storage.hardState();
  }

  static create(config: RaftConfig): RawNode {
    return new RawNode(new Raft(config));
  }

  get id(): NodeId {
    return this.raft.id;
  }

  tick(): void {
    this.raft.tick();
  }

  step(m: Message): void {
    assert(m.to === this.raft.id, () => `message for ${m.to} stepped into ${this.raft.id}`);
    this.raft.step(m);
  }

  /** Starts an election now (tests and operator tools); ignored unless this member is a voter. */
  campaign(): void {
    this.raft.campaign(this.raft.preVote ? 'pre-election' : 'election');
  }

  propose(data: readonly Uint8Array[]): ProposalPosition {
    return this.raft.propose(data);
  }

  proposeConfChange(change: ConfChange): ProposalPosition {
    return this.raft.proposeConfChange(change);
  }

  readIndex(context: string): void {
    this.raft.readIndex(context);
  }

  transferLeader(target: NodeId): void {
    this.raft.transferLeader(target);
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    this.raft.reportSnapshot(to, ok);
  }

  reportUnreachable(to: NodeId): void {
    this.raft.reportUnreachable(to);
  }

  hasReady(): boolean {
    if (this.outstanding !== null) return false;
    const r = this.raft;
    const unstable = r.log.unstable;
    return (
      r.msgs.length > 0 ||
      r.msgsAfterPersist.length > 0 ||
      unstable.offsetInProgress < unstable.offset + unstable.entries.length ||
      unstable.nextSnapshot() !== null ||
      r.log.hasNextCommittedEntries() ||
      r.readStates.length > 0 ||
      r.readFailures.length > 0 ||
      r.events.length > 0 ||
      !hardStatesEqual(r.hardState(), this.prevHardState)
    );
  }

  ready(): Ready {
    assert(this.outstanding === null, 'ready() called again before advance()');
    const r = this.raft;
    const hardState = r.hardState();
    const committedEntries = r.log.nextCommittedEntries();
    const ready: Ready = {
      hardState: hardStatesEqual(hardState, this.prevHardState) ? null : hardState,
      entries: r.log.unstable.nextEntries(),
      snapshot: r.log.unstable.nextSnapshot(),
      committedEntries,
      messages: r.msgsAfterPersist,
      leaderMessages: r.msgs,
      readStates: r.readStates,
      readFailures: r.readFailures,
      events: r.events,
    };
    r.msgsAfterPersist = [];
    r.msgs = [];
    r.readStates = [];
    r.readFailures = [];
    r.events = [];
    r.log.unstable.acceptInProgress();
    if (committedEntries.length > 0) {
      r.log.acceptApplying(committedEntries[committedEntries.length - 1].index);
      r.reduceUncommittedSize(committedEntries);
    }
    this.prevHardState = hardState;
    this.outstanding = ready;
    return ready;
  }

  /**
   * Between ready() and advance(): committed entries that were already durable here before the
   * outstanding Ready, handed out now instead of with the next Ready. A leader learns of a
   * commit from acks that arrive while its own write is in flight; waiting for that write to
   * finish before applying cost every proposal up to one more disk round. The driver applies
   * them in order (after the outstanding Ready's own committed entries) and confirms with
   * appliedTo(). Empty when there are none.
   */
  takeCommittedDurable(): Entry[] {
    const log = this.raft.log;
    const entries = log.nextCommittedDurableEntries();
    if (entries.length > 0) {
      log.acceptApplying(entries[entries.length - 1].index);
      this.raft.reduceUncommittedSize(entries);
    }
    return entries;
  }

  /**
   * Between ready() and advance(): the messages that may leave before any local write (a
   * leader's appends and heartbeats, read-index traffic; see Raft.isSafeBeforePersist), taken
   * now instead of with the next Ready. New proposals then reach the followers while the
   * leader's previous write is still in flight, instead of after it (thesis 10.2.1).
   */
  takeMessagesBeforePersist(): Message[] {
    const r = this.raft;
    const messages = r.msgs;
    r.msgs = [];
    return messages;
  }

  /** The driver applied every entry up to `index` that takeCommittedDurable() handed out. */
  appliedTo(index: number): void {
    this.raft.log.appliedTo(index);
  }

  /** The driver has done everything the last Ready asked. */
  advance(): void {
    const ready = this.outstanding;
    assert(ready !== null, 'advance() without an outstanding ready()');
    this.outstanding = null;
    const log = this.raft.log;
    if (ready.snapshot !== null) log.stableSnapshotTo(ready.snapshot.index);
    if (ready.entries.length > 0) {
      const last = ready.entries[ready.entries.length - 1];
      log.stableTo(last.index, last.term);
    }
    if (ready.committedEntries.length > 0) {
      // Entries taken early (takeCommittedDurable) follow these and may be confirmed already.
      const last = ready.committedEntries[ready.committedEntries.length - 1].index;
      if (last > log.applied) log.appliedTo(last);
    }
    this.raft.onSelfPersisted();
  }

  status(): RaftStatus {
    const r = this.raft;
    const progress = new Map<NodeId, ProgressStatus>();
    for (const [id, pr] of r.progress) {
      progress.set(id, { match: pr.match, next: pr.next, state: pr.state, recentActive: pr.recentActive, inflightMsgs: pr.inflights.size });
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      lead: r.lead,
      role: r.role,
      conf: r.conf,
      leadTransferee: r.leadTransferee,
      progress,
    };
  }
}

function hardStatesEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
