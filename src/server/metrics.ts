// Process, Raft, storage and domain metrics beside the API's request metrics (src/api/metrics.ts),
// on one /metrics registry per member. The series an operator alerts on (deploy/prometheus) and
// graphs (deploy/grafana) are listed in METRIC_NAMES; a test checks that every name the
// dashboard and the rules use is served by a running master.
//
// Three kinds of sources:
// - Node's defaults (CPU, memory, event-loop lag: what the election timeout must outlast);
// - events the driver and the state machine report as they happen (RaftMetrics implements the
//   driver's RaftObserver; histograms of fsync, apply, proposal and ReadIndex latency, batch
//   sizes, snapshot streams, store writes, scheduler passes);
// - values read at scrape time (Raft position, follower lag on the leader, transport counters,
//   counts of vols, partitions, users and nodes from the model, node liveness on the leader).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetadataFsm } from '../fsm/metadata-fsm.js';
import { NONE, StateRole, type NodeId } from '../raft/core/index.js';
import type { RaftNode } from '../raft/node.js';
import type { RaftObserver } from '../raft/observer.js';
import { REFUSAL_REASONS, refusalMetricName } from '../raft/transport/peer-refusals.js';
import type { TcpTransport } from '../raft/transport/tcp-transport.js';
import type { TransportMetricValues } from '../raft/transport/transport-context.js';
import type { DiskSpaceMonitor } from '../storage/disk-space.js';

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  return registry;
}

/** From 50 µs (a quiet page-cache write) to 10 s (a disk that stalls). */
const DISK_BUCKETS_SECONDS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];
/** From 100 µs (a read on an idle leader) to the 10 s proposal timeout and beyond. */
const LATENCY_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_BUCKETS = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384];
const SNAPSHOT_BUCKETS_SECONDS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** The events of the Raft driver and the state store, as Prometheus series. */
export class RaftMetrics implements RaftObserver {
  private readonly persistSeconds: Histogram;
  private readonly appendEntries: Histogram;
  private readonly appendBytes: Counter;
  private readonly applySeconds: Histogram;
  private readonly applyEntries: Histogram;
  private readonly proposalSeconds: Histogram<'result'>;
  private readonly readSeconds: Histogram<'result'>;
  private readonly snapshotSends: Histogram<'result'>;
  private readonly snapshotInstalls: Histogram;
  private readonly leaderChanges: Counter;
  private readonly storeWriteSeconds: Histogram;
  private readonly storeWriteOps: Histogram;
  private readonly schedulerPasses: Histogram<'loop' | 'result'>;
  // Bound children: an observe on the hot path then costs no label hashing.
  private readonly proposalOk;
  private readonly proposalFailed;
  private readonly readOk;
  private readonly readFailed;

  constructor(registry: Registry) {
    const registers = [registry];
    this.persistSeconds = new Histogram({ name: 'cubemaster_raft_log_persist_seconds', help: 'Writing one Ready to the Raft log and fdatasync-ing it (the group commit).', buckets: DISK_BUCKETS_SECONDS, registers });
    this.appendEntries = new Histogram({ name: 'cubemaster_raft_log_persist_entries', help: 'Entries made durable by one Raft log write (group commit batch size).', buckets: BATCH_BUCKETS, registers });
    this.appendBytes = new Counter({ name: 'cubemaster_raft_log_persisted_bytes_total', help: 'Entry payload bytes made durable in the Raft log.', registers });
    this.applySeconds = new Histogram({ name: 'cubemaster_raft_apply_seconds', help: 'Applying one batch of committed entries to the state machine (model and write-behind batch).', buckets: DISK_BUCKETS_SECONDS, registers });
    this.applyEntries = new Histogram({ name: 'cubemaster_raft_apply_entries', help: 'Committed entries applied by one call.', buckets: BATCH_BUCKETS, registers });
    this.proposalSeconds = new Histogram({ name: 'cubemaster_raft_proposal_seconds', help: 'From a proposal to its result on this member (commit and apply), by result.', labelNames: ['result'], buckets: LATENCY_BUCKETS_SECONDS, registers });
    this.readSeconds = new Histogram({ name: 'cubemaster_raft_read_index_seconds', help: 'A linearizable read barrier (ReadIndex round and apply wait), by result.', labelNames: ['result'], buckets: LATENCY_BUCKETS_SECONDS, registers });
    this.snapshotSends = new Histogram({ name: 'cubemaster_raft_snapshot_send_seconds', help: 'Snapshot streams to followers, by result.', labelNames: ['result'], buckets: SNAPSHOT_BUCKETS_SECONDS, registers });
    this.snapshotInstalls = new Histogram({ name: 'cubemaster_raft_snapshot_install_seconds', help: "Installing a leader's staged snapshot here.", buckets: SNAPSHOT_BUCKETS_SECONDS, registers });
    this.leaderChanges = new Counter({ name: 'cubemaster_raft_leader_changes_total', help: "Changes of this member's view of the leader (to another member or to none).", registers });
    this.storeWriteSeconds = new Histogram({ name: 'cubemaster_state_store_write_seconds', help: 'One RocksDB write of applied state (write-behind batch).', buckets: DISK_BUCKETS_SECONDS, registers });
    this.storeWriteOps = new Histogram({ name: 'cubemaster_state_store_write_ops', help: 'Puts and deletes in one RocksDB write of applied state.', buckets: BATCH_BUCKETS, registers });
    this.schedulerPasses = new Histogram({ name: 'cubemaster_scheduler_pass_seconds', help: 'Passes of the leader schedulers (heartbeat, liveness, cleanup, split, top-up, replica-health), by loop and result.', labelNames: ['loop', 'result'], buckets: LATENCY_BUCKETS_SECONDS, registers });
    this.proposalOk = this.proposalSeconds.labels('ok');
    this.proposalFailed = this.proposalSeconds.labels('error');
    this.readOk = this.readSeconds.labels('ok');
    this.readFailed = this.readSeconds.labels('error');
  }

  persisted(entries: number, bytes: number, seconds: number): void {
    this.persistSeconds.observe(seconds);
    this.appendEntries.observe(entries);
    this.appendBytes.inc(bytes);
  }

  applied(entries: number, seconds: number): void {
    this.applySeconds.observe(seconds);
    this.applyEntries.observe(entries);
  }

  proposalSettled(seconds: number, ok: boolean): void {
    (ok ? this.proposalOk : this.proposalFailed).observe(seconds);
  }

  readSettled(seconds: number, ok: boolean): void {
    (ok ? this.readOk : this.readFailed).observe(seconds);
  }

  snapshotSent(_peer: NodeId, ok: boolean, seconds: number): void {
    this.snapshotSends.observe({ result: ok ? 'ok' : 'error' }, seconds);
  }

  snapshotInstalled(seconds: number): void {
    this.snapshotInstalls.observe(seconds);
  }

  leaderChanged(): void {
    this.leaderChanges.inc();
  }

  /** MetadataFsm's onStoreWrite. */
  storeWritten(ops: number, _bytes: number, seconds: number): void {
    this.storeWriteSeconds.observe(seconds);
    this.storeWriteOps.observe(ops);
  }

  /** LeaderSchedulers' onPass. */
  schedulerPass(loop: string, ok: boolean, seconds: number): void {
    this.schedulerPasses.observe({ loop, result: ok ? 'ok' : 'error' }, seconds);
  }
}

export interface ScrapeSources {
  readonly node: RaftNode;
  readonly fsm: MetadataFsm;
  readonly transport: { metrics(): TransportMetricValues };
}

/** Values read at scrape time: Raft position, follower lag, transport counters, model counts. */
export function registerScrapeMetrics(registry: Registry, { node, fsm, transport }: ScrapeSources): void {
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  gauge('cubemaster_raft_term', 'current Raft term', () => node.status().term);
  gauge('cubemaster_raft_commit_index', 'highest index known committed', () => node.status().commit);
  gauge('cubemaster_raft_applied_index', 'highest index applied to the state machine', () => fsm.appliedIndex());
  gauge('cubemaster_raft_last_index', 'last index in the Raft log', () => node.status().lastIndex);
  gauge('cubemaster_raft_leader_id', 'the leader this member follows (0: none)', () => node.leaderId());
  gauge('cubemaster_raft_is_leader', '1 on the leader', () => (node.status().role === StateRole.Leader ? 1 : 0));
  gauge('cubemaster_raft_has_leader', '1 when this member knows a leader', () => (node.leaderId() === NONE ? 0 : 1));

  new Gauge<'peer'>({
    name: 'cubemaster_raft_follower_lag_entries',
    help: "On the leader: entries each member's log is behind the leader's commit index (its match).",
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset();
      const status = node.status();
      if (status.role !== StateRole.Leader) return;
      for (const [id, pr] of status.progress) if (id !== status.id) this.set({ peer: String(id) }, Math.max(0, status.commit - pr.match));
    },
  });

  // The transport keeps plain running totals; each scrape adds what grew since the previous one.
  const seen = new Map<string, number>();
  new Counter<'counter'>({
    name: 'cubemaster_raft_transport_total',
    help: 'Raft transport running totals (framesSent, messagesSent, bytesSent, messagesDropped, badFrames, connectFailures, snapshotsSent, ...), by counter.',
    labelNames: ['counter'],
    registers: [registry],
    collect() {
      for (const [name, value] of Object.entries(transport.metrics())) {
        const grown = value - (seen.get(name) ?? 0);
        if (grown > 0) this.inc({ counter: name }, grown);
        else if (!seen.has(name)) this.inc({ counter: name }, 0);
        seen.set(name, value);
      }
    },
  });

  new Gauge<'kind'>({
    name: 'cubemaster_objects',
    help: 'Records in the replicated model, by kind (vols, meta and data partitions, users, meta and data nodes, vol creates in progress).',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const m = fsm.view;
      this.set({ kind: 'vol' }, m.vols.size);
      this.set({ kind: 'meta_partition' }, m.metaPartitions.size);
      this.set({ kind: 'data_partition' }, m.dataPartitions.size);
      this.set({ kind: 'user' }, m.users.size);
      this.set({ kind: 'meta_node' }, m.metaNodes.size);
      this.set({ kind: 'data_node' }, m.dataNodes.size);
      this.set({ kind: 'vol_intent' }, m.volIntents.size);
    },
  });

  // Only the leader receives heartbeats: the series exist on the leader alone.
  new Gauge<'kind' | 'state'>({
    name: 'cubemaster_nodes',
    help: 'On the leader: meta and data nodes by liveness (active: a heartbeat answered within 18 s).',
    labelNames: ['kind', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      if (node.status().role !== StateRole.Leader) return;
      const m = fsm.view;
      for (const [kind, nodes, live] of [
        ['meta', m.metaNodes, m.live.metaNodes],
        ['data', m.dataNodes, m.live.dataNodes],
      ] as const) {
        let active = 0;
        for (const id of nodes.keys()) if (live.get(id)?.isActive === true) active++;
        this.set({ kind, state: 'active' }, active);
        this.set({ kind, state: 'inactive' }, nodes.size - active);
      }
    },
  });
}

/** Peers refused for who they are (docs/security.md: what an operator sees when a stranger knocks). */
export function registerTransportMetrics(registry: Registry, transport: TcpTransport): void {
  new Counter({
    name: 'cubemaster_raft_peer_refusals_total',
    help: 'Raft connections refused because of who was on the other end (either direction), by reason',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const metrics = transport.metrics();
      this.reset();
      for (const reason of REFUSAL_REASONS) this.inc({ reason }, metrics[refusalMetricName(reason)]);
    },
  });
}

/** Stores out of disk space now, and full-disk episodes since start (docs/faults.md). */
export function registerDiskSpaceMetrics(registry: Registry, diskSpace: DiskSpaceMonitor): void {
  new Gauge<'store'>({
    name: 'cubemaster_disk_full',
    help: '1 while a store of this member is refused writes for lack of space (raft-log, state); the member then refuses writes and linearizable reads',
    labelNames: ['store'],
    registers: [registry],
    collect() {
      const full = new Set(diskSpace.fullStores());
      for (const store of DISK_SPACE_STORES) this.set({ store }, full.has(store) ? 1 : 0);
    },
  });
  new Counter<'store'>({
    name: 'cubemaster_disk_full_episodes_total',
    help: 'Times a store of this member ran out of disk space (each episode ends when a write succeeds again)',
    labelNames: ['store'],
    registers: [registry],
    collect() {
      this.reset();
      for (const store of DISK_SPACE_STORES) this.inc({ store }, diskSpace.episodes.get(store) ?? 0);
    },
  });
}

/** The names RaftLogStore and the state store report under. */
const DISK_SPACE_STORES = ['raft-log', 'state'] as const;
