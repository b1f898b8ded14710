// Shape decoders of the recovery commands (see command-codec.ts for the rules: shape only, rules
// in apply). Each command is bounded: a vol's meta partitions travel in one command (they must
// cover the inode range together), its data partitions in batches.

import type { AdoptedDataPartition, AdoptedMetaPartition, AdoptedNode, CommandOf } from './commands.js';
import { makeCommand } from './commands.js';
import { CodecError } from './errors.js';
import { readRecoveryFindings, readRecoveryParams, readRecoverySummary } from './recovery-records.js';
import type { Obj } from './shape.js';
import { asObject, expectKeys, readBigInt, readBool, readInt, readObjectArray, readOneOf, readString, readStringArray } from './shape.js';
import type { MediaType } from './state.js';
import { COUNTER_NAMES, MediaType as MediaTypes } from './state.js';
import { decodeVolSettings } from './vol-settings-shape.js';
import type { PartitionPeer, PartitionStatus, StorageClass } from './vol-state.js';
import { INODE_ID_MAX, PartitionStatus as Statuses, StorageClass as StorageClasses } from './vol-state.js';

const MAX_ID = Number.MAX_SAFE_INTEGER;
const U64_MAX = 18_446_744_073_709_551_615n;
const MAX_REPLICAS = 16;
/** Nodes per adoptNodes, data partitions per adoptVol / adoptDataPartitions. */
export const RECOVERY_BATCH_MAX = 1_000;
/** Meta partitions of one vol (one command: together they cover the inode range). */
export const RECOVERY_VOL_META_PARTITIONS_MAX = 10_000;

const NODE_KINDS = ['meta', 'data'] as const;
const MEDIA: readonly MediaType[] = [MediaTypes.Unspecified, MediaTypes.SSD, MediaTypes.HDD];
const DP_STATUSES: readonly PartitionStatus[] = [Statuses.ReadOnly, Statuses.ReadWrite];
const STORAGE_CLASSES: readonly StorageClass[] = [StorageClasses.ReplicaSSD, StorageClasses.ReplicaHDD];

type RecoveryCommandType = 'recovery.begin' | 'recovery.adoptNodes' | 'recovery.adoptVol' | 'recovery.adoptDataPartitions' | 'recovery.finish';

function bounded<T>(items: T[], max: number, field: string): T[] {
  if (items.length > max) throw new CodecError(field, `more than ${max} items`);
  return items;
}

function peers(o: Obj, path: string): PartitionPeer[] {
  const list = readObjectArray(o, 'peers', (p, at): PartitionPeer => {
    expectKeys(p, ['nodeId', 'addr'], at);
    return { nodeId: readInt(p, 'nodeId', 1, MAX_ID, at), addr: readString(p, 'addr', at) };
  }, path);
  return bounded(list, MAX_REPLICAS, `${path}.peers`);
}

function node(o: Obj, at: string): AdoptedNode {
  expectKeys(o, ['kind', 'id', 'addr', 'zoneName', 'heartbeatPort', 'replicaPort', 'mediaType'], at);
  return {
    kind: readOneOf(o, 'kind', NODE_KINDS, at),
    id: readInt(o, 'id', 1, MAX_ID, at),
    addr: readString(o, 'addr', at),
    zoneName: readString(o, 'zoneName', at),
    heartbeatPort: readString(o, 'heartbeatPort', at),
    replicaPort: readString(o, 'replicaPort', at),
    mediaType: readOneOf(o, 'mediaType', MEDIA, at),
  };
}

function metaPartition(o: Obj, at: string): AdoptedMetaPartition {
  expectKeys(o, ['id', 'start', 'end', 'peers'], at);
  return {
    id: readInt(o, 'id', 1, MAX_ID, at),
    start: readBigInt(o, 'start', 0n, INODE_ID_MAX, at),
    end: readBigInt(o, 'end', 0n, INODE_ID_MAX, at),
    peers: peers(o, at),
  };
}

function dataPartition(o: Obj, at: string): AdoptedDataPartition {
  expectKeys(o, ['id', 'peers', 'diskPaths', 'sizeBytes', 'mediaType', 'status'], at);
  return {
    id: readInt(o, 'id', 1, MAX_ID, at),
    peers: peers(o, at),
    diskPaths: readStringArray(o, 'diskPaths', at),
    sizeBytes: readBigInt(o, 'sizeBytes', 0n, U64_MAX, at),
    mediaType: readInt(o, 'mediaType', 0, 255, at),
    status: readOneOf(o, 'status', DP_STATUSES, at),
  };
}

export const RECOVERY_COMMAND_DECODERS: { readonly [T in RecoveryCommandType]: (o: Obj) => CommandOf<T> } = {
  'recovery.begin': (o) => {
    expectKeys(o, ['v', 'type', 'params', 'timeUnixSec', 'newRound'], '');
    return makeCommand('recovery.begin', {
      params: readRecoveryParams(o['params'], 'params'),
      timeUnixSec: readInt(o, 'timeUnixSec', 0, MAX_ID),
      newRound: readBool(o, 'newRound'),
    });
  },
  'recovery.adoptNodes': (o) => {
    expectKeys(o, ['v', 'type', 'round', 'nodeSetCapacity', 'createTimeMs', 'idFloor', 'nodes'], '');
    return makeCommand('recovery.adoptNodes', {
      round: readInt(o, 'round', 1, MAX_ID),
      nodeSetCapacity: readInt(o, 'nodeSetCapacity', 0, MAX_ID),
      createTimeMs: readInt(o, 'createTimeMs', 0, MAX_ID),
      idFloor: readInt(o, 'idFloor', 0, MAX_ID),
      nodes: bounded(readObjectArray(o, 'nodes', node), RECOVERY_BATCH_MAX, 'nodes'),
    });
  },
  'recovery.adoptVol': (o) => {
    expectKeys(
      o,
      [
        'v', 'type', 'round', 'name', 'owner', 'createTimeUnixSec', 'capacityGB', 'mpReplicaNum', 'dpReplicaNum', 'dpSizeBytes',
        'volStorageClass', 'settings', 'metaPartitions', 'dataPartitions',
      ],
      '',
    );
    return makeCommand('recovery.adoptVol', {
      round: readInt(o, 'round', 1, MAX_ID),
      name: readString(o, 'name'),
      owner: readString(o, 'owner'),
      createTimeUnixSec: readInt(o, 'createTimeUnixSec', 0, MAX_ID),
      capacityGB: readInt(o, 'capacityGB', 1, MAX_ID),
      mpReplicaNum: readInt(o, 'mpReplicaNum', 1, MAX_REPLICAS),
      dpReplicaNum: readInt(o, 'dpReplicaNum', 1, MAX_REPLICAS),
      dpSizeBytes: readBigInt(o, 'dpSizeBytes', 0n, U64_MAX),
      volStorageClass: readOneOf(o, 'volStorageClass', STORAGE_CLASSES),
      settings: decodeVolSettings(o['settings'], 'settings', false),
      metaPartitions: bounded(readObjectArray(o, 'metaPartitions', metaPartition), RECOVERY_VOL_META_PARTITIONS_MAX, 'metaPartitions'),
      dataPartitions: bounded(readObjectArray(o, 'dataPartitions', dataPartition), RECOVERY_BATCH_MAX, 'dataPartitions'),
    });
  },
  'recovery.adoptDataPartitions': (o) => {
    expectKeys(o, ['v', 'type', 'round', 'volName', 'createTimeUnixSec', 'partitions'], '');
    return makeCommand('recovery.adoptDataPartitions', {
      round: readInt(o, 'round', 1, MAX_ID),
      volName: readString(o, 'volName'),
      createTimeUnixSec: readInt(o, 'createTimeUnixSec', 0, MAX_ID),
      partitions: bounded(readObjectArray(o, 'partitions', dataPartition), RECOVERY_BATCH_MAX, 'partitions'),
    });
  },
  'recovery.finish': (o) => {
    expectKeys(o, ['v', 'type', 'round', 'timeUnixSec', 'counterFloors', 'summary', 'findings', 'findingsOmitted'], '');
    const floors = asObject(o['counterFloors'], 'counterFloors');
    expectKeys(floors, COUNTER_NAMES, 'counterFloors');
    return makeCommand('recovery.finish', {
      round: readInt(o, 'round', 1, MAX_ID),
      timeUnixSec: readInt(o, 'timeUnixSec', 0, MAX_ID),
      counterFloors: {
        common: readInt(floors, 'common', 0, MAX_ID, 'counterFloors'),
        metaPartition: readInt(floors, 'metaPartition', 0, MAX_ID, 'counterFloors'),
        dataPartition: readInt(floors, 'dataPartition', 0, MAX_ID, 'counterFloors'),
      },
      summary: readRecoverySummary(o['summary'], 'summary'),
      findings: readRecoveryFindings(o, 'findings', ''),
      findingsOmitted: readInt(o, 'findingsOmitted', 0, MAX_ID),
    });
  },
};
