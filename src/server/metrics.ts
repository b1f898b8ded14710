// Process and Raft metrics beside the API's request metrics, on the same /metrics registry:
// Node's defaults (CPU, memory, event-loop lag: what the election timeout must outlast) and
// this member's Raft position.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { MetadataFsm } from '../fsm/metadata-fsm.js';
import { StateRole } from '../raft/core/index.js';
import type { RaftNode } from '../raft/node.js';
import { REFUSAL_REASONS, refusalMetricName } from '../raft/transport/peer-refusals.js';
import type { TcpTransport } from '../raft/transport/tcp-transport.js';

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  return registry;
}

export function registerRaftMetrics(registry: Registry, node: RaftNode, fsm: MetadataFsm): void {
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
  gauge('cubemaster_raft_applied_index', 'highest index applied to the state store', () => fsm.appliedIndex());
  gauge('cubemaster_raft_leader_id', 'the leader this member follows (0: none)', () => node.leaderId());
  gauge('cubemaster_raft_is_leader', '1 on the leader', () => (node.status().role === StateRole.Leader ? 1 : 0));
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
