// What the Raft driver asks of the replicated state machine (implemented by src/fsm). The driver
// owns ordering: apply() calls never overlap, and snapshot install happens between them.
import type { ConfState, Entry, SnapshotMeta } from './core/index.js';

/** A consistent view of the state to stream to a follower. Must be released. */
export interface SnapshotSource {
  /** Index, term and membership of the state the chunks describe. */
  readonly meta: SnapshotMeta;
  chunks(signal: AbortSignal): AsyncIterable<Uint8Array>;
  release(): Promise<void>;
}

export interface StateMachine {
  /** The last entry whose effects are in the state (at start-up: what the store holds). */
  appliedIndex(): number;
  appliedTerm(): number;
  /** Membership as of the applied index. */
  confState(): ConfState;
  /**
   * Applies committed entries in order and returns one result per entry (what the proposer's
   * promise resolves with). Their effects reach the store in atomic writes that each end at an
   * applied index (possibly later, grouped with other calls): the store always holds a prefix of
   * the log, and replay from its applied index restores the rest after a crash.
   */
  apply(entries: readonly Entry[]): Promise<readonly unknown[]>;
  /** Makes every applied effect durable; resolves with the applied index it covers. */
  flush(): Promise<number>;
  openSnapshot(): Promise<SnapshotSource>;
  /** Receives a leader's snapshot beside the live state (the live state is untouched). */
  stageSnapshot(meta: SnapshotMeta, chunks: AsyncIterable<Uint8Array>): Promise<void>;
  /** Replaces the live state with the staged one; a crash at any moment leaves one or the other. */
  installStagedSnapshot(meta: SnapshotMeta): Promise<void>;
  discardStagedSnapshot(): Promise<void>;
}
