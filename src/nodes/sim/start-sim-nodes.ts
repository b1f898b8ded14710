// Starts a set of simulated meta and data nodes against the given masters, zones assigned
// round-robin, and hands back one owner that closes them all.

import path from 'node:path';
import { SimDataNode, type SimDataNodeOptions } from './sim-data-node.js';
import { SimMetaNode, type SimMetaNodeOptions } from './sim-meta-node.js';
import type { SimNodeOptions } from './sim-node.js';

export interface StartSimNodesOptions {
  readonly masterAddrs: readonly string[];
  /** How many meta nodes and data nodes. */
  readonly meta: number;
  readonly data: number;
  /** Zone of the i-th node of each kind: zones[i % zones.length]; default [''] (the default zone). */
  readonly zones?: readonly string[];
  /** Options for every node (zone and port are set per node). */
  readonly common?: Omit<SimNodeOptions, 'masterAddrs' | 'zoneName' | 'port'>;
  readonly metaOptions?: Omit<SimMetaNodeOptions, keyof SimNodeOptions>;
  readonly dataOptions?: Omit<SimDataNodeOptions, keyof SimNodeOptions>;
  /**
   * A directory for the nodes' state files (meta-<i>.json, data-<i>.json): nodes started again
   * with the same directory come back on their ports with their partitions, as real nodes restart.
   */
  readonly stateDir?: string;
}

export interface SimNodes {
  readonly metaNodes: readonly SimMetaNode[];
  readonly dataNodes: readonly SimDataNode[];
  /** Closes every node; idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the nodes one after another (registration order is then deterministic: meta nodes first,
 * as in the capture). If one fails to start, those already started are closed and the error is
 * rethrown.
 */
export async function startSimNodes(o: StartSimNodesOptions): Promise<SimNodes> {
  const zones = o.zones !== undefined && o.zones.length > 0 ? o.zones : [''];
  const metaNodes: SimMetaNode[] = [];
  const dataNodes: SimDataNode[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all([...metaNodes, ...dataNodes].map((n) => n.close()));
  };
  try {
    for (let i = 0; i < o.meta; i++) {
      const node = new SimMetaNode({ ...o.common, ...o.metaOptions, masterAddrs: o.masterAddrs, zoneName: zones[i % zones.length], stateFile: stateFile(o.stateDir, 'meta', i) });
      metaNodes.push(node);
      await node.start();
    }
    for (let i = 0; i < o.data; i++) {
      const node = new SimDataNode({ ...o.common, ...o.dataOptions, masterAddrs: o.masterAddrs, zoneName: zones[i % zones.length], stateFile: stateFile(o.stateDir, 'data', i) });
      dataNodes.push(node);
      await node.start();
    }
  } catch (e) {
    await closeAll();
    throw e;
  }
  let closing: Promise<void> | null = null;
  return {
    metaNodes,
    dataNodes,
    close: () => (closing ??= closeAll()),
  };
}

function stateFile(dir: string | undefined, kind: 'meta' | 'data', i: number): string | undefined {
  return dir === undefined ? undefined : path.join(dir, `${kind}-${i}.json`);
}
