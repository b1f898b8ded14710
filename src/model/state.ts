// The in-memory cluster model as plain data: typed, immutable records held in maps keyed the way
// routes look them up (id, addr, user id, access key), plus derived indexes that make those
// lookups O(1). Records are replaced, never edited in place: `apply` builds new records and
// `applyChanges` swaps them in, so a record handed to a caller never changes under it.
//
// What is persisted (spec section 3 and 4.2) lives in the record maps and `counters`; the
// `index` is rebuilt from the records; `live` holds heartbeat-derived fields that are neither
// replicated nor persisted (see live.ts).

import { assert } from '../util/assert.js';
import type { LiveState } from './live-state.js';
import { emptyLiveState } from './live-state.js';
import type { RecoveryRecord } from './recovery-state.js';
import type { DataPartitionRecord, MetaPartitionRecord, VolIntentRecord, VolRecord } from './vol-state.js';
import { DEFAULT_MP_INODE_STEP } from './vol-state.js';

/** The user every cluster has from bootstrap on (spec 2: root, password "CubeFSRoot", type 1). */
export const ROOT_USER_ID = 'root';

/** `user_type` of `proto.UserInfo` (spec 1.5, 3): 1 root, 2 admin, 3 normal. */
export const UserType = { Root: 1, Admin: 2, Normal: 3 } as const;
export type UserType = (typeof UserType)[keyof typeof UserType];

/** Data node media (spec 1.5 `/dataNode/add`): 1 SSD, 2 HDD; 0 = not fixed yet (zones only). */
export const MediaType = { Unspecified: 0, SSD: 1, HDD: 2 } as const;
export type MediaType = (typeof MediaType)[keyof typeof MediaType];
export type DataMediaType = typeof MediaType.SSD | typeof MediaType.HDD;

/** Default node set capacity (`nodeSetCap`, spec 9): 18, minimum 3. */
export const DEFAULT_NODE_SET_CAPACITY = 18;
export const MIN_NODE_SET_CAPACITY = 3;
/** Selectors observed in `/zone/list` (RoundRobin) and the node set default (spec 3: CarryWeight). */
export const DEFAULT_ZONE_NODESET_SELECTOR = 'RoundRobin';
export const DEFAULT_NODESET_NODE_SELECTOR = 'CarryWeight';

/**
 * `#c#<name>` (clusterValue, spec 3). Only the fields some route shows or some command sets are
 * kept; the rest of clusterValue are constants in views.ts until a command changes them.
 */
export interface ClusterRecord {
  readonly name: string;
  /** Unix seconds, chosen by the proposer at bootstrap (CubeFS: time.Now() of the first leader). */
  readonly createTimeUnixSec: number;
  /** `/cluster/freeze`: while true, no vol create, no automatic dp creation, no mp split. */
  readonly disableAutoAllocate: boolean;
  readonly forbidMpDecommission: boolean;
  /** `/admin/setNodeInfo` tunables shown by `/admin/getNodeInfo` and `/admin/getIp`. */
  readonly metaNodeDeleteBatchCount: number;
  readonly metaNodeDeleteWorkerSleepMs: number;
  readonly dataNodeDeleteLimitRate: number;
  readonly dataNodeAutoRepairLimitRate: number;
  readonly dpMaxRepairErrCnt: number;
  readonly loadFactor: number;
  /** Per-node partition limits (defaults 3000 and 300, spec 1.5 getNodeInfo). */
  readonly maxDpCntLimit: number;
  readonly maxMpCntLimit: number;
  readonly dirChildrenNumLimit: number;
  /** `MetaPartitionInodeIdStep` (spec 3.1): inode ids per meta partition at create and split. */
  readonly metaPartitionInodeIdStep: number;
}

/**
 * The id allocators CubeFS keeps as `#max_common_id`, `#max_mp_id`, `#max_dp_id` (spec 4.2,
 * 4.3): each holds the last id handed out. Vol, node and node set ids share `common`.
 */
export interface IdCounters {
  readonly common: number;
  readonly metaPartition: number;
  readonly dataPartition: number;
}
export type CounterName = keyof IdCounters;
export const COUNTER_NAMES: readonly CounterName[] = ['common', 'metaPartition', 'dataPartition'];

/** `#zone#<name>` (zoneValue, spec 3). Zones are created implicitly by the first node added. */
export interface ZoneRecord {
  readonly name: string;
  /** Fixed by the first data node added to the zone (spec 1.5); 0 until then. */
  readonly dataMediaType: MediaType;
  readonly dataNodesetSelector: string;
  readonly metaNodesetSelector: string;
}

/** `#s#<id>` (spec 3). Membership is derived from the nodes' `nodeSetId`, not stored here. */
export interface NodeSetRecord {
  readonly id: number;
  readonly zoneName: string;
  /** Max meta nodes and, separately, max data nodes in the set. */
  readonly capacity: number;
  readonly dataNodeSelector: string;
  readonly metaNodeSelector: string;
}

/** `#mn#<id>#<addr>` (metaNodeValue, spec 3). */
export interface MetaNodeRecord {
  readonly id: number;
  readonly addr: string;
  readonly zoneName: string;
  readonly nodeSetId: number;
  /** Kept as the strings the node sent (views show them as strings, e.g. "17230"). */
  readonly heartbeatPort: string;
  readonly replicaPort: string;
  readonly rdOnly: boolean;
}

/** `#dn#<id>#<addr>` (dataNodeValue, spec 3). */
export interface DataNodeRecord {
  readonly id: number;
  readonly addr: string;
  readonly zoneName: string;
  readonly nodeSetId: number;
  readonly heartbeatPort: string;
  readonly replicaPort: string;
  readonly rdOnly: boolean;
  readonly toBeOffline: boolean;
  readonly mediaType: DataMediaType;
  /** When the proposer accepted `/dataNode/add` (unix ms); the ReportTime shown before the first heartbeat. */
  readonly createTimeMs: number;
}

/** `policy` of `proto.UserInfo`. */
export interface UserPolicy {
  /** In the order the vols were given to the user (observed: ["vol2","volB"]). */
  readonly ownVols: readonly string[];
  /** vol -> actions, e.g. {"volA":["perm:builtin:ReadOnly"]}. */
  readonly authorizedVols: ReadonlyMap<string, readonly string[]>;
}

/** `#user#<id>` (proto.UserInfo, spec 3). */
export interface UserRecord {
  readonly userId: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly userType: UserType;
  /** Unix seconds; views format it as "YYYY-MM-DD HH:MM:SS". */
  readonly createTimeUnixSec: number;
  readonly description: string;
  readonly policy: UserPolicy;
}

/** `#ak#<accessKey>` (spec 3): the access key's owner and the hex sha1 of the password. */
export interface AccessKeyRecord {
  readonly accessKey: string;
  readonly userId: string;
  readonly passwordSha1: string;
}

/** Which node sets of a zone still have room for one more node of each kind (ids ascending). */
export interface ZoneRoom {
  readonly meta: number[];
  readonly data: number[];
}

/** Node ids of one node set, by kind. */
export interface NodeSetMembers {
  readonly meta: Set<number>;
  readonly data: Set<number>;
}

/** Derived from the records; rebuilt at load; never persisted. */
export interface ModelIndex {
  readonly metaNodeIdByAddr: Map<string, number>;
  readonly dataNodeIdByAddr: Map<string, number>;
  /** Node set ids per zone, ascending. */
  readonly nodeSetsByZone: Map<string, number[]>;
  /** Keyed by node set id even before that node set's record is loaded (load order is key order). */
  readonly nodeSetMembers: Map<number, NodeSetMembers>;
  readonly roomByZone: Map<string, ZoneRoom>;
  readonly volIdByName: Map<string, number>;
  /** Names reserved by a create in progress (vol id of the intent). */
  readonly intentIdByName: Map<string, number>;
  /** Partition ids per vol id, ascending. */
  readonly metaPartitionsByVol: Map<number, number[]>;
  readonly dataPartitionsByVol: Map<number, number[]>;
  /** How many partition replicas each node holds (node id -> count), for placement. */
  readonly replicasByMetaNode: Map<number, number>;
  readonly replicasByDataNode: Map<number, number>;
  /**
   * Ids of the users who own or were granted some vol: what a vol's removal or its user list
   * visits, instead of every user (a million, nearly all with no claim).
   */
  readonly usersWithPolicy: Set<string>;
}

export interface ModelIndexView {
  readonly metaNodeIdByAddr: ReadonlyMap<string, number>;
  readonly dataNodeIdByAddr: ReadonlyMap<string, number>;
  readonly nodeSetsByZone: ReadonlyMap<string, readonly number[]>;
  readonly nodeSetMembers: ReadonlyMap<number, { readonly meta: ReadonlySet<number>; readonly data: ReadonlySet<number> }>;
  readonly roomByZone: ReadonlyMap<string, { readonly meta: readonly number[]; readonly data: readonly number[] }>;
  readonly volIdByName: ReadonlyMap<string, number>;
  readonly intentIdByName: ReadonlyMap<string, number>;
  readonly metaPartitionsByVol: ReadonlyMap<number, readonly number[]>;
  readonly dataPartitionsByVol: ReadonlyMap<number, readonly number[]>;
  readonly replicasByMetaNode: ReadonlyMap<number, number>;
  readonly replicasByDataNode: ReadonlyMap<number, number>;
  readonly usersWithPolicy: ReadonlySet<string>;
}

/** The model as `apply` and the views see it: nothing here may be changed. */
export interface ModelView {
  readonly cluster: ClusterRecord | null;
  readonly counters: IdCounters;
  readonly zones: ReadonlyMap<string, ZoneRecord>;
  readonly nodeSets: ReadonlyMap<number, NodeSetRecord>;
  readonly metaNodes: ReadonlyMap<number, MetaNodeRecord>;
  readonly dataNodes: ReadonlyMap<number, DataNodeRecord>;
  readonly users: ReadonlyMap<string, UserRecord>;
  readonly accessKeys: ReadonlyMap<string, AccessKeyRecord>;
  readonly vols: ReadonlyMap<number, VolRecord>;
  readonly metaPartitions: ReadonlyMap<number, MetaPartitionRecord>;
  readonly dataPartitions: ReadonlyMap<number, DataPartitionRecord>;
  /** Volume creates in progress, by the vol id they reserved. */
  readonly volIntents: ReadonlyMap<number, VolIntentRecord>;
  /** The cluster's recovery from the loss of every master, if it had one (recovery-state.ts). */
  readonly recovery: RecoveryRecord | null;
  readonly index: ModelIndexView;
  readonly live: LiveState;
  /**
   * Bumped by every change applyChange makes (apply and start-up loading alike). Not replicated,
   * persisted or digested: it counts changes to this object only, so two models (a member's
   * before and after a snapshot install) may show the same number. With `live.version` it tells
   * a cache of a view (the API's /admin/getCluster body) that nothing the view reads changed.
   */
  readonly version: number;
}

/** The mutable model. Only changes.ts (applyChange) and live.ts write to it. */
export interface ModelState extends ModelView {
  cluster: ClusterRecord | null;
  counters: IdCounters;
  readonly zones: Map<string, ZoneRecord>;
  readonly nodeSets: Map<number, NodeSetRecord>;
  readonly metaNodes: Map<number, MetaNodeRecord>;
  readonly dataNodes: Map<number, DataNodeRecord>;
  readonly users: Map<string, UserRecord>;
  readonly accessKeys: Map<string, AccessKeyRecord>;
  readonly vols: Map<number, VolRecord>;
  readonly metaPartitions: Map<number, MetaPartitionRecord>;
  readonly dataPartitions: Map<number, DataPartitionRecord>;
  readonly volIntents: Map<number, VolIntentRecord>;
  recovery: RecoveryRecord | null;
  readonly index: ModelIndex;
  version: number;
}

/**
 * An empty model; `tables` gives the maps of users and access keys to start from (a model image's
 * packed tables, packed-users.ts), which must hold no user with a policy.
 */
export function emptyState(tables?: { users: Map<string, UserRecord>; accessKeys: Map<string, AccessKeyRecord> }): ModelState {
  return {
    cluster: null,
    counters: { common: 0, metaPartition: 0, dataPartition: 0 },
    zones: new Map(),
    nodeSets: new Map(),
    metaNodes: new Map(),
    dataNodes: new Map(),
    users: tables?.users ?? new Map<string, UserRecord>(),
    accessKeys: tables?.accessKeys ?? new Map<string, AccessKeyRecord>(),
    vols: new Map(),
    metaPartitions: new Map(),
    dataPartitions: new Map(),
    volIntents: new Map(),
    recovery: null,
    index: {
      metaNodeIdByAddr: new Map(),
      dataNodeIdByAddr: new Map(),
      nodeSetsByZone: new Map(),
      nodeSetMembers: new Map(),
      roomByZone: new Map(),
      volIdByName: new Map(),
      intentIdByName: new Map(),
      metaPartitionsByVol: new Map(),
      dataPartitionsByVol: new Map(),
      replicasByMetaNode: new Map(),
      replicasByDataNode: new Map(),
      usersWithPolicy: new Set(),
    },
    live: emptyLiveState(),
    version: 0,
  };
}

/** clusterValue defaults for a new cluster (spec 1.5 getNodeInfo, 3, 11 getIp). */
export function newClusterRecord(name: string, createTimeUnixSec: number): ClusterRecord {
  return {
    name,
    createTimeUnixSec,
    disableAutoAllocate: false,
    forbidMpDecommission: false,
    metaNodeDeleteBatchCount: 0,
    metaNodeDeleteWorkerSleepMs: 0,
    dataNodeDeleteLimitRate: 0,
    dataNodeAutoRepairLimitRate: 0,
    dpMaxRepairErrCnt: 0,
    loadFactor: 0,
    maxDpCntLimit: 3000,
    maxMpCntLimit: 300,
    dirChildrenNumLimit: 20_000_000,
    metaPartitionInodeIdStep: DEFAULT_MP_INODE_STEP,
  };
}

export function newZoneRecord(name: string, dataMediaType: MediaType): ZoneRecord {
  return {
    name,
    dataMediaType,
    dataNodesetSelector: DEFAULT_ZONE_NODESET_SELECTOR,
    metaNodesetSelector: DEFAULT_ZONE_NODESET_SELECTOR,
  };
}

export function newNodeSetRecord(id: number, zoneName: string, capacity: number): NodeSetRecord {
  return {
    id,
    zoneName,
    capacity,
    dataNodeSelector: DEFAULT_NODESET_NODE_SELECTOR,
    metaNodeSelector: DEFAULT_NODESET_NODE_SELECTOR,
  };
}

/**
 * The policy of a user who owns and was granted nothing: most users, so one shared object (a
 * million users at start-up would otherwise be three million objects). Safe to share: policies
 * are never changed in place, every change copies (apply/policies.ts, apply/vols.ts).
 */
const EMPTY_POLICY: UserPolicy = Object.freeze({ ownVols: Object.freeze([] as string[]), authorizedVols: new Map<string, readonly string[]>() });

export function emptyPolicy(): UserPolicy {
  return EMPTY_POLICY;
}

/** Whether the policy owns or was granted nothing. */
export function isEmptyPolicy(policy: UserPolicy): boolean {
  return policy.ownVols.length === 0 && policy.authorizedVols.size === 0;
}

/** `policy`, or the shared empty one when it holds nothing (records loaded at start-up). */
export function sharedIfEmpty(policy: UserPolicy): UserPolicy {
  return isEmptyPolicy(policy) ? EMPTY_POLICY : policy;
}

// O(1) lookups, the only way routes should reach records.

export function metaNodeByAddr(model: ModelView, addr: string): MetaNodeRecord | undefined {
  const id = model.index.metaNodeIdByAddr.get(addr);
  return id === undefined ? undefined : model.metaNodes.get(id);
}

export function dataNodeByAddr(model: ModelView, addr: string): DataNodeRecord | undefined {
  const id = model.index.dataNodeIdByAddr.get(addr);
  return id === undefined ? undefined : model.dataNodes.get(id);
}

/** The users who own or were granted some vol (index.usersWithPolicy), in no set order. */
export function* usersWithPolicy(model: ModelView): Generator<UserRecord, undefined, unknown> {
  for (const userId of model.index.usersWithPolicy) {
    const user = model.users.get(userId);
    assert(user !== undefined, () => `policy index names user ${userId}, who does not exist`);
    yield user;
  }
  return undefined;
}

export function userByAccessKey(model: ModelView, accessKey: string): UserRecord | undefined {
  const ak = model.accessKeys.get(accessKey);
  return ak === undefined ? undefined : model.users.get(ak.userId);
}

/** How many nodes of each kind a node set holds. */
export function nodeSetMemberCounts(model: ModelView, nodeSetId: number): { meta: number; data: number } {
  const m = model.index.nodeSetMembers.get(nodeSetId);
  return { meta: m?.meta.size ?? 0, data: m?.data.size ?? 0 };
}

export function volByName(model: ModelView, name: string): VolRecord | undefined {
  const id = model.index.volIdByName.get(name);
  return id === undefined ? undefined : model.vols.get(id);
}

/** A vol's meta partitions in id order (the last is the "max mp" with the open end). */
export function metaPartitionsOf(model: ModelView, volId: number): MetaPartitionRecord[] {
  const ids = model.index.metaPartitionsByVol.get(volId) ?? [];
  return ids.map((id) => model.metaPartitions.get(id)).filter((p): p is MetaPartitionRecord => p !== undefined);
}

export function dataPartitionsOf(model: ModelView, volId: number): DataPartitionRecord[] {
  const ids = model.index.dataPartitionsByVol.get(volId) ?? [];
  return ids.map((id) => model.dataPartitions.get(id)).filter((p): p is DataPartitionRecord => p !== undefined);
}

/** The vol's meta partition with the highest id: the only one with an open end (spec 3.1). */
export function maxMetaPartitionOf(model: ModelView, volId: number): MetaPartitionRecord | undefined {
  const ids = model.index.metaPartitionsByVol.get(volId);
  if (ids === undefined || ids.length === 0) return undefined;
  return model.metaPartitions.get(ids[ids.length - 1]);
}
