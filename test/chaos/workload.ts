// Concurrent clients on a small key space, for the chaos harness: they collide on purpose (a few
// user ids, a few meta and data node addrs, a few vol names created, updated, expanded and
// deleted by owners the clients guess, one cluster flag), and every operation goes into a
// history the linearizability checker reads against cubefs-model.ts.
//
// The node addrs are fake (nothing answers there): registration is what is checked. Vol creates
// need live meta and data nodes: the harness starts simulated ones (domain-nodes.ts); without
// them a create fails with "no node to place on", which is an answer the model checks too.
//
// Each client is a Jepsen process: one request at a time, inputs from its own seeded PRNG (so a
// client's sequence of inputs replays from the seed, whatever the timing). Like the Go SDK, it
// stays on a master while it answers with HTTP 200 and moves to the next one after any other
// status or a connection error. Outcome rules are in workload-outcome.ts; an indeterminate write
// goes into the history with `return: Infinity` (it may have taken effect at any time after its
// call, or never), an indeterminate read is left out (it says nothing).
//
// Bounded: one request in flight per client with a per-request timeout, at most
// `operationsMax` operations, counters by kind over a bounded set of kinds.

import { SeededRandom } from '../../src/raft/core/prng.js';
import { cfsRequest, keepAliveAgents } from '../integration/cfs-client.js';
import { CUBE_OP_NAMES, type ClientInput, type ClientOpName, type CubeInput, type CubeOperation } from './cubefs-model.js';
import { UNKNOWN_OUTPUT } from './lincheck/operation.js';
import { classifyError, classifyReply, requestFor, type Outcome } from './workload-outcome.js';

export interface WorkloadKeyCounts {
  /** User ids the clients share (default 8). */
  readonly users?: number;
  /** Meta node addrs the clients share (default 6). */
  readonly metaNodes?: number;
  /** Data node addrs the clients share (default 4). */
  readonly dataNodes?: number;
  /** Vol names the clients share (default 3). */
  readonly vols?: number;
  /** Vol owners the clients pick from, for creates and as the authKey of the others (default 2). */
  readonly owners?: number;
}

export type WorkloadMix = Readonly<Partial<Record<ClientOpName, number>>>;

export interface WorkloadOptions {
  /** The masters; read before every request, so the harness may change the list. */
  readonly urls: () => readonly string[];
  readonly clients: number;
  readonly seed: number;
  readonly keys?: WorkloadKeyCounts;
  readonly requestTimeoutMs: number;
  /** Relative weights of the operations (missing ones keep DEFAULT_MIX's; 0 disables). */
  readonly mix?: WorkloadMix;
  /** Operations started at most, over all clients (default 200 000). */
  readonly operationsMax?: number;
  /** Pause before the next request after a failure, so a dead master is no hot loop (default 5). */
  readonly failurePauseMs?: number;
  /** Prefix of the user ids, at most 18 characters matching ^[A-Za-z][A-Za-z0-9_]*$ (default from the seed). */
  readonly userIdPrefix?: string;
}

export const DEFAULT_MIX: Readonly<Record<ClientOpName, number>> = {
  'user.create': 3,
  'user.update': 2,
  'user.delete': 2,
  'user.info': 4,
  'metaNode.add': 1,
  'metaNode.get': 2,
  'dataNode.add': 1,
  'dataNode.get': 1,
  'cluster.freeze': 1,
  'cluster.get': 2,
  'vol.create': 2,
  'vol.get': 3,
  'vol.update': 1,
  'vol.expand': 1,
  // Rare: a deleted vol blocks its name until the leader's cleanup removes it (every 5 s), and
  // the clients are fast; more deletes would leave the names marked most of the time.
  'vol.delete': 0.2,
};

export interface WorkloadKeys {
  readonly userIds: readonly string[];
  readonly metaNodeAddrs: readonly string[];
  readonly dataNodeAddrs: readonly string[];
  readonly volNames: readonly string[];
  /** User ids outside `userIds`: a create makes its owner user, which must not be a workload user. */
  readonly owners: readonly string[];
}

export type OutcomeClass = Outcome['outcome'];

/** One finished request, as it happened (also for those the history leaves out or keeps open). */
export interface OutcomeEvent {
  readonly clientId: number;
  readonly f: ClientOpName;
  readonly url: string;
  /** performance.now() when it was sent and when its answer (or error) came. */
  readonly callMs: number;
  readonly returnMs: number;
  readonly outcome: OutcomeClass;
  /** 'ok', 'code 46', 'http 503', 'timeout', 'error ECONNREFUSED', 'malformed reply'... */
  readonly kind: string;
}

export interface WorkloadCounters {
  readonly started: number;
  readonly ok: number;
  readonly failed: number;
  readonly indeterminate: number;
  /** Refused before anything was proposed (left out of the history). */
  readonly rejected: number;
  /** Finished requests by kind; at most KINDS_MAX kinds, the rest counted under 'other'. */
  readonly byKind: ReadonlyMap<string, number>;
}

export interface WorkloadResult {
  /** Every operation with a definite outcome, and every write with an indeterminate one. */
  readonly history: CubeOperation[];
  readonly counters: WorkloadCounters;
  readonly keys: WorkloadKeys;
  /** User ids with at least one acknowledged create (a later delete may have removed them). */
  readonly ackedCreates: ReadonlySet<string>;
  /** addr → id of every acknowledged /metaNode/add: meta nodes are never removed, so all must stay. */
  readonly ackedMetaNodes: ReadonlyMap<string, number>;
  /** The same for /dataNode/add. */
  readonly ackedDataNodes: ReadonlyMap<string, number>;
  /** `<clientId>@<call>` → the master the operation was sent to (post-mortems). */
  readonly sentTo: ReadonlyMap<string, string>;
}

export interface RunningWorkload {
  readonly keys: WorkloadKeys;
  /** A snapshot of the counters so far. */
  counters(): WorkloadCounters;
  /** Calls `listener` after every finished request; returns the unsubscribe function. */
  onOutcome(listener: (event: OutcomeEvent) => void): () => void;
  /** Resolves when every client has stopped (operationsMax reached, or after stop()). */
  readonly finished: Promise<void>;
  /** Stops starting operations, waits for those in flight (each bounded by its timeout). */
  stop(): Promise<WorkloadResult>;
}

const KINDS_MAX = 64;
const KEYS_MAX = 250;

export function startWorkload(options: WorkloadOptions): RunningWorkload {
  const keys = workloadKeys(options);
  const mix = { ...DEFAULT_MIX, ...options.mix };
  const operationsMax = options.operationsMax ?? 200_000;
  const failurePauseMs = options.failurePauseMs ?? 5;
  if (!(options.clients >= 1 && options.requestTimeoutMs > 0 && operationsMax >= 0)) throw new RangeError('workload: bad clients, timeout or cap');
  if (!CUBE_OP_NAMES.some((f) => mix[f] > 0)) throw new RangeError('workload: the mix has no operation');

  const agents = keepAliveAgents(options.clients * 2);
  const history: CubeOperation[] = [];
  const ackedCreates = new Set<string>();
  const ackedMetaNodes = new Map<string, number>();
  const ackedDataNodes = new Map<string, number>();
  const sentTo = new Map<string, string>();
  const listeners = new Set<(event: OutcomeEvent) => void>();
  const counts = { started: 0, ok: 0, failed: 0, indeterminate: 0, rejected: 0, byKind: new Map<string, number>() };
  let running = true;

  const record = (event: OutcomeEvent): void => {
    counts[event.outcome]++;
    const kind = counts.byKind.has(event.kind) || counts.byKind.size < KINDS_MAX ? event.kind : 'other';
    counts.byKind.set(kind, (counts.byKind.get(kind) ?? 0) + 1);
    for (const listener of listeners) listener(event);
  };

  const client = async (clientId: number): Promise<void> => {
    const random = new SeededRandom(clientSeed(options.seed, clientId));
    let target = clientId;
    for (let seq = 0; running && counts.started < operationsMax; seq++) {
      const urls = options.urls();
      if (urls.length === 0) {
        await sleep(failurePauseMs);
        continue;
      }
      const url = urls[target % urls.length];
      const input = nextInput(random, mix, keys, `c${clientId}_${seq}`);
      const request = requestFor(input);
      counts.started++;
      const callMs = performance.now();
      let outcome: Outcome;
      try {
        const reply = await cfsRequest(url, request.pathAndQuery, { body: request.body, agents, timeoutMs: options.requestTimeoutMs });
        outcome = classifyReply(input, reply);
      } catch (error) {
        outcome = classifyError(error, input);
      }
      const returnMs = performance.now();
      if (outcome.outcome !== 'rejected') sentTo.set(`${clientId}@${callMs}`, url);
      if (outcome.outcome === 'ok' || outcome.outcome === 'failed') {
        history.push({ clientId, input, call: callMs, return: returnMs, output: outcome.output });
        if (outcome.outcome === 'ok' && input.f === 'user.create') ackedCreates.add(input.userId);
        if (outcome.outcome === 'ok' && outcome.output.kind === 'metaNode' && input.f === 'metaNode.add') ackedMetaNodes.set(input.addr, outcome.output.id);
        if (outcome.outcome === 'ok' && outcome.output.kind === 'dataNode' && input.f === 'dataNode.add') ackedDataNodes.set(input.addr, outcome.output.id);
      } else if (outcome.outcome === 'indeterminate' && !isRead(input)) {
        history.push({ clientId, input, call: callMs, return: Number.POSITIVE_INFINITY, output: UNKNOWN_OUTPUT });
      }
      record({ clientId, f: input.f, url, callMs, returnMs, outcome: outcome.outcome, kind: outcome.kind });
      // The SDK moves on after a non-200 status or a connection error, not after an envelope
      // (a create's refusal is kept as a failure, workload-outcome.ts, but moves on the same).
      if (outcome.kind !== 'ok' && !outcome.kind.startsWith('code ') && outcome.kind !== 'malformed reply') {
        target++;
        await sleep(failurePauseMs);
      }
    }
  };

  const clients = Array.from({ length: options.clients }, (_, clientId) => client(clientId));
  const finished = Promise.all(clients).then(() => undefined);
  // A client only fails on a bug (a listener that throws): stop() rethrows it; until someone
  // awaits, it must not end the process as an unhandled rejection.
  finished.catch(() => undefined);
  const snapshot = (): WorkloadCounters => ({ ...counts, byKind: new Map(counts.byKind) });

  return {
    keys,
    counters: snapshot,
    onOutcome(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    finished,
    async stop() {
      running = false;
      await finished;
      agents.http.destroy();
      agents.https.destroy();
      listeners.clear();
      history.sort((a, b) => a.call - b.call);
      return { history, counters: snapshot(), keys, ackedCreates, ackedMetaNodes, ackedDataNodes, sentTo };
    },
  };
}

/**
 * The shared keys: user ids `<prefix>u<i>`, owners `<prefix>o<i>`, vol names `<prefix>v<i>`, meta node addrs
 * `127.77.<seed byte>.<i + 1>:<port from the seed>`, data node addrs the same in 127.78.
 *
 * The node addrs are on loopback, where nothing listens on those ports: the masters' heartbeats
 * and tasks to them are refused at once on every machine. Addresses off the machine made the
 * suite depend on the network it ran in (one sandbox answered HTTP 400 on 10.77.x.x:20000, so
 * heartbeats ended in protocol errors; another dropped the packets, so they ended in timeouts).
 */
export function workloadKeys(options: Pick<WorkloadOptions, 'seed' | 'keys' | 'userIdPrefix'>): WorkloadKeys {
  const users = options.keys?.users ?? 8;
  const metaNodes = options.keys?.metaNodes ?? 6;
  const dataNodes = options.keys?.dataNodes ?? 4;
  const vols = options.keys?.vols ?? 3;
  const owners = options.keys?.owners ?? 2;
  if (![users, metaNodes, dataNodes, vols, owners].every((n) => n >= 1 && n <= KEYS_MAX)) throw new RangeError(`workload: key counts must be in [1, ${KEYS_MAX}]`);
  const seed = options.seed >>> 0;
  const prefix = options.userIdPrefix ?? `w${seed.toString(36)}_`;
  // User ids must match ^[A-Za-z][A-Za-z0-9_]{0,20}$ (spec 1.3), or create answers 55.
  if (!/^[A-Za-z][A-Za-z0-9_]{0,17}$/.test(prefix)) throw new RangeError(`workload: bad user id prefix ${prefix}`);
  const port = 20000 + ((seed >>> 8) % 20000);
  return {
    userIds: Array.from({ length: users }, (_, i) => `${prefix}u${i}`),
    metaNodeAddrs: Array.from({ length: metaNodes }, (_, i) => `127.77.${seed & 255}.${i + 1}:${port}`),
    dataNodeAddrs: Array.from({ length: dataNodes }, (_, i) => `127.78.${seed & 255}.${i + 1}:${port}`),
    volNames: Array.from({ length: vols }, (_, i) => `${prefix}v${i}`),
    owners: Array.from({ length: owners }, (_, i) => `${prefix}o${i}`),
  };
}

/** Reads: the history leaves them out when their answer was lost. */
export function isRead(input: CubeInput): boolean {
  return input.f === 'user.info' || input.f === 'metaNode.get' || input.f === 'dataNode.get' || input.f === 'cluster.get' || input.f === 'vol.get';
}

/** Capacities in GB the vol ops pick from: creates, updates and expands collide, some grow, some not. */
const VOL_CAPACITIES_GB = [10, 20, 30, 40, 50, 60, 80, 100];

/**
 * The next operation of a client. `tag` (client and sequence number) makes every description
 * unique, so a read of a description tells which write it saw.
 */
function nextInput(random: SeededRandom, mix: Readonly<Record<ClientOpName, number>>, keys: WorkloadKeys, tag: string): ClientInput {
  const f = pickWeighted(random, mix);
  const userId = keys.userIds[random.nextInt(keys.userIds.length)];
  const addr = keys.metaNodeAddrs[random.nextInt(keys.metaNodeAddrs.length)];
  const pick = <T>(list: readonly T[]): T => list[random.nextInt(list.length)];
  switch (f) {
    case 'user.create':
      // One create in four without a description: the user then holds ''.
      return { f, userId, description: random.nextInt(4) === 0 ? '' : `create ${tag}` };
    case 'user.update':
      // Never '': an empty description keeps the current one, a write that tells nothing.
      return { f, userId, description: `update ${tag}` };
    case 'user.delete':
    case 'user.info':
      return { f, userId };
    case 'metaNode.add':
    case 'metaNode.get':
      return { f, addr };
    case 'dataNode.add':
    case 'dataNode.get':
      return { f, addr: pick(keys.dataNodeAddrs) };
    case 'cluster.freeze':
      // Mostly thawed: a frozen cluster refuses every vol create (fast, so they would crowd the history).
      return { f, enable: random.nextInt(8) === 0 };
    case 'cluster.get':
      return { f };
    case 'vol.create':
      // 1 to 3 data partition replicas (3 simulated data nodes); descriptions unique as for users.
      return { f, name: pick(keys.volNames), owner: pick(keys.owners), capacity: pick(VOL_CAPACITIES_GB), replicaNum: 1 + random.nextInt(3), description: `create ${tag}` };
    case 'vol.get':
      return { f, name: pick(keys.volNames) };
    case 'vol.update':
      return { f, name: pick(keys.volNames), owner: pick(keys.owners), capacity: pick(VOL_CAPACITIES_GB), description: `update ${tag}` };
    case 'vol.expand':
      return { f, name: pick(keys.volNames), owner: pick(keys.owners), capacity: pick(VOL_CAPACITIES_GB) };
    case 'vol.delete':
      return { f, name: pick(keys.volNames), owner: pick(keys.owners) };
  }
}

function pickWeighted(random: SeededRandom, mix: Readonly<Record<ClientOpName, number>>): ClientOpName {
  const total = CUBE_OP_NAMES.reduce((sum, f) => sum + Math.max(0, mix[f]), 0);
  let point = random.nextFloat() * total;
  for (const f of CUBE_OP_NAMES) {
    point -= Math.max(0, mix[f]);
    if (point < 0) return f;
  }
  return CUBE_OP_NAMES.findLast((f) => mix[f] > 0)!;
}

/** A distinct, well-spread seed per client. */
function clientSeed(seed: number, clientId: number): number {
  return (Math.imul(seed >>> 0, 0x2c1b3c6d) ^ Math.imul(clientId + 1, 0x9e3779b9)) >>> 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
