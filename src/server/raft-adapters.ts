// The replicated core as the cluster services and the HTTP layer see it (src/cluster/ports.ts):
// commands encoded and proposed through the Raft node, results unwrapped, reads through ReadIndex.
import { createHash } from 'node:crypto';
import type { AuditReport, Auditor, CallOptions, LogDigest, MasterPeerInfo, MemberStatus, RaftControl, RaftInfo, Replicator } from '../cluster/ports.js';
import type { RaftStorage } from '../raft/core/index.js';
import type { MetadataFsm, EntryResult } from '../fsm/metadata-fsm.js';
import { checkModel, encodeCommand, type Command, type ModelView, type ResultOf } from '../model/index.js';
import { NONE, type NodeId } from '../raft/core/index.js';
import type { MemberAddress } from '../raft/member-context.js';
import type { RaftNode } from '../raft/node.js';
import { assert } from '../util/assert.js';

export class RaftReplicator implements Replicator {
  constructor(
    private readonly node: RaftNode,
    private readonly fsm: MetadataFsm,
  ) {}

  async propose<C extends Command>(command: C, options: CallOptions = {}): Promise<ResultOf<C>> {
    const result = (await this.node.propose(encodeCommand(command), options)) as EntryResult;
    assert(result !== null, `command ${command.type} applied without a result`);
    if (!result.ok) throw result.error;
    return result.value as ResultOf<C>;
  }

  readBarrier(options: CallOptions = {}): Promise<void> {
    return this.node.readBarrier(options);
  }

  get model(): ModelView {
    return this.fsm.view;
  }
}

export interface RaftControlOptions {
  /** Where a master added by id and HTTP address listens for Raft: CubeFS derives it from its IP and our replicaPort. */
  readonly raftAddrFor: (httpAddr: string) => string;
  readonly memberCatchUpTimeoutMs: number;
  readonly transferLeaderTimeoutMs: number;
}

export class NodeRaftControl implements RaftControl {
  constructor(
    private readonly node: RaftNode,
    private readonly fsm: MetadataFsm,
    private readonly options: RaftControlOptions,
  ) {}

  info(): RaftInfo {
    const s = this.node.status();
    const conf = s.conf;
    const peers: MasterPeerInfo[] = [...conf.voters, ...conf.learners].map((id) => {
      const address = this.addressOf(id);
      return { id, httpAddr: address?.httpAddr ?? '', raftAddr: address?.raftAddr ?? '', isLearner: conf.learners.includes(id) };
    });
    return {
      nodeId: s.id,
      term: s.term,
      vote: s.vote,
      commit: s.commit,
      applied: this.fsm.appliedIndex(),
      lastIndex: s.lastIndex,
      leaderId: s.lead,
      leaderHttpAddr: s.lead === NONE ? '' : (this.addressOf(s.lead)?.httpAddr ?? ''),
      role: s.role,
      peers,
      replicas: [...s.progress].map(([id, p]) => ({ id, match: p.match, next: p.next, state: p.state, active: p.recentActive })),
      stopping: this.node.stopping,
    };
  }

  isLeader(): boolean {
    return this.node.isLeader();
  }

  async addMember(id: number, httpAddr: string, options: CallOptions = {}): Promise<void> {
    const address: MemberAddress = { httpAddr, raftAddr: this.options.raftAddrFor(httpAddr) };
    await this.node.addMember(id, address, { catchUpTimeoutMs: options.timeoutMs ?? this.options.memberCatchUpTimeoutMs });
  }

  async addLearner(id: number, httpAddr: string, raftAddr: string | undefined, options: CallOptions = {}): Promise<void> {
    await this.node.addLearner(id, { httpAddr, raftAddr: raftAddr ?? this.options.raftAddrFor(httpAddr) }, { timeoutMs: options.timeoutMs });
  }

  async promoteLearner(id: number, options: CallOptions = {}): Promise<void> {
    await this.node.promoteLearner(id, { catchUpTimeoutMs: options.timeoutMs ?? this.options.memberCatchUpTimeoutMs, timeoutMs: options.timeoutMs });
  }

  async removeMember(id: number, options: CallOptions = {}): Promise<void> {
    await this.node.removeMember(id, { timeoutMs: options.timeoutMs });
  }

  async transferLeadership(targetId: number, options: CallOptions = {}): Promise<void> {
    await this.node.transferLeadership(targetId, { timeoutMs: options.timeoutMs ?? this.options.transferLeaderTimeoutMs });
  }

  private addressOf(id: NodeId): MemberAddress | undefined {
    return this.node.address(id) ?? this.fsm.members.addresses.get(id);
  }
}

/**
 * The audit of one member: its digests, and what the model invariants (src/model/invariants.ts)
 * find wrong in its in-memory model at the same instant (empty when consistent). The chaos
 * audit reads it on every member: the invariants otherwise run only at start-up.
 */
export interface MemberAuditReport extends AuditReport {
  readonly modelProblems: readonly string[];
}

/** Problems listed in an audit at most (a broken model can have one per record). */
const AUDIT_PROBLEMS_MAX = 50;

export class MemberAuditor implements Auditor {
  constructor(
    private readonly node: RaftNode,
    private readonly fsm: MetadataFsm,
    private readonly log: RaftStorage,
  ) {}

  status(): MemberStatus {
    const s = this.node.status();
    return {
      nodeId: s.id,
      role: s.role,
      term: s.term,
      leaderId: s.lead,
      commit: s.commit,
      applied: this.fsm.appliedIndex(),
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      stopping: this.node.stopping,
    };
  }

  async audit(): Promise<MemberAuditReport> {
    // Both before the first await: fsm.audit() takes its model digest synchronously, so the
    // check sees the same applied state the digest describes.
    const modelProblems = checkModel(this.fsm.view).slice(0, AUDIT_PROBLEMS_MAX);
    const digests = this.fsm.audit();
    return { ...(await digests), modelProblems };
  }

  logDigest(from: number, to: number): LogDigest | null {
    if (from < this.log.firstIndex() || to > this.log.lastIndex() || from > to) return null;
    const hash = createHash('sha256');
    const header = Buffer.alloc(24);
    for (let lo = from; lo <= to; ) {
      const batch = this.log.entries(lo, to + 1, 4 * 1024 * 1024);
      for (const e of batch) {
        header.writeDoubleBE(e.index, 0);
        header.writeDoubleBE(e.term, 8);
        header.writeUInt32BE(e.type, 16);
        header.writeUInt32BE(e.data.byteLength, 20);
        hash.update(header).update(e.data);
      }
      lo += batch.length;
    }
    return { from, to, digest: hash.digest('hex') };
  }
}
