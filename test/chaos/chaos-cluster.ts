// The cluster under chaos: real master processes in chaos mode (disk stalls available), each on
// its own loopback IP, talking Raft through the fault-injecting proxy. It knows how to break a
// member (kill, stop, pause) and how to bring everything back and wait until the members agree.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cfsGet } from '../integration/cfs-client.js';
import { MasterProcess } from '../integration/master-process.js';
import { memberStatus } from '../integration/member-status.js';
import type { MemberStatus } from '../../src/cluster/ports.js';
import type { SeededRandom } from '../../src/raft/core/index.js';
import type { ChaosStore } from '../../src/server/chaos-hooks.js';
import type { ChaosTls } from './chaos-tls.js';
import { ForwardProxy, PipeProxy } from './link-proxies.js';
import { NetworkProxy } from './network-proxy.js';

export const HTTP_PORT = 17010;
/** A second process on a member's data dir (openTwice) would serve here, if it ever started. */
const INTRUDER_HTTP_PORT = 17011;
/** What peers dial (the proxy). */
export const ADVERTISED_RAFT_PORT = 17110;
/** Where members really listen. */
export const LISTEN_RAFT_PORT = 17210;
/** Every member's HTTP address in `peers`: the forwarding proxy (link-proxies.ts); plain HTTP runs only. */
export const FORWARD_PORT = 17310;
/** Where the simulated nodes reach each member (a proxy to its HTTP port). */
export const NODE_PORT = 17410;
/** How long a member may take to answer after it is started. */
const START_TIMEOUT_MS = 60_000;
/** The end of a link that stands for the simulated nodes (members are 1..n). */
export const NODES = 0;

export interface ChaosClusterOptions {
  readonly size: number;
  /** Third octet of the members' loopback addresses (127.0.<subnet>.<id>). */
  readonly subnet: number;
  readonly dir: string;
  readonly tickIntervalMs: number;
  readonly electionTick: number;
  readonly random: SeededRandom;
  /** More master config keys (domain-nodes.ts DOMAIN_MASTER_CONFIG for runs with nodes). */
  readonly extraConfig?: Readonly<Record<string, unknown>>;
  /** Peer TLS and/or HTTPS (chaos-tls.ts); absent: plain TCP and HTTP. */
  readonly tls?: ChaosTls;
}

export type DiskFault =
  | { readonly fault: 'slow'; readonly store: ChaosStore; readonly delayMs: number; readonly durationMs: number }
  | { readonly fault: 'full'; readonly store: ChaosStore; readonly durationMs: number }
  | { readonly fault: 'fsync-error'; readonly store: ChaosStore }
  | { readonly fault: 'clear' };

export class ChaosCluster {
  readonly masters: MasterProcess[];
  readonly proxy: NetworkProxy;
  readonly paused = new Set<MasterProcess>();

  constructor(readonly options: ChaosClusterOptions) {
    const hosts = Array.from({ length: options.size }, (_, i) => `127.0.${options.subnet}.${i + 1}`);
    // HTTPS forwards cannot be read by a proxy: with it, members forward to each other directly.
    this.advertisedHttpPort = options.tls?.https === true ? HTTP_PORT : FORWARD_PORT;
    const peers = hosts.map((h, i) => `${i + 1}:${h}:${this.advertisedHttpPort}:${ADVERTISED_RAFT_PORT}`).join(',');
    this.masters = hosts.map(
      (host, i) =>
        new MasterProcess({
          id: i + 1,
          host,
          httpPort: HTTP_PORT,
          raftPort: ADVERTISED_RAFT_PORT,
          peers,
          dataDir: path.join(options.dir, `m${i + 1}`),
          extraConfig: {
            raftListenPort: LISTEN_RAFT_PORT,
            tickInterval: options.tickIntervalMs,
            electionTick: options.electionTick,
            retainLogs: 500,
            proposalTimeoutMs: 5000,
            shutdownTimeoutMs: 5000,
            // CHAOS_LOG_LEVEL=debug: every refused request in the members' logs, for a post-mortem.
            logLevel: process.env.CHAOS_LOG_LEVEL ?? 'info',
            ...options.extraConfig,
            ...options.tls?.memberConfig(i + 1),
          },
          env: { CUBEMASTER_CHAOS: '1' },
        }),
    );
    this.proxy = new NetworkProxy(
      hosts.map((host, i) => ({ id: i + 1, host, advertisedPort: ADVERTISED_RAFT_PORT, listenPort: LISTEN_RAFT_PORT })),
      options.random,
      options.tls?.peer === true ? 'tls-records' : 'frames',
    );
    this.forwardProxies = this.advertisedHttpPort === HTTP_PORT ? [] : hosts.map((host, i) => new ForwardProxy({ host, port: FORWARD_PORT }, { host, port: HTTP_PORT }, (from) => this.blocked(from, i + 1)));
    this.nodeProxies = hosts.map((host, i) => new PipeProxy({ host, port: NODE_PORT }, { host, port: HTTP_PORT }, () => this.blocked(NODES, i + 1)));
  }

  /** Links cut (`from>to`) on forwarding and node traffic; Raft links are the proxy's rules. */
  private readonly cutLinks = new Set<string>();
  private readonly forwardProxies: ForwardProxy[];
  private readonly nodeProxies: PipeProxy[];
  /** The task proxies of the simulated nodes (domain-nodes.ts registers them). */
  readonly taskProxies: PipeProxy[] = [];
  readonly advertisedHttpPort: number;

  /** Whether the link from `from` to `to` (member ids, or NODES) is cut. */
  blocked(from: number, to: number): boolean {
    if (to === NODES) return [...this.cutLinks].some((link) => link.endsWith(`>${NODES}`));
    return this.cutLinks.has(`${from}>${to}`);
  }

  /**
   * Cuts or heals the link from `from` to `to`, on every kind of traffic it carries: between
   * members, Raft messages and HTTP forwards; between the nodes (NODES) and a member, the nodes'
   * reports (NODES -> member) or the admin tasks (member -> NODES).
   */
  setBlocked(from: number, to: number, blocked: boolean): void {
    const key = `${from}>${to}`;
    if (blocked) this.cutLinks.add(key);
    else this.cutLinks.delete(key);
    if (from !== NODES && to !== NODES) this.proxy.setRule(from, to, { blocked });
    if (!blocked) return;
    if (from === NODES) this.nodeProxies[to - 1].cut();
    else if (to === NODES) for (const p of this.taskProxies) p.cut();
    else this.forwardProxies[to - 1]?.cut(from);
  }

  /** Cuts both directions between the two sides (NODES may be on either). */
  partition(sideA: readonly number[], sideB: readonly number[]): void {
    for (const a of sideA) for (const b of sideB) {
      this.setBlocked(a, b, true);
      this.setBlocked(b, a, true);
    }
  }

  /** host:port the nodes dial for member `id`. */
  nodeAddr(id: number): string {
    return `${this.member(id).spec.host}:${NODE_PORT}`;
  }

  /** The member's HTTP address as the members know it (what /raftNode/add takes). */
  httpAddr(id: number): string {
    return `${this.member(id).spec.host}:${this.advertisedHttpPort}`;
  }

  get electionTimeoutMs(): number {
    return this.options.tickIntervalMs * this.options.electionTick;
  }

  async start(): Promise<void> {
    await this.proxy.start();
    for (const p of [...this.forwardProxies, ...this.nodeProxies]) await p.start();
    // 60 s as for restarts: five members starting at once on a loaded 2-core machine have taken
    // more than the default 20 s to answer.
    await Promise.all(this.masters.map((m) => m.start(START_TIMEOUT_MS)));
  }

  /** HTTP addresses of members that are running and not paused (where clients may go). */
  liveUrls(): string[] {
    return this.masters.filter((m) => m.running && !this.paused.has(m)).map((m) => m.url);
  }

  member(id: number): MasterProcess {
    return this.masters[id - 1];
  }

  /** The leader id most running members report, or 0. */
  async leaderId(): Promise<number> {
    const statuses = await this.statuses();
    const votes = new Map<number, number>();
    for (const s of statuses.values()) if (s.leaderId !== 0) votes.set(s.leaderId, (votes.get(s.leaderId) ?? 0) + 1);
    let best = 0;
    let bestVotes = 0;
    for (const [id, n] of votes) if (n > bestVotes) [best, bestVotes] = [id, n];
    return best;
  }

  async statuses(): Promise<Map<number, MemberStatus>> {
    const out = new Map<number, MemberStatus>();
    await Promise.all(
      this.masters.map(async (m) => {
        if (!m.running || this.paused.has(m)) return;
        try {
          out.set(m.spec.id, await memberStatus(m.url));
        } catch {
          // not answering right now
        }
      }),
    );
    return out;
  }

  pause(m: MasterProcess): void {
    m.signal('SIGSTOP');
    this.paused.add(m);
  }

  resume(m: MasterProcess): void {
    m.signal('SIGCONT');
    this.paused.delete(m);
  }

  /**
   * A disk fault on one member (src/server/chaos-hooks.ts): `slow` (each fsync of the Raft log,
   * or each RocksDB write, takes delayMs longer for durationMs), `full` (writes refused with
   * ENOSPC for durationMs), `fsync-error` (the next fdatasync fails with EIO), `clear`.
   */
  async diskFault(m: MasterProcess, fault: DiskFault): Promise<void> {
    const reply = await cfsGet(m.url, '/cubemaster/chaos/disk', { ...fault }, { timeoutMs: 2000 });
    if (reply.envelope?.code !== 0) throw new Error(`disk fault ${JSON.stringify(fault)} on member ${m.spec.id}: ${reply.status} ${reply.body.slice(0, 200)}`);
  }

  /** Steps `m`'s wall clock (Date.now) to real time + offsetMs (src/server/chaos-hooks.ts ChaosClock). */
  async stepClock(m: MasterProcess, offsetMs: number): Promise<void> {
    const reply = await cfsGet(m.url, '/cubemaster/chaos/clock', { offsetMs }, { timeoutMs: 2000 });
    if (reply.envelope?.code !== 0) throw new Error(`clock step ${offsetMs} on member ${m.spec.id}: ${reply.status} ${reply.body.slice(0, 200)}`);
  }

  /**
   * Starts a second master process on `m`'s walDir and storeDir while `m` runs (an operator's
   * mistake: two services, or a restart script that did not wait). It must refuse at once, naming
   * the lock (walDir/cubemaster.lock, src/storage/dir-lock.ts), and never open the stores. Its
   * HTTP port is another one, so that `m`'s API answering is not taken for the intruder's.
   */
  async openTwice(m: MasterProcess, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
    const intruder = new MasterProcess({
      ...m.spec,
      httpPort: INTRUDER_HTTP_PORT,
      dataDir: path.join(this.options.dir, `intruder-m${m.spec.id}`),
      extraConfig: { ...m.spec.extraConfig, walDir: path.join(m.spec.dataDir, 'wal'), storeDir: path.join(m.spec.dataDir, 'store') },
    });
    const startedMs = performance.now();
    const started = await intruder.start(timeoutMs).then(
      () => true,
      () => false,
    );
    const tookMs = Math.round(performance.now() - startedMs);
    if (started) {
      await intruder.kill();
      return { ok: false, detail: `a second process started on the data dir in ${tookMs} ms` };
    }
    const exit = intruder.exitInfo ?? (await intruder.waitExit(5_000).catch(() => null));
    const named = /in use by another cubemaster process/.test(intruder.logs);
    const ok = exit !== null && exit.code !== 0 && exit.code !== null && named;
    return { ok, detail: `exit ${JSON.stringify(exit)} in ${tookMs} ms${named ? ', lock named' : `, lock not named: ${intruder.tail(5)}`}` };
  }

  /** Everything back to normal: links healed, paused members resumed, stopped ones started. */
  async healAll(): Promise<void> {
    this.proxy.healAll();
    this.cutLinks.clear();
    for (const m of [...this.paused]) this.resume(m);
    await Promise.all(this.masters.filter((m) => !m.running).map((m) => m.start(START_TIMEOUT_MS)));
    await Promise.all(this.masters.filter((m) => m.running).map((m) => this.diskFault(m, { fault: 'clear' }).catch(() => undefined)));
    await Promise.all(this.masters.filter((m) => m.running).map((m) => this.stepClock(m, 0).catch(() => undefined)));
  }

  /**
   * Waits until every member runs, agrees on one leader, and has applied the same index as the
   * leader's commit, twice in a row (nothing in flight).
   */
  async converge(timeoutMs: number): Promise<Map<number, MemberStatus>> {
    const deadline = Date.now() + timeoutMs;
    let previous = '';
    for (;;) {
      const statuses = await this.statuses();
      const all = [...statuses.values()];
      const leader = all[0]?.leaderId ?? 0;
      const commit = all.find((s) => s.nodeId === leader)?.commit ?? -1;
      const agreed =
        all.length === this.masters.length &&
        leader !== 0 &&
        all.every((s) => s.leaderId === leader && s.applied === commit && s.commit === commit);
      // In id order: the statuses arrive (and fill the map) in whatever order the members answer.
      const fingerprint = JSON.stringify(all.map((s) => [s.nodeId, s.applied, s.leaderId, s.term]).sort((a, b) => a[0] - b[0]));
      if (agreed && fingerprint === previous) return statuses;
      previous = agreed ? fingerprint : '';
      if (Date.now() > deadline) throw new Error(`members did not converge within ${timeoutMs} ms: ${JSON.stringify(all)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** SIGTERM every member and wait; returns the exit of each. */
  async stop(): Promise<Map<number, { code: number | null; signal: string | null }>> {
    for (const m of [...this.paused]) this.resume(m);
    for (const m of this.masters) if (m.running) m.signal('SIGTERM');
    const exits = new Map<number, { code: number | null; signal: string | null }>();
    await Promise.all(
      this.masters.map(async (m) => {
        try {
          exits.set(m.spec.id, await m.waitExit(20_000));
        } catch (error) {
          exits.set(m.spec.id, { code: null, signal: `did not exit: ${(error as Error).message.split('\n')[0]}` });
        }
      }),
    );
    await this.closeProxies();
    return exits;
  }

  /** Kills whatever still runs (after a failure) and closes the proxy. */
  async destroy(): Promise<void> {
    for (const m of [...this.paused]) this.resume(m);
    await Promise.all(this.masters.map((m) => m.kill()));
    await this.closeProxies();
  }

  private async closeProxies(): Promise<void> {
    await this.proxy.close();
    await Promise.all([...this.forwardProxies, ...this.nodeProxies, ...this.taskProxies].map((p) => p.close()));
  }

  /** Keeps each member's output next to the run, for the post-mortem. */
  saveLogs(dir: string): void {
    mkdirSync(dir, { recursive: true });
    for (const m of this.masters) writeFileSync(path.join(dir, `master-${m.spec.id}.log`), m.logs);
  }
}
