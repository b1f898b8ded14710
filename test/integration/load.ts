// Closed-loop write load on the master API, as CubeFS clients produce it: many concurrent
// clients creating users and registering meta nodes. Every acknowledged write is recorded, so a
// test can check after a stop, a kill or a failover that none was lost. A 503, a timeout or a
// dropped connection is an indeterminate outcome, not an acknowledgement.
import { cfsGet, cfsRequest, keepAliveAgents } from './cfs-client.js';

export interface LoadOptions {
  /** Masters to send to; a client moves to the next one after a failure (Go SDK behaviour). */
  readonly urls: readonly string[];
  readonly clients: number;
  /** Unique per run, so names never collide across runs on one data directory. */
  readonly prefix: string;
  readonly requestTimeoutMs?: number;
}

export interface LoadResult {
  readonly ackedUsers: Set<string>;
  /** addr -> node id of acknowledged /metaNode/add. */
  readonly ackedMetaNodes: Map<string, number>;
  readonly attempts: number;
  readonly acked: number;
  /** Non-ack outcomes by kind (http status, error code, connection error). */
  readonly failures: Map<string, number>;
}

export interface RunningLoad {
  /** Stops the clients and waits for their requests in flight. */
  stop(): Promise<LoadResult>;
  readonly result: LoadResult;
}

export function startLoad(options: LoadOptions): RunningLoad {
  const agents = keepAliveAgents(options.clients * 2);
  const result: LoadResult = { ackedUsers: new Set(), ackedMetaNodes: new Map(), attempts: 0, acked: 0, failures: new Map() };
  let running = true;
  const count = (kind: string) => result.failures.set(kind, (result.failures.get(kind) ?? 0) + 1);
  const mutable = result as { attempts: number; acked: number };

  const client = async (c: number): Promise<void> => {
    let target = c % options.urls.length;
    for (let seq = 0; running; seq++) {
      const url = options.urls[target];
      const isUser = seq % 2 === 0;
      mutable.attempts++;
      try {
        if (isUser) {
          const id = `${options.prefix}_${c}_${seq}`;
          const reply = await cfsRequest(url, '/user/create', { body: { id, type: 2 }, agents, timeoutMs: options.requestTimeoutMs ?? 15_000 });
          if (reply.status === 200 && reply.envelope?.code === 0) {
            result.ackedUsers.add(id);
            mutable.acked++;
            continue;
          }
          count(reply.status === 200 ? `code ${reply.envelope?.code}` : `http ${reply.status}`);
        } else {
          // A unique addr per attempt: 10.<client>.<seq/250>.<seq%250>.
          const addr = `10.${c}.${Math.floor(seq / 250) % 250}.${(seq % 250) + 1}:17210`;
          const reply = await cfsGet<number>(url, '/metaNode/add', { addr, zoneName: 'default' }, { agents, timeoutMs: options.requestTimeoutMs ?? 15_000 });
          if (reply.status === 200 && reply.envelope?.code === 0) {
            result.ackedMetaNodes.set(addr, reply.envelope.data);
            mutable.acked++;
            continue;
          }
          count(reply.status === 200 ? `code ${reply.envelope?.code}` : `http ${reply.status}`);
        }
      } catch (error) {
        count(`error ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      // A failure: try the next master after a short pause (no hot loop against a dead one).
      target = (target + 1) % options.urls.length;
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  const clients = Array.from({ length: options.clients }, (_, c) => client(c));
  return {
    result,
    async stop() {
      running = false;
      await Promise.all(clients);
      agents.http.destroy();
      agents.https.destroy();
      return result;
    },
  };
}

/** Every user and meta node the cluster holds, read through a linearizable barrier. */
export async function readState(url: string): Promise<{ users: Set<string>; metaNodes: Map<string, number> }> {
  const users = await cfsGet<{ user_id: string }[]>(url, '/user/list', {}, { timeoutMs: 30_000 });
  if (users.envelope?.code !== 0) throw new Error(`/user/list failed: ${users.status} ${users.body.slice(0, 200)}`);
  const nodes = await cfsGet<{ Addr: string; ID: number }[]>(url, '/admin/cluster/getAllMetaNodes', {}, { timeoutMs: 30_000 });
  if (nodes.envelope?.code !== 0) throw new Error(`getAllMetaNodes failed: ${nodes.status} ${nodes.body.slice(0, 200)}`);
  return {
    users: new Set(users.envelope.data.map((u) => u.user_id)),
    metaNodes: new Map(nodes.envelope.data.map((n) => [n.Addr, n.ID])),
  };
}

/** Names of acknowledged writes missing from `state` (empty when nothing was lost). */
export function lostWrites(acked: Pick<LoadResult, 'ackedUsers' | 'ackedMetaNodes'>, state: { users: Set<string>; metaNodes: Map<string, number> }): string[] {
  const lost: string[] = [];
  for (const u of acked.ackedUsers) if (!state.users.has(u)) lost.push(`user ${u}`);
  for (const [addr, id] of acked.ackedMetaNodes) {
    const have = state.metaNodes.get(addr);
    if (have !== id) lost.push(`metaNode ${addr} (acked id ${id}, now ${have})`);
  }
  return lost;
}
