// The Go CubeFS master (cfs-server from ../shared/tools/build-cubefs-ref.sh) as a peer in the
// benchmarks: 1 or 3 masters on 127.0.<subnet>.<i>, with its default durability (its Raft WAL
// and RocksDB as configured by the reference build). Absent binaries: goMasterBinary() is null.
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { cfsGet } from '../test/integration/cfs-client.js';
import { GoProcess } from '../test/cubefs/go-process.js';
import type { RunningSystem } from './systems.js';

export function goMasterBinary(): string | null {
  const file = path.join(process.env.CUBEFS_REF_DIR ?? path.join(homedir(), 'cubefs-ref'), 'cfs-server');
  try {
    accessSync(file, constants.X_OK);
    return file;
  } catch {
    return null;
  }
}

const HTTP_PORT = 17010;
const HEARTBEAT_PORT = 17030;
const REPLICA_PORT = 17040;
const PROF_PORT_BASE = 17050;

export async function startGoMaster(binary: string, members: number, subnet: number): Promise<RunningSystem> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-go-master-'));
  const hosts = Array.from({ length: members }, (_, i) => `127.0.${subnet}.${i + 1}`);
  const peers = hosts.map((h, i) => `${i + 1}:${h}:${HTTP_PORT}`).join(',');
  const masters = hosts.map((host, i) => {
    const mdir = path.join(dir, `master${i + 1}`);
    return new GoProcess('master', binary, mdir, {
      role: 'master',
      id: String(i + 1),
      ip: host,
      listen: String(HTTP_PORT),
      // Go binds its profiling port on every interface: one per master.
      prof: String(PROF_PORT_BASE + i),
      bindIp: true,
      peers,
      heartbeatPort: String(HEARTBEAT_PORT),
      replicaPort: String(REPLICA_PORT),
      retainLogs: '20000',
      walDir: path.join(mdir, 'wal'),
      storeDir: path.join(mdir, 'store'),
      logDir: path.join(mdir, 'log'),
      logLevel: 'error',
      clusterName: 'bench',
      metaNodeReservedMem: '67108864',
    });
  });
  const urls = hosts.map((h) => `http://${h}:${HTTP_PORT}`);
  const leader = async (timeoutMs = 60_000): Promise<number> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const views = await Promise.all(urls.map((u) => cfsGet<{ LeaderAddr: string }>(u, '/admin/getCluster', {}, { timeoutMs: 2000 }).catch(() => null)));
      const addr = views[0]?.envelope?.code === 0 ? views[0].envelope.data.LeaderAddr : '';
      if (addr !== '' && views.every((v) => v?.envelope?.code === 0 && v.envelope.data.LeaderAddr === addr)) {
        const index = hosts.findIndex((h) => `${h}:${HTTP_PORT}` === addr);
        if (index >= 0) return index;
      }
      if (Date.now() > deadline) throw new Error(`Go master: no agreed leader within ${timeoutMs} ms (logs under ${dir})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const system: RunningSystem = {
    name: 'Go master',
    urls,
    leader: () => leader(),
    pids: () => masters.map((m) => (m.running ? (m.pid ?? 0) : 0)),
    stop: async () => {
      await Promise.all(masters.map((m) => m.stop(15_000)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const m of masters) m.start();
    await leader();
  } catch (error) {
    await system.stop();
    throw error;
  }
  return system;
}
