// The JSON the web console's read routes answer (`/console/api/*`, routes/console.ts), as types
// only: the server builds these shapes (console/views.ts, console/member-overview.ts,
// console/write-rate-sampler.ts) and the browser code (console/src, its own tsconfig) imports
// them with `import type`, so both sides are checked against one contract. This file must import
// nothing: the browser build compiles it without Node's types.
//
// 64-bit quantities (inode ranges, byte counts) are decimal strings: the browser's JSON.parse
// would round them past 2^53.

export type MemberRole = 'leader' | 'follower' | 'candidate' | 'pre-candidate';

/**
 * How a member looks from the member answering: healthy when it answers and its applied index is
 * near the leader's commit; unknown when it answers but no leader's commit is known to compare.
 */
export type MemberHealth = 'healthy' | 'lagging' | 'unreachable' | 'stopping' | 'unknown';

export interface ConsoleMember {
  readonly id: number;
  readonly httpAddr: string;
  readonly isLearner: boolean;
  readonly reachable: boolean;
  /** Why the member did not answer ('' when it did). */
  readonly error: string;
  /** Its own view of itself; null when unreachable. */
  readonly role: MemberRole | null;
  readonly term: number | null;
  readonly commit: number | null;
  readonly applied: number | null;
  /** The leader's replication progress for it (highest index known to be in its log); null when unknown. */
  readonly match: number | null;
  /** Entries its applied index trails the leader's commit index; null without a leader or an answer. */
  readonly lag: number | null;
  readonly health: MemberHealth;
}

export interface ConsoleOverview {
  readonly clusterName: string;
  /** The member that answered, as it sees itself. */
  readonly self: { readonly id: number; readonly httpAddr: string; readonly role: MemberRole };
  /** The leader this member believes in; null when it knows none. */
  readonly leader: { readonly id: number; readonly httpAddr: string } | null;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  readonly members: readonly ConsoleMember[];
  /** Records in this member's model (replicated state: the same on every member once applied). */
  readonly counts: {
    readonly vols: number;
    readonly metaPartitions: number;
    readonly dataPartitions: number;
    readonly metaNodes: number;
    readonly dataNodes: number;
    readonly users: number;
  };
  /** Entries a member's applied index may trail the leader's commit and still count as healthy. */
  readonly lagHealthyMaxEntries: number;
  readonly generatedAtMs: number;
}

/** CubeFS partition status names (proto: Unavailable -1, Recovering 0, ReadOnly 1, ReadWrite 2). */
export type PartitionStatusName = 'ReadWrite' | 'ReadOnly' | 'Recovering' | 'Unavailable' | 'Unknown';

export interface ConsoleVolSummary {
  readonly name: string;
  readonly owner: string;
  /** 'deleting': marked for deletion (Status 1), its partitions are being removed. */
  readonly status: 'normal' | 'deleting';
  readonly capacityBytes: string;
  readonly usedBytes: string;
  readonly metaPartitionCount: number;
  readonly dataPartitionCount: number;
  /** Data partitions whose status is ReadWrite. */
  readonly writableDataPartitionCount: number;
  readonly mpReplicaNum: number;
  readonly dpReplicaNum: number;
  readonly createTimeUnixSec: number;
}

export interface ConsoleMetaPartition {
  readonly id: number;
  /** Inode range [start, end]. */
  readonly start: string;
  readonly end: string;
  readonly members: readonly string[];
  /** '' until a member reports leadership. */
  readonly leaderAddr: string;
  readonly status: PartitionStatusName;
  readonly inodeCount: string;
  readonly dentryCount: string;
}

export interface ConsoleDataPartition {
  readonly id: number;
  readonly hosts: readonly string[];
  readonly leaderAddr: string;
  readonly status: PartitionStatusName;
  readonly replicaNum: number;
  readonly usedBytes: string;
}

export interface ConsoleVolDetail {
  readonly vol: ConsoleVolSummary;
  readonly inodeCount: string;
  readonly metaPartitions: readonly ConsoleMetaPartition[];
  readonly dataPartitions: readonly ConsoleDataPartition[];
}

export interface ConsoleNode {
  readonly kind: 'meta' | 'data';
  readonly id: number;
  readonly addr: string;
  readonly zone: string;
  readonly nodeSetId: number;
  /** Heartbeats arrive (the leader's view). */
  readonly active: boolean;
  readonly writable: boolean;
  readonly rdOnly: boolean;
  /** Meta nodes: memory; data nodes: disk space. */
  readonly totalBytes: number;
  readonly usedBytes: number;
  /** Partition replicas the node reported holding. */
  readonly partitionCount: number;
  /** Unix ms of its last heartbeat report; 0 = never. */
  readonly reportTimeMs: number;
}

export interface ConsoleNodes {
  readonly metaNodes: readonly ConsoleNode[];
  readonly dataNodes: readonly ConsoleNode[];
}

export interface ConsoleUser {
  readonly id: string;
  readonly type: 'root' | 'admin' | 'normal';
  /** The access key with its middle hidden (`AKab…xyz`); the secret key is never sent. */
  readonly accessKeyMasked: string;
  readonly ownVols: readonly string[];
  readonly authorizedVols: readonly string[];
  readonly createTime: string;
  readonly description: string;
}

export interface ConsoleRateSample {
  /** Unix ms at the end of the interval. */
  readonly tMs: number;
  /** Raft entries applied per second by the member answering (writes, and the leader's no-ops). */
  readonly commitsPerSec: number;
  /** CubeFS API requests answered per second by the member answering. */
  readonly requestsPerSec: number;
  /** Latency quantiles of those requests, estimated from the histogram buckets; null when none. */
  readonly latencyP50Ms: number | null;
  readonly latencyP99Ms: number | null;
}

export interface ConsoleSeries {
  readonly memberId: number;
  readonly intervalMs: number;
  readonly samples: readonly ConsoleRateSample[];
}
