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
  checkCapacityChange,
  checkOwner,
  checkVolName,
  ClusterFrozenError,
  DEFAULT_USER_PASSWORD,
  DEFAULT_ZONE_NAME,
  DuplicateVolError,
  GIB,
  makeCommand,
  MediaType,
  passwordSha1,
  StorageClass,
  VolMarkedDeleteError,
  VolNotFoundError,
  VolStatus,
  volByName,
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
    // Every operation below checks the model before it proposes: a read barrier first, so a
    // leader cut off from its peers cannot refuse (or plan) from a stale model (chaos suite).
    await this.deps.replicator.readBarrier(options);
    const plan = this.plan(request);
    return this.deps.ops.run((claims) => this.runCreate(plan, claims, options));
  }

  /**
   * Validation and placement, in the order the Go master answers (spec 1.5; api_service.go
   * checkCreateVolReq, then cluster.go createVol): zones, storage class, capacity, dpSize,
   * dpCount, replicaNum (all code 2), then frozen, the zone rule and the duplicate name (code 1,
   * wrapped like the Go master's errHandler). Proposes nothing.
   */
  private plan(request: CreateVolRequest) {
    const model = this.model;
    const clusterName = this.deps.clusterName;
    checkVolName(request.name);
    checkOwner(request.owner);
    const zoneNames = request.settings.zoneName.split(',').filter((z) => z !== '');
    const missing = zoneNames.filter((z) => !model.zones.has(z));
    if (missing.length > 0) throw new ParamError('zoneName', `assigned zone name not exist: [${missing.join(' ')}]`);
    const storageClass = this.storageClass(request.volStorageClass, zoneNames);
    if (request.capacityGB <= 0) throw new ParamError('capacity', `vol capacity can't be zero, ${request.capacityGB}`);
    if (request.dpSizeGB !== 0 && request.dpSizeGB <= MIN_DP_SIZE_GB) throw new ParamError('dpSize', 'datapartition size must be bigger than 10 G');
    if (request.dpCount > DP_COUNT_MAX) throw new ParamError('dpCount', `dpCount[${request.dpCount}] exceeds maximum limit[${DP_COUNT_MAX}]`);
    const replicaNum = request.replicaNum === 0 ? DEFAULT_REPLICA_NUM : request.replicaNum;
    if (replicaNum > MAX_REPLICA_NUM) {
      throw new ParamError('replicaNum', `hot vol's replicaNum should be 1 to ${MAX_REPLICA_NUM}, received replicaNum is[${replicaNum}]`);
    }
    const wrapped = (why: string): OperatingError =>
      new OperatingError(CubeCode.InternalError, `action[createVol], clusterID[${clusterName}] name:${request.name}, err:${why} `);
    if (model.cluster?.disableAutoAllocate === true) throw new ClusterFrozenError();
    const zoneName = checkZoneName(model, request.settings.crossZone, zoneNames);
    if (typeof zoneName !== 'string') throw wrapped(zoneName.error);
    if (volByName(model, request.name) !== undefined || model.index.intentIdByName.has(request.name)) {
      throw new DuplicateVolError(request.name, clusterName);
    }
    const placeZones = zoneName.split(',').filter((z) => z !== '');
    const mpCount = Math.min(MP_COUNT_MAX, Math.max(MP_COUNT_MIN, request.mpCount));
    const dpCount = Math.max(DP_COUNT_MIN, request.dpCount);
    const mpReplicaNum = this.deps.singleNodeMode ? 1 : DEFAULT_REPLICA_NUM;
    const dpSizeBytes = BigInt(request.dpSizeGB === 0 ? DEFAULT_DP_SIZE_GB : request.dpSizeGB) * GIB;
    const mediaType = storageClass === StorageClass.ReplicaHDD ? MediaType.HDD : MediaType.SSD;
    const nowMs = this.deps.clock.nowMs();
    const base = { zoneNames: placeZones, crossZone: request.settings.crossZone, monoNowMs: this.deps.clock.monoMs() };
    let mpPeers;
    try {
      mpPeers = placeMetaPartitions(model, { ...base, count: mpCount, replicaNum: mpReplicaNum });
    } catch (e) {
      // As observed (cli-transcript-with-nodes-run1): the Go master's text around the reason, and
      // code 1 (its fmt.Errorf wrap hides the typed error).
      const why = e instanceof Error ? e.message : String(e);
      throw new OperatingError(
        CubeCode.InternalError,
        `action[createVol], clusterID[${clusterName}] name:${request.name}, err:action[createVol] initMetaPartitions failed, vol[${request.name}] ` +
          `err[action[initMetaPartitions] vol[${request.name}] init meta partition failed,mpCount[0],expectCount[${mpCount}],err[${why}]] `,
      );
    }
    let dpPeers;
    try {
      dpPeers = placeDataPartitions(model, { ...base, count: dpCount, replicaNum, mediaType, partitionSizeBytes: dpSizeBytes });
    } catch {
      throw wrapped(
        `action[initDataPartitionsForCreateVol] vol[${request.name}] mediaType[${mediaType === MediaType.HDD ? 'HDD' : 'SSD'}] initDataPartitions failed, createdCount(0), less than minLimit(${DP_COUNT_MIN})`,
      );
    }
    const settings: VolSettings = { ...request.settings, zoneName, followerRead: request.settings.followerRead || replicaNum < 3 };
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

  /**
   * Spec 1.5 / Go checkStorageClassForCreateVolReq: 0 = the fastest replica class the data nodes
   * of the named zones (or of the cluster) offer; an explicit class must be served there.
   */
  private storageClass(requested: number, zoneNames: readonly string[]): StorageClass {
    const scope = zoneNames.length > 0 ? `assigned zones(${zoneNames.join(',')})` : 'cluster';
    const media = new Set<number>();
    for (const dn of this.model.dataNodes.values()) if (zoneNames.length === 0 || zoneNames.includes(dn.zoneName)) media.add(dn.mediaType);
    let chosen = requested;
    if (requested === StorageClass.Unspecified) {
      if (media.has(MediaType.SSD)) chosen = StorageClass.ReplicaSSD;
      else if (media.has(MediaType.HDD)) chosen = StorageClass.ReplicaHDD;
      else throw new ParamError('volStorageClass', `volStorageClass not specified and ${scope} has no resource to auto choose replca storageClass`);
    }
    if (chosen < StorageClass.ReplicaSSD || chosen > StorageClass.BlobStore) throw new ParamError('volStorageClass', `invalid volStorageClass: ${requested}`);
    const served = (chosen === StorageClass.ReplicaSSD && media.has(MediaType.SSD)) || (chosen === StorageClass.ReplicaHDD && media.has(MediaType.HDD));
    // BlobStore needs an ebs address, which this master does not support: never served.
    if (!served) throw new ParamError('volStorageClass', `${scope} has no resoure to support volStorageClass(${STORAGE_CLASS_NAMES[chosen]})`);
    return chosen as StorageClass;
  }

  private async runCreate(
    begin: ReturnType<VolumeService['plan']>,
    claims: OpClaims,
    options: CallOptions,
  ): Promise<{ vol: VolRecord; dataPartitions: number }> {
    const call = { ...options, signal: anySignal(options.signal, claims.signal) };
    // Claimed before the proposal: between the begin's apply and this code resuming, a sweep
    // pass could otherwise take the fresh intent for a dead leader's and abort it.
    claims.claimVolName(begin.name);
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
      if (!(e instanceof ReplicationError)) {
        await this.rollBack(intent, call);
        throw e;
      }
      // Not a NotLeader the API may forward: the create would run again on the new leader and
      // meet its own intent ("duplicate vol") before the sweep settles it. The commit may or
      // may not have landed: the vol ends whole or gone (docs/volume-create.md). Go's code for a
      // failed raft write.
      throw new OperatingError(
        CubeCode.PersistenceByRaft,
        `action[createVol], clusterID[${this.deps.clusterName}] name:${intent.vol.name}, err:the volume create lost its leader before its commit was acknowledged (${e.message}); it ends complete or undone, look it up before retrying`,
        { cause: e },
      );
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

  /**
   * `/vol/update`, in the Go master's order (api_service.go updateVol, cluster.go updateVol):
   * the replica and follower-read rule (2), a vol marked for deletion (1, "vol not exists"), the
   * authKey (34), then the zone rule (1, wrapped).
   */
  async update(request: VolUpdateRequest, options?: CallOptions): Promise<VolRecord> {
    await this.deps.replicator.readBarrier(options);
    const vol = this.existing(request.name);
    const replicas = request.replicaNum ?? vol.dpReplicaNum;
    if (replicas !== 0 && replicas !== vol.dpReplicaNum && replicas !== vol.dpReplicaNum - 1) {
      throw new ParamError('replicaNum', 'replicaNum only need be reduced one replica one time');
    }
    const settings = { ...request.settings };
    const followerRead = settings.followerRead ?? vol.settings.followerRead;
    if (replicas === 0 || (replicas < 3 && !followerRead)) throw new ParamError('replicaNum', 'replica or follower read status error');
    this.checkNotMarked(vol, 'updateVol');
    this.checkAuthKey(vol, request.authKey);
    const crossZone = settings.crossZone ?? vol.settings.crossZone;
    if (settings.zoneName !== undefined || settings.crossZone !== undefined) {
      const zoneNames = (settings.zoneName ?? vol.settings.zoneName).split(',').filter((z) => z !== '');
      const zoneName = checkZoneName(this.model, crossZone, zoneNames);
      if (typeof zoneName !== 'string') {
        throw new OperatingError(CubeCode.InternalError, `action[updateVol], clusterID[${this.deps.clusterName}] name:${vol.name}, err:${zoneName.error} `);
      }
      if (zoneName !== vol.settings.zoneName) settings.zoneName = zoneName;
      else delete settings.zoneName;
    }
    const dpReplicaNum = request.replicaNum !== null && request.replicaNum !== vol.dpReplicaNum ? request.replicaNum : null;
    const command = makeCommand('vol.update', { name: vol.name, capacityGB: request.capacityGB, dpReplicaNum, settings });
    return this.deps.replicator.propose(command, options);
  }

  /** `/vol/expand` and `/vol/shrink`: capacity must grow / shrink (2), then marked (1), authKey (34). */
  async setCapacity(name: string, authKey: string, capacityGB: number, direction: 'expand' | 'shrink', options?: CallOptions): Promise<VolRecord> {
    await this.deps.replicator.readBarrier(options);
    const vol = this.existing(name);
    // Checked here for Go's answer order, and again at apply (a racing expand may land first).
    checkCapacityChange(vol, capacityGB, direction);
    this.checkNotMarked(vol, 'updateVol');
    this.checkAuthKey(vol, authKey);
    return this.deps.replicator.propose(makeCommand('vol.update', { name, capacityGB, dpReplicaNum: null, settings: {}, capacityChange: direction }), options);
  }

  /** `/vol/delete`: mark now (or unmark with deleted=false); removal runs in the background. */
  async delete(name: string, authKey: string, deleted: boolean, options?: CallOptions): Promise<VolRecord> {
    await this.deps.replicator.readBarrier(options);
    const vol = this.existing(name);
    this.checkAuthKey(vol, authKey);
    return this.deps.replicator.propose(makeCommand('vol.setDeleted', { name, deleted, timeUnixSec: nowUnixSec(this.deps.clock) }), options);
  }

  private checkNotMarked(vol: VolRecord, action: string): void {
    if (vol.status === VolStatus.MarkDelete) throw new VolMarkedDeleteError(vol.name, action, this.deps.clusterName);
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

/** StorageClassString of proto/admin_proto.go. */
const STORAGE_CLASS_NAMES: Readonly<Record<number, string>> = { 0: 'Unspecified', 1: 'ReplicaSSD', 2: 'ReplicaHDD', 3: 'BlobStore' };

/**
 * Go cluster.checkZoneName (without fault domains): the zones a vol may use, or the reason it
 * may not (the caller wraps it). A vol that is not cross-zone and names no zone lives in the
 * default zone, which the views then show (observed ZoneName "default").
 */
export function checkZoneName(model: ModelView, crossZone: boolean, zoneNames: readonly string[]): string | { error: string } {
  const missing = zoneNames.find((z) => !model.zones.has(z));
  if (missing !== undefined && !(crossZone && zoneNames.length === 1)) return { error: `action[checkZoneName] the zonename[${missing}] not found` };
  if (crossZone) {
    if (zoneNames.length === 1) return { error: 'action[checkZoneName] vol use specified single zoneName conflit with cross zone flag' };
    if (model.zones.size <= 1) return { error: "action[checkZoneName] cluster has one zone,can't cross zone" };
    return zoneNames.join(',');
  }
  if (zoneNames.length === 0) {
    if (!model.zones.has(DEFAULT_ZONE_NAME)) return { error: "action[checkZoneName] the vol is not cross zone and didn't set zone name,but there's no default zone" };
    return DEFAULT_ZONE_NAME;
  }
  if (zoneNames.length > 1) return { error: 'action[checkZoneName] vol specified zoneName need cross zone' };
  return zoneNames[0];
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


