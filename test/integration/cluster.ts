// A cluster of masters as real processes on loopback: each on its own 127.0.0.x address with the
// same ports (bindIp), as CubeFS deployments run them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cfsGet } from './cfs-client.js';
import { MasterProcess, type MasterSpec } from './master-process.js';

export interface ClusterOptions {
  /** Third octet of the loopback addresses: members are 127.<subnet>.0.<1..n>... kept distinct per test file. */
  readonly subnet: number;
  readonly size: number;
  readonly extraConfig?: Record<string, unknown>;
  /** Config keys of one member (its own certificate files...), over extraConfig. */
  readonly memberConfig?: (id: number, host: string) => Record<string, unknown>;
  /** Every member runs this CLI command (default `server`), e.g. `recover` with its flags. */
  readonly command?: MasterSpec['command'];
}

export class MasterCluster {
  readonly masters: MasterProcess[];
  readonly dir: string;

  constructor(readonly options: ClusterOptions) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'cluster-'));
    const hosts = Array.from({ length: options.size }, (_, i) => `127.0.${options.subnet}.${i + 1}`);
    const peers = hosts.map((h, i) => `${i + 1}:${h}:17010:17110`).join(',');
    this.masters = hosts.map(
      (host, i) =>
        new MasterProcess({
          id: i + 1,
          host,
          httpPort: 17010,
          raftPort: 17110,
          peers,
          dataDir: path.join(this.dir, `m${i + 1}`),
          extraConfig: { ...options.extraConfig, ...options.memberConfig?.(i + 1, host) },
          command: options.command,
        }),
    );
  }

  get urls(): string[] {
    return this.masters.map((m) => m.url);
  }

  async start(): Promise<void> {
    await Promise.all(this.masters.map((m) => m.start()));
  }

  /** The member all running members agree leads (by its HTTP address), waiting up to `timeoutMs`. */
  async leader(timeoutMs = 15_000): Promise<MasterProcess> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const views = await Promise.all(
        this.masters
          .filter((m) => m.running)
          .map(async (m) => {
            try {
              const reply = await cfsGet<{ LeaderAddr: string }>(m.url, '/admin/getCluster', {}, { timeoutMs: 2000 });
              return reply.envelope?.code === 0 ? reply.envelope.data.LeaderAddr : '';
            } catch {
              return '';
            }
          }),
      );
      const addr = views[0];
      if (addr !== '' && views.every((v) => v === addr)) {
        const leader = this.masters.find((m) => `${m.spec.host}:${m.spec.httpPort}` === addr);
        if (leader?.running === true) return leader;
      }
      if (Date.now() > deadline) throw new Error(`no agreed leader within ${timeoutMs} ms: ${JSON.stringify(views)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    for (const m of this.masters) if (m.running) m.signal('SIGTERM');
    await Promise.all(this.masters.filter((m) => m.running).map((m) => m.waitExit(20_000).catch(() => undefined)));
  }

  async destroy(): Promise<void> {
    await Promise.all(this.masters.map((m) => m.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
