// The console's views of the model (contract.ts shapes). Built from the same view functions the
// CubeFS routes use (model/views.ts, model/vol-views.ts), so a vol's partitions, a node's liveness
// and usage read the same in the console as through `/client/metaPartitions`, `/metaNode/get` and
// the rest. What differs is deliberate: 64-bit values become decimal strings (the browser parses
// JSON into doubles), and a user's secret key is left out while the access key is masked, so
// neither can leak through a browser, a proxy log or a screenshot.

import type { DataNodeInfo, DataPartitionRecord, MetaNodeInfo, ModelView, UserRecord, ViewOptions, VolRecord } from '../../model/index.js';
import {
  dataNodeInfo,
  dataNodeLive,
  dataPartitionResponse,
  dataPartitionsOf,
  dataPartitionUsedBytes,
  GIB,
  formatDateTime,
  metaNodeInfo,
  metaNodeLive,
  metaPartitionFigures,
  metaPartitionsOf,
  metaPartitionView,
  PartitionStatus,
  UserType,
  volByName,
  VolNotFoundError,
  VolStatus,
  volUsedBytes,
} from '../../model/index.js';
import type {
  ConsoleDataPartition,
  ConsoleMetaPartition,
  ConsoleNode,
  ConsoleNodes,
  ConsoleUser,
  ConsoleVolDetail,
  ConsoleVolSummary,
  PartitionStatusName,
} from './contract.js';

const STATUS_NAMES: ReadonlyMap<number, PartitionStatusName> = new Map([
  [PartitionStatus.ReadWrite, 'ReadWrite'],
  [PartitionStatus.ReadOnly, 'ReadOnly'],
  [PartitionStatus.Recovering, 'Recovering'],
  [PartitionStatus.Unavailable, 'Unavailable'],
]);

export function partitionStatusName(status: number): PartitionStatusName {
  return STATUS_NAMES.get(status) ?? 'Unknown';
}

/**
 * The access key with its middle hidden: the first 4 and last 3 characters of CubeFS's 16
 * (enough to tell keys apart on screen, too few to use one). Short keys show less.
 */
export function maskAccessKey(accessKey: string): string {
  if (accessKey.length >= 12) return `${accessKey.slice(0, 4)}…${accessKey.slice(-3)}`;
  if (accessKey.length >= 4) return `${accessKey.slice(0, 2)}…`;
  return '…';
}

function dataPartitionsWritable(model: ModelView, dps: readonly DataPartitionRecord[]): number {
  return dps.filter((dp) => dataPartitionResponse(model, dp).Status === PartitionStatus.ReadWrite).length;
}

function volSummary(model: ModelView, vol: VolRecord): ConsoleVolSummary {
  const dps = dataPartitionsOf(model, vol.id);
  return {
    name: vol.name,
    owner: vol.owner,
    status: vol.status === VolStatus.MarkDelete ? 'deleting' : 'normal',
    capacityBytes: String(BigInt(vol.capacityGB) * GIB),
    usedBytes: String(volUsedBytes(model, vol)),
    metaPartitionCount: metaPartitionsOf(model, vol.id).length,
    dataPartitionCount: dps.length,
    writableDataPartitionCount: dataPartitionsWritable(model, dps),
    mpReplicaNum: vol.mpReplicaNum,
    dpReplicaNum: vol.dpReplicaNum,
    createTimeUnixSec: vol.createTimeUnixSec,
  };
}

/** Every vol (marked-deleted ones too, as `/vol/list`), by vol id. */
export function consoleVols(model: ModelView): ConsoleVolSummary[] {
  return [...model.vols.values()].sort((a, b) => a.id - b.id).map((v) => volSummary(model, v));
}

/** One vol with its partitions; VolNotFoundError (code 7) when there is none by that name. */
export function consoleVol(model: ModelView, name: string): ConsoleVolDetail {
  const vol = volByName(model, name);
  if (vol === undefined) throw new VolNotFoundError(name);
  const metaPartitions = metaPartitionsOf(model, vol.id).map((mp): ConsoleMetaPartition => {
    const view = metaPartitionView(model, mp);
    return {
      id: view.PartitionID,
      start: String(view.Start),
      end: String(view.End),
      members: view.Members,
      leaderAddr: view.LeaderAddr,
      status: partitionStatusName(view.Status),
      inodeCount: String(view.InodeCount),
      dentryCount: String(view.DentryCount),
    };
  });
  const dataPartitions = dataPartitionsOf(model, vol.id).map((dp): ConsoleDataPartition => {
    const view = dataPartitionResponse(model, dp);
    return {
      id: view.PartitionID,
      hosts: view.Hosts,
      leaderAddr: view.LeaderAddr,
      status: partitionStatusName(view.Status),
      replicaNum: view.ReplicaNum,
      usedBytes: String(dataPartitionUsedBytes(model, dp)),
    };
  });
  const inodeCount = metaPartitionsOf(model, vol.id).reduce((sum, mp) => sum + metaPartitionFigures(model, mp).inodeCount, 0n);
  return { vol: volSummary(model, vol), inodeCount: String(inodeCount), metaPartitions, dataPartitions };
}

/** What MetaNodeInfo and DataNodeInfo (`/metaNode/get`, `/dataNode/get`) have in common. */
type NodeInfoFields = Pick<MetaNodeInfo & DataNodeInfo, 'ID' | 'Addr' | 'Zone' | 'NodeSetID' | 'IsActive' | 'IsWriteAble' | 'RdOnly' | 'TotalWeight' | 'UsedWeight'>;

function consoleNode(kind: ConsoleNode['kind'], info: NodeInfoFields, partitionCount: number, reportTimeMs: number): ConsoleNode {
  return {
    kind,
    id: info.ID,
    addr: info.Addr,
    zone: info.Zone,
    nodeSetId: info.NodeSetID,
    active: info.IsActive,
    writable: info.IsActive && info.IsWriteAble && !info.RdOnly,
    rdOnly: info.RdOnly,
    totalBytes: info.TotalWeight,
    usedBytes: info.UsedWeight,
    partitionCount,
    reportTimeMs,
  };
}

/** Meta and data nodes by id, with the leader's heartbeat view of them. */
export function consoleNodes(model: ModelView): ConsoleNodes {
  const byId = <T extends { id: number }>(nodes: Iterable<T>): T[] => [...nodes].sort((a, b) => a.id - b.id);
  return {
    metaNodes: byId(model.metaNodes.values()).map((n) => {
      const info = metaNodeInfo(model, n);
      return consoleNode('meta', info, info.MetaPartitionCount, metaNodeLive(model, n.id).reportTimeMs);
    }),
    dataNodes: byId(model.dataNodes.values()).map((n) => {
      const info = dataNodeInfo(model, n);
      return consoleNode('data', info, info.DataPartitionCount, dataNodeLive(model, n).reportTimeMs);
    }),
  };
}

const USER_TYPE_NAMES: Readonly<Record<number, ConsoleUser['type']>> = {
  [UserType.Root]: 'root',
  [UserType.Admin]: 'admin',
  [UserType.Normal]: 'normal',
};

function consoleUser(user: UserRecord, opts: ViewOptions): ConsoleUser {
  return {
    id: user.userId,
    type: USER_TYPE_NAMES[user.userType] ?? 'normal',
    accessKeyMasked: maskAccessKey(user.accessKey),
    ownVols: [...user.policy.ownVols],
    authorizedVols: [...user.policy.authorizedVols.keys()].sort(),
    createTime: formatDateTime(user.createTimeUnixSec, opts.utcOffsetSec),
    description: user.description,
  };
}

/** Users oldest first (as `/user/list`), without their secret keys. */
export function consoleUsers(model: ModelView, opts: ViewOptions): ConsoleUser[] {
  return [...model.users.values()]
    .sort((a, b) => a.createTimeUnixSec - b.createTimeUnixSec || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0))
    .map((u) => consoleUser(u, opts));
}
