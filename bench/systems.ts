// The systems the benchmarks start side by side on loopback: cubemaster as real master processes,
// etcd (Debian's etcd-server), and the Go CubeFS master where it was built; each one answers the
// same questions (client URLs, the leader, the process ids for CPU accounting, stop).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cfsGet } from '../test/integration/cfs-client.js';
import { MasterProcess } from '../test/integration/master-process.js';
import { EtcdCluster } from './etcd-cluster.js';
import type { RequestSpec } from './write-load.js';

export interface RunningSystem {
  readonly name: string;
  /** Client base URLs, one per member, in member order. */
  readonly urls: readonly string[];
  /** Index into `urls` of the member that leads now. */
  leader(): Promise<number>;
  /** Operating-system process ids of the members, in member order (0: not running). */
  pids(): number[];
  stop(): Promise<void>;
}

export interface CubemasterSystem extends RunningSystem {
  readonly masters: readonly MasterProcess[];
  readonly dir: string;
}

export interface CubemasterOptions {
  readonly env?: (id: number) => Record<string, string>;
  readonly extraConfig?: Record<string, unknown>;
}

/** N masters on 127.0.<subnet>.1..N, same ports, waiting until every member agrees on a leader. */
export async function startCubemaster(members: number, subnet: number, options: CubemasterOptions = {}): Promise<CubemasterSystem> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-masters-'));
  const hosts = Array.from({ length: members }, (_, i) => `127.0.${subnet}.${i + 1}`);
  const peers = hosts.map((h, i) => `${i + 1}:${h}:17010:17110`).join(',');
  const masters = hosts.map(
    (host, i) =>
      new MasterProcess({
        id: i + 1,
        host,
        httpPort: 17010,
        raftPort: 17110,
        peers,
        dataDir: path.join(dir, `m${i + 1}`),
        extraConfig: { logLevel: 'warn', ...options.extraConfig },
        env: options.env?.(i + 1),
      }),
  );
  const system: CubemasterSystem = {
    name: 'cubemaster',
    masters,
    dir,
    urls: masters.map((m) => m.url),
    leader: () => cubemasterLeader(masters),
    pids: () => masters.map((m) => (m.running ? (m.pid ?? 0) : 0)),
    stop: async () => {
      for (const m of masters) if (m.running) m.signal('SIGTERM');
      await Promise.all(masters.filter((m) => m.running).map((m) => m.waitExit(20_000).catch(() => undefined)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(masters.map((m) => m.start()));
    await system.leader();
  } catch (error) {
    await Promise.all(masters.map((m) => m.kill()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return system;
}

/** The index of the member every running member names as leader (waits up to `timeoutMs`). */
export async function cubemasterLeader(masters: readonly MasterProcess[], timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const views = await Promise.all(
      masters
        .filter((m) => m.running)
        .map(async (m) => {
          const reply = await cfsGet<{ LeaderAddr: string }>(m.url, '/admin/getCluster', {}, { timeoutMs: 2000 }).catch(() => null);
          return reply?.envelope?.code === 0 ? reply.envelope.data.LeaderAddr : '';
        }),
    );
    const addr = views[0];
    if (addr !== undefined && addr !== '' && views.every((v) => v === addr)) {
      const index = masters.findIndex((m) => `${m.spec.host}:${m.spec.httpPort}` === addr && m.running);
      if (index >= 0) return index;
    }
    if (Date.now() > deadline) throw new Error(`cubemaster: no agreed leader within ${timeoutMs} ms (${JSON.stringify(views)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startEtcd(members: number, subnet: number): Promise<RunningSystem> {
  const etcd = new EtcdCluster(members, subnet);
  await etcd.ready();
  return {
    name: 'etcd 3.4',
    urls: etcd.clientUrls,
    leader: () => etcd.leaderIndex(),
    pids: () => etcd.pids(),
    stop: () => etcd.stop(),
  };
}

// ------------------------------------------------------------------ requests

/** `/user/create` with a fresh user id per request (ids stay within CubeFS's 21-character rule). */
export function userCreateRequest(tag: string): (client: number, seq: number) => RequestSpec {
  const prefix = `u${tag.replace(/[^A-Za-z0-9]/g, '').slice(-6)}`;
  return (client, seq) => ({ method: 'POST', path: '/user/create', body: JSON.stringify({ id: `${prefix}_${client.toString(36)}_${seq.toString(36)}`, type: 2 }) });
}

export function isEnvelopeOk(status: number, body: string): boolean {
  return status === 200 && body.startsWith('{"code":0');
}

// ------------------------------------------------------------------ CPU accounting

const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU seconds a process has used so far (Linux /proc; 0 once it is gone). */
export function processCpuSeconds(pid: number): number {
  if (pid === 0) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}
