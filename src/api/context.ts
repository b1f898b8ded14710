// What every route plugin receives: the ports, the leader-side services and the API's own
// pieces. Built once by createApiServer.

import type { ClusterService } from '../cluster/cluster.js';
import type { NodeService } from '../cluster/nodes.js';
import type { RaftControl, Replicator } from '../cluster/ports.js';
import type { Clock } from '../cluster/sources.js';
import type { DomainOps } from '../cluster/domain-ops.js';
import type { HostNames } from '../cluster/host-names.js';
import type { PartitionService } from '../cluster/partitions.js';
import type { RecoveryPort } from '../cluster/recovery/recovery-service.js';
import type { UserService } from '../cluster/users.js';
import type { VolumeService } from '../cluster/vols.js';
import type { NodeTaskClient } from '../nodes/task-client.js';
import type { TaskQueue } from '../nodes/task-queue.js';
import type { ViewOptions } from '../model/index.js';
import type { AccessMode, AccessRule } from './access-rules.js';
import type { LeaderForwarder } from './forward.js';
import type { ApiLimits, InFlightLimiter, RouteQpsLimiter } from './limits.js';
import type { ApiMetrics } from './metrics.js';

/** This member's identity and the config values routes print or put into commands. */
export interface ApiClusterConfig {
  readonly clusterName: string;
  /** Raft node id of this member (config `id`). */
  readonly selfId: number;
  /** host:port of this member's HTTP API (its `peers` entry). */
  readonly selfHttpAddr: string;
  /** `nodeSetCap` (spec 9): default 18, at least 3. */
  readonly nodeSetCapacity?: number;
  /** `legacyDataMediaType` (spec 9): 0 none, 1 SSD, 2 HDD. */
  readonly legacyDataMediaType?: number;
  /** Zone local times are printed in, seconds east of UTC (CubeFS prints local time). Default 0. */
  readonly utcOffsetSec?: number;
  /** `ebsAddr` / `ebsServicePath` / `enableSnapshot`, shown by /admin/getIp. */
  readonly ebsAddr?: string;
  readonly servicePath?: string;
  readonly enableSnapshot?: boolean;
  /** Config `singleNodeMode`: meta partitions get one replica (spec 9). */
  readonly singleNodeMode?: boolean;
}

/** Deadlines handed to the replicated core (CallOptions.timeoutMs). */
export interface ApiTimeouts {
  /** propose / readBarrier. Default 10 s. */
  readonly proposeMs: number;
  /** addMember (learner catch-up included) / removeMember. Default 25 s. */
  readonly membershipMs: number;
  /** transferLeadership. Default 10 s. */
  readonly transferMs: number;
}

export interface ApiContext {
  readonly cluster: Required<ApiClusterConfig>;
  readonly timeouts: ApiTimeouts;
  readonly replicator: Replicator;
  readonly raft: RaftControl;
  readonly services: {
    readonly users: UserService;
    readonly nodes: NodeService;
    readonly cluster: ClusterService;
    readonly vols: VolumeService;
    readonly partitions: PartitionService;
  };
  /** The leader-side machinery the domain routes share (owned by the master, see server.ts). */
  readonly domain: {
    readonly nodes: NodeTaskClient;
    readonly ops: DomainOps;
  };
  /**
   * The queued sender of ack-only node tasks; /metaNode/response and /dataNode/response
   * acknowledge its tasks. Started and stopped with leadership by its owner (the master).
   */
  readonly taskQueue: TaskQueue;
  /** The recovery round's share of node traffic (docs/recovery.md); null on an API without one. */
  readonly recovery: RecoveryPort | null;
  /** Wall time for what is stored and shown; monotonic time for node liveness (sources.ts). */
  readonly clock: Clock;
  /** Host names of node IPs, for DomainAddr in node views (cluster/host-names.ts). */
  readonly hostNames: HostNames;
  readonly forwarder: LeaderForwarder;
  readonly metrics: ApiMetrics;
  readonly viewOptions: ViewOptions;
  /** Every registered path and its methods, for 404 vs 405 (spec 1.1). */
  readonly methodsByPath: Map<string, Set<string>>;
  /** Which access rules apply (access-rules.ts). */
  readonly accessMode: AccessMode;
  /** The rule each route defined with defineRoute enforces, by path. */
  readonly accessEnforced: Map<string, AccessRule>;
  /** Limits on client input (limits.ts) and their counters. */
  readonly limits: ApiLimits;
  readonly inFlight: InFlightLimiter;
  readonly qps: RouteQpsLimiter;
}
