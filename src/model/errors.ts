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
