// The persisted form of the model: one RocksDB key per record, following CubeFS's key schema
// (spec 4.2, separator '#'), and a versioned JSON value per record kind. Three uses:
//   (a) changesToBatch: the puts/deletes of one applied command, for the FSM's single write batch;
//   (b) loadRecord: rebuild the model at start-up from a scan of every key (any order);
//   (c) recordsOf: every record of the model, for the digest (digest.ts) and tests.
//
// Namespace: every model key starts with '#'. Keys starting with "\x00" are NOT the model's:
// they belong to the FSM (e.g. "\x00raft/applied" for the applied index, written in the same
// batch). loadRecord ignores them and returns false. Keys are UTF-8 strings; RocksDB orders
// them bytewise.
//
// Values are JSON objects with a fixed field order (so equal records give equal bytes) and a
// "v" field: a reader refuses versions it does not know instead of guessing.

import { assert, unreachable } from '../util/assert.js';
import type { Change } from './changes.js';
import { applyChange } from './changes.js';
import { CodecError } from './errors.js';
import { PackedMap } from './packed-map.js';
import type { Obj } from './shape.js';
import {
  asObject,
  expectKeys,
  readArray,
  readBool,
  readInt,
  readNumber,
  readOneOf,
  readString,
  readStringArray,
} from './shape.js';
import type {
  AccessKeyRecord,
  ClusterRecord,
  CounterName,
  DataMediaType,
  DataNodeRecord,
  MetaNodeRecord,
  ModelState,
  ModelView,
  NodeSetRecord,
  UserRecord,
  UserType,
  ZoneRecord,
} from './state.js';
import { COUNTER_NAMES, MediaType, sharedIfEmpty, UserType as UserTypes } from './state.js';
import { recoveryRecordFromJson, recoveryRecordToJson } from './recovery-records.js';
import {
  dataPartitionFromJson,
  dataPartitionToJson,
  intentFromJson,
  intentToJson,
  metaPartitionFromJson,
  metaPartitionToJson,
  volFromJson,
  volToJson,
} from './vol-records.js';

export const RECORD_VERSION = 1;
/** Prefix of every key the model owns. */
export const MODEL_KEY_PREFIX = '#';
/** Prefix reserved for the FSM (applied index and any bookkeeping of its own). */
export const FSM_KEY_PREFIX = '\x00raft/';

export const KEY = {
  cluster: (name: string): string => `#c#${name}`,
  counter: (c: CounterName): string => COUNTER_KEYS[c],
  zone: (name: string): string => `#zone#${name}`,
  nodeSet: (id: number): string => `#s#${id}`,
  metaNode: (id: number, addr: string): string => `#mn#${id}#${addr}`,
  dataNode: (id: number, addr: string): string => `#dn#${id}#${addr}`,
  user: (userId: string): string => `#user#${userId}`,
  accessKey: (ak: string): string => `#ak#${ak}`,
  vol: (id: number): string => `#vol#${id}`,
  volIntent: (id: number): string => `#volIntent#${id}`,
  metaPartition: (volId: number, id: number): string => `#mp#${volId}#${id}`,
  dataPartition: (volId: number, id: number): string => `#dp#${volId}#${id}`,
  /** Ours (CubeFS has no recovery): the one recovery record (recovery-state.ts). */
  recovery: (): string => RECOVERY_KEY,
} as const;

const RECOVERY_KEY = '#recovery#state';

/** CubeFS's allocator keys (spec 4.2); values are decimal strings as there. */
const COUNTER_KEYS: { readonly [C in CounterName]: string } = {
  common: '#max_common_id',
  metaPartition: '#max_mp_id',
  dataPartition: '#max_dp_id',
};

export type BatchOp =
  | { readonly type: 'put'; readonly key: string; readonly value: Uint8Array }
  | { readonly type: 'del'; readonly key: string };

export interface StoredRecord {
  readonly key: string;
  readonly value: Uint8Array;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export function encodeKey(key: string): Uint8Array {
  return utf8.encode(key);
}

export function isModelKey(key: string): boolean {
  return key.startsWith(MODEL_KEY_PREFIX);
}

/** (a) The write batch for one command's changes, in change order. */
export function changesToBatch(changes: readonly Change[]): BatchOp[] {
  return changes.map(changeToOp);
}

export function changeToOp(change: Change): BatchOp {
  switch (change.kind) {
    case 'cluster':
      return put(KEY.cluster(change.record.name), encodeCluster(change.record));
    case 'counter':
      return put(KEY.counter(change.counter), Buffer.from(String(change.value), 'utf8'));
    case 'zone':
      return put(KEY.zone(change.record.name), encodeZone(change.record));
    case 'nodeSet':
      return put(KEY.nodeSet(change.record.id), encodeNodeSet(change.record));
    case 'metaNode':
      return change.op === 'put'
        ? put(KEY.metaNode(change.record.id, change.record.addr), encodeMetaNode(change.record))
        : { type: 'del', key: KEY.metaNode(change.id, change.addr) };
    case 'dataNode':
      return change.op === 'put'
        ? put(KEY.dataNode(change.record.id, change.record.addr), encodeDataNode(change.record))
        : { type: 'del', key: KEY.dataNode(change.id, change.addr) };
    case 'vol':
      return change.op === 'put'
        ? put(KEY.vol(change.record.id), json(volToJson(change.record, RECORD_VERSION)))
        : { type: 'del', key: KEY.vol(change.id) };
    case 'volIntent':
      return change.op === 'put'
        ? put(KEY.volIntent(change.record.vol.id), json(intentToJson(change.record, RECORD_VERSION)))
        : { type: 'del', key: KEY.volIntent(change.volId) };
    case 'metaPartition':
      return change.op === 'put'
        ? put(KEY.metaPartition(change.record.volId, change.record.id), json(metaPartitionToJson(change.record, RECORD_VERSION)))
        : { type: 'del', key: KEY.metaPartition(change.volId, change.id) };
    case 'dataPartition':
      return change.op === 'put'
        ? put(KEY.dataPartition(change.record.volId, change.record.id), json(dataPartitionToJson(change.record, RECORD_VERSION)))
        : { type: 'del', key: KEY.dataPartition(change.volId, change.id) };
    case 'user':
      return change.op === 'put'
        ? put(KEY.user(change.record.userId), encodeUser(change.record))
        : { type: 'del', key: KEY.user(change.userId) };
    case 'accessKey':
      return change.op === 'put'
        ? put(KEY.accessKey(change.record.accessKey), encodeAccessKey(change.record))
        : { type: 'del', key: KEY.accessKey(change.accessKey) };
    case 'recovery':
      return put(KEY.recovery(), json(recoveryRecordToJson(change.record, RECORD_VERSION)));
    default:
      return unreachable(change, 'change');
  }
}

function put(key: string, value: Uint8Array): BatchOp {
  return { type: 'put', key, value };
}

/** (c) Every record of the model as it would be stored. Order: unspecified (the digest sorts). */
export function* recordsOf(model: ModelView): Generator<StoredRecord> {
  for (const change of putChangesOf(model)) {
    const b = changeToOp(change);
    assert(b.type === 'put', 'a record encodes as a put');
    yield { key: b.key, value: b.value };
  }
}

/** The maps of the model that hold records. */
const RECORD_MAPS = ['zones', 'nodeSets', 'metaNodes', 'dataNodes', 'users', 'accessKeys', 'vols', 'volIntents', 'metaPartitions', 'dataPartitions'] as const;
type RecordMapName = (typeof RECORD_MAPS)[number];
type ValuesOf<M> = M extends ReadonlyMap<unknown, infer V> ? { values(): Iterable<V> } : never;

/** What putChangesOf reads of a model: a model itself, or its records frozen (freezeRecords). */
export type RecordSource = Pick<ModelView, 'cluster' | 'counters' | 'recovery'> & { readonly [K in RecordMapName]: ValuesOf<ModelView[K]> };

/**
 * The model's records as they are now, to be read later while the model goes on changing: the
 * snapshot a leader streams to a follower from its model, at the applied index of this moment.
 * Exact because the model never changes a record in place (a change puts a new record object),
 * so holding the current objects holds the current state. Costs one array of references per map
 * (tens of ms for a million users), or a byte per row for a packed map (PackedMap.frozenValues).
 */
export function freezeRecords(model: ModelView): RecordSource {
  const maps = Object.fromEntries(
    RECORD_MAPS.map((name) => {
      const map = model[name] as ReadonlyMap<unknown, unknown>;
      const values = map instanceof PackedMap ? (map as PackedMap<unknown>).frozenValues() : [...map.values()];
      return [name, { values: () => values }];
    }),
  ) as { [K in RecordMapName]: ValuesOf<ModelView[K]> };
  return { cluster: model.cluster, counters: model.counters, recovery: model.recovery, ...maps };
}

/**
 * Every record of the model as the put that recreates it (loading them all into an empty state
 * rebuilds the model): what recordsOf encodes, and what a model image (fsm/model-image.ts) holds.
 */
export function* putChangesOf(model: RecordSource, options: { users?: boolean } = {}): Generator<Change> {
  if (model.cluster !== null) yield { kind: 'cluster', op: 'put', record: model.cluster };
  // A counter key is first written when the counter first moves; 0 means "never stored".
  for (const counter of COUNTER_NAMES) {
    const value = model.counters[counter];
    if (value > 0) yield { kind: 'counter', op: 'put', counter, value };
  }
  for (const record of model.zones.values()) yield { kind: 'zone', op: 'put', record };
  for (const record of model.nodeSets.values()) yield { kind: 'nodeSet', op: 'put', record };
  for (const record of model.metaNodes.values()) yield { kind: 'metaNode', op: 'put', record };
  for (const record of model.dataNodes.values()) yield { kind: 'dataNode', op: 'put', record };
  if (options.users !== false) {
    for (const record of model.users.values()) yield { kind: 'user', op: 'put', record };
    for (const record of model.accessKeys.values()) yield { kind: 'accessKey', op: 'put', record };
  }
  for (const record of model.vols.values()) yield { kind: 'vol', op: 'put', record };
  for (const record of model.volIntents.values()) yield { kind: 'volIntent', op: 'put', record };
  for (const record of model.metaPartitions.values()) yield { kind: 'metaPartition', op: 'put', record };
  for (const record of model.dataPartitions.values()) yield { kind: 'dataPartition', op: 'put', record };
  if (model.recovery !== null) yield { kind: 'recovery', op: 'put', record: model.recovery };
}

/** How many records recordsOf yields, without encoding them. */
export function recordCount(model: ModelView): number {
  const counters = COUNTER_NAMES.filter((c) => model.counters[c] > 0).length;
  return (
    (model.cluster !== null ? 1 : 0) +
    counters +
    model.zones.size +
    model.nodeSets.size +
    model.metaNodes.size +
    model.dataNodes.size +
    model.users.size +
    model.accessKeys.size +
    model.vols.size +
    model.volIntents.size +
    model.metaPartitions.size +
    model.dataPartitions.size +
    (model.recovery !== null ? 1 : 0)
  );
}

/**
 * (b) Load one stored key/value into the model. Keys may arrive in any order. Returns false
 * for keys outside the model namespace; throws CodecError for a model key it cannot read
 * (corruption, or a value written by a newer version).
 */
export function loadRecord(state: ModelState, key: string | Uint8Array, value: Uint8Array): boolean {
  const k = typeof key === 'string' ? key : decodeUtf8(key, 'key');
  if (!isModelKey(k)) return false;
  const change = decodeRecord(k, value);
  if (change.kind === 'cluster' && state.cluster !== null && state.cluster.name !== change.record.name) {
    throw new CodecError(k, `a second cluster record (already have #c#${state.cluster.name})`);
  }
  applyChange(state, change);
  return true;
}

/**
 * Load one put of putChangesOf (a model image's content) into the model: as loadRecord, with the
 * same sharing of empty policies as decodeUser.
 */
export function loadPut(state: ModelState, change: Change): void {
  if (change.kind === 'user' && change.op === 'put') {
    const policy = sharedIfEmpty(change.record.policy);
    if (policy !== change.record.policy) change = { ...change, record: { ...change.record, policy } };
  }
  applyChange(state, change);
}

/** Decode a stored key/value into the put that recreates it. */
export function decodeRecord(key: string, value: Uint8Array): Change {
  for (const c of COUNTER_NAMES) {
    if (key === COUNTER_KEYS[c]) return { kind: 'counter', op: 'put', counter: c, value: decodeCounter(key, value) };
  }
  const { kind, tail } = splitKey(key);
  const o = parseJson(key, value);
  switch (kind) {
    case 'c': {
      const record = decodeCluster(o, key);
      expectTail(key, tail, record.name);
      return { kind: 'cluster', op: 'put', record };
    }
    case 'zone': {
      const record = decodeZone(o, key);
      expectTail(key, tail, record.name);
      return { kind: 'zone', op: 'put', record };
    }
    case 's': {
      const record = decodeNodeSet(o, key);
      expectTail(key, tail, String(record.id));
      return { kind: 'nodeSet', op: 'put', record };
    }
    case 'mn': {
      const record = decodeMetaNode(o, key);
      expectTail(key, tail, `${record.id}#${record.addr}`);
      return { kind: 'metaNode', op: 'put', record };
    }
    case 'dn': {
      const record = decodeDataNode(o, key);
      expectTail(key, tail, `${record.id}#${record.addr}`);
      return { kind: 'dataNode', op: 'put', record };
    }
    case 'user': {
      const record = decodeUser(o, key);
      expectTail(key, tail, record.userId);
      return { kind: 'user', op: 'put', record };
    }
    case 'ak': {
      const record = decodeAccessKey(o, key);
      expectTail(key, tail, record.accessKey);
      return { kind: 'accessKey', op: 'put', record };
    }
    case 'vol': {
      const record = volFromJson(o, key);
      expectTail(key, tail, String(record.id));
      return { kind: 'vol', op: 'put', record };
    }
    case 'volIntent': {
      const record = intentFromJson(o, key);
      expectTail(key, tail, String(record.vol.id));
      return { kind: 'volIntent', op: 'put', record };
    }
    case 'mp': {
      const record = metaPartitionFromJson(o, key);
      expectTail(key, tail, `${record.volId}#${record.id}`);
      return { kind: 'metaPartition', op: 'put', record };
    }
    case 'dp': {
      const record = dataPartitionFromJson(o, key);
      expectTail(key, tail, `${record.volId}#${record.id}`);
      return { kind: 'dataPartition', op: 'put', record };
    }
    case 'recovery': {
      expectTail(key, tail, RECOVERY_KEY.slice('#recovery#'.length));
      return { kind: 'recovery', op: 'put', record: recoveryRecordFromJson(o, key) };
    }
    default:
      throw new CodecError(key, `unknown record kind "${kind}"`);
  }
}

function splitKey(key: string): { kind: string; tail: string } {
  const second = key.indexOf('#', 1);
  if (second < 0) throw new CodecError(key, 'unknown model key');
  return { kind: key.slice(1, second), tail: key.slice(second + 1) };
}

function expectTail(key: string, tail: string, expected: string): void {
  if (tail !== expected) throw new CodecError(key, `key does not match its value (value says ${expected})`);
}

function decodeUtf8(bytes: Uint8Array, path: string): string {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    throw new CodecError(path, 'not UTF-8');
  }
}

function parseJson(key: string, value: Uint8Array): Obj {
  let raw: unknown;
  try {
    raw = JSON.parse(decodeUtf8(value, key)) as unknown;
  } catch (e) {
    if (e instanceof CodecError) throw e;
    throw new CodecError(key, 'value is not JSON');
  }
  const o = asObject(raw, key);
  if (o['v'] !== RECORD_VERSION) throw new CodecError(`${key}.v`, `unsupported record version ${String(o['v'])}`);
  return o;
}

function json(o: object): Uint8Array {
  // Node's Buffer.from encodes in one native step; TextEncoder.encode was 6x slower per record
  // (bench `.bench/enc.mjs`), and every applied command writes one or more records.
  return Buffer.from(JSON.stringify(o), 'utf8');
}

function decodeCounter(key: string, value: Uint8Array): number {
  const s = decodeUtf8(value, key);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(s) || !Number.isSafeInteger(Number(s))) {
    throw new CodecError(key, 'counter is not a decimal integer');
  }
  return Number(s);
}

const MAX_ID = Number.MAX_SAFE_INTEGER;
const MEDIA: readonly MediaType[] = [MediaType.Unspecified, MediaType.SSD, MediaType.HDD];
const DATA_MEDIA: readonly DataMediaType[] = [MediaType.SSD, MediaType.HDD];
const USER_TYPES: readonly UserType[] = [UserTypes.Root, UserTypes.Admin, UserTypes.Normal];

// --- cluster ---------------------------------------------------------------------------------

const CLUSTER_FIELDS = [
  'v',
  'name',
  'createTimeUnixSec',
  'disableAutoAllocate',
  'forbidMpDecommission',
  'metaNodeDeleteBatchCount',
  'metaNodeDeleteWorkerSleepMs',
  'dataNodeDeleteLimitRate',
  'dataNodeAutoRepairLimitRate',
  'dpMaxRepairErrCnt',
  'loadFactor',
  'maxDpCntLimit',
  'maxMpCntLimit',
  'dirChildrenNumLimit',
  'metaPartitionInodeIdStep',
] as const;

export function encodeCluster(r: ClusterRecord): Uint8Array {
  return json({
    v: RECORD_VERSION,
    name: r.name,
    createTimeUnixSec: r.createTimeUnixSec,
    disableAutoAllocate: r.disableAutoAllocate,
    forbidMpDecommission: r.forbidMpDecommission,
    metaNodeDeleteBatchCount: r.metaNodeDeleteBatchCount,
    metaNodeDeleteWorkerSleepMs: r.metaNodeDeleteWorkerSleepMs,
    dataNodeDeleteLimitRate: r.dataNodeDeleteLimitRate,
    dataNodeAutoRepairLimitRate: r.dataNodeAutoRepairLimitRate,
    dpMaxRepairErrCnt: r.dpMaxRepairErrCnt,
    loadFactor: r.loadFactor,
    maxDpCntLimit: r.maxDpCntLimit,
    maxMpCntLimit: r.maxMpCntLimit,
    dirChildrenNumLimit: r.dirChildrenNumLimit,
    metaPartitionInodeIdStep: r.metaPartitionInodeIdStep,
  });
}

function decodeCluster(o: Obj, p: string): ClusterRecord {
  expectKeys(o, CLUSTER_FIELDS, p);
  return {
    name: readString(o, 'name', p),
    createTimeUnixSec: readInt(o, 'createTimeUnixSec', 0, MAX_ID, p),
    disableAutoAllocate: readBool(o, 'disableAutoAllocate', p),
    forbidMpDecommission: readBool(o, 'forbidMpDecommission', p),
    metaNodeDeleteBatchCount: readInt(o, 'metaNodeDeleteBatchCount', 0, MAX_ID, p),
    metaNodeDeleteWorkerSleepMs: readInt(o, 'metaNodeDeleteWorkerSleepMs', 0, MAX_ID, p),
    dataNodeDeleteLimitRate: readInt(o, 'dataNodeDeleteLimitRate', 0, MAX_ID, p),
    dataNodeAutoRepairLimitRate: readInt(o, 'dataNodeAutoRepairLimitRate', 0, MAX_ID, p),
    dpMaxRepairErrCnt: readInt(o, 'dpMaxRepairErrCnt', 0, MAX_ID, p),
    loadFactor: readNumber(o, 'loadFactor', p),
    maxDpCntLimit: readInt(o, 'maxDpCntLimit', 0, MAX_ID, p),
    maxMpCntLimit: readInt(o, 'maxMpCntLimit', 0, MAX_ID, p),
    dirChildrenNumLimit: readInt(o, 'dirChildrenNumLimit', 0, MAX_ID, p),
    metaPartitionInodeIdStep: readInt(o, 'metaPartitionInodeIdStep', 1, MAX_ID, p),
  };
}

// --- zone, node set --------------------------------------------------------------------------

export function encodeZone(r: ZoneRecord): Uint8Array {
  return json({
    v: RECORD_VERSION,
    name: r.name,
    dataMediaType: r.dataMediaType,
    dataNodesetSelector: r.dataNodesetSelector,
    metaNodesetSelector: r.metaNodesetSelector,
  });
}

function decodeZone(o: Obj, p: string): ZoneRecord {
  expectKeys(o, ['v', 'name', 'dataMediaType', 'dataNodesetSelector', 'metaNodesetSelector'], p);
  return {
    name: readString(o, 'name', p),
    dataMediaType: readOneOf(o, 'dataMediaType', MEDIA, p),
    dataNodesetSelector: readString(o, 'dataNodesetSelector', p),
    metaNodesetSelector: readString(o, 'metaNodesetSelector', p),
  };
}

export function encodeNodeSet(r: NodeSetRecord): Uint8Array {
  return json({
    v: RECORD_VERSION,
    id: r.id,
    zoneName: r.zoneName,
    capacity: r.capacity,
    dataNodeSelector: r.dataNodeSelector,
    metaNodeSelector: r.metaNodeSelector,
  });
}

function decodeNodeSet(o: Obj, p: string): NodeSetRecord {
  expectKeys(o, ['v', 'id', 'zoneName', 'capacity', 'dataNodeSelector', 'metaNodeSelector'], p);
  return {
    id: readInt(o, 'id', 1, MAX_ID, p),
    zoneName: readString(o, 'zoneName', p),
    capacity: readInt(o, 'capacity', 1, MAX_ID, p),
    dataNodeSelector: readString(o, 'dataNodeSelector', p),
    metaNodeSelector: readString(o, 'metaNodeSelector', p),
  };
}

// --- nodes -----------------------------------------------------------------------------------

const META_NODE_FIELDS = ['v', 'id', 'addr', 'zoneName', 'nodeSetId', 'heartbeatPort', 'replicaPort', 'rdOnly'];

export function encodeMetaNode(r: MetaNodeRecord): Uint8Array {
  return json({
    v: RECORD_VERSION,
    id: r.id,
    addr: r.addr,
    zoneName: r.zoneName,
    nodeSetId: r.nodeSetId,
    heartbeatPort: r.heartbeatPort,
    replicaPort: r.replicaPort,
    rdOnly: r.rdOnly,
  });
}

function decodeMetaNode(o: Obj, p: string): MetaNodeRecord {
  expectKeys(o, META_NODE_FIELDS, p);
  return {
    id: readInt(o, 'id', 1, MAX_ID, p),
    addr: readString(o, 'addr', p),
    zoneName: readString(o, 'zoneName', p),
    nodeSetId: readInt(o, 'nodeSetId', 1, MAX_ID, p),
    heartbeatPort: readString(o, 'heartbeatPort', p),
    replicaPort: readString(o, 'replicaPort', p),
    rdOnly: readBool(o, 'rdOnly', p),
  };
}

export function encodeDataNode(r: DataNodeRecord): Uint8Array {
  return json({
    v: RECORD_VERSION,
    id: r.id,
    addr: r.addr,
    zoneName: r.zoneName,
    nodeSetId: r.nodeSetId,
    heartbeatPort: r.heartbeatPort,
    replicaPort: r.replicaPort,
    rdOnly: r.rdOnly,
    toBeOffline: r.toBeOffline,
    mediaType: r.mediaType,
    createTimeMs: r.createTimeMs,
  });
}

function decodeDataNode(o: Obj, p: string): DataNodeRecord {
  expectKeys(o, [...META_NODE_FIELDS, 'toBeOffline', 'mediaType', 'createTimeMs'], p);
  return {
    id: readInt(o, 'id', 1, MAX_ID, p),
    addr: readString(o, 'addr', p),
    zoneName: readString(o, 'zoneName', p),
    nodeSetId: readInt(o, 'nodeSetId', 1, MAX_ID, p),
    heartbeatPort: readString(o, 'heartbeatPort', p),
    replicaPort: readString(o, 'replicaPort', p),
    rdOnly: readBool(o, 'rdOnly', p),
    toBeOffline: readBool(o, 'toBeOffline', p),
    mediaType: readOneOf(o, 'mediaType', DATA_MEDIA, p),
    createTimeMs: readInt(o, 'createTimeMs', 0, MAX_ID, p),
  };
}

// --- users -----------------------------------------------------------------------------------

/** authorized_vols sorted by vol name: the bytes do not depend on the order grants were made. */
function sortedAuthorizedVols(m: ReadonlyMap<string, readonly string[]>): [string, readonly string[]][] {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function encodeUser(r: UserRecord): Uint8Array {
  return Buffer.from(userJson(r), 'utf8');
}

/** A user's stored value as text (a snapshot writes it straight into its chunk). */
export function userJson(r: UserRecord): string {
  return JSON.stringify({
    v: RECORD_VERSION,
    userId: r.userId,
    accessKey: r.accessKey,
    secretKey: r.secretKey,
    userType: r.userType,
    createTimeUnixSec: r.createTimeUnixSec,
    description: r.description,
    ownVols: r.policy.ownVols,
    authorizedVols: sortedAuthorizedVols(r.policy.authorizedVols),
  });
}

function decodeUser(o: Obj, p: string): UserRecord {
  expectKeys(
    o,
    ['v', 'userId', 'accessKey', 'secretKey', 'userType', 'createTimeUnixSec', 'description', 'ownVols', 'authorizedVols'],
    p,
  );
  const authorizedVols = new Map<string, readonly string[]>();
  readArray(o, 'authorizedVols', p).forEach((entry, i) => {
    const at = `${p}.authorizedVols[${i}]`;
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') {
      throw new CodecError(at, 'expected [vol, actions]');
    }
    const actions = readStringArray({ actions: entry[1] as unknown }, 'actions', at);
    if (authorizedVols.has(entry[0])) throw new CodecError(at, 'duplicate vol');
    authorizedVols.set(entry[0], actions);
  });
  return {
    userId: readString(o, 'userId', p),
    accessKey: readString(o, 'accessKey', p),
    secretKey: readString(o, 'secretKey', p),
    userType: readOneOf(o, 'userType', USER_TYPES, p),
    createTimeUnixSec: readInt(o, 'createTimeUnixSec', 0, MAX_ID, p),
    description: readString(o, 'description', p),
    policy: sharedIfEmpty({ ownVols: readStringArray(o, 'ownVols', p), authorizedVols }),
  };
}

export function encodeAccessKey(r: AccessKeyRecord): Uint8Array {
  return Buffer.from(accessKeyJson(r), 'utf8');
}

/** An access key's stored value as text (a snapshot writes it straight into its chunk). */
export function accessKeyJson(r: AccessKeyRecord): string {
  return JSON.stringify({ v: RECORD_VERSION, accessKey: r.accessKey, userId: r.userId, passwordSha1: r.passwordSha1 });
}

function decodeAccessKey(o: Obj, p: string): AccessKeyRecord {
  expectKeys(o, ['v', 'accessKey', 'userId', 'passwordSha1'], p);
  return {
    accessKey: readString(o, 'accessKey', p),
    userId: readString(o, 'userId', p),
    passwordSha1: readString(o, 'passwordSha1', p),
  };
}
