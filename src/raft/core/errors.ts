// The typed refusals the core answers a caller with. Each is an operating error: the caller
// (HTTP layer, driver) maps it to a CubeFS code and retries elsewhere or later.
import { CubeCode, OperatingError, ReplicationError } from '../../util/errors.js';
import { NONE, type NodeId } from './types.js';

/** This member cannot take the request; `leaderHint` is the leader it knows of (0 = none). */
export class NotLeaderError extends ReplicationError {
  constructor(
    readonly leaderHint: NodeId,
    what = 'request',
  ) {
    super(CubeCode.NoLeader, leaderHint === NONE ? `no leader for ${what}` : `not leader for ${what}; leader is ${leaderHint}`);
  }
}

/** The leader holds too many uncommitted bytes (or pending reads); retry after a while. */
export class BackpressureError extends ReplicationError {
  constructor(message: string) {
    super(CubeCode.InternalError, message);
  }
}

/** Proposals are refused while leadership moves to another member (Raft thesis, 3.10). */
export class TransferInProgressError extends ReplicationError {
  constructor(readonly target: NodeId) {
    super(CubeCode.InternalError, `leadership transfer to ${target} in progress`);
  }
}

/** A configuration change that cannot be proposed now or at all. */
export class ConfChangeRejectedError extends OperatingError {
  constructor(message: string) {
    super(CubeCode.ParamError, message);
  }
}

/** A leadership transfer to a member that cannot lead (not a voter). */
export class TransferRejectedError extends OperatingError {
  constructor(message: string) {
    super(CubeCode.ParamError, message);
  }
}
