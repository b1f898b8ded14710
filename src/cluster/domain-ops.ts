// The multi-step domain operations running on this member (volume create, split, data partition
// creation, decommission, deferred removal), so that:
// - stop and loss of leadership can let them finish (bounded) and then abort them, and await
//   every one: nothing keeps talking to nodes on a member that is not leader;
// - the cleanup sweeps can tell "an intent or a partition someone is creating right now, here"
//   from "an orphan of a dead leader" (docs/volume-create.md).
//
// Each operation gets an AbortSignal that fires on abortAll(); the operation's own code decides
// how to roll back when it fires (a create deletes what it made, then aborts its intent).

import { OperatingError, CubeCode } from '../util/errors.js';

export class DomainBusyError extends OperatingError {
  constructor(limit: number) {
    super(CubeCode.InternalError, `too many domain operations in flight (limit ${limit}); retry later`);
  }
}

export class DomainStoppedError extends OperatingError {
  constructor() {
    super(CubeCode.InternalError, 'domain operations are stopped on this master (shutting down or not leader)');
  }
}

export interface DomainOpsOptions {
  /** Bound on operations in flight at once. */
  readonly maxInflight?: number;
  /** Start refusing operations until `resume()` (a master resumes when it becomes leader). */
  readonly stopped?: boolean;
}

export const DEFAULT_MAX_INFLIGHT_DOMAIN_OPS = 256;

interface Running {
  readonly done: Promise<unknown>;
  readonly controller: AbortController;
  readonly volIds: ReadonlySet<number>;
  readonly volNames: Set<string>;
  readonly metaPartitionIds: Set<number>;
  readonly dataPartitionIds: Set<number>;
}

/** What an operation declares as "mine, in progress" for the sweeps. */
export interface OpClaims {
  readonly signal: AbortSignal;
  claimVol(volId: number): void;
  /** Before the intent exists (its id is allocated at apply): the sweep skips this name too. */
  claimVolName(name: string): void;
  claimMetaPartitions(ids: Iterable<number>): void;
  claimDataPartitions(ids: Iterable<number>): void;
}

export class DomainOps {
  private readonly running = new Set<Running>();
  private readonly maxInflight: number;
  private accepting: boolean;

  constructor(options: DomainOpsOptions = {}) {
    this.maxInflight = options.maxInflight ?? DEFAULT_MAX_INFLIGHT_DOMAIN_OPS;
    this.accepting = options.stopped !== true;
  }

  /** Run `work` as a tracked operation; rejects at once when stopped or full. */
  run<T>(work: (claims: OpClaims) => Promise<T>): Promise<T> {
    if (!this.accepting) return Promise.reject(new DomainStoppedError());
    if (this.running.size >= this.maxInflight) return Promise.reject(new DomainBusyError(this.maxInflight));
    const controller = new AbortController();
    const volIds = new Set<number>();
    const entry: { -readonly [K in keyof Running]: Running[K] } = {
      done: Promise.resolve(),
      controller,
      volIds,
      volNames: new Set(),
      metaPartitionIds: new Set(),
      dataPartitionIds: new Set(),
    };
    const claims: OpClaims = {
      signal: controller.signal,
      claimVol: (id) => volIds.add(id),
      claimVolName: (name) => entry.volNames.add(name),
      claimMetaPartitions: (ids) => {
        for (const id of ids) entry.metaPartitionIds.add(id);
      },
      claimDataPartitions: (ids) => {
        for (const id of ids) entry.dataPartitionIds.add(id);
      },
    };
    const done = (async () => work(claims))();
    entry.done = done;
    this.running.add(entry);
    const forget = (): void => {
      this.running.delete(entry);
    };
    done.then(forget, forget);
    return done;
  }

  get size(): number {
    return this.running.size;
  }

  ownsVol(volId: number): boolean {
    for (const r of this.running) if (r.volIds.has(volId)) return true;
    return false;
  }

  ownsVolName(name: string): boolean {
    for (const r of this.running) if (r.volNames.has(name)) return true;
    return false;
  }

  ownsPartition(kind: 'meta' | 'data', id: number): boolean {
    for (const r of this.running) if ((kind === 'meta' ? r.metaPartitionIds : r.dataPartitionIds).has(id)) return true;
    return false;
  }

  /** Allow new operations again (this member became leader). */
  resume(): void {
    this.accepting = true;
  }

  /**
   * Refuse new operations, give the running ones `graceMs` to finish, then abort the rest and
   * wait for them to roll back (bounded by `abortWaitMs`). Resolves with what was left.
   */
  async quiesce(graceMs: number, abortWaitMs: number): Promise<{ finished: number; aborted: number; abandoned: number }> {
    this.accepting = false;
    const started = this.running.size;
    await settleWithin([...this.running].map((r) => r.done), graceMs);
    const toAbort = [...this.running];
    for (const r of toAbort) r.controller.abort(new DomainStoppedError());
    await settleWithin(
      toAbort.map((r) => r.done),
      abortWaitMs,
    );
    return { finished: started - toAbort.length, aborted: toAbort.length, abandoned: this.running.size };
  }
}

async function settleWithin(promises: readonly Promise<unknown>[], timeoutMs: number): Promise<void> {
  if (promises.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race([Promise.allSettled(promises), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
