// One chaos run from one seed: a real cluster under concurrent clients and a seeded fault
// schedule; then everything heals, the members must converge, and the run is judged:
// - the whole client history (plus a final read of every key, plus the leader's background
//   removals of deleted vols, domain-history.ts) must be linearizable;
// - every acknowledged meta and data node registration must still be there with its id;
// - the domain (with `domain`, the default: simulated meta and data nodes for the run, vol
//   creates, updates, expands and deletes in the mix): once the sweeps had their time, the nodes
//   hold exactly the partitions the views name, and the views keep the domain invariants on
//   every member (domain-invariants.ts);
// - every member must hold the same state (model and store digests, and its model must equal
//   its store, and keep the model invariants: the audit runs src/model/invariants.ts), and the
//   committed log prefixes the members share must be identical;
// - every member must stop cleanly (exit 0, no crash output).
// It also measures availability: for each fault, the time until the next acknowledged write.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { SimNodes } from '../../src/nodes/sim/index.js';
import { SeededRandom } from '../../src/raft/core/index.js';
import { cfsGet, useTls } from '../integration/cfs-client.js';
import { memberAudit } from '../integration/member-status.js';
import { ADVERTISED_RAFT_PORT, ChaosCluster, FORWARD_PORT, HTTP_PORT, LISTEN_RAFT_PORT, NODE_PORT } from './chaos-cluster.js';
import { makeChaosTls } from './chaos-tls.js';
import { cubefsModel, type CubeOperation } from './cubefs-model.js';
import { withDomainEffects } from './domain-history.js';
import { checkDomainViews, settleDomain } from './domain-invariants.js';
import { DOMAIN_MASTER_CONFIG, startDomainNodes } from './domain-nodes.js';
import { FaultInjector, type FaultKind } from './faults.js';
import { check } from './lincheck/check.js';
import { isUnknownOutput } from './lincheck/operation.js';
import { formatAnomaly } from './lincheck/report/anomaly-text.js';
import { writeTimelineHtml } from './lincheck/report/timeline-html.js';
import { readFinalState, sharedMetaNodeIds } from './workload-audit.js';
import { startWorkload, type WorkloadMix } from './workload.js';

export interface ChaosRunOptions {
  readonly seed: number;
  readonly nodes: number;
  /** How long faults are injected under load. */
  readonly runMs: number;
  readonly faults: readonly FaultKind[];
  /** Where logs (and an anomaly's timeline) go. */
  readonly dir: string;
  readonly clients?: number;
  /** Simulated nodes and vol operations (default true); false: users, node registrations and the flag only. */
  readonly domain?: boolean;
  /** Peer TLS (chaos-tls.ts); default false. */
  readonly tls?: boolean;
  /** HTTPS with client certificates for the API (forwarding, workload, nodes); default false. */
  readonly https?: boolean;
  readonly log: (line: string) => void;
}

export interface ChaosRunResult {
  readonly seed: number;
  readonly nodes: number;
  readonly tls: boolean;
  readonly https: boolean;
  readonly operations: number;
  readonly verdict: string;
  readonly anomaly: string | null;
  readonly lostWrites: readonly string[];
  readonly problems: readonly string[];
  readonly faults: readonly { kind: FaultKind; detail: string }[];
  /** Per fault kind: ms from each injection to the next acknowledged write. */
  readonly availabilityMs: ReadonlyMap<FaultKind, number[]>;
  /** `<op> <outcome>` → count, for the vol and node operations of the history (summary.ts). */
  readonly domainCounts: ReadonlyMap<string, number>;
  /** How long the domain settle took after the heal (0 without domain). */
  readonly settleMs: number;
  /** How long the linearizability check took. */
  readonly checkMs: number;
  /** Wall time of each phase of the run, in order (start, faults, faults heal, heal, settle, views, check, audit, stop). */
  readonly phasesMs: ReadonlyMap<string, number>;
  readonly ok: boolean;
}

const READ_OPS: ReadonlySet<string> = new Set(['user.info', 'metaNode.get', 'dataNode.get', 'cluster.get', 'vol.get']);
/** How long the sweeps get to clean up after the heal (cleanup every 5 s, orphan grace 1 s). */
const SETTLE_TIMEOUT_MS = 30_000;
const NO_DOMAIN_MIX: WorkloadMix = { 'vol.create': 0, 'vol.get': 0, 'vol.update': 0, 'vol.expand': 0, 'vol.delete': 0 };
const TICK_MS = 50;
/** MasterProcess's clusterName (the chaos members' certificates are bound to it). */
const CHAOS_CLUSTER_NAME = 'itest';
const ELECTION_TICK = 10;

export async function runChaos(options: ChaosRunOptions): Promise<ChaosRunResult> {
  const { seed, log } = options;
  const random = new SeededRandom(seed);
  const runDir = path.join(options.dir, `seed-${seed}`);
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const domain = options.domain ?? true;
  const subnet = await freeSubnet(seed, options.nodes);
  const hosts = Array.from({ length: options.nodes }, (_, i) => `127.0.${subnet}.${i + 1}`);
  const secure = { peer: options.tls === true, https: options.https === true };
  const tls = secure.peer || secure.https ? await makeChaosTls(path.join(runDir, 'data', 'certs'), CHAOS_CLUSTER_NAME, hosts, secure) : undefined;
  // The harness's clients (workload, audits, simulated nodes) trust the run's CA, or nothing.
  useTls(tls?.httpTrust);
  const cluster = new ChaosCluster({
    size: options.nodes,
    subnet,
    dir: path.join(runDir, 'data'),
    tickIntervalMs: TICK_MS,
    electionTick: ELECTION_TICK,
    random,
    extraConfig: domain ? DOMAIN_MASTER_CONFIG : {},
    tls,
  });
  const problems: string[] = [];
  let nodes: SimNodes | null = null;
  const phasesMs = new Map<string, number>();
  let phaseStartMs = performance.now();
  const phase = (name: string): void => {
    const now = performance.now();
    phasesMs.set(name, now - phaseStartMs);
    phaseStartMs = now;
  };
  try {
    await cluster.start();
    await cluster.converge(30_000);
    if (domain) nodes = await startDomainNodes(cluster, 30_000, tls?.httpTrust);
    phase('start');
    const workload = startWorkload({ urls: () => cluster.liveUrls(), clients: options.clients ?? 8, seed, requestTimeoutMs: 5000, mix: domain ? {} : NO_DOMAIN_MIX });
    const ackedWrites: { callMs: number; returnMs: number }[] = [];
    workload.onOutcome((e) => {
      if (e.outcome === 'ok' && !READ_OPS.has(e.f)) ackedWrites.push({ callMs: e.callMs, returnMs: e.returnMs });
    });
    const injector = new FaultInjector(cluster, random, options.faults, (line) => log(`[seed ${seed}] ${line}`));
    const endMs = performance.now() + options.runMs;
    while (performance.now() < endMs) {
      await injector.injectOne();
      await sleep(300 + random.nextInt(1500));
    }
    phase('faults');
    await injector.settle();
    problems.push(...injector.problems);
    // A little load after the last fault, so that its recovery is measured too.
    await sleep(1000);
    const result = await workload.stop();
    phase('faults heal');

    await cluster.healAll();
    let statuses = await cluster.converge(60_000);
    phase('heal');
    const settleStartMs = performance.now();
    if (nodes !== null) {
      problems.push(...(await settleDomain(cluster, nodes, workload.keys.volNames, SETTLE_TIMEOUT_MS)));
      statuses = await cluster.converge(60_000);
    }
    const settleMs = nodes === null ? 0 : performance.now() - settleStartMs;
    phase('settle');
    // Before the linearizability check: it holds this process (and so the nodes) for seconds.
    if (nodes !== null) problems.push(...(await checkDomainViews(cluster, nodes, result.keys.volNames)));
    const leader = [...statuses.values()][0].leaderId;
    const finalReads = await readFinalState(cluster.member(leader).url, result.keys, 10_000);
    await nodes?.close();
    phase('views');
    const history: CubeOperation[] = withDomainEffects([...result.history, ...finalReads]);
    const checked = check(cubefsModel, history, { timeoutMs: 60_000 });
    phase('check');
    let anomaly: string | null = null;
    if (checked.verdict === 'not-linearizable' && checked.anomaly !== undefined) {
      anomaly = formatAnomaly(cubefsModel, checked.anomaly);
      const timeline = path.join(runDir, 'anomaly.html');
      writeTimelineHtml(timeline, cubefsModel, checked.anomaly, `chaos seed ${seed}`);
      problems.push(`history not linearizable (timeline: ${timeline})`);
    } else if (checked.verdict !== 'linearizable') {
      problems.push(`linearizability check undecided: ${checked.unknownReason ?? checked.verdict}`);
    }
    problems.push(...sharedMetaNodeIds(finalReads));
    const lostWrites = [...lostNodes('metaNode', result.ackedMetaNodes, finalReads), ...lostNodes('dataNode', result.ackedDataNodes, finalReads)];
    problems.push(...(await auditMembers(cluster)));
    phase('audit');

    const exits = await cluster.stop();
    phase('stop');
    for (const [id, exit] of exits) if (exit.code !== 0 || exit.signal !== null) problems.push(`member ${id} stopped with ${JSON.stringify(exit)}`);
    for (const m of cluster.masters) for (const line of m.crashLines()) problems.push(`member ${m.spec.id}: ${line.slice(0, 300)}`);
    const ok = problems.length === 0 && lostWrites.length === 0 && anomaly === null;
    if (!ok || process.env.CHAOS_KEEP_LOGS === '1') {
      cluster.saveLogs(path.join(runDir, 'logs'));
      saveHistory(path.join(runDir, 'history.jsonl'), history, injector.injected, result.sentTo);
    }
    if (ok) rmSync(path.join(runDir, 'data'), { recursive: true, force: true });
    return {
      seed,
      nodes: options.nodes,
      tls: secure.peer,
      https: secure.https,
      operations: history.length,
      verdict: checked.verdict,
      anomaly,
      lostWrites,
      problems,
      faults: injector.injected.map((f) => ({ kind: f.kind, detail: f.detail })),
      availabilityMs: availability(injector.injected, ackedWrites),
      domainCounts: domainCounts(history),
      settleMs,
      checkMs: checked.elapsedMs,
      phasesMs,
      ok,
    };
  } catch (error) {
    cluster.saveLogs(path.join(runDir, 'logs'));
    throw new Error(`chaos seed ${seed}: ${(error as Error).message} (logs in ${runDir})`, { cause: error });
  } finally {
    await nodes?.close();
    await cluster.destroy();
    useTls(undefined);
  }
}

/**
 * The checked history and the faults, one JSON object a line in time order (post-mortem: what
 * happened to one key around an anomaly is a grep away). Infinity and the unknown output as text.
 */
function saveHistory(
  file: string,
  history: readonly CubeOperation[],
  faults: readonly { kind: FaultKind; atMs: number; detail: string }[],
  sentTo: ReadonlyMap<string, string>,
): void {
  const text = (op: CubeOperation): string =>
    JSON.stringify({ ...op, return: Number.isFinite(op.return) ? op.return : 'never', output: isUnknownOutput(op.output) ? '?' : op.output, to: sentTo.get(`${op.clientId}@${op.call}`) });
  const lines = [
    ...history.map((op) => ({ at: op.call, line: text(op) })),
    ...faults.map((f) => ({ at: f.atMs, line: JSON.stringify({ fault: f.kind, at: f.atMs, detail: f.detail }) })),
  ].sort((a, b) => a.at - b.at);
  writeFileSync(file, lines.map((l) => l.line).join('\n') + '\n');
}

/** Acknowledged node registrations missing, or with another id, in the final reads. */
function lostNodes(kind: 'metaNode' | 'dataNode', acked: ReadonlyMap<string, number>, finalReads: readonly CubeOperation[]): string[] {
  const lost: string[] = [];
  const final = new Map<string, number | null>();
  for (const op of finalReads) {
    if (op.input.f !== `${kind}.get` || !('addr' in op.input) || isUnknownOutput(op.output)) continue;
    final.set(op.input.addr, op.output.kind === kind ? op.output.id : null);
  }
  for (const [addr, id] of acked) if (final.get(addr) !== id) lost.push(`${kind === 'metaNode' ? 'meta' : 'data'} node ${addr}: acknowledged id ${id}, now ${final.get(addr)}`);
  return lost;
}

/** `<op> <answer>` per vol and node operation of the history: ok, lost, `code N` or a vol refusal (removals: `vol.removal`). */
function domainCounts(history: readonly CubeOperation[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const op of history) {
    const f = op.input.f;
    if (!f.startsWith('vol.') && !f.startsWith('dataNode.')) continue;
    const out = op.output;
    const outcome = isUnknownOutput(out) ? 'lost' : out.kind === 'error' ? `code_${out.code}` : out.kind === 'volRefused' ? out.reason : 'ok';
    const key = f === 'vol.removal' ? f : `${f} ${outcome}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Every member holds the same state, its model equals its store, and shared committed logs match. */
async function auditMembers(cluster: ChaosCluster): Promise<string[]> {
  const problems: string[] = [];
  const reports = await Promise.all(cluster.masters.map(async (m) => ({ id: m.spec.id, url: m.url, audit: await memberAudit(m.url) })));
  for (const r of reports) {
    if (r.audit.modelDigest !== r.audit.storeDigest || r.audit.storeApplied !== r.audit.applied) problems.push(`member ${r.id}: model and store differ (${JSON.stringify(r.audit)})`);
    // src/server/raft-adapters.ts MemberAuditReport: the model invariants on the member itself.
    const modelProblems = (r.audit as { modelProblems?: unknown }).modelProblems;
    if (!Array.isArray(modelProblems)) problems.push(`member ${r.id}: the audit reports no model invariant check`);
    else for (const p of modelProblems) problems.push(`member ${r.id}: model invariant: ${String(p)}`);
  }
  const first = reports[0].audit;
  for (const r of reports.slice(1)) {
    if (r.audit.applied !== first.applied || r.audit.modelDigest !== first.modelDigest) {
      problems.push(`member ${r.id} differs from member ${reports[0].id}: applied ${r.audit.applied} digest ${r.audit.modelDigest} vs applied ${first.applied} digest ${first.modelDigest}`);
    }
  }
  const statuses = await cluster.statuses();
  const from = Math.max(...[...statuses.values()].map((s) => s.firstIndex));
  const to = Math.min(...[...statuses.values()].map((s) => s.commit));
  if (from <= to) {
    const digests = await Promise.all(
      cluster.masters.map(async (m) => (await cfsGet<{ digest: string } | null>(m.url, '/cubemaster/log-digest', { from, to })).envelope?.data?.digest ?? 'none'),
    );
    if (new Set(digests).size !== 1) problems.push(`committed logs [${from}, ${to}] differ between members: ${digests.join(' ')}`);
  }
  return problems;
}

/**
 * For each fault, the time from its injection to the first acknowledgement of a write that was
 * sent after it (writes already in flight do not count: they say nothing about recovery).
 */
function availability(faults: readonly { kind: FaultKind; atMs: number }[], acked: readonly { callMs: number; returnMs: number }[]): Map<FaultKind, number[]> {
  const out = new Map<FaultKind, number[]>();
  for (const f of faults) {
    let first = Infinity;
    for (const w of acked) if (w.callMs >= f.atMs && w.returnMs < first) first = w.returnMs;
    if (first === Infinity) continue;
    const list = out.get(f.kind) ?? [];
    list.push(first - f.atMs);
    out.set(f.kind, list);
  }
  return out;
}

/**
 * The loopback subnet of a run: 127.0.<80 + seed % 20>.x, or the next one in 80..99 whose ports
 * are free (another chaos run on this machine may hold it; the schedule does not depend on it).
 */
async function freeSubnet(seed: number, size: number): Promise<number> {
  const first = seed % 20;
  for (let i = 0; i < 20; i++) {
    const subnet = 80 + ((first + i) % 20);
    const hosts = Array.from({ length: size }, (_, k) => `127.0.${subnet}.${k + 1}`);
    const free = await Promise.all(hosts.flatMap((host) => [HTTP_PORT, ADVERTISED_RAFT_PORT, LISTEN_RAFT_PORT, FORWARD_PORT, NODE_PORT].map((port) => portFree(host, port))));
    if (free.every(Boolean)) return subnet;
  }
  throw new Error('no free chaos subnet in 127.0.80-99.x');
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
