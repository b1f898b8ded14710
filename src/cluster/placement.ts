// Placement: which nodes host the replicas of new meta and data partitions (spec 3 "Partition
// placement: zones -> nodesets -> nodes"; spec 1.5 createVol and /dataPartition/create; spec 3.2;
// spec 6 for liveness). The leader decides placement from the model and the live heartbeat data
// before it proposes, so the command carries the result and apply stays deterministic
// (ARCHITECTURE.md, "A change of state flows one way"). These functions are pure: no clock
// (`monoNowMs` is an input; it decides eligibility only and never enters the command), no
// randomness, no I/O, nothing written; the same model and request give the same answer,
// whatever the insertion order of the model's maps.
//
// Rules.
// 1. Eligible node: registered (a record in the model), its live state `isActive` and
//    `isWritable`, its last heartbeat at most HEARTBEAT_TIMEOUT_MS before `monoNowMs` on this
//    member's monotonic clock (spec 6: a node silent for more than 18 s is inactive; we do not
//    wait for the next 6 s check; monotonic so that a wall-clock step changes nothing), not
//    `rdOnly`, for data nodes not `toBeOffline` (being decommissioned), and holding fewer
//    replicas than the cluster's `maxMpCntLimit` / `maxDpCntLimit` (0 = the CubeFS defaults
//    300 / 3000). Meta nodes: memory `ratio` below `threshold`, where threshold 0 means not
//    reported and does not exclude. Data nodes: `availableSpace` at least `partitionSizeBytes`
//    per replica placed on it in this call. Before its first heartbeat a node shows the defaults
//    of live.ts (isActive false), so it is never eligible; once active it has reported its
//    capacity, so the space check always applies (a node reporting 0 bytes gets nothing).
// 2. Zones: `zoneNames` (empty = every zone) must each exist, else 52 ZoneNotExists. Data
//    partitions only go to zones whose `dataMediaType` is the requested media (0 = any; with
//    crossZone and media 0, the media with more eligible nodes, SSD on a tie, so one partition
//    never mixes media). No candidate zone holding a registered node of the kind (and media) ->
//    27 / 51 NoZoneToCreate{Data,Meta}Partition.
// 3. Without crossZone, all replicas of a partition sit in ONE node set of ONE zone: a node set
//    qualifies while it holds >= replicaNum eligible nodes (the CubeFS nodeset rule, docs
//    "dp/mp distribution in NodeSet": a 3-replica partition picks a node set with >= 3 available
//    nodes). With crossZone, the replicas spread over z = min(3, replicaNum, zones with an
//    eligible node) zones, decided once per call (CubeFS decides the zone count per vol); zone i
//    gets floor(replicaNum / z) replicas, the first replicaNum % z zones one more, and each
//    zone's share comes from one node set of that zone.
// 4. Replicas of one partition are on distinct nodes (zones and node sets are disjoint; within a
//    node set the nodes are taken from a heap without repetition).
// 5. Load = replica count of the node in the model index (`replicasByMetaNode` /
//    `replicasByDataNode`) plus the replicas placed earlier in the same call. Nodes: least
//    loaded first, ties by node id. Node sets (and, with crossZone, zones): the one whose
//    eligible nodes would carry the lowest mean load after taking the partition, ties by id
//    (zones by name). On equal node sets this is CubeFS's RoundRobin nodeset selector (each
//    partition starts from the node set after the previous one, spec 3 selectors): a set that
//    just took a partition is heavier than the others until they took one too. Unlike a plain
//    cursor it needs no state kept between calls and it weighs node sets by their size, so a
//    zone of 100 nodes in sets of 18 (5 x 18 + 10) does not load the 10 nodes 1.8 times more.
// 6. Failures, all or nothing (no partial answer): fewer eligible nodes in the candidate zones
//    than replicaNum -> 26 / 30 NoDataNodeToCreateDataPartition / NoMetaNodeToCreateMetaPartition;
//    enough nodes but no node set (or zone share) that can take a partition -> 28 / 29
//    NoNodeSetToCreate{Data,Meta}Partition. Checked again for every partition of the batch, as
//    nodes reach their limits.
// Cost: O(N) to read the nodes, then O(replicaNum * log N + log S) per partition (binary heaps of
// nodes per node set, of node sets, of zones); no sort per partition.

import { ClusterNotBootstrappedError, dataNodeLive, MediaType, metaNodeLive, type ModelView, type PartitionPeer } from '../model/index.js';
import { assert } from '../util/assert.js';
import { CubeCode, OperatingError, ParamError } from '../util/errors.js';

/** A node whose last heartbeat is older than this is not eligible (spec 6: 3 x 6 s). */
export const HEARTBEAT_TIMEOUT_MS = 18_000;
/** Bound on one call (createVol holds at most 200 dps, /dataPartition/create 200). */
export const PLACEMENT_COUNT_MAX = 100_000;
/** As the command decoder's MAX_REPLICAS. */
export const PLACEMENT_REPLICA_NUM_MAX = 16;
/** crossZone spreads a partition over at most this many zones (spec 3: 1..3 per vol). */
export const CROSS_ZONE_ZONES_MAX = 3;
/** CubeFS defaults used when the cluster's limit is 0 (spec 1.5 getNodeInfo). */
export const DEFAULT_MAX_MP_CNT_LIMIT = 300;
export const DEFAULT_MAX_DP_CNT_LIMIT = 3000;

export interface PlacementRequest {
  /** Partitions to place. */
  readonly count: number;
  /** Replicas per partition. */
  readonly replicaNum: number;
  /** Zones allowed; [] = any zone. */
  readonly zoneNames: readonly string[];
  readonly crossZone: boolean;
  /** The proposer's monotonic ms (Clock.monoMs), for heartbeat freshness against reportMonoMs. */
  readonly monoNowMs: number;
}

export interface DataPlacementRequest extends PlacementRequest {
  /** 1 SSD, 2 HDD; 0 = any. */
  readonly mediaType: number;
  readonly partitionSizeBytes: bigint;
}

export type PlacementKind = 'meta' | 'data';
export type PlacementFailure = 'zoneNotExists' | 'noZone' | 'noNodeSet' | 'noNode';

const CODES: Readonly<Record<PlacementKind, Readonly<Record<PlacementFailure, number>>>> = {
  meta: {
    zoneNotExists: CubeCode.ZoneNotExists,
    noZone: CubeCode.NoZoneToCreateMetaPartition,
    noNodeSet: CubeCode.NoNodeSetToCreateMetaPartition,
    noNode: CubeCode.NoMetaNodeToCreateMetaPartition,
  },
  data: {
    zoneNotExists: CubeCode.ZoneNotExists,
    noZone: CubeCode.NoZoneToCreateDataPartition,
    noNodeSet: CubeCode.NoNodeSetToCreateDataPartition,
    noNode: CubeCode.NoDataNodeToCreateDataPartition,
  },
};

// The canonical texts of proto/errors.go: the Go SDK prints its own text for these codes.
const MESSAGES: Readonly<Record<PlacementKind, Readonly<Record<PlacementFailure, string>>>> = {
  meta: {
    zoneNotExists: 'zone not exists',
    noZone: 'no zone available for creating a meta partition',
    noNodeSet: 'no node set available for creating a meta partition',
    noNode: 'no enough meta nodes for creating a meta partition',
  },
  data: {
    zoneNotExists: 'zone not exists',
    noZone: 'no zone available for creating a data partition',
    noNodeSet: 'no node set available for creating a data partition',
    noNode: 'no enough data nodes for creating a data partition',
  },
};

/** No placement: `code` is the CubeFS code, `detail` says why (for logs), `zoneName` for 52. */
export class PlacementError extends OperatingError {
  constructor(
    readonly kind: PlacementKind,
    readonly failure: PlacementFailure,
    readonly detail: string,
    readonly zoneName = '',
  ) {
    super(CODES[kind][failure], MESSAGES[kind][failure]);
  }
}

/** Hosts for `count` new meta partitions of `replicaNum` replicas each. */
export function placeMetaPartitions(model: ModelView, req: PlacementRequest): PartitionPeer[][] {
  checkRequest(req);
  const limit = partitionLimit(model, 'meta');
  const zones = candidateZones(model, 'meta', req.zoneNames, () => true);
  const candidates: Candidate[] = [];
  for (const zone of zones) {
    for (const setId of model.index.nodeSetsByZone.get(zone) ?? []) {
      for (const id of model.index.nodeSetMembers.get(setId)?.meta ?? []) {
        const node = model.metaNodes.get(id);
        if (node === undefined) continue;
        const live = metaNodeLive(model, id);
        const load = model.index.replicasByMetaNode.get(id) ?? 0;
        const eligible =
          live.isActive &&
          live.isWritable &&
          fresh(live.reportMonoMs, req.monoNowMs) &&
          !node.rdOnly &&
          (live.threshold <= 0 || live.ratio < live.threshold) &&
          load < limit;
        candidates.push({ zone, setId, id, addr: node.addr, load, capLeft: eligible ? limit - load : 0, media: MediaType.Unspecified });
      }
    }
  }
  return place('meta', req, candidates);
}

/** Hosts for `count` new data partitions of `replicaNum` replicas, `partitionSizeBytes` each. */
export function placeDataPartitions(model: ModelView, req: DataPlacementRequest): PartitionPeer[][] {
  checkRequest(req);
  if (req.mediaType !== MediaType.Unspecified && req.mediaType !== MediaType.SSD && req.mediaType !== MediaType.HDD) {
    throw new ParamError('mediaType', `mediaType must be 0, 1 or 2, not ${req.mediaType}`);
  }
  if (req.partitionSizeBytes < 0n) throw new ParamError('partitionSizeBytes', 'partitionSizeBytes must not be negative');
  const limit = partitionLimit(model, 'data');
  const zones = candidateZones(model, 'data', req.zoneNames, (name) => {
    const media = model.zones.get(name)?.dataMediaType ?? MediaType.Unspecified;
    return media !== MediaType.Unspecified && (req.mediaType === MediaType.Unspecified || media === req.mediaType);
  });
  const candidates: Candidate[] = [];
  for (const zone of zones) {
    for (const setId of model.index.nodeSetsByZone.get(zone) ?? []) {
      for (const id of model.index.nodeSetMembers.get(setId)?.data ?? []) {
        const node = model.dataNodes.get(id);
        if (node === undefined) continue;
        const live = dataNodeLive(model, node);
        const load = model.index.replicasByDataNode.get(id) ?? 0;
        let capLeft = 0;
        if (live.isActive && live.isWritable && fresh(live.reportMonoMs, req.monoNowMs) && !node.rdOnly && !node.toBeOffline) {
          capLeft = Math.max(0, limit - load);
          if (req.partitionSizeBytes > 0n) {
            // How many more partitions of this size fit in the space the node reported.
            const fits = wholeBytes(live.availableSpace) / req.partitionSizeBytes;
            if (fits < BigInt(capLeft)) capLeft = Number(fits);
          }
        }
        candidates.push({ zone, setId, id, addr: node.addr, load, capLeft, media: node.mediaType });
      }
    }
  }
  return place('data', req, candidates);
}

// ---------------------------------------------------------------------------------------------

/** One registered node of a candidate zone; capLeft 0 = not eligible. */
interface Candidate {
  readonly zone: string;
  readonly setId: number;
  readonly id: number;
  readonly addr: string;
  readonly load: number;
  /** Replicas it may still take in this call (limit and space); 0 = not eligible. */
  readonly capLeft: number;
  readonly media: number;
}

interface NodeSlot {
  readonly id: number;
  readonly addr: string;
  load: number;
  capLeft: number;
}

interface SetSlot {
  readonly id: number;
  readonly zone: ZoneSlot;
  readonly nodes: Heap<NodeSlot>;
  /** Sum of the loads of the eligible nodes in `nodes`. */
  load: number;
}

interface ZoneSlot {
  readonly name: string;
  /** Node sets with at least one eligible node (crossZone only). */
  readonly sets: Heap<SetSlot> | null;
  eligible: number;
  load: number;
}

function checkRequest(req: PlacementRequest): void {
  if (!Number.isSafeInteger(req.count) || req.count < 0 || req.count > PLACEMENT_COUNT_MAX) {
    throw new ParamError('count', `count must be an integer in [0, ${PLACEMENT_COUNT_MAX}]`);
  }
  if (!Number.isSafeInteger(req.replicaNum) || req.replicaNum < 1 || req.replicaNum > PLACEMENT_REPLICA_NUM_MAX) {
    throw new ParamError('replicaNum', `replicaNum must be an integer in [1, ${PLACEMENT_REPLICA_NUM_MAX}]`);
  }
  if (!Number.isFinite(req.monoNowMs)) throw new ParamError('monoNowMs', 'monoNowMs must be a finite number');
}

function partitionLimit(model: ModelView, kind: PlacementKind): number {
  const cluster = model.cluster;
  if (cluster === null) throw new ClusterNotBootstrappedError();
  const configured = kind === 'meta' ? cluster.maxMpCntLimit : cluster.maxDpCntLimit;
  return configured > 0 ? configured : kind === 'meta' ? DEFAULT_MAX_MP_CNT_LIMIT : DEFAULT_MAX_DP_CNT_LIMIT;
}

/** A reported byte count as an exact bigint (NaN and negatives count as 0). */
function wholeBytes(bytes: number): bigint {
  return Number.isFinite(bytes) && bytes > 0 ? BigInt(Math.floor(bytes)) : 0n;
}

function fresh(reportMonoMs: number, monoNowMs: number): boolean {
  return monoNowMs - reportMonoMs <= HEARTBEAT_TIMEOUT_MS;
}

/** The zones named (each must exist) or every zone, keeping those `accept` takes; ascending. */
function candidateZones(model: ModelView, kind: PlacementKind, zoneNames: readonly string[], accept: (name: string) => boolean): string[] {
  const named = [...new Set(zoneNames.filter((z) => z !== ''))];
  for (const z of named) {
    if (!model.zones.has(z)) throw new PlacementError(kind, 'zoneNotExists', `zone ${z} does not exist`, z);
  }
  const all = named.length > 0 ? named : [...model.zones.keys()];
  return all.filter(accept).sort(compareStrings);
}

function place(kind: PlacementKind, req: PlacementRequest, all: readonly Candidate[]): PartitionPeer[][] {
  if (all.length === 0) {
    throw new PlacementError(kind, 'noZone', `no zone of ${describeZones(req)} holds a registered ${kind} node${mediaText(req)}`);
  }
  if (req.count === 0) return [];
  let candidates = all;
  if (req.crossZone && kind === 'data' && (req as DataPlacementRequest).mediaType === MediaType.Unspecified) {
    candidates = oneMedia(all);
  }
  return req.crossZone ? placeCrossZone(kind, req, candidates) : placeInNodeSets(kind, req, candidates);
}

/** Media 0 with crossZone: keep the media with more eligible nodes (SSD on a tie). */
function oneMedia(all: readonly Candidate[]): Candidate[] {
  let ssd = 0;
  let hdd = 0;
  for (const c of all) {
    if (c.capLeft <= 0) continue;
    if (c.media === MediaType.SSD) ssd += 1;
    else hdd += 1;
  }
  const media = ssd >= hdd ? MediaType.SSD : MediaType.HDD;
  return all.filter((c) => c.media === media);
}

/** Builds the zone and node set slots; only eligible nodes enter the heaps. */
function buildSlots(candidates: readonly Candidate[], withZoneHeaps: boolean, setKeyShare: number): { zones: ZoneSlot[]; sets: SetSlot[] } {
  const zones = new Map<string, ZoneSlot>();
  const setNodes = new Map<number, { zone: ZoneSlot; nodes: NodeSlot[] }>();
  for (const c of candidates) {
    if (c.capLeft <= 0) continue;
    let zone = zones.get(c.zone);
    if (zone === undefined) {
      zone = { name: c.zone, sets: withZoneHeaps ? new Heap<SetSlot>(setOrder(setKeyShare)) : null, eligible: 0, load: 0 };
      zones.set(c.zone, zone);
    }
    let set = setNodes.get(c.setId);
    if (set === undefined) {
      set = { zone, nodes: [] };
      setNodes.set(c.setId, set);
    }
    set.nodes.push({ id: c.id, addr: c.addr, load: c.load, capLeft: c.capLeft });
    zone.eligible += 1;
    zone.load += c.load;
  }
  const sets: SetSlot[] = [];
  for (const [id, { zone, nodes }] of setNodes) {
    const slot: SetSlot = { id, zone, nodes: new Heap(nodeOrder, nodes), load: nodes.reduce((sum, n) => sum + n.load, 0) };
    sets.push(slot);
    zone.sets?.push(slot);
  }
  return { zones: [...zones.values()], sets };
}

/** Without crossZone: every partition in one node set with >= replicaNum eligible nodes. */
function placeInNodeSets(kind: PlacementKind, req: PlacementRequest, candidates: readonly Candidate[]): PartitionPeer[][] {
  const r = req.replicaNum;
  const { zones, sets } = buildSlots(candidates, false, r);
  const pool = new Heap<SetSlot>(setOrder(r), sets.filter((s) => s.nodes.size >= r));
  const out: PartitionPeer[][] = [];
  for (let i = 0; i < req.count; i++) {
    const set = pool.pop();
    if (set === undefined) throw failure(kind, req, zones, i);
    out.push(takeNodes(set, r));
    // Eligibility only shrinks within a call: a set below r eligible nodes is done for good.
    if (set.nodes.size >= r) pool.push(set);
  }
  return out;
}

/** With crossZone: z zones per partition, each zone's share from one of its node sets. */
function placeCrossZone(kind: PlacementKind, req: PlacementRequest, candidates: readonly Candidate[]): PartitionPeer[][] {
  const r = req.replicaNum;
  const zonesWithEligible = new Set(candidates.filter((c) => c.capLeft > 0).map((c) => c.zone)).size;
  const z = Math.min(CROSS_ZONE_ZONES_MAX, r, zonesWithEligible);
  const base = Math.floor(r / Math.max(z, 1));
  const shares = { big: z === 0 ? 0 : r % z, small: z === 0 ? 0 : z - (r % z) };
  const { zones } = buildSlots(candidates, true, base + (shares.big > 0 ? 1 : 0));
  const heap = new Heap<ZoneSlot>(zoneOrder, zones);
  const out: PartitionPeer[][] = [];
  const popped: ZoneSlot[] = [];
  for (let i = 0; i < req.count; i++) {
    if (z === 0) throw failure(kind, req, zones, i);
    let big = shares.big;
    let small = shares.small;
    const peers: PartitionPeer[] = [];
    popped.length = 0;
    while (big + small > 0) {
      const zone = heap.pop();
      if (zone === undefined) break;
      popped.push(zone);
      if (big > 0) {
        const got = takeInZone(zone, base + 1);
        if (got !== null) {
          peers.push(...got);
          big -= 1;
          continue;
        }
      }
      if (small > 0) {
        const got = takeInZone(zone, base);
        if (got !== null) {
          peers.push(...got);
          small -= 1;
        }
      }
    }
    for (const zone of popped) if (zone.eligible > 0) heap.push(zone);
    if (big + small > 0) throw failure(kind, req, zones, i);
    assert(peers.length === r, 'a cross-zone partition got the wrong replica count');
    out.push(peers);
  }
  return out;
}

/** `k` nodes from one node set of `zone` (the lightest that has k), or null. */
function takeInZone(zone: ZoneSlot, k: number): PartitionPeer[] | null {
  const sets = zone.sets;
  assert(sets !== null, 'a cross-zone zone without its node set heap');
  const aside: SetSlot[] = [];
  let chosen: SetSlot | undefined;
  for (;;) {
    const set = sets.pop();
    if (set === undefined) break;
    if (set.nodes.size >= k) {
      chosen = set;
      break;
    }
    aside.push(set);
  }
  let peers: PartitionPeer[] | null = null;
  if (chosen !== undefined) {
    peers = takeNodes(chosen, k);
    aside.push(chosen);
  }
  for (const set of aside) if (set.nodes.size > 0) sets.push(set);
  return peers;
}

/** The `k` least-loaded nodes of `set` (ties by id); their loads and the aggregates move. */
function takeNodes(set: SetSlot, k: number): PartitionPeer[] {
  const taken: NodeSlot[] = [];
  for (let j = 0; j < k; j++) {
    const node = set.nodes.pop();
    assert(node !== undefined, 'a node set ran out of nodes it was counted to have');
    taken.push(node);
  }
  const zone = set.zone;
  const peers: PartitionPeer[] = [];
  for (const node of taken) {
    peers.push({ nodeId: node.id, addr: node.addr });
    node.load += 1;
    node.capLeft -= 1;
    if (node.capLeft > 0) {
      set.load += 1;
      zone.load += 1;
      set.nodes.push(node);
    } else {
      // Full: it leaves the heaps, and its load leaves the means.
      set.load -= node.load - 1;
      zone.load -= node.load - 1;
      zone.eligible -= 1;
    }
  }
  return peers;
}

function failure(kind: PlacementKind, req: PlacementRequest, zones: readonly ZoneSlot[], placed: number): PlacementError {
  const eligible = zones.reduce((sum, z) => sum + z.eligible, 0);
  const after = placed > 0 ? ` after ${placed} of ${req.count} partitions` : '';
  if (eligible < req.replicaNum) {
    return new PlacementError(kind, 'noNode', `${eligible} eligible ${kind} nodes in ${describeZones(req)}${mediaText(req)}, ${req.replicaNum} needed${after}`);
  }
  const shape = req.crossZone ? 'zone share' : 'node set';
  return new PlacementError(kind, 'noNodeSet', `no ${shape} of ${describeZones(req)}${mediaText(req)} has ${req.replicaNum} eligible ${kind} nodes${after}`);
}

function describeZones(req: PlacementRequest): string {
  const named = req.zoneNames.filter((z) => z !== '');
  return named.length === 0 ? 'any zone' : `zones [${named.join(',')}]`;
}

function mediaText(req: PlacementRequest): string {
  const media = (req as Partial<DataPlacementRequest>).mediaType;
  return media === undefined || media === MediaType.Unspecified ? '' : ` of media ${media}`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function nodeOrder(a: NodeSlot, b: NodeSlot): number {
  return a.load - b.load || a.id - b.id;
}

/** Lowest mean load after taking `share` replicas: (load + share) / eligible, compared exactly. */
function setOrder(share: number): (a: SetSlot, b: SetSlot) => number {
  return (a, b) => (a.load + share) * b.nodes.size - (b.load + share) * a.nodes.size || a.id - b.id;
}

function zoneOrder(a: ZoneSlot, b: ZoneSlot): number {
  return (a.load + 1) * b.eligible - (b.load + 1) * a.eligible || compareStrings(a.name, b.name);
}

/** A binary min-heap under `order` (a total order, so the result is independent of input order). */
class Heap<T> {
  private readonly items: T[];

  constructor(
    private readonly order: (a: T, b: T) => number,
    items: readonly T[] = [],
  ) {
    this.items = [...items];
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop() as T;
    if (items.length > 0) {
      items[0] = last;
      this.down(0);
    }
    return top;
  }

  private up(i: number): void {
    const items = this.items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.order(items[i], items[parent]) >= 0) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  private down(i: number): void {
    const items = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < items.length && this.order(items[l], items[m]) < 0) m = l;
      if (r < items.length && this.order(items[r], items[m]) < 0) m = r;
      if (m === i) return;
      [items[i], items[m]] = [items[m], items[i]];
      i = m;
    }
  }
}
