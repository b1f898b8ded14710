// The only writer of replicated model state. A change is a whole record put (upsert) or a
// record delete; `applyChanges` swaps it into the maps and keeps the derived indexes right.
// The same function serves apply results, start-up loading (records.ts) and tests, so the
// indexes of a warm member and of a restarted one are built by the same code.

import { assert, unreachable } from '../util/assert.js';
import type {
  AccessKeyRecord,
  ClusterRecord,
  CounterName,
  DataNodeRecord,
  MetaNodeRecord,
  ModelState,
  NodeSetRecord,
  UserRecord,
  ZoneRecord,
} from './state.js';

export type Change =
  | { readonly kind: 'cluster'; readonly op: 'put'; readonly record: ClusterRecord }
  | { readonly kind: 'counter'; readonly op: 'put'; readonly counter: CounterName; readonly value: number }
  | { readonly kind: 'zone'; readonly op: 'put'; readonly record: ZoneRecord }
  | { readonly kind: 'nodeSet'; readonly op: 'put'; readonly record: NodeSetRecord }
  | { readonly kind: 'metaNode'; readonly op: 'put'; readonly record: MetaNodeRecord }
  | { readonly kind: 'dataNode'; readonly op: 'put'; readonly record: DataNodeRecord }
  | { readonly kind: 'user'; readonly op: 'put'; readonly record: UserRecord }
  | { readonly kind: 'user'; readonly op: 'del'; readonly userId: string }
  | { readonly kind: 'accessKey'; readonly op: 'put'; readonly record: AccessKeyRecord }
  | { readonly kind: 'accessKey'; readonly op: 'del'; readonly accessKey: string };

export type ChangeKind = Change['kind'];

/** Apply changes in order. Each change is O(1) apart from sorted-array upkeep of node set ids. */
export function applyChanges(state: ModelState, changes: readonly Change[]): void {
  for (const change of changes) applyChange(state, change);
}

export function applyChange(state: ModelState, change: Change): void {
  switch (change.kind) {
    case 'cluster':
      state.cluster = change.record;
      return;
    case 'counter':
      // Counters only move up: an id once handed out is never handed out again.
      assert(change.value >= state.counters[change.counter], () => `counter ${change.counter} moves down`);
      state.counters = { ...state.counters, [change.counter]: change.value };
      return;
    case 'zone':
      state.zones.set(change.record.name, change.record);
      return;
    case 'nodeSet':
      putNodeSet(state, change.record);
      return;
    case 'metaNode':
      putMetaNode(state, change.record);
      return;
    case 'dataNode':
      putDataNode(state, change.record);
      return;
    case 'user':
      if (change.op === 'put') state.users.set(change.record.userId, change.record);
      else state.users.delete(change.userId);
      return;
    case 'accessKey':
      if (change.op === 'put') state.accessKeys.set(change.record.accessKey, change.record);
      else state.accessKeys.delete(change.accessKey);
      return;
    default:
      unreachable(change, 'change');
  }
}

function putNodeSet(state: ModelState, record: NodeSetRecord): void {
  const previous = state.nodeSets.get(record.id);
  if (previous !== undefined && previous.zoneName !== record.zoneName) {
    removeSorted(state.index.nodeSetsByZone.get(previous.zoneName), record.id);
    setRoom(state, previous.zoneName, record.id, 'meta', false);
    setRoom(state, previous.zoneName, record.id, 'data', false);
  }
  state.nodeSets.set(record.id, record);
  insertSorted(getOrCreate(state.index.nodeSetsByZone, record.zoneName, () => []), record.id);
  refreshRoom(state, record.id);
}

function putMetaNode(state: ModelState, record: MetaNodeRecord): void {
  const previous = state.metaNodes.get(record.id);
  if (previous !== undefined) {
    state.index.metaNodeIdByAddr.delete(previous.addr);
    members(state, previous.nodeSetId).meta.delete(record.id);
    refreshRoom(state, previous.nodeSetId);
  }
  const holder = state.index.metaNodeIdByAddr.get(record.addr);
  assert(holder === undefined || holder === record.id, () => `meta node addr ${record.addr} held by ${holder}`);
  state.metaNodes.set(record.id, record);
  state.index.metaNodeIdByAddr.set(record.addr, record.id);
  members(state, record.nodeSetId).meta.add(record.id);
  refreshRoom(state, record.nodeSetId);
}

function putDataNode(state: ModelState, record: DataNodeRecord): void {
  const previous = state.dataNodes.get(record.id);
  if (previous !== undefined) {
    state.index.dataNodeIdByAddr.delete(previous.addr);
    members(state, previous.nodeSetId).data.delete(record.id);
    refreshRoom(state, previous.nodeSetId);
  }
  const holder = state.index.dataNodeIdByAddr.get(record.addr);
  assert(holder === undefined || holder === record.id, () => `data node addr ${record.addr} held by ${holder}`);
  state.dataNodes.set(record.id, record);
  state.index.dataNodeIdByAddr.set(record.addr, record.id);
  members(state, record.nodeSetId).data.add(record.id);
  refreshRoom(state, record.nodeSetId);
}

function members(state: ModelState, nodeSetId: number): { meta: Set<number>; data: Set<number> } {
  return getOrCreate(state.index.nodeSetMembers, nodeSetId, () => ({ meta: new Set<number>(), data: new Set<number>() }));
}

/**
 * Keep `roomByZone` true for one node set: listed under a kind while it holds fewer nodes of
 * that kind than its capacity. A node whose node set record is not loaded yet (start-up scans
 * `#dn#`/`#mn#` before `#s#`) is counted now and the set is listed when its record arrives.
 */
function refreshRoom(state: ModelState, nodeSetId: number): void {
  const set = state.nodeSets.get(nodeSetId);
  if (set === undefined) return;
  const m = state.index.nodeSetMembers.get(nodeSetId);
  setRoom(state, set.zoneName, nodeSetId, 'meta', (m?.meta.size ?? 0) < set.capacity);
  setRoom(state, set.zoneName, nodeSetId, 'data', (m?.data.size ?? 0) < set.capacity);
}

function setRoom(state: ModelState, zoneName: string, nodeSetId: number, kind: 'meta' | 'data', hasRoom: boolean): void {
  const room = getOrCreate(state.index.roomByZone, zoneName, () => ({ meta: [], data: [] }));
  if (hasRoom) insertSorted(room[kind], nodeSetId);
  else removeSorted(room[kind], nodeSetId);
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

/** Index of the first element >= value in an ascending array. */
function lowerBound(arr: readonly number[], value: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(arr: number[], value: number): void {
  const i = lowerBound(arr, value);
  if (arr[i] !== value) arr.splice(i, 0, value);
}

function removeSorted(arr: number[] | undefined, value: number): void {
  if (arr === undefined) return;
  const i = lowerBound(arr, value);
  if (arr[i] === value) arr.splice(i, 1);
}
