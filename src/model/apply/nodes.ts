// `/metaNode/add` and `/dataNode/add` (spec 1.5, 11): idempotent by addr, zone created on first
// use, node placed in a node set of its zone, ids taken from the shared common counter.
//
// Id allocation happens here, at apply time, from the replicated `#max_common_id` counter: the
// node set (when one is created) takes the next id, then the node (observed: a fresh cluster's
// first meta node gets node set 1 and node id 2, the first data node id 3, spec 4.2 and the
// wire samples). Every member computes the same ids from the same counter, the registration is
// one command (no reserve-then-add window where two proposals could race), and a repeated add
// of the same addr returns the first id without burning one.
//
// Node set placement (spec 1.5: "pick a nodeset with room or create one"): the node set with the
// lowest id in the zone that holds fewer nodes of this kind (meta or data, counted separately)
// than its capacity; if none, a new node set of capacity `nodeSetCapacity` (the leader's
// `nodeSetCap`). An explicit `nodeSetId` must name an existing node set of the same zone (64).

import { assert } from '../../util/assert.js';
import type { NodeAddResult, Success } from './results.js';
import { nextId } from './ids.js';
import type { Change } from '../changes.js';
import type { CommandOf, DataNodeAddCommand, MetaNodeAddCommand } from '../commands.js';
import { MediaTypeMismatchError, NodeSetNotFoundError } from '../errors.js';
import type { DataMediaType, DataNodeRecord, MetaNodeRecord, ModelView, NodeSetRecord, ZoneRecord } from '../state.js';
import { MediaType, newNodeSetRecord, newZoneRecord } from '../state.js';
import {
  checkDataMediaType,
  checkNodeAddr,
  checkNodeSetCapacity,
  checkOptionalPort,
  checkTimestamp,
  checkZoneName,
} from '../validate.js';

type NodeKind = 'meta' | 'data';

export function applyMetaNodeAdd(model: ModelView, cmd: CommandOf<'metaNode.add'>): Success<NodeAddResult> {
  checkNodeAddFields(cmd);
  const existing = model.index.metaNodeIdByAddr.get(cmd.addr);
  if (existing !== undefined) return already(model.metaNodes.get(existing));

  const changes: Change[] = [];
  const zone = model.zones.get(cmd.zoneName);
  if (zone === undefined) changes.push({ kind: 'zone', op: 'put', record: newZoneRecord(cmd.zoneName, MediaType.Unspecified) });
  const placed = placeNode(model, cmd, 'meta', changes);
  const record: MetaNodeRecord = {
    id: placed.nodeId,
    addr: cmd.addr,
    zoneName: cmd.zoneName,
    nodeSetId: placed.nodeSetId,
    heartbeatPort: cmd.heartbeatPort,
    replicaPort: cmd.replicaPort,
    rdOnly: false,
  };
  changes.push({ kind: 'metaNode', op: 'put', record });
  return { value: { id: record.id, nodeSetId: record.nodeSetId, created: true }, changes };
}

export function applyDataNodeAdd(model: ModelView, cmd: CommandOf<'dataNode.add'>): Success<NodeAddResult> {
  checkNodeAddFields(cmd);
  const mediaType = checkDataMediaType(cmd.mediaType);
  checkTimestamp(cmd.createTimeMs, 'createTimeMs');
  const existing = model.index.dataNodeIdByAddr.get(cmd.addr);
  if (existing !== undefined) return already(model.dataNodes.get(existing));

  const changes: Change[] = [];
  const zone = zoneForDataNode(model.zones.get(cmd.zoneName), cmd, mediaType);
  if (zone !== null) changes.push({ kind: 'zone', op: 'put', record: zone });
  const placed = placeNode(model, cmd, 'data', changes);
  const record: DataNodeRecord = {
    id: placed.nodeId,
    addr: cmd.addr,
    zoneName: cmd.zoneName,
    nodeSetId: placed.nodeSetId,
    heartbeatPort: cmd.heartbeatPort,
    replicaPort: cmd.replicaPort,
    rdOnly: false,
    toBeOffline: false,
    mediaType,
    createTimeMs: cmd.createTimeMs,
  };
  changes.push({ kind: 'dataNode', op: 'put', record });
  return { value: { id: record.id, nodeSetId: record.nodeSetId, created: true }, changes };
}

function checkNodeAddFields(cmd: MetaNodeAddCommand | DataNodeAddCommand): void {
  checkNodeAddr(cmd.addr);
  checkZoneName(cmd.zoneName);
  checkOptionalPort(cmd.heartbeatPort, 'heartbeatPort');
  checkOptionalPort(cmd.replicaPort, 'replicaPort');
  checkNodeSetCapacity(cmd.nodeSetCapacity);
}

function already(node: MetaNodeRecord | DataNodeRecord | undefined): Success<NodeAddResult> {
  assert(node !== undefined, 'the addr index names a node that is not in the model');
  return { value: { id: node.id, nodeSetId: node.nodeSetId, created: false }, changes: [] };
}

/**
 * The zone record to write for a data node, or null when it stays as is. The first data node
 * of a zone fixes the zone's media type; a later one of another media is refused (spec 1.5).
 */
function zoneForDataNode(zone: ZoneRecord | undefined, cmd: DataNodeAddCommand, mediaType: DataMediaType): ZoneRecord | null {
  if (zone === undefined) return newZoneRecord(cmd.zoneName, mediaType);
  if (zone.dataMediaType === MediaType.Unspecified) return { ...zone, dataMediaType: mediaType };
  if (zone.dataMediaType !== mediaType) {
    throw new MediaTypeMismatchError(
      cmd.addr,
      `zone(${zone.name}) mediaType(${mediaTypeName(zone.dataMediaType)}) != datanode mediaType(${mediaTypeName(mediaType)})`,
    );
  }
  return null;
}

function mediaTypeName(m: number): string {
  return m === MediaType.SSD ? 'SSD' : m === MediaType.HDD ? 'HDD' : `Unknown(${m})`;
}

/** Choose or create the node set, allocate ids; pushes the counter and node set changes. */
function placeNode(
  model: ModelView,
  cmd: MetaNodeAddCommand | DataNodeAddCommand,
  kind: NodeKind,
  changes: Change[],
): { nodeId: number; nodeSetId: number } {
  let common = model.counters.common;
  let nodeSet: NodeSetRecord | undefined;
  if (cmd.nodeSetId !== 0) {
    nodeSet = model.nodeSets.get(cmd.nodeSetId);
    if (nodeSet === undefined) throw new NodeSetNotFoundError(cmd.nodeSetId, `node set ${cmd.nodeSetId} does not exist`);
    if (nodeSet.zoneName !== cmd.zoneName) {
      throw new NodeSetNotFoundError(cmd.nodeSetId, `node set ${cmd.nodeSetId} is in zone ${nodeSet.zoneName}, not ${cmd.zoneName}`);
    }
  } else {
    const withRoom = model.index.roomByZone.get(cmd.zoneName)?.[kind][0];
    if (withRoom !== undefined) {
      nodeSet = model.nodeSets.get(withRoom);
    } else {
      common = nextId(common);
      nodeSet = newNodeSetRecord(common, cmd.zoneName, cmd.nodeSetCapacity);
      changes.push({ kind: 'nodeSet', op: 'put', record: nodeSet });
    }
  }
  assert(nodeSet !== undefined, 'the room index names a node set that is not in the model');
  common = nextId(common);
  changes.unshift({ kind: 'counter', op: 'put', counter: 'common', value: common });
  return { nodeId: common, nodeSetId: nodeSet.id };
}
