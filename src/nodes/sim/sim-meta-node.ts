// A simulated CubeFS meta node: keeps meta partitions in memory and answers the master as the
// real metanode does (metanode/manager_op.go; spec/node-protocol.md 2.3, 3.2, 3.4):
// - OpCreateMetaPartition (sync): OK with an empty body; the same partition again is OK, a
//   different one under the same id is an error;
// - OpDeleteMetaPartition (sync): OK, also for a partition it does not have;
// - OpLoadMetaPartition (sync): OK with a MetaPartitionLoadResponse; unknown id -> OpErr
//   "unknown meta partition: N";
// - OpUpdateMetaPartition (ack-only): unknown id -> OpErr; else OK ack, then the new End is
//   applied and POSTed as UpdateMetaPartitionResponse to /metaNode/response;
// - OpMetaNodeHeartbeat (ack-only): OK ack first, then a MetaNodeHeartbeatResponse with one
//   MetaPartitionReport per partition POSTed to /metaNode/response (Request: null).
// A new partition's cursor (MaxInodeID) is its Start, except that the partition starting at 0
// holds the root inode: cursor 1, one inode (as observed).

import { decodeHeartbeatRequest, decodeCreateMetaPartitionRequest, decodeMetaPartitionIdRequest, decodeUpdateMetaPartitionRequest, peerWire, type ReplicaPeer } from '../task-requests.js';
import { readBool, readSafeInt, readSafeUint, readString, readUint64, type JsonObject } from '../json-fields.js';
import { stringifyJson } from '../../util/json.js';
import { Opcode, opcodeName } from '../opcodes.js';
import { makeReply, ResultCode } from '../packet.js';
import type { SimReply } from './packet-server.js';
import { decodeMembers, encodeMembers, memberIdsOf, setAsideFrom } from './sim-state-file.js';
import { answer, err, messageOf, ok } from './replies.js';
import { SimNode, type SimNodeOptions, type SimTaskContext } from './sim-node.js';

export interface SimMetaNodeOptions extends SimNodeOptions {
  /** Configured totalMem (Total in heartbeats); default 4 GiB. */
  readonly totalMemBytes?: bigint;
  /** Process memory in use (Used); default 100 MiB. */
  readonly usedMemBytes?: bigint;
  readonly cpuUtil?: number;
}

export interface SimMetaPartition {
  readonly partitionId: number;
  readonly volName: string;
  readonly start: bigint;
  readonly end: bigint;
  readonly members: readonly ReplicaPeer[];
  readonly maxInodeId: bigint;
  readonly inodeCount: bigint;
  readonly dentryCount: bigint;
  readonly isLeader: boolean;
  /** Reported Status: 2 read-write (default), 1 read-only, -1 unavailable. */
  readonly status: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const TASK_FAILED = 2;
const TASK_SUCCEEDS = 1;

export class SimMetaNode extends SimNode {
  readonly kind = 'meta' as const;
  private readonly mo: SimMetaNodeOptions;
  private readonly mps = new Map<number, Mutable<SimMetaPartition>>();
  /** Volumes the last heartbeat listed in VolsForbidWriteOpOfProtoVer0. */
  private forbidVols: ReadonlySet<string> = new Set();

  constructor(options: SimMetaNodeOptions) {
    super(options);
    this.mo = options;
  }

  partitions(): SimMetaPartition[] {
    return [...this.mps.values()].sort((a, b) => a.partitionId - b.partitionId).map((p) => ({ ...p, members: [...p.members] }));
  }

  partition(partitionId: number): SimMetaPartition | undefined {
    const p = this.mps.get(partitionId);
    return p === undefined ? undefined : { ...p, members: [...p.members] };
  }

  /** Moves the partition's inode cursor (reported as MaxInodeID). */
  setMaxInodeId(partitionId: number, maxInodeId: bigint): void {
    this.mutable(partitionId).maxInodeId = maxInodeId;
    this.persist();
  }

  setInodeCount(partitionId: number, inodeCount: bigint, dentryCount?: bigint): void {
    const p = this.mutable(partitionId);
    p.inodeCount = inodeCount;
    if (dentryCount !== undefined) p.dentryCount = dentryCount;
    this.persist();
  }

  /** Loses the partition without a master asking (a failed disk); false when it had none. */
  losePartition(partitionId: number): boolean {
    const had = this.mps.delete(partitionId);
    this.persist();
    return had;
  }

  /** Overrides the leader flag (default: leader when this node is the first member). */
  setLeader(partitionId: number, isLeader: boolean): void {
    this.mutable(partitionId).isLeader = isLeader;
    this.persist();
  }

  setPartitionStatus(partitionId: number, status: number): void {
    this.mutable(partitionId).status = status;
    this.persist();
  }

  protected addPath(): string {
    const q = (v: string): string => SimNode.queryValue(v);
    return `/metaNode/add?addr=${q(this.addr)}&heartbeatPort=${q(this.heartbeatPort)}&replicaPort=${q(this.replicaPort)}&zoneName=${q(this.zoneName)}&clientIDKey=`;
  }

  protected selfCheckPath(): string {
    return `/metaNode/get?addr=${SimNode.queryValue(this.addr)}`;
  }

  protected selfCheckRequired(): boolean {
    return false;
  }

  protected responsePath(): string {
    return '/metaNode/response';
  }

  protected persistenceListKey(): string {
    return 'PersistenceMetaPartitions';
  }

  protected encodePartitions(): JsonObject[] {
    return this.partitions().map(encodeMetaPartition);
  }

  protected restorePartitions(saved: readonly JsonObject[]): void {
    saved.forEach((o, i) => {
      const p = decodeMetaPartition(o, `partitions[${i}]`);
      this.mps.set(p.partitionId, p);
    });
  }

  protected setAside(keep: (partitionId: number) => boolean): JsonObject[] {
    return setAsideFrom(this.mps, keep, encodeMetaPartition);
  }

  protected memberIds(): { partitionId: number; raftId: number | undefined }[] {
    return memberIdsOf(this.mps.values(), this.addr);
  }

  protected handleTask(ctx: SimTaskContext): Promise<SimReply> {
    switch (ctx.packet.opcode) {
      case Opcode.CreateMetaPartition:
        return Promise.resolve(this.onCreate(ctx));
      case Opcode.DeleteMetaPartition:
        return Promise.resolve(this.onDelete(ctx));
      case Opcode.LoadMetaPartition:
        return Promise.resolve(this.onLoad(ctx));
      case Opcode.UpdateMetaPartition:
        return Promise.resolve(this.onUpdate(ctx));
      case Opcode.MetaNodeHeartbeat:
        return Promise.resolve(this.onHeartbeat(ctx));
      default:
        return Promise.resolve(err(ctx.packet, `unknown opcode ${opcodeName(ctx.packet.opcode)}`));
    }
  }

  private mutable(partitionId: number): Mutable<SimMetaPartition> {
    const p = this.mps.get(partitionId);
    if (p === undefined) throw new RangeError(`SimMetaNode ${this.addr}: no meta partition ${partitionId}`);
    return p;
  }

  private onCreate({ packet, task, injectedFailure }: SimTaskContext): SimReply {
    if (injectedFailure !== null) return err(packet, injectedFailure);
    let req;
    try {
      req = decodeCreateMetaPartitionRequest(task.Request);
    } catch (e) {
      return err(packet, `[opCreateMetaPartition]: Unmarshal AdminTask struct: ${messageOf(e)}`);
    }
    const existing = this.mps.get(req.partitionId);
    if (existing !== undefined) {
      const same = existing.volName === req.volName && existing.start === req.start && existing.end === req.end;
      return same ? ok(packet) : err(packet, `[opCreateMetaPartition]->partition ${req.partitionId} exists with a different volume or range`);
    }
    const rootHolder = req.start === 0n;
    this.mps.set(req.partitionId, {
      partitionId: req.partitionId,
      volName: req.volName,
      start: req.start,
      end: req.end,
      members: req.members,
      maxInodeId: rootHolder ? 1n : req.start,
      inodeCount: rootHolder ? 1n : 0n,
      dentryCount: 0n,
      isLeader: req.members.length > 0 && req.members[0].addr === this.addr,
      status: 2,
    });
    this.persist();
    return ok(packet);
  }

  private onDelete({ packet, task, injectedFailure }: SimTaskContext): SimReply {
    if (injectedFailure !== null) return err(packet, injectedFailure);
    try {
      this.mps.delete(decodeMetaPartitionIdRequest(task.Request).partitionId);
    } catch (e) {
      return err(packet, messageOf(e));
    }
    this.persist();
    return ok(packet);
  }

  private onLoad({ packet, task, injectedFailure }: SimTaskContext): SimReply {
    if (injectedFailure !== null) return err(packet, injectedFailure);
    let partitionId: number;
    try {
      partitionId = decodeMetaPartitionIdRequest(task.Request).partitionId;
    } catch (e) {
      return err(packet, messageOf(e));
    }
    const p = this.mps.get(partitionId);
    if (p === undefined) return err(packet, `unknown meta partition: ${partitionId}`);
    const body = {
      PartitionID: p.partitionId,
      DoCompare: true,
      ApplyID: 0,
      CommittedID: 0,
      MaxInode: p.maxInodeId,
      DentryCount: p.dentryCount,
      InodeCount: p.inodeCount,
      Addr: '',
      RaftInfo: {
        RaftStatus: {
          ID: p.partitionId,
          NodeID: this.nodeId,
          Leader: p.isLeader ? this.nodeId : 0,
          Term: 0,
          Index: 0,
          Commit: 0,
          Applied: 0,
          Vote: 0,
          PendQueue: 0,
          RecvQueue: 0,
          AppQueue: 0,
          TicketQueue: 0,
          Stopped: false,
          RestoringSnapshot: false,
          State: p.isLeader ? 'StateLeader' : 'StateFollower',
          Replicas: null,
        },
        PendingPeers: null,
        DownReplicas: null,
        Hosts: p.members.map(peerWire),
      },
    };
    return { reply: makeReply(packet, ResultCode.OK, Buffer.from(stringifyJson(body), 'utf8')) };
  }

  private onUpdate({ packet, task, injectedFailure }: SimTaskContext): SimReply {
    let req;
    try {
      req = decodeUpdateMetaPartitionRequest(task.Request);
    } catch (e) {
      return err(packet, messageOf(e));
    }
    const p = this.mps.get(req.partitionId);
    if (p === undefined) return err(packet, `unknown meta partition: ${req.partitionId}`);
    return {
      reply: ok(packet).reply,
      after: async () => {
        if (injectedFailure === null) {
          p.end = req.end;
          this.persist();
        }
        const response = { PartitionID: req.partitionId, VolName: req.volName, End: req.end, Status: injectedFailure === null ? TASK_SUCCEEDS : TASK_FAILED, Result: injectedFailure ?? '' };
        await this.postResponse(answer(task, null, response));
      },
    };
  }

  private onHeartbeat({ packet, task, injectedFailure }: SimTaskContext): SimReply {
    // The metanode acks before it even decodes the task (responseAckOKToMaster).
    return {
      reply: ok(packet).reply,
      after: async () => {
        let failure = injectedFailure;
        if (failure === null) {
          try {
            this.forbidVols = new Set(decodeHeartbeatRequest(task.Request).volsForbidWriteOpOfProtoVer0);
          } catch (e) {
            failure = messageOf(e);
          }
        }
        await this.postResponse(answer(task, null, this.heartbeatResponse(failure)));
      },
    };
  }

  private heartbeatResponse(failure: string | null): Record<string, unknown> {
    const reports = failure !== null ? [] : this.partitions().map((p) => this.report(p));
    return {
      ZoneName: this.zoneName,
      Total: this.mo.totalMemBytes ?? 4n << 30n,
      Used: this.mo.usedMemBytes ?? 100n << 20n,
      NodeMemTotal: this.mo.totalMemBytes ?? 4n << 30n,
      NodeMemUsed: this.mo.usedMemBytes ?? 100n << 20n,
      // A Go nil slice: null when there is nothing to report (as observed).
      MetaPartitionReports: reports.length === 0 ? null : reports,
      Status: failure === null ? TASK_SUCCEEDS : TASK_FAILED,
      Result: failure ?? '',
      cpuUtil: this.mo.cpuUtil ?? 0.5,
      ReceivedForbidWriteOpOfProtoVer0: false,
    };
  }

  private report(p: SimMetaPartition): Record<string, unknown> {
    return {
      PartitionID: p.partitionId,
      Start: p.start,
      End: p.end,
      Status: p.status,
      Size: 0,
      MaxInodeID: p.maxInodeId,
      IsLeader: p.isLeader,
      VolName: p.volName,
      InodeCnt: p.inodeCount,
      DentryCnt: p.dentryCount,
      TxCnt: 0,
      TxRbInoCnt: 0,
      TxRbDenCnt: 0,
      FreeListLen: 0,
      ForbidWriteOpOfProtoVer0: this.forbidVols.has(p.volName),
      UidInfo: null,
      QuotaReportInfos: null,
      StatByStorageClass: null,
      StatByMigrateStorageClass: null,
      LocalPeers: p.members.map(peerWire),
      ReadOnlyReasons: 0,
    };
  }
}

function encodeMetaPartition(p: SimMetaPartition): JsonObject {
  return {
    partitionId: p.partitionId,
    volName: p.volName,
    start: p.start,
    end: p.end,
    members: encodeMembers(p.members),
    maxInodeId: p.maxInodeId,
    inodeCount: p.inodeCount,
    dentryCount: p.dentryCount,
    isLeader: p.isLeader,
    status: p.status,
  };
}

function decodeMetaPartition(o: JsonObject, at: string): Mutable<SimMetaPartition> {
  return {
    partitionId: readSafeUint(o, 'partitionId', at),
    volName: readString(o, 'volName', at),
    start: readUint64(o, 'start', at),
    end: readUint64(o, 'end', at),
    members: decodeMembers(o, at),
    maxInodeId: readUint64(o, 'maxInodeId', at),
    inodeCount: readUint64(o, 'inodeCount', at),
    dentryCount: readUint64(o, 'dentryCount', at),
    isLeader: readBool(o, 'isLeader', at),
    status: readSafeInt(o, 'status', at),
  };
}
