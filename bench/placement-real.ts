// The real path of `npm run bench:placement`: a master process (src/cli/main.js server) and
// simulated meta/data nodes (src/nodes/sim, in this process) that register over HTTP, answer the
// master's heartbeat and create tasks over TCP and POST their reports back. Volumes are created
// with /admin/createVol and topped up with /dataPartition/create, one request at a time as an
// operator's script would, so the state in the master's RocksDB is what a real master holds:
// placed by the leader, created on the nodes, proposed and applied through Raft.
// RealCluster owns the master process and the nodes; close() ends both (kill if need be).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSimNodes, type SimNodes } from '../src/nodes/sim/index.js';
import { cfsGet, type CfsReply } from '../test/integration/cfs-client.js';
import { MasterProcess } from '../test/integration/master-process.js';
import { DP_BATCH_MAX, zoneName, type ClusterSize } from './placement-model.js';

export interface RealClusterOptions {
  readonly host: string;
  readonly httpPort: number;
  readonly raftPort: number;
  readonly clusterName: string;
  readonly size: ClusterSize;
  readonly heartbeatIntervalMs: number;
}

export interface BuildResult {
  readonly dps: number;
  readonly createMs: number;
  readonly requestMs: readonly number[];
}

const TIB = 1n << 40n;
const REQUEST_TIMEOUT_MS = 300_000;

function fail(what: string, reply: CfsReply): never {
  throw new Error(`${what}: HTTP ${reply.status} ${reply.body.slice(0, 300)}`);
}

export function rssOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line === undefined ? NaN : Number(line.split(/\s+/)[1]) * 1024;
  } catch {
    return NaN;
  }
}

/** Waits until /admin/getCluster answers code 0 with a leader. */
export async function waitReady(master: MasterProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await cfsGet<{ LeaderAddr?: string }>(master.url, '/admin/getCluster', {}, { timeoutMs: 10_000 }).catch(() => null);
    const leader = reply?.envelope?.code === 0 ? (reply.envelope.data.LeaderAddr ?? '') : '';
    if (leader !== '') return;
    if (Date.now() > deadline) throw new Error(`master not ready within ${timeoutMs} ms:\n${master.tail()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Spawn to ready: the master's HTTP answers (MasterProcess.start), then getCluster has a leader. */
export async function startTimed(master: MasterProcess): Promise<number> {
  const t = performance.now();
  await master.start(120_000);
  await waitReady(master, 120_000);
  return performance.now() - t;
}

export class RealCluster {
  readonly dataDir: string;
  readonly master: MasterProcess;
  private sims: SimNodes | null = null;

  constructor(private readonly o: RealClusterOptions) {
    this.dataDir = mkdtempSync(path.join(tmpdir(), 'bench-placement-real-'));
    this.master = new MasterProcess({
      id: 1,
      host: o.host,
      httpPort: o.httpPort,
      raftPort: o.raftPort,
      peers: `1:${o.host}:${o.httpPort}:${o.raftPort}`,
      dataDir: this.dataDir,
      extraConfig: { logLevel: 'warn', clusterName: o.clusterName, nodeHeartbeatIntervalMs: o.heartbeatIntervalMs },
    });
  }

  get storeDir(): string {
    return path.join(this.dataDir, 'store');
  }

  get walDir(): string {
    return path.join(this.dataDir, 'wal');
  }

  /** Starts the master, then the nodes (sequentially, as start-sim-nodes does); resolves when every data node is active. */
  async start(log: (line: string) => void): Promise<void> {
    await startTimed(this.master);
    const { size } = this.o;
    const t = performance.now();
    this.sims = await startSimNodes({
      masterAddrs: [`${this.o.host}:${this.o.httpPort}`],
      meta: size.metaNodes,
      data: size.dataNodes,
      zones: Array.from({ length: size.zones }, (_, z) => zoneName(z)),
      // Room for every partition this bench gives a node (3000 per node is the limit anyway).
      dataOptions: {
        disks: [
          { path: '/sim/disk0', totalBytes: 256n * TIB },
          { path: '/sim/disk1', totalBytes: 256n * TIB },
        ],
      },
      common: { eventLogMax: 16 },
    });
    log(`${size.metaNodes} meta and ${size.dataNodes} data nodes registered (getIp, add, self-check over HTTP each) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const tl = performance.now();
    for (;;) {
      const active = await this.activeDataNodes();
      if (active >= size.dataNodes) break;
      if (performance.now() - tl > 6 * this.o.heartbeatIntervalMs + 30_000) throw new Error(`only ${active} of ${size.dataNodes} data nodes active`);
      await new Promise((r) => setTimeout(r, 250));
    }
    log(`every data node active (its first heartbeat answered) ${((performance.now() - tl) / 1000).toFixed(1)} s later; heartbeat every ${this.o.heartbeatIntervalMs} ms`);
  }

  /** Active and writable data nodes as /admin/getCluster lists them. */
  async activeDataNodes(): Promise<number> {
    const reply = await cfsGet<{ DataNodes?: { Status?: boolean; IsWritable?: boolean }[] }>(this.master.url, '/admin/getCluster', {}, { timeoutMs: 30_000 });
    return (reply.envelope?.data.DataNodes ?? []).filter((n) => n.Status === true && n.IsWritable === true).length;
  }

  /**
   * The vols of the in-process build, through the API: vol v is cross-zone when v is even, else
   * pinned to the next zone round-robin; createVol with up to 200 dps, then /dataPartition/create
   * batches of 200 until its share. Stops after `budgetMs` (the result says how far it got).
   */
  async build(budgetMs: number, progress: (dps: number, ms: number) => void): Promise<BuildResult> {
    const { size } = this.o;
    const requestMs: number[] = [];
    let dps = 0;
    let pinned = 0;
    const t0 = performance.now();
    const timed = async (what: string, route: string, params: Record<string, string | number | boolean>): Promise<void> => {
      const t = performance.now();
      const reply = await cfsGet(this.master.url, route, params, { timeoutMs: REQUEST_TIMEOUT_MS });
      if (reply.envelope?.code !== 0) fail(what, reply);
      requestMs.push(performance.now() - t);
    };
    for (let v = 0; v < size.vols && performance.now() - t0 < budgetMs; v++) {
      const share = Math.floor(((v + 1) * size.dataPartitions) / size.vols) - Math.floor((v * size.dataPartitions) / size.vols);
      const crossZone = v % 2 === 0 && size.zones > 1;
      const zone = crossZone ? '' : zoneName(pinned++ % size.zones);
      const name = `vol${String(v).padStart(4, '0')}`;
      const first = Math.max(1, Math.min(DP_BATCH_MAX, share));
      await timed(`createVol ${name}`, '/admin/createVol', {
        name,
        owner: `owner${v}`,
        capacity: 100_000,
        mpCount: 3,
        dpCount: first,
        replicaNum: 3,
        crossZone,
        zoneName: zone,
        followerRead: false,
      });
      dps += first;
      for (let done = first; done < share && performance.now() - t0 < budgetMs; ) {
        const count = Math.min(DP_BATCH_MAX, share - done);
        // The master refuses more than 1000 writable dps per vol without force (Go's rule).
        await timed(`dataPartition/create ${name}`, '/dataPartition/create', done >= 1000 ? { name, count, force: true } : { name, count });
        done += count;
        dps += count;
      }
      progress(dps, performance.now() - t0);
    }
    return { dps, createMs: performance.now() - t0, requestMs };
  }

  async stopMaster(): Promise<number> {
    const t = performance.now();
    this.master.signal('SIGTERM');
    const exit = await this.master.waitExit(60_000);
    if (exit.code !== 0) throw new Error(`master exit ${JSON.stringify(exit)}:\n${this.master.tail()}`);
    return performance.now() - t;
  }

  async close(): Promise<void> {
    try {
      if (this.master.running) await this.stopMaster().catch(() => undefined);
      await this.master.kill();
      await this.sims?.close();
    } finally {
      rmSync(this.dataDir, { recursive: true, force: true });
    }
  }
}
