// Heartbeat-derived state (spec 3 "Runtime-only", spec 6 heartbeat responses): node capacity and
// activity, and the replica reports of every partition. CubeFS keeps it in memory on the leader
// only and never persists it. Here it sits beside the replicated records but is NOT part of
// them: not written by apply, not in any change, record or digest. That is why it may hold
// monotonic times (reportMonoMs): they mean something only in this process of this member.
// This file holds only the shapes (it imports nothing, so state.ts can hold a LiveState without
// an import circle); the readers and writers are in live.ts.

export interface MetaNodeLive {
  readonly isActive: boolean;
  readonly isWritable: boolean;
  /** Comma-joined host names the node reported, e.g. "localhost:17210,vm:17210". */
  readonly domainAddr: string;
  /** Unix ms of the last heartbeat; 0 = never (views show Go's zero time). Shown, never used for liveness. */
  readonly reportTimeMs: number;
  /** This member's monotonic ms (Clock.monoMs) at the last heartbeat; what liveness ages (0 = never). */
  readonly reportMonoMs: number;
  readonly maxMemAvailWeight: number;
  readonly totalWeight: number;
  readonly usedWeight: number;
  readonly ratio: number;
  readonly selectCount: number;
  readonly threshold: number;
  readonly metaPartitionCount: number;
  readonly persistenceMetaPartitions: readonly number[];
  readonly canAllocPartition: boolean;
  readonly cpuUtil: number;
}

export interface DataNodeLive {
  readonly isActive: boolean;
  readonly isWritable: boolean;
  readonly domainAddr: string;
  /** Unix ms; before the first heartbeat CubeFS shows the time the node was added. Shown only. */
  readonly reportTimeMs: number;
  /** This member's monotonic ms (Clock.monoMs) at the last heartbeat; what liveness ages (0 = never). */
  readonly reportMonoMs: number;
  readonly totalWeight: number;
  readonly usedWeight: number;
  readonly availableSpace: number;
  readonly usageRatio: number;
  readonly selectedTimes: number;
  /** Opaque partition reports as the node sent them (shown verbatim; null before the first). */
  readonly dataPartitionReports: readonly unknown[] | null;
  readonly dataPartitionCount: number;
  readonly persistenceDataPartitions: readonly number[];
  readonly allDisks: readonly string[];
  readonly badDisks: readonly string[] | null;
  readonly lostDisks: readonly string[] | null;
  readonly canAllocPartition: boolean;
  readonly cpuUtil: number;
  readonly ioUtil: Readonly<Record<string, number>>;
}

/** What views read. Only the writers in live.ts change it (each bumps `version`). */
export interface LiveState {
  readonly metaNodes: ReadonlyMap<number, MetaNodeLive>;
  readonly dataNodes: ReadonlyMap<number, DataNodeLive>;
  /** partition id -> replica addr -> latest report. */
  readonly metaReplicas: ReadonlyMap<number, ReadonlyMap<string, MetaReplicaLive>>;
  readonly dataReplicas: ReadonlyMap<number, ReadonlyMap<string, DataReplicaLive>>;
  /**
   * Bumped by every write (live.ts). With ModelView.version it tells a cache of a view (the
   * API's /admin/getCluster body) that nothing the view reads has changed since it was built.
   */
  readonly version: number;
}

export function emptyLiveState(): LiveState {
  return { metaNodes: new Map(), dataNodes: new Map(), metaReplicas: new Map(), dataReplicas: new Map(), version: 0 };
}

/** One replica's report of a meta partition, from its meta node's heartbeat (spec 3.2 of node-protocol). */
export interface MetaReplicaLive {
  readonly addr: string;
  readonly nodeId: number;
  readonly start: bigint;
  readonly end: bigint;
  readonly maxInodeId: bigint;
  readonly inodeCount: bigint;
  readonly dentryCount: bigint;
  readonly status: number;
  readonly isLeader: boolean;
  readonly reportTimeMs: number;
  /** This member's monotonic ms at the report (see MetaNodeLive.reportMonoMs). */
  readonly reportMonoMs: number;
  /** The node's own flag for the partition (it learns the vol's setting from heartbeat requests). */
  readonly forbidWriteOpOfProtoVer0: boolean;
}

/** One replica's report of a data partition, from its data node's heartbeat. */
export interface DataReplicaLive {
  readonly addr: string;
  readonly nodeId: number;
  readonly status: number;
  readonly isLeader: boolean;
  readonly totalBytes: bigint;
  readonly usedBytes: bigint;
  readonly fileCount: number;
  readonly diskPath: string;
  readonly reportTimeMs: number;
  /** This member's monotonic ms at the report (see MetaNodeLive.reportMonoMs). */
  readonly reportMonoMs: number;
  readonly forbidWriteOpOfProtoVer0: boolean;
}
