// Which id each node had (docs/recovery.md, rules `node-id`, `id-clash`, `zone-media`). A node's
// id is the raft peer id its partitions' groups know it by: the master must give it back, or the
// node's raft server would start under a new id its peers never heard of. Nodes do not report
// their own id, but every partition report lists its peers as {id, addr}, the node itself
// included; a node that restarted during the outage is named by its peers' partitions, or by
// the operator (`--node-ids`, read from the nodes' partition files).

import type { ModelView, RecoveryNodeIdHint } from '../../model/index.js';
import { dataNodeByAddr, DEFAULT_ZONE_NAME, MediaType, metaNodeByAddr } from '../../model/index.js';
import type { ReplicaPeer } from '../../nodes/task-requests.js';
import type { CensusRegistration, CensusSnapshot, NodeKind } from './census.js';
import type { Findings } from './findings.js';
import { RULE } from './findings.js';

export interface NodeIdentity {
  readonly kind: NodeKind;
  readonly addr: string;
  readonly id: number;
  readonly zoneName: string;
  readonly heartbeatPort: string;
  readonly replicaPort: string;
  /** Data nodes: the zone's media (1 SSD, 2 HDD); meta nodes 0. */
  readonly mediaType: MediaType;
  /** Already a node of the model (a later round): nothing to adopt. */
  readonly existing: boolean;
  readonly reported: boolean;
}

interface Claims {
  readonly self: Map<number, number>;
  readonly peers: Map<number, number>;
  hint: number | null;
  /** Raft ports as a peer entry gave them (the node's own entry first). */
  ports: { heartbeatPort: string; replicaPort: string } | null;
}

export const nodeKey = (kind: NodeKind, addr: string): string => `${kind}/${addr}`;

function bump(m: Map<number, number>, id: number): void {
  m.set(id, (m.get(id) ?? 0) + 1);
}

/** The id with the most votes; a tie goes to the lowest id (deterministic). */
function top(m: ReadonlyMap<number, number>): number | null {
  let best: number | null = null;
  let votes = 0;
  for (const [id, n] of [...m].sort((a, b) => a[0] - b[0])) {
    if (n > votes) {
      best = id;
      votes = n;
    }
  }
  return best;
}

function total(c: Claims): number {
  let n = c.hint === null ? 0 : 1;
  for (const v of c.self.values()) n += v;
  for (const v of c.peers.values()) n += v;
  return n;
}

export interface IdentityOptions {
  readonly hints: readonly RecoveryNodeIdHint[];
  readonly legacyDataMediaType: number;
}

/**
 * Every node the census knows of with an id (adopted or already in the model), keyed by
 * `kind/addr`. Nodes whose id cannot be told are left out with a finding.
 */
export function decideNodeIdentities(model: ModelView, census: CensusSnapshot, o: IdentityOptions, findings: Findings): Map<string, NodeIdentity> {
  const claims = new Map<string, Claims>();
  const claimsOf = (kind: NodeKind, addr: string): Claims => {
    const key = nodeKey(kind, addr);
    let c = claims.get(key);
    if (c === undefined) {
      c = { self: new Map(), peers: new Map(), hint: null, ports: null };
      claims.set(key, c);
    }
    return c;
  };
  const takePeers = (kind: NodeKind, reporter: string, peers: readonly ReplicaPeer[]): void => {
    for (const p of peers) {
      const c = claimsOf(kind, p.addr);
      const self = p.addr === reporter;
      bump(self ? c.self : c.peers, p.id);
      if (c.ports === null || self) c.ports = { heartbeatPort: p.heartbeatPort, replicaPort: p.replicaPort };
    }
  };
  for (const { addr, report } of census.metaReports) {
    claimsOf('meta', addr);
    for (const p of report.metaPartitions) takePeers('meta', addr, p.localPeers);
  }
  for (const { addr, report } of census.dataReports) {
    claimsOf('data', addr);
    for (const p of report.dataPartitions) takePeers('data', addr, p.localPeers);
  }
  const registrations = new Map(census.registrations.map((r) => [nodeKey(r.kind, r.addr), r]));
  for (const r of census.registrations) claimsOf(r.kind, r.addr);
  for (const h of o.hints) {
    // A hint names an addr; it holds for the kind of node known there (from a report, a
    // registration, or the listing). Of unknown kind it cannot be used.
    const known = (['meta', 'data'] as const).filter((k) => claims.has(nodeKey(k, h.addr)));
    const kinds = known.length > 0 ? known : (['meta', 'data'] as const).filter((k) => census.listed.some((t) => t.addr === h.addr && t.kind === k));
    if (kinds.length === 0) findings.add('notAdopted', `node ${h.addr}`, `--node-ids names it (id ${h.id}), but nothing tells whether it is a meta or a data node: list it as meta:${h.addr} or data:${h.addr}`, RULE.nodeId);
    for (const k of kinds) claimsOf(k, h.addr).hint = h.id;
  }

  // Step 1: one id per node. Its own partitions decide, then the hint, then its peers.
  const chosen = new Map<string, { kind: NodeKind; addr: string; id: number; strength: number; existing: boolean }>();
  for (const [key, c] of [...claims].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const [kind, addr] = splitKey(key);
    const inModel = kind === 'meta' ? metaNodeByAddr(model, addr) : dataNodeByAddr(model, addr);
    const claimed = new Set([...c.self.keys(), ...c.peers.keys(), ...(c.hint === null ? [] : [c.hint])]);
    if (inModel !== undefined) {
      if ([...claimed].some((id) => id !== inModel.id)) {
        findings.add('conflict', `${kind} node ${addr}`, `registered with id ${inModel.id}; reports name it ${[...claimed].join(', ')}: the registered id stays`, RULE.nodeId);
      }
      chosen.set(key, { kind, addr, id: inModel.id, strength: Number.MAX_SAFE_INTEGER, existing: true });
      continue;
    }
    const id = top(c.self) ?? c.hint ?? top(c.peers);
    if (id === null) {
      const registering = registrations.has(key);
      findings.add(
        'notAdopted',
        `${kind} node ${addr}`,
        registering
          ? 'restarted while no master was up and asked to register; no partition names it and no --node-ids hint gives its id: it registers as a new node once the recovery finished. If it holds partitions, stop it and run another round with its id in --node-ids'
          : 'reported no partition and no peer names it: its id is unknown. It keeps running without a master; restart it to register it again (it holds no data)',
        RULE.nodeId,
      );
      continue;
    }
    if (claimed.size > 1) {
      findings.add('conflict', `${kind} node ${addr}`, `named by ids ${[...claimed].sort((a, b) => a - b).join(', ')}; took ${id}`, RULE.nodeId);
    }
    chosen.set(key, { kind, addr, id, strength: total(c) + (c.self.size > 0 ? 1_000_000 : 0), existing: false });
  }

  // Step 2: an id names one node. The model's nodes keep theirs; otherwise the node whose own
  // partitions claim it, then the one with more claims, then the lower addr.
  const held = new Map<number, string>();
  for (const s of model.nodeSets.values()) held.set(s.id, `node set ${s.id}`);
  for (const v of model.vols.values()) held.set(v.id, `vol ${v.name}`);
  for (const i of model.volIntents.values()) held.set(i.vol.id, `vol create ${i.vol.name}`);
  for (const n of model.metaNodes.values()) held.set(n.id, `meta node ${n.addr}`);
  for (const n of model.dataNodes.values()) held.set(n.id, `data node ${n.addr}`);
  const byId = new Map<number, { key: string; strength: number; addr: string }[]>();
  for (const [key, c] of chosen) byId.set(c.id, [...(byId.get(c.id) ?? []), { key, strength: c.strength, addr: c.addr }]);
  for (const [id, holders] of byId) {
    const ranked = holders.sort((a, b) => b.strength - a.strength || (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
    const losers = held.has(id) ? ranked : ranked.slice(1);
    for (const loser of losers) {
      const c = chosen.get(loser.key);
      if (c === undefined || c.existing) continue;
      chosen.delete(loser.key);
      const winner = held.get(id) ?? ranked[0].key;
      findings.add('conflict', `${c.kind} node ${c.addr}`, `id ${id} is also claimed by ${winner}: this node is not adopted (its partitions are left alone)`, RULE.idClash);
    }
  }

  // Step 3: attributes. Zone from the node's report, else its registration, else "default".
  const zoneOf = new Map<string, string>();
  for (const { addr, report } of census.metaReports) zoneOf.set(nodeKey('meta', addr), report.zoneName === '' ? DEFAULT_ZONE_NAME : report.zoneName);
  for (const { addr, report } of census.dataReports) zoneOf.set(nodeKey('data', addr), report.zoneName === '' ? DEFAULT_ZONE_NAME : report.zoneName);
  const zoneMedia = decideZoneMedia(model, chosen, zoneOf, registrations, o.legacyDataMediaType, findings);
  const out = new Map<string, NodeIdentity>();
  for (const [key, c] of chosen) {
    const reg = registrations.get(key);
    const claimsC = claims.get(key);
    let zoneName = zoneOf.get(key) ?? (reg === undefined ? undefined : reg.zoneName === '' ? DEFAULT_ZONE_NAME : reg.zoneName);
    if (zoneName === undefined) {
      zoneName = DEFAULT_ZONE_NAME;
      if (!c.existing) findings.add('guess', `${c.kind} node ${c.addr}`, `never reported: zone unknown, put in "${DEFAULT_ZONE_NAME}"`, RULE.zoneMedia);
    }
    const existing = c.kind === 'meta' ? metaNodeByAddr(model, c.addr) : dataNodeByAddr(model, c.addr);
    out.set(key, {
      kind: c.kind,
      addr: c.addr,
      id: c.id,
      zoneName: existing?.zoneName ?? zoneName,
      heartbeatPort: reg?.heartbeatPort ?? claimsC?.ports?.heartbeatPort ?? '',
      replicaPort: reg?.replicaPort ?? claimsC?.ports?.replicaPort ?? '',
      mediaType: c.kind === 'meta' ? MediaType.Unspecified : (zoneMedia.get(existing?.zoneName ?? zoneName) ?? MediaType.SSD),
      existing: c.existing,
      reported: zoneOf.has(key),
    });
  }
  return out;
}

function splitKey(key: string): [NodeKind, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash) as NodeKind, key.slice(slash + 1)];
}

/**
 * A zone serves one data media (spec 1.5). Heartbeats do not carry it, registrations do: the
 * zone's media is the model's when fixed, else the one most registering data nodes of the zone
 * named, else the config's legacyDataMediaType, else SSD (a guess).
 */
function decideZoneMedia(
  model: ModelView,
  chosen: ReadonlyMap<string, { kind: NodeKind; existing: boolean }>,
  zoneOf: Map<string, string>,
  registrations: ReadonlyMap<string, CensusRegistration>,
  legacyDataMediaType: number,
  findings: Findings,
): Map<string, MediaType> {
  const votes = new Map<string, Map<number, number>>();
  const zones = new Set<string>();
  for (const [key, c] of chosen) {
    if (c.kind !== 'data' || c.existing) continue;
    const reg = registrations.get(key);
    const zone = zoneOf.get(key) ?? (reg === undefined || reg.zoneName === '' ? DEFAULT_ZONE_NAME : reg.zoneName);
    zones.add(zone);
    if (reg !== undefined && (reg.mediaType === MediaType.SSD || reg.mediaType === MediaType.HDD)) {
      const v = votes.get(zone) ?? new Map<number, number>();
      v.set(reg.mediaType, (v.get(reg.mediaType) ?? 0) + 1);
      votes.set(zone, v);
    }
  }
  const out = new Map<string, MediaType>();
  for (const zone of [...zones].sort()) {
    const fixed = model.zones.get(zone)?.dataMediaType ?? MediaType.Unspecified;
    const voted = votes.get(zone);
    let media: MediaType;
    if (fixed !== MediaType.Unspecified) media = fixed;
    else if (voted !== undefined) media = (top(voted) ?? MediaType.SSD) as MediaType;
    else if (legacyDataMediaType === MediaType.SSD || legacyDataMediaType === MediaType.HDD) media = legacyDataMediaType;
    else {
      media = MediaType.SSD;
      findings.add('guess', `zone ${zone}`, 'data nodes do not report their media type: SSD assumed (set legacyDataMediaType in master.json to say otherwise before recovering)', RULE.zoneMedia);
    }
    if (voted !== undefined && voted.size > 1) {
      findings.add('conflict', `zone ${zone}`, `data nodes registered with media ${[...voted.keys()].join(' and ')}: the zone serves ${media}`, RULE.zoneMedia);
    }
    out.set(zone, media);
  }
  return out;
}
