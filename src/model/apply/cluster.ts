// Cluster-wide commands: bootstrap (cluster value + root user), freeze, id reservation.

import { ParamError } from '../../util/errors.js';
import type { Success } from './results.js';
import type { Change } from '../changes.js';
import type { CommandOf } from '../commands.js';
import { IDS_RESERVE_MAX } from '../commands.js';
import { ClusterNameMismatchError, ClusterNotBootstrappedError, DuplicateAccessKeyError } from '../errors.js';
import type { ClusterRecord, CounterName, ModelView, UserRecord } from '../state.js';
import { emptyPolicy, newClusterRecord, ROOT_USER_ID, UserType } from '../state.js';
import { nextId } from './ids.js';
import { checkAccessKey, checkPasswordSha1, checkSecretKey, checkTimestamp } from '../validate.js';

/**
 * CubeFS writes `#c#<name>` when a leader finds none (CreateTime = now) and creates user `root`
 * (type 1) when it is missing (spec 2). Here both happen in one replicated command whose time
 * and keys the proposer chose; applying it again changes nothing.
 */
export function applyBootstrap(
  model: ModelView,
  cmd: CommandOf<'cluster.bootstrap'>,
): Success<{ clusterCreated: boolean; rootCreated: boolean }> {
  if (cmd.clusterName === '') throw new ParamError('clusterName', 'cluster name is empty');
  checkTimestamp(cmd.createTimeUnixSec, 'createTimeUnixSec');
  checkAccessKey(cmd.root.accessKey, 'root.accessKey');
  checkSecretKey(cmd.root.secretKey, 'root.secretKey');
  checkPasswordSha1(cmd.root.passwordSha1, 'root.passwordSha1');
  if (model.cluster !== null && model.cluster.name !== cmd.clusterName) {
    throw new ClusterNameMismatchError(model.cluster.name, cmd.clusterName);
  }
  const changes: Change[] = [];
  const clusterCreated = model.cluster === null;
  if (clusterCreated) {
    changes.push({ kind: 'cluster', op: 'put', record: newClusterRecord(cmd.clusterName, cmd.createTimeUnixSec) });
  }
  const rootCreated = !model.users.has(ROOT_USER_ID);
  if (rootCreated) {
    if (model.accessKeys.has(cmd.root.accessKey)) throw new DuplicateAccessKeyError(cmd.root.accessKey);
    const root: UserRecord = {
      userId: ROOT_USER_ID,
      accessKey: cmd.root.accessKey,
      secretKey: cmd.root.secretKey,
      userType: UserType.Root,
      createTimeUnixSec: cmd.createTimeUnixSec,
      description: '',
      policy: emptyPolicy(),
    };
    changes.push({ kind: 'user', op: 'put', record: root });
    changes.push({
      kind: 'accessKey',
      op: 'put',
      record: { accessKey: root.accessKey, userId: root.userId, passwordSha1: cmd.root.passwordSha1 },
    });
  }
  return { value: { clusterCreated, rootCreated }, changes };
}

/** `/cluster/freeze` (spec 1.5): persist DisableAutoAllocate. Setting the current value writes nothing. */
export function applySetFrozen(model: ModelView, cmd: CommandOf<'cluster.setFrozen'>): Success<{ frozen: boolean }> {
  const cluster = model.cluster;
  if (cluster === null) throw new ClusterNotBootstrappedError();
  if (cluster.disableAutoAllocate === cmd.frozen) return { value: { frozen: cmd.frozen }, changes: [] };
  return {
    value: { frozen: cmd.frozen },
    changes: [{ kind: 'cluster', op: 'put', record: { ...cluster, disableAutoAllocate: cmd.frozen } }],
  };
}

/**
 * Hand out `count` consecutive ids of one counter: (current, current + count]. CubeFS allocates
 * one id per raft round trip (`#max_*`, spec 4.3); a range lets a proposer that needs ids before
 * its command (partition ids sent to nodes first) pay one round trip for many.
 */
export function applyIdsReserve(
  model: ModelView,
  cmd: CommandOf<'ids.reserve'>,
): Success<{ counter: CounterName; first: number; last: number }> {
  if (!Number.isSafeInteger(cmd.count) || cmd.count < 1 || cmd.count > IDS_RESERVE_MAX) {
    throw new ParamError('count', `count must be in [1, ${IDS_RESERVE_MAX}]`);
  }
  const current = model.counters[cmd.counter];
  return {
    value: { counter: cmd.counter, first: current + 1, last: nextId(current, cmd.count) },
    changes: [{ kind: 'counter', op: 'put', counter: cmd.counter, value: nextId(current, cmd.count) }],
  };
}

/** `/admin/setNodeInfo` (spec 1.5): the given tunables replace the stored ones. */
export function applySetNodeInfo(model: ModelView, cmd: CommandOf<'cluster.setNodeInfo'>): Success<ClusterRecord> {
  const cluster = model.cluster;
  if (cluster === null) throw new ClusterNotBootstrappedError();
  if (cmd.loadFactor !== null && cmd.loadFactor < 0) throw new ParamError('loadFactor', 'loadFactor must not be negative');
  const next: ClusterRecord = {
    ...cluster,
    metaNodeDeleteBatchCount: cmd.batchCount ?? cluster.metaNodeDeleteBatchCount,
    dataNodeDeleteLimitRate: cmd.markDeleteRate ?? cluster.dataNodeDeleteLimitRate,
    dataNodeAutoRepairLimitRate: cmd.autoRepairRate ?? cluster.dataNodeAutoRepairLimitRate,
    metaNodeDeleteWorkerSleepMs: cmd.deleteWorkerSleepMs ?? cluster.metaNodeDeleteWorkerSleepMs,
    loadFactor: cmd.loadFactor ?? cluster.loadFactor,
    maxDpCntLimit: cmd.maxDpCntLimit ?? cluster.maxDpCntLimit,
    maxMpCntLimit: cmd.maxMpCntLimit ?? cluster.maxMpCntLimit,
    dpMaxRepairErrCnt: cmd.dpMaxRepairErrCnt ?? cluster.dpMaxRepairErrCnt,
  };
  return { value: next, changes: [{ kind: 'cluster', op: 'put', record: next }] };
}
