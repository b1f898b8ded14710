// Meta and data nodes for a master under test, behind one interface so the provider can be
// swapped: real Go metanode + datanode processes (the reference setup of spec/node-protocol.md,
// "Objectnode end-to-end"), simulated nodes from src/nodes/sim (loaded only if that module exists
// at run time), or none.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CubefsBinaries, NodeProviderName } from './env.js';
import { GoProcess } from './go-process.js';
import { cfsData, waitFor } from './http.js';
import type { NodePorts } from './ports.js';

export interface NodeAddr {
  readonly addr: string;
  readonly heartbeatPort?: number;
  readonly replicaPort?: number;
}

export interface StartedNodes {
  readonly provider: NodeProviderName;
  readonly meta: NodeAddr[];
  readonly data: NodeAddr[];
  /** Log files worth reading when something fails. */
  readonly logs: string[];
  /** What did not come up within the bounded waits (the nodes are kept running anyway). */
  readonly problems: string[];
  stop(): Promise<void>;
}

export interface NodeRequest {
  readonly masterAddrs: readonly string[];
  /** The target's directory; the nodes get `mn<i>/` and `dn<i>/` under it. */
  readonly dir: string;
  readonly metaPorts: readonly NodePorts[];
  readonly dataPorts: readonly NodePorts[];
  readonly bins: CubefsBinaries;
  /** Bounded waits: registration of each node, then all of them writable. */
  readonly registerTimeoutMs: number;
  readonly writableTimeoutMs: number;
}

interface NodeView {
  Addr: string;
  ID: number;
  IsWritable: boolean;
  Status: boolean;
}

async function listed(master: string, route: string, addr: string): Promise<NodeView | undefined> {
  const nodes = await cfsData<NodeView[] | null>(master, route);
  return (nodes ?? []).find((n) => n.Addr === addr);
}

const META_ROUTE = '/admin/cluster/getAllMetaNodes';
const DATA_ROUTE = '/admin/cluster/getAllDataNodes';

/**
 * Real Go nodes. They start one at a time, each after the previous one registered, so node ids
 * (which share the master's common id counter) come out in the same order on every master.
 */
export async function startGoNodes(req: NodeRequest): Promise<StartedNodes> {
  const master = req.masterAddrs[0];
  const procs: GoProcess[] = [];
  const started: StartedNodes = {
    provider: 'go',
    meta: req.metaPorts.map((p) => ({ addr: `127.0.0.1:${p.listen}`, heartbeatPort: p.raftHeartbeat, replicaPort: p.raftReplica })),
    data: req.dataPorts.map((p) => ({ addr: `127.0.0.1:${p.listen}`, heartbeatPort: p.raftHeartbeat, replicaPort: p.raftReplica })),
    logs: [],
    problems: [],
    stop: async () => {
      await Promise.all(procs.map((p) => p.stop()));
    },
  };
  const startOne = async (proc: GoProcess, route: string, addr: string): Promise<void> => {
    procs.push(proc);
    started.logs.push(proc.outputPath, path.join(proc.dir, 'log'));
    proc.start();
    try {
      await waitFor(`${proc.name} ${addr} to register with ${master} (log: ${proc.dir})`, req.registerTimeoutMs, async () => {
        if (!proc.running) throw new Error(`${proc.name} exited ${JSON.stringify(proc.exitInfo)}: ${proc.tail(5)}`);
        return (await listed(master, route, addr)) === undefined ? undefined : true;
      });
    } catch (error) {
      // Keep going: the next node still starts (its id may then differ), the cases show the rest.
      started.problems.push((error as Error).message);
    }
  };
  try {
    for (const [i, p] of req.metaPorts.entries()) {
      const dir = path.join(req.dir, `mn${i + 1}`);
      const config = {
        role: 'metanode',
        listen: String(p.listen),
        prof: String(p.prof),
        localIP: '127.0.0.1',
        raftHeartbeatPort: String(p.raftHeartbeat),
        raftReplicaPort: String(p.raftReplica),
        totalMem: '4294967296',
        masterAddr: req.masterAddrs,
        metadataDir: path.join(dir, 'meta'),
        raftDir: path.join(dir, 'raft'),
        logDir: path.join(dir, 'log'),
        logLevel: 'info',
      };
      await startOne(new GoProcess('metanode', req.bins.server, dir, config), META_ROUTE, started.meta[i].addr);
    }
    for (const [i, p] of req.dataPorts.entries()) {
      const dir = path.join(req.dir, `dn${i + 1}`);
      mkdirSync(path.join(dir, 'disk1'), { recursive: true });
      const config = {
        role: 'datanode',
        listen: String(p.listen),
        prof: String(p.prof),
        localIP: '127.0.0.1',
        raftHeartbeat: String(p.raftHeartbeat),
        raftReplica: String(p.raftReplica),
        // path:reserved bytes; the datanode keeps at least 5 GB free on its own.
        disks: [`${path.join(dir, 'disk1')}:1073741824`],
        mediaType: 1,
        masterAddr: req.masterAddrs,
        raftDir: path.join(dir, 'raft'),
        logDir: path.join(dir, 'log'),
        logLevel: 'info',
      };
      await startOne(new GoProcess('datanode', req.bins.server, dir, config), DATA_ROUTE, started.data[i].addr);
    }
    if (started.problems.length === 0) await waitWritable(master, started, req.writableTimeoutMs);
  } catch (error) {
    started.problems.push(`${(error as Error).message}\nnode logs: ${started.logs.join(', ')}`);
  }
  return started;
}

/** Every node active and writable (a datanode reports its disk space about 10-20 s after start). */
export async function waitWritable(master: string, nodes: StartedNodes, timeoutMs: number): Promise<void> {
  for (const [route, list] of [
    [META_ROUTE, nodes.meta],
    [DATA_ROUTE, nodes.data],
  ] as const) {
    for (const n of list) {
      await waitFor(`${n.addr} to be active and writable on ${master}`, timeoutMs, async () => {
        const view = await listed(master, route, n.addr);
        return view !== undefined && view.Status && view.IsWritable ? true : undefined;
      });
    }
  }
}

type StartSimNodes = (options: { masterAddrs: string[]; meta: number; data: number; zones: string[] }) => Promise<unknown>;

/** The compiled src/nodes/sim module that exports startSimNodes, if one exists. */
export async function findSimNodes(): Promise<{ file: string; start: StartSimNodes } | null> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dir = path.join(here, '..', '..', 'src', 'nodes', 'sim');
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .sort((a, b) => (a === 'index.js' ? -1 : b === 'index.js' ? 1 : a.localeCompare(b)));
  for (const f of files) {
    const file = path.join(dir, f);
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    if (typeof mod.startSimNodes === 'function') return { file, start: mod.startSimNodes as StartSimNodes };
  }
  return null;
}

/** Simulated nodes (src/nodes/sim); their addresses are read back from the master. */
export async function startSimNodes(req: NodeRequest): Promise<StartedNodes> {
  const sim = await findSimNodes();
  if (sim === null) throw new Error('CUBEFS_CM_NODES=sim: no compiled module under dist/src/nodes/sim exports startSimNodes');
  const handle = (await sim.start({ masterAddrs: [...req.masterAddrs], meta: req.metaPorts.length, data: req.dataPorts.length, zones: ['default'] })) as Record<string | symbol, unknown>;
  const stopFn = ['stop', 'close', 'shutdown'].map((k) => handle[k]).find((f) => typeof f === 'function') ?? handle[Symbol.asyncDispose];
  const started: StartedNodes = {
    provider: 'sim',
    meta: [],
    data: [],
    logs: [sim.file],
    problems: [],
    stop: async () => {
      if (typeof stopFn === 'function') await (stopFn as () => Promise<void>).call(handle);
    },
  };
  try {
    const master = req.masterAddrs[0];
    for (const [route, list, want] of [
      [META_ROUTE, started.meta, req.metaPorts.length],
      [DATA_ROUTE, started.data, req.dataPorts.length],
    ] as const) {
      const views = await waitFor(`${want} simulated nodes listed by ${route}`, req.registerTimeoutMs, async () => {
        const nodes = (await cfsData<NodeView[] | null>(master, route)) ?? [];
        return nodes.length >= want ? nodes : undefined;
      });
      for (const v of [...views].sort((a, b) => a.ID - b.ID)) list.push({ addr: v.Addr });
    }
    await waitWritable(master, started, req.writableTimeoutMs);
  } catch (error) {
    started.problems.push((error as Error).message);
  }
  return started;
}

export async function startNodes(provider: NodeProviderName, req: NodeRequest): Promise<StartedNodes> {
  if (provider === 'go') return startGoNodes(req);
  if (provider === 'sim') return startSimNodes(req);
  return { provider: 'none', meta: [], data: [], logs: [], problems: [], stop: () => Promise.resolve() };
}
