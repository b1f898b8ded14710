// The `data` of the topology routes (spec 1.5): `/zone/list`, `/topo/get`, `/nodeSet/list`,
// `/nodeSet/get` and `/cluster/stat`, with Go's field names and order, in the style of views.ts.
// Zones are listed by name and node sets and nodes by id (Go walks maps and sync.Maps).
//
// Zone status is not persisted by CubeFS and no command here changes it: always "available".
// A node counts as writable when its heartbeat said so and it is not read-only (Go
// IsWriteAble); it can take a partition when, in addition, it holds no more partitions than the
// cluster's per-node limit (Go calcNodesForAlloc).

import { NodeSetNotFoundError, ZoneNotFoundError } from './errors.js';
import { dataNodeLive, metaNodeLive } from './live.js';
import type { DataNodeRecord, MetaNodeRecord, ModelView, NodeSetRecord, ZoneRecord } from './state.js';
import { MediaType } from './state.js';
import type { NodeView, StatInfo } from './views.js';
import { dataNodeView, emptyStatInfo, metaNodeView } from './views.js';
import { formatGoFloat } from './vol-views.js';

const GB = 1_073_741_824;

function byId<T extends { id: number }>(values: Iterable<T>): T[] {
  return [...values].sort((a, b) => a.id - b.id);
}

function zonesByName(model: ModelView): ZoneRecord[] {
  return [...model.zones.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function nodeSetsOfZone(model: ModelView, zoneName: string): NodeSetRecord[] {
  const ids = model.index.nodeSetsByZone.get(zoneName) ?? [];
  return ids.map((id) => model.nodeSets.get(id)).filter((ns): ns is NodeSetRecord => ns !== undefined);
}

function membersOf(model: ModelView, nodeSetId: number): { meta: MetaNodeRecord[]; data: DataNodeRecord[] } {
  const m = model.index.nodeSetMembers.get(nodeSetId);
  const meta = [...(m?.meta ?? [])].map((id) => model.metaNodes.get(id)).filter((n): n is MetaNodeRecord => n !== undefined);
  const data = [...(m?.data ?? [])].map((id) => model.dataNodes.get(id)).filter((n): n is DataNodeRecord => n !== undefined);
  return { meta: byId(meta), data: byId(data) };
}

function metaWritable(model: ModelView, node: MetaNodeRecord): boolean {
  return metaNodeLive(model, node.id).isWritable && !node.rdOnly;
}

function dataWritable(model: ModelView, node: DataNodeRecord): boolean {
  return dataNodeLive(model, node).isWritable && !node.rdOnly;
}

function canAllocMeta(model: ModelView, node: MetaNodeRecord): boolean {
  const limit = model.cluster?.maxMpCntLimit ?? 300;
  return metaWritable(model, node) && metaNodeLive(model, node.id).metaPartitionCount <= limit;
}

function canAllocData(model: ModelView, node: DataNodeRecord): boolean {
  const limit = model.cluster?.maxDpCntLimit ?? 3000;
  return dataWritable(model, node) && dataNodeLive(model, node).dataPartitionCount <= limit;
}

// --- /zone/list, /topo/get -------------------------------------------------------------------

/** MetaNodeView: NodeView plus the memory ratios (`/topo/get`). */
export interface MetaNodeView extends NodeView {
  Ratio: number;
  SystemRatio: number;
}

export interface NodeSetView {
  DataNodeLen: number;
  MetaNodeLen: number;
  MetaNodes: MetaNodeView[];
  DataNodes: NodeView[];
}

/** master.ZoneView. NodeSet is keyed by node set id (`{}` in `/zone/list`). */
export interface ZoneView {
  Name: string;
  Status: string;
  DataNodesetSelector: string;
  MetaNodesetSelector: string;
  NodeSet: Record<string, NodeSetView>;
  DataMediaType: string;
}

/** proto.MediaTypeString. */
export function mediaTypeString(mediaType: number): string {
  switch (mediaType) {
    case MediaType.Unspecified:
      return 'Unspecified';
    case MediaType.SSD:
      return 'SSD';
    case MediaType.HDD:
      return 'HDD';
    default:
      return `InvalidValue(${mediaType})`;
  }
}

function zoneView(zone: ZoneRecord, dataMediaType: string): ZoneView {
  return {
    Name: zone.name,
    Status: 'available',
    DataNodesetSelector: zone.dataNodesetSelector,
    MetaNodesetSelector: zone.metaNodesetSelector,
    NodeSet: {},
    DataMediaType: dataMediaType,
  };
}

/** `/zone/list`: Go's listZone never fills NodeSet or DataMediaType (observed `{}` and ""). */
export function zoneList(model: ModelView): ZoneView[] {
  return zonesByName(model).map((z) => zoneView(z, ''));
}

export interface TopologyView {
  Zones: ZoneView[];
}

/**
 * `/topo/get`: every zone with its node sets and their nodes; DataMediaType as Go prints it
 * ("Unspecified" before a data node fixed it, then "SSD"/"HDD"). NodeSet keys are node set ids;
 * a JS object prints integer keys in numeric order where Go's sorts them as strings (JSON
 * readers do not care). SystemRatio (system memory used/total) is not in the heartbeat fields
 * kept here: 0. IsWritable is Go's IsWriteAble, which also says false for a read-only node
 * (`/admin/setNodeRdOnly`) before its next heartbeat; ForbidWriteOpOfProtoVer0 stays false (Go
 * does not fill it here).
 */
export function topologyView(model: ModelView): TopologyView {
  return {
    Zones: zonesByName(model).map((zone) => {
      const view = zoneView(zone, mediaTypeString(zone.dataMediaType));
      for (const ns of nodeSetsOfZone(model, zone.name)) {
        const members = membersOf(model, ns.id);
        view.NodeSet[String(ns.id)] = {
          DataNodeLen: members.data.length,
          MetaNodeLen: members.meta.length,
          MetaNodes: members.meta.map((n) => ({
            ...metaNodeView(model, n),
            IsWritable: metaWritable(model, n),
            Ratio: metaNodeLive(model, n.id).ratio,
            SystemRatio: 0,
          })),
          DataNodes: members.data.map((n) => ({ ...dataNodeView(model, n), IsWritable: dataWritable(model, n) })),
        };
      }
      return view;
    }),
  };
}

// --- /nodeSet/list, /nodeSet/get -------------------------------------------------------------

/** proto.NodeSetStat, entries of `/nodeSet/list`. */
export interface NodeSetStat {
  ID: number;
  Capacity: number;
  Zone: string;
  CanAllocMetaNodeCnt: number;
  CanAllocDataNodeCnt: number;
  MetaNodeNum: number;
  DataNodeNum: number;
}

function nodeSetStat(model: ModelView, ns: NodeSetRecord): NodeSetStat {
  const members = membersOf(model, ns.id);
  return {
    ID: ns.id,
    Capacity: ns.capacity,
    Zone: ns.zoneName,
    CanAllocMetaNodeCnt: members.meta.filter((n) => canAllocMeta(model, n)).length,
    CanAllocDataNodeCnt: members.data.filter((n) => canAllocData(model, n)).length,
    MetaNodeNum: members.meta.length,
    DataNodeNum: members.data.length,
  };
}

/** `/nodeSet/list?zoneName=`: the zone's node sets, or every zone's when the name is "" (52 when unknown). */
export function nodeSetList(model: ModelView, zoneName: string): NodeSetStat[] {
  let zones: ZoneRecord[];
  if (zoneName === '') {
    zones = zonesByName(model);
  } else {
    const zone = model.zones.get(zoneName);
    if (zone === undefined) throw new ZoneNotFoundError(zoneName);
    zones = [zone];
  }
  return zones.flatMap((z) => nodeSetsOfZone(model, z.name).map((ns) => nodeSetStat(model, ns)));
}

/** proto.NodeStatView: a node of `/nodeSet/get` with its capacity figures (bytes). */
export interface NodeStatView {
  Addr: string;
  Status: boolean;
  DomainAddr: string;
  ID: number;
  IsWritable: boolean;
  Total: number;
  Used: number;
  Avail: number;
}

/** proto.NodeSetStatInfo, `/nodeSet/get`. Node lists are `null` when empty (Go appends to nil). */
export interface NodeSetStatInfo {
  ID: number;
  Capacity: number;
  Zone: string;
  CanAllocMetaNodeCnt: number;
  CanAllocDataNodeCnt: number;
  MetaNodes: NodeStatView[] | null;
  DataNodes: NodeStatView[] | null;
  DataNodeSelector: string;
  MetaNodeSelector: string;
}

/** Total - Used as Go computes it, except that it stops at 0 where Go's uint64 would wrap. */
function avail(total: number, used: number): number {
  return Math.max(0, total - used);
}

export function nodeSetStatInfo(model: ModelView, ns: NodeSetRecord): NodeSetStatInfo {
  const members = membersOf(model, ns.id);
  const stat = nodeSetStat(model, ns);
  const meta = members.meta.map((n): NodeStatView => {
    const live = metaNodeLive(model, n.id);
    return {
      Addr: n.addr,
      Status: live.isActive,
      DomainAddr: live.domainAddr,
      ID: n.id,
      IsWritable: metaWritable(model, n),
      Total: live.totalWeight,
      Used: live.usedWeight,
      Avail: avail(live.totalWeight, live.usedWeight),
    };
  });
  const data = members.data.map((n): NodeStatView => {
    const live = dataNodeLive(model, n);
    return {
      Addr: n.addr,
      Status: live.isActive,
      DomainAddr: live.domainAddr,
      ID: n.id,
      IsWritable: dataWritable(model, n),
      Total: live.totalWeight,
      Used: live.usedWeight,
      Avail: avail(live.totalWeight, live.usedWeight),
    };
  });
  return {
    ID: ns.id,
    Capacity: ns.capacity,
    Zone: ns.zoneName,
    CanAllocMetaNodeCnt: stat.CanAllocMetaNodeCnt,
    CanAllocDataNodeCnt: stat.CanAllocDataNodeCnt,
    MetaNodes: meta.length === 0 ? null : meta,
    DataNodes: data.length === 0 ? null : data,
    DataNodeSelector: ns.dataNodeSelector,
    MetaNodeSelector: ns.metaNodeSelector,
  };
}

/** `/nodeSet/get?nodesetId=` (64 when unknown). */
export function nodeSetStatInfoById(model: ModelView, nodeSetId: number): NodeSetStatInfo {
  const ns = model.nodeSets.get(nodeSetId);
  if (ns === undefined) throw new NodeSetNotFoundError(nodeSetId, `set ${nodeSetId} not found`);
  return nodeSetStatInfo(model, ns);
}

// --- /cluster/stat ---------------------------------------------------------------------------

/**
 * Go updateDataNodeStatInfo, from the data nodes' heartbeat figures: whole GB (rounded down),
 * UsedRatio with 3 decimals, IncreasedGB against `previous`. With no capacity at all Go keeps
 * the previous figures (initially zeros and UsedRatio "", as observed).
 */
export function dataNodeStatInfo(model: ModelView, previous: StatInfo = emptyStatInfo()): StatInfo {
  let total = 0;
  let used = 0;
  let availBytes = 0;
  for (const node of model.dataNodes.values()) {
    const live = dataNodeLive(model, node);
    total += live.totalWeight;
    used += live.usedWeight;
    if (live.isActive) availBytes += live.availableSpace;
  }
  return nodeStat(total, used, availBytes, previous);
}

/** Go updateMetaNodeStatInfo: as dataNodeStatInfo, available = MaxMemAvailWeight of active nodes. */
export function metaNodeStatInfo(model: ModelView, previous: StatInfo = emptyStatInfo()): StatInfo {
  let total = 0;
  let used = 0;
  let availBytes = 0;
  for (const node of model.metaNodes.values()) {
    const live = metaNodeLive(model, node.id);
    total += live.totalWeight;
    used += live.usedWeight;
    if (live.isActive) availBytes += live.maxMemAvailWeight;
  }
  return nodeStat(total, used, availBytes, previous);
}

function nodeStat(total: number, used: number, availBytes: number, previous: StatInfo): StatInfo {
  if (total <= 0) return { ...previous };
  const usedGB = Math.floor(used / GB);
  return {
    TotalGB: Math.floor(total / GB),
    UsedGB: usedGB,
    IncreasedGB: usedGB - previous.UsedGB,
    UsedRatio: formatGoFloat(used / total, 3, 32),
    AvailGB: Math.floor(availBytes / GB),
  };
}

/** proto.ZoneNodesStat (Total/Used/Avail have the json names TotalGB/UsedGB/AvailGB). */
export interface ZoneNodesStat {
  TotalGB: number;
  UsedGB: number;
  AvailGB: number;
  UsedRatio: number;
  TotalNodes: number;
  WritableNodes: number;
}

export interface ZoneStat {
  DataNodeStat: ZoneNodesStat;
  MetaNodeStat: ZoneNodesStat;
}

/** Go fixedPoint: round to `scale` decimals. */
function fixedPoint(x: number, scale: number): number {
  const d = 10 ** scale;
  return Math.round(x * d) / d;
}

/**
 * Go updateZoneStatInfo: GB figures with 2 decimals; a zone without capacity of a kind shows
 * TotalGB 1 for it (Go sets the total to 1 to avoid dividing by zero and prints it).
 */
function zoneNodesStat(nodes: readonly { total: number; used: number; writable: boolean }[]): ZoneNodesStat {
  let total = 0;
  let used = 0;
  for (const n of nodes) {
    total += n.total / GB;
    used += n.used / GB;
  }
  total = fixedPoint(total, 2);
  used = fixedPoint(used, 2);
  const availGB = fixedPoint(total - used, 2);
  if (total === 0) total = 1;
  return {
    TotalGB: total,
    UsedGB: used,
    AvailGB: availGB,
    UsedRatio: fixedPoint(used / total, 2),
    TotalNodes: nodes.length,
    WritableNodes: nodes.filter((n) => n.writable).length,
  };
}

/** ZoneStatInfo of `/cluster/stat`: per zone (by name), its data and meta node figures. */
export function zoneStatInfo(model: ModelView): Record<string, ZoneStat> {
  const out: Record<string, ZoneStat> = {};
  for (const zone of zonesByName(model)) {
    const data = byId([...model.dataNodes.values()].filter((n) => n.zoneName === zone.name)).map((n) => {
      const live = dataNodeLive(model, n);
      return { total: live.totalWeight, used: live.usedWeight, writable: live.isActive && dataWritable(model, n) };
    });
    const meta = byId([...model.metaNodes.values()].filter((n) => n.zoneName === zone.name)).map((n) => {
      const live = metaNodeLive(model, n.id);
      return { total: live.totalWeight, used: live.usedWeight, writable: live.isActive && metaWritable(model, n) };
    });
    out[zone.name] = { DataNodeStat: zoneNodesStat(data), MetaNodeStat: zoneNodesStat(meta) };
  }
  return out;
}

export interface ClusterStatInfo {
  DataNodeStatInfo: StatInfo;
  MetaNodeStatInfo: StatInfo;
  ZoneStatInfo: Record<string, ZoneStat>;
}

export interface ClusterStatContext {
  /** The figures of the previous stat round (IncreasedGB; kept when there is no capacity). */
  readonly previousDataNodeStat?: StatInfo;
  readonly previousMetaNodeStat?: StatInfo;
}

/**
 * `/cluster/stat`, computed from the live node figures now (Go serves what its periodic stat
 * round last computed from the same figures).
 */
export function clusterStat(model: ModelView, ctx: ClusterStatContext = {}): ClusterStatInfo {
  return {
    DataNodeStatInfo: dataNodeStatInfo(model, ctx.previousDataNodeStat),
    MetaNodeStatInfo: metaNodeStatInfo(model, ctx.previousMetaNodeStat),
    ZoneStatInfo: zoneStatInfo(model),
  };
}
