// Persisted form of volumes, partitions and volume-create intents (keys in records.ts KEY).
// Values are JSON objects with a fixed field order; 64-bit values (inode bounds, byte sizes)
// are decimal strings, so no JSON reader anywhere can round them.

import type { Obj } from './shape.js';
import {
  asObject,
  expectKeys,
  readBigInt,
  readBool,
  readInt,
  readIntArray,
  readObjectArray,
  readOneOf,
  readString,
} from './shape.js';
import { decodeVolSettings, settingsInOrder } from './vol-settings-shape.js';
import type {
  DataPartitionRecord,
  DataReplicaPlace,
  IntentOwner,
  MetaPartitionRecord,
  PartitionPeer,
  PartitionStatus,
  StorageClass,
  VolIntentRecord,
  VolRecord,
  VolStatus,
} from './vol-state.js';
import { INODE_ID_MAX, PartitionStatus as Statuses, VolStatus as VolStatuses } from './vol-state.js';

const MAX_ID = Number.MAX_SAFE_INTEGER;
const U64_MAX = 18_446_744_073_709_551_615n;
const VOL_STATUSES: readonly VolStatus[] = [VolStatuses.Normal, VolStatuses.MarkDelete];
const PARTITION_STATUSES: readonly PartitionStatus[] = [Statuses.Unavailable, Statuses.Recovering, Statuses.ReadOnly, Statuses.ReadWrite];

export type JsonObject = Record<string, unknown>;

// --- vol -------------------------------------------------------------------------------------

export function volToJson(r: VolRecord, v: number): JsonObject {
  return {
    v,
    id: r.id,
    name: r.name,
    owner: r.owner,
    status: r.status,
    capacityGB: r.capacityGB,
    mpReplicaNum: r.mpReplicaNum,
    dpReplicaNum: r.dpReplicaNum,
    dpSizeBytes: r.dpSizeBytes.toString(),
    volType: r.volType,
    volStorageClass: r.volStorageClass,
    allowedStorageClass: [...r.allowedStorageClass],
    createTimeUnixSec: r.createTimeUnixSec,
    deleteTimeUnixSec: r.deleteTimeUnixSec,
    settings: settingsInOrder(r.settings),
  };
}

const VOL_FIELDS = [
  'v', 'id', 'name', 'owner', 'status', 'capacityGB', 'mpReplicaNum', 'dpReplicaNum', 'dpSizeBytes', 'volType',
  'volStorageClass', 'allowedStorageClass', 'createTimeUnixSec', 'deleteTimeUnixSec', 'settings',
];

export function volFromJson(o: Obj, p: string): VolRecord {
  expectKeys(o, VOL_FIELDS, p);
  return {
    id: readInt(o, 'id', 1, MAX_ID, p),
    name: readString(o, 'name', p),
    owner: readString(o, 'owner', p),
    status: readOneOf(o, 'status', VOL_STATUSES, p),
    capacityGB: readInt(o, 'capacityGB', 0, MAX_ID, p),
    mpReplicaNum: readInt(o, 'mpReplicaNum', 1, 16, p),
    dpReplicaNum: readInt(o, 'dpReplicaNum', 1, 16, p),
    dpSizeBytes: readBigInt(o, 'dpSizeBytes', 0n, U64_MAX, p),
    volType: readInt(o, 'volType', 0, 1, p),
    volStorageClass: readInt(o, 'volStorageClass', 0, 3, p) as StorageClass,
    allowedStorageClass: readIntArray(o, 'allowedStorageClass', 0, 3, p) as StorageClass[],
    createTimeUnixSec: readInt(o, 'createTimeUnixSec', 0, MAX_ID, p),
    deleteTimeUnixSec: readInt(o, 'deleteTimeUnixSec', 0, MAX_ID, p),
    settings: decodeVolSettings(o['settings'], `${p}.settings`, false),
  };
}

// --- partitions ------------------------------------------------------------------------------

function peersToJson(peers: readonly PartitionPeer[]): JsonObject[] {
  return peers.map((x) => ({ nodeId: x.nodeId, addr: x.addr }));
}

function peerFromJson(o: Obj, p: string): PartitionPeer {
  expectKeys(o, ['nodeId', 'addr'], p);
  return { nodeId: readInt(o, 'nodeId', 0, MAX_ID, p), addr: readString(o, 'addr', p) };
}

export function metaPartitionToJson(r: MetaPartitionRecord, v: number): JsonObject {
  return {
    v,
    id: r.id,
    volId: r.volId,
    volName: r.volName,
    start: r.start.toString(),
    end: r.end.toString(),
    replicaNum: r.replicaNum,
    status: r.status,
    peers: peersToJson(r.peers),
    isRecover: r.isRecover,
  };
}

export function metaPartitionFromJson(o: Obj, p: string): MetaPartitionRecord {
  expectKeys(o, ['v', 'id', 'volId', 'volName', 'start', 'end', 'replicaNum', 'status', 'peers', 'isRecover'], p);
  return {
    id: readInt(o, 'id', 1, MAX_ID, p),
    volId: readInt(o, 'volId', 1, MAX_ID, p),
    volName: readString(o, 'volName', p),
    start: readBigInt(o, 'start', 0n, INODE_ID_MAX, p),
    end: readBigInt(o, 'end', 0n, INODE_ID_MAX, p),
    replicaNum: readInt(o, 'replicaNum', 1, 16, p),
    status: readOneOf(o, 'status', PARTITION_STATUSES, p),
    peers: readObjectArray(o, 'peers', peerFromJson, p),
    isRecover: readBool(o, 'isRecover', p),
  };
}

export function dataPartitionToJson(r: DataPartitionRecord, v: number): JsonObject {
  return {
    v,
    id: r.id,
    volId: r.volId,
    volName: r.volName,
    replicaNum: r.replicaNum,
    status: r.status,
    peers: peersToJson(r.peers),
    replicas: r.replicas.map((x) => ({ addr: x.addr, diskPath: x.diskPath })),
    mediaType: r.mediaType,
    sizeBytes: r.sizeBytes.toString(),
    isRecover: r.isRecover,
    rdOnly: r.rdOnly,
    createTimeUnixSec: r.createTimeUnixSec,
  };
}

function replicaFromJson(o: Obj, p: string): DataReplicaPlace {
  expectKeys(o, ['addr', 'diskPath'], p);
  return { addr: readString(o, 'addr', p), diskPath: readString(o, 'diskPath', p) };
}

export function dataPartitionFromJson(o: Obj, p: string): DataPartitionRecord {
  expectKeys(
    o,
    ['v', 'id', 'volId', 'volName', 'replicaNum', 'status', 'peers', 'replicas', 'mediaType', 'sizeBytes', 'isRecover', 'rdOnly', 'createTimeUnixSec'],
    p,
  );
  return {
    id: readInt(o, 'id', 1, MAX_ID, p),
    volId: readInt(o, 'volId', 1, MAX_ID, p),
    volName: readString(o, 'volName', p),
    replicaNum: readInt(o, 'replicaNum', 1, 16, p),
    status: readOneOf(o, 'status', PARTITION_STATUSES, p),
    peers: readObjectArray(o, 'peers', peerFromJson, p),
    replicas: readObjectArray(o, 'replicas', replicaFromJson, p),
    mediaType: readInt(o, 'mediaType', 0, 255, p),
    sizeBytes: readBigInt(o, 'sizeBytes', 0n, U64_MAX, p),
    isRecover: readBool(o, 'isRecover', p),
    rdOnly: readBool(o, 'rdOnly', p),
    createTimeUnixSec: readInt(o, 'createTimeUnixSec', 0, MAX_ID, p),
  };
}

// --- intent ----------------------------------------------------------------------------------

export function intentToJson(r: VolIntentRecord, v: number): JsonObject {
  return {
    v,
    vol: volToJson(r.vol, v),
    metaPartitions: r.metaPartitions.map((m) => metaPartitionToJson(m, v)),
    dataPartitions: r.dataPartitions.map((d) => dataPartitionToJson(d, v)),
    newOwner: r.newOwner === null ? null : { accessKey: r.newOwner.accessKey, secretKey: r.newOwner.secretKey, passwordSha1: r.newOwner.passwordSha1 },
    proposerId: r.proposerId,
    beginTimeUnixSec: r.beginTimeUnixSec,
  };
}

function ownerFromJson(v: unknown, p: string): IntentOwner | null {
  if (v === null) return null;
  const o = asObject(v, p);
  expectKeys(o, ['accessKey', 'secretKey', 'passwordSha1'], p);
  return { accessKey: readString(o, 'accessKey', p), secretKey: readString(o, 'secretKey', p), passwordSha1: readString(o, 'passwordSha1', p) };
}

export function intentFromJson(o: Obj, p: string): VolIntentRecord {
  expectKeys(o, ['v', 'vol', 'metaPartitions', 'dataPartitions', 'newOwner', 'proposerId', 'beginTimeUnixSec'], p);
  return {
    vol: volFromJson(asObject(o['vol'], `${p}.vol`), `${p}.vol`),
    metaPartitions: readObjectArray(o, 'metaPartitions', metaPartitionFromJson, p),
    dataPartitions: readObjectArray(o, 'dataPartitions', dataPartitionFromJson, p),
    newOwner: ownerFromJson(o['newOwner'], `${p}.newOwner`),
    proposerId: readInt(o, 'proposerId', 0, MAX_ID, p),
    beginTimeUnixSec: readInt(o, 'beginTimeUnixSec', 0, MAX_ID, p),
  };
}
