// The call gate: every call into a store passes through it, so that closing the store can never
// overlap a call that is still using the native handle. This is the CubeFS master's shutdown
// SIGSEGV (RocksDB closed while a Raft apply was inside a RocksDB write) made impossible by
// construction: the native close is the gate's `finalize`, and the gate runs it exactly once,
// after every admitted call has been released.
//
// Two kinds of call:
// - an operation (`enter`/`run`): one bounded piece of work (get, batch commit, flush, fsync).
//   Close waits for it to finish.
// - a lease (`lease`): a resource a caller holds across awaits (iterator, snapshot). It counts
//   as a call until released. Close waits for operations first, then destroys the leases still
//   open through their `revoke` hook: by the lifecycle (ARCHITECTURE.md, step 5) their owners
//   have stopped before the stores close, so a lease still open then is leaked, and waiting for
//   it would hang close (rocksdb-native's own close hangs forever on a leaked iterator).
//
// States: opening -> open -> closing -> closed. Calls are admitted only while open; anything
// else fails at once with StoreClosedError, including a call on a lease that is still held
// (an iterator's next step) once closing has begun.

import { performance } from 'node:perf_hooks';
import { assert } from '../util/assert.js';
import { StoreClosedError, StoreLimitError } from './errors.js';
import type { StoreLogger } from './logger.js';

export type GateState = 'opening' | 'open' | 'closing' | 'closed';

/** An admitted call. `release()` is idempotent (a revoked lease may still be released by its owner). */
export interface GateCall {
  readonly id: number;
  readonly kind: string;
  release(): void;
}

/** What a call is, for logs and close reports. */
export interface GateCallInfo {
  readonly id: number;
  readonly kind: string;
  readonly detail: string | undefined;
  readonly lease: boolean;
  readonly ageMs: number;
}

export interface CloseReport {
  readonly store: string;
  /** From close() to the end of finalize. */
  readonly closeMs: number;
  /** closeTimeoutMs expired before every call was released. */
  readonly timedOut: boolean;
  /** Leases (iterators, snapshots) still open after the operations drained, destroyed by close. */
  readonly revokedLeases: readonly GateCallInfo[];
  /** Calls still unreleased when closeTimeoutMs expired; finalize ran anyway. */
  readonly abandonedCalls: readonly GateCallInfo[];
}

export interface CallGateOptions {
  /** Store name used in errors and logs. */
  readonly store: string;
  readonly logger: StoreLogger;
  /** While close waits, log what it waits for after this long, and again every this long. */
  readonly closeWarnAfterMs: number;
  /**
   * Optional hard bound on the wait: past it, close stops waiting, destroys the leases and runs
   * finalize with calls still in flight (reported as abandoned). Leave it unset for a native
   * handle that must never be closed under a running call; set it where finalize copes.
   */
  readonly closeTimeoutMs?: number;
  /** Calls admitted at once; one more is refused with StoreLimitError. */
  readonly maxCalls?: number;
  /** Releases the underlying resource. Runs exactly once, after the calls are released. */
  readonly finalize: () => Promise<void>;
}

interface CallRecord {
  readonly id: number;
  readonly kind: string;
  readonly detail: string | undefined;
  readonly startedMs: number;
  /** null for an operation; the destroy hook for a lease. */
  readonly revoke: (() => Promise<void>) | null;
}

/** Open calls listed in one log line, at most; the line gives the total too. */
const LOGGED_CALLS_MAX = 16;
const MAX_CALLS_DEFAULT = 65_536;

export class CallGate {
  readonly #store: string;
  readonly #logger: StoreLogger;
  readonly #closeWarnAfterMs: number;
  readonly #closeTimeoutMs: number | undefined;
  readonly #maxCalls: number;
  readonly #finalize: () => Promise<void>;

  #state: GateState = 'opening';
  readonly #calls = new Map<number, CallRecord>();
  #operationCount = 0;
  #nextId = 1;
  #closing: Promise<CloseReport> | null = null;
  /** Wake-ups for the closing wait loop; each is called once and removes itself. */
  readonly #waiters = new Set<() => void>();

  constructor(options: CallGateOptions) {
    assert(options.closeWarnAfterMs > 0, 'closeWarnAfterMs must be positive');
    assert(
      options.closeTimeoutMs === undefined || options.closeTimeoutMs >= 0,
      'closeTimeoutMs must be non-negative',
    );
    this.#store = options.store;
    this.#logger = options.logger;
    this.#closeWarnAfterMs = options.closeWarnAfterMs;
    this.#closeTimeoutMs = options.closeTimeoutMs;
    this.#maxCalls = options.maxCalls ?? MAX_CALLS_DEFAULT;
    this.#finalize = options.finalize;
  }

  get state(): GateState {
    return this.#state;
  }

  get store(): string {
    return this.#store;
  }

  /** Operations and leases admitted and not yet released. */
  get callCount(): number {
    return this.#calls.size;
  }

  /** The owner finished opening the resource: admit calls from now on. */
  markOpen(): void {
    assert(this.#state === 'opening', () => `gate ${this.#store}: markOpen in state ${this.#state}`);
    this.#state = 'open';
  }

  /** Throws StoreClosedError unless open. For a check without admitting a call. */
  checkOpen(op: string): void {
    if (this.#state !== 'open') throw new StoreClosedError(this.#store, op, this.#state);
  }

  /** Admits an operation; the caller must release it (prefer run/runSync, which do). */
  enter(kind: string, detail?: string): GateCall {
    return this.#admit(kind, detail, null);
  }

  /**
   * Admits a lease: a resource held across awaits. `revoke` destroys it; close calls it for a
   * lease still open once the operations have drained, then treats the lease as released.
   */
  lease(kind: string, revoke: () => Promise<void>, detail?: string): GateCall {
    return this.#admit(kind, detail, revoke);
  }

  /** Runs `fn` as an admitted operation; rejects at once with StoreClosedError unless open. */
  async run<T>(kind: string, fn: () => Promise<T>, detail?: string): Promise<T> {
    const call = this.enter(kind, detail);
    try {
      return await fn();
    } finally {
      call.release();
    }
  }

  /** Same as run for synchronous work: throws StoreClosedError unless open. */
  runSync<T>(kind: string, fn: () => T, detail?: string): T {
    const call = this.enter(kind, detail);
    try {
      return fn();
    } finally {
      call.release();
    }
  }

  /** The calls admitted and not released, oldest first. */
  openCalls(): GateCallInfo[] {
    const nowMs = performance.now();
    return [...this.#calls.values()].map((record) => describe(record, nowMs));
  }

  /**
   * Closes the gate: refuses new calls at once, waits for operations, destroys leftover leases,
   * then runs finalize once. A second call returns the same promise.
   */
  close(): Promise<CloseReport> {
    assert(this.#state !== 'opening', () => `gate ${this.#store}: close while opening (the opener owns that window)`);
    this.#closing ??= this.#closeOnce();
    return this.#closing;
  }

  #admit(kind: string, detail: string | undefined, revoke: (() => Promise<void>) | null): GateCall {
    this.checkOpen(kind);
    if (this.#calls.size >= this.#maxCalls) {
      throw new StoreLimitError(this.#store, 'maxCalls', this.#maxCalls, this.#calls.size + 1);
    }
    const id = this.#nextId++;
    this.#calls.set(id, { id, kind, detail, startedMs: performance.now(), revoke });
    if (revoke === null) this.#operationCount++;
    return { id, kind, release: () => this.#release(id) };
  }

  #release(id: number): void {
    const record = this.#calls.get(id);
    if (record === undefined) return;
    this.#calls.delete(id);
    if (record.revoke === null) this.#operationCount--;
    for (const wake of [...this.#waiters]) wake();
  }

  async #closeOnce(): Promise<CloseReport> {
    const startedMs = performance.now();
    this.#state = 'closing';
    const deadlineMs = this.#closeTimeoutMs === undefined ? Infinity : startedMs + this.#closeTimeoutMs;
    const warning = { startedMs, nextWarnMs: startedMs + this.#closeWarnAfterMs };
    try {
      // 1. Operations finish on their own in bounded time (native latency); wait for them.
      const drained = await this.#waitUntil(() => this.#operationCount === 0, 'operations', warning, deadlineMs);

      // 2. Leases still open are leaked by their owners: destroy them. The lease is released
      // when its revoke settles (a failed revoke is logged, not retried: nothing better exists).
      const leases = [...this.#calls.values()].filter((record) => record.revoke !== null);
      const nowMs = performance.now();
      const revokedLeases = leases.map((record) => describe(record, nowMs));
      if (leases.length > 0) {
        this.#logger.warn(
          { store: this.#store, leaseCount: leases.length, leases: revokedLeases.slice(0, LOGGED_CALLS_MAX) },
          'store close: destroying iterators/snapshots still open',
        );
      }
      const revoking = Promise.all(leases.map((record) => this.#revoke(record)));
      const revoked = await this.#waitUntil(() => this.#calls.size === 0, 'leases', warning, deadlineMs);
      if (revoked) await revoking;
      // else: revoke hooks still running are reported below as abandoned; #revoke never rejects.

      const abandonedCalls = this.openCalls();
      const timedOut = !drained || !revoked;
      if (timedOut) {
        this.#logger.error(
          {
            store: this.#store,
            closeTimeoutMs: this.#closeTimeoutMs,
            callCount: abandonedCalls.length,
            calls: abandonedCalls.slice(0, LOGGED_CALLS_MAX),
          },
          'store close timed out: finalizing with calls still in flight',
        );
      }

      // 3. Exactly once, because #closing memoizes this whole function.
      await this.#finalize();
      const closeMs = performance.now() - startedMs;
      this.#logger.info({ store: this.#store, closeMs: Math.round(closeMs), revokedLeaseCount: leases.length }, 'store closed');
      return { store: this.#store, closeMs, timedOut, revokedLeases, abandonedCalls };
    } finally {
      this.#state = 'closed';
    }
  }

  async #revoke(record: CallRecord): Promise<void> {
    try {
      await record.revoke!();
    } catch (err) {
      this.#logger.error({ store: this.#store, kind: record.kind, detail: record.detail, err }, 'store close: destroying a lease failed');
    } finally {
      this.#release(record.id);
    }
  }

  /** Waits until done() holds or the deadline passes (false); warns periodically meanwhile. */
  async #waitUntil(
    done: () => boolean,
    phase: string,
    warning: { startedMs: number; nextWarnMs: number },
    deadlineMs: number,
  ): Promise<boolean> {
    while (!done()) {
      const nowMs = performance.now();
      if (nowMs >= deadlineMs) return false;
      if (nowMs >= warning.nextWarnMs) {
        const calls = this.openCalls();
        this.#logger.warn(
          {
            store: this.#store,
            phase,
            waitedMs: Math.round(nowMs - warning.startedMs),
            callCount: calls.length,
            calls: calls.slice(0, LOGGED_CALLS_MAX),
          },
          'store close still waiting for calls in flight',
        );
        warning.nextWarnMs = nowMs + this.#closeWarnAfterMs;
      }
      await this.#changeOrTimeout(Math.min(warning.nextWarnMs, deadlineMs) - nowMs);
    }
    return true;
  }

  /** Resolves on the next release, or after waitMs, whichever comes first. */
  #changeOrTimeout(waitMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(1, Math.ceil(waitMs)));
      this.#waiters.add(wake);
    });
  }
}

function describe(record: CallRecord, nowMs: number): GateCallInfo {
  return {
    id: record.id,
    kind: record.kind,
    detail: record.detail,
    lease: record.revoke !== null,
    ageMs: Math.round(nowMs - record.startedMs),
  };
}
