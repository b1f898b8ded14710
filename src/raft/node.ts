// The Raft driver: runs the pure core (core/) against real time, disk and network.
//
// - A timer ticks the core; the transport steps peer messages into it; callers propose and read.
// - One loop takes a Ready at a time: leader messages out at once, then the snapshot (state
//   machine first, then the log), entries and hard state made durable with ONE fdatasync, then
//   the other messages, then the committed entries applied (one store write), then advance().
//   While the loop awaits the disk, new proposals pile up in the core and form the next Ready:
//   that is the group commit.
// - Proposals are batched per event-loop turn into one core call, and settle exactly once.
// - Stop (ARCHITECTURE.md, lifecycle): stopAccepting() refuses new work, drain() waits for work in
//   flight, stop() ends ticking, transport, snapshot streams and the loop, in that order. The
//   stores are closed by their owner afterwards.
// - A disk that fails an fsync (or any write for another reason than space) kills the loop:
//   die() -> onFatal, and the process stops; what is on disk is read back at the next start.
// - A full disk does not (docs/faults.md): a save the log refused for lack of space
//   (DiskFullError) was kept by the log, and the loop writes it again after a pause, doubling
//   from 50 ms to 1 s, until it goes through: the Ready is then finished as if nothing happened
//   (nothing of it was acked, voted or applied before it was durable). While a store of this
//   member is full (`diskSpace`), proposals and linearizable reads are refused at once
//   (MemberDiskFullError: HTTP 503, clients try another master), and a leader hands leadership
//   to its most up-to-date follower, whose disk can take the writes. A compaction that finds no
//   space is skipped.
import { setTimeout as sleepUnless } from 'node:timers/promises';
import type { Logger } from 'pino';
import { DiskFullError } from '../storage/errors.js';
import { assert } from '../util/assert.js';
import {
  BackpressureError,
  ConfChangeRejectedError,
  ConfChangeType,
  EntryType,
  MessageType,
  NONE,
  NotLeaderError,
  Raft,
  RawNode,
  SeededRandom,
  StateRole,
  applyConfChange,
  bootstrapLog,
  decodeConfChange,
  isMember,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type RaftStatus,
  type RaftStorage,
  type Ready,
  type SnapshotMeta,
} from './core/index.js';
import { MemberDiskFullError, RaftTimeoutError, ShuttingDownError } from './errors.js';
import { decodeMemberContext, encodeMemberContext, type MemberAddress } from './member-context.js';
import { ProposalTracker } from './proposal-tracker.js';
import { ReadTracker } from './read-tracker.js';
import { NO_RAFT_OBSERVER, type RaftObserver } from './observer.js';
import type { StateMachine } from './state-machine.js';
import type { IncomingSnapshot, PeerAddress, Transport } from './transport/transport.js';

/** The durable log the node writes each Ready to (src/raft/log/log-store.ts). */
export interface DurableLog extends RaftStorage {
  isEmpty(): boolean;
  /** Rejects with DiskFullError when there was no room: the update is kept, retryPending() writes it. */
  save(update: { snapshot: SnapshotMeta | null; entries: readonly Entry[]; hardState: HardState | null }): Promise<void>;
  compact(index: number, conf: ConfState): Promise<void>;
  /** Writes what a save or compact refused for lack of space left pending; DiskFullError while still full. */
  retryPending(): Promise<void>;
}

/** Whether a store of this member is out of disk space now (storage/disk-space.ts). */
export interface DiskSpaceSignal {
  /** The error of a store that is full now, or null. */
  readonly fullError: Error | null;
  /** Called after every change (a store filled up, or can write again). */
  onChange(listener: () => void): void;
}

/** Pauses between the retries of a save refused for lack of space: doubling from the first to the last. */
const DISK_FULL_RETRY_MIN_MS = 50;
const DISK_FULL_RETRY_MAX_MS = 1_000;

/** Thrown inside the loop when the node stops while a save waits for disk space: the loop just ends. */
class StoppedWhileWaitingError extends Error {}

export interface RaftNodeOptions {
  readonly id: NodeId;
  readonly log: DurableLog;
  readonly stateMachine: StateMachine;
  readonly transport: Transport;
  readonly logger: Logger;
  /** Initial members when the log is empty (a new cluster); empty for a member joining one. */
  readonly bootstrap: readonly { id: NodeId; address: MemberAddress }[];
  /** Addresses known from configuration, used until the log says otherwise. */
  readonly knownAddresses: ReadonlyMap<NodeId, MemberAddress>;
  readonly tickIntervalMs: number;
  readonly electionTick: number;
  readonly heartbeatTick: number;
  /** Entries kept in the log beyond what is compacted, for followers to catch up without a snapshot. */
  readonly retainLogs: number;
  readonly proposalTimeoutMs: number;
  readonly maxPendingProposals: number;
  readonly maxPendingReads: number;
  readonly randomSeed: number;
  /** Called once if the node cannot go on (a store failed): the process must stop. */
  readonly onFatal: (error: Error) => void;
  /** Hears what the node does, for metrics; default none. */
  readonly observer?: RaftObserver;
  /** While a store is out of disk space: refuse proposals and reads, hand leadership over. */
  readonly diskSpace?: DiskSpaceSignal;
}

export interface CallOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

interface QueuedProposal {
  readonly data: Uint8Array;
  readonly timeoutMs: number;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
}

type NodeState = 'running' | 'refusing' | 'stopping' | 'stopped';

export class RaftNode {
  private readonly raw: RawNode;
  private readonly options: RaftNodeOptions;
  private readonly logger: Logger;
  private state: NodeState = 'running';
  private readonly proposals = new ProposalTracker();
  private readonly reads: ReadTracker;
  private queuedProposals: QueuedProposal[] = [];
  private proposalFlushScheduled: NodeJS.Immediate | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private wakeLoop: (() => void) | null = null;
  /** Set while a Ready's write is in flight: inputs wake the early apply (applyWhileWriting). */
  private earlyWake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private readonly snapshotStreams = new Map<NodeId, { controller: AbortController; done: Promise<void> }>();
  /** A snapshot received and staged, waiting for the loop to install it. */
  private stagedSnapshot: SnapshotMeta | null = null;
  private compaction: Promise<void> | null = null;
  private compactableIndex = 0;
  private readonly addresses: Map<NodeId, MemberAddress>;
  private readonly leaderListeners: ((leader: NodeId, term: number) => void)[] = [];
  private readonly leaderWaiters = new Set<{ target: NodeId; resolve: () => void; reject: (error: Error) => void }>();
  private lastLeader: NodeId = NONE;
  private fatal: Error | null = null;
  private readonly observer: RaftObserver;
  /** Aborted by stop() and die(): ends the pauses between retries of a save waiting for space. */
  private readonly stopped = new AbortController();
  /** Ticks since this leader last asked to hand leadership over because its disk is full. */
  private diskFullHandoverTicks = 0;

  private constructor(options: RaftNodeOptions, raw: RawNode) {
    this.options = options;
    this.raw = raw;
    this.logger = options.logger;
    this.observer = options.observer ?? NO_RAFT_OBSERVER;
    this.addresses = new Map(options.knownAddresses);
    this.reads = new ReadTracker({
      selfId: options.id,
      maxPendingReads: options.maxPendingReads,
      roundTimeoutMs: options.tickIntervalMs * options.electionTick,
      requestReadIndex: (context) => {
        this.raw.readIndex(context);
        this.wake();
      },
      appliedIndex: () => this.options.stateMachine.appliedIndex(),
      nowMs: () => performance.now(),
    });
  }

  /** Opens the node: bootstraps an empty log, reconciles log and state machine, starts everything. */
  static async start(options: RaftNodeOptions): Promise<RaftNode> {
    const { log, stateMachine: sm, logger } = options;
    if (log.isEmpty() && options.bootstrap.length > 0) {
      const boot = bootstrapLog(
        options.bootstrap.map((m) => m.id),
        (id) => encodeMemberContext(options.bootstrap.find((m) => m.id === id)!.address),
      );
      await log.save({ snapshot: null, entries: boot.entries, hardState: boot.hardState });
      logger.info({ voters: options.bootstrap.map((m) => m.id) }, 'raft: bootstrapped a new cluster log');
    }
    await reconcileLogWithStateMachine(log, sm, logger);
    const raft = new Raft({
      id: options.id,
      storage: log,
      random: new SeededRandom(options.randomSeed),
      electionTick: options.electionTick,
      heartbeatTick: options.heartbeatTick,
      applied: sm.appliedIndex(),
    });
    const node = new RaftNode(options, new RawNode(raft));
    node.learnAddressesFromLog();
    await options.transport.start({
      onMessage: (m) => node.onMessage(m),
      onSnapshot: (s) => node.onSnapshot(s),
      onUnreachable: (peer) => node.onUnreachable(peer),
    });
    node.updateTransportPeers();
    // A cluster of one need not wait an election timeout to find out that it wins.
    if (raft.conf.voters.length === 1 && raft.conf.voters[0] === options.id) node.raw.campaign();
    // A voter of a larger group starts most of an election timeout in (as etcd's
    // initial-election-tick-advance): after a whole-cluster restart the first election comes
    // 0 to 1 timeout later instead of 1 to 2. It cannot unseat a live leader: pre-vote fails
    // while the others still hear from one.
    else if (raft.conf.voters.includes(options.id)) for (let i = 0; i < options.electionTick - 1; i++) node.raw.tick();
    options.diskSpace?.onChange(() => node.onDiskSpaceChange());
    node.tickTimer = setInterval(() => node.tick(), options.tickIntervalMs);
    node.loop = node.runLoop().catch((error: unknown) => node.die(error));
    logger.info({ id: options.id, term: raft.term, applied: sm.appliedIndex(), lastIndex: log.lastIndex(), conf: raft.conf }, 'raft: node started');
    return node;
  }

  // ------------------------------------------------------------------ queries

  get id(): NodeId {
    return this.options.id;
  }

  status(): RaftStatus {
    return this.raw.status();
  }

  isLeader(): boolean {
    return this.raw.raft.role === StateRole.Leader;
  }

  leaderId(): NodeId {
    return this.raw.raft.lead;
  }

  address(id: NodeId): MemberAddress | undefined {
    return this.addresses.get(id);
  }

  conf(): ConfState {
    return this.raw.raft.conf;
  }

  get stopping(): boolean {
    return this.state !== 'running';
  }

  onLeaderChange(listener: (leader: NodeId, term: number) => void): void {
    this.leaderListeners.push(listener);
  }

  // ------------------------------------------------------------------ proposals and reads

  /** Proposes `data`; resolves with the state machine's result once applied here (leader). */
  propose(data: Uint8Array, options: CallOptions = {}): Promise<unknown> {
    const refusal = this.refusal('proposal');
    if (refusal !== null) return Promise.reject(refusal);
    if (this.queuedProposals.length + this.proposals.size >= this.options.maxPendingProposals) {
      return Promise.reject(new BackpressureError(`${this.options.maxPendingProposals} proposals pending`));
    }
    const startedMs = performance.now();
    return new Promise((resolve, reject) => {
      this.queuedProposals.push({
        data,
        timeoutMs: options.timeoutMs ?? this.options.proposalTimeoutMs,
        resolve: (result) => {
          this.observer.proposalSettled((performance.now() - startedMs) / 1000, true);
          resolve(result);
        },
        reject: (error) => {
          this.observer.proposalSettled((performance.now() - startedMs) / 1000, false);
          reject(error);
        },
      });
      this.proposalFlushScheduled ??= setImmediate(() => this.flushProposals());
    });
  }

  /** Resolves once the local state machine reflects every write committed before the call. */
  readBarrier(options: CallOptions = {}): Promise<void> {
    const refusal = this.refusal('read');
    if (refusal !== null) return Promise.reject(refusal);
    const startedMs = performance.now();
    return this.reads.read(options.timeoutMs ?? this.options.proposalTimeoutMs).then(
      () => this.observer.readSettled((performance.now() - startedMs) / 1000, true),
      (error: unknown) => {
        this.observer.readSettled((performance.now() - startedMs) / 1000, false);
        throw error;
      },
    );
  }

  /** Proposes one membership change (leader only) and waits until it is applied here. */
  async proposeConfChange(change: ConfChange, options: CallOptions = {}): Promise<void> {
    const refusal = this.refusal('configuration change');
    if (refusal !== null) throw refusal;
    const position = this.raw.proposeConfChange(change);
    this.wake();
    await this.proposals.track(position.lastIndex, position.term, options.timeoutMs ?? this.options.proposalTimeoutMs);
  }

  /**
   * Adds a member as a learner, waits until it has caught up with the leader's commit index,
   * then promotes it: an unreachable new member never costs the cluster its quorum.
   */
  async addMember(id: NodeId, address: MemberAddress, options: { catchUpTimeoutMs: number; timeoutMs?: number }): Promise<void> {
    await this.addLearner(id, address, options);
    await this.promoteLearner(id, options);
  }

  /**
   * Adds a member as a learner (it receives the log but does not vote); a member already in
   * the configuration is left as it is. The operator then watches it catch up and promotes it.
   */
  async addLearner(id: NodeId, address: MemberAddress, options: { timeoutMs?: number } = {}): Promise<void> {
    const context = encodeMemberContext(address);
    this.addresses.set(id, address);
    this.updateTransportPeers();
    const conf = this.raw.raft.conf;
    if (!conf.learners.includes(id) && !conf.voters.includes(id)) {
      await this.retryConfChange({ type: ConfChangeType.AddLearner, nodeId: id, context }, options);
    }
  }

  /**
   * Promotes a learner to voter once it has caught up with the leader's commit index (waiting
   * at most catchUpTimeoutMs): a voter that lags would make commits wait on it. A voter already
   * is left as it is; an id that is not a member is refused.
   */
  async promoteLearner(id: NodeId, options: { catchUpTimeoutMs: number; timeoutMs?: number }): Promise<void> {
    if (this.raw.raft.conf.voters.includes(id)) return;
    if (!this.raw.raft.conf.learners.includes(id)) throw new ConfChangeRejectedError(`member ${id} is not a learner of this cluster`);
    const deadline = performance.now() + options.catchUpTimeoutMs;
    for (;;) {
      const refusal = this.refusal('member catch-up');
      if (refusal !== null) throw refusal;
      if (!this.isLeader()) throw new NotLeaderError(this.leaderId(), 'member catch-up');
      const pr = this.raw.status().progress.get(id);
      if (pr !== undefined && pr.match >= this.raw.raft.log.committed) break;
      if (performance.now() > deadline) throw new RaftTimeoutError(`catch-up of new member ${id}`, options.catchUpTimeoutMs);
      await sleep(this.options.tickIntervalMs);
    }
    if (!this.raw.raft.conf.voters.includes(id)) {
      const address = this.addresses.get(id);
      const context = address === undefined ? new Uint8Array(0) : encodeMemberContext(address);
      await this.retryConfChange({ type: ConfChangeType.AddVoter, nodeId: id, context }, options);
    }
  }

  async removeMember(id: NodeId, options: { timeoutMs?: number } = {}): Promise<void> {
    if (!isMember(this.raw.raft.conf, id)) return;
    await this.retryConfChange({ type: ConfChangeType.RemoveNode, nodeId: id, context: new Uint8Array(0) }, options);
  }

  /** A change refused only because another one is still in flight is retried until the deadline. */
  private async retryConfChange(change: ConfChange, options: { timeoutMs?: number }): Promise<void> {
    const timeoutMs = options.timeoutMs ?? this.options.proposalTimeoutMs;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      try {
        await this.proposeConfChange(change, { timeoutMs: Math.max(1, deadline - performance.now()) });
        return;
      } catch (error) {
        const retryable = error instanceof ConfChangeRejectedError && /not committed yet|has not committed/.test(error.message);
        if (!retryable || performance.now() > deadline) throw error;
        await sleep(this.options.tickIntervalMs);
      }
    }
  }

  /**
   * Moves leadership to `target` (NONE: the most up-to-date voter) and resolves when this
   * member sees it lead. Works on a follower too: the request is forwarded to the leader.
   */
  async transferLeadership(target: NodeId, options: CallOptions = {}): Promise<NodeId> {
    const timeoutMs = options.timeoutMs ?? this.options.tickIntervalMs * this.options.electionTick * 2;
    if (target === NONE) target = this.mostUpToDateFollower();
    if (target === NONE) throw new NotLeaderError(this.leaderId(), 'leadership transfer');
    if (this.leaderId() === target) return target;
    this.raw.transferLeader(target);
    this.wake();
    let waiter: { target: NodeId; resolve: () => void; reject: (error: Error) => void } | undefined;
    const moved = new Promise<void>((resolve, reject) => {
      waiter = { target, resolve, reject };
      this.leaderWaiters.add(waiter);
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RaftTimeoutError(`leadership transfer to ${target}`, timeoutMs)), timeoutMs);
    });
    try {
      await Promise.race([moved, timedOut]);
      return target;
    } finally {
      clearTimeout(timer);
      this.leaderWaiters.delete(waiter!);
    }
  }

  private mostUpToDateFollower(): NodeId {
    if (!this.isLeader()) return NONE;
    let best = NONE;
    let bestMatch = -1;
    for (const [id, pr] of this.raw.status().progress) {
      if (id === this.id || !this.raw.raft.conf.voters.includes(id)) continue;
      if (pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    }
    return best;
  }

  private refusal(what: string): Error | null {
    if (this.fatal !== null) return new ShuttingDownError(what);
    if (this.state !== 'running') return new ShuttingDownError(what);
    const full = this.options.diskSpace?.fullError ?? null;
    if (full !== null) return new MemberDiskFullError(what, full);
    return null;
  }

  // ------------------------------------------------------------------ a full disk

  private onDiskSpaceChange(): void {
    if (this.state === 'stopped') return;
    const full = this.options.diskSpace?.fullError ?? null;
    if (full === null) return;
    // Proposals queued in this turn would only wait for a disk that cannot take them.
    const queued = this.queuedProposals;
    this.queuedProposals = [];
    for (const p of queued) p.reject(new MemberDiskFullError('proposal', full));
    this.diskFullHandoverTicks = this.options.electionTick;
    this.handOverForFullDisk();
  }

  /**
   * A leader whose disk is full cannot make new entries durable or apply them: it asks its most
   * up-to-date follower to take over (thesis 3.10), again every election timeout while it still
   * leads, and sends what the transfer needs (catch-up appends, TimeoutNow) at once, from the
   * tick: the Ready loop may be waiting for the disk.
   */
  private handOverForFullDisk(): void {
    if (!this.isLeader() || this.options.diskSpace?.fullError == null) return;
    if (this.diskFullHandoverTicks >= this.options.electionTick && this.raw.raft.leadTransferee === NONE) {
      this.diskFullHandoverTicks = 0;
      const target = this.mostUpToDateFollower();
      if (target !== NONE) {
        this.logger.warn({ to: target, term: this.raw.raft.term }, 'raft: disk full; handing leadership to the most up-to-date follower');
        this.raw.transferLeader(target);
      }
    }
    this.sendLeaderMessages(this.raw.takeMessagesBeforePersist());
  }

  /**
   * The log refused a save for lack of space and kept it: write it again after a pause until it
   * goes through. Ends (StoppedWhileWaitingError) when the node stops meanwhile.
   */
  private async retryUntilRoom(): Promise<void> {
    for (let pauseMs = DISK_FULL_RETRY_MIN_MS; ; pauseMs = Math.min(2 * pauseMs, DISK_FULL_RETRY_MAX_MS)) {
      try {
        await sleepUnless(pauseMs, undefined, { signal: this.stopped.signal });
      } catch {
        throw new StoppedWhileWaitingError('stopped while a save waited for disk space');
      }
      try {
        await this.options.log.retryPending();
        return;
      } catch (error) {
        if (!(error instanceof DiskFullError)) throw error;
      }
    }
  }

  /** Hands every proposal queued during this event-loop turn to the core as one batch. */
  private flushProposals(): void {
    this.proposalFlushScheduled = null;
    const batch = this.queuedProposals;
    this.queuedProposals = [];
    if (batch.length === 0) return;
    const refusal = this.refusal('proposal');
    if (refusal !== null) {
      for (const p of batch) p.reject(refusal);
      return;
    }
    let position;
    try {
      position = this.raw.propose(batch.map((p) => p.data));
    } catch (error) {
      for (const p of batch) p.reject(error as Error);
      return;
    }
    batch.forEach((p, i) => {
      this.proposals.track(position.firstIndex + i, position.term, p.timeoutMs).then(p.resolve, p.reject);
    });
    this.wake();
  }

  // ------------------------------------------------------------------ inputs

  private tick(): void {
    if (this.state === 'stopped') return;
    this.raw.tick();
    this.reads.onTick();
    if (this.options.diskSpace?.fullError != null) {
      this.diskFullHandoverTicks++;
      this.handOverForFullDisk();
    }
    this.wake();
  }

  private onMessage(m: Message): void {
    if (this.state === 'stopped' || m.to !== this.id) return;
    this.raw.step(m);
    this.wake();
  }

  private onUnreachable(peer: NodeId): void {
    if (this.state === 'stopped') return;
    this.raw.reportUnreachable(peer);
  }

  /** A leader's snapshot arrives: stage it beside the live state, then let the core decide. */
  private async onSnapshot(incoming: IncomingSnapshot): Promise<void> {
    const meta = incoming.message.snapshot;
    assert(meta !== null, 'snapshot stream without snapshot meta');
    if (this.state !== 'running') throw new ShuttingDownError('snapshot');
    if (this.stagedSnapshot !== null) throw new Error(`snapshot ${this.stagedSnapshot.index} is still being installed`);
    const sm = this.options.stateMachine;
    this.stagedSnapshot = meta;
    try {
      await sm.stageSnapshot(meta, incoming.chunks);
      this.raw.step(incoming.message);
      this.wake();
      const pending = this.raw.raft.log.unstable.snapshot;
      if (pending === null || pending.index !== meta.index || pending.term !== meta.term) {
        // The core did not need it (it already had those entries): drop the staged copy.
        await sm.discardStagedSnapshot();
        this.stagedSnapshot = null;
      }
      this.logger.info({ from: incoming.from, index: meta.index, term: meta.term, accepted: this.stagedSnapshot !== null }, 'raft: snapshot received');
    } catch (error) {
      this.stagedSnapshot = null;
      await sm.discardStagedSnapshot().catch(() => undefined);
      throw error;
    }
  }

  private wake(): void {
    this.earlyWake?.();
    const wake = this.wakeLoop;
    if (wake !== null) {
      this.wakeLoop = null;
      wake();
    }
  }

  // ------------------------------------------------------------------ the Ready loop

  private async runLoop(): Promise<void> {
    try {
      while (this.state !== 'stopped') {
        if (!this.raw.hasReady()) {
          if (this.compactableIndex > 0) {
            await this.compactLog();
            continue;
          }
          await new Promise<void>((resolve) => {
            this.wakeLoop = resolve;
          });
          continue;
        }
        await this.handleReady(this.raw.ready());
      }
    } catch (error) {
      // The Ready that waited for space is abandoned: none of it was acked or applied.
      if (!(error instanceof StoppedWhileWaitingError)) throw error;
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    const { stateMachine: sm, transport } = this.options;
    this.sendLeaderMessages(rd.leaderMessages);
    if (rd.snapshot !== null) {
      // State machine first: if we crash before the log records the snapshot, start-up finds
      // the state ahead of the log and records it then (reconcileLogWithStateMachine).
      const installStartedMs = performance.now();
      await sm.installStagedSnapshot(rd.snapshot);
      this.observer.snapshotInstalled((performance.now() - installStartedMs) / 1000);
      this.stagedSnapshot = null;
      this.proposals.replacedBySnapshot(rd.snapshot.index);
      this.logger.info({ index: rd.snapshot.index, term: rd.snapshot.term }, 'raft: snapshot installed');
    }
    const committed = rd.committedEntries;
    const persisting = this.mustPersist(rd) ? this.persist(rd) : null;
    // Committed entries that were made durable by an earlier Ready are applied while this one's
    // write is in flight: the disk and the state store work at the same time. Entries written by
    // this very Ready are applied only once that write is done.
    // Their proposers hear back as soon as the apply is done, without waiting for this write.
    const applyNow = committed.length > 0 && rd.snapshot === null && (rd.entries.length === 0 || committed[committed.length - 1].index < rd.entries[0].index);
    let applying: Promise<void> | null = applyNow ? this.applyCommitted(committed) : null;
    // While the write is in flight, acks keep arriving and the commit index moves: entries that
    // were durable here before this Ready are applied as soon as they are committed, after this
    // Ready's own, instead of waiting for the write and the next Ready (RawNode.takeCommittedDurable);
    // and new appends leave for the followers at once (RawNode.takeMessagesBeforePersist).
    // Early applies only follow this Ready's own committed entries when those were applied at
    // once; otherwise they would overtake them (and there can be none: see takeCommittedDurable).
    const background = persisting !== null && rd.snapshot === null ? this.workWhileWriting(persisting, applying, applyNow || committed.length === 0) : null;
    try {
      await persisting;
    } catch (error) {
      // Do not leave the applies unobserved; the save failure is what the loop reports.
      await Promise.allSettled([applying, background]);
      throw error;
    }
    if (rd.messages.length > 0) transport.send(rd.messages);
    if (rd.entries.length > 0) this.learnAddresses(rd.entries);
    // The background work ends with the write; this Ready's own committed entries, if they
    // waited for it, are applied after it.
    await background;
    if (committed.length > 0) applying ??= this.applyCommitted(committed);
    await applying;
    this.reads.onReadStates(rd.readStates);
    this.reads.onReadFailures(rd.readFailures);
    this.reads.onApplied(sm.appliedIndex());
    this.raw.advance();
    this.handleEvents(rd);
    this.maybeScheduleCompaction();
  }

  /**
   * Until `write` settles, on every input: send the messages that may leave before a write
   * (new appends to followers), and apply what became committed among entries already durable
   * here. Applies run one after another, after `first` (the outstanding Ready's own committed
   * entries).
   */
  private async workWhileWriting(write: Promise<void>, first: Promise<void> | null, applyEarly: boolean): Promise<void> {
    let writing = true;
    const settled = (): void => {
      writing = false;
      this.earlyWake?.();
    };
    write.then(settled, settled);
    if (first !== null) await first;
    while (writing && this.state !== 'stopped') {
      // Proposals made meanwhile reach the followers now, not after this write (thesis 10.2.1).
      this.sendLeaderMessages(this.raw.takeMessagesBeforePersist());
      const early = applyEarly ? this.raw.takeCommittedDurable() : [];
      if (early.length > 0) {
        await this.applyCommitted(early);
        this.raw.appliedTo(early[early.length - 1].index);
        continue;
      }
      await new Promise<void>((resolve) => {
        this.earlyWake = resolve;
      });
      this.earlyWake = null;
    }
  }

  /** Writes the Ready's snapshot, entries and hard state with one fdatasync, timed. */
  private async persist(rd: Ready): Promise<void> {
    const startedMs = performance.now();
    try {
      await this.options.log.save({ snapshot: rd.snapshot, entries: rd.entries, hardState: rd.hardState });
    } catch (error) {
      if (!(error instanceof DiskFullError)) throw error;
      await this.retryUntilRoom();
    }
    let bytes = 0;
    for (const e of rd.entries) bytes += e.data.byteLength;
    this.observer.persisted(rd.entries.length, bytes, (performance.now() - startedMs) / 1000);
  }

  /**
   * Whether this Ready must reach the disk before its messages go out: new entries, a snapshot,
   * or a new term or vote. A Ready that only moves the commit index needs no fsync (as etcd's
   * MustSync): after a crash the commit index is learnt again from the leader, and everything
   * applied was committed (the core takes max(stored commit, applied) on start).
   */
  private mustPersist(rd: Ready): boolean {
    if (rd.snapshot !== null || rd.entries.length > 0) return true;
    const hs = rd.hardState;
    if (hs === null) return false;
    const stored = this.options.log.hardState();
    return hs.term !== stored.term || hs.vote !== stored.vote;
  }

  private async applyCommitted(committed: readonly Entry[]): Promise<void> {
    const startedMs = performance.now();
    const results = await this.options.stateMachine.apply(committed);
    this.observer.applied(committed.length, (performance.now() - startedMs) / 1000);
    this.proposals.applied(committed, results);
    this.reads.onApplied(this.options.stateMachine.appliedIndex());
  }

  private sendLeaderMessages(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    let plain = messages;
    if (messages.some((m) => m.type === MessageType.Snap)) {
      plain = messages.filter((m) => m.type !== MessageType.Snap);
      for (const m of messages) if (m.type === MessageType.Snap) this.startSnapshotStream(m);
    }
    if (plain.length > 0) this.options.transport.send(plain);
  }

  /** Streams the state machine's current snapshot to a follower that needs one. */
  private startSnapshotStream(m: Message): void {
    if (this.snapshotStreams.has(m.to) || this.state === 'stopped') return;
    const controller = new AbortController();
    const done = this.streamSnapshot(m, controller.signal).finally(() => this.snapshotStreams.delete(m.to));
    this.snapshotStreams.set(m.to, { controller, done });
  }

  private async streamSnapshot(m: Message, signal: AbortSignal): Promise<void> {
    let ok = false;
    const startedMs = performance.now();
    try {
      const source = await this.options.stateMachine.openSnapshot();
      try {
        this.logger.info({ peer: m.to, index: source.meta.index, term: source.meta.term }, 'raft: streaming snapshot');
        await this.options.transport.sendSnapshot({ message: { ...m, snapshot: source.meta }, chunks: source.chunks(signal) }, signal);
        ok = true;
      } finally {
        await source.release();
      }
    } catch (error) {
      this.logger.warn({ peer: m.to, err: error }, 'raft: snapshot stream failed');
    }
    this.observer.snapshotSent(m.to, ok, (performance.now() - startedMs) / 1000);
    if (this.state !== 'stopped') {
      this.raw.reportSnapshot(m.to, ok);
      this.wake();
    }
  }

  private handleEvents(rd: Ready): void {
    for (const e of rd.events) {
      switch (e.kind) {
        case 'became-leader':
        case 'became-candidate':
        case 'leader-stepped-down':
        case 'transfer-started':
        case 'snapshot-restored':
          this.logger.info({ term: e.term, event: e.kind }, `raft: ${e.kind}`);
          break;
        case 'transfer-aborted':
          this.logger.info({ term: e.term, event: e.kind, target: e.target }, `raft: ${e.kind}`);
          // The core gave up (the target did not take over within an election timeout): a
          // caller waiting for it hears so now rather than at its own deadline.
          for (const w of this.leaderWaiters) if (w.target === e.target) w.reject(new RaftTimeoutError(`leadership transfer to ${e.target} (aborted by Raft)`, this.options.tickIntervalMs * this.options.electionTick));
          break;
        case 'conf-changed':
          this.logger.info({ index: e.index, voters: e.conf.voters, learners: e.conf.learners }, 'raft: configuration changed');
          this.updateTransportPeers();
          break;
        default:
          break;
      }
    }
    const leader = this.raw.raft.lead;
    if (leader !== this.lastLeader) {
      this.lastLeader = leader;
      this.logger.info({ leader, term: this.raw.raft.term }, 'raft: leader changed');
      this.observer.leaderChanged(leader, this.raw.raft.term);
      for (const listener of this.leaderListeners) listener(leader, this.raw.raft.term);
      for (const w of this.leaderWaiters) if (w.target === leader) w.resolve();
    }
  }

  // ------------------------------------------------------------------ compaction

  /**
   * When the log holds more than retainLogs entries past its snapshot, flush the state machine
   * (so the entries' effects are durable) and then compact up to what the flush covered.
   */
  private maybeScheduleCompaction(): void {
    if (this.compaction !== null || this.state === 'stopped') return;
    const { log, stateMachine: sm, retainLogs } = this.options;
    const target = sm.appliedIndex() - retainLogs;
    // Compact in steps of at least a tenth of the retained window, not on every entry.
    if (target - (log.firstIndex() - 1) < Math.max(1, Math.floor(retainLogs / 10))) return;
    this.compaction = sm
      .flush()
      .then((flushed) => {
        this.compactableIndex = Math.min(flushed, target);
        this.wake();
      })
      .catch((error: unknown) => {
        // No room for the flush: the log keeps its entries (it is compacted only up to what
        // the state store flushed), and a later Ready tries again.
        if (error instanceof DiskFullError) this.logger.debug({ err: error }, 'raft: compaction skipped: the state store has no space to flush');
        else this.die(error);
      })
      .finally(() => {
        this.compaction = null;
      });
  }

  /** Runs inside the loop, between Readies, so that it never overlaps a save. */
  private async compactLog(): Promise<void> {
    const index = this.compactableIndex;
    this.compactableIndex = 0;
    const log = this.options.log;
    if (index <= log.firstIndex() - 1 || index > log.lastIndex()) return;
    try {
      await log.compact(index, confAt(log, index));
    } catch (error) {
      // Its records stay pending in the log, ahead of the next save's, which writes them.
      if (!(error instanceof DiskFullError)) throw error;
      this.logger.debug({ index, err: error }, 'raft: compaction record waits for disk space');
      return;
    }
    this.logger.debug({ index, firstIndex: log.firstIndex() }, 'raft: log compacted');
  }

  // ------------------------------------------------------------------ addresses

  private learnAddressesFromLog(): void {
    const log = this.options.log;
    const last = log.lastIndex();
    for (let lo = log.firstIndex(); lo <= last; ) {
      const batch = log.entries(lo, last + 1, 4 * 1024 * 1024);
      this.learnAddresses(batch);
      lo += batch.length;
    }
  }

  private learnAddresses(entries: readonly Entry[]): void {
    for (const e of entries) {
      if (e.type !== EntryType.ConfChange) continue;
      const change = decodeConfChange(e.data);
      const address = decodeMemberContext(change.context);
      if (address !== null) this.addresses.set(change.nodeId, address);
    }
  }

  private updateTransportPeers(): void {
    const conf = this.raw.raft.conf;
    const peers: PeerAddress[] = [];
    for (const id of new Set([...conf.voters, ...conf.learners, ...this.addresses.keys()])) {
      const address = this.addresses.get(id);
      if (id !== this.id && address !== undefined) peers.push({ id, raftAddr: address.raftAddr });
    }
    this.options.transport.setPeers(peers);
  }

  // ------------------------------------------------------------------ lifecycle

  /** Lifecycle step 3: from now on new proposals and reads get ShuttingDownError. */
  stopAccepting(): void {
    if (this.state === 'running') this.state = 'refusing';
  }

  /** Waits for proposals in flight to settle, at most `timeoutMs`; the rest fail with ShuttingDownError. */
  async drain(timeoutMs: number): Promise<void> {
    this.stopAccepting();
    this.flushPendingQueue();
    const deadline = performance.now() + timeoutMs;
    while (this.proposals.size > 0 && performance.now() < deadline && this.fatal === null) {
      await sleep(Math.min(5, this.options.tickIntervalMs));
    }
    this.proposals.failAll(new ShuttingDownError('proposal', { outcomeUnknown: true }));
    this.reads.failAll(new ShuttingDownError('read'));
  }

  /** Lifecycle step 5: stop ticking and the transport, abort snapshot streams, end the loop. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.stopAccepting();
    this.flushPendingQueue();
    this.state = 'stopping';
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    this.tickTimer = null;
    // A save waiting for disk space is abandoned (it was never acked): the loop can end.
    this.stopped.abort();
    await this.options.transport.close();
    for (const s of this.snapshotStreams.values()) s.controller.abort();
    await Promise.allSettled([...this.snapshotStreams.values()].map((s) => s.done));
    this.state = 'stopped';
    this.wake();
    await this.loop;
    await this.compaction;
    this.proposals.failAll(new ShuttingDownError('proposal', { outcomeUnknown: true }));
    this.reads.failAll(new ShuttingDownError('read'));
    this.logger.info({ id: this.id }, 'raft: node stopped');
  }

  private flushPendingQueue(): void {
    if (this.proposalFlushScheduled !== null) {
      clearImmediate(this.proposalFlushScheduled);
      this.proposalFlushScheduled = null;
    }
    const queued = this.queuedProposals;
    this.queuedProposals = [];
    for (const p of queued) p.reject(new ShuttingDownError('proposal'));
  }

  /** A store failed under the loop: nothing can be trusted to go on. Fail everything and report once. */
  private die(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    if (this.fatal !== null) return;
    this.fatal = err;
    this.state = 'stopped';
    this.stopped.abort();
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    this.tickTimer = null;
    this.proposals.failAll(new ShuttingDownError('proposal', { outcomeUnknown: true }));
    this.reads.failAll(new ShuttingDownError('read'));
    this.logger.error({ err }, 'raft: fatal error in the Ready loop');
    this.options.onFatal(err);
  }
}

/** The configuration at `index`, from the log's snapshot and its conf entries up to `index`. */
export function confAt(log: RaftStorage, index: number): ConfState {
  let conf = log.snapshot().conf;
  const first = log.firstIndex();
  for (let lo = first; lo <= index; ) {
    const batch = log.entries(lo, index + 1, 4 * 1024 * 1024);
    for (const e of batch) if (e.type === EntryType.ConfChange) conf = applyConfChange(conf, decodeConfChange(e.data));
    lo += batch.length;
  }
  return conf;
}

/**
 * The state machine may be ahead of the log (a crash after a snapshot install, before the log
 * recorded it) or the log may hold a conflicting suffix the snapshot replaced: then the log is
 * reset to the state machine's position. A state machine behind the compacted log cannot
 * recover by replay: that is a fatal inconsistency.
 */
async function reconcileLogWithStateMachine(log: DurableLog, sm: StateMachine, logger: Logger): Promise<void> {
  const applied = sm.appliedIndex();
  if (applied === 0) return;
  const snapshotIndex = log.snapshot().index;
  if (applied < snapshotIndex) {
    throw new Error(`state machine at ${applied} is behind the compacted log (snapshot ${snapshotIndex}): state lost`);
  }
  let term = 0;
  if (applied <= log.lastIndex()) term = log.term(applied);
  if (term === sm.appliedTerm()) return;
  const meta: SnapshotMeta = { index: applied, term: sm.appliedTerm(), conf: sm.confState() };
  logger.warn({ applied, logTermAtApplied: term, lastIndex: log.lastIndex() }, 'raft: log behind the state machine; recording its snapshot');
  await log.save({ snapshot: meta, entries: [], hardState: null });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
