// Deliberately broken variants of the Raft core and driver. They exist only to prove that the
// simulator's checks catch real bugs; each overrides one test hook of the shipped core (or
// misbehaves in the simulated driver) and breaks exactly one rule of the paper.
import { Raft, RaftLog, type Entry, type Message, type NodeId, type RaftConfig, type RaftStorage } from '../../../src/raft/core/index.js';
import type { BrokenVariant } from './simulation.js';

/** Grants votes without the election restriction (5.4.1): a stale log can win. */
class VoteWithoutLogCheck extends Raft {
  protected override isLogUpToDate(): boolean {
    return true;
  }
}

/** Commits entries of earlier terms by counting replicas (Figure 8 of the paper). */
class CommitPreviousTermByCounting extends Raft {
  protected override isCommittable(index: number): boolean {
    return this.log.termOrZero(index) !== 0;
  }
}

/** Keeps a conflicting suffix instead of truncating it (5.3): only appends past its end. */
class NoTruncationLog extends RaftLog {
  override findConflict(entries: readonly Entry[]): number {
    for (const e of entries) if (e.index > this.lastIndex()) return e.index;
    return 0;
  }
}
class KeepConflictingSuffix extends Raft {
  protected override createLog(storage: RaftStorage, maxApplyingBytes: number): RaftLog {
    return new NoTruncationLog(storage, maxApplyingBytes);
  }
}

/** Acknowledges appends and votes before they are durable. */
class AckBeforePersist extends Raft {
  protected override isSafeBeforePersist(_m: Message): boolean {
    return true;
  }
}

/** Answers ReadIndex without confirming leadership with a heartbeat quorum (thesis 6.4). */
class ReadWithoutHeartbeat extends Raft {
  protected override isLeadershipConfirmed(_acks: ReadonlySet<NodeId>): boolean {
    return true;
  }
}

function core(name: string, make: (config: RaftConfig) => Raft): BrokenVariant {
  return { name, createRaft: make };
}

export const BROKEN_VARIANTS: readonly BrokenVariant[] = [
  core('vote-without-log-check', (c) => new VoteWithoutLogCheck(c)),
  core('commit-previous-term-by-counting', (c) => new CommitPreviousTermByCounting(c)),
  core('keep-conflicting-suffix', (c) => new KeepConflictingSuffix(c)),
  core('ack-before-persist', (c) => new AckBeforePersist(c)),
  { name: 'forget-vote-on-restart', forgetVoteOnRestart: true },
  core('read-without-heartbeat', (c) => new ReadWithoutHeartbeat(c)),
];

export function brokenVariant(name: string): BrokenVariant {
  const variant = BROKEN_VARIANTS.find((v) => v.name === name);
  if (variant === undefined) throw new Error(`unknown broken variant ${name}`);
  return variant;
}
