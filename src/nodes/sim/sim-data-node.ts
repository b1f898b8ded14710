// A simulated CubeFS data node: keeps data partitions in memory, places each on one of its disks,
// and answers the master as the real datanode does (datanode/wrap_operator.go;
// spec/node-protocol.md 2.3, 3.3, 3.4):
// - OpCreateDataPartition (sync): OK with Data = the disk path (plain text); the same partition
//   again answers its disk; errors are "<Action>_<message>" (ActionCreateDataPartition_…), with
//   0xF6 DiskNoSpaceErr when no disk has room;
// - OpDeleteDataPartition (sync): OK (also when absent);
// - OpLoadDataPartition (ack-only): OK ack at once, then a LoadDataPartitionResponse POSTed to
//   /dataNode/response, Status 2 "DataPartition(N) not found" for an unknown id;
// - OpDataNodeHeartbeat (ack-only): OK ack, then a DataNodeHeartbeatResponse with one
//   DataPartitionReport per partition. The datanode echoes Request as a re-marshalled map
//   (sorted keys), so does this one.

import { Opcode, opcodeName } from '../opcodes.js';
import { ResultCode } from '../packet.js';
import { decodeCreateDataPartitionRequest, decodeDeleteDataPartitionRequest, decodeHeartbeatRequest, decodeLoadDataPartitionRequest, peerWire, type ReplicaPeer } from '../task-requests.js';
import { readBool, readSafeInt, readSafeUint, readString, readStringArray, readUint64, type JsonObject } from '../json-fields.js';
import type { SimReply } from './packet-server.js';
import { decodeMembers, encodeMembers, memberIdsOf, setAsideFrom } from './sim-state-file.js';
import { answer, err, messageOf, ok, sortedKeys } from './replies.js';
import { SimNode, type SimNodeOptions, type SimTaskContext } from './sim-node.js';

export interface SimDisk {
  readonly path: string;
  readonly totalBytes: bigint;
}

export interface SimDataNodeOptions extends SimNodeOptions {
  /** Default: /sim/disk0 and /sim/disk1 of 1 TiB each. */
  readonly disks?: readonly SimDisk[];
  /** Registered mediaType: 1 SSD (default), 2 HDD. */
  readonly mediaType?: number;
  readonly cpuUtil?: number;
}

export interface SimDataPartition {
  readonly partitionId: number;
  readonly volName: string;
  readonly sizeBytes: bigint;
  readonly replicaNum: number;
  readonly members: readonly ReplicaPeer[];
  readonly hosts: readonly string[];
  readonly diskPath: string;
  readonly usedBytes: bigint;
  readonly isLeader: boolean;
  /** Reported PartitionStatus: 2 read-write (default). */
  readonly status: number;
  readonly extentCount: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const TASK_FAILED = 2;
const TASK_SUCCEEDS = 1;
/** ExtentCount of an empty DP: its 64 tiny extents (observed). */
const EMPTY_DP_EXTENT_COUNT = 64;
const DEFAULT_DISKS: readonly SimDisk[] = [
  { path: '/sim/disk0', totalBytes: 1n << 40n },
  { path: '/sim/disk1', totalBytes: 1n << 40n },
];

export class SimDataNode extends SimNode {
  readonly kind = 'data' as const;
  private readonly dopts: SimDataNodeOptions;
  private readonly dps = new Map<number, Mutable<SimDataPartition>>();
  private forbidVols: ReadonlySet<string> = new Set();

  constructor(options: SimDataNodeOptions) {
    super(options);
    this.dopts = options;
  }

  get disks(): readonly SimDisk[] {
    return this.dopts.disks ?? DEFAULT_DISKS;
  }

  get mediaType(): number {
    return this.dopts.mediaType ?? 1;
  }

  /** The datanode registers an empty zone as "default" (observed), unlike the metanode. */
  override get zoneName(): string {
    return super.zoneName === '' ? 'default' : super.zoneName;
  }

  partitions(): SimDataPartition[] {
    return [...this.dps.values()].sort((a, b) => a.partitionId - b.partitionId).map((p) => ({ ...p, members: [...p.members], hosts: [...p.hosts] }));
  }

  partition(partitionId: number): SimDataPartition | undefined {
    const p = this.dps.get(partitionId);
    return p === undefined ? undefined : { ...p, members: [...p.members], hosts: [...p.hosts] };
  }

  setUsedBytes(partitionId: number, usedBytes: bigint): void {
    this.mutable(partitionId).usedBytes = usedBytes;
    this.persist();
  }

  /** Overrides the leader flag (default: leader when this node is Hosts[0]). */
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
    return `/dataNode/add?addr=${q(this.addr)}&heartbeatPort=${q(this.heartbeatPort)}&replicaPort=${q(this.replicaPort)}&zoneName=${q(this.zoneName)}&clientIDKey=&mediaType=${this.mediaType}`;
  }

  protected selfCheckPath(): string {
    return `/dataNode/get?addr=${SimNode.queryValue(this.addr)}`;
  }

  protected selfCheckRequired(): boolean {
    return true;
  }

  protected responsePath(): string {
    return '/dataNode/response';
  }

  protected persistenceListKey(): string {
    return 'PersistenceDataPartitions';
  }

  protected encodePartitions(): JsonObject[] {
    return this.partitions().map(encodeDataPartition);
  }

  protected restorePartitions(saved: readonly JsonObject[]): void {
    saved.forEach((o, i) => {
      const p = decodeDataPartition(o, `partitions[${i}]`);
      this.dps.set(p.partitionId, p);
    });
  }

  protected setAside(keep: (partitionId: number) => boolean): JsonObject[] {
    return setAsideFrom(this.dps, keep, encodeDataPartition);
  }

  protected memberIds(): { partitionId: number; raftId: number | undefined }[] {
    return memberIdsOf(this.dps.values(), this.addr);
  }

  protected handleTask(ctx: SimTaskContext): Promise<SimReply> {
    switch (ctx.packet.opcode) {
      case Opcode.CreateDataPartition:
        return Promise.resolve(this.onCreate(ctx));
      case Opcode.DeleteDataPartition:
        return Promise.resolve(this.onDelete(ctx));
      case Opcode.LoadDataPartition:
        return Promise.resolve(this.onLoad(ctx));
      case Opcode.DataNodeHeartbeat:
        return Promise.resolve(this.onHeartbeat(ctx));
      default:
        return Promise.resolve(err(ctx.packet, `unknown opcode ${opcodeName(ctx.packet.opcode)}`, ResultCode.ArgMismatchErr));
    }
  }

  private mutable(partitionId: number): Mutable<SimDataPartition> {
    const p = this.dps.get(partitionId);
    if (p === undefined) throw new RangeError(`SimDataNode ${this.addr}: no data partition ${partitionId}`);
    return p;
  }

  private diskUse(path: string): { readonly partitions: number; readonly allocatedBytes: bigint } {
    let partitions = 0;
    let allocatedBytes = 0n;
    for (const p of this.dps.values()) {
      if (p.diskPath !== path) continue;
      partitions += 1;
      allocatedBytes += p.sizeBytes;
    }
    return { partitions, allocatedBytes };
  }

  private onCreate({ packet, task, injectedFailure }: SimTaskContext): SimReply {
    const action = 'ActionCreateDataPartition';
    if (injectedFailure !== null) return err(packet, `${action}_${injectedFailure}`);
    if (task.OpCode !== Opcode.CreateDataPartition) return err(packet, `${action}_from master Task(${task.ID}) failed,error unavali opcode(${task.OpCode})`);
    let req;
    try {
      req = decodeCreateDataPartitionRequest(task.Request);
    } catch (e) {
      return err(packet, `${action}_from master Task(${task.ID}) cannot unmashal CreateDataPartitionRequest struct, err(${messageOf(e)})`);
    }
    const existing = this.dps.get(req.partitionId);
    if (existing !== undefined) {
      if (existing.volName !== req.volName) return err(packet, `${action}_partition ${req.partitionId} exists for volume ${existing.volName}`);
      return ok(packet, Buffer.from(existing.diskPath, 'utf8'));
    }
    // The disk with the fewest partitions that still has room (first one on a tie).
    let chosen: SimDisk | null = null;
    let chosenCount = Infinity;
    for (const disk of this.disks) {
      const use = this.diskUse(disk.path);
      if (disk.totalBytes - use.allocatedBytes < req.partitionSizeBytes) continue;
      if (use.partitions < chosenCount) {
        chosen = disk;
        chosenCount = use.partitions;
      }
    }
    if (chosen === null) return err(packet, `${action}_from master Task(${task.ID}) cannot create Partition err(no space left on device)`, ResultCode.DiskNoSpaceErr);
    this.dps.set(req.partitionId, {
      partitionId: req.partitionId,
      volName: req.volName,
      sizeBytes: req.partitionSizeBytes,
      replicaNum: req.replicaNum,
      members: req.members,
      hosts: req.hosts,
      diskPath: chosen.path,
      usedBytes: 0n,
      isLeader: req.hosts.length > 0 && req.hosts[0] === this.addr,
      status: 2,
      extentCount: EMPTY_DP_EXTENT_COUNT,
    });
    this.persist();
    return ok(packet, Buffer.from(chosen.path, 'utf8'));
  }

  private onDelete({ packet, task, injectedFailure }: SimTaskContext): SimReply {
    const action = 'ActionDeleteDataPartition';
    if (injectedFailure !== null) return err(packet, `${action}_${injectedFailure}`);
    try {
      this.dps.delete(decodeDeleteDataPartitionRequest(task.Request).partitionId);
    } catch (e) {
      return err(packet, `${action}_${messageOf(e)}`);
    }
    this.persist();
    return ok(packet);
  }

  private onLoad({ packet, task, injectedFailure }: SimTaskContext): SimReply {
    // The datanode acks first and loads in the background (handlePacketToLoadDataPartition).
    return {
      reply: ok(packet).reply,
      after: async () => {
        let partitionId = 0;
        let failure = injectedFailure;
        try {
          partitionId = decodeLoadDataPartitionRequest(task.Request).partitionId;
        } catch (e) {
          failure ??= messageOf(e);
        }
        const p = this.dps.get(partitionId);
        if (failure === null && p === undefined) failure = `DataPartition(${partitionId}) not found`;
        const response = {
          PartitionId: partitionId,
          Used: p?.usedBytes ?? 0n,
          PartitionSnapshot: [],
          Status: failure === null ? TASK_SUCCEEDS : TASK_FAILED,
          PartitionStatus: p?.status ?? 0,
          Result: failure ?? '',
          VolName: '',
        };
        await this.postResponse(answer(task, sortedKeys(task.Request), response));
      },
    };
  }

  private onHeartbeat({ packet, task, injectedFailure }: SimTaskContext): SimReply {
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
        await this.postResponse(answer(task, sortedKeys(task.Request), this.heartbeatResponse(failure)));
      },
    };
  }

  private heartbeatResponse(failure: string | null): Record<string, unknown> {
    const partitions = this.partitions();
    let total = 0n;
    let allocated = 0n;
    let used = 0n;
    const diskStats = this.disks.map((disk) => {
      const use = this.diskUse(disk.path);
      const diskUsed = partitions.filter((p) => p.diskPath === disk.path).reduce((sum, p) => sum + p.usedBytes, 0n);
      total += disk.totalBytes;
      allocated += use.allocatedBytes;
      used += diskUsed;
      return {
        Status: 2,
        DiskPath: disk.path,
        Total: disk.totalBytes,
        Used: diskUsed,
        Available: disk.totalBytes - diskUsed,
        IOUtil: 0,
        TotalPartitionCnt: use.partitions,
        DiskErrPartitionList: [],
      };
    });
    const remaining = total > allocated ? total - allocated : 0n;
    return {
      Total: total,
      Used: used,
      Available: total - used,
      TotalPartitionSize: allocated,
      RemainingCapacity: remaining,
      CreatedPartitionCnt: partitions.length,
      MaxCapacity: remaining,
      StartTime: this.startTimeSec,
      ZoneName: this.zoneName,
      PartitionReports: failure !== null ? [] : partitions.map((p) => this.report(p)),
      Status: failure === null ? TASK_SUCCEEDS : TASK_FAILED,
      Result: failure ?? '',
      AllDisks: this.disks.map((d) => d.path),
      DiskStats: diskStats,
      BadDisks: [],
      BadDiskStats: [],
      LostDisks: [],
      cpuUtil: this.dopts.cpuUtil ?? 0.5,
      ioUtil: {},
      BackupDataPartitions: null,
      DiskOpLog: [],
      DpOpLog: [],
      ReceivedForbidWriteOpOfProtoVer0: false,
    };
  }

  private report(p: SimDataPartition): Record<string, unknown> {
    return {
      VolName: p.volName,
      PartitionID: p.partitionId,
      PartitionStatus: p.status,
      Total: p.sizeBytes,
      Used: p.usedBytes,
      DiskPath: p.diskPath,
      IsLeader: p.isLeader,
      ExtentCount: p.extentCount,
      NeedCompare: true,
      DecommissionRepairProgress: 0,
      LocalPeers: p.members.map(peerWire),
      TriggerDiskError: false,
      ForbidWriteOpOfProtoVer0: this.forbidVols.has(p.volName),
      ReadOnlyReasons: 0,
      IsMissingTinyExtent: false,
      IsRepairing: false,
    };
  }
}

function encodeDataPartition(p: SimDataPartition): JsonObject {
  return {
    partitionId: p.partitionId,
    volName: p.volName,
    sizeBytes: p.sizeBytes,
    replicaNum: p.replicaNum,
    members: encodeMembers(p.members),
    hosts: [...p.hosts],
    diskPath: p.diskPath,
    usedBytes: p.usedBytes,
    isLeader: p.isLeader,
    status: p.status,
    extentCount: p.extentCount,
  };
}

function decodeDataPartition(o: JsonObject, at: string): Mutable<SimDataPartition> {
  return {
    partitionId: readSafeUint(o, 'partitionId', at),
    volName: readString(o, 'volName', at),
    sizeBytes: readUint64(o, 'sizeBytes', at),
    replicaNum: readSafeUint(o, 'replicaNum', at),
    members: decodeMembers(o, at),
    hosts: readStringArray(o, 'hosts', at),
    diskPath: readString(o, 'diskPath', at),
    usedBytes: readUint64(o, 'usedBytes', at),
    isLeader: readBool(o, 'isLeader', at),
    status: readSafeInt(o, 'status', at),
    extentCount: readSafeInt(o, 'extentCount', at),
  };
}
