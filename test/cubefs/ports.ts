// Free TCP ports for the processes of a run. The Go nodes listen on every interface and open
// a second (smux) listener at listen+500, so a whole layout is checked before it is used.
import { createServer } from 'node:net';

const handedOut = new Set<number>();

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function allFree(ports: readonly number[]): Promise<boolean> {
  for (const p of ports) {
    if (handedOut.has(p)) return false;
    if (!(await canBind(p, '0.0.0.0'))) return false;
  }
  return true;
}

/**
 * Finds a base port for which every port of `layout(base)` is free (on all interfaces) and
 * reserves them for this process. Bases are tried at random in [20000, 30000) in steps of 100.
 */
export async function reservePorts<T>(layout: (base: number) => T, ports: (value: T) => readonly number[], attempts = 200): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const base = 20000 + 100 * Math.floor(Math.random() * 95);
    const value = layout(base);
    const wanted = ports(value);
    if (await allFree(wanted)) {
      for (const p of wanted) handedOut.add(p);
      return value;
    }
  }
  throw new Error(`no free port layout found after ${attempts} attempts`);
}

/** The ports of one Go-style node: its service port, pprof, two raft ports and the smux port. */
export interface NodePorts {
  readonly listen: number;
  readonly prof: number;
  readonly raftHeartbeat: number;
  readonly raftReplica: number;
}

/** A target's layout: masters at base+10*i, meta nodes at base+40+10*j, data nodes at base+70+10*j. */
export interface PortLayout {
  readonly masters: { readonly http: number; readonly prof: number; readonly heartbeat: number; readonly replica: number }[];
  readonly metaNodes: NodePorts[];
  readonly dataNodes: NodePorts[];
}

export function portLayout(base: number, masters: number, metaNodes: number, dataNodes: number): PortLayout {
  const node = (b: number): NodePorts => ({ listen: b, prof: b + 1, raftHeartbeat: b + 2, raftReplica: b + 3 });
  return {
    masters: Array.from({ length: masters }, (_, i) => ({ http: base + 10 * i, prof: base + 10 * i + 1, heartbeat: base + 10 * i + 2, replica: base + 10 * i + 3 })),
    metaNodes: Array.from({ length: metaNodes }, (_, j) => node(base + 40 + 10 * j)),
    dataNodes: Array.from({ length: dataNodes }, (_, j) => node(base + 70 + 10 * j)),
  };
}

export function layoutPorts(layout: PortLayout): number[] {
  const out: number[] = [];
  for (const m of layout.masters) out.push(m.http, m.prof, m.heartbeat, m.replica);
  for (const n of [...layout.metaNodes, ...layout.dataNodes]) out.push(n.listen, n.prof, n.raftHeartbeat, n.raftReplica, n.listen + 500);
  return out;
}
