// The meta and data nodes of a chaos run: simulated in the harness's process (src/nodes/sim/),
// speaking the real protocol to every master (HTTP registration and heartbeat reports, TCP
// admin tasks from the leader). They are what vol creates place partitions on, what heartbeats
// keep alive, and what the final audit compares the views with.

import { startSimNodes, type SimNodes } from '../../src/nodes/sim/index.js';
import { cfsGet, type TlsTrust } from '../integration/cfs-client.js';
import { NODES, type ChaosCluster } from './chaos-cluster.js';
import { PipeProxy } from './link-proxies.js';

/** The simulated nodes' own IP in the run's subnet (members are .1 to .5). */
const NODES_HOST_OCTET = 100;

export const DOMAIN_META_NODES = 3;
export const DOMAIN_DATA_NODES = 3;
/** Large disks: placement never runs out of room however many creates a run makes. */
const DISK_BYTES = 64n << 40n;

/** Master config for a run with nodes: fast heartbeats and sweeps, so that a run settles in seconds. */
export const DOMAIN_MASTER_CONFIG = {
  nodeHeartbeatIntervalMs: 500,
  orphanPartitionGraceMs: 1_000,
  domainStopGraceMs: 3_000,
} as const;

/** Starts the nodes against every member (the SDK tries them in order) and waits until the leader sees all of them alive. */
export async function startDomainNodes(cluster: ChaosCluster, timeoutMs: number, masterTls?: TlsTrust): Promise<SimNodes> {
  // The nodes listen on their own IP; the address they register (127.0.0.1:<port>) is a task
  // proxy the run can cut (link-proxies.ts). They reach each member through its node proxy.
  const listenHost = `127.0.${cluster.options.subnet}.${NODES_HOST_OCTET}`;
  const nodes = await startSimNodes({
    masterAddrs: cluster.masters.map((m) => cluster.nodeAddr(m.spec.id)),
    meta: DOMAIN_META_NODES,
    data: DOMAIN_DATA_NODES,
    // A report to a paused master must not hold a node's next one for long.
    common: { httpTimeoutMs: 2_000, registerTriesMax: 20, registerRetryDelayMs: 250, masterTls, listenHost },
    dataOptions: { disks: [{ path: '/sim/disk0', totalBytes: DISK_BYTES }, { path: '/sim/disk1', totalBytes: DISK_BYTES }] },
  });
  try {
    for (const node of [...nodes.metaNodes, ...nodes.dataNodes]) {
      const port = Number(node.addr.slice(node.addr.lastIndexOf(':') + 1));
      const proxy = new PipeProxy({ host: '127.0.0.1', port }, { host: listenHost, port }, () => cluster.blocked(0, NODES));
      cluster.taskProxies.push(proxy);
      await proxy.start();
    }
    await waitUntilNodesActive(cluster, nodes, timeoutMs);
  } catch (error) {
    await nodes.close();
    throw error;
  }
  return nodes;
}

export interface NodeLiveness {
  /** addr → Status (active) as the leader's /admin/cluster/getAllMetaNodes shows it. */
  readonly meta: ReadonlyMap<string, { id: number; active: boolean }>;
  readonly data: ReadonlyMap<string, { id: number; active: boolean }>;
}

/** The nodes as `url` shows them (leader-read: the leader's heartbeat view); null when it does not answer. */
export async function nodeLiveness(url: string): Promise<NodeLiveness | null> {
  const read = async (path: string): Promise<Map<string, { id: number; active: boolean }> | null> => {
    const reply = await cfsGet<{ Addr: string; ID: number; Status: boolean }[]>(url, path, {}, { timeoutMs: 5_000 }).catch(() => null);
    if (reply?.envelope?.code !== 0 || !Array.isArray(reply.envelope.data)) return null;
    return new Map(reply.envelope.data.map((n) => [n.Addr, { id: n.ID, active: n.Status }]));
  };
  const [meta, data] = await Promise.all([read('/admin/cluster/getAllMetaNodes'), read('/admin/cluster/getAllDataNodes')]);
  return meta === null || data === null ? null : { meta, data };
}

/** Whether every simulated node is active in `liveness`. */
export function allNodesActive(nodes: SimNodes, liveness: NodeLiveness): boolean {
  return nodes.metaNodes.every((n) => liveness.meta.get(n.addr)?.active === true) && nodes.dataNodes.every((n) => liveness.data.get(n.addr)?.active === true);
}

export async function waitUntilNodesActive(cluster: ChaosCluster, nodes: SimNodes, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const leader = await cluster.leaderId();
    const liveness = leader === 0 ? null : await nodeLiveness(cluster.member(leader).url);
    if (liveness !== null && allNodesActive(nodes, liveness)) return;
    if (Date.now() > deadline) throw new Error(`the simulated nodes are not all active on the leader after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `meta/<id>` or `data/<id>` → the sorted addrs of the nodes that hold it, and the vol each names. */
export function partitionsOnNodes(nodes: SimNodes): Map<string, { addrs: string[]; volNames: Set<string> }> {
  const out = new Map<string, { addrs: string[]; volNames: Set<string> }>();
  const add = (key: string, addr: string, volName: string): void => {
    const entry = out.get(key) ?? { addrs: [], volNames: new Set<string>() };
    entry.addrs.push(addr);
    entry.volNames.add(volName);
    out.set(key, entry);
  };
  for (const n of nodes.metaNodes) for (const p of n.partitions()) add(`meta/${p.partitionId}`, n.addr, p.volName);
  for (const n of nodes.dataNodes) for (const p of n.partitions()) add(`data/${p.partitionId}`, n.addr, p.volName);
  for (const entry of out.values()) entry.addrs.sort();
  return out;
}
