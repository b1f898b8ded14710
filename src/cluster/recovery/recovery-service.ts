// The leader side of a recovery round (docs/recovery.md). While this member leads and the model
// says a round is collecting: heartbeat every node the census knows of (the listed addresses,
// then every peer a report names), take their reports, hold back node registrations (a restarted
// node must get back the id its partitions know, which only the reports can tell), and when
// every known node answered or the collection time is up, plan (plan.ts) and propose the
// adoption through Raft as ordinary commands, then the finish. A new leader starts the round's
// collection again and adopts only what is still missing: the plan skips what the model holds.
//
// A member started by `cubemaster recover` also proposes the round's begin (once per process:
// the round number it saw at start-up tells whether its own begin already happened).

import { setMaxListeners } from 'node:events';
import type { ModelView, RecoveryFinding, RecoveryParams, RecoveryRecord, RecoverySummary } from '../../model/index.js';
import { makeCommand, RECOVERY_BATCH_MAX, RECOVERY_FINDINGS_MAX, recoveryCollecting, ROOT_USER_ID } from '../../model/index.js';
import type { NodeResponse } from '../../nodes/heartbeat-report.js';
import type { HeartbeatRequest } from '../../nodes/task-requests.js';
import type { TaskQueue } from '../../nodes/task-queue.js';
import { CubeCode, OperatingError, ReplicationError } from '../../util/errors.js';
import type { LogSink, Replicator } from '../ports.js';
import type { Clock } from '../sources.js';
import type { CensusRegistration, CensusTarget } from './census.js';
import { RecoveryCensus } from './census.js';
import type { RecoveryPlan } from './plan.js';
import { planRecovery } from './plan.js';
import { abortableSleep } from '../../util/sleep.js';

/** What `cubemaster recover` asks of this member. */
export interface RecoveryRequest {
  readonly params: RecoveryParams;
  /** Open another round on a cluster that finished one (`--force` on a recovered store). */
  readonly newRound: boolean;
}

/** Node registration waits while a round collects (nodes retry: metanode every 3 s, datanode every 2 s). */
export class RecoveryInProgressError extends OperatingError {
  constructor(addr: string) {
    super(CubeCode.InternalError, `cluster is being recovered: ${addr} registers once the recovery round finished (docs/recovery.md)`);
  }
}

/** What the API needs: the census's share of node traffic, and a view for operators. */
export interface RecoveryPort {
  /** Feeds a heartbeat report to the census of the round this member runs; ignored otherwise. */
  takeHeartbeat(response: NodeResponse): void;
  /** Throws RecoveryInProgressError (noting the node) while registration must wait. */
  checkRegistration(registration: CensusRegistration): void;
  status(): RecoveryStatus;
}

export interface RecoveryStatus {
  readonly record: RecoveryRecord | null;
  /** This member collects now (it leads a collecting round). */
  readonly collecting: boolean;
  readonly targets: number;
  readonly reported: number;
  /** Up to 100 addresses still to hear from. */
  readonly pending: readonly string[];
  readonly registering: number;
  readonly deadlineMs: number;
  /** The last failure of this member's run, '' when none. */
  readonly lastError: string;
}

export interface RecoveryServiceDeps {
  readonly replicator: Replicator;
  readonly queue: TaskQueue;
  readonly clock: Clock;
  /** This master's HTTP addr, sent in heartbeats: where nodes post their reports. */
  readonly selfHttpAddr: string;
  readonly nodeSetCapacity: number;
  readonly legacyDataMediaType: number;
  readonly proposeTimeoutMs: number;
  /** Heartbeat rounds of the census. Default 1 s. */
  readonly roundIntervalMs?: number;
  readonly request: RecoveryRequest | null;
  readonly logger?: LogSink;
}

const PENDING_SHOWN_MAX = 100;
/** Tries of a plan's proposals when Raft refuses them (timeouts, backpressure) while leading. */
const ADOPT_TRIES_MAX = 20;
const WAIT_STEP_MS = 100;

export class RecoveryService implements RecoveryPort {
  private controller: AbortController | null = null;
  private running: Promise<void> | null = null;
  private census: RecoveryCensus | null = null;
  private deadlineMs = 0;
  private lastError = '';
  /** The round the model held when this process started: a begin is due while it still holds it. */
  private readonly startRound: number;

  constructor(private readonly deps: RecoveryServiceDeps) {
    this.startRound = deps.replicator.model.recovery?.round ?? 0;
  }

  private get model(): ModelView {
    return this.deps.replicator.model;
  }

  /** This member was asked to recover and its begin has not been applied yet. */
  private get beginDue(): boolean {
    const r = this.model.recovery;
    return this.deps.request !== null && (r?.round ?? 0) === this.startRound && r?.phase !== 'collecting';
  }

  /** Leader only: runs the round if there is one to run. Idempotent. */
  start(): void {
    if (this.controller !== null) return;
    const controller = new AbortController();
    setMaxListeners(1_000, controller.signal);
    this.controller = controller;
    this.running = this.lead(controller.signal).catch((err: unknown) => {
      if (controller.signal.aborted) return;
      this.lastError = err instanceof Error ? err.message : String(err);
      this.deps.logger?.error({ err }, 'recovery round stopped');
    });
  }

  async stop(): Promise<void> {
    const controller = this.controller;
    if (controller === null) return;
    controller.abort(new Error('recovery service stopped'));
    await this.running;
    this.controller = null;
    this.running = null;
    this.census = null;
  }

  takeHeartbeat(response: NodeResponse): void {
    const census = this.census;
    if (census === null) return;
    if (response.kind === 'metaHeartbeat' && response.report.status === 1) census.takeMetaReport(response.nodeAddr, response.report);
    else if (response.kind === 'dataHeartbeat' && response.report.status === 1) census.takeDataReport(response.nodeAddr, response.report);
  }

  checkRegistration(registration: CensusRegistration): void {
    if (!recoveryCollecting(this.model) && !this.beginDue) return;
    this.census?.noteRegistration(registration);
    throw new RecoveryInProgressError(registration.addr);
  }

  status(): RecoveryStatus {
    const census = this.census;
    return {
      record: this.model.recovery,
      collecting: census !== null,
      targets: census?.allTargets().length ?? 0,
      reported: census?.reportedCount ?? 0,
      pending: census?.pending().slice(0, PENDING_SHOWN_MAX).map((t) => t.addr) ?? [],
      registering: census?.snapshot().registrations.length ?? 0,
      deadlineMs: census === null ? 0 : this.deadlineMs,
      lastError: this.lastError,
    };
  }

  private async lead(signal: AbortSignal): Promise<void> {
    await this.until(() => this.model.cluster !== null, signal);
    if (this.beginDue) await this.begin(signal);
    const record = this.model.recovery;
    if (record === null || record.phase !== 'collecting') return;
    const census = new RecoveryCensus(record.params.nodes);
    this.census = census;
    this.deadlineMs = this.deps.clock.nowMs() + record.params.collectTimeoutMs;
    this.deps.logger?.info({ round: record.round, nodes: record.params.nodes.length, collectTimeoutMs: record.params.collectTimeoutMs }, 'recovery round collecting node reports');
    await this.collect(census, signal);
    if (census.dropped > 0) this.deps.logger?.warn({ dropped: census.dropped }, 'recovery census full: some nodes were not heard');
    await this.adopt(record, census, signal);
    this.census = null;
  }

  private async begin(signal: AbortSignal): Promise<void> {
    const request = this.deps.request;
    if (request === null) return;
    const command = makeCommand('recovery.begin', { params: request.params, timeUnixSec: Math.floor(this.deps.clock.nowMs() / 1000), newRound: request.newRound });
    await this.withTries(async () => {
      const record = await this.deps.replicator.propose(command, { signal, timeoutMs: this.deps.proposeTimeoutMs });
      this.deps.logger?.info({ round: record.round, nodes: record.params.nodes.length }, 'recovery round begun');
    }, signal);
  }

  /** Heartbeats every known node each round, until all answered or the collection time is up. */
  private async collect(census: RecoveryCensus, signal: AbortSignal): Promise<void> {
    const roundMs = this.deps.roundIntervalMs ?? 1_000;
    for (;;) {
      this.heartbeat(census.allTargets());
      await abortableSleep(roundMs, signal);
      const everyoneAnswered = census.pending().length === 0 && census.reportedCount > 0;
      if (everyoneAnswered || this.deps.clock.nowMs() >= this.deadlineMs) return;
    }
  }

  private heartbeat(targets: readonly CensusTarget[]): void {
    const request: HeartbeatRequest = { currTimeSec: Math.floor(this.deps.clock.nowMs() / 1000), masterAddr: this.deps.selfHttpAddr };
    for (const t of targets) {
      // A listed address of unknown kind gets both heartbeats; the wrong one is refused by the node.
      if (t.kind !== 'data') this.deps.queue.heartbeat(t.addr, 'meta', request);
      if (t.kind !== 'meta') this.deps.queue.heartbeat(t.addr, 'data', request);
    }
    this.deps.queue.kick();
  }

  /** Plans from the census against the current model and proposes; re-plans after a Raft refusal. */
  private async adopt(record: RecoveryRecord, census: RecoveryCensus, signal: AbortSignal): Promise<void> {
    const snapshot = census.snapshot();
    await this.withTries(async () => {
      const plan = planRecovery(this.model, snapshot, {
        round: record.round,
        owner: ROOT_USER_ID,
        idMargin: record.params.idMargin,
        hints: record.params.nodeIdHints,
        legacyDataMediaType: this.deps.legacyDataMediaType,
      });
      await this.propose(record.round, plan, signal);
      this.deps.logger?.info({ round: record.round, ...plan.summary }, 'recovery round finished');
    }, signal);
  }

  private async propose(round: number, plan: RecoveryPlan, signal: AbortSignal): Promise<void> {
    const nowMs = this.deps.clock.nowMs();
    const nowSec = Math.floor(nowMs / 1000);
    const options = { signal, timeoutMs: this.deps.proposeTimeoutMs };
    const refused: RecoveryFinding[] = [];
    const summary: { -readonly [K in keyof RecoverySummary]: number } = { ...plan.summary };
    // An adopt the model refuses (it changed under the plan) is reported, the rest goes on.
    const tryAdopt = async (subject: string, work: () => Promise<unknown>, undo: () => void): Promise<void> => {
      try {
        await work();
      } catch (e) {
        if (!(e instanceof OperatingError) || e instanceof ReplicationError) throw e;
        refused.push({ kind: 'notAdopted', subject, detail: `refused when proposed: ${e.message}`, rule: '' });
        undo();
      }
    };
    for (let i = 0; i < plan.nodes.length; i += RECOVERY_BATCH_MAX) {
      const nodes = plan.nodes.slice(i, i + RECOVERY_BATCH_MAX);
      await tryAdopt(
        `nodes ${nodes[0].addr}..${nodes[nodes.length - 1].addr}`,
        () => this.deps.replicator.propose(makeCommand('recovery.adoptNodes', { round, nodeSetCapacity: this.deps.nodeSetCapacity, createTimeMs: nowMs, idFloor: plan.nodeIdFloor, nodes }), options),
        () => {
          summary.metaNodesAdopted -= nodes.filter((n) => n.kind === 'meta').length;
          summary.dataNodesAdopted -= nodes.filter((n) => n.kind === 'data').length;
        },
      );
    }
    for (const vol of plan.vols) {
      const [first, ...rest] = chunks(vol.dataPartitions, RECOVERY_BATCH_MAX);
      const { dataPartitions: _all, ...fields } = vol;
      let adopted = true;
      await tryAdopt(
        `vol ${vol.name}`,
        () => this.deps.replicator.propose(makeCommand('recovery.adoptVol', { ...fields, round, owner: ROOT_USER_ID, createTimeUnixSec: nowSec, dataPartitions: first ?? [] }), options),
        () => {
          adopted = false;
          summary.volsAdopted -= 1;
          summary.metaPartitionsAdopted -= vol.metaPartitions.length;
          summary.dataPartitionsAdopted -= vol.dataPartitions.length;
          summary.partitionsNotAdopted += vol.metaPartitions.length + vol.dataPartitions.length;
        },
      );
      if (adopted) for (const batch of rest) await this.adoptDataBatch(round, vol.name, batch, nowSec, options, tryAdopt, summary);
    }
    for (const extra of plan.extraDataPartitions) {
      for (const batch of chunks(extra.partitions, RECOVERY_BATCH_MAX)) await this.adoptDataBatch(round, extra.volName, batch, nowSec, options, tryAdopt, summary);
    }
    const findings = [...refused, ...plan.findings].slice(0, RECOVERY_FINDINGS_MAX);
    const omitted = plan.findingsOmitted + refused.length + plan.findings.length - findings.length;
    await this.deps.replicator.propose(
      makeCommand('recovery.finish', { round, timeUnixSec: nowSec, counterFloors: plan.counterFloors, summary, findings, findingsOmitted: omitted }),
      options,
    );
  }

  private async adoptDataBatch(
    round: number,
    volName: string,
    partitions: RecoveryPlan['vols'][number]['dataPartitions'],
    nowSec: number,
    options: { signal: AbortSignal; timeoutMs: number },
    tryAdopt: (subject: string, work: () => Promise<unknown>, undo: () => void) => Promise<void>,
    summary: { dataPartitionsAdopted: number; partitionsNotAdopted: number },
  ): Promise<void> {
    await tryAdopt(
      `data partitions ${partitions[0].id}..${partitions[partitions.length - 1].id} of vol ${volName}`,
      () => this.deps.replicator.propose(makeCommand('recovery.adoptDataPartitions', { round, volName, createTimeUnixSec: nowSec, partitions }), options),
      () => {
        summary.dataPartitionsAdopted -= partitions.length;
        summary.partitionsNotAdopted += partitions.length;
      },
    );
  }

  /** Runs `work` until it passes; Raft's refusals are retried a bounded number of times. */
  private async withTries(work: () => Promise<void>, signal: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await work();
        this.lastError = '';
        return;
      } catch (e) {
        if (signal.aborted || !(e instanceof ReplicationError) || attempt >= ADOPT_TRIES_MAX) throw e;
        this.lastError = e.message;
        this.deps.logger?.warn({ attempt, err: e.message }, 'recovery proposal failed; retrying');
        await abortableSleep(Math.min(5_000, 200 * 2 ** attempt), signal);
      }
    }
  }

  private async until(ready: () => boolean, signal: AbortSignal): Promise<void> {
    while (!ready()) await abortableSleep(WAIT_STEP_MS, signal);
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Resolves after `ms`; rejects as soon as the signal aborts. */
