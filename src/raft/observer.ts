// What the Raft driver reports about its own work, for metrics (src/server/metrics.ts turns it
// into Prometheus series). The driver calls these on its hot paths: an implementation must be
// cheap (a histogram observe), must not throw, and must not call back into the node.
import type { NodeId } from './core/index.js';

export interface RaftObserver {
  /** A Ready was made durable: entries written, their payload bytes, the write + fdatasync time. */
  persisted(entries: number, bytes: number, seconds: number): void;
  /** Committed entries applied to the state machine by one call, and how long it took. */
  applied(entries: number, seconds: number): void;
  /** A proposal settled, from propose() to its result on this member. */
  proposalSettled(seconds: number, ok: boolean): void;
  /** A linearizable read barrier (ReadIndex) settled. */
  readSettled(seconds: number, ok: boolean): void;
  /** A snapshot stream to a follower ended. */
  snapshotSent(peer: NodeId, ok: boolean, seconds: number): void;
  /** A leader's snapshot was installed here. */
  snapshotInstalled(seconds: number): void;
  /** This member's view of the leader changed (NONE: no leader known). */
  leaderChanged(leader: NodeId, term: number): void;
}

export const NO_RAFT_OBSERVER: RaftObserver = {
  persisted: () => undefined,
  applied: () => undefined,
  proposalSettled: () => undefined,
  readSettled: () => undefined,
  snapshotSent: () => undefined,
  snapshotInstalled: () => undefined,
  leaderChanged: () => undefined,
};
