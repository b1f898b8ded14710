// Resident memory: per 100,000 keys (cubemaster users, etcd keys: the growth of each member's RSS
// from start-up to after the fill, averaged over members), and per 100,000 data partitions
// (cubemaster only: a master process with simulated nodes, partitions created through
// /admin/createVol and /dataPartition/create, RSS growth scaled to 100,000).
import { residentBytes, type RunningSystem } from '../systems.js';
import { RealCluster } from '../placement-real.js';

export function meanResidentBytes(system: RunningSystem): number {
  const rss = system.pids().filter((p) => p !== 0).map(residentBytes).filter((x) => Number.isFinite(x));
  return rss.reduce((a, b) => a + b, 0) / Math.max(1, rss.length);
}

/** RSS growth per 100k data partitions of one cubemaster with `dps` partitions on `dataNodes` simulated nodes. */
export async function cubemasterBytesPer100kDataPartitions(dps: number, dataNodes: number, log: (line: string) => void): Promise<{ bytesPer100k: number; dps: number }> {
  const cluster = new RealCluster({
    host: '127.0.89.1',
    httpPort: 17010,
    raftPort: 17110,
    clusterName: 'benchmem',
    size: { dataNodes, metaNodes: 3, zones: 1, vols: Math.max(1, Math.ceil(dps / 2000)), dataPartitions: dps },
    heartbeatIntervalMs: 6_000,
  });
  try {
    await cluster.start(log);
    const before = residentBytes(cluster.master.pid ?? 0);
    const built = await cluster.build(600_000, () => undefined);
    // Let a heartbeat round bring the reports in, as on a live master.
    await new Promise((r) => setTimeout(r, 7_000));
    const after = residentBytes(cluster.master.pid ?? 0);
    return { bytesPer100k: ((after - before) / built.dps) * 100_000, dps: built.dps };
  } finally {
    await cluster.close();
  }
}
