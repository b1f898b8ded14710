// Opcodes and result codes of the CubeFS packet protocol (spec/node-protocol.md 2.3, 2.4; the
// values are those of proto/packet.go at 80a062bf2). Only the master's admin ops and the result
// codes a master meets are named; data-path opcodes matter here only for the framing exception
// (a read request carries no Data, see packet.ts).

/** Opcodes the master sends to meta nodes (0x40..0x4C) and data nodes (0x60..0x8C). */
export const Opcode = {
  CreateMetaPartition: 0x40,
  MetaNodeHeartbeat: 0x41,
  DeleteMetaPartition: 0x42,
  UpdateMetaPartition: 0x43,
  LoadMetaPartition: 0x44,
  DecommissionMetaPartition: 0x45,
  AddMetaPartitionRaftMember: 0x46,
  RemoveMetaPartitionRaftMember: 0x47,
  MetaPartitionTryToLeader: 0x48,
  FreezeEmptyMetaPartition: 0x49,
  BackupEmptyMetaPartition: 0x4a,
  RemoveBackupMetaPartition: 0x4b,
  IsRaftStatusOk: 0x4c,

  CreateDataPartition: 0x60,
  DeleteDataPartition: 0x61,
  LoadDataPartition: 0x62,
  DataNodeHeartbeat: 0x63,
  DecommissionDataPartition: 0x66,
  AddDataPartitionRaftMember: 0x67,
  RemoveDataPartitionRaftMember: 0x68,
  DataPartitionTryToLeader: 0x69,
  StopDataPartitionRepair: 0x6b,
  RecoverDataReplicaMeta: 0x6c,
  RecoverBackupDataReplica: 0x6d,
  RecoverBadDisk: 0x6e,
  QueryBadDiskRecoverProgress: 0x6f,
  DeleteBackupDirectories: 0x80,
  DeleteLostDisk: 0x8a,
  ReloadDisk: 0x8b,
  SetRepairingStatus: 0x8c,

  VersionOperation: 0xd5,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** ResultCode byte of a packet (spec 2.4). A request carries Init; a reply OK or an error. */
export const ResultCode = {
  Init: 0x00,
  NoSpaceErr: 0xee,
  ForbidErr: 0xef,
  OK: 0xf0,
  IntraGroupNetErr: 0xf3,
  ArgMismatchErr: 0xf4,
  NotExistErr: 0xf5,
  DiskNoSpaceErr: 0xf6,
  DiskErr: 0xf7,
  Err: 0xf8,
  Again: 0xf9,
  ExistErr: 0xfa,
  InodeFullErr: 0xfb,
  TryOtherAddr: 0xfc,
  NotPerm: 0xfd,
  NotEmpty: 0xfe,
} as const;
export type ResultCode = (typeof ResultCode)[keyof typeof ResultCode];

/**
 * Data-path read opcodes (OpRead, OpStreamRead, OpStreamFollowerRead, OpExtentRepairRead,
 * OpReadTinyDeleteRecord, OpTinyExtentRepairRead, OpSnapshotExtentRepairRead, OpBackupRead): a
 * request with one of them and ResultCode Init has a Size that is the length asked for, not the
 * length of a Data that follows (spec 2.2, framing rule).
 */
const READ_OPCODES: ReadonlySet<number> = new Set([0x04, 0x05, 0x06, 0x09, 0x14, 0x15, 0x17, 0x59]);

export function isReadOpcode(opcode: number): boolean {
  return READ_OPCODES.has(opcode);
}

const OPCODE_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(Opcode).map(([name, code]) => [code, `Op${name}`]));
const RESULT_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(ResultCode).map(([name, code]) => [code, name === 'OK' ? 'OpOk' : `Op${name}`]),
);

/** "OpCreateMetaPartition", or "Op0x12" for one not named here; for logs and error texts. */
export function opcodeName(opcode: number): string {
  return OPCODE_NAMES.get(opcode) ?? `Op0x${opcode.toString(16).padStart(2, '0')}`;
}

export function resultCodeName(code: number): string {
  return RESULT_NAMES.get(code) ?? `Result0x${code.toString(16).padStart(2, '0')}`;
}

/** Meta-node admin ops: their task IDs end in `_pid[N]` (master/meta_partition.go). */
export function isMetaNodeOpcode(opcode: number): boolean {
  return opcode >= 0x40 && opcode <= 0x4c;
}

/** Data-node admin ops: their task IDs end in `_DataPartitionID[N]` (master/data_partition.go). */
export function isDataNodeOpcode(opcode: number): boolean {
  return (opcode >= 0x60 && opcode <= 0x6f) || opcode === 0x80 || (opcode >= 0x8a && opcode <= 0x8c);
}
