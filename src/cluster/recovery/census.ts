// What a recovery round learns from the nodes while it collects (docs/recovery.md): the latest
// heartbeat report of every node that answers, the nodes that try to register (they restarted
// while no master was up, and wait), and the targets still to hear from: the listed addresses
// and every peer a report names (so the operator needs to list one node per group, not all).
// Leader-local and volatile: a new leader starts a new census. Bounded by `nodesMax`.

import type { DataNodeHeartbeatReport, MetaNodeHeartbeatReport } from '../../nodes/heartbeat-report.js';
import type { RecoveryNodeTarget } from '../../model/index.js';

export type NodeKind = 'meta' | 'data';

/** A node that asked to register (`/metaNode/add`, `/dataNode/add`) while the round collected. */
export interface CensusRegistration {
  readonly kind: NodeKind;
  readonly addr: string;
  /** As the node sent it ('' = default). */
  readonly zoneName: string;
  readonly heartbeatPort: string;
  readonly replicaPort: string;
  /** Data nodes: 1 SSD, 2 HDD; 0 = not said (meta nodes). */
  readonly mediaType: number;
}

export interface CensusMetaReport {
  readonly addr: string;
  readonly report: MetaNodeHeartbeatReport;
}

export interface CensusDataReport {
  readonly addr: string;
  readonly report: DataNodeHeartbeatReport;
}

/** Everything the planner reads, in a stable order (by addr). */
export interface CensusSnapshot {
  readonly listed: readonly RecoveryNodeTarget[];
  readonly metaReports: readonly CensusMetaReport[];
  readonly dataReports: readonly CensusDataReport[];
  readonly registrations: readonly CensusRegistration[];
  /** Targets that never answered (kind 'any' when nothing told their kind). */
  readonly silent: readonly RecoveryNodeTarget[];
}

export interface CensusTarget {
  readonly addr: string;
  readonly kind: NodeKind | 'any';
}

export const CENSUS_NODES_MAX = 100_000;

const byAddr = <T extends { readonly addr: string }>(a: T, b: T): number => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0);

export class RecoveryCensus {
  private readonly targets = new Map<string, NodeKind | 'any'>();
  private readonly meta = new Map<string, MetaNodeHeartbeatReport>();
  private readonly data = new Map<string, DataNodeHeartbeatReport>();
  private readonly registrations = new Map<string, CensusRegistration>();
  /** Addresses dropped because the census was full (logged by the owner). */
  dropped = 0;

  constructor(
    private readonly listed: readonly RecoveryNodeTarget[],
    private readonly nodesMax = CENSUS_NODES_MAX,
  ) {
    for (const t of listed) this.addTarget(t.addr, t.kind);
  }

  /** Adds a node to hear from; a known kind replaces 'any'. */
  addTarget(addr: string, kind: NodeKind | 'any'): void {
    const known = this.targets.get(addr);
    if (known === undefined) {
      if (this.targets.size >= this.nodesMax) {
        this.dropped++;
        return;
      }
      this.targets.set(addr, kind);
    } else if (known === 'any' && kind !== 'any') {
      this.targets.set(addr, kind);
    }
  }

  takeMetaReport(addr: string, report: MetaNodeHeartbeatReport): void {
    if (this.admit(addr, 'meta')) this.meta.set(addr, report);
    for (const p of report.metaPartitions) for (const peer of p.localPeers) this.addTarget(peer.addr, 'meta');
  }

  takeDataReport(addr: string, report: DataNodeHeartbeatReport): void {
    if (this.admit(addr, 'data')) this.data.set(addr, report);
    for (const p of report.dataPartitions) for (const peer of p.localPeers) this.addTarget(peer.addr, 'data');
  }

  /** The reporting node becomes a target of its kind; false when the census is full. */
  private admit(addr: string, kind: NodeKind): boolean {
    if (!this.targets.has(addr) && this.targets.size >= this.nodesMax) {
      this.dropped++;
      return false;
    }
    this.targets.set(addr, kind);
    return true;
  }

  /** A node that restarted and waits to register; it cannot report before it is registered. */
  noteRegistration(r: CensusRegistration): void {
    if (!this.registrations.has(r.addr) && this.registrations.size >= this.nodesMax) {
      this.dropped++;
      return;
    }
    this.registrations.set(r.addr, r);
  }

  hasReported(addr: string): boolean {
    return this.meta.has(addr) || this.data.has(addr);
  }

  /** Targets without a report yet, by addr. A registering node is not waited for: it cannot answer. */
  pending(): CensusTarget[] {
    const out: CensusTarget[] = [];
    for (const [addr, kind] of this.targets) {
      if (!this.hasReported(addr) && !this.registrations.has(addr)) out.push({ addr, kind });
    }
    return out.sort(byAddr);
  }

  /** Every target, reported or not, by addr (heartbeats keep going to all of them). */
  allTargets(): CensusTarget[] {
    return [...this.targets].map(([addr, kind]) => ({ addr, kind })).sort(byAddr);
  }

  get reportedCount(): number {
    return this.meta.size + this.data.size;
  }

  snapshot(): CensusSnapshot {
    return {
      listed: this.listed,
      metaReports: [...this.meta].map(([addr, report]) => ({ addr, report })).sort(byAddr),
      dataReports: [...this.data].map(([addr, report]) => ({ addr, report })).sort(byAddr),
      registrations: [...this.registrations.values()].sort(byAddr),
      silent: this.pending().map((t) => ({ addr: t.addr, kind: t.kind })),
    };
  }
}
