// One chaos run from one seed: a real cluster under concurrent clients and a seeded fault
// schedule; then everything heals, the members must converge, and the run is judged:
// - the whole client history (plus a final read of every key) must be linearizable;
// - every acknowledged meta node registration must still be there with its id;
// - every member must hold the same state (model and store digests, and its model must equal
//   its store), and the committed log prefixes the members share must be identical;
// - every member must stop cleanly (exit 0, no crash output).
// It also measures availability: for each fault, the time until the next acknowledged write.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { SeededRandom } from '../../src/raft/core/index.js';
import { cfsGet } from '../integration/cfs-client.js';
import { memberAudit } from '../integration/member-status.js';
import { ChaosCluster } from './chaos-cluster.js';
import { cubefsModel, type CubeOperation } from './cubefs-model.js';
import { FaultInjector, type FaultKind } from './faults.js';
import { check } from './lincheck/check.js';
import { isUnknownOutput } from './lincheck/operation.js';
import { formatAnomaly } from './lincheck/report/anomaly-text.js';
import { writeTimelineHtml } from './lincheck/report/timeline-html.js';
import { readFinalState, sharedMetaNodeIds } from './workload-audit.js';
import { startWorkload } from './workload.js';

export interface ChaosRunOptions {
  readonly seed: number;
  readonly nodes: number;
  /** How long faults are injected under load. */
  readonly runMs: number;
  readonly faults: readonly FaultKind[];
  /** Where logs (and an anomaly's timeline) go. */
  readonly dir: string;
  readonly clients?: number;
  readonly log: (line: string) => void;
}

export interface ChaosRunResult {
  readonly seed: number;
  readonly nodes: number;
  readonly operations: number;
  readonly verdict: string;
  readonly anomaly: string | null;
  readonly lostWrites: readonly string[];
  readonly problems: readonly string[];
  readonly faults: readonly { kind: FaultKind; detail: string }[];
  /** Per fault kind: ms from each injection to the next acknowledged write. */
  readonly availabilityMs: ReadonlyMap<FaultKind, number[]>;
  readonly ok: boolean;
}

const READ_OPS: ReadonlySet<string> = new Set(['user.info', 'metaNode.get', 'cluster.get']);
const TICK_MS = 50;
const ELECTION_TICK = 10;

export async function runChaos(options: ChaosRunOptions): Promise<ChaosRunResult> {
  const { seed, log } = options;
  const random = new SeededRandom(seed);
  const runDir = path.join(options.dir, `seed-${seed}`);
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const cluster = new ChaosCluster({ size: options.nodes, subnet: 80 + (seed % 20), dir: path.join(runDir, 'data'), tickIntervalMs: TICK_MS, electionTick: ELECTION_TICK, random });
  const problems: string[] = [];
  try {
    await cluster.start();
    await cluster.converge(30_000);
    const workload = startWorkload({ urls: () => cluster.liveUrls(), clients: options.clients ?? 8, seed, requestTimeoutMs: 5000 });
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
    await injector.settle();
    // A little load after the last fault, so that its recovery is measured too.
    await sleep(1000);
    const result = await workload.stop();

    await cluster.healAll();
    const statuses = await cluster.converge(60_000);
    const leader = [...statuses.values()][0].leaderId;
    const finalReads = await readFinalState(cluster.member(leader).url, result.keys, 10_000);
    const history: CubeOperation[] = [...result.history, ...finalReads];
    const checked = check(cubefsModel, history, { timeoutMs: 60_000 });
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
    const lostWrites = lostMetaNodes(result.ackedMetaNodes, finalReads);
    problems.push(...(await auditMembers(cluster)));

    const exits = await cluster.stop();
    for (const [id, exit] of exits) if (exit.code !== 0 || exit.signal !== null) problems.push(`member ${id} stopped with ${JSON.stringify(exit)}`);
    for (const m of cluster.masters) for (const line of m.crashLines()) problems.push(`member ${m.spec.id}: ${line.slice(0, 300)}`);
    const ok = problems.length === 0 && lostWrites.length === 0 && anomaly === null;
    if (!ok) cluster.saveLogs(path.join(runDir, 'logs'));
    else rmSync(path.join(runDir, 'data'), { recursive: true, force: true });
    return {
      seed,
      nodes: options.nodes,
      operations: history.length,
      verdict: checked.verdict,
      anomaly,
      lostWrites,
      problems,
      faults: injector.injected.map((f) => ({ kind: f.kind, detail: f.detail })),
      availabilityMs: availability(injector.injected, ackedWrites),
      ok,
    };
  } catch (error) {
    cluster.saveLogs(path.join(runDir, 'logs'));
    throw new Error(`chaos seed ${seed}: ${(error as Error).message} (logs in ${runDir})`, { cause: error });
  } finally {
    await cluster.destroy();
  }
}

/** Acknowledged meta node registrations missing, or with another id, in the final reads. */
function lostMetaNodes(acked: ReadonlyMap<string, number>, finalReads: readonly CubeOperation[]): string[] {
  const lost: string[] = [];
  const final = new Map<string, number | null>();
  for (const op of finalReads) {
    if (op.input.f !== 'metaNode.get' || isUnknownOutput(op.output)) continue;
    final.set(op.input.addr, op.output.kind === 'metaNode' ? op.output.id : null);
  }
  for (const [addr, id] of acked) if (final.get(addr) !== id) lost.push(`meta node ${addr}: acknowledged id ${id}, now ${final.get(addr)}`);
  return lost;
}

/** Every member holds the same state, its model equals its store, and shared committed logs match. */
async function auditMembers(cluster: ChaosCluster): Promise<string[]> {
  const problems: string[] = [];
  const reports = await Promise.all(cluster.masters.map(async (m) => ({ id: m.spec.id, url: m.url, audit: await memberAudit(m.url) })));
  for (const r of reports) {
    if (r.audit.modelDigest !== r.audit.storeDigest || r.audit.storeApplied !== r.audit.applied) problems.push(`member ${r.id}: model and store differ (${JSON.stringify(r.audit)})`);
  }
  const first = reports[0].audit;
  for (const r of reports.slice(1)) {
    if (r.audit.applied !== first.applied || r.audit.modelDigest !== first.modelDigest) {
      problems.push(`member ${r.id} differs from member ${reports[0].id}: ${JSON.stringify(r.audit)} vs ${JSON.stringify(first)}`);
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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
