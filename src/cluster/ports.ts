// What the leader-side services and the HTTP layer need from the replicated core, as interfaces:
// the server (src/server) implements them over the Raft node and the MetadataFsm; tests of the
// API can implement them in memory.
import type { Command, ModelView, ResultOf } from '../model/index.js';

export interface CallOptions {
  /** Aborted when the HTTP request is gone or the server stops. */
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** Writes through Raft, and reads of the replicated model. */
export interface Replicator {
  /**
   * Proposes `command` on the leader; resolves with its apply result once applied here.
   * Rejects with an OperatingError: the command's own (duplicate user, ...) or Raft's
   * (NotLeaderError with the leader hint, ShuttingDownError, RaftTimeoutError, BackpressureError,
   * ProposalDroppedError).
   */
  propose<C extends Command>(command: C, options?: CallOptions): Promise<ResultOf<C>>;
  /** Resolves once `model` reflects every write committed before the call (ReadIndex). */
  readBarrier(options?: CallOptions): Promise<void>;
  /** The local, fully applied model. Read it after readBarrier() for linearizable answers. */
  readonly model: ModelView;
}

export interface MasterPeerInfo {
  readonly id: number;
  /** host:port of its HTTP API (CubeFS `peers` entry), what clients and forwarding use. */
  readonly httpAddr: string;
  readonly raftAddr: string;
  readonly isLearner: boolean;
}

export interface ReplicaProgress {
  readonly id: number;
  readonly match: number;
  readonly next: number;
  readonly state: string;
  readonly active: boolean;
}

/** A snapshot of this member's Raft state for /get/raftStatus and /admin/getCluster. */
export interface RaftInfo {
  readonly nodeId: number;
  readonly term: number;
  readonly vote: number;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly leaderId: number;
  /** The leader's HTTP address, or '' when no leader is known. */
  readonly leaderHttpAddr: string;
  readonly role: 'leader' | 'follower' | 'candidate' | 'pre-candidate';
  readonly peers: readonly MasterPeerInfo[];
  /** Leader only. */
  readonly replicas: readonly ReplicaProgress[];
  readonly stopping: boolean;
}

/** Membership and leadership operations (leader only unless noted). */
export interface RaftControl {
  info(): RaftInfo;
  /**
   * Whether this member leads now: info().role === 'leader' without building the rest of the
   * view (the API asks on every request to a leader route).
   */
  isLeader(): boolean;
  /** Adds a master as a learner, waits until it caught up (bounded), then promotes it to voter. */
  addMember(id: number, httpAddr: string, options?: CallOptions): Promise<void>;
  /**
   * Adds a master as a learner (it gets the log, has no vote) and resolves once the change is
   * applied; `raftAddr` defaults to the host of `httpAddr` with this cluster's replicaPort.
   */
  addLearner(id: number, httpAddr: string, raftAddr: string | undefined, options?: CallOptions): Promise<void>;
  /** Promotes a learner to voter once it caught up (a bounded wait); a voter already: nothing to do. */
  promoteLearner(id: number, options?: CallOptions): Promise<void>;
  removeMember(id: number, options?: CallOptions): Promise<void>;
  /** Moves leadership to `targetId` (0: the most up-to-date follower); resolves when it moved. */
  transferLeadership(targetId: number, options?: CallOptions): Promise<void>;
}

/** A member's own view of its state, for operators and the chaos audit (not a CubeFS route). */
export interface MemberStatus {
  readonly nodeId: number;
  readonly role: RaftInfo['role'];
  readonly term: number;
  readonly leaderId: number;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly stopping: boolean;
}

/** What a member holds, comparable across members at the same applied index. */
export interface AuditReport {
  readonly applied: number;
  /** sha256 over the in-memory model's records. */
  readonly modelDigest: string;
  /** sha256 over the model records in the state store, read from one consistent view. */
  readonly storeDigest: string;
  /** The applied index that view was at. */
  readonly storeApplied: number;
}

/** A hash of the log entries [from, to] as this member holds them (index, term, type, data). */
export interface LogDigest {
  readonly from: number;
  readonly to: number;
  readonly digest: string;
}

export interface Auditor {
  status(): MemberStatus;
  audit(): Promise<AuditReport>;
  /** Null when [from, to] is not all in this member's log (compacted or beyond). */
  logDigest(from: number, to: number): LogDigest | null;
}

/** What the leader-side services log through: pino's and fastify's loggers both fit. */
export interface LogSink {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * A consistent copy of this member's whole state as a backup file (src/fsm/snapshot-file.ts),
 * read while writes go on. `open` takes the view; the bytes must be consumed or the export
 * released. Exports in flight end when the member stops.
 */
export interface StateExporter {
  open(signal: AbortSignal): Promise<StateExport>;
}

export interface StateExport {
  readonly index: number;
  readonly term: number;
  readonly bytes: AsyncIterable<Uint8Array>;
  /** Fires when the export must end (the member stops, or the caller's signal fired). */
  readonly signal: AbortSignal;
  release(): Promise<void>;
}
