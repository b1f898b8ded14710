// A target is one master group under test (the Go reference or cubemaster) with its nodes, its
// cfs-cli home and its temp dir. Both kinds are started the same way so their outputs compare.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MasterProcess } from '../integration/master-process.js';
import type { CubefsBinaries, NodeProviderName, TargetKind } from './env.js';
import { GoProcess } from './go-process.js';
import { cfsData, waitFor } from './http.js';
import { startNodes, type StartedNodes } from './nodes.js';
import { layoutPorts, portLayout, reservePorts, type PortLayout } from './ports.js';

/** The same on both sides: cfs-cli prints it. */
export const CLUSTER_NAME = 'cfstest';

export interface TargetOptions {
  readonly kind: TargetKind;
  /** Shown in reports; defaults to `Go` / `cubemaster`. */
  readonly label?: string;
  readonly bins: CubefsBinaries;
  readonly masters: 1 | 3;
  readonly metaNodes: number;
  readonly dataNodes: number;
  readonly nodeProvider: NodeProviderName;
  /** Second octet... of the loopback addresses for a 3-member group: 127.0.<octet>.<1..3>. */
  readonly loopbackOctet: number;
  /** Start-up waits; the reference must make them, cubemaster may not (yet). */
  readonly readyTimeoutMs: number;
  readonly nodeRegisterTimeoutMs: number;
  readonly nodeWritableTimeoutMs: number;
}

export interface Target {
  readonly kind: TargetKind;
  readonly label: string;
  readonly dir: string;
  /** host:port of every master, in the order cfs-cli is given them. */
  readonly masterAddrs: readonly string[];
  readonly cliHome: string;
  readonly ports: PortLayout;
  nodes: StartedNodes | null;
  /** Problems met while setting up (cubemaster's are reported, the reference's fail the run). */
  readonly notes: string[];
  startNodes(): Promise<void>;
  stop(): Promise<void>;
  /** Where to look when something failed. */
  logPaths(): string[];
}

const MASTER_EXTRA = {
  clusterName: CLUSTER_NAME,
  // One metanode and one datanode: mp replica count 1 (spec 9), as in the reference captures.
  singleNodeMode: true,
  // Below 32 MiB the Go master uses 1 GiB, which a 4 GiB test metanode cannot spare.
  metaNodeReservedMem: '67108864',
} as const;

function hostsFor(options: TargetOptions): string[] {
  return options.masters === 1 ? ['127.0.0.1'] : [1, 2, 3].map((i) => `127.0.${options.loopbackOctet}.${i}`);
}

export async function startTarget(options: TargetOptions): Promise<Target> {
  const dir = mkdtempSync(path.join(tmpdir(), `cubefs-${options.kind}-`));
  const ports = await reservePorts(
    (base) => portLayout(base, options.masters, options.metaNodes, options.dataNodes),
    layoutPorts,
  );
  const hosts = hostsFor(options);
  // A group shares one set of ports on distinct loopback addresses (raft ports are per cluster in CubeFS).
  const m = ports.masters[0];
  const masterAddrs = hosts.map((h) => `${h}:${m.http}`);
  const cliHome = path.join(dir, 'cli-home');
  mkdirSync(cliHome, { recursive: true });
  writeFileSync(path.join(cliHome, '.cfs-cli.json'), JSON.stringify({ masterAddr: masterAddrs, timeout: 60 }));

  const goMasters: GoProcess[] = [];
  const cmMasters: MasterProcess[] = [];
  const target: Target = {
    kind: options.kind,
    label: options.label ?? (options.kind === 'go' ? 'Go' : 'cubemaster'),
    dir,
    masterAddrs,
    cliHome,
    ports,
    nodes: null,
    notes: [],
    async startNodes() {
      const nodes = await startNodes(options.nodeProvider, {
        masterAddrs,
        dir,
        metaPorts: ports.metaNodes,
        dataPorts: ports.dataNodes,
        bins: options.bins,
        registerTimeoutMs: options.nodeRegisterTimeoutMs,
        writableTimeoutMs: options.nodeWritableTimeoutMs,
      });
      target.nodes = nodes;
      for (const p of nodes.problems) target.notes.push(`nodes (${nodes.provider}): ${p}`);
    },
    async stop() {
      await target.nodes?.stop();
      await Promise.all(goMasters.map((p) => p.stop()));
      await Promise.all(
        cmMasters.map(async (p) => {
          if (p.running) {
            p.signal('SIGTERM');
            await p.waitExit(20_000).catch(() => undefined);
          }
          await p.kill();
          writeFileSync(path.join(p.spec.dataDir, 'output.txt'), p.logs);
        }),
      );
    },
    logPaths() {
      const masters = options.kind === 'go' ? goMasters.map((p) => p.dir) : cmMasters.map((p) => path.join(p.spec.dataDir, 'output.txt'));
      return [...masters, ...(target.nodes?.logs ?? [])];
    },
  };

  try {
    if (options.kind === 'go') {
      const peers = hosts.map((h, i) => `${i + 1}:${h}:${m.http}`).join(',');
      for (const [i, host] of hosts.entries()) {
        const mdir = path.join(dir, `master${i + 1}`);
        const config = {
          role: 'master',
          id: String(i + 1),
          ip: host,
          listen: String(m.http),
          // Go binds the profiling port on every interface: one per master even on distinct addresses.
          prof: String(ports.masters[i].prof),
          bindIp: options.masters > 1,
          peers,
          heartbeatPort: String(m.heartbeat),
          replicaPort: String(m.replica),
          retainLogs: '20000',
          walDir: path.join(mdir, 'wal'),
          storeDir: path.join(mdir, 'store'),
          logDir: path.join(mdir, 'log'),
          logLevel: 'info',
          ...MASTER_EXTRA,
        };
        goMasters.push(new GoProcess('master', options.bins.server, mdir, config));
      }
      for (const p of goMasters) p.start();
      await Promise.all(
        goMasters.map((p, i) =>
          waitFor(`Go master ${masterAddrs[i]} to answer /admin/getIp (log: ${p.dir})`, options.readyTimeoutMs, async () => {
            if (!p.running) throw new Error(`exited ${JSON.stringify(p.exitInfo)}: ${p.tail(10)}`);
            await cfsData(masterAddrs[i], '/admin/getIp', 1000);
            return true;
          }),
        ),
      );
    } else {
      const peers = hosts.map((h, i) => `${i + 1}:${h}:${m.http}:${m.replica}`).join(',');
      for (const [i, host] of hosts.entries()) {
        cmMasters.push(
          new MasterProcess({
            id: i + 1,
            host,
            httpPort: m.http,
            raftPort: m.replica,
            peers,
            dataDir: path.join(dir, `master${i + 1}`),
            // The Go master removes a vol marked for deletion only after its check rounds (tens
            // of seconds); the cases that look at a marked vol need it still there.
            extraConfig: { ...MASTER_EXTRA, heartbeatPort: m.heartbeat, volRemovalDelayMs: 60_000 },
          }),
        );
      }
      await Promise.all(cmMasters.map((p) => p.start(options.readyTimeoutMs)));
    }
    await waitFor(`a leader on ${masterAddrs.join(',')} (/admin/getCluster)`, options.readyTimeoutMs, async () => {
      const views = await Promise.all(masterAddrs.map((a) => cfsData<{ LeaderAddr: string }>(a, '/admin/getCluster', 2000)));
      return views.every((v) => v.LeaderAddr !== '' && v.LeaderAddr === views[0].LeaderAddr) ? true : undefined;
    });
  } catch (error) {
    await target.stop();
    (error as Error).message += `\n${target.label} logs: ${target.logPaths().join(', ')}`;
    throw error;
  }
  return target;
}

export function removeTargetDir(target: Target): void {
  rmSync(target.dir, { recursive: true, force: true });
}
