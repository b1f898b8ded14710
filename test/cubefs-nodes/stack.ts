// The whole object storage stack on one machine: 3 cubemaster members (real processes on
// 127.0.97.1-3), one real Go metanode and datanode (test/cubefs/nodes.ts) and one real Go
// objectnode, started in the order spec/node-protocol.md "Objectnode end-to-end" found to work:
// masters -> meta/data nodes -> user + vol -> objectnode. Whatever is started here is stopped by
// `stop()`, in the reverse order.
import http from 'node:http';
import net from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MasterCluster } from '../integration/cluster.js';
import { cfsRequest } from '../integration/cfs-client.js';
import type { MasterProcess } from '../integration/master-process.js';
import type { CubefsBinaries } from '../cubefs/env.js';
import { GoProcess } from '../cubefs/go-process.js';
import { cfsData, waitFor } from '../cubefs/http.js';
import { startGoNodes, type StartedNodes } from '../cubefs/nodes.js';
import { layoutPorts, portLayout, reservePorts, type NodePorts } from '../cubefs/ports.js';

export const CLUSTER_NAME = 's3nodes';
/** Third octet of the masters' loopback addresses (kept distinct per test file). */
export const MASTER_SUBNET = 97;

/** master.json keys of the stack's masters (beside id, addresses and directories). */
export const STACK_MASTER_CONFIG = {
  clusterName: CLUSTER_NAME,
  // One metanode: one meta partition replica per vol (CubeFS singleNodeMode, as in the spec's run).
  singleNodeMode: true,
  // Below 32 MiB the Go master uses 1 GiB, which a 4 GiB test metanode cannot spare (same as test/cubefs).
  metaNodeReservedMem: '67108864',
  // A new leader learns the partition leaders from the next heartbeat round: keep it short.
  nodeHeartbeatIntervalMs: 2000,
};

export interface Credentials {
  readonly user: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

interface Ports {
  readonly metaNodes: NodePorts[];
  readonly dataNodes: NodePorts[];
  readonly objectNode: { readonly listen: number; readonly prof: number };
}

/** A line for the test's own log: what it did, when (seconds since the stack started). */
export type Say = (line: string) => void;

export class ObjectStack {
  readonly masters: MasterCluster;
  nodes: StartedNodes | null = null;
  objectNode: GoProcess | null = null;
  private ports: Ports | null = null;
  /** One connection per request: nothing keeps the event loop alive after the run. */
  private readonly agent = new http.Agent({ keepAlive: false });

  constructor(
    private readonly bins: CubefsBinaries,
    private readonly say: Say,
  ) {
    this.masters = new MasterCluster({ subnet: MASTER_SUBNET, size: 3, extraConfig: STACK_MASTER_CONFIG });
  }

  get dir(): string {
    return this.masters.dir;
  }

  /** host:port of every master, the list the nodes and the objectnode are given. */
  get masterAddrs(): string[] {
    return this.masters.masters.map((m) => `${m.spec.host}:${m.spec.httpPort}`);
  }

  get objectNodeEndpoint(): string {
    if (this.ports === null) throw new Error('not started');
    return `http://127.0.0.1:${this.ports.objectNode.listen}`;
  }

  async startMasters(): Promise<MasterProcess> {
    this.ports = await reservePorts(
      (base) => {
        const layout = portLayout(base, 0, 1, 1);
        return { metaNodes: layout.metaNodes, dataNodes: layout.dataNodes, objectNode: { listen: base + 90, prof: base + 91 } };
      },
      (p) => [...layoutPorts({ masters: [], metaNodes: p.metaNodes, dataNodes: p.dataNodes }), p.objectNode.listen, p.objectNode.prof],
    );
    await this.masters.start();
    const leader = await this.masters.leader(30_000);
    this.say(`3 cubemaster members up (${this.masterAddrs.join(', ')}), leader ${leader.spec.host}:${leader.spec.httpPort} (data: ${this.dir})`);
    return leader;
  }

  async startNodes(): Promise<void> {
    await this.launchNodes(60_000, 90_000, 'registered');
  }

  /** Stops the meta and data nodes and starts them again on the same ports and directories. */
  async restartNodes(): Promise<void> {
    if (this.nodes === null) throw new Error('nodes first');
    await this.nodes.stop();
    await this.launchNodes(120_000, 120_000, 'restarted, registered');
  }

  private async launchNodes(registerTimeoutMs: number, writableTimeoutMs: number, done: string): Promise<void> {
    if (this.ports === null) throw new Error('masters first');
    this.nodes = await startGoNodes({
      masterAddrs: this.masterAddrs,
      dir: this.dir,
      metaPorts: this.ports.metaNodes,
      dataPorts: this.ports.dataNodes,
      bins: this.bins,
      registerTimeoutMs,
      writableTimeoutMs,
    });
    if (this.nodes.problems.length > 0) throw new Error(`meta/data nodes did not come up:\n${this.nodes.problems.join('\n')}`);
    this.say(`metanode ${this.nodes.meta[0].addr} and datanode ${this.nodes.data[0].addr} ${done}, active and writable`);
  }

  /** host:port of the leader all running members agree on. */
  async leaderAddr(timeoutMs = 30_000): Promise<string> {
    const leader = await this.masters.leader(timeoutMs);
    return `${leader.spec.host}:${leader.spec.httpPort}`;
  }

  /** GET on any running master (followers forward writes); `data` of a code-0 reply. */
  async get<T>(pathAndQuery: string, timeoutMs = 20_000): Promise<T> {
    return this.call<T>(pathAndQuery, undefined, timeoutMs);
  }

  async post<T>(pathAndQuery: string, body: unknown, timeoutMs = 20_000): Promise<T> {
    return this.call<T>(pathAndQuery, body, timeoutMs);
  }

  private async call<T>(pathAndQuery: string, body: unknown, timeoutMs: number): Promise<T> {
    const errors: string[] = [];
    for (const m of this.masters.masters.filter((p) => p.running)) {
      try {
        const reply = await cfsRequest<T>(m.url, pathAndQuery, { timeoutMs, body, agent: this.agent });
        if (reply.envelope === null) throw new Error(`HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
        if (reply.envelope.code !== 0) throw new Error(`code ${reply.envelope.code} ${reply.envelope.msg}`);
        return reply.envelope.data;
      } catch (error) {
        errors.push(`${m.url}: ${(error as Error).message}`);
      }
    }
    throw new Error(`${pathAndQuery}: ${errors.join('; ')}`);
  }

  /**
   * The user (with keys we choose: 16 and 32 letters or digits, as the master requires) and its
   * vol, through the same HTTP calls cfs-cli makes (`user create`, `volume create --replica-num 1`).
   */
  async createUserAndVol(user: Credentials, vol: string): Promise<void> {
    await this.post('/user/create', { id: user.user, pwd: 'pw-s3nodes', ak: user.accessKey, sk: user.secretKey, type: 3, description: 'S3 e2e' });
    const query = new URLSearchParams({ name: vol, owner: user.user, capacity: '20', dpSize: '11', replicaNum: '1', mpCount: '3', dpCount: '3', followerRead: 'true', zoneName: '', description: '' });
    await this.get(`/admin/createVol?${query.toString()}`, 60_000);
    const info = await this.get<{ access_key: string; secret_key: string; policy: { own_vols: string[] } }>(`/user/info?user=${user.user}`);
    if (info.access_key !== user.accessKey || info.secret_key !== user.secretKey || !info.policy.own_vols.includes(vol))
      throw new Error(`/user/info ${user.user}: unexpected ${JSON.stringify(info)}`);
    this.say(`user ${user.user} (AK ${user.accessKey}) and vol ${vol} (replicaNum 1, 3 mps, 3 dps) created through cubemaster`);
  }

  /** Every meta and data partition of `vol` listed by `master` with a leader (from heartbeats) and writable. */
  async waitPartitionsReady(vol: string, master: string, timeoutMs: number): Promise<void> {
    await waitFor(`the partitions of ${vol} to have leaders on ${master}`, timeoutMs, async () => {
      const vv = await cfsData<{ MpCnt: number; DpCnt: number }>(master, `/admin/getVol?name=${vol}`);
      const mps = (await cfsData<{ PartitionID: number; LeaderAddr: string }[] | null>(master, `/client/metaPartitions?name=${vol}`)) ?? [];
      const dps = (await cfsData<{ DataPartitions: { PartitionID: number; LeaderAddr: string; Status: number }[] | null }>(master, `/client/partitions?name=${vol}`)).DataPartitions ?? [];
      const leaderless = [...mps, ...dps].filter((p) => p.LeaderAddr === '').length;
      const writableDps = dps.filter((p) => p.Status === 2).length;
      if (mps.length === vv.MpCnt && dps.length === vv.DpCnt && leaderless === 0 && writableDps > 0) return true;
      throw new Error(`getVol MpCnt ${vv.MpCnt} DpCnt ${vv.DpCnt}; listed ${mps.length} mps, ${dps.length} dps (${writableDps} writable); ${leaderless} without a leader`);
    });
  }

  /**
   * `leaderFirst`: the objectnode's master list starts with this member, so that when it is
   * killed the SDK inside the objectnode must fail over from its first address.
   */
  async startObjectNode(leaderFirst: string): Promise<void> {
    if (this.ports === null) throw new Error('masters first');
    const masterAddr = [leaderFirst, ...this.masterAddrs.filter((a) => a !== leaderFirst)];
    const dir = path.join(this.dir, 'objectnode');
    mkdirSync(dir, { recursive: true });
    const proc = new GoProcess('objectnode', this.bins.server, dir, {
      role: 'objectnode',
      listen: String(this.ports.objectNode.listen),
      prof: String(this.ports.objectNode.prof),
      masterAddr,
      domains: ['object.cfs.local'],
      logDir: path.join(dir, 'log'),
      logLevel: 'info',
    });
    this.objectNode = proc;
    proc.start();
    const started = Date.now();
    // A TCP connect, not an S3 request: an unsigned one would make the objectnode look up an empty key.
    await waitFor(`the objectnode to listen on ${this.objectNodeEndpoint} (log: ${dir})`, 60_000, async () => {
      if (!proc.running) throw new Error(`objectnode exited ${JSON.stringify(proc.exitInfo)}: ${proc.tail(10)}`);
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port: this.ports!.objectNode.listen });
        socket.once('connect', () => {
          socket.destroy();
          resolve();
        });
        socket.once('error', reject);
      });
      return true;
    });
    this.say(`objectnode listening on ${this.objectNodeEndpoint} after ${Date.now() - started} ms (masterAddr ${masterAddr.join(', ')})`);
  }

  /** Leaves the logs in the data dir; the caller removes it after a green run. */
  async stop(): Promise<void> {
    await this.objectNode?.stop();
    await this.nodes?.stop();
    await this.masters.stop();
    for (const m of this.masters.masters) writeFileSync(path.join(m.spec.dataDir, 'output.txt'), m.logs);
    await Promise.all(this.masters.masters.map((m) => m.kill()));
    this.agent.destroy();
  }

  logPaths(): string[] {
    return [
      ...this.masters.masters.map((m) => path.join(m.spec.dataDir, 'output.txt')),
      ...(this.nodes?.logs ?? []),
      ...(this.objectNode === null ? [] : [this.objectNode.outputPath, path.join(this.objectNode.dir, 'log')]),
    ];
  }
}
