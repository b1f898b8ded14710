// The systems the benchmarks start side by side on loopback: cubemaster as real master processes,
// etcd (Debian's etcd-server) and the Go CubeFS master (go-master.ts). Each answers the same
// questions (client URLs, the leader, process ids for CPU and memory accounting, stop), and
// cubemaster and etcd also let a benchmark stop, restart and replace a member.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cfsGet } from '../test/integration/cfs-client.js';
import { MasterProcess } from '../test/integration/master-process.js';
import { EtcdCluster } from './etcd-cluster.js';

export interface RunningSystem {
  readonly name: string;
  /** Client base URLs, one per member, in member order. */
  readonly urls: readonly string[];
  /** Index into `urls` of the member that leads now (waits for one). */
  leader(): Promise<number>;
  /** Operating-system process ids of the members, in member order (0: not running). */
  pids(): number[];
  stop(): Promise<void>;
}

/** Member-level control for the failover and recovery measurements. */
export interface MemberControl {
  signal(i: number, sig: NodeJS.Signals): void;
  waitExit(i: number, timeoutMs?: number): Promise<void>;
  /** Starts member i again on its own data; resolves once its process answers HTTP. */
  start(i: number): Promise<void>;
  /** How far member i is behind the leader (entries or revisions); null when unknown. */
  lag(i: number, leader: number): Promise<number | null>;
  /** The position the leader has reached (commit index or revision). */
  position(leader: number): Promise<number>;
  /** Member i's position (applied index or revision); null when it does not answer. */
  memberPosition(i: number): Promise<number | null>;
  /**
   * A new, empty member in member i's place: removed from the membership, its data deleted,
   * added back, started; `onStarting` runs just before its process starts. Resolves once its process answers (etcd answers only once it caught up far enough to serve).
   */
  replace(i: number, leader: number, onStarting?: () => void): Promise<void>;
}

export type ControllableSystem = RunningSystem & MemberControl;

export interface CubemasterSystem extends ControllableSystem {
  readonly masters: readonly MasterProcess[];
  readonly dir: string;
}

export interface CubemasterOptions {
  readonly env?: (id: number) => Record<string, string>;
  readonly extraConfig?: Record<string, unknown>;
}

const MEMBER_ADD_TIMEOUT_MS = 120_000;

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
        extraConfig: { logLevel: 'warn', memberCatchUpTimeoutMs: MEMBER_ADD_TIMEOUT_MS, ...options.extraConfig },
        env: options.env?.(i + 1),
      }),
  );
  const status = async (i: number): Promise<{ commit: number; applied: number } | null> => {
    const reply = await cfsGet<{ commit: number; applied: number }>(masters[i].url, '/cubemaster/status', {}, { timeoutMs: 2000 }).catch(() => null);
    return reply?.envelope?.code === 0 ? reply.envelope.data : null;
  };
  const system: CubemasterSystem = {
    name: 'cubemaster',
    masters,
    dir,
    urls: masters.map((m) => m.url),
    leader: () => cubemasterLeader(masters),
    pids: () => masters.map((m) => (m.running ? (m.pid ?? 0) : 0)),
    signal: (i, sig) => masters[i].signal(sig),
    waitExit: async (i, timeoutMs = 30_000) => {
      if (masters[i].running) await masters[i].waitExit(timeoutMs).catch(() => undefined);
    },
    start: (i) => masters[i].start(60_000),
    position: async (leader) => (await status(leader))?.commit ?? 0,
    memberPosition: async (i) => (await status(i))?.applied ?? null,
    lag: async (i, leader) => {
      const [a, b] = await Promise.all([status(leader), status(i)]);
      return a === null || b === null ? null : Math.max(0, a.commit - b.applied);
    },
    replace: async (i, leader, onStarting) => {
      const m = masters[i];
      const addr = `${m.spec.host}:${m.spec.httpPort}`;
      const removed = await cfsGet(masters[leader].url, '/raftNode/remove', { id: m.spec.id, addr }, { timeoutMs: 30_000 });
      if (removed.envelope?.code !== 0) throw new Error(`raftNode/remove: ${removed.status} ${removed.body.slice(0, 200)}`);
      if (m.running) {
        m.signal('SIGTERM');
        await m.waitExit(30_000).catch(() => undefined);
      }
      rmSync(path.join(m.spec.dataDir, 'wal'), { recursive: true, force: true });
      rmSync(path.join(m.spec.dataDir, 'store'), { recursive: true, force: true });
      // A new member joins the group: it must not bootstrap a log of its own (config `join`).
      const config = JSON.parse(readFileSync(m.configPath, 'utf8')) as Record<string, unknown>;
      writeFileSync(m.configPath, JSON.stringify({ ...config, join: true }, null, 2));
      onStarting?.();
      await m.start(60_000);
      // /raftNode/add answers once the learner caught up and was promoted: not awaited here,
      // the caller watches the member's position.
      void cfsGet(masters[leader].url, '/raftNode/add', { id: m.spec.id, addr }, { timeoutMs: MEMBER_ADD_TIMEOUT_MS }).catch(() => undefined);
    },
    stop: async () => {
      for (const m of masters) if (m.running) m.signal('SIGTERM');
      await Promise.all(masters.filter((m) => m.running).map((m) => m.waitExit(30_000).catch(() => undefined)));
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

export async function startEtcd(members: number, subnet: number): Promise<ControllableSystem> {
  const etcd = new EtcdCluster(members, subnet);
  const revision = async (i: number): Promise<number | null> => (await etcd.status(i))?.revision ?? null;
  try {
    await etcd.ready();
  } catch (error) {
    await etcd.stop();
    throw error;
  }
  return {
    name: 'etcd 3.4',
    urls: etcd.clientUrls,
    leader: () => etcd.leaderIndex(),
    pids: () => etcd.pids(),
    signal: (i, sig) => etcd.signal(i, sig),
    waitExit: (i, timeoutMs) => etcd.waitExit(i, timeoutMs),
    start: async (i) => {
      etcd.start(i, 'existing');
      await waitFor(`etcd member ${i + 1} to answer`, 60_000, async () => (await etcd.status(i)) !== null);
    },
    position: async (leader) => (await revision(leader)) ?? 0,
    memberPosition: revision,
    lag: async (i, leader) => {
      const [a, b] = await Promise.all([revision(leader), revision(i)]);
      return a === null || b === null ? null : Math.max(0, a - b);
    },
    replace: async (i, leader, onStarting) => {
      await etcd.memberRemove(i, leader);
      etcd.signal(i, 'SIGTERM');
      await etcd.waitExit(i);
      etcd.wipe(i);
      await etcd.memberAdd(i, leader);
      onStarting?.();
      etcd.start(i, 'existing');
      await waitFor(`etcd member ${i + 1} to answer`, 60_000, async () => (await etcd.status(i)) !== null);
    },
    stop: () => etcd.stop(),
  };
}

export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ------------------------------------------------------------------ process accounting

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

/** Resident set size of a process in bytes (NaN once it is gone). */
export function residentBytes(pid: number): number {
  if (pid === 0) return NaN;
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line === undefined ? NaN : Number(line.split(/\s+/)[1]) * 1024;
  } catch {
    return NaN;
  }
}
