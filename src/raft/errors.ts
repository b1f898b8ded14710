// Operating errors of the Raft driver (node.ts), beside the core's (core/errors.ts). A proposal
// or read never hangs and never vanishes: it resolves, or rejects with one of these.
import { CubeCode, ReplicationError } from '../util/errors.js';

/**
 * The member is stopping: it takes no new proposals or reads (HTTP 503: try another master).
 * `outcomeUnknown` marks a proposal that was already in the log when the stop failed it: it may
 * still commit under the next leader, unlike one refused before it was proposed.
 */
export class ShuttingDownError extends ReplicationError {
  readonly outcomeUnknown: boolean;
  constructor(what = 'request', options: { outcomeUnknown?: boolean } = {}) {
    super(CubeCode.PersistenceByRaft, `master is shutting down; ${what} ${options.outcomeUnknown === true ? 'abandoned, outcome unknown' : 'refused'}`);
    this.outcomeUnknown = options.outcomeUnknown === true;
  }
}

/** A proposal or read did not finish within its deadline; its outcome is unknown. */
export class RaftTimeoutError extends ReplicationError {
  constructor(what: string, timeoutMs: number) {
    super(CubeCode.PersistenceByRaft, `${what} did not complete within ${timeoutMs} ms`);
  }
}

/** The entry of a proposal was overwritten by another leader's: it was not committed. */
export class ProposalDroppedError extends ReplicationError {
  constructor(index: number, term: number) {
    super(CubeCode.PersistenceByRaft, `proposal at ${term}/${index} was superseded by a new leader; not committed`);
  }
}

/** The proposal's entry was replaced by a snapshot before it was applied here: it may or may not have committed. */
export class ProposalOutcomeUnknownError extends ReplicationError {
  constructor(index: number, why: string) {
    super(CubeCode.PersistenceByRaft, `outcome of the proposal at index ${index} is unknown: ${why}`);
  }
}

/**
 * A store of this member is out of disk space (storage/disk-space.ts): the proposal or read was
 * refused before anything was proposed, so it did not happen. HTTP 503: the client tries another
 * master, whose disk may take it (the full member hands leadership over).
 */
export class MemberDiskFullError extends ReplicationError {
  constructor(what: string, cause: Error) {
    super(CubeCode.PersistenceByRaft, `this master's disk is full (${cause.message}); ${what} refused until space returns, try another master`, { cause });
  }
}
