// The HTTP fuzzer: random and mutated requests (http-cases.ts) against every route, through a
// target that is either the API in this process over a FakeGroup (the default budget of `npm
// test`) or a real master process with simulated nodes (`npm run fuzz -- --real`). After each
// case:
// - the reply is well-formed: an envelope {code,msg,data} with HTTP 200, or one of the plain
//   statuses the API answers with (400, 404, 405, 429, 502, 503);
// - a refused call (HTTP status other than 200, or code != 0) changed nothing: same state digest;
// - no bug surfaced: no "unexpected error in request" (an unmapped error, code 1 with a reqId),
//   no hang past the case timeout, and the target is alive;
// and at the end no handle of the target is left (process.getActiveResourcesInfo, in process;
// open file descriptors, for a real master).

import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import type { AccessMode } from '../../src/api/access-rules.js';
import { DomainOps } from '../../src/cluster/domain-ops.js';
import { TcpTaskClient } from '../../src/nodes/tcp-task-client.js';
import type { Probe } from '../api/route-fixture.js';
import { KEYS, routeFixture, routeProbes } from '../api/route-fixture.js';
import { T_USERS_MS, type TestMaster } from '../api/helpers.js';
import { modelDigest } from '../../src/model/index.js';
import { describeCase, httpCase, type HttpCase, type Signer } from './http-cases.js';
import { activeResources, count, fuzzLoop, leakedResources, Rng, type FuzzBudget, type FuzzReport } from './fuzz-report.js';

export interface HttpReply {
  readonly status: number;
  readonly contentType: string;
  /** The envelope was gzipped on request (x-cfs-content-encoding: gzip). */
  readonly gzip: boolean;
  readonly body: Buffer;
}

export interface HttpFuzzTarget {
  readonly name: string;
  readonly probes: Readonly<Record<string, readonly Probe[]>>;
  readonly signers: readonly Signer[];
  readonly nowMs: () => number;
  send(c: HttpCase): Promise<HttpReply>;
  /** Digest of everything a call may change. */
  stateDigest(): Promise<string>;
  /** Waits until work a call started in the background is done, so its effects belong to it. */
  settle(): Promise<void>;
  /** Bugs seen since the last call (unexpected errors logged, the process gone). */
  problems(): Promise<string[]>;
  /** Undoes what would stop later cases from reaching the handlers (a moved leader...). */
  restore(): void;
  /** Stops the target; returns what it left behind (leaked handles). */
  close(): Promise<string[]>;
}

// Above the longest bound of a route: /raftNode/add waits up to 25 s for a learner to catch up.
const CASE_TIMEOUT_MS = 40_000;
const PLAIN_STATUSES = new Set([400, 404, 405, 429, 502, 503]);

export async function runHttpFuzz(target: HttpFuzzTarget, budget: FuzzBudget, caseTimeoutMs = CASE_TIMEOUT_MS): Promise<FuzzReport> {
  const rng = new Rng(budget.seed);
  const report = await fuzzLoop(`http (${target.name})`, budget, async (_index, outcomes) => {
    const c = httpCase(rng, target.probes, target.signers, target.nowMs());
    const findings: string[] = [];
    const before = await target.stateDigest();
    let reply: HttpReply;
    try {
      reply = await withTimeout(target.send(c), caseTimeoutMs);
    } catch (e) {
      if (e instanceof HarnessRefusal) {
        count(outcomes, 'unsendable');
        return [];
      }
      count(outcomes, 'failed');
      return [`${describeCase(c)}: no reply: ${e instanceof Error ? e.message : String(e)}`];
    }
    const verdict = classify(reply);
    if (verdict.outcome === 'accepted') await target.settle();
    count(outcomes, verdict.outcome);
    if (verdict.problem !== null) findings.push(`${describeCase(c)}: ${verdict.problem}`);
    if (verdict.outcome !== 'accepted' && (await target.stateDigest()) !== before) {
      findings.push(`${describeCase(c)}: refused (${verdict.outcome} ${verdict.detail}) but the state changed`);
    }
    for (const p of await target.problems()) findings.push(`${describeCase(c)}: ${p}`);
    target.restore();
    return findings;
  });
  const leaked = await target.close();
  return leaked.length === 0 ? report : { ...report, findings: [...report.findings, `after the run: leaked ${leaked.join(', ')}`] };
}

function classify(reply: HttpReply): { outcome: string; detail: string; problem: string | null } {
  let text: string;
  try {
    text = (reply.gzip ? gunzipSync(reply.body) : reply.body).toString('utf8');
  } catch (e) {
    return { outcome: 'broken', detail: '', problem: `gzip reply does not gunzip: ${String(e)}` };
  }
  if (reply.status === 200 && reply.contentType.startsWith('application/json')) {
    let env: { code?: unknown; msg?: unknown; data?: unknown };
    try {
      env = JSON.parse(text) as typeof env;
    } catch {
      return { outcome: 'broken', detail: '', problem: `HTTP 200 JSON that does not parse: ${text.slice(0, 200)}` };
    }
    if (typeof env !== 'object' || env === null || Object.keys(env).join(',') !== 'code,msg,data' || typeof env.code !== 'number' || typeof env.msg !== 'string') {
      return { outcome: 'broken', detail: '', problem: `not a {code,msg,data} envelope: ${text.slice(0, 200)}` };
    }
    if (env.code === 0) return { outcome: 'accepted', detail: '', problem: null };
    const unexpected = /^internal error \(reqId /.test(env.msg) ? `unmapped error answered as code 1: ${env.msg}` : null;
    return { outcome: `code ${env.code}`, detail: env.msg.slice(0, 120), problem: unexpected };
  }
  if (reply.status === 200) return { outcome: 'accepted', detail: '', problem: null }; // /metrics
  if (PLAIN_STATUSES.has(reply.status)) return { outcome: `http ${reply.status}`, detail: text.slice(0, 120), problem: null };
  return { outcome: `http ${reply.status}`, detail: text.slice(0, 120), problem: `unexpected HTTP status ${reply.status}: ${text.slice(0, 200)}` };
}

/** The request cannot be sent as built (inject refuses the URL): not a finding. */
export class HarnessRefusal extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hung: no reply within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

// --- the API in this process, over a FakeGroup ---------------------------------------------------

/** The API of routeFixture(mode) with a task client of short timeouts of its own. */
export function inProcessTarget(mode: AccessMode = 'cubefs'): HttpFuzzTarget {
  const baseline = activeResources();
  const nodes = new TcpTaskClient({ dialTimeoutMs: 300, ackReplyTimeoutMs: 300, syncReplyTimeoutMs: 300, syncTriesMax: 1, retryDelayMs: 10 });
  const ops = new DomainOps();
  const { master, ids } = routeFixture(mode, { domain: { nodes, ops } });
  const group = master.group;
  const peers = new Map([...group.peers.entries()].map(([id, p]) => [id, { ...p }]));
  let logsSeen = 0;
  return {
    name: `in-process, ${mode} mode`,
    probes: routeProbes(ids),
    signers: Object.values(KEYS),
    nowMs: () => T_USERS_MS,
    send: (c) => inject(master.app, c),
    stateDigest: () => Promise.resolve(JSON.stringify([modelDigest(group.state), group.leaderId, [...group.peers.keys()]])),
    settle: async () => {
      for (let i = 0; i < 200 && ops.size > 0; i++) await new Promise((r) => setTimeout(r, 5));
    },
    problems: () => Promise.resolve(newProblems(master, logsSeen, (n) => (logsSeen = n))),
    restore: () => {
      group.leaderId = 1;
      group.peers.clear();
      for (const [id, p] of peers) group.peers.set(id, { ...p });
    },
    close: async () => {
      await master.app.close();
      await ops.quiesce(0, 1_000);
      await nodes.close();
      return leakedResources(baseline);
    },
  };
}

function newProblems(master: TestMaster, seen: number, setSeen: (n: number) => void): string[] {
  const out: string[] = [];
  for (const record of master.logs.slice(seen)) {
    if (record.level >= 50) out.push(`logged an error: ${record.msg} ${JSON.stringify(record.err ?? '').slice(0, 300)}`);
  }
  setSeen(master.logs.length);
  // Logs are not needed after they were checked; keep memory flat in long runs.
  master.logs.length = 0;
  setSeen(0);
  return out;
}

async function inject(app: FastifyInstance, c: HttpCase): Promise<HttpReply> {
  let res;
  try {
    res = await app.inject({ method: c.method as 'GET', url: c.url, headers: c.headers, ...(c.body === undefined ? {} : { payload: c.body }) });
  } catch (e) {
    throw new HarnessRefusal(e instanceof Error ? e.message : String(e));
  }
  return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), gzip: res.headers['x-cfs-content-encoding'] === 'gzip', body: res.rawPayload };
}
