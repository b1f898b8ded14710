// The Raft protocol as a pure state machine (Ongaro & Ousterhout, "In Search of an
// Understandable Consensus Algorithm", and Ongaro's thesis). No clock, no I/O, no promises:
// time is tick(), randomness is the seeded generator in the config, and everything the outside
// world must do is collected for the next Ready (see raw-node.ts).
//
// Where each rule lives:
// - terms and roles (5.1): step(), becomeFollower/PreCandidate/Candidate/Leader()
// - elections (5.2), randomized timeouts: tickElection(), campaign(), handleVoteRequest(), poll()
// - pre-vote (thesis 9.6) and the leader lease that makes voters ignore disruptive candidates
//   (thesis 4.2.3 / 6.2): step() term checks, inLease()
// - check-quorum (thesis 6.2): tickHeartbeat() -> checkQuorumActive()
// - log replication (5.3) and flow control: sendAppend(), handleAppendEntries(), handleAppendResponse()
// - election restriction (5.4.1): RaftLog.isUpToDate() via isLogUpToDate()
// - commit only by counting entries of the current term (5.4.2, Figure 8): maybeCommit() -> isCommittable()
// - snapshots (section 7): sendSnapshot(), handleSnapshot(), restore()
// - membership (thesis 4.1, 4.3): proposeConfChange(), onLogAppended() -> applyConf(), stepDownIfRemoved()
// - ReadIndex (thesis 6.4): readIndex(), handleReadIndex(), handleHeartbeatResponse()
// - leadership transfer (thesis 3.10): transferLeader(), handleTransferLeader(), TimeoutNow
import { assert, unreachable } from '../../util/assert.js';
import {
  applyConfChange,
  ConfChangeType,
  confChangeProblem,
  decodeConfChange,
  encodeConfChange,
  isMember,
  type ConfChange,
} from './conf-change.js';
import { BackpressureError, ConfChangeRejectedError, NotLeaderError, TransferInProgressError, TransferRejectedError } from './errors.js';
import { RaftLog } from './log.js';
import type { Random } from './prng.js';
import { Progress } from './progress.js';
import { committedIndex, hasQuorum, voteResult } from './quorum.js';
import { ReadIndexQueue } from './read-index.js';
import { CompactedError, type RaftStorage } from './storage.js';
import {
  EntryType,
  MessageType,
  NONE,
  StateRole,
  TRANSFER_CONTEXT,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type RaftEvent,
  type ReadFailure,
  type ReadState,
  type SnapshotMeta,
} from './types.js';

export interface RaftConfig {
  readonly id: NodeId;
  readonly storage: RaftStorage;
  readonly random: Random;
  /** Ticks without a leader before campaigning; the timeout is randomized in [electionTick, 2*electionTick). */
  readonly electionTick: number;
  readonly heartbeatTick: number;
  /** The last index the state machine already holds (restart): committed entries up to it are not re-applied. */
  readonly applied?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly maxSizePerMsgBytes?: number;
  readonly maxInflightMsgs?: number;
  readonly maxInflightBytes?: number;
  readonly maxUncommittedEntriesBytes?: number;
  readonly maxCommittedSizePerReadyBytes?: number;
  readonly maxPendingReadIndex?: number;
}

export interface RaftLimits {
  readonly maxSizePerMsgBytes: number;
  readonly maxInflightMsgs: number;
  readonly maxInflightBytes: number;
  readonly maxUncommittedEntriesBytes: number;
  readonly maxCommittedSizePerReadyBytes: number;
  readonly maxPendingReadIndex: number;
}

export const DEFAULT_LIMITS: RaftLimits = {
  maxSizePerMsgBytes: 1024 * 1024,
  maxInflightMsgs: 256,
  maxInflightBytes: 32 * 1024 * 1024,
  maxUncommittedEntriesBytes: 64 * 1024 * 1024,
  maxCommittedSizePerReadyBytes: 16 * 1024 * 1024,
  maxPendingReadIndex: 8192,
};

/** A proposal accepted into the leader's log: it is committed iff the entry at `lastIndex` later has `term`. */
export interface ProposalPosition {
  readonly term: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
}

const NO_ENTRIES: readonly Entry[] = Object.freeze([]);

type MessageFields = Partial<Message> & Pick<Message, 'type' | 'to'>;

function message(fields: MessageFields & Pick<Message, 'from' | 'term'>): Message {
  return {
    logTerm: 0,
    index: 0,
    entries: NO_ENTRIES,
    commit: 0,
    reject: false,
    rejectHint: 0,
    snapshot: null,
    context: '',
    ...fields,
  };
}

export class Raft {
  readonly id: NodeId;
  readonly log: RaftLog;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: StateRole = StateRole.Follower;

  // Configuration: the one of the newest conf entry in the log, else the snapshot's.
  private confBase: ConfState;
  /** Index of the conf entry that made confBase (0: the snapshot's). */
  private confBaseIndex = 0;
  /** Conf entries in the log after the base, oldest first, with the configuration each one makes. */
  private confHistory: { index: number; conf: ConfState }[] = [];
  conf: ConfState;
  /** Leader: what it knows of every other member's log. */
  readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  private readonly random: Random;
  readonly limits: RaftLimits;

  /** Leader: the member leadership is being handed to (NONE when no transfer runs). */
  leadTransferee: NodeId = NONE;
  /** Leader: the index of its no-op, the first entry of its term. */
  private termStartIndex = 0;
  /** Leader: payload bytes appended and not yet committed (bounded: backpressure). */
  private uncommittedSizeBytes = 0;
  private readonly reads: ReadIndexQueue;
  /** Leader: read requests that arrived before an entry of its term was committed. */
  private readsAwaitingOwnCommit: { context: string; from: NodeId }[] = [];

  // Output collected for the next Ready.
  msgs: Message[] = [];
  msgsAfterPersist: Message[] = [];
  readStates: ReadState[] = [];
  readFailures: ReadFailure[] = [];
  events: RaftEvent[] = [];

  constructor(config: RaftConfig) {
    assert(config.id !== NONE, 'raft id must not be 0');
    assert(config.heartbeatTick > 0 && config.electionTick > config.heartbeatTick, 'electionTick must exceed heartbeatTick > 0');
    this.id = config.id;
    this.random = config.random;
    this.electionTimeout = config.electionTick;
    this.heartbeatTimeout = config.heartbeatTick;
    this.preVote = config.preVote ?? true;
    this.checkQuorum = config.checkQuorum ?? true;
    this.limits = {
      maxSizePerMsgBytes: config.maxSizePerMsgBytes ?? DEFAULT_LIMITS.maxSizePerMsgBytes,
      maxInflightMsgs: config.maxInflightMsgs ?? DEFAULT_LIMITS.maxInflightMsgs,
      maxInflightBytes: config.maxInflightBytes ?? DEFAULT_LIMITS.maxInflightBytes,
      maxUncommittedEntriesBytes: config.maxUncommittedEntriesBytes ?? DEFAULT_LIMITS.maxUncommittedEntriesBytes,
      maxCommittedSizePerReadyBytes: config.maxCommittedSizePerReadyBytes ?? DEFAULT_LIMITS.maxCommittedSizePerReadyBytes,
      maxPendingReadIndex: config.maxPendingReadIndex ?? DEFAULT_LIMITS.maxPendingReadIndex,
    };
    this.reads = new ReadIndexQueue(this.limits.maxPendingReadIndex);
    this.log = this.createLog(config.storage, this.limits.maxCommittedSizePerReadyBytes);

    const hard = config.storage.hardState();
    const snapshot = config.storage.snapshot();
    this.confBase = snapshot.conf;
    this.conf = snapshot.conf;
    this.loadConfHistory();
    const applied = config.applied ?? 0;
    // What the state machine applied was committed, even if the stored commit index is older
    // (the driver need not sync a Ready that only moves the commit index, as in etcd).
    const commit = Math.max(hard.commit, applied);
    if (commit > 0) this.log.commitTo(Math.min(commit, this.log.lastIndex()));
    if (applied > this.log.applied) {
      assert(applied <= this.log.committed, () => `applied ${applied} beyond committed ${this.log.committed}`);
      this.log.appliedTo(applied);
    }
    // A torn write can leave entries of a term newer than the stored term; never be behind them.
    const term = Math.max(hard.term, this.log.lastTerm());
    this.becomeFollower(term, NONE);
    if (term === hard.term) this.vote = hard.vote;
    this.events.length = 0;
  }

  /** Test hook: the log implementation (a broken variant can substitute its own). */
  protected createLog(storage: RaftStorage, maxApplyingBytes: number): RaftLog {
    return new RaftLog(storage, maxApplyingBytes);
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  // ---------------------------------------------------------------- roles (5.1, 5.2)

  /** Resets what a role owns when entering a new role or term. */
  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    // Leaving the role ends a transfer quietly: usually because it succeeded (the target won).
    this.leadTransferee = NONE;
    this.votes.clear();
    this.uncommittedSizeBytes = 0;
    this.failPendingReads();
    this.progress.clear();
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = StateRole.Follower;
    this.events.push({ kind: 'became-follower', term, leader: lead });
  }

  private becomePreCandidate(): void {
    assert(this.role !== StateRole.Leader, 'leader cannot become pre-candidate');
    // Pre-vote changes neither term nor vote: a partitioned member cannot inflate terms.
    this.votes.clear();
    this.lead = NONE;
    this.role = StateRole.PreCandidate;
    this.events.push({ kind: 'became-pre-candidate', term: this.term });
  }

  private becomeCandidate(): void {
    assert(this.role !== StateRole.Leader, 'leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = StateRole.Candidate;
    this.events.push({ kind: 'became-candidate', term: this.term });
  }

  private becomeLeader(): void {
    assert(this.role === StateRole.Candidate, 'only a candidate becomes leader');
    this.reset(this.term);
    this.lead = this.id;
    this.role = StateRole.Leader;
    const lastIndex = this.log.lastIndex();
    for (const id of this.members()) {
      const pr = this.newProgress(lastIndex + 1);
      if (id === this.id) {
        pr.match = this.log.persistedIndex();
        pr.becomeReplicate();
      }
      pr.recentActive = true;
      this.progress.set(id, pr);
    }
    this.events.push({ kind: 'became-leader', term: this.term });
    this.termStartIndex = lastIndex + 1;
    // The no-op of the new term (5.4.2, thesis 6.4): committing it commits every earlier entry
    // and is what ReadIndex and configuration changes wait for.
    this.appendEntries([{ term: this.term, index: lastIndex + 1, type: EntryType.Normal, data: new Uint8Array(0) }]);
  }

  private newProgress(next: number): Progress {
    return new Progress(next, this.limits.maxInflightMsgs, this.limits.maxInflightBytes);
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.random.nextInt(this.electionTimeout);
  }

  /** A voter of the current configuration; only voters campaign. */
  isPromotable(): boolean {
    return this.conf.voters.includes(this.id);
  }

  private members(): NodeId[] {
    return [...this.conf.voters, ...this.conf.learners];
  }

  private otherVoters(): NodeId[] {
    return this.conf.voters.filter((id) => id !== this.id);
  }

  // ---------------------------------------------------------------- time

  tick(): void {
    if (this.role === StateRole.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.isPromotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign(this.preVote ? 'pre-election' : 'election');
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum && !this.checkQuorumActive()) {
        this.events.push({ kind: 'leader-stepped-down', term: this.term, reason: 'check-quorum' });
        this.becomeFollower(this.term, NONE);
        return;
      }
      // A transfer that did not finish within an election timeout is abandoned (thesis 3.10).
      if (this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
  }

  /** Check-quorum: did a quorum of voters talk to us during the last election timeout? */
  private checkQuorumActive(): boolean {
    const active = hasQuorum(this.conf.voters, (id) => id === this.id || this.progress.get(id)?.recentActive === true);
    for (const [id, pr] of this.progress) if (id !== this.id) pr.recentActive = false;
    return active;
  }

  // ---------------------------------------------------------------- elections

  /** Starts an election: 'pre-election' asks first whether we could win, without a new term. */
  campaign(kind: 'pre-election' | 'election' | 'transfer'): void {
    if (this.role === StateRole.Leader || !this.isPromotable()) return;
    let voteType: MessageType;
    let term: number;
    if (kind === 'pre-election') {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      this.onElectionWon();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.otherVoters()) {
      this.send({ type: voteType, to: id, term, index: lastIndex, logTerm: lastTerm, context: kind === 'transfer' ? TRANSFER_CONTEXT : '' });
    }
  }

  private poll(id: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    return voteResult(this.conf.voters, this.votes);
  }

  private onElectionWon(): void {
    if (this.role === StateRole.PreCandidate) this.campaign('election');
    else {
      this.becomeLeader();
      this.broadcastAppend();
    }
  }

  /** Test hook for the election restriction (5.4.1). */
  protected isLogUpToDate(lastIndex: number, lastTerm: number): boolean {
    return this.log.isUpToDate(lastIndex, lastTerm);
  }

  private handleVoteRequest(m: Message): void {
    const isPreVote = m.type === MessageType.PreVote;
    // We may vote for m.from if we already did in this term, if we have not voted and know no
    // leader, or (pre-vote) if the candidate's future term is ahead of ours.
    const canVote = this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (isPreVote && m.term > this.term);
    const respType = isPreVote ? MessageType.PreVoteResp : MessageType.VoteResp;
    if (canVote && this.isLogUpToDate(m.index, m.logTerm)) {
      // A granted pre-vote answers with the candidate's future term, so it counts there.
      this.send({ type: respType, to: m.from, term: m.term });
      if (!isPreVote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, to: m.from, term: this.term, reject: true });
    }
  }

  /** Leader lease (thesis 4.2.3): a member that heard from a live leader recently ignores candidates. */
  private inLease(): boolean {
    return this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
  }

  // ---------------------------------------------------------------- the single entry point

  step(m: Message): void {
    if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const forced = m.context === TRANSFER_CONTEXT;
        if (!forced && this.inLease()) return; // ignore a disruptive candidate
      }
      if (m.type === MessageType.PreVote) {
        // Never change term for a pre-vote request.
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // A granted pre-vote carries our future term; we adopt it when we win.
      } else {
        const wasLeader = this.role === StateRole.Leader;
        const isFromLeader = m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
        if (wasLeader) this.events.push({ kind: 'leader-stepped-down', term: this.term, reason: 'higher-term' });
        this.becomeFollower(m.term, isFromLeader ? m.from : NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
        // A stale leader (or one whose term we passed while cut off): tell it our term so it
        // steps down, instead of staying silent and letting it believe it still leads.
        this.send({ type: MessageType.AppResp, to: m.from, term: this.term });
      } else if (m.type === MessageType.PreVote) {
        this.send({ type: MessageType.PreVoteResp, to: m.from, term: this.term, reject: true });
      }
      return;
    }

    switch (m.type) {
      case MessageType.Vote:
      case MessageType.PreVote:
        this.handleVoteRequest(m);
        return;
      default:
        break;
    }
    switch (this.role) {
      case StateRole.Leader:
        this.stepLeader(m);
        return;
      case StateRole.Candidate:
      case StateRole.PreCandidate:
        this.stepCandidate(m);
        return;
      case StateRole.Follower:
        this.stepFollower(m);
        return;
      default:
        unreachable(this.role, 'role');
    }
  }

  private stepLeader(m: Message): void {
    const pr = this.progress.get(m.from);
    switch (m.type) {
      case MessageType.AppResp:
        if (pr !== undefined) this.handleAppendResponse(m, pr);
        return;
      case MessageType.HeartbeatResp:
        if (pr !== undefined) this.handleHeartbeatResponse(m, pr);
        return;
      case MessageType.ReadIndex:
        this.handleReadIndex(m.context, m.from);
        return;
      case MessageType.TransferLeader:
        // A forwarded request for an invalid target is dropped; the local API reports it.
        if (this.transferProblem(m.index) === null) this.handleTransferLeader(m.index);
        return;
      default:
        return; // votes answered above; other types do not concern a leader of this term
    }
  }

  private stepCandidate(m: Message): void {
    const myVoteResp = this.role === StateRole.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.App:
      case MessageType.Heartbeat:
      case MessageType.Snap:
        // A leader of our term exists (5.2): follow it.
        this.becomeFollower(m.term, m.from);
        this.stepFollower(m);
        return;
      case myVoteResp: {
        const result = this.poll(m.from, !m.reject);
        if (result === 'won') this.onElectionWon();
        else if (result === 'lost') this.becomeFollower(this.term, NONE);
        return;
      }
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.TimeoutNow:
        // The leader hands us leadership (thesis 3.10): campaign at once, skipping pre-vote.
        this.campaign('transfer');
        return;
      case MessageType.ReadIndexResp:
        if (m.reject) this.readFailures.push({ context: m.context, leaderHint: this.lead });
        else this.readStates.push({ context: m.context, index: m.index });
        return;
      case MessageType.ReadIndex:
        // Forwarded to us by a member with a stale idea of the leader: refuse at once.
        this.answerReadFailure(m.context, m.from);
        return;
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- replication (5.3)

  /** Appends to the leader's own log; the leader counts itself only once they are durable. */
  private appendEntries(entries: Entry[]): void {
    this.log.append(entries);
    this.onLogAppended(entries);
  }

  /** Leader: send `to` what it lacks, if its window allows. False if nothing was sent. */
  private sendAppend(to: NodeId, sendIfEmpty = true): boolean {
    const pr = this.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    let prevTerm: number;
    let entries: Entry[];
    try {
      prevTerm = this.log.term(prevIndex);
      entries = this.log.entriesFrom(pr.next, this.limits.maxSizePerMsgBytes);
    } catch (error) {
      if (error instanceof CompactedError) return this.sendSnapshot(to, pr);
      throw error;
    }
    const committed = this.log.committed;
    // News of a commit alone waits while appends to this member are in flight: its ack comes
    // back soon and brings a send with the newer commit then (handleAppendResponse). Under load
    // this halves the messages of a round (no empty append and no ack of it per member per
    // commit); the leader's answer to its client does not wait for followers to learn commits.
    if (entries.length === 0 && !sendIfEmpty && (!pr.canBumpCommit(committed) || pr.hasAppendsInFlight())) return false;
    const sizeBytes = this.log.payloadSizeBytes(entries);
    this.send({ type: MessageType.App, to, index: prevIndex, logTerm: prevTerm, entries, commit: committed });
    pr.sentEntries(entries.length, sizeBytes);
    pr.sentCommitTo(Math.min(committed, prevIndex + entries.length));
    return true;
  }

  /** The follower's log lacks compacted entries: tell the driver to stream our snapshot (section 7). */
  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    // Do not stream snapshots to members we have not heard from: they may be down.
    if (!pr.recentActive) return false;
    const snapshot = this.log.snapshot();
    assert(snapshot.index > 0, 'log compacted without a snapshot');
    pr.becomeSnapshot(snapshot.index);
    this.send({ type: MessageType.Snap, to, snapshot });
    this.events.push({ kind: 'snapshot-needed', peer: to, index: snapshot.index });
    return true;
  }

  /** Sends every member what it lacks; with sendIfEmpty false, only news (entries or commit). */
  private broadcastAppend(sendIfEmpty = true): void {
    for (const id of this.progress.keys()) if (id !== this.id) this.sendAppend(id, sendIfEmpty);
  }

  private broadcastHeartbeat(): void {
    const context = this.reads.lastContext() ?? '';
    for (const id of this.progress.keys()) if (id !== this.id) this.sendHeartbeat(id, context);
  }

  private sendHeartbeat(to: NodeId, context: string): void {
    // Never tell a follower to commit beyond what it is known to hold: it may not have it yet.
    const pr = this.progress.get(to)!;
    const commit = Math.min(pr.match, this.log.committed);
    this.send({ type: MessageType.Heartbeat, to, commit, context });
    pr.sentCommitTo(commit);
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      this.send({ type: MessageType.AppResp, to: m.from, index: this.log.committed });
      return;
    }
    const appended = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (appended !== null) {
      // Only what was written can change the configuration: entries we already held did not.
      this.onLogAppended(appended.written);
      this.send({ type: MessageType.AppResp, to: m.from, index: appended.lastNewIndex });
      return;
    }
    // Our log does not hold (m.index, m.logTerm). Suggest where the leader should probe next:
    // our last index with a term not above m.logTerm, skipping a conflicting term at once.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send({ type: MessageType.AppResp, to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({ type: MessageType.HeartbeatResp, to: m.from, context: m.context });
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      // Probe at the follower's hint; if it names a term, skip our entries of later terms too.
      let nextProbe = m.rejectHint;
      if (m.logTerm > 0) nextProbe = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const oldPaused = pr.isPaused();
    const updated = pr.maybeUpdate(m.index);
    // A probe answered at the match we already knew still proves where the logs agree.
    if (!updated && !(pr.state === 'probe' && pr.match === m.index)) {
      if (oldPaused && !pr.isPaused()) this.sendAppend(m.from, false);
      return;
    }
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) pr.becomeProbe();
    else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);

    if (this.maybeCommit()) {
      this.onCommitAdvanced();
      this.broadcastAppend(false);
    } else {
      // Keep the pipeline full: send while the window allows and there is something to send.
      while (this.sendAppend(m.from, false)) {
        /* empty */
      }
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.sendTimeoutNow(m.from);
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.probeSent = false;
    // The follower is alive but the window is still full: its acks (or our appends) were lost.
    // Free one slot so that an append goes out; a gap makes the follower reject it, and the
    // rejection puts it back in probe state, which resends from its match.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
    if (m.context === '') return;
    const acks = this.reads.recordAck(m.context, m.from);
    if (acks === null) return;
    if (!this.isLeadershipConfirmed(acks)) return;
    for (const read of this.reads.releaseThrough(m.context)) this.answerRead(read.context, read.index, read.from);
  }

  /** Test hook: ReadIndex needs a quorum of voters to acknowledge a heartbeat sent after the read arrived. */
  protected isLeadershipConfirmed(acks: ReadonlySet<NodeId>): boolean {
    return hasQuorum(this.conf.voters, (id) => acks.has(id));
  }

  /** Counts the voters' matches and commits the majority index, if it belongs to our term. */
  private maybeCommit(): boolean {
    const index = committedIndex(this.conf.voters, (id) => this.progress.get(id)?.match ?? 0);
    if (index <= this.log.committed || !this.isCommittable(index)) return false;
    this.log.commitTo(index);
    return true;
  }

  /**
   * Test hook for Figure 8 (5.4.2): a leader commits by counting replicas only entries of its
   * own term; earlier entries are committed indirectly with them.
   */
  protected isCommittable(index: number): boolean {
    return this.log.termOrZero(index) === this.term;
  }

  /** Leader: its own entries up to `index` are durable; count itself, and maybe commit. */
  onSelfPersisted(): void {
    if (this.role !== StateRole.Leader) return;
    const pr = this.progress.get(this.id);
    if (pr === undefined) {
      // Removed from the configuration: it leads only until the removal commits.
      if (this.maybeCommit()) this.onCommitAdvanced();
      return;
    }
    if (pr.maybeUpdate(this.log.persistedIndex()) && this.maybeCommit()) {
      this.onCommitAdvanced();
      this.broadcastAppend(false);
    }
  }

  private onCommitAdvanced(): void {
    this.trimConfHistory();
    if (this.hasCommittedInTerm()) this.releaseReadsAwaitingOwnCommit();
    this.stepDownIfRemoved();
  }

  // ---------------------------------------------------------------- snapshots (section 7)

  private handleSnapshot(m: Message): void {
    const snapshot = m.snapshot;
    assert(snapshot !== null, 'MsgSnap without snapshot');
    if (this.restore(snapshot)) {
      this.send({ type: MessageType.AppResp, to: m.from, index: this.log.lastIndex() });
    } else {
      this.send({ type: MessageType.AppResp, to: m.from, index: this.log.committed });
    }
  }

  /**
   * Installs a leader's snapshot unless we already hold it. A log that holds the snapshot's
   * last entry only fast-forwards its commit; otherwise the whole log, conflicting or not, is
   * discarded in favour of the snapshot.
   */
  private restore(snapshot: SnapshotMeta): boolean {
    if (snapshot.index <= this.log.committed) return false;
    if (this.log.matchTerm(snapshot.index, snapshot.term)) {
      this.log.commitTo(snapshot.index);
      return false;
    }
    this.log.restore(snapshot);
    this.confBase = snapshot.conf;
    this.confBaseIndex = snapshot.index;
    this.confHistory = [];
    this.setConf(snapshot.conf, snapshot.index);
    this.events.push({ kind: 'snapshot-restored', index: snapshot.index, term: snapshot.term });
    return true;
  }

  /** The driver finished (or failed) streaming a snapshot to `to`. */
  reportSnapshot(to: NodeId, ok: boolean): void {
    const pr = this.progress.get(to);
    if (this.role !== StateRole.Leader || pr === undefined || pr.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for the follower's answer (or a heartbeat response) before probing again.
    pr.probeSent = true;
  }

  /** The transport could not reach `to`: stop pipelining to it until it answers again. */
  reportUnreachable(to: NodeId): void {
    const pr = this.progress.get(to);
    if (this.role === StateRole.Leader && pr !== undefined && pr.state === 'replicate') pr.becomeProbe();
  }

  // ---------------------------------------------------------------- proposals

  /** Leader only: appends `data` as new entries. */
  propose(data: readonly Uint8Array[]): ProposalPosition {
    assert(data.length > 0, 'propose needs at least one entry');
    this.checkCanPropose('proposal');
    let payloadBytes = 0;
    for (const d of data) payloadBytes += d.byteLength;
    if (this.uncommittedSizeBytes > 0 && this.uncommittedSizeBytes + payloadBytes > this.limits.maxUncommittedEntriesBytes) {
      throw new BackpressureError(`leader holds ${this.uncommittedSizeBytes} uncommitted bytes (limit ${this.limits.maxUncommittedEntriesBytes})`);
    }
    const first = this.log.lastIndex() + 1;
    const entries = data.map((d, i): Entry => ({ term: this.term, index: first + i, type: EntryType.Normal, data: d }));
    this.uncommittedSizeBytes += payloadBytes;
    this.appendEntries(entries);
    this.broadcastAppend(false);
    return { term: this.term, firstIndex: first, lastIndex: first + entries.length - 1 };
  }

  /**
   * Leader only: proposes one membership change. Refused while another change is uncommitted
   * and until an entry of this term is committed (the fix to single-server changes, thesis 4.3
   * and Ongaro's 2015 raft-dev note), and while leadership moves.
   */
  proposeConfChange(change: ConfChange): ProposalPosition {
    this.checkCanPropose('configuration change');
    const lastConfIndex = this.confHistory.length > 0 ? this.confHistory[this.confHistory.length - 1].index : 0;
    if (lastConfIndex > this.log.committed) {
      throw new ConfChangeRejectedError(`configuration change at ${lastConfIndex} is not committed yet`);
    }
    if (!this.hasCommittedInTerm()) {
      throw new ConfChangeRejectedError(`leader has not committed an entry of term ${this.term} yet`);
    }
    const problem = confChangeProblem(this.conf, change);
    if (problem !== null) throw new ConfChangeRejectedError(problem);
    const index = this.log.lastIndex() + 1;
    const data = encodeConfChange(change);
    this.uncommittedSizeBytes += data.byteLength;
    this.appendEntries([{ term: this.term, index, type: EntryType.ConfChange, data }]);
    this.broadcastAppend(false);
    return { term: this.term, firstIndex: index, lastIndex: index };
  }

  private checkCanPropose(what: string): void {
    if (this.role !== StateRole.Leader) throw new NotLeaderError(this.lead, what);
    if (!isMember(this.conf, this.id)) throw new NotLeaderError(NONE, what);
    if (this.leadTransferee !== NONE) throw new TransferInProgressError(this.leadTransferee);
  }

  /** Leader: an entry of its own term is committed, so its commit index is current (thesis 6.4). */
  private hasCommittedInTerm(): boolean {
    return this.termStartIndex <= this.log.committed;
  }

  /** Leader: called at hand-out of committed entries to the driver. */
  reduceUncommittedSize(entries: readonly Entry[]): void {
    if (this.role !== StateRole.Leader) return;
    let size = 0;
    for (const e of entries) size += e.data.byteLength;
    this.uncommittedSizeBytes = Math.max(0, this.uncommittedSizeBytes - size);
  }

  // ---------------------------------------------------------------- membership

  /** Rebuilds the configuration history from the stored log (start-up). */
  private loadConfHistory(): void {
    const first = this.log.firstIndex();
    const last = this.log.lastIndex();
    for (let lo = first; lo <= last; ) {
      const batch = this.log.slice(lo, last + 1, 4 * 1024 * 1024);
      this.onLogAppended(batch, false);
      lo += batch.length;
    }
  }

  /**
   * Keeps the configuration in step with the log: a conf entry takes effect when appended, and
   * an appended batch that overwrote a suffix first drops the configurations the suffix made.
   */
  private onLogAppended(entries: readonly Entry[], emitEvents = true): void {
    if (entries.length === 0) return;
    const from = entries[0].index;
    let changed = false;
    while (this.confHistory.length > 0 && this.confHistory[this.confHistory.length - 1].index >= from) {
      this.confHistory.pop();
      changed = true;
    }
    for (const e of entries) {
      if (e.type !== EntryType.ConfChange) continue;
      const previous = this.confHistory.length > 0 ? this.confHistory[this.confHistory.length - 1].conf : this.confBase;
      this.confHistory.push({ index: e.index, conf: applyConfChange(previous, decodeConfChange(e.data)) });
      changed = true;
    }
    this.trimConfHistory();
    if (!changed) return;
    const latest = this.confHistory.length > 0 ? this.confHistory[this.confHistory.length - 1] : { index: this.confBaseIndex, conf: this.confBase };
    if (emitEvents) this.setConf(latest.conf, latest.index);
    else this.conf = latest.conf;
  }

  private setConf(conf: ConfState, index: number): void {
    this.conf = conf;
    this.events.push({ kind: 'conf-changed', index, conf });
    if (this.role !== StateRole.Leader) return;
    const members = new Set(this.members());
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      if (this.progress.has(id)) continue;
      // A new member: probe from our last index; treat it as active so that it gets a snapshot.
      const pr = this.newProgress(this.log.lastIndex() + 1);
      pr.recentActive = true;
      this.progress.set(id, pr);
    }
    if (this.leadTransferee !== NONE && !this.conf.voters.includes(this.leadTransferee)) this.abortLeaderTransfer();
    // The quorum changed: entries or reads may now have one.
    if (this.maybeCommit()) this.onCommitAdvanced();
  }

  /** Drops configurations that are committed and superseded: the history stays short. */
  private trimConfHistory(): void {
    while (this.confHistory.length > 0 && this.confHistory[0].index <= this.log.committed) {
      this.confBase = this.confHistory[0].conf;
      this.confBaseIndex = this.confHistory[0].index;
      this.confHistory.shift();
    }
  }

  /**
   * A leader removed from the configuration keeps leading until the removal commits (thesis
   * 4.2.2), then steps down and hands over to the most up-to-date voter at once rather than
   * letting the cluster wait for an election timeout.
   */
  private stepDownIfRemoved(): void {
    if (this.role !== StateRole.Leader || isMember(this.confBase, this.id)) return;
    let best: NodeId = NONE;
    let bestMatch = -1;
    for (const id of this.conf.voters) {
      const match = this.progress.get(id)?.match ?? 0;
      if (match > bestMatch) {
        best = id;
        bestMatch = match;
      }
    }
    if (best !== NONE && bestMatch === this.log.lastIndex()) this.sendTimeoutNow(best);
    this.events.push({ kind: 'leader-stepped-down', term: this.term, reason: 'removed' });
    this.becomeFollower(this.term, NONE);
  }

  // ---------------------------------------------------------------- ReadIndex (thesis 6.4)

  /** Asks for a read index for `context`; the answer comes as a ReadState (or ReadFailure). */
  readIndex(context: string): void {
    if (this.role === StateRole.Leader) {
      this.handleReadIndex(context, this.id);
      return;
    }
    if (this.role !== StateRole.Follower || this.lead === NONE) throw new NotLeaderError(this.lead, 'read index');
    this.send({ type: MessageType.ReadIndex, to: this.lead, context });
  }

  private handleReadIndex(context: string, from: NodeId): void {
    if (this.reads.size + this.readsAwaitingOwnCommit.length >= this.limits.maxPendingReadIndex) {
      if (from === this.id) throw new BackpressureError(`${this.limits.maxPendingReadIndex} read requests pending`);
      this.answerReadFailure(context, from);
      return;
    }
    if (this.reads.has(context)) return; // a retry of a request already in the round
    // Our commit index is only known to be current once an entry of our term is committed.
    if (!this.hasCommittedInTerm()) {
      this.readsAwaitingOwnCommit.push({ context, from });
      return;
    }
    this.startReadRound(context, from);
  }

  private startReadRound(context: string, from: NodeId): void {
    if (this.reads.has(context)) return; // a duplicate of a request already in a round
    if (this.conf.voters.length === 1 && this.conf.voters[0] === this.id) {
      this.answerRead(context, this.log.committed, from);
      return;
    }
    this.reads.add(context, this.log.committed, from, this.id);
    if (this.isLeadershipConfirmed(new Set([this.id]))) {
      for (const read of this.reads.releaseThrough(context)) this.answerRead(read.context, read.index, read.from);
      return;
    }
    for (const id of this.progress.keys()) if (id !== this.id) this.sendHeartbeat(id, context);
  }

  private releaseReadsAwaitingOwnCommit(): void {
    if (this.readsAwaitingOwnCommit.length === 0) return;
    const waiting = this.readsAwaitingOwnCommit;
    this.readsAwaitingOwnCommit = [];
    for (const { context, from } of waiting) this.startReadRound(context, from);
  }

  private answerRead(context: string, index: number, from: NodeId): void {
    if (from === this.id) {
      this.readStates.push({ context, index });
      return;
    }
    this.send({ type: MessageType.ReadIndexResp, to: from, index, context });
    // The follower serves the read once it has applied `index`: tell it of our commit now,
    // even with appends in flight to it (sendAppend holds commit news back then).
    this.sendCommitNews(from);
  }

  /** An empty append carrying our commit index, if `to` has not heard of it yet. */
  private sendCommitNews(to: NodeId): void {
    const pr = this.progress.get(to);
    if (pr === undefined || pr.state !== 'replicate' || !pr.canBumpCommit(this.log.committed)) return;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.termOrZero(prevIndex);
    if (prevTerm === 0 && prevIndex > 0) return;
    this.send({ type: MessageType.App, to, index: prevIndex, logTerm: prevTerm, entries: [], commit: this.log.committed });
    pr.sentCommitTo(Math.min(this.log.committed, prevIndex));
  }

  private answerReadFailure(context: string, from: NodeId): void {
    if (from === this.id) this.readFailures.push({ context, leaderHint: this.lead });
    else this.send({ type: MessageType.ReadIndexResp, to: from, context, reject: true });
  }

  /** Leadership lost: every waiting read fails at once (never a silent drop). */
  private failPendingReads(): void {
    const waiting = [...this.reads.drain(), ...this.readsAwaitingOwnCommit];
    this.readsAwaitingOwnCommit = [];
    for (const read of waiting) this.answerReadFailure(read.context, read.from);
  }

  // ---------------------------------------------------------------- leadership transfer (thesis 3.10)

  transferLeader(target: NodeId): void {
    if (this.role === StateRole.Leader) {
      const problem = this.transferProblem(target);
      if (problem !== null) throw new TransferRejectedError(problem);
      this.handleTransferLeader(target);
      return;
    }
    if (this.lead === NONE) throw new NotLeaderError(NONE, 'leadership transfer');
    this.send({ type: MessageType.TransferLeader, to: this.lead, index: target });
  }

  private transferProblem(target: NodeId): string | null {
    return this.conf.voters.includes(target) ? null : `node ${target} is not a voter`;
  }

  private handleTransferLeader(target: NodeId): void {
    if (target === this.id || this.leadTransferee === target) return;
    if (this.leadTransferee !== NONE) this.abortLeaderTransfer();
    this.leadTransferee = target;
    // The transfer must finish within an election timeout, counted from now.
    this.electionElapsed = 0;
    this.events.push({ kind: 'transfer-started', term: this.term, target });
    const pr = this.progress.get(target)!;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(target);
    else this.sendAppend(target);
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: MessageType.TimeoutNow, to });
  }

  private abortLeaderTransfer(): void {
    if (this.leadTransferee === NONE) return;
    this.events.push({ kind: 'transfer-aborted', term: this.term, target: this.leadTransferee });
    this.leadTransferee = NONE;
  }

  // ---------------------------------------------------------------- output

  /** Queues a message from us; it carries our term unless `fields` says otherwise (pre-vote). */
  private send(fields: MessageFields): void {
    const m = message({ from: this.id, term: this.term, ...fields });
    if (this.isSafeBeforePersist(m)) this.msgs.push(m);
    else this.msgsAfterPersist.push(m);
  }

  /**
   * Test hook. A leader's appends, heartbeats and snapshot offers may leave while its own write
   * is in flight (thesis 10.2.1): it counts itself only once durable. Every answer that vouches
   * for our durable state (a vote, an append ack) and every vote request (our vote for
   * ourselves) waits for the write.
   */
  protected isSafeBeforePersist(m: Message): boolean {
    switch (m.type) {
      case MessageType.App:
      case MessageType.Heartbeat:
      case MessageType.HeartbeatResp:
      case MessageType.Snap:
      case MessageType.TimeoutNow:
      case MessageType.ReadIndex:
      case MessageType.ReadIndexResp:
      case MessageType.TransferLeader:
        return true;
      default:
        return false;
    }
  }
}

export { ConfChangeType };
