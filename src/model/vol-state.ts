// Volumes and their partitions as replicated records (spec 3, 3.1, 3.2), plus the volume-create
// intent that makes a multi-step create all-or-nothing (docs/volume-create.md).
//
// 64-bit values that can leave the safe-integer range are bigint: inode range bounds (the last
// meta partition ends at 2^63-1) and byte sizes. Ids stay numbers: they come from counters that
// refuse to leave the safe range (apply/ids.ts).

/** 2^63 - 1: the end of the last meta partition of every volume (spec 3.1 `MAX`). */
export const INODE_ID_MAX = 9_223_372_036_854_775_807n;
/** `MetaPartitionInodeIdStep` default (spec 3, 3.1): 2^22 inodes per meta partition. */
export const DEFAULT_MP_INODE_STEP = 4_194_304;
export const GIB = 1_073_741_824n;

/** Vol Status (spec 1.6): 0 normal, 1 marked for deletion. */
export const VolStatus = { Normal: 0, MarkDelete: 1 } as const;
export type VolStatus = (typeof VolStatus)[keyof typeof VolStatus];

/** Partition Status (spec 1.6): -1 unavailable, 0 recovering, 1 read-only, 2 read-write. */
export const PartitionStatus = { Unavailable: -1, Recovering: 0, ReadOnly: 1, ReadWrite: 2 } as const;
export type PartitionStatus = (typeof PartitionStatus)[keyof typeof PartitionStatus];

/** `volStorageClass` (spec 1.5): 1 ReplicaSSD, 2 ReplicaHDD, 3 BlobStore (0 = choose at create). */
export const StorageClass = { Unspecified: 0, ReplicaSSD: 1, ReplicaHDD: 2, BlobStore: 3 } as const;
export type StorageClass = (typeof StorageClass)[keyof typeof StorageClass];

/**
 * The tunables of a volume that routes set and views show, with the Go master's defaults
 * (spec 1.5 createVol, observed `/admin/getVol`). `/vol/update` replaces any subset of them.
 */
export interface VolSettings {
  readonly description: string;
  /** Comma-separated zone names as given (observed: "default" when none was given). */
  readonly zoneName: string;
  readonly crossZone: boolean;
  readonly normalZonesFirst: boolean;
  readonly followerRead: boolean;
  readonly metaFollowerRead: boolean;
  readonly directRead: boolean;
  readonly maximallyRead: boolean;
  readonly ignoreTinyRecover: boolean;
  readonly authenticate: boolean;
  readonly dpReadOnlyWhenVolFull: boolean;
  readonly enablePosixAcl: boolean;
  readonly enableQuota: boolean;
  readonly deleteLockTimeHours: number;
  /** EnableTransactionV1 mask string (observed default "rename"). */
  readonly txMask: string;
  readonly txTimeoutMin: number;
  readonly txConflictRetryNum: number;
  readonly txConflictRetryIntervalMs: number;
  readonly trashIntervalMin: number;
  readonly accessTimeValidIntervalSec: number;
  readonly enablePersistAccessTime: boolean;
  readonly ebsBlkSizeBytes: number;
  readonly leaderRetryTimeoutSec: number;
  readonly dpSelectorName: string;
  readonly dpSelectorParm: string;
  readonly autoDpMetaRepair: boolean;
  readonly forbidWriteOpOfProtoVer0: boolean;
  readonly domainId: number;
}

export const DEFAULT_VOL_SETTINGS: VolSettings = Object.freeze({
  description: '',
  zoneName: '',
  crossZone: false,
  normalZonesFirst: false,
  followerRead: false,
  metaFollowerRead: false,
  directRead: false,
  maximallyRead: false,
  ignoreTinyRecover: false,
  authenticate: false,
  dpReadOnlyWhenVolFull: false,
  enablePosixAcl: false,
  enableQuota: false,
  deleteLockTimeHours: 0,
  txMask: 'rename',
  txTimeoutMin: 1,
  txConflictRetryNum: 121,
  txConflictRetryIntervalMs: 500,
  trashIntervalMin: 0,
  accessTimeValidIntervalSec: 86_400,
  enablePersistAccessTime: false,
  ebsBlkSizeBytes: 8_388_608,
  leaderRetryTimeoutSec: 0,
  dpSelectorName: '',
  dpSelectorParm: '',
  autoDpMetaRepair: false,
  forbidWriteOpOfProtoVer0: true,
  domainId: 0,
});

/** Keys of VolSettings in a fixed order: the record codec and the digest depend on it. */
export const VOL_SETTING_KEYS = Object.freeze(Object.keys(DEFAULT_VOL_SETTINGS)) as readonly (keyof VolSettings)[];

/** `#vol#<id>` (volValue, spec 3). */
export interface VolRecord {
  readonly id: number;
  readonly name: string;
  readonly owner: string;
  readonly status: VolStatus;
  readonly capacityGB: number;
  /** ReplicaNum of volValue = the meta partition replica count. */
  readonly mpReplicaNum: number;
  readonly dpReplicaNum: number;
  readonly dpSizeBytes: bigint;
  readonly volType: number;
  readonly volStorageClass: StorageClass;
  readonly allowedStorageClass: readonly StorageClass[];
  /** Unix seconds at the proposer of the create. */
  readonly createTimeUnixSec: number;
  /** When the vol was marked for deletion (unix s); 0 while normal. */
  readonly deleteTimeUnixSec: number;
  readonly settings: VolSettings;
}

/** A replica's place: node id (the raft peer id the nodes use) and node address (spec 1, node-protocol). */
export interface PartitionPeer {
  readonly nodeId: number;
  readonly addr: string;
}

/** `#mp#<volId>#<mpId>` (metaPartitionValue, spec 3). */
export interface MetaPartitionRecord {
  readonly id: number;
  readonly volId: number;
  readonly volName: string;
  readonly start: bigint;
  readonly end: bigint;
  readonly replicaNum: number;
  /** Persisted status (ReadWrite at create; ReadOnly when the split rule freezes it). */
  readonly status: PartitionStatus;
  /** Hosts are the peers' addrs in this order. */
  readonly peers: readonly PartitionPeer[];
  readonly isRecover: boolean;
}

/** A data partition replica's disk as the data node reported it at create. */
export interface DataReplicaPlace {
  readonly addr: string;
  readonly diskPath: string;
}

/** `#dp#<volId>#<dpId>` (dataPartitionValue, spec 3). */
export interface DataPartitionRecord {
  readonly id: number;
  readonly volId: number;
  readonly volName: string;
  readonly replicaNum: number;
  readonly status: PartitionStatus;
  readonly peers: readonly PartitionPeer[];
  readonly replicas: readonly DataReplicaPlace[];
  readonly mediaType: number;
  readonly sizeBytes: bigint;
  readonly isRecover: boolean;
  readonly rdOnly: boolean;
  /** Unix seconds when the partition was committed (LastLoadedTime until a load runs). */
  readonly createTimeUnixSec: number;
}

/** The owner user a create makes when it is missing (spec 1.5: password "CubeFSUser"). */
export interface IntentOwner {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly passwordSha1: string;
}

/**
 * `#volIntent#<volId>`: a volume create that began and has neither committed nor aborted. It
 * holds everything the commit needs and everything a cleanup needs (every partition and where
 * it was placed). The name stays reserved while it exists; views never show it.
 */
export interface VolIntentRecord {
  readonly vol: VolRecord;
  readonly metaPartitions: readonly MetaPartitionRecord[];
  /** Data partitions as placed; disk paths arrive with the commit. */
  readonly dataPartitions: readonly DataPartitionRecord[];
  /** Null when the owner user already existed at begin. */
  readonly newOwner: IntentOwner | null;
  /** Which member proposed it (raft id): a leader finishes or undoes only intents it cannot be running. */
  readonly proposerId: number;
  readonly beginTimeUnixSec: number;
}

/** `hosts` of a partition, in peer order. */
export function hostsOf(p: { readonly peers: readonly PartitionPeer[] }): string[] {
  return p.peers.map((peer) => peer.addr);
}
