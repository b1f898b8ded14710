// Typed operating errors of the domain. Each carries the CubeFS code a client sees in the
// envelope (spec/cubefs-master.md, section 1.2). For every code other than 1 and 2 the Go SDK
// ignores `msg` and prints its own canonical text, so `message` is that canonical text and the
// subject (user id, addr...) travels in a field for logs.

import { CubeCode, OperatingError } from '../util/errors.js';

/** 45: `/user/create` with an id that exists (spec 1.5, observed in 11). */
export class DuplicateUserError extends OperatingError {
  constructor(readonly userId: string) {
    super(CubeCode.DuplicateUserID, 'duplicate user id');
  }
}

/** 46: unknown user on info/update/delete (spec 1.5). */
export class UserNotFoundError extends OperatingError {
  constructor(readonly userId: string) {
    super(CubeCode.UserNotExists, 'user not exists');
  }
}

/** 40: `/user/akInfo` for an access key nobody holds. */
export class AccessKeyNotFoundError extends OperatingError {
  constructor(readonly accessKey: string) {
    super(CubeCode.AccessKeyNotExists, 'access key not exists');
  }
}

/** 49: an access key already held by another user. */
export class DuplicateAccessKeyError extends OperatingError {
  constructor(readonly accessKey: string) {
    super(CubeCode.DuplicateAccessKey, 'duplicate access key');
  }
}

/** 53: `/user/delete` of a user that still owns volumes (spec 1.5). */
export class OwnVolsNotEmptyError extends OperatingError {
  constructor(readonly userId: string) {
    super(CubeCode.OwnVolExists, 'own vols not empty');
  }
}

/** 57: an operation the root user is protected from (delete, change of type). */
export class NoPermissionError extends OperatingError {
  constructor(readonly detail: string) {
    super(CubeCode.NoPermission, 'no permission');
  }
}

/** 64: an explicit node set id (`id` of `/metaNode/add`, `/dataNode/add`) that is not there. */
export class NodeSetNotFoundError extends OperatingError {
  constructor(
    readonly nodeSetId: number,
    readonly detail: string,
  ) {
    super(CubeCode.NodeSetNotExists, 'node set not exists');
  }
}

/** 13: unknown meta node addr (`/metaNode/get`). */
export class MetaNodeNotFoundError extends OperatingError {
  constructor(readonly addr: string) {
    super(CubeCode.MetaNodeNotExists, 'meta node not exists');
  }
}

/** 12: unknown data node addr (`/dataNode/get`). */
export class DataNodeNotFoundError extends OperatingError {
  constructor(readonly addr: string) {
    super(CubeCode.DataNodeNotExists, 'data node not exists');
  }
}

/**
 * 1: a data node whose media type differs from its zone's (the first data node of a zone fixes
 * it, spec 1.5). CubeFS answers code 1 with this hint in the text; cfs-cli prints the text.
 */
export class MediaTypeMismatchError extends OperatingError {
  constructor(
    readonly addr: string,
    detail: string,
  ) {
    super(CubeCode.InternalError, `add datanode failed, err[${detail}], hint DataNode mediaType not match`);
  }
}

/** 1: a command that needs the cluster record before `cluster.bootstrap` was applied. */
export class ClusterNotBootstrappedError extends OperatingError {
  constructor() {
    super(CubeCode.InternalError, 'cluster is not bootstrapped');
  }
}

/** 3: bootstrap with a cluster name that differs from the one already stored. */
export class ClusterNameMismatchError extends OperatingError {
  constructor(
    readonly stored: string,
    readonly configured: string,
  ) {
    super(CubeCode.InvalidCfg, `cluster name mismatch: stored [${stored}], configured [${configured}]`);
  }
}

/**
 * 6: bytes that do not decode into a valid command or record. `path` names the offending
 * field (`type`, `userId`, `value.policy.ownVols[2]`...).
 */
export class CodecError extends OperatingError {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(CubeCode.UnmarshalData, `${path}: ${detail}`);
  }
}

/** 7: an unknown volume name (spec 1.5, observed `/admin/getVol?name=nope`). */
export class VolNotFoundError extends OperatingError {
  constructor(readonly volName: string) {
    super(CubeCode.VolNotExists, 'vol not exists');
  }
}

/**
 * 1 (not 14): the Go master wraps the duplicate error with fmt.Errorf, so clients see code 1 and
 * a text that contains "duplicate vol" (spec 1.5, observed). Kept: cfs-cli prints that text.
 */
export class DuplicateVolError extends OperatingError {
  constructor(
    readonly volName: string,
    clusterName: string,
  ) {
    super(
      CubeCode.InternalError,
      `action[createVol], clusterID[${clusterName}] name:${volName}, err:action[doCreateVol], clusterID[${clusterName}] name:${volName}, err:duplicate vol  `,
    );
  }
}

/** 1: createVol while `/cluster/freeze` is on (spec 1.5). */
export class ClusterFrozenError extends OperatingError {
  constructor() {
    super(CubeCode.InternalError, 'the cluster is frozen, can not create volume');
  }
}

/**
 * 1: an update of a vol that is marked for deletion. The Go master's getVol skips marked vols
 * inside updateVol and wraps the result (observed: `/vol/expand` of a deleted vol).
 */
export class VolMarkedDeleteError extends OperatingError {
  constructor(
    readonly volName: string,
    action: string,
    clusterName: string,
  ) {
    super(CubeCode.InternalError, `action[${action}], clusterID[${clusterName}] name:${volName}, err:vol not exists `);
  }
}

/** 34: authKey is not md5(owner) (spec 1.3). */
export class AuthKeyMismatchError extends OperatingError {
  constructor(readonly volName: string) {
    super(CubeCode.VolAuthKeyNotMatch, 'client and server auth key do not match');
  }
}

/** 10 / 11: unknown partition id. */
export class MetaPartitionNotFoundError extends OperatingError {
  constructor(readonly partitionId: number) {
    super(CubeCode.MetaPartitionNotExists, 'meta partition not exists');
  }
}
export class DataPartitionNotFoundError extends OperatingError {
  constructor(readonly partitionId: number) {
    super(CubeCode.DataPartitionNotExists, 'data partition not exists');
  }
}

/** 18: `/client/partitions` of a vol with no data partition (spec 1.5). */
export class NoAvailDataPartitionError extends OperatingError {
  constructor(readonly volName: string) {
    super(CubeCode.NoAvailDataPartition, 'no available data partition');
  }
}

/** 52: a zone name that no node registered. */
export class ZoneNotFoundError extends OperatingError {
  constructor(readonly zoneName: string) {
    super(CubeCode.ZoneNotExists, 'zone not exists');
  }
}

/** 61: transferring or deleting where the user owns the volume. */
export class IsOwnerError extends OperatingError {
  constructor(readonly userId: string) {
    super(CubeCode.IsOwner, 'user owns the volume');
  }
}

/**
 * 1: a command that names a partition id, node or intent state that the replicated state does
 * not allow (a stale proposer: ids not reserved, an intent already finished, a node gone).
 * Not a client mistake; the service that proposed it rolls back.
 */
export class StaleProposalError extends OperatingError {
  constructor(detail: string) {
    super(CubeCode.InternalError, detail);
  }
}

/** 50: the user holds no policy for the vol (`/user/transferVol` from a user who does not own it). */
export class HaveNoPolicyError extends OperatingError {
  constructor(readonly userId: string) {
    super(CubeCode.HaveNoPolicy, 'no vol policy');
  }
}
