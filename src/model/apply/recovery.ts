// Recovery commands (recovery-state.ts, docs/recovery.md): a round begins, adopts the nodes with
// the ids they had (their partitions' raft groups name them by those ids), adopts each vol with
// its partitions under the ids the nodes hold them by, and finishes with the id counters above
// every id seen. Every adopt command checks what the records need to stay whole (invariants.ts):
// a vol's meta partitions cover the inode range, every replica is on an adopted node at that
// addr, no id is used twice. A command that would break one is refused as a whole: the leader
// that planned it from a model that changed since re-plans (src/cluster/recovery/).

import { ParamError } from '../../util/errors.js';
import type { Change } from '../changes.js';
import type { AdoptedDataPartition, AdoptedMetaPartition, AdoptedNode, CommandOf } from '../commands.js';
import {
  ClusterNotBootstrappedError,
  DuplicateVolError,
  MediaTypeMismatchError,
  StaleProposalError,
  UserNotFoundError,
  VolNotFoundError,
} from '../errors.js';
import type { RecoveryRecord } from '../recovery-state.js';
import { emptyRecoverySummary, RECOVERY_FINDINGS_MAX } from '../recovery-state.js';
import type { CounterName, DataNodeRecord, IdCounters, MetaNodeRecord, ModelView, NodeSetRecord, ZoneRecord } from '../state.js';
import { COUNTER_NAMES, dataNodeByAddr, MediaType, metaNodeByAddr, newNodeSetRecord, newZoneRecord, volByName } from '../state.js';
import {
  checkDataMediaType,
  checkNodeAddr,
  checkNodeSetCapacity,
  checkOptionalPort,
  checkTimestamp,
  checkVolName,
  checkZoneName,
} from '../validate.js';
import type { DataPartitionRecord, MetaPartitionRecord, PartitionPeer, VolRecord } from '../vol-state.js';
import { INODE_ID_MAX, PartitionStatus, VolStatus } from '../vol-state.js';
import { nextId } from './ids.js';
import { checkPeers } from './partitions.js';
import type { Success } from './results.js';
import { checkZonesExist, withOwnVol } from './vols.js';

/** `recovery.begin`: a fresh round, or the round in progress unchanged (a new leader's retry). */
export function applyRecoveryBegin(model: ModelView, cmd: CommandOf<'recovery.begin'>): Success<RecoveryRecord> {
  if (model.cluster === null) throw new ClusterNotBootstrappedError();
  checkTimestamp(cmd.timeUnixSec, 'timeUnixSec');
  const current = model.recovery;
  if (current !== null && current.phase === 'collecting') return { value: current, changes: [] };
  if (current !== null && !cmd.newRound) throw new StaleProposalError(`recovery round ${current.round} already finished; a new round must be asked for`);
  for (const n of cmd.params.nodes) checkNodeAddr(n.addr, 'params.nodes');
  for (const h of cmd.params.nodeIdHints) checkNodeAddr(h.addr, 'params.nodeIdHints');
  const record: RecoveryRecord = {
    round: current === null ? 1 : current.round + 1,
    phase: 'collecting',
    params: cmd.params,
    beganAtUnixSec: cmd.timeUnixSec,
    finishedAtUnixSec: 0,
    preLossIds: current?.preLossIds ?? { metaPartition: 0, dataPartition: 0 },
    summary: current?.summary ?? emptyRecoverySummary(),
    findings: current?.findings ?? [],
    findingsOmitted: current?.findingsOmitted ?? 0,
  };
  return { value: record, changes: [{ kind: 'recovery', op: 'put', record }] };
}

function collectingRound(model: ModelView, round: number): RecoveryRecord {
  const r = model.recovery;
  if (r === null || r.phase !== 'collecting' || r.round !== round) {
    throw new StaleProposalError(`recovery round ${round} is not collecting (${r === null ? 'no recovery' : `round ${r.round} ${r.phase}`})`);
  }
  return r;
}

/** Who holds each id of the common counter (node sets, nodes, vols, intents). */
function commonIdHolders(model: ModelView): Map<number, string> {
  const held = new Map<number, string>();
  for (const s of model.nodeSets.values()) held.set(s.id, `node set ${s.id}`);
  for (const n of model.metaNodes.values()) held.set(n.id, `meta node ${n.addr}`);
  for (const n of model.dataNodes.values()) held.set(n.id, `data node ${n.addr}`);
  for (const v of model.vols.values()) held.set(v.id, `vol ${v.name}`);
  for (const i of model.volIntents.values()) held.set(i.vol.id, `vol create ${i.vol.name}`);
  return held;
}

/** `recovery.adoptNodes`: each node with its own id; one already there with that id is kept. */
export function applyRecoveryAdoptNodes(model: ModelView, cmd: CommandOf<'recovery.adoptNodes'>): Success<{ added: number; existing: number }> {
  collectingRound(model, cmd.round);
  checkNodeSetCapacity(cmd.nodeSetCapacity);
  checkTimestamp(cmd.createTimeMs, 'createTimeMs');
  const held = commonIdHolders(model);
  const fresh: AdoptedNode[] = [];
  let existing = 0;
  for (const n of cmd.nodes) {
    checkNodeAddr(n.addr, 'nodes.addr');
    checkZoneName(n.zoneName, 'nodes.zoneName');
    checkOptionalPort(n.heartbeatPort, 'nodes.heartbeatPort');
    checkOptionalPort(n.replicaPort, 'nodes.replicaPort');
    if (n.kind === 'data') checkDataMediaType(n.mediaType, 'nodes.mediaType');
    const there = n.kind === 'meta' ? metaNodeByAddr(model, n.addr) : dataNodeByAddr(model, n.addr);
    if (there !== undefined) {
      if (there.id !== n.id) throw new StaleProposalError(`${n.kind} node ${n.addr} is registered with id ${there.id}, not ${n.id}`);
      existing++;
      continue;
    }
    const holder = held.get(n.id);
    if (holder !== undefined) throw new StaleProposalError(`id ${n.id} of ${n.kind} node ${n.addr} is held by ${holder}`);
    held.set(n.id, `${n.kind} node ${n.addr}`);
    fresh.push(n);
  }

  // Node set ids come from the common counter, above every node id of the round.
  let common = Math.max(model.counters.common, ...fresh.map((n) => n.id));
  const setIdsAbove = Math.max(common, cmd.idFloor);
  const zones = new Map<string, ZoneRecord>();
  const newSets: NodeSetRecord[] = [];
  const added = new Map<number, { meta: number; data: number }>();
  const nodeChanges: Change[] = [];
  for (const n of fresh) {
    const zone = adoptedZone(zones.get(n.zoneName) ?? model.zones.get(n.zoneName), n);
    if (zone !== null) zones.set(n.zoneName, zone);
    let set = roomyNodeSet(model, newSets, added, n);
    if (set === undefined) {
      common = nextId(Math.max(common, setIdsAbove));
      set = newNodeSetRecord(common, n.zoneName, cmd.nodeSetCapacity);
      newSets.push(set);
    }
    const count = added.get(set.id) ?? { meta: 0, data: 0 };
    added.set(set.id, { ...count, [n.kind]: count[n.kind] + 1 });
    const base = { id: n.id, addr: n.addr, zoneName: n.zoneName, nodeSetId: set.id, heartbeatPort: n.heartbeatPort, replicaPort: n.replicaPort, rdOnly: false };
    if (n.kind === 'meta') {
      const record: MetaNodeRecord = base;
      nodeChanges.push({ kind: 'metaNode', op: 'put', record });
    } else {
      const record: DataNodeRecord = { ...base, toBeOffline: false, mediaType: checkDataMediaType(n.mediaType), createTimeMs: cmd.createTimeMs };
      nodeChanges.push({ kind: 'dataNode', op: 'put', record });
    }
  }
  const changes: Change[] = [];
  if (common > model.counters.common) changes.push({ kind: 'counter', op: 'put', counter: 'common', value: common });
  for (const record of zones.values()) changes.push({ kind: 'zone', op: 'put', record });
  for (const record of newSets) changes.push({ kind: 'nodeSet', op: 'put', record });
  changes.push(...nodeChanges);
  return { value: { added: fresh.length, existing }, changes };
}

/** The zone record to write for this node (null: as it is). A data node fixes the zone's media. */
function adoptedZone(zone: ZoneRecord | undefined, n: AdoptedNode): ZoneRecord | null {
  if (zone === undefined) return newZoneRecord(n.zoneName, n.kind === 'data' ? n.mediaType : MediaType.Unspecified);
  if (n.kind === 'meta') return null;
  if (zone.dataMediaType === MediaType.Unspecified) return { ...zone, dataMediaType: n.mediaType };
  if (zone.dataMediaType !== n.mediaType) throw new MediaTypeMismatchError(n.addr, `zone(${zone.name}) mediaType(${zone.dataMediaType}) != datanode mediaType(${n.mediaType})`);
  return zone;
}

/** The lowest-id node set of the node's zone with room for one more node of its kind. */
function roomyNodeSet(
  model: ModelView,
  newSets: readonly NodeSetRecord[],
  added: ReadonlyMap<number, { meta: number; data: number }>,
  n: AdoptedNode,
): NodeSetRecord | undefined {
  const ids = [...(model.index.nodeSetsByZone.get(n.zoneName) ?? []), ...newSets.filter((s) => s.zoneName === n.zoneName).map((s) => s.id)];
  for (const id of ids.sort((a, b) => a - b)) {
    const set = model.nodeSets.get(id) ?? newSets.find((s) => s.id === id);
    if (set === undefined) continue;
    const members = model.index.nodeSetMembers.get(id)?.[n.kind].size ?? 0;
    if (members + (added.get(id)?.[n.kind] ?? 0) < set.capacity) return set;
  }
  return undefined;
}

function partitionIdTaken(model: ModelView, kind: 'meta' | 'data', id: number): boolean {
  if ((kind === 'meta' ? model.metaPartitions : model.dataPartitions).has(id)) return true;
  for (const intent of model.volIntents.values()) {
    if ((kind === 'meta' ? intent.metaPartitions : intent.dataPartitions).some((p) => p.id === id)) return true;
  }
  return false;
}

/** Replicas on adopted nodes of the right kind at those addrs, once each, at least one. */
function checkAdoptedPeers(model: ModelView, kind: 'meta' | 'data', peers: readonly PartitionPeer[], what: string): void {
  if (peers.length === 0) throw new StaleProposalError(`${what} has no replica`);
  checkPeers(model, kind, peers, peers.length, what);
}

/** In id order the ranges start at 0, follow each other without a gap, and the last ends at 2^63-1 (spec 3.1). */
function checkInodeRanges(mps: readonly AdoptedMetaPartition[], vol: string): void {
  if (mps.length === 0) throw new StaleProposalError(`vol ${vol}: no meta partition`);
  let expectStart = 0n;
  mps.forEach((mp, i) => {
    if (i > 0 && mp.id <= mps[i - 1].id) throw new StaleProposalError(`vol ${vol}: meta partition ids not ascending at ${mp.id}`);
    if (mp.start !== expectStart) throw new StaleProposalError(`vol ${vol}: meta partition ${mp.id} starts at ${mp.start}, want ${expectStart}`);
    const last = i === mps.length - 1;
    if (mp.end < mp.start || (last && mp.end !== INODE_ID_MAX) || (!last && mp.end >= INODE_ID_MAX)) {
      throw new StaleProposalError(`vol ${vol}: meta partition ${mp.id} ends at ${mp.end}`);
    }
    expectStart = mp.end + 1n;
  });
}

function dataPartitionRecords(model: ModelView, vol: VolRecord, dps: readonly AdoptedDataPartition[], createTimeUnixSec: number): DataPartitionRecord[] {
  const seen = new Set<number>();
  return dps.map((dp) => {
    const what = `data partition ${dp.id}`;
    if (partitionIdTaken(model, 'data', dp.id) || seen.has(dp.id)) throw new StaleProposalError(`${what} exists`);
    seen.add(dp.id);
    checkAdoptedPeers(model, 'data', dp.peers, what);
    if (dp.diskPaths.length !== dp.peers.length) throw new StaleProposalError(`${what}: ${dp.diskPaths.length} disk paths for ${dp.peers.length} replicas`);
    return {
      id: dp.id,
      volId: vol.id,
      volName: vol.name,
      replicaNum: dp.peers.length,
      status: dp.status,
      peers: dp.peers,
      replicas: dp.peers.map((p, i) => ({ addr: p.addr, diskPath: dp.diskPaths[i] })),
      mediaType: dp.mediaType,
      sizeBytes: dp.sizeBytes,
      isRecover: false,
      rdOnly: false,
      createTimeUnixSec,
    };
  });
}

/** Counter puts that raise `counter` to `value` when it is below. */
function raise(model: ModelView, counter: CounterName, value: number): Change[] {
  return value > model.counters[counter] ? [{ kind: 'counter', op: 'put', counter, value }] : [];
}

/** `recovery.adoptVol`: the vol (a new id), its meta partitions, its first data partitions. */
export function applyRecoveryAdoptVol(model: ModelView, cmd: CommandOf<'recovery.adoptVol'>): Success<VolRecord> {
  const cluster = model.cluster;
  if (cluster === null) throw new ClusterNotBootstrappedError();
  collectingRound(model, cmd.round);
  checkVolName(cmd.name);
  checkTimestamp(cmd.createTimeUnixSec, 'createTimeUnixSec');
  if (model.index.volIdByName.has(cmd.name) || model.index.intentIdByName.has(cmd.name)) throw new DuplicateVolError(cmd.name, cluster.name);
  const owner = model.users.get(cmd.owner);
  if (owner === undefined) throw new UserNotFoundError(cmd.owner);
  if (cmd.capacityGB <= 0) throw new ParamError('capacity', 'capacity must be positive');
  checkZonesExist(model, cmd.settings.zoneName);
  checkInodeRanges(cmd.metaPartitions, cmd.name);

  const volId = nextId(model.counters.common);
  const vol: VolRecord = {
    id: volId,
    name: cmd.name,
    owner: cmd.owner,
    status: VolStatus.Normal,
    capacityGB: cmd.capacityGB,
    mpReplicaNum: cmd.mpReplicaNum,
    dpReplicaNum: cmd.dpReplicaNum,
    dpSizeBytes: cmd.dpSizeBytes,
    volType: 0,
    volStorageClass: cmd.volStorageClass,
    allowedStorageClass: [cmd.volStorageClass],
    createTimeUnixSec: cmd.createTimeUnixSec,
    deleteTimeUnixSec: 0,
    settings: cmd.settings,
  };
  const mps: MetaPartitionRecord[] = cmd.metaPartitions.map((mp) => {
    const what = `meta partition ${mp.id}`;
    if (partitionIdTaken(model, 'meta', mp.id)) throw new StaleProposalError(`${what} exists`);
    checkAdoptedPeers(model, 'meta', mp.peers, what);
    return { id: mp.id, volId, volName: cmd.name, start: mp.start, end: mp.end, replicaNum: mp.peers.length, status: PartitionStatus.ReadWrite, peers: mp.peers, isRecover: false };
  });
  const dps = dataPartitionRecords(model, vol, cmd.dataPartitions, cmd.createTimeUnixSec);
  const changes: Change[] = [
    { kind: 'counter', op: 'put', counter: 'common', value: volId },
    ...raise(model, 'metaPartition', Math.max(...mps.map((p) => p.id))),
    ...raise(model, 'dataPartition', Math.max(0, ...dps.map((p) => p.id))),
    { kind: 'user', op: 'put', record: withOwnVol(owner, vol.name) },
    { kind: 'vol', op: 'put', record: vol },
  ];
  for (const record of mps) changes.push({ kind: 'metaPartition', op: 'put', record });
  for (const record of dps) changes.push({ kind: 'dataPartition', op: 'put', record });
  return { value: vol, changes };
}

/** `recovery.adoptDataPartitions`: more data partitions of an adopted (or existing) vol. */
export function applyRecoveryAdoptDataPartitions(model: ModelView, cmd: CommandOf<'recovery.adoptDataPartitions'>): Success<{ added: number }> {
  collectingRound(model, cmd.round);
  checkTimestamp(cmd.createTimeUnixSec, 'createTimeUnixSec');
  const vol = volByName(model, cmd.volName);
  if (vol === undefined) throw new VolNotFoundError(cmd.volName);
  if (vol.status !== VolStatus.Normal) throw new StaleProposalError(`vol ${vol.name} is marked for deletion`);
  const dps = dataPartitionRecords(model, vol, cmd.partitions, cmd.createTimeUnixSec);
  const changes: Change[] = [...raise(model, 'dataPartition', Math.max(0, ...dps.map((p) => p.id)))];
  for (const record of dps) changes.push({ kind: 'dataPartition', op: 'put', record });
  return { value: { added: dps.length }, changes };
}

/** `recovery.finish`: counters to at least the floors; ids up to them are pre-loss from now on. */
export function applyRecoveryFinish(model: ModelView, cmd: CommandOf<'recovery.finish'>): Success<RecoveryRecord> {
  const current = collectingRound(model, cmd.round);
  checkTimestamp(cmd.timeUnixSec, 'timeUnixSec');
  if (cmd.findings.length > RECOVERY_FINDINGS_MAX) throw new ParamError('findings', `at most ${RECOVERY_FINDINGS_MAX} findings`);
  const changes: Change[] = [];
  for (const c of COUNTER_NAMES) changes.push(...raise(model, c, cmd.counterFloors[c]));
  const record: RecoveryRecord = {
    ...current,
    phase: 'done',
    finishedAtUnixSec: cmd.timeUnixSec,
    preLossIds: preLossIdsAfter(current, cmd.counterFloors),
    summary: cmd.summary,
    findings: cmd.findings,
    findingsOmitted: cmd.findingsOmitted,
  };
  changes.push({ kind: 'recovery', op: 'put', record });
  return { value: record, changes };
}

/**
 * Ids up to the floors (every id a node reported, plus the margin for nodes that stayed silent)
 * may name partitions of the cluster before the loss; a later round only widens the range.
 */
function preLossIdsAfter(current: RecoveryRecord, floors: IdCounters): RecoveryRecord['preLossIds'] {
  return {
    metaPartition: Math.max(current.preLossIds.metaPartition, floors.metaPartition),
    dataPartition: Math.max(current.preLossIds.dataPartition, floors.dataPartition),
  };
}
