// etcd (Debian's etcd-server, 3.4) as the peer in the benchmarks: a cluster of 1, 3 or 5 members
// on loopback, each on its own 127.0.<subnet>.<i> address, spoken to through its HTTP/JSON
// gateway (grpc-gateway, /v3/...) so that both systems see the same HTTP client. Durability is
// etcd's default: the WAL is fsynced before a proposal is acknowledged (--unsafe-no-fsync is
// off), snapshots every 100,000 applied entries (--snapshot-count, 3.4's default).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function etcdAvailable(): boolean {
  return spawnSync('etcd', ['--version'], { stdio: 'ignore' }).status === 0;
}

export function etcdVersion(): string {
  const out = spawnSync('etcd', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return out.match(/etcd Version: (\S+)/)?.[1] ?? 'unknown';
}

interface EtcdMember {
  readonly name: string;
  readonly host: string;
  readonly dataDir: string;
  child: ChildProcess | null;
  exited: Promise<void> | null;
}

export class EtcdCluster {
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'etcd-bench-'));
  private readonly members: EtcdMember[];
  readonly clientUrls: string[];

  constructor(size: number, subnet: number) {
    this.members = Array.from({ length: size }, (_, i) => ({ name: `e${i + 1}`, host: `127.0.${subnet}.${i + 1}`, dataDir: path.join(this.dir, `e${i + 1}`), child: null, exited: null }));
    this.clientUrls = this.members.map((m) => `http://${m.host}:2379`);
    for (let i = 0; i < size; i++) this.start(i, 'new');
  }

  get size(): number {
    return this.members.length;
  }

  /** Starts member i; 'existing' joins a running cluster after `etcdctl member add`. */
  start(i: number, state: 'new' | 'existing' = 'new'): void {
    const m = this.members[i];
    if (m.child !== null) throw new Error(`etcd ${m.name} is running`);
    const initial = this.members.map((x) => `${x.name}=http://${x.host}:2380`).join(',');
    const child = spawn(
      'etcd',
      [
        '--name', m.name,
        '--data-dir', m.dataDir,
        '--listen-client-urls', `http://${m.host}:2379`,
        '--advertise-client-urls', `http://${m.host}:2379`,
        '--listen-peer-urls', `http://${m.host}:2380`,
        '--initial-advertise-peer-urls', `http://${m.host}:2380`,
        '--initial-cluster', initial,
        '--initial-cluster-state', state,
        '--log-level', 'error',
      ],
      { stdio: 'ignore' },
    );
    m.child = child;
    m.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  signal(i: number, sig: NodeJS.Signals): void {
    this.members[i].child?.kill(sig);
  }

  /** Waits for member i to exit (after a signal); SIGKILL after `timeoutMs`. */
  async waitExit(i: number, timeoutMs = 30_000): Promise<void> {
    const m = this.members[i];
    if (m.child === null || m.exited === null) return;
    const timer = setTimeout(() => m.child?.kill('SIGKILL'), timeoutMs);
    await m.exited;
    clearTimeout(timer);
    m.child = null;
    m.exited = null;
  }

  running(i: number): boolean {
    return this.members[i].child !== null;
  }

  /** Deletes member i's data directory (it must be stopped). */
  wipe(i: number): void {
    if (this.members[i].child !== null) throw new Error('wipe of a running member');
    rmSync(this.members[i].dataDir, { recursive: true, force: true });
  }

  pids(): number[] {
    return this.members.map((m) => (m.child !== null && m.child.exitCode === null && m.child.signalCode === null ? (m.child.pid ?? 0) : 0));
  }

  /** Waits until a put succeeds through every running member. */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < this.members.length; i++) {
      if (!this.running(i)) continue;
      for (;;) {
        try {
          const res = await fetch(`${this.clientUrls[i]}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b64('ready'), value: b64('1') }), signal: AbortSignal.timeout(2000) });
          if (res.ok) break;
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) throw new Error(`etcd at ${this.clientUrls[i]} not ready`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Member i's status: whether it leads, its raft index and the store revision it serves. */
  async status(i: number): Promise<{ isLeader: boolean; raftIndex: number; revision: number } | null> {
    try {
      const res = await fetch(`${this.clientUrls[i]}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(2000) });
      const s = (await res.json()) as { header: { member_id: string; revision?: string }; leader: string; raftIndex?: string };
      return { isLeader: s.header.member_id === s.leader, raftIndex: Number(s.raftIndex ?? 0), revision: Number(s.header.revision ?? 0) };
    } catch {
      return null;
    }
  }

  /** The index of the member that leads, from every member's maintenance status. */
  async leaderIndex(timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = 0; i < this.members.length; i++) {
        if (this.running(i) && (await this.status(i))?.isLeader === true) return i;
      }
      if (Date.now() > deadline) throw new Error(`etcd: no leader within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Removes member i from the cluster (etcdctl member remove), through member `via`. */
  async memberRemove(i: number, via: number): Promise<void> {
    const list = (await (await fetch(`${this.clientUrls[via]}/v3/cluster/member/list`, { method: 'POST', body: '{}' })).json()) as { members: { ID: string; name: string; peerURLs: string[] }[] };
    const peerUrl = `http://${this.members[i].host}:2380`;
    const member = list.members.find((m) => m.peerURLs.includes(peerUrl));
    if (member === undefined) return;
    await this.retryUnhealthy('member remove', () => fetch(`${this.clientUrls[via]}/v3/cluster/member/remove`, { method: 'POST', body: JSON.stringify({ ID: member.ID }) }));
  }

  /** Adds member i back as a new member (etcdctl member add), through member `via`. */
  async memberAdd(i: number, via: number): Promise<void> {
    await this.retryUnhealthy('member add', () => fetch(`${this.clientUrls[via]}/v3/cluster/member/add`, { method: 'POST', body: JSON.stringify({ peerURLs: [`http://${this.members[i].host}:2380`] }) }));
  }

  /**
   * etcd refuses membership changes while a member has not been connected for a few seconds
   * ("unhealthy cluster", strict reconfiguration check): retried for up to `timeoutMs`.
   */
  private async retryUnhealthy(what: string, call: () => Promise<Response>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await call();
      if (res.ok) return;
      const text = await res.text();
      if (!text.includes('unhealthy') || Date.now() > deadline) throw new Error(`etcd ${what}: ${res.status} ${text}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async stop(): Promise<void> {
    for (let i = 0; i < this.members.length; i++) this.signal(i, 'SIGTERM');
    await Promise.all(this.members.map((_, i) => this.waitExit(i)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}
