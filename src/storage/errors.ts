// Operating errors of the storage layer. Each names the store it comes from (`store`), so a log
// line or an HTTP envelope says which of the two stores (RocksDB state, segment log) refused.
// CubeFS has no dedicated code for "storage unavailable": the Go master answers such failures
// with InternalError (1), and clients treat it as retryable on another master, which is what we
// want while a member shuts down.

import { CubeCode, OperatingError } from '../util/errors.js';

/** The store is closing or closed (or not open yet): the call was refused before doing anything. */
export class StoreClosedError extends OperatingError {
  readonly store: string;
  readonly op: string;
  readonly state: string;
  constructor(store: string, op: string, state: string) {
    super(CubeCode.InternalError, `store "${store}" is ${state}: ${op} refused`);
    this.store = store;
    this.op = op;
    this.state = state;
  }
}

/** An I/O call into the store failed (native RocksDB error, write/fsync/unlink error). */
export class StoreIoError extends OperatingError {
  readonly store: string;
  readonly op: string;
  constructor(store: string, op: string, cause: unknown) {
    super(CubeCode.InternalError, `store "${store}": ${op} failed: ${describeCause(cause)}`, { cause });
    this.store = store;
    this.op = op;
  }
}

/**
 * A write or sync failed earlier, so what is on disk past the last good sync is unknown; the
 * store refuses further writes until it is reopened (open re-scans and cuts the torn tail).
 * Retrying an fsync after a failure can falsely succeed (the kernel may have dropped the dirty
 * pages), which is why a failure is sticky here rather than retried.
 */
export class StoreFailedError extends OperatingError {
  readonly store: string;
  readonly op: string;
  constructor(store: string, op: string, cause: unknown) {
    super(
      CubeCode.InternalError,
      `store "${store}" failed earlier (${describeCause(cause)}): ${op} refused until reopened`,
      { cause },
    );
    this.store = store;
    this.op = op;
  }
}

/** A bounded buffer or size limit would be exceeded; nothing was changed. */
export class StoreLimitError extends OperatingError {
  readonly store: string;
  readonly limit: string;
  readonly limitValue: number;
  readonly requestedValue: number;
  constructor(store: string, limit: string, limitValue: number, requestedValue: number) {
    super(CubeCode.InternalError, `store "${store}": ${limit} is ${limitValue}, call needs ${requestedValue}`);
    this.store = store;
    this.limit = limit;
    this.limitValue = limitValue;
    this.requestedValue = requestedValue;
  }
}

/**
 * Damage the segment log must not repair silently: a bad record in a segment that is not the
 * last one (it was fully synced before the next segment was created, so this is not a torn
 * write), or a gap in the segment numbers.
 */
export class SegmentCorruptError extends OperatingError {
  readonly store: string;
  readonly file: string;
  readonly offsetBytes: number;
  readonly reason: string;
  constructor(store: string, file: string, offsetBytes: number, reason: string) {
    super(CubeCode.InternalError, `store "${store}": segment ${file} is corrupt at byte ${offsetBytes}: ${reason}`);
    this.store = store;
    this.file = file;
    this.offsetBytes = offsetBytes;
    this.reason = reason;
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}
