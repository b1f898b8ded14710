// What a simulated node keeps on "disk" across a restart, as the real nodes keep their
// partitions (metanode: metadataDir/partition_<id>/meta, JSON {vol_name, start, end, peers};
// datanode: <disk>/datapartition_<id>_<size>/META, JSON {VolumeID, PartitionSize, Peers, Hosts,
// ReplicaNum}) and never their node id, which they get again from /metaNode/add or
// /dataNode/add at every start (docs/recovery.md). One JSON file per node, 64-bit exact,
// replaced atomically (write a temp file, rename) after every change.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { stringifyJson, parseJsonExact } from '../../util/json.js';
import { NodeMessageError } from '../errors.js';
import { asObject, readArray, readObjectArray, readSafeUint, readString, type JsonObject } from '../json-fields.js';
import type { NodeKind, ReplicaPeer } from '../task-requests.js';

export interface SimState {
  readonly kind: NodeKind;
  /** The listen port: a restarted node keeps its address. */
  readonly port: number;
  /** Partitions as the node kind encodes them. */
  readonly partitions: readonly JsonObject[];
  /** Partitions set aside at a start because the master did not list them (real nodes rename them "expired_"). */
  readonly expired: readonly JsonObject[];
}

const VERSION = 1;

export function writeSimState(file: string, state: SimState): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, stringifyJson({ v: VERSION, kind: state.kind, port: state.port, partitions: state.partitions, expired: state.expired }));
  renameSync(tmp, file);
}

/** The saved state, or null when the file does not exist. Throws NodeMessageError when it is not one. */
export function readSimState(file: string, kind: NodeKind): SimState | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const o = asObject(parseJsonExact(text), file);
  if (o['v'] !== VERSION) throw new NodeMessageError('v', `${file}: unknown sim state version ${String(o['v'])}`);
  const savedKind = readString(o, 'kind', file);
  if (savedKind !== kind) throw new NodeMessageError('kind', `${file} holds a ${savedKind} node, not a ${kind} node`);
  const objects = (key: string): JsonObject[] => readArray(o, key, file).map((p, i) => asObject(p, `${file}.${key}[${i}]`));
  return { kind, port: readSafeUint(o, 'port', file), partitions: objects('partitions'), expired: objects('expired') };
}

/** A partition's raft members as the state file holds them. */
export function encodeMembers(members: readonly ReplicaPeer[]): JsonObject[] {
  return members.map((m) => ({ id: m.id, addr: m.addr, heartbeatPort: m.heartbeatPort, replicaPort: m.replicaPort }));
}

export function decodeMembers(o: JsonObject, at: string): ReplicaPeer[] {
  return readObjectArray(o, 'members', at, (m, path) => ({
    id: readSafeUint(m, 'id', path),
    addr: readString(m, 'addr', path),
    heartbeatPort: readString(m, 'heartbeatPort', path),
    replicaPort: readString(m, 'replicaPort', path),
  }));
}

/** Removes from `partitions` those `keep` refuses; returns them encoded. */
export function setAsideFrom<P>(partitions: Map<number, P>, keep: (partitionId: number) => boolean, encode: (p: P) => JsonObject): JsonObject[] {
  const out: JsonObject[] = [];
  for (const [id, p] of [...partitions]) {
    if (keep(id)) continue;
    out.push(encode(p));
    partitions.delete(id);
  }
  return out;
}

/** Per partition: the raft id its members give `addr` (undefined: not a member). */
export function memberIdsOf(
  partitions: Iterable<{ readonly partitionId: number; readonly members: readonly ReplicaPeer[] }>,
  addr: string,
): { partitionId: number; raftId: number | undefined }[] {
  return [...partitions].map((p) => ({ partitionId: p.partitionId, raftId: p.members.find((m) => m.addr === addr)?.id }));
}
