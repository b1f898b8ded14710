// etcd (Debian's etcd-server, 3.4) as the peer in the benchmarks: a cluster of 1 or 3 members on
// loopback, written to through its HTTP/JSON gateway so that both systems see the same client.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function etcdAvailable(): boolean {
  return spawnSync('etcd', ['--version'], { stdio: 'ignore' }).status === 0;
}

export class EtcdCluster {
  private readonly children: ChildProcess[] = [];
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'etcd-bench-'));
  readonly clientUrls: string[];

  constructor(size: number, subnet: number) {
    const hosts = Array.from({ length: size }, (_, i) => `127.0.${subnet}.${i + 1}`);
    this.clientUrls = hosts.map((h) => `http://${h}:2379`);
    const initial = hosts.map((h, i) => `e${i + 1}=http://${h}:2380`).join(',');
    hosts.forEach((host, i) => {
      const child = spawn(
        'etcd',
        [
          '--name', `e${i + 1}`,
          '--data-dir', path.join(this.dir, `e${i + 1}`),
          '--listen-client-urls', `http://${host}:2379`,
          '--advertise-client-urls', `http://${host}:2379`,
          '--listen-peer-urls', `http://${host}:2380`,
          '--initial-advertise-peer-urls', `http://${host}:2380`,
          '--initial-cluster', initial,
          '--initial-cluster-state', 'new',
          '--log-level', 'error',
        ],
        { stdio: 'ignore' },
      );
      this.children.push(child);
    });
  }

  /** Waits until a put succeeds through every member. */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const url of this.clientUrls) {
      for (;;) {
        try {
          const res = await fetch(`${url}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b64('ready'), value: b64('1') }) });
          if (res.ok) break;
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) throw new Error(`etcd at ${url} not ready`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  pids(): number[] {
    return this.children.map((c) => (c.exitCode === null && c.signalCode === null ? (c.pid ?? 0) : 0));
  }

  /** The index of the member that leads, from every member's maintenance status. */
  async leaderIndex(timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = 0; i < this.clientUrls.length; i++) {
        try {
          const res = await fetch(`${this.clientUrls[i]}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(2000) });
          const status = (await res.json()) as { header: { member_id: string }; leader: string };
          if (status.header.member_id === status.leader) return i;
        } catch {
          // this member is down or not ready
        }
      }
      if (Date.now() > deadline) throw new Error(`etcd: no leader within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}
