// Leader-side volume operations (spec 1.5 createVol, vol/*). The create is the multi-step one:
// placement from live node state, `vol.createBegin` (an intent with every id), the partitions
// on their nodes, then `vol.createCommit`; any failure deletes what was created and proposes
// `vol.createAbort`. When the replicated core itself fails (not leader, timeout, stopping), the
// outcome is unknown and this member may not be leader: the intent stays for the leader's
// cleanup sweep (cleanup.ts), which undoes it unless it committed. docs/volume-create.md.

import type { LogSink } from './ports.js';
import type { ModelView, VolIntentRecord, VolRecord, VolSettings } from '../model/index.js';
import {
  AuthKeyMismatchError,
  checkOwner,
  checkVolName,
  ClusterFrozenError,
  DEFAULT_USER_PASSWORD,
  DuplicateVolError,
  GIB,
  makeCommand,
  MediaType,
  passwordSha1,
  StorageClass,
  VolNotFoundError,
  volByName,
  ZoneNotFoundError,
  ACCESS_KEY_LENGTH,
  SECRET_KEY_LENGTH,
} from '../model/index.js';
import type { NodeTaskClient } from '../nodes/task-client.js';
import { CubeCode, OperatingError, ParamError, ReplicationError } from '../util/errors.js';
import { authKeyOf } from './auth-key.js';
import type { DomainOps, OpClaims } from './domain-ops.js';
import { createDataPartitionsOnNodes, createMetaPartitionsOnNodes, deletePartitionsOnNodes, replicaTargets } from './node-tasks.js';
import { placeDataPartitions, placeMetaPartitions } from './placement.js';
import type { CallOptions, Replicator } from './ports.js';
import type { Clock, RandomSource } from './sources.js';
import { nowUnixSec, randomKey } from './sources.js';

/** Spec 1.5 createVol bounds and defaults. */
export const MP_COUNT_MIN = 3;
export const MP_COUNT_MAX = 100;
export const DP_COUNT_MIN = 3;
export const DP_COUNT_MAX = 200;
export const DEFAULT_DP_SIZE_GB = 120;
export const MIN_DP_SIZE_GB = 10;
export const DEFAULT_REPLICA_NUM = 3;
export const MAX_REPLICA_NUM = 3;

/** `/admin/createVol` after parsing (route vols.ts): numbers already defaulted where the route can. */
export interface CreateVolRequest {
  readonly name: string;
  readonly owner: string;
  readonly capacityGB: number;
  readonly mpCount: number;
  readonly dpCount: number;
  /** 0 = default (3). */
  readonly replicaNum: number;
  /** 0 = default (120). */
  readonly dpSizeGB: number;
  /** 0 = choose the fastest class the data nodes offer. */
  readonly volStorageClass: number;
  readonly volType: number;
  readonly allowedStorageClass: readonly number[];
  readonly settings: VolSettings;
}

export interface VolUpdateRequest {
  readonly name: string;
  readonly authKey: string;
  readonly capacityGB: number | null;
  readonly replicaNum: number | null;
  readonly settings: Partial<VolSettings>;
}

export interface VolServiceDeps {
  readonly replicator: Replicator;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly nodes: NodeTaskClient;
  readonly ops: DomainOps;
  readonly clusterName: string;
  readonly selfId: number;
  /** Config `singleNodeMode`: meta partitions get 1 replica instead of 3. */
  readonly singleNodeMode: boolean;
  readonly logger?: LogSink;
}

export class VolumeService {
  constructor(private readonly deps: VolServiceDeps) {}

  private get model(): ModelView {
    return this.deps.replicator.model;
  }

  /** Whole or nothing; resolves with the vol and its data partition count. */
  async create(request: CreateVolRequest, options: CallOptions = {}): Promise<{ vol: VolRecord; dataPartitions: number }> {
    const plan = this.plan(request);
    return this.deps.ops.run((claims) => this.runCreate(plan, claims, options));
  }

  /** Validation and placement, in the order the Go master answers (spec 1.5). Proposes nothing. */
  private plan(request: CreateVolRequest) {
    const model = this.model;
    const clusterName = this.deps.clusterName;
    checkVolName(request.name);
    checkOwner(request.owner);
    if (request.capacityGB <= 0) throw new ParamError('capacity', 'capacity must be larger than 0');
    if (request.dpSizeGB !== 0 && request.dpSizeGB <= MIN_DP_SIZE_GB) throw new ParamError('dpSize', 'datapartition size must be bigger than 10 G');
    if (request.dpCount > DP_COUNT_MAX) throw new ParamError('dpCount', `dpCount[${request.dpCount}] exceeds maximum limit[${DP_COUNT_MAX}]`);
    const replicaNum = request.replicaNum === 0 ? DEFAULT_REPLICA_NUM : request.replicaNum;
    if (replicaNum > MAX_REPLICA_NUM) throw new ParamError('replicaNum', `replicaNum can not be larger than ${MAX_REPLICA_NUM}`);
    const storageClass = this.storageClass(request.volStorageClass);
    const zoneNames = request.settings.zoneName.split(',').filter((z) => z !== '');
    for (const z of zoneNames) if (!model.zones.has(z)) throw new ZoneNotFoundError(z);
    if (model.cluster?.disableAutoAllocate === true) throw new ClusterFrozenError();
    if (volByName(model, request.name) !== undefined || model.index.intentIdByName.has(request.name)) {
      throw new DuplicateVolError(request.name, clusterName);
    }
    const mpCount = Math.min(MP_COUNT_MAX, Math.max(MP_COUNT_MIN, request.mpCount));
    const dpCount = Math.max(DP_COUNT_MIN, request.dpCount);
    const mpReplicaNum = this.deps.singleNodeMode ? 1 : DEFAULT_REPLICA_NUM;
    const dpSizeBytes = BigInt(request.dpSizeGB === 0 ? DEFAULT_DP_SIZE_GB : request.dpSizeGB) * GIB;
    const mediaType = storageClass === StorageClass.ReplicaHDD ? MediaType.HDD : MediaType.SSD;
    const nowMs = this.deps.clock.nowMs();
    const base = { zoneNames, crossZone: request.settings.crossZone, nowMs };
    const fail = (what: string, e: unknown): never => {
      throw new OperatingError(CubeCode.InternalError, `action[createVol], clusterID[${clusterName}] name:${request.name}, err:${what}${e instanceof Error ? e.message : String(e)} `);
    };
    let mpPeers;
    try {
      mpPeers = placeMetaPartitions(model, { ...base, count: mpCount, replicaNum: mpReplicaNum });
    } catch (e) {
      return fail(`action[doCreateVol], clusterID[${clusterName}] name:${request.name}, err:`, e);
    }
    let dpPeers;
    try {
      dpPeers = placeDataPartitions(model, { ...base, count: dpCount, replicaNum, mediaType, partitionSizeBytes: dpSizeBytes });
    } catch {
      return fail('', `action[initDataPartitionsForCreateVol] vol[${request.name}] mediaType[${mediaType === MediaType.HDD ? 'HDD' : 'SSD'}] initDataPartitions failed, createdCount(0), less than minLimit(${DP_COUNT_MIN})`);
    }
    const settings: VolSettings = { ...request.settings, followerRead: request.settings.followerRead || replicaNum < 3 };
    const allowed = request.allowedStorageClass.length > 0 ? request.allowedStorageClass : [storageClass];
    return makeCommand('vol.createBegin', {
      name: request.name,
      owner: request.owner,
      createTimeUnixSec: Math.floor(nowMs / 1000),
      capacityGB: request.capacityGB,
      mpReplicaNum,
      dpReplicaNum: replicaNum,
      dpSizeBytes,
      volType: request.volType,
      volStorageClass: storageClass,
      allowedStorageClass: allowed as StorageClass[],
      settings,
      mpPeers,
      dpPeers,
      dpMediaType: mediaType,
      newOwner: {
        accessKey: randomKey(this.deps.random, ACCESS_KEY_LENGTH),
        secretKey: randomKey(this.deps.random, SECRET_KEY_LENGTH),
        passwordSha1: passwordSha1(DEFAULT_USER_PASSWORD),
      },
      proposerId: this.deps.selfId,
    });
  }

  /** Spec 1.5: 0 = the fastest replica class a data node offers; an explicit class must be served. */
  private storageClass(requested: number): StorageClass {
    const media = new Set<number>();
    for (const dn of this.model.dataNodes.values()) media.add(dn.mediaType);
    if (requested === StorageClass.Unspecified) {
      if (media.has(MediaType.SSD)) return StorageClass.ReplicaSSD;
      if (media.has(MediaType.HDD)) return StorageClass.ReplicaHDD;
      throw new ParamError('volStorageClass', 'volStorageClass not specified and cluster has no resource to auto choose replca storageClass');
    }
    if (requested === StorageClass.ReplicaSSD && !media.has(MediaType.SSD)) {
      throw new ParamError('volStorageClass', 'cluster has no resoure to support volStorageClass(ReplicaSSD)');
    }
    if (requested === StorageClass.ReplicaHDD && !media.has(MediaType.HDD)) {
      throw new ParamError('volStorageClass', 'cluster has no resoure to support volStorageClass(ReplicaHDD)');
    }
    if (requested !== StorageClass.ReplicaSSD && requested !== StorageClass.ReplicaHDD) {
      throw new ParamError('volStorageClass', `volStorageClass(${requested}) is not supported by this master`);
    }
    return requested;
  }

  private async runCreate(
    begin: ReturnType<VolumeService['plan']>,
    claims: OpClaims,
    options: CallOptions,
  ): Promise<{ vol: VolRecord; dataPartitions: number }> {
    const call = { ...options, signal: anySignal(options.signal, claims.signal) };
    const intent = await this.deps.replicator.propose(begin, call);
    claims.claimVol(intent.vol.id);
    claims.claimMetaPartitions(intent.metaPartitions.map((m) => m.id));
    claims.claimDataPartitions(intent.dataPartitions.map((d) => d.id));
    let diskPaths: string[][];
    try {
      await createMetaPartitionsOnNodes(this.deps.nodes, this.model, intent.metaPartitions, claims.signal);
      diskPaths = await createDataPartitionsOnNodes(
        this.deps.nodes,
        this.model,
        intent.dataPartitions.map((d) => ({ id: d.id, volName: d.volName, sizeBytes: d.sizeBytes, mediaType: d.mediaType, peers: d.peers })),
        claims.signal,
      );
    } catch (e) {
      await this.rollBack(intent, call);
      throw createFailed(this.deps.clusterName, intent.vol.name, e);
    }
    try {
      const vol = await this.deps.replicator.propose(makeCommand('vol.createCommit', { volId: intent.vol.id, dpDiskPaths: diskPaths }), call);
      return { vol, dataPartitions: intent.dataPartitions.length };
    } catch (e) {
      // Unknown outcome or not leader any more: the intent decides (cleanup sweep). Rejected by
      // the rules (cannot happen for a well-formed intent): undo now.
      if (!(e instanceof ReplicationError)) await this.rollBack(intent, call);
      throw e;
    }
  }

  /**
   * Delete every replica the intent placed (a node answers OK for one it never made), then
   * drop the intent. Partial failure leaves the intent: the sweep retries.
   */
  private async rollBack(intent: VolIntentRecord, options: CallOptions): Promise<void> {
    const deadline = AbortSignal.timeout(ROLLBACK_TIMEOUT_MS);
    const failedMeta = await deletePartitionsOnNodes(this.deps.nodes, 'meta', replicaTargets(intent.metaPartitions), deadline);
    const failedData = await deletePartitionsOnNodes(this.deps.nodes, 'data', replicaTargets(intent.dataPartitions), deadline);
    if (failedMeta.length + failedData.length > 0) {
      this.deps.logger?.warn({ vol: intent.vol.name, failedMeta: failedMeta.length, failedData: failedData.length }, 'volume create rollback incomplete; the cleanup sweep retries');
      return;
    }
    try {
      await this.deps.replicator.propose(makeCommand('vol.createAbort', { volId: intent.vol.id }), { timeoutMs: options.timeoutMs });
    } catch (err) {
      this.deps.logger?.warn({ vol: intent.vol.name, err }, 'volume create abort not committed; the cleanup sweep retries');
    }
  }

  /** `/vol/update`: authKey (34), marked-deleted vols refused at apply (1). */
  async update(request: VolUpdateRequest, options?: CallOptions): Promise<VolRecord> {
    const vol = this.existing(request.name);
    this.checkAuthKey(vol, request.authKey);
    if (request.replicaNum !== null && request.replicaNum !== vol.dpReplicaNum) {
      if (request.replicaNum !== vol.dpReplicaNum - 1) throw new ParamError('replicaNum', `replicaNum can only be reduced by one, current ${vol.dpReplicaNum}`);
    }
    const settings = { ...request.settings };
    const replicas = request.replicaNum ?? vol.dpReplicaNum;
    if (replicas < 3 && settings.followerRead === false) throw new ParamError('followerRead', 'vol with replicaNum 1 or 2 must enable followerRead');
    const command = makeCommand('vol.update', { name: vol.name, capacityGB: request.capacityGB, dpReplicaNum: request.replicaNum, settings });
    return this.deps.replicator.propose(command, options);
  }

  /** `/vol/expand` and `/vol/shrink`: capacity must grow / shrink (code 2, Go's messages). */
  async setCapacity(name: string, authKey: string, capacityGB: number, direction: 'expand' | 'shrink', options?: CallOptions): Promise<VolRecord> {
    const vol = this.existing(name);
    if (direction === 'expand' && capacityGB <= vol.capacityGB) {
      throw new ParamError('capacity', `expand capacity[${capacityGB}] should be larger than the old capacity[${vol.capacityGB}]`);
    }
    if (direction === 'shrink' && capacityGB >= vol.capacityGB) {
      throw new ParamError('capacity', `shrink capacity[${capacityGB}] should be less than the old capacity[${vol.capacityGB}]`);
    }
    this.checkAuthKey(vol, authKey);
    return this.deps.replicator.propose(makeCommand('vol.update', { name, capacityGB, dpReplicaNum: null, settings: {} }), options);
  }

  /** `/vol/delete`: mark now (or unmark with deleted=false); removal runs in the background. */
  async delete(name: string, authKey: string, deleted: boolean, options?: CallOptions): Promise<VolRecord> {
    const vol = this.existing(name);
    this.checkAuthKey(vol, authKey);
    return this.deps.replicator.propose(makeCommand('vol.setDeleted', { name, deleted, timeUnixSec: nowUnixSec(this.deps.clock) }), options);
  }

  private existing(name: string): VolRecord {
    checkVolName(name);
    const vol = volByName(this.model, name);
    if (vol === undefined) throw new VolNotFoundError(name);
    return vol;
  }

  private checkAuthKey(vol: VolRecord, authKey: string): void {
    if (authKey.toLowerCase() !== authKeyOf(vol.owner)) throw new AuthKeyMismatchError(vol.name);
  }
}

/** Bound on deleting what a failed create made. */
export const ROLLBACK_TIMEOUT_MS = 30_000;

function createFailed(clusterName: string, name: string, e: unknown): OperatingError {
  if (e instanceof OperatingError && !(e instanceof ReplicationError) && e.code !== CubeCode.InternalError) return e;
  const why = e instanceof Error ? e.message : String(e);
  return new OperatingError(CubeCode.InternalError, `action[createVol], clusterID[${clusterName}] name:${name}, err:${why} `);
}

/** A signal that fires when any of the given ones does. */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length === 1 ? present[0] : AbortSignal.any(present);
}


