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

/**
 * The file system had no room for a write (ENOSPC, or EDQUOT: a quota). Unlike a failed fsync,
 * this is not a reason to distrust the disk: write(2) refused the bytes before any of them could
 * be lost from the page cache, so what was synced before is intact and the refused write made
 * nothing durable. The store keeps what it could not write and writes it again once there is
 * room (segment-log.ts: the pending records; write-behind.ts: the batch). CubeFS code 4
 * (PersistenceByRaft): the master could not persist.
 */
export class DiskFullError extends OperatingError {
  readonly store: string;
  readonly op: string;
  /** ENOSPC or EDQUOT. */
  readonly errno: string;
  constructor(store: string, op: string, cause: unknown) {
    const errno = noSpaceCode(cause) ?? 'ENOSPC';
    super(CubeCode.PersistenceByRaft, `store "${store}": ${op}: no space left on the device (${errno}); writes wait until space returns`, { cause });
    this.store = store;
    this.op = op;
    this.errno = errno;
  }
}

/** Whether `err` (or an error in its cause chain) says the device or a quota is full. */
export function isNoSpaceError(err: unknown): boolean {
  return noSpaceCode(err) !== null;
}

/**
 * ENOSPC or EDQUOT when `err` or one of its causes carries it: as a Node system error's `code`
 * (fs calls), or only in the text (RocksDB's IOError "No space left on device", which
 * rocksdb-native passes on inside "Batch was not applied"). Causes are followed a bounded depth.
 */
function noSpaceCode(err: unknown): string | null {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (current instanceof DiskFullError) return current.errno;
    const code = (current as { code?: unknown }).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return code;
    if (/No space left on device/i.test(current.message)) return 'ENOSPC';
    if (/Disk quota exceeded/i.test(current.message)) return 'EDQUOT';
    current = current.cause;
  }
  return null;
}

/**
 * An fdatasync (or fsync) failed. What the file holds past its last good sync is unknown: the
 * kernel may have dropped the dirty pages and cleared the error, so a retried fsync can succeed
 * without the data being on disk (the 2018 "fsyncgate" lesson, PostgreSQL's and others'). The
 * store refuses every later write, and its owner must stop the process: a restart reads back
 * what really is on disk. Never retried, whatever the errno (ENOSPC from fsync included).
 */
export class FsyncFailedError extends StoreIoError {
  constructor(store: string, op: string, cause: unknown) {
    super(store, `${op} (fdatasync)`, cause);
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
