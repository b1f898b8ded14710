// One simulated cluster run from one seed: members running the real Raft core over a simulated
// network and disk, a fault schedule, clients, and the invariants of invariants.ts checked after
// every step. Same seed, same run, bit for bit.
import {
  applyConfChange,
  bootstrapLog,
  ConfChangeType,
  decodeConfChange,
  describeEntries,
  describeMessage,
  describeReady,
  EMPTY_CONF_STATE,
  EntryType,
  MemoryStorage,
  MessageType,
  NONE,
  Raft,
  RawNode,
  SeededRandom,
  StateRole,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type RaftConfig,
  type Ready,
  type SnapshotMeta,
} from '../../../src/raft/core/index.js';
import { AssertionError } from '../../../src/util/assert.js';
import { OperatingError } from '../../../src/util/errors.js';
import { EventQueue } from './event-queue.js';
import { chainHash } from './hash.js';
import { Invariants, Violation } from './invariants.js';
import { CALM, SimNetwork } from './sim-network.js';

/** A deliberately broken variant of the core or driver, to prove the checks can fail (test only). */
export interface BrokenVariant {
  readonly name: string;
  readonly createRaft?: (config: RaftConfig) => Raft;
  /** The driver forgets the vote when a member restarts. */
  readonly forgetVoteOnRestart?: boolean;
}

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  /** Events processed while faults are injected; then everything heals and liveness is checked. */
  readonly steps: number;
  readonly variant?: BrokenVariant;
  readonly trace?: (line: string) => void;
}

export interface SimResult {
  readonly seed: number;
  readonly nodes: number;
  readonly violation: Violation | null;
  readonly commits: number;
  readonly elections: number;
  readonly snapshots: number;
  readonly membershipChanges: number;
  readonly faults: number;
  readonly simTimeMs: number;
  readonly events: number;
}

const TICK_MS = 10;
const ELECTION_TICK = 10;
const HEARTBEAT_TICK = 2;
const ELECTION_TIMEOUT_MS = TICK_MS * ELECTION_TICK;
/** After healing, a leader must commit a new proposal within this time. */
const LIVENESS_BOUND_MS = 60 * ELECTION_TIMEOUT_MS;
const MAX_MEMBERS = 7;

interface FsmState {
  readonly index: number;
  readonly digest: number;
  readonly conf: ConfState;
}

interface SnapshotData extends FsmState {
  readonly term: number;
}

type SimEvent =
  | { readonly kind: 'tick'; readonly node: SimNode; readonly gen: number }
  | { readonly kind: 'deliver'; readonly message: Message; readonly snapshot: SnapshotData | null }
  | { readonly kind: 'disk-done'; readonly node: SimNode; readonly gen: number }
  | { readonly kind: 'snapshot-report'; readonly from: NodeId; readonly to: NodeId; readonly ok: boolean }
  | { readonly kind: 'flush'; readonly node: SimNode; readonly gen: number }
  | { readonly kind: 'restart'; readonly node: SimNode }
  | { readonly kind: 'retire'; readonly node: SimNode }
  | { readonly kind: 'heal-network' }
  | { readonly kind: 'calm-network' }
  | { readonly kind: 'propose' }
  | { readonly kind: 'read' }
  | { readonly kind: 'fault' };

/** One member: the core (while up), its durable disk, and its state machine. */
class SimNode {
  raw: RawNode | null = null;
  up = false;
  retired = false;
  /** Incremented at every crash: events scheduled before it are stale. */
  gen = 0;
  readonly storage = new MemoryStorage();
  /** Chain hash at the storage's snapshot index and of every stored entry after it. */
  chainBase = 0;
  chains: number[] = [];
  /** Configuration history of the durable log: base (the snapshot's) and conf entries after it. */
  confBase: ConfState = EMPTY_CONF_STATE;
  confEntries: { index: number; conf: ConfState }[] = [];
  snapshotData: SnapshotData = { index: 0, term: 0, digest: 0, conf: EMPTY_CONF_STATE };
  fsm: FsmState = { index: 0, digest: 0, conf: EMPTY_CONF_STATE };
  fsmFlushed: FsmState = this.fsm;
  writing: Ready | null = null;
  /** The outstanding Ready's committed entries were applied when it was taken (see afterInput). */
  writingApplied = false;
  slowDiskUntilMs = 0;
  /** Snapshot streams received and waiting for the core to accept them, by "term/index". */
  readonly incomingSnapshots = new Map<string, SnapshotData>();
  lastCommit = 0;
  lastLeaderTerm = 0;

  constructor(readonly id: NodeId) {}

  chainAt(index: number): number | undefined {
    const base = this.storage.snapshot().index;
    if (index === base) return this.chainBase;
    if (index < base) return undefined;
    return this.chains[index - base - 1];
  }
}

interface PendingProposal {
  readonly node: SimNode;
  readonly gen: number;
  readonly term: number;
  readonly data: Uint8Array;
  readonly conf: boolean;
}

export function runSimulation(options: SimOptions): SimResult {
  return new Simulation(options).run();
}

class Simulation {
  private readonly random: SeededRandom;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly network: SimNetwork;
  private readonly invariants = new Invariants();
  private readonly nodes = new Map<NodeId, SimNode>();
  private nextNodeId: number;
  private now = 0;
  private events = 0;
  private healed = false;
  private healedAtMs = 0;
  private livenessMet = false;
  private readonly pending = new Map<string, PendingProposal>();
  private readonly pendingReads = new Map<string, { node: SimNode; gen: number; ackedBeforeInvoke: number }>();
  private readonly removals: { node: SimNode; index: number; term: number }[] = [];
  private proposalSeq = 0;
  private readSeq = 0;
  private commits = 0;
  private commitsAfterHeal = 0;
  private elections = 0;
  private snapshots = 0;
  private membershipChanges = 0;
  private faults = 0;
  // Per-seed personality: how hard this run pushes compaction, message size and disks.
  private readonly retainEntries: number;
  private readonly maxSizePerMsgBytes: number;
  private readonly diskLatencyMs: number;

  constructor(private readonly options: SimOptions) {
    this.random = new SeededRandom(options.seed);
    this.network = new SimNetwork(new SeededRandom(options.seed ^ 0x5eed), 1 + this.random.nextInt(3));
    this.nextNodeId = options.nodes + 1;
    this.retainEntries = 2 + this.random.nextInt(40);
    this.maxSizePerMsgBytes = [64, 256, 4096][this.random.nextInt(3)];
    this.diskLatencyMs = 0.2 + this.random.nextFloat() * 2;
  }

  run(): SimResult {
    let violation: Violation | null = null;
    try {
      this.start();
      this.loop();
    } catch (error) {
      if (error instanceof Violation) violation = error;
      else if (error instanceof AssertionError) violation = new Violation('core assertion', `${error.message}\n${error.stack?.split('\n').slice(1, 6).join('\n')}`);
      else if (error instanceof Error) violation = new Violation('simulator error', `${error.message}\n${error.stack?.split('\n').slice(1, 6).join('\n')}`);
      else throw error;
    }
    return {
      seed: this.options.seed,
      nodes: this.options.nodes,
      violation,
      commits: this.commits,
      elections: this.elections,
      snapshots: this.snapshots,
      membershipChanges: this.membershipChanges,
      faults: this.faults,
      simTimeMs: Math.round(this.now),
      events: this.events,
    };
  }

  private trace(line: () => string): void {
    if (this.options.trace !== undefined) this.options.trace(`${this.now.toFixed(1).padStart(8)} ${line()}`);
  }

  private start(): void {
    const voters = Array.from({ length: this.options.nodes }, (_, i) => i + 1);
    const boot = bootstrapLog(voters);
    for (const id of voters) {
      const node = new SimNode(id);
      this.nodes.set(id, node);
      this.appendDurably(node, boot.entries);
      node.storage.setHardState(boot.hardState);
      this.startNode(node);
    }
    this.queue.push(5, { kind: 'propose' });
    this.queue.push(7, { kind: 'read' });
    this.queue.push(50, { kind: 'fault' });
  }

  private loop(): void {
    for (;;) {
      const next = this.queue.pop();
      if (next === undefined) throw new Violation('liveness', 'the simulation ran out of events');
      this.now = next.time;
      this.events++;
      this.handle(next.event);
      if (!this.healed && this.events >= this.options.steps) this.heal();
      if (this.healed) {
        if (this.livenessMet) return;
        if (this.now > this.healedAtMs + LIVENESS_BOUND_MS) {
          throw new Violation('liveness', `no proposal committed within ${LIVENESS_BOUND_MS} ms after healing (${this.describeCluster()})`);
        }
      }
    }
  }

  private handle(event: SimEvent): void {
    switch (event.kind) {
      case 'tick':
        if (event.node.gen !== event.gen || !event.node.up) return;
        event.node.raw!.tick();
        this.afterInput(event.node);
        this.queue.push(this.now + TICK_MS, event);
        return;
      case 'deliver':
        this.deliver(event.message, event.snapshot);
        return;
      case 'disk-done':
        if (event.node.gen !== event.gen || !event.node.up) return;
        this.finishReady(event.node);
        return;
      case 'snapshot-report': {
        const node = this.nodes.get(event.from);
        if (node?.up === true) {
          node.raw!.reportSnapshot(event.to, event.ok);
          this.afterInput(node);
        }
        return;
      }
      case 'flush':
        if (event.node.gen !== event.gen || !event.node.up) return;
        this.flushAndCompact(event.node);
        this.queue.push(this.now + 20 + this.random.nextInt(150), event);
        return;
      case 'restart':
        if (!event.node.up && !event.node.retired) this.startNode(event.node);
        return;
      case 'retire':
        this.trace(() => `${event.node.id} retired (removed from the configuration)`);
        this.crash(event.node);
        event.node.retired = true;
        return;
      case 'heal-network':
        this.network.heal();
        return;
      case 'calm-network':
        this.network.conditions = { ...CALM };
        return;
      case 'propose':
        this.clientPropose();
        this.queue.push(this.now + 1 + this.random.nextInt(this.healed ? 20 : 12), event);
        return;
      case 'read':
        this.clientRead();
        this.queue.push(this.now + 2 + this.random.nextInt(25), event);
        return;
      case 'fault':
        if (this.healed) return;
        this.injectFault();
        this.queue.push(this.now + 30 + this.random.nextInt(250), event);
        return;
    }
  }

  // ------------------------------------------------------------------ members

  private startNode(node: SimNode): void {
    if (this.options.variant?.forgetVoteOnRestart === true && node.gen > 0) {
      const hs = node.storage.hardState();
      node.storage.setHardState({ ...hs, vote: NONE });
    }
    const config: RaftConfig = {
      id: node.id,
      storage: node.storage,
      random: new SeededRandom(this.options.seed * 31 + node.id * 7919 + node.gen),
      electionTick: ELECTION_TICK,
      heartbeatTick: HEARTBEAT_TICK,
      applied: node.fsm.index,
      maxSizePerMsgBytes: this.maxSizePerMsgBytes,
      maxInflightMsgs: 4,
      maxInflightBytes: 64 * 1024,
      maxUncommittedEntriesBytes: 4096,
      maxCommittedSizePerReadyBytes: 2048,
    };
    node.raw = new RawNode(this.options.variant?.createRaft?.(config) ?? new Raft(config));
    node.up = true;
    node.lastCommit = node.raw.raft.log.committed;
    node.lastLeaderTerm = 0;
    this.trace(() => `${node.id} started: term ${node.raw!.raft.term} commit ${node.lastCommit} applied ${node.fsm.index} last ${node.storage.lastIndex()}`);
    this.queue.push(this.now + this.random.nextInt(TICK_MS), { kind: 'tick', node, gen: node.gen });
    this.queue.push(this.now + 20 + this.random.nextInt(100), { kind: 'flush', node, gen: node.gen });
    this.afterInput(node);
  }

  /** Power loss: whatever was not durable is gone; a write in flight is torn at a random record. */
  private crash(node: SimNode): void {
    if (!node.up) return;
    if (node.writing !== null) {
      const ready = node.writing;
      const records = (ready.snapshot !== null ? 1 : 0) + ready.entries.length + (ready.hardState !== null ? 1 : 0);
      this.persist(node, ready, this.random.nextInt(records + 1));
      node.writing = null;
      node.writingApplied = false;
    }
    node.up = false;
    node.gen++;
    node.raw = null;
    node.fsm = node.fsmFlushed;
    node.incomingSnapshots.clear();
    for (const [key, p] of this.pending) if (p.node === node) this.pending.delete(key);
    for (const [key, r] of this.pendingReads) if (r.node === node) this.pendingReads.delete(key);
    this.trace(() => `${node.id} crashed: durable term ${node.storage.hardState().term} last ${node.storage.lastIndex()} applied ${node.fsm.index}`);
  }

  /** After any input: check what changed, then hand the next Ready to the disk. */
  private afterInput(node: SimNode): void {
    const raw = node.raw;
    if (raw === null) return;
    this.checkNode(node);
    if (node.writing !== null) {
      // As the real driver: messages that may leave before a write leave while one is in
      // flight, and committed entries already durable here are applied (each most of the
      // time, so that both orders are explored).
      if (this.random.nextFloat() < 0.8) for (const m of raw.takeMessagesBeforePersist()) this.send(node, m);
      if (this.random.nextFloat() < 0.8) {
        const early = raw.takeCommittedDurable();
        for (const e of early) this.apply(node, e);
        if (early.length > 0) {
          raw.appliedTo(early[early.length - 1].index);
          this.trace(() => `${node.id} applied ${early[0].index}..${early[early.length - 1].index} early`);
        }
      }
      return;
    }
    if (!raw.hasReady()) return;
    const ready = raw.ready();
    this.trace(() => `${node.id} ready:\n${describeReady(ready, '           ')}`);
    for (const e of ready.events) if (e.kind === 'became-leader') this.elections++;
    for (const m of ready.leaderMessages) this.send(node, m);
    node.writing = ready;
    // As the real driver: committed entries that earlier Readies made durable are applied at
    // once, while this Ready's write is in flight; the rest wait for the write.
    const last = ready.committedEntries[ready.committedEntries.length - 1];
    node.writingApplied = last !== undefined && ready.snapshot === null && (ready.entries.length === 0 || last.index < ready.entries[0].index);
    if (node.writingApplied) for (const e of ready.committedEntries) this.apply(node, e);
    // Like the real driver, a Ready that only moves the commit index is not written at all.
    const latency = !mustPersist(ready, node.storage.hardState())
      ? 0
      : this.diskLatencyMs * (0.5 + this.random.nextFloat()) + (this.now < node.slowDiskUntilMs ? 20 + this.random.nextInt(100) : 0);
    this.queue.push(this.now + latency, { kind: 'disk-done', node, gen: node.gen });
  }

  private finishReady(node: SimNode): void {
    const ready = node.writing!;
    this.persist(node, ready, Infinity);
    node.writing = null;
    if (ready.snapshot !== null) this.snapshots++;
    for (const m of ready.messages) this.send(node, m);
    if (!node.writingApplied) for (const e of ready.committedEntries) this.apply(node, e);
    node.writingApplied = false;
    for (const rs of ready.readStates) {
      const read = this.pendingReads.get(rs.context);
      if (read === undefined || read.node !== node) continue;
      this.pendingReads.delete(rs.context);
      this.invariants.read(node.id, rs.context, rs.index, read.ackedBeforeInvoke);
    }
    for (const f of ready.readFailures) this.pendingReads.delete(f.context);
    node.raw!.advance();
    if (!this.healed && grantsVote(ready) && this.random.nextFloat() < 0.5) {
      // A crash right after casting a vote: the moment that tests vote durability.
      this.trace(() => `fault: crash ${node.id} right after voting`);
      this.crash(node);
      this.queue.push(this.now + 1 + this.random.nextInt(10), { kind: 'restart', node });
      return;
    }
    this.afterInput(node);
  }

  // ------------------------------------------------------------------ disk

  /** Makes the first `records` records of a Ready durable: snapshot, entries, hard state. */
  private persist(node: SimNode, ready: Ready, records: number): void {
    if (!mustPersist(ready, node.storage.hardState())) return;
    let left = records;
    if (ready.snapshot !== null) {
      if (left-- <= 0) return;
      this.installSnapshot(node, ready.snapshot);
    }
    const n = Math.min(ready.entries.length, left);
    if (n > 0) this.appendDurably(node, n === ready.entries.length ? ready.entries : ready.entries.slice(0, n));
    left -= n;
    if (n < ready.entries.length) return;
    if (ready.hardState !== null && left > 0) node.storage.setHardState(ready.hardState);
  }

  private appendDurably(node: SimNode, entries: readonly Entry[]): void {
    const base = node.storage.snapshot().index;
    const kept = entries.filter((e) => e.index > base);
    if (kept.length === 0) return;
    node.storage.append(kept);
    const first = kept[0].index;
    node.chains.length = first - base - 1;
    while (node.confEntries.length > 0 && node.confEntries[node.confEntries.length - 1].index >= first) node.confEntries.pop();
    for (const e of kept) {
      const previous = node.chainAt(e.index - 1);
      if (previous === undefined) throw new Error(`sim: no chain before ${e.index} on ${node.id}`);
      const chain = chainHash(previous, e.term, e.type, e.data);
      node.chains.push(chain);
      this.invariants.durableEntry(node.id, e.index, e.term, chain);
      if (e.type === EntryType.ConfChange) {
        const before = node.confEntries.length > 0 ? node.confEntries[node.confEntries.length - 1].conf : node.confBase;
        node.confEntries.push({ index: e.index, conf: applyConfChange(before, decodeConfChange(e.data)) });
      }
    }
  }

  /** Installs a snapshot atomically: the log, the state machine and its flushed copy together. */
  private installSnapshot(node: SimNode, meta: SnapshotMeta): void {
    const data = node.incomingSnapshots.get(`${meta.term}/${meta.index}`);
    if (data === undefined) throw new Error(`sim: node ${node.id} installs snapshot ${meta.term}/${meta.index} it never received`);
    const chain = this.invariants.chainOf(meta.index, meta.term);
    if (chain === undefined) throw new Error(`sim: snapshot ${meta.term}/${meta.index} of an entry never durable`);
    node.storage.applySnapshot(meta);
    node.chainBase = chain;
    node.chains = [];
    node.confBase = meta.conf;
    node.confEntries = [];
    node.snapshotData = data;
    node.fsm = { index: data.index, digest: data.digest, conf: data.conf };
    node.fsmFlushed = node.fsm;
    this.invariants.applied(node.id, data.index, data.digest);
    this.trace(() => `${node.id} installed snapshot ${meta.term}/${meta.index}`);
  }

  /** The state machine's memtable reaches disk; then the log is compacted up to what it holds. */
  private flushAndCompact(node: SimNode): void {
    node.fsmFlushed = node.fsm;
    const index = node.fsmFlushed.index;
    const storage = node.storage;
    if (index - storage.snapshot().index <= this.retainEntries || index > storage.lastIndex()) return;
    const term = storage.term(index);
    const chain = node.chainAt(index)!;
    const dropped = index - storage.snapshot().index;
    storage.compact(index, node.fsmFlushed.conf);
    node.chainBase = chain;
    node.chains = node.chains.slice(dropped);
    node.confBase = node.fsmFlushed.conf;
    node.confEntries = node.confEntries.filter((c) => c.index > index);
    node.snapshotData = { ...node.fsmFlushed, term };
    this.trace(() => `${node.id} compacted to ${term}/${index}`);
  }

  // ------------------------------------------------------------------ state machine

  private apply(node: SimNode, e: Entry): void {
    if (e.index !== node.fsm.index + 1) {
      throw new Violation('apply order', `node ${node.id} applies ${e.index} after ${node.fsm.index}`);
    }
    const digest = chainHash(node.fsm.digest, 0, e.type, e.data);
    const conf = e.type === EntryType.ConfChange ? applyConfChange(node.fsm.conf, decodeConfChange(e.data)) : node.fsm.conf;
    node.fsm = { index: e.index, digest, conf };
    this.invariants.applied(node.id, e.index, digest);
    const key = `${node.id}/${e.index}`;
    const proposal = this.pending.get(key);
    if (proposal === undefined) return;
    this.pending.delete(key);
    if (proposal.gen !== node.gen || proposal.term !== e.term || !sameBytes(proposal.data, e.data)) return;
    // Reported committed to the client.
    this.invariants.maxAcked = Math.max(this.invariants.maxAcked, e.index);
    if (proposal.conf) this.membershipChanges++;
    else {
      this.commits++;
      if (this.healed) {
        this.commitsAfterHeal++;
        this.livenessMet = true;
      }
    }
  }

  // ------------------------------------------------------------------ invariants after each step

  private checkNode(node: SimNode): void {
    const raft = node.raw!.raft;
    const committed = raft.log.committed;
    if (raft.role === StateRole.Leader && raft.term !== node.lastLeaderTerm) {
      node.lastLeaderTerm = raft.term;
      this.invariants.leader(node.id, raft.term);
      this.invariants.leaderCompleteness(node.id, raft.term, (index) => {
        if (index > raft.log.lastIndex()) return undefined;
        if (index < raft.log.firstIndex() - 1) return null;
        return raft.log.term(index);
      });
      this.trace(() => `${node.id} is leader of term ${raft.term}`);
    }
    if (committed > node.lastCommit) {
      for (let i = Math.max(node.lastCommit + 1, raft.log.firstIndex()); i <= committed; i++) {
        this.invariants.commit(node.id, i, raft.log.term(i), raft.term);
      }
      if (raft.role === StateRole.Leader && node.lastLeaderTerm === raft.term) {
        this.invariants.leaderCommitRule(node.id, raft.term, committed, raft.log.term(committed));
        const { conf, uncommittedConfChanges } = this.leaderLogConf(node, committed);
        this.invariants.commitQuorum(node.id, committed, raft.log.term(committed), conf.voters, (voter, index) => this.nodes.get(voter)?.chainAt(index));
        this.invariants.pendingConfChanges(node.id, uncommittedConfChanges);
      }
      node.lastCommit = committed;
    }
  }

  /**
   * The configuration a leader's log defines, computed here independently of the core: the
   * durable history before the unstable tail, then the tail's conf entries.
   */
  private leaderLogConf(node: SimNode, committed: number): { conf: ConfState; uncommittedConfChanges: number } {
    const unstable = node.raw!.raft.log.unstable;
    let conf: ConfState;
    let uncommitted = 0;
    if (unstable.snapshot !== null) {
      conf = unstable.snapshot.conf;
    } else {
      conf = node.confBase;
      for (const c of node.confEntries) {
        if (c.index >= unstable.offset) break;
        conf = c.conf;
        if (c.index > committed) uncommitted++;
      }
    }
    for (const e of unstable.entries) {
      if (e.type !== EntryType.ConfChange) continue;
      conf = applyConfChange(conf, decodeConfChange(e.data));
      if (e.index > committed) uncommitted++;
    }
    return { conf, uncommittedConfChanges: uncommitted };
  }

  // ------------------------------------------------------------------ network

  private send(from: SimNode, original: Message): void {
    let m = original;
    let snapshot: SnapshotData | null = null;
    if (m.type === MessageType.Snap) {
      // Like the real driver, stream the snapshot held now: the log may have been compacted
      // further since the core asked, and any snapshot at or past the one asked for will do.
      snapshot = from.snapshotData;
      if (snapshot.index < m.snapshot!.index) throw new Error(`sim: ${from.id} offers snapshot ${m.snapshot!.index} but holds ${snapshot.index}`);
      m = { ...m, snapshot: { index: snapshot.index, term: snapshot.term, conf: snapshot.conf } };
    }
    const delays = this.network.deliveryDelays(m.from, m.to);
    if (m.type === MessageType.Snap) {
      // A snapshot stream: the sender learns how it ended, a failed stream after a timeout.
      if (delays.length === 0) {
        this.queue.push(this.now + 50, { kind: 'snapshot-report', from: m.from, to: m.to, ok: false });
        return;
      }
      const target = this.nodes.get(m.to);
      const ok = target !== undefined && target.up;
      this.queue.push(this.now + delays[0] + 5, { kind: 'snapshot-report', from: m.from, to: m.to, ok });
    }
    for (const d of delays) this.queue.push(this.now + d, { kind: 'deliver', message: m, snapshot });
  }

  private deliver(m: Message, snapshot: SnapshotData | null): void {
    const target = this.nodes.get(m.to);
    if (target === undefined || !target.up) return;
    this.trace(() => `deliver ${describeMessage(m)}`);
    if (snapshot !== null) target.incomingSnapshots.set(`${snapshot.term}/${snapshot.index}`, snapshot);
    target.raw!.step(m);
    this.afterInput(target);
  }

  // ------------------------------------------------------------------ clients

  private randomUpNode(): SimNode | null {
    const up = [...this.nodes.values()].filter((n) => n.up);
    return up.length === 0 ? null : up[this.random.nextInt(up.length)];
  }

  private leader(): SimNode | null {
    let best: SimNode | null = null;
    for (const n of this.nodes.values()) {
      if (n.up && n.raw!.raft.role === StateRole.Leader && (best === null || n.raw!.raft.term > best.raw!.raft.term)) best = n;
    }
    return best;
  }

  private clientPropose(): void {
    // After healing, clients find the leader as a real client retries on NotLeader.
    const node = this.healed ? (this.leader() ?? this.randomUpNode()) : this.randomUpNode();
    if (node === null) return;
    const data = new TextEncoder().encode(`p${this.proposalSeq++}`);
    attempt(() => {
      const position = node.raw!.propose([data]);
      this.pending.set(`${node.id}/${position.lastIndex}`, { node, gen: node.gen, term: position.term, data, conf: false });
      this.trace(() => `client proposes ${describeEntries([{ term: position.term, index: position.lastIndex, type: EntryType.Normal, data }])} at ${node.id}`);
    });
    this.afterInput(node);
  }

  private clientRead(): void {
    const node = this.randomUpNode();
    if (node === null) return;
    const context = `r${this.readSeq++}`;
    attempt(() => {
      node.raw!.readIndex(context);
      this.pendingReads.set(context, { node, gen: node.gen, ackedBeforeInvoke: this.invariants.maxAcked });
    });
    this.afterInput(node);
  }

  // ------------------------------------------------------------------ faults

  private injectFault(): void {
    const roll = this.random.nextInt(100);
    this.faults++;
    if (roll < 18) this.crashRandom();
    else if (roll < 34) this.partition();
    else if (roll < 46) this.degradeNetwork();
    else if (roll < 54) this.slowDisk();
    else if (roll < 76) this.changeMembership();
    else if (roll < 86) this.transferLeadership();
    else this.faults--; // a quiet period
    this.retireCommittedRemovals();
  }

  /** Crashes a member, the leader half of the time; restarts it quickly or after a while. */
  private crashRandom(): void {
    const node = this.random.nextFloat() < 0.5 ? (this.leader() ?? this.randomUpNode()) : this.randomUpNode();
    if (node === null) return;
    this.trace(() => `fault: crash ${node.id}`);
    this.crash(node);
    const downMs = this.random.nextFloat() < 0.3 ? 1 + this.random.nextInt(15) : 20 + this.random.nextInt(1500);
    this.queue.push(this.now + downMs, { kind: 'restart', node });
  }

  private partition(): void {
    const live = [...this.nodes.values()].filter((n) => !n.retired).map((n) => n.id);
    const kind = this.random.nextInt(4);
    if (kind === 3) {
      // The leader with a minority: it keeps taking proposals that can never commit there.
      const leader = this.leader();
      if (leader === null) return;
      const others = live.filter((id) => id !== leader.id);
      const minority = new Set([leader.id, ...others.filter(() => this.random.nextFloat() < 0.3).slice(0, Math.floor((others.length - 1) / 2))]);
      for (const a of live) for (const b of live) if (minority.has(a) !== minority.has(b)) this.network.block(a, b);
      this.trace(() => `fault: partition leader with minority {${[...minority].join(' ')}} | rest`);
    } else if (kind === 0) {
      // Symmetric: a random side cut off from the rest.
      const side = new Set(live.filter(() => this.random.nextFloat() < 0.4));
      for (const a of live) for (const b of live) if (side.has(a) !== side.has(b)) this.network.block(a, b);
      this.trace(() => `fault: partition {${[...side].join(' ')}} | rest`);
    } else if (kind === 1) {
      const leader = this.leader();
      if (leader === null) return;
      for (const b of live) if (b !== leader.id) {
        this.network.block(leader.id, b);
        this.network.block(b, leader.id);
      }
      this.trace(() => `fault: isolate leader ${leader.id}`);
    } else {
      // One-way cuts: some members can send but not hear, or hear but not send.
      for (const a of live) for (const b of live) if (a !== b && this.random.nextFloat() < 0.25) this.network.block(a, b);
      this.trace(() => 'fault: one-way partitions');
    }
    this.queue.push(this.now + 50 + this.random.nextInt(2000), { kind: 'heal-network' });
  }

  private degradeNetwork(): void {
    this.network.conditions = {
      lossRate: this.random.nextFloat() * 0.3,
      duplicateRate: this.random.nextFloat() * 0.15,
      longDelayRate: this.random.nextFloat() * 0.2,
    };
    this.trace(() => `fault: network loss ${this.network.conditions.lossRate.toFixed(2)} dup ${this.network.conditions.duplicateRate.toFixed(2)} delay ${this.network.conditions.longDelayRate.toFixed(2)}`);
    this.queue.push(this.now + 100 + this.random.nextInt(1500), { kind: 'calm-network' });
  }

  private slowDisk(): void {
    const node = this.randomUpNode();
    if (node === null) return;
    node.slowDiskUntilMs = this.now + 100 + this.random.nextInt(1500);
    this.trace(() => `fault: slow disk on ${node.id}`);
  }

  private changeMembership(): void {
    const leader = this.leader();
    if (leader === null) return;
    const raft = leader.raw!.raft;
    const { voters, learners } = raft.conf;
    const members = voters.length + learners.length;
    const minVoters = Math.max(2, this.options.nodes - 2);
    const choice = this.random.nextInt(3);
    const propose = (type: ConfChangeType, nodeId: NodeId): boolean =>
      attempt(() => {
        const position = leader.raw!.proposeConfChange({ type, nodeId, context: new Uint8Array(0) });
        const data = raft.log.unstable.entries[raft.log.unstable.entries.length - 1].data;
        this.pending.set(`${leader.id}/${position.lastIndex}`, { node: leader, gen: leader.gen, term: position.term, data, conf: true });
        if (type === ConfChangeType.RemoveNode) this.removals.push({ node: this.nodes.get(nodeId)!, index: position.lastIndex, term: position.term });
        this.trace(() => `membership: leader ${leader.id} proposes ${['', 'add-voter', 'add-learner', 'remove'][type]} ${nodeId} at ${position.lastIndex}`);
      });
    if (choice === 0 && members < MAX_MEMBERS && learners.length < 2) {
      const node = new SimNode(this.nextNodeId);
      if (propose(ConfChangeType.AddLearner, node.id)) {
        this.nextNodeId++;
        this.nodes.set(node.id, node);
        this.startNode(node);
      }
    } else if (choice === 1 && learners.length > 0) {
      const learner = learners[this.random.nextInt(learners.length)];
      const pr = raft.progress.get(learner);
      if (pr !== undefined && pr.match >= raft.log.committed) propose(ConfChangeType.AddVoter, learner);
    } else if (choice === 2) {
      const all = [...voters, ...learners];
      const target = all[this.random.nextInt(all.length)];
      if (learners.includes(target) || voters.length > minVoters) propose(ConfChangeType.RemoveNode, target);
    }
    this.afterInput(leader);
  }

  /** A removed member is shut down once its removal is committed, as an operator would. */
  private retireCommittedRemovals(): void {
    for (let i = this.removals.length - 1; i >= 0; i--) {
      const { node, index, term } = this.removals[i];
      const committedTerm = this.invariants.committedTerm(index);
      if (committedTerm === undefined) continue;
      this.removals.splice(i, 1);
      if (committedTerm === term && !node.retired) this.queue.push(this.now + this.random.nextInt(500), { kind: 'retire', node });
    }
  }

  private transferLeadership(): void {
    const leader = this.leader();
    if (leader === null) return;
    const voters = leader.raw!.raft.conf.voters.filter((v) => v !== leader.id);
    if (voters.length === 0) return;
    const target = voters[this.random.nextInt(voters.length)];
    this.trace(() => `fault: transfer leadership ${leader.id} -> ${target}`);
    attempt(() => leader.raw!.transferLeader(target));
    this.afterInput(leader);
  }

  /** End of the fault phase: heal everything, bring every member back, then demand progress. */
  private heal(): void {
    this.healed = true;
    this.healedAtMs = this.now;
    this.network.heal();
    this.network.conditions = { ...CALM };
    for (const node of this.nodes.values()) {
      node.slowDiskUntilMs = 0;
      if (!node.up && !node.retired) this.startNode(node);
    }
    this.trace(() => `healed: ${this.describeCluster()}`);
  }

  private describeCluster(): string {
    return [...this.nodes.values()]
      .filter((n) => !n.retired)
      .map((n) => {
        if (!n.up) return `${n.id}:down`;
        const r = n.raw!.raft;
        return `${n.id}:${r.role}@${r.term} lead=${r.lead} commit=${r.log.committed} last=${r.log.lastIndex()} voters=(${r.conf.voters.join(' ')})`;
      })
      .join(', ');
  }
}

/** The driver's rule (src/raft/node.ts): entries, a snapshot, or a new term or vote must be durable. */
function mustPersist(ready: Ready, stored: { term: number; vote: number }): boolean {
  if (ready.snapshot !== null || ready.entries.length > 0) return true;
  const hs = ready.hardState;
  return hs !== null && (hs.term !== stored.term || hs.vote !== stored.vote);
}

function grantsVote(ready: Ready): boolean {
  return ready.messages.some((m) => m.type === MessageType.VoteResp && !m.reject);
}

/** Runs a client action; an operating error (not leader, backpressure...) is a normal refusal. */
function attempt(action: () => void): boolean {
  try {
    action();
    return true;
  } catch (error) {
    if (error instanceof OperatingError) return false;
    throw error;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
