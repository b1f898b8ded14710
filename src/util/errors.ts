// Operating errors: expected failures a caller handles (bad input, not leader, shutting down,
// store closed, disk full). Each carries the CubeFS numeric code the HTTP layer answers with
// (spec/cubefs-master.md, section 1.2). Programmer errors are assertions (see assert.ts), not these.

/** CubeFS error codes (proto/errors.go, iota order). Only the ones we emit are named here. */
export const CubeCode = {
  Success: 0,
  InternalError: 1,
  ParamError: 2,
  InvalidCfg: 3,
  PersistenceByRaft: 4,
  UnmarshalData: 6,
  VolNotExists: 7,
  MetaPartitionNotExists: 10,
  DataPartitionNotExists: 11,
  DataNodeNotExists: 12,
  MetaNodeNotExists: 13,
  DuplicateVol: 14,
  NoLeader: 33,
  VolAuthKeyNotMatch: 34,
  AccessKeyNotExists: 40,
  DuplicateUserID: 45,
  UserNotExists: 46,
  DuplicateAccessKey: 49,
  ZoneNotExists: 52,
  OwnVolExists: 53,
  InvalidUserID: 55,
  InvalidUserType: 56,
  NoPermission: 57,
  InvalidAccessKey: 59,
  InvalidSecretKey: 60,
  NodeSetNotExists: 64,
  NoAvailDataPartition: 18,
  NoDataNodeToCreateDataPartition: 26,
  NoZoneToCreateDataPartition: 27,
  NoNodeSetToCreateDataPartition: 28,
  NoNodeSetToCreateMetaPartition: 29,
  NoMetaNodeToCreateMetaPartition: 30,
  NoZoneToCreateMetaPartition: 51,
  HaveNoPolicy: 50,
  IsOwner: 61,
  VolHasDeleted: 8,
  VolNotDelete: 9,
} as const;
export type CubeCode = (typeof CubeCode)[keyof typeof CubeCode];

/**
 * Base of every operating error. `code` is what a CubeFS client sees in the envelope;
 * subclasses set `name` so logs and tests can tell them apart without instanceof chains.
 */
export class OperatingError extends Error {
  readonly code: number;
  constructor(code: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A refusal or failure of the replicated core itself (not leader, timeout, shutting down,
 * backpressure, dropped): the command's own rules never ran, or its outcome is unknown. A
 * multi-step operation must not treat it as "the command was rejected" (docs/volume-create.md).
 */
export class ReplicationError extends OperatingError {}

/** Bad input: names the field, changes nothing. */
export class ParamError extends OperatingError {
  readonly field: string;
  constructor(field: string, message: string, code: number = CubeCode.ParamError) {
    super(code, message);
    this.field = field;
  }
}
