// Plain data shared by the Raft core, its drivers and the simulator. Nothing here does I/O.

/** A member id. 0 means "none" (no leader known, no vote cast). */
export type NodeId = number;
export const NONE: NodeId = 0;

export const EntryType = {
  /** Application data (an empty payload is the leader's no-op of its term). */
  Normal: 0,
  /** A membership change (see conf-change.ts for the payload). */
  ConfChange: 1,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must survive a crash besides the log (Raft paper, Figure 2, "persistent state"). */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: NONE, commit: 0 });

/** The membership: voters decide elections and commits; learners only receive the log. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export const EMPTY_CONF_STATE: ConfState = Object.freeze({ voters: [], learners: [] });

/**
 * The description of a snapshot: the state machine after applying every entry up to `index`.
 * The bytes of the state travel beside it, streamed by the driver; the core never sees them.
 */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly conf: ConfState;
}

export const EMPTY_SNAPSHOT: SnapshotMeta = Object.freeze({ index: 0, term: 0, conf: EMPTY_CONF_STATE });

export const MessageType = {
  /** Leader -> follower: entries after (index, logTerm), and the leader's commit. */
  App: 1,
  /** Follower -> leader: accepted up to `index`, or rejected at `index` with a hint. */
  AppResp: 2,
  Vote: 3,
  VoteResp: 4,
  PreVote: 5,
  PreVoteResp: 6,
  /** Leader -> follower: keep-alive, commit, and the ReadIndex context being confirmed. */
  Heartbeat: 7,
  HeartbeatResp: 8,
  /** Leader -> follower: install the snapshot described by `snapshot` (data streamed beside). */
  Snap: 9,
  /** Leader -> transfer target: campaign now, skipping pre-vote and the leader lease. */
  TimeoutNow: 10,
  /** Follower -> leader: a forwarded ReadIndex request. */
  ReadIndex: 11,
  ReadIndexResp: 12,
  /** Follower -> leader: a forwarded leadership transfer request. */
  TransferLeader: 13,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export const MESSAGE_TYPE_NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(MessageType).map(([name, value]) => [value, `Msg${name}`])),
);

/**
 * One message between members. A single shape keeps the codec and the simulator simple;
 * fields a type does not use are left at their defaults (0, false, empty).
 */
export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** App: term of the entry at `index`. Vote: term of the candidate's last entry. AppResp reject: hint term. */
  readonly logTerm: number;
  /** App: index before `entries`. AppResp: match index, or the rejected index. Vote: last index. ReadIndexResp: read index. */
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  /** AppResp reject: the follower's suggestion for the leader's next probe. */
  readonly rejectHint: number;
  /** Snap: which snapshot to install. */
  readonly snapshot: SnapshotMeta | null;
  /** Heartbeat(Resp)/ReadIndex(Resp): the read request id. Vote/PreVote: TRANSFER_CONTEXT for a transfer. TransferLeader: unused. */
  readonly context: string;
}

/** Marks a vote caused by a leadership transfer, which voters grant despite a live leader. */
export const TRANSFER_CONTEXT = 'transfer';

export const StateRole = {
  Follower: 'follower',
  PreCandidate: 'pre-candidate',
  Candidate: 'candidate',
  Leader: 'leader',
} as const;
export type StateRole = (typeof StateRole)[keyof typeof StateRole];

/** A ReadIndex answer: once the state machine has applied `index`, reads for `context` are linearizable. */
export interface ReadState {
  readonly context: string;
  readonly index: number;
}

/** A ReadIndex request that cannot be served here; the caller retries at `leaderHint` (0 = unknown). */
export interface ReadFailure {
  readonly context: string;
  readonly leaderHint: NodeId;
}

/** Things that happened inside the core, for logs, metrics and the simulator's counters. */
export type RaftEvent =
  | { readonly kind: 'became-follower'; readonly term: number; readonly leader: NodeId }
  | { readonly kind: 'became-pre-candidate'; readonly term: number }
  | { readonly kind: 'became-candidate'; readonly term: number }
  | { readonly kind: 'became-leader'; readonly term: number }
  | { readonly kind: 'leader-stepped-down'; readonly term: number; readonly reason: 'check-quorum' | 'removed' | 'higher-term' }
  | { readonly kind: 'transfer-started'; readonly term: number; readonly target: NodeId }
  | { readonly kind: 'transfer-aborted'; readonly term: number; readonly target: NodeId }
  | { readonly kind: 'conf-changed'; readonly index: number; readonly conf: ConfState }
  | { readonly kind: 'snapshot-needed'; readonly peer: NodeId; readonly index: number }
  | { readonly kind: 'snapshot-restored'; readonly index: number; readonly term: number };

/** What the core asks of its driver; see raw-node.ts for the rules of handling one. */
export interface Ready {
  /** Persist before sending `messages` and before applying. Null when unchanged. */
  readonly hardState: HardState | null;
  /** Persist (after the snapshot, if any); the first may overwrite a conflicting stored suffix. */
  readonly entries: readonly Entry[];
  /** Install and persist before `entries`; it replaces the log up to its index. */
  readonly snapshot: SnapshotMeta | null;
  /** Apply in order, after the persistence above. */
  readonly committedEntries: readonly Entry[];
  /** Send only after this Ready's state is durable (votes, append acks...). */
  readonly messages: readonly Message[];
  /** A leader's appends and heartbeats: may be sent while its own write is in flight. */
  readonly leaderMessages: readonly Message[];
  readonly readStates: readonly ReadState[];
  readonly readFailures: readonly ReadFailure[];
  readonly events: readonly RaftEvent[];
}
