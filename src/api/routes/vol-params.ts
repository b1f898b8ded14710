// Parsing of the volume routes' parameters (spec 1.5 createVol and vol/update tables): names,
// defaults and bounds of the Go master. Each failure is a ParamError naming the key (code 2).

import type { CreateVolRequest, VolUpdateRequest } from '../../cluster/vols.js';
import type { VolSettings } from '../../model/index.js';
import { DEFAULT_VOL_SETTINGS, StorageClass } from '../../model/index.js';
import { ParamError } from '../../util/errors.js';
import type { Params } from '../params.js';
import { INT32_MAX, keyNotFound, UINT32_MAX } from '../params.js';

/** Transaction mask words the Go master accepts in `enableTxMask` (proto.GetMaskFromString). */
const TX_MASK_WORDS = new Set(['off', 'create', 'mkdir', 'remove', 'rename', 'mknod', 'symlink', 'link', 'all']);
export const TX_TIMEOUT_MIN_RANGE = [1, 60] as const;
export const TX_CONFLICT_RETRY_NUM_RANGE = [1, 1000] as const;
export const TX_CONFLICT_RETRY_INTERVAL_RANGE_MS = [10, 1000] as const;
export const TRASH_INTERVAL_MAX_MIN = 525_600;

/** A bounded value; `message` is the Go master's text for it (api_args_parse.go extractTx*). */
function inRange(name: string, value: number, [min, max]: readonly [number, number], message: (value: number) => string): number {
  if (value < min || value > max) throw new ParamError(name, message(value));
  return value;
}

/** proto.txInvalidMask's text (newlines and all). */
export const TX_MASK_INVALID = 'transaction mask key value pair should be: enableTxMaskKey=[create|mkdir|remove|rename|mknod|symlink|link]\n enableTxMaskKey=off \n enableTxMaskKey=all';

/**
 * Go GetMaskFromString: "pause", or '|'-separated words, where "off" and "all" stand alone.
 * (Go also ORs a new mask into the old one unless txForceReset; the mask is kept as given here.)
 */
function txMask(params: Params, fallback: string): string {
  const raw = params.get('enableTxMask');
  if (raw === undefined) return fallback;
  if (raw === 'pause') return raw;
  const words = raw.split('|');
  for (const word of words) {
    if (!TX_MASK_WORDS.has(word) || (words.length > 1 && (word === 'off' || word === 'all'))) throw new ParamError('enableTxMask', TX_MASK_INVALID);
  }
  return raw;
}

function storageClasses(params: Params): number[] {
  const raw = params.get('allowedStorageClass');
  if (raw === undefined) return [];
  return raw.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1 || n > 3) throw new ParamError('allowedStorageClass', `allowedStorageClass: bad storage class ${s}`);
    return n;
  });
}

/** Every optional vol setting that createVol and vol/update share; absent keys take `base`. */
function settingsFrom(params: Params, base: VolSettings): VolSettings {
  return {
    description: params.get('description') ?? base.description,
    zoneName: params.get('zoneName') ?? base.zoneName,
    crossZone: params.bool('crossZone', base.crossZone),
    normalZonesFirst: params.bool('normalZonesFirst', base.normalZonesFirst),
    followerRead: params.bool('followerRead', base.followerRead),
    metaFollowerRead: params.bool('metaFollowerRead', base.metaFollowerRead),
    directRead: params.bool('directRead', base.directRead),
    maximallyRead: params.bool('maximallyRead', base.maximallyRead),
    ignoreTinyRecover: params.bool('ignoreTinyRecover', base.ignoreTinyRecover),
    authenticate: params.bool('authenticate', base.authenticate),
    dpReadOnlyWhenVolFull: params.bool('dpReadOnlyWhenVolFull', base.dpReadOnlyWhenVolFull),
    enablePosixAcl: params.bool('enablePosixAcl', base.enablePosixAcl),
    enableQuota: params.bool('enableQuota', base.enableQuota),
    deleteLockTimeHours: params.uint('deleteLockTime', base.deleteLockTimeHours),
    txMask: txMask(params, base.txMask),
    txTimeoutMin: inRange('txTimeout', params.uint('txTimeout', base.txTimeoutMin), TX_TIMEOUT_MIN_RANGE, (v) => `txTimeout(${v}) value range [1-60] minutes`),
    txConflictRetryNum: inRange(
      'txConflictRetryNum',
      params.uint('txConflictRetryNum', base.txConflictRetryNum),
      TX_CONFLICT_RETRY_NUM_RANGE,
      (v) => `txRetryNum(${v}) value range [1-1000]`,
    ),
    txConflictRetryIntervalMs: inRange(
      'txConflictRetryInterval',
      params.uint('txConflictRetryInterval', base.txConflictRetryIntervalMs),
      TX_CONFLICT_RETRY_INTERVAL_RANGE_MS,
      (v) => `txInterval(${v}) value range [10-1000] ms`,
    ),
    trashIntervalMin: inRange(
      'trashInterval',
      params.uint('trashInterval', base.trashIntervalMin),
      [0, TRASH_INTERVAL_MAX_MIN],
      (v) => `trash interval can't great than ${TRASH_INTERVAL_MAX_MIN}, now ${v}`,
    ),
    accessTimeValidIntervalSec: params.uint('accessTimeValidInterval', base.accessTimeValidIntervalSec),
    enablePersistAccessTime: params.bool('enablePersistAccessTime', base.enablePersistAccessTime),
    ebsBlkSizeBytes: params.uint('ebsBlkSize', base.ebsBlkSizeBytes),
    leaderRetryTimeoutSec: params.uint('leaderRetryTimeout', base.leaderRetryTimeoutSec),
    dpSelectorName: params.get('dpSelectorName') ?? base.dpSelectorName,
    dpSelectorParm: params.get('dpSelectorParm') ?? base.dpSelectorParm,
    autoDpMetaRepair: params.bool('autoDpMetaRepair', base.autoDpMetaRepair),
    forbidWriteOpOfProtoVer0: params.bool('forbidWriteOpOfProtoVersion0', base.forbidWriteOpOfProtoVer0),
    domainId: params.uint('domainId', base.domainId),
  };
}

/** `/admin/createVol` (spec 1.5): name and owner first, as the Go master checks them. */
export function createVolRequest(params: Params): CreateVolRequest {
  const name = params.require('name');
  const owner = params.require('owner');
  const replicaNum = params.uint('replicaNum', 0, INT32_MAX);
  const volStorageClass = params.uint('volStorageClass', 0, UINT32_MAX);
  const settings = settingsFrom(params, DEFAULT_VOL_SETTINGS);
  // Go parseRequestToCreateVol: an explicit followerRead=false on a hot vol of 1 or 2 replicas
  // is refused (typos are the Go master's); an absent one is forced on later (vols.ts).
  if (params.get('followerRead') !== undefined && !settings.followerRead && volStorageClass !== StorageClass.BlobStore && (replicaNum === 1 || replicaNum === 2)) {
    throw new ParamError('followerRead', 'vol with 1 ro 2 replia should enable followerRead');
  }
  return {
    name,
    owner,
    capacityGB: params.uint('capacity', 0, INT32_MAX),
    mpCount: params.uint('mpCount', 3),
    dpCount: params.uint('dpCount', 3),
    replicaNum,
    dpSizeGB: params.uint('dpSize', 0),
    volStorageClass,
    volType: params.uint('volType', 0, INT32_MAX),
    allowedStorageClass: storageClasses(params),
    settings,
  };
}

/**
 * `/vol/update`: only the keys present change (the cfs-cli sends the full set, with the
 * current values). `dpSelectorName` and `dpSelectorParm` come together or not at all. The
 * authKey is not required here: Go reads it with extractStr, so a missing one is a key
 * mismatch (34) in the service, not a missing parameter.
 */
export function volUpdateRequest(params: Params, current: VolSettings): VolUpdateRequest {
  const name = params.require('name');
  const authKey = params.string('authKey');
  const hasName = params.get('dpSelectorName') !== undefined;
  const hasParm = params.get('dpSelectorParm') !== undefined;
  if (hasName !== hasParm) throw keyNotFound('dpSelectorName or dpSelectorParm');
  const next = settingsFrom(params, current);
  const changed: Partial<Record<keyof VolSettings, unknown>> = {};
  for (const key of Object.keys(next) as (keyof VolSettings)[]) {
    if (next[key] !== current[key]) changed[key] = next[key];
  }
  return {
    name,
    authKey,
    capacityGB: params.get('capacity') === undefined ? null : params.uint('capacity', 0),
    replicaNum: params.get('replicaNum') === undefined ? null : params.uint('replicaNum', 0),
    settings: changed as Partial<VolSettings>,
  };
}
