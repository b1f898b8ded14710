// Test doubles of the replicated core (src/cluster/ports.ts): a group of members sharing one
// model, where the leader applies commands the way the FSM does (model.apply, then
// applyChanges) and followers reject proposals with NotLeaderError, plus a RaftControl whose
// answers come from the same group. Legitimate stand-ins for unit-testing the services and the
// HTTP layer; Raft itself is tested in test/raft.

import type { CallOptions, MasterPeerInfo, RaftControl, RaftInfo, Replicator } from '../../src/cluster/ports.js';
import type { Clock, RandomSource } from '../../src/cluster/sources.js';
import type { Command, ModelState, ModelView, ResultOf } from '../../src/model/index.js';
import { apply, applyChanges, emptyState, makeCommand, passwordSha1, ROOT_PASSWORD } from '../../src/model/index.js';
import { NotLeaderError } from '../../src/raft/core/errors.js';

/** The cluster create time of the wire samples: 2026-11-25 18:40:41 UTC. */
export const T_CLUSTER_MS = Date.UTC(2026, 10, 25, 18, 40, 41);
export const ROOT_AK = '7WgP0alY4SbpIPNL';
export const ROOT_SK = 'ClCvrTMW89UlflS2gVhh1VngU0JQ7vca';

/** A clock that stands still until `set`; its monotonic reading is the same number. */
export function fixedClock(ms: number): Clock & { set(ms: number): void } {
  let now = ms;
  return { nowMs: () => now, monoMs: () => now, set: (v) => (now = v) };
}

/** Deterministic bytes: 0, 1, 2, ... 247, 0, 1... (all below 248, so none is skipped). */
export function countingRandom(start = 0): RandomSource & { calls: number } {
  let next = start;
  const source = {
    calls: 0,
    bytes(length: number): Uint8Array {
      source.calls += 1;
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        out[i] = next;
        next = (next + 1) % 248;
      }
      return out;
    },
  };
  return source;
}

export type ProposeHook = (memberId: number, command: Command, options: CallOptions | undefined) => Promise<void> | void;
export type ReadHook = (memberId: number, options: CallOptions | undefined) => Promise<void> | void;

/** A Raft group of masters in memory: one model, one leader (or none: leaderId 0). */
export class FakeGroup {
  readonly state: ModelState = emptyState();
  readonly peers = new Map<number, { httpAddr: string; isLearner: boolean }>();
  readonly proposed: Command[] = [];
  leaderId: number;
  term = 1;
  appliedIndex = 0;
  readBarriers = 0;
  /** Runs before a leader applies a proposal: delay it, or throw to fail it. */
  beforePropose: ProposeHook | null = null;
  beforeRead: ReadHook | null = null;

  constructor(memberIds: readonly number[], leaderId: number, options: { bootstrap?: boolean } = {}) {
    for (const id of memberIds) this.peers.set(id, { httpAddr: `127.0.0.1:${17000 + id}`, isLearner: false });
    this.leaderId = leaderId;
    if (options.bootstrap ?? true) {
      this.applyNow(
        makeCommand('cluster.bootstrap', {
          clusterName: 'test',
          createTimeUnixSec: T_CLUSTER_MS / 1000,
          root: { accessKey: ROOT_AK, secretKey: ROOT_SK, passwordSha1: passwordSha1(ROOT_PASSWORD) },
        }),
      );
    }
  }

  setHttpAddr(id: number, httpAddr: string): void {
    const peer = this.peers.get(id);
    if (peer === undefined) throw new Error(`no member ${id}`);
    peer.httpAddr = httpAddr;
  }

  /** Apply a command as the FSM would, outside any member (test setup). */
  applyNow<C extends Command>(command: C): ResultOf<C> {
    this.appliedIndex += 1;
    const applied = apply(this.state, command, { index: this.appliedIndex, term: this.term });
    if (!applied.result.ok) throw applied.result.error;
    applyChanges(this.state, applied.changes);
    return applied.result.value;
  }

  replicator(memberId: number): Replicator {
    return new FakeReplicator(this, memberId);
  }

  raft(memberId: number): FakeRaftControl {
    return new FakeRaftControl(this, memberId);
  }
}

class FakeReplicator implements Replicator {
  constructor(
    private readonly group: FakeGroup,
    private readonly memberId: number,
  ) {}

  get model(): ModelView {
    return this.group.state;
  }

  async propose<C extends Command>(command: C, options?: CallOptions): Promise<ResultOf<C>> {
    const g = this.group;
    if (g.leaderId !== this.memberId) throw new NotLeaderError(g.leaderId, command.type);
    g.proposed.push(command);
    await g.beforePropose?.(this.memberId, command, options);
    options?.signal?.throwIfAborted();
    // Leadership may have moved while the proposal waited (the hook can move it).
    if (g.leaderId !== this.memberId) throw new NotLeaderError(g.leaderId, command.type);
    g.appliedIndex += 1;
    const applied = apply(g.state, command, { index: g.appliedIndex, term: g.term });
    if (!applied.result.ok) throw applied.result.error;
    applyChanges(g.state, applied.changes);
    return applied.result.value;
  }

  async readBarrier(options?: CallOptions): Promise<void> {
    const g = this.group;
    g.readBarriers += 1;
    await g.beforeRead?.(this.memberId, options);
    // ReadIndex needs a leader; a follower asks it inside Raft.
    if (g.leaderId === 0) throw new NotLeaderError(0, 'read');
  }
}

export interface RaftCall {
  readonly op: 'addMember' | 'addLearner' | 'promoteLearner' | 'removeMember' | 'transferLeadership';
  readonly memberId: number;
  readonly id: number;
  readonly addr?: string;
  readonly options?: CallOptions;
}

export class FakeRaftControl implements RaftControl {
  readonly calls: RaftCall[] = [];
  /** Thrown by the next membership/leadership call. */
  failNext: Error | null = null;
  /** This member's own (possibly wrong) belief about the leader; null = the group's. */
  believedLeader: number | null = null;

  constructor(
    private readonly group: FakeGroup,
    readonly memberId: number,
  ) {}

  isLeader(): boolean {
    return this.info().role === 'leader';
  }

  info(): RaftInfo {
    const g = this.group;
    const leaderId = this.believedLeader ?? g.leaderId;
    const isLeader = leaderId === this.memberId;
    const peers: MasterPeerInfo[] = [...g.peers.entries()]
      .sort(([a], [b]) => a - b)
      .map(([id, p]) => ({ id, httpAddr: p.httpAddr, raftAddr: `127.0.0.1:${18000 + id}`, isLearner: p.isLearner }));
    return {
      nodeId: this.memberId,
      term: g.term,
      vote: leaderId,
      commit: g.appliedIndex,
      applied: g.appliedIndex,
      lastIndex: g.appliedIndex,
      leaderId,
      leaderHttpAddr: g.peers.get(leaderId)?.httpAddr ?? '',
      role: isLeader ? 'leader' : 'follower',
      peers,
      replicas: isLeader
        ? peers.filter((p) => p.id !== this.memberId).map((p) => ({ id: p.id, match: g.appliedIndex, next: g.appliedIndex + 1, state: 'replicate', active: true }))
        : [],
      stopping: false,
    };
  }

  private take(call: RaftCall): void {
    this.calls.push(call);
    if (this.group.leaderId !== this.memberId) throw new NotLeaderError(this.group.leaderId, call.op);
    const e = this.failNext;
    this.failNext = null;
    if (e !== null) throw e;
  }

  async addMember(id: number, httpAddr: string, options?: CallOptions): Promise<void> {
    this.take({ op: 'addMember', memberId: this.memberId, id, addr: httpAddr, options });
    await Promise.resolve();
    this.group.peers.set(id, { httpAddr, isLearner: false });
  }

  async addLearner(id: number, httpAddr: string, _raftAddr: string | undefined, options?: CallOptions): Promise<void> {
    this.take({ op: 'addLearner', memberId: this.memberId, id, addr: httpAddr, options });
    await Promise.resolve();
    if (!this.group.peers.has(id)) this.group.peers.set(id, { httpAddr, isLearner: true });
  }

  async promoteLearner(id: number, options?: CallOptions): Promise<void> {
    this.take({ op: 'promoteLearner', memberId: this.memberId, id, options });
    await Promise.resolve();
    const peer = this.group.peers.get(id);
    if (peer !== undefined) this.group.peers.set(id, { ...peer, isLearner: false });
  }

  async removeMember(id: number, options?: CallOptions): Promise<void> {
    this.take({ op: 'removeMember', memberId: this.memberId, id, options });
    await Promise.resolve();
    this.group.peers.delete(id);
  }

  async transferLeadership(targetId: number, options?: CallOptions): Promise<void> {
    this.take({ op: 'transferLeadership', memberId: this.memberId, id: targetId, options });
    await Promise.resolve();
    this.group.leaderId = targetId;
    this.group.term += 1;
  }
}
