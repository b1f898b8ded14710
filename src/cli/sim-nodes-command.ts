// `cubemaster sim-nodes`: simulated CubeFS meta and data nodes in this process, speaking the real
// protocol to the masters (HTTP registration and heartbeat reports, TCP admin tasks). For demos
// (`npm start` in one shell, `cubemaster sim-nodes` in another, then cfs-cli) and tests. SIGTERM
// or SIGINT closes every node.
import { mkdirSync } from 'node:fs';
import { startSimNodes } from '../nodes/sim/index.js';

export interface SimNodesOptions {
  readonly masters: string;
  readonly meta: string;
  readonly data: string;
  readonly zones: string;
  /** Keep each node's partitions in <dir>/<kind>-<i>.json: started again, the nodes come back as they were. */
  readonly stateDir?: string;
}

const NODES_MAX = 10_000;

function count(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > NODES_MAX) throw new Error(`--${name} must be an integer in [0, ${NODES_MAX}], got ${JSON.stringify(text)}`);
  return n;
}

export async function runSimNodes(options: SimNodesOptions): Promise<void> {
  const masterAddrs = options.masters.split(',').map((a) => a.trim()).filter(Boolean);
  if (masterAddrs.length === 0) throw new Error('--masters is empty');
  const zones = options.zones.split(',').map((z) => z.trim());
  if (options.stateDir !== undefined) mkdirSync(options.stateDir, { recursive: true });
  const nodes = await startSimNodes({
    masterAddrs,
    meta: count('meta', options.meta),
    data: count('data', options.data),
    zones,
    stateDir: options.stateDir,
    // Real nodes retry registration until a master answers (a recovery holds it back a while).
    common: options.stateDir === undefined ? undefined : { registerTriesMax: 1_000, registerRetryDelayMs: 2_000 },
  });
  for (const n of [...nodes.metaNodes, ...nodes.dataNodes]) {
    process.stdout.write(`${JSON.stringify({ kind: n.kind, addr: n.addr, id: n.nodeId, zone: n.zoneName || 'default' })}\n`);
  }
  process.stdout.write(`${nodes.metaNodes.length} meta and ${nodes.dataNodes.length} data nodes registered with ${masterAddrs.join(',')}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await nodes.close();
}
