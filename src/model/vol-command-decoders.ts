// Shape decoders of the volume, partition, policy and node-state commands (see command-codec.ts
// for the rules: shape only, rules in apply).

import type { CommandOf, NewDataPartition, NewMetaPartition } from './commands.js';
import { makeCommand } from './commands.js';
import { CodecError } from './errors.js';
import type { Obj } from './shape.js';
import {
  asObject,
  expectKeys,
  readArray,
  readBigInt,
  readBool,
  readInt,
  readIntArray,
  readNullableInt,
  readNullableNumber,
  readObjectArray,
  readOneOf,
  readString,
  readStringArray,
} from './shape.js';
import { decodeVolSettings } from './vol-settings-shape.js';
import type { PartitionPeer, StorageClass } from './vol-state.js';
import { INODE_ID_MAX, StorageClass as StorageClasses } from './vol-state.js';

const MAX_ID = Number.MAX_SAFE_INTEGER;
/** Bounds of one command: a create holds at most 100 mps and 200 dps per class (spec 1.5). */
const MAX_PARTITIONS_PER_COMMAND = 1_000;
const MAX_REPLICAS = 16;
const U64_MAX = 18_446_744_073_709_551_615n;
const STORAGE_CLASSES: readonly StorageClass[] = [
  StorageClasses.Unspecified,
  StorageClasses.ReplicaSSD,
  StorageClasses.ReplicaHDD,
  StorageClasses.BlobStore,
];
const NODE_KINDS = ['meta', 'data'] as const;

type VolCommandType =
  | 'cluster.setNodeInfo'
  | 'vol.createBegin'
  | 'vol.createCommit'
  | 'vol.createAbort'
  | 'vol.update'
  | 'vol.setDeleted'
  | 'vol.remove'
  | 'vol.transfer'
  | 'user.updatePolicy'
  | 'user.removePolicy'
  | 'mp.split'
  | 'dp.add'
  | 'partition.replaceReplica'
  | 'node.setRdOnly'
  | 'node.remove';

function peer(o: Obj, path: string): PartitionPeer {
  expectKeys(o, ['nodeId', 'addr'], path);
  return { nodeId: readInt(o, 'nodeId', 0, MAX_ID, path), addr: readString(o, 'addr', path) };
}

function peerLists(o: Obj, field: string): PartitionPeer[][] {
  const lists = readArray(o, field);
  if (lists.length > MAX_PARTITIONS_PER_COMMAND) throw new CodecError(field, 'too many partitions');
  return lists.map((list, i) => {
    const path = `${field}[${i}]`;
    if (!Array.isArray(list) || list.length > MAX_REPLICAS) throw new CodecError(path, 'expected a short array of peers');
    return (list as unknown[]).map((p, j) => peer(asObject(p, `${path}[${j}]`), `${path}[${j}]`));
  });
}

function bounded<T>(items: T[], field: string): T[] {
  if (items.length > MAX_PARTITIONS_PER_COMMAND) throw new CodecError(field, 'too many partitions');
  return items;
}

function nullableNumber(o: Obj, field: string): number | null {
  return readNullableNumber(o, field);
}

export const VOL_COMMAND_DECODERS: { readonly [T in VolCommandType]: (o: Obj) => CommandOf<T> } = {
  'cluster.setNodeInfo': (o) => {
    const keys = ['batchCount', 'markDeleteRate', 'autoRepairRate', 'deleteWorkerSleepMs', 'maxDpCntLimit', 'maxMpCntLimit', 'dpMaxRepairErrCnt'] as const;
    expectKeys(o, ['v', 'type', 'loadFactor', ...keys], '');
    const ints = Object.fromEntries(keys.map((k) => [k, readNullableInt(o, k, 0, MAX_ID)])) as Record<(typeof keys)[number], number | null>;
    return makeCommand('cluster.setNodeInfo', { ...ints, loadFactor: nullableNumber(o, 'loadFactor') });
  },
  'vol.createBegin': (o) => {
    expectKeys(
      o,
      [
        'v', 'type', 'name', 'owner', 'createTimeUnixSec', 'capacityGB', 'mpReplicaNum', 'dpReplicaNum', 'dpSizeBytes',
        'volType', 'volStorageClass', 'allowedStorageClass', 'settings', 'mpPeers', 'dpPeers', 'dpMediaType', 'newOwner', 'proposerId',
      ],
      '',
    );
    const owner = asObject(o['newOwner'], 'newOwner');
    expectKeys(owner, ['accessKey', 'secretKey', 'passwordSha1'], 'newOwner');
    return makeCommand('vol.createBegin', {
      name: readString(o, 'name'),
      owner: readString(o, 'owner'),
      createTimeUnixSec: readInt(o, 'createTimeUnixSec', 0, MAX_ID),
      capacityGB: readInt(o, 'capacityGB', 0, MAX_ID),
      mpReplicaNum: readInt(o, 'mpReplicaNum', 1, MAX_REPLICAS),
      dpReplicaNum: readInt(o, 'dpReplicaNum', 1, MAX_REPLICAS),
      dpSizeBytes: readBigInt(o, 'dpSizeBytes', 0n, U64_MAX),
      volType: readInt(o, 'volType', 0, 1),
      volStorageClass: readOneOf(o, 'volStorageClass', STORAGE_CLASSES),
      allowedStorageClass: readIntArray(o, 'allowedStorageClass', 0, 3) as StorageClass[],
      settings: decodeVolSettings(o['settings'], 'settings', false),
      mpPeers: peerLists(o, 'mpPeers'),
      dpPeers: peerLists(o, 'dpPeers'),
      dpMediaType: readInt(o, 'dpMediaType', 0, 255),
      newOwner: {
        accessKey: readString(owner, 'accessKey', 'newOwner'),
        secretKey: readString(owner, 'secretKey', 'newOwner'),
        passwordSha1: readString(owner, 'passwordSha1', 'newOwner'),
      },
      proposerId: readInt(o, 'proposerId', 0, MAX_ID),
    });
  },
  'vol.createCommit': (o) => {
    expectKeys(o, ['v', 'type', 'volId', 'dpDiskPaths'], '');
    const paths = readArray(o, 'dpDiskPaths');
    if (paths.length > MAX_PARTITIONS_PER_COMMAND) throw new CodecError('dpDiskPaths', 'too many partitions');
    return makeCommand('vol.createCommit', {
      volId: readInt(o, 'volId', 1, MAX_ID),
      dpDiskPaths: paths.map((_, i) => readStringArray({ p: paths[i] }, 'p', `dpDiskPaths[${i}]`)),
    });
  },
  'vol.createAbort': (o) => {
    expectKeys(o, ['v', 'type', 'volId'], '');
    return makeCommand('vol.createAbort', { volId: readInt(o, 'volId', 1, MAX_ID) });
  },
  'vol.update': (o) => {
    expectKeys(o, ['v', 'type', 'name', 'capacityGB', 'dpReplicaNum', 'settings', 'capacityChange'], '');
    const change = o['capacityChange'];
    if (change !== undefined && change !== null && change !== 'expand' && change !== 'shrink') throw new CodecError('capacityChange', 'expected "expand" or "shrink"');
    return makeCommand('vol.update', {
      name: readString(o, 'name'),
      capacityGB: readNullableInt(o, 'capacityGB', 0, MAX_ID),
      dpReplicaNum: readNullableInt(o, 'dpReplicaNum', 1, MAX_REPLICAS),
      settings: decodeVolSettings(o['settings'], 'settings', true),
      ...(change === 'expand' || change === 'shrink' ? { capacityChange: change } : {}),
    });
  },
  'vol.setDeleted': (o) => {
    expectKeys(o, ['v', 'type', 'name', 'deleted', 'timeUnixSec'], '');
    return makeCommand('vol.setDeleted', {
      name: readString(o, 'name'),
      deleted: readBool(o, 'deleted'),
      timeUnixSec: readInt(o, 'timeUnixSec', 0, MAX_ID),
    });
  },
  'vol.remove': (o) => {
    expectKeys(o, ['v', 'type', 'volId'], '');
    return makeCommand('vol.remove', { volId: readInt(o, 'volId', 1, MAX_ID) });
  },
  'vol.transfer': (o) => {
    expectKeys(o, ['v', 'type', 'name', 'fromUserId', 'toUserId', 'force'], '');
    return makeCommand('vol.transfer', {
      name: readString(o, 'name'),
      fromUserId: readString(o, 'fromUserId'),
      toUserId: readString(o, 'toUserId'),
      force: readBool(o, 'force'),
    });
  },
  'user.updatePolicy': (o) => {
    expectKeys(o, ['v', 'type', 'userId', 'volume', 'actions'], '');
    return makeCommand('user.updatePolicy', {
      userId: readString(o, 'userId'),
      volume: readString(o, 'volume'),
      actions: readStringArray(o, 'actions'),
    });
  },
  'user.removePolicy': (o) => {
    expectKeys(o, ['v', 'type', 'userId', 'volume'], '');
    return makeCommand('user.removePolicy', { userId: readString(o, 'userId'), volume: readString(o, 'volume') });
  },
  'mp.split': (o) => {
    expectKeys(o, ['v', 'type', 'volId', 'mpId', 'newEnd', 'newPartitions'], '');
    const item = (p: Obj, path: string): NewMetaPartition => {
      expectKeys(p, ['id', 'start', 'end', 'peers'], path);
      return {
        id: readInt(p, 'id', 1, MAX_ID, path),
        start: readBigInt(p, 'start', 0n, INODE_ID_MAX, path),
        end: readBigInt(p, 'end', 0n, INODE_ID_MAX, path),
        peers: readObjectArray(p, 'peers', peer, path),
      };
    };
    return makeCommand('mp.split', {
      volId: readInt(o, 'volId', 1, MAX_ID),
      mpId: readInt(o, 'mpId', 1, MAX_ID),
      newEnd: readBigInt(o, 'newEnd', 0n, INODE_ID_MAX),
      newPartitions: bounded(readObjectArray(o, 'newPartitions', item), 'newPartitions'),
    });
  },
  'dp.add': (o) => {
    expectKeys(o, ['v', 'type', 'volId', 'mediaType', 'sizeBytes', 'createTimeUnixSec', 'partitions'], '');
    const item = (p: Obj, path: string): NewDataPartition => {
      expectKeys(p, ['id', 'peers', 'diskPaths'], path);
      return {
        id: readInt(p, 'id', 1, MAX_ID, path),
        peers: readObjectArray(p, 'peers', peer, path),
        diskPaths: readStringArray(p, 'diskPaths', path),
      };
    };
    return makeCommand('dp.add', {
      volId: readInt(o, 'volId', 1, MAX_ID),
      mediaType: readInt(o, 'mediaType', 0, 255),
      sizeBytes: readBigInt(o, 'sizeBytes', 0n, U64_MAX),
      createTimeUnixSec: readInt(o, 'createTimeUnixSec', 0, MAX_ID),
      partitions: bounded(readObjectArray(o, 'partitions', item), 'partitions'),
    });
  },
  'partition.replaceReplica': (o) => {
    expectKeys(o, ['v', 'type', 'kind', 'partitionId', 'removeAddr', 'add', 'diskPath'], '');
    return makeCommand('partition.replaceReplica', {
      kind: readOneOf(o, 'kind', NODE_KINDS),
      partitionId: readInt(o, 'partitionId', 1, MAX_ID),
      removeAddr: readString(o, 'removeAddr'),
      add: peer(asObject(o['add'], 'add'), 'add'),
      diskPath: readString(o, 'diskPath'),
    });
  },
  'node.setRdOnly': (o) => {
    expectKeys(o, ['v', 'type', 'kind', 'addr', 'rdOnly'], '');
    return makeCommand('node.setRdOnly', {
      kind: readOneOf(o, 'kind', NODE_KINDS),
      addr: readString(o, 'addr'),
      rdOnly: readBool(o, 'rdOnly'),
    });
  },
  'node.remove': (o) => {
    expectKeys(o, ['v', 'type', 'kind', 'addr'], '');
    return makeCommand('node.remove', { kind: readOneOf(o, 'kind', NODE_KINDS), addr: readString(o, 'addr') });
  },
};
