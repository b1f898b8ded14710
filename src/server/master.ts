// The composition root of one master: it opens the stores, starts Raft and the HTTP API, and
// stops them in the strict order of ARCHITECTURE.md ("Lifecycle"):
//   1. the request gate answers every new request with 503;
//   2. a leader hands leadership to the most up-to-date follower (bounded wait);
//   3. no new proposals; proposals in flight finish or fail with ShuttingDown (bounded);
//   4. leader-side background work stops (and is awaited): schedulers, then the volume and
//      partition operations in flight, which get `domainStopGraceMs` to finish and are then
//      aborted and rolled back (docs/volume-create.md) while this member can still propose;
//   5. ticking, transport, snapshot streams and the Ready loop stop;
//   6. the HTTP listener closes, then the Raft log and the state store close through their gates.
// A second stop request (second signal) skips the waits of 2-3, never the order of 5-6.
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { HandleCopier } from '../api/accept-handles.js';
import { createApiServer, type ApiServer } from '../api/server.js';
import { ClusterService } from '../cluster/cluster.js';
import { DomainOps } from '../cluster/domain-ops.js';
import type { Replicator } from '../cluster/ports.js';
import { registerHeartbeatMetrics } from '../cluster/heartbeat-metrics.js';
import { LeaderSchedulers } from '../cluster/schedulers.js';
import { RecoveryService, type RecoveryRequest } from '../cluster/recovery/recovery-service.js';
import { cryptoRandom, systemClock } from '../cluster/sources.js';
import { MetadataFsm, type InstallPoint } from '../fsm/metadata-fsm.js';
import { clearLive } from '../model/index.js';
import { TaskQueue, monotonicQueueClock } from '../nodes/task-queue.js';
import { TcpTaskClient } from '../nodes/tcp-task-client.js';
import { NONE } from '../raft/core/index.js';
import type { MemberAddress } from '../raft/member-context.js';
import { RaftLogStore } from '../raft/log/log-store.js';
import { RaftNode } from '../raft/node.js';
import { PeerAuthConfigError } from '../raft/transport/peer-security.js';
import { TcpTransport, type PeerAuth } from '../raft/transport/tcp-transport.js';
import { DirLock } from '../storage/dir-lock.js';
import { DiskSpaceMonitor } from '../storage/disk-space.js';
import { CubeCode, ParamError } from '../util/errors.js';
import type { MasterConfig, PeerConfig } from './config.js';
import { ChaosClock, ChaosDisk, chaosEnabled, registerChaosRoutes } from './chaos-hooks.js';
import { LifecycleStack } from './lifecycle.js';
import { createMetricsRegistry, RaftMetrics, registerDiskSpaceMetrics, registerScrapeMetrics, registerTransportMetrics } from './metrics.js';
import { MemberAuditor, NodeRaftControl, RaftReplicator } from './raft-adapters.js';
import { StateExports } from './state-export.js';
import { loadTransportSecurity } from './transport-security.js';

export interface Master {
  readonly config: MasterConfig;
  readonly api: ApiServer;
  readonly node: RaftNode;
  readonly fsm: MetadataFsm;
  /** Ordered stop; `hurry()` during it skips the remaining waits. Resolves when everything is closed. */
  stop(): Promise<void>;
  hurry(): void;
}

function addressOf(peer: PeerConfig): MemberAddress {
  return { httpAddr: `${peer.host}:${peer.httpPort}`, raftAddr: `${peer.host}:${peer.raftPort}` };
}

export interface MasterOptions {
  /** `cubemaster recover`: this member begins a recovery round (docs/recovery.md). */
  readonly recovery?: RecoveryRequest;
}

export async function startMaster(config: MasterConfig, logger: Logger, onFatal: (error: Error) => void, options: MasterOptions = {}): Promise<Master> {
  const stack = new LifecycleStack(logger);
  try {
    return await compose(config, logger, stack, onFatal, options);
  } catch (error) {
    // A failed start releases what it acquired, in reverse order, before reporting.
    await stack.disposeAll();
    throw error;
  }
}

async function compose(config: MasterConfig, logger: Logger, stack: LifecycleStack, onFatal: (error: Error) => void, options: MasterOptions): Promise<Master> {
  const self = config.peers.find((p) => p.id === config.id)!;
  const storeLogger = logger.child({ component: 'storage' });
  // The registry holds no resource: made first, so every part can report into it from its start.
  const metricsRegistry = createMetricsRegistry();
  const raftMetrics = new RaftMetrics(metricsRegistry);
  // Chaos mode only: an injectable disk and a steppable wall clock (installed before anything
  // keeps a reference to Date.now).
  const chaos = chaosEnabled() ? { disk: new ChaosDisk(), clock: new ChaosClock() } : null;
  // Which stores are out of space: the node refuses writes while any is (docs/faults.md).
  const diskSpace = new DiskSpaceMonitor(storeLogger);

  // First in, last out: no second process may open these directories while we hold them.
  const dirLock = DirLock.acquire(config.walDir);
  stack.defer('data dir lock', () => Promise.resolve(dirLock.release()));
  // The helper process that copies the HTTP listening handle (api/accept-handles.ts) starts
  // beside the opening of the stores: its start costs CPU that the serving need not share.
  const acceptCopier = config.httpAcceptHandles > 1 ? HandleCopier.start() : null;
  stack.defer('http accept handle helper', () => acceptCopier?.end(0) ?? Promise.resolve());

  const fsm = await MetadataFsm.open({
    storeDir: config.storeDir,
    logger: storeLogger,
    onInstallPoint: testCrashHook(),
    onWriteFailure: onFatal,
    onStoreWrite: (ops, bytes, seconds) => raftMetrics.storeWritten(ops, bytes, seconds),
    diskSpace,
    faults: chaos?.disk,
    modelImageMinRecords: config.modelImageMinRecords,
  });
  stack.defer('state store', () => fsm.close());

  const log = await RaftLogStore.open(config.walDir, {
    logger: storeLogger,
    diskSpace,
    faults: chaos?.disk,
    preallocate: config.walPreallocate,
  });
  stack.defer('raft log', () => log.close());

  const security = loadTransportSecurity(config, logger);
  const transport = newTransport(config, self, security.peerAuth, logger.child({ component: 'transport' }));
  const knownAddresses = new Map(config.peers.map((p) => [p.id, addressOf(p)]));
  const node = await RaftNode.start({
    id: config.id,
    log,
    stateMachine: fsm,
    transport,
    logger: logger.child({ component: 'raft' }),
    // A joining member founds nothing: the leader adds it and sends it the log or a snapshot.
    bootstrap: config.join ? [] : config.peers.map((p) => ({ id: p.id, address: addressOf(p) })),
    knownAddresses,
    tickIntervalMs: config.tickIntervalMs,
    electionTick: config.electionTick,
    heartbeatTick: config.heartbeatTick,
    retainLogs: config.retainLogs,
    proposalTimeoutMs: config.proposalTimeoutMs,
    maxPendingProposals: config.maxPendingProposals,
    maxPendingReads: config.maxPendingReads,
    randomSeed: (process.pid * 2654435761 + Date.now()) >>> 0,
    onFatal,
    observer: raftMetrics,
    diskSpace,
  });
  // Step 5 (the node's own stop runs ticking, transport, streams and loop in that order).
  stack.defer('raft node', () => node.stop());
  // Just before it: an apply waiting for the state store to find disk space must not hold the
  // loop (and so the stop) up; what is not written is replayed from the log at the next start.
  stack.defer('state writes waiting for disk space', () => Promise.resolve(fsm.stopWaitingForSpace()));

  const replicator = new RaftReplicator(node, fsm);
  const raftControl = new NodeRaftControl(node, fsm, {
    raftAddrFor: (httpAddr) => `${httpAddr.slice(0, httpAddr.lastIndexOf(':'))}:${config.replicaPort}`,
    memberCatchUpTimeoutMs: config.memberCatchUpTimeoutMs,
    transferLeaderTimeoutMs: config.transferLeaderTimeoutMs,
  });

  // Leader-side background work: the one-time cluster bootstrap when this member first leads.
  const leaderWork = new LeaderWork(logger, new ClusterService({ replicator, clock: systemClock, random: cryptoRandom, clusterName: config.clusterName }));
  node.onLeaderChange((leader) => {
    if (leader === config.id) leaderWork.onBecameLeader(() => fsm.view.cluster === null);
  });
  stack.defer('leader work', () => leaderWork.stop());

  // The channel to meta and data nodes and the registry of multi-step domain operations. Both
  // outlive leadership changes; what runs on them is leader-only (see onLeaderChange below).
  const nodeTasks = new TcpTaskClient({ logger: logger.child({ component: 'node-tasks' }) });
  stack.defer('node task client', () => nodeTasks.close());
  const domainOps = new DomainOps({ stopped: true });
  // The queued sender of ack-only tasks (heartbeats, range updates): runs while this member
  // leads (LeaderDomain starts and stops it); its tick is the Go 2 s, or the heartbeat interval
  // when that is shorter (tests), so that a heartbeat never waits longer than its interval.
  const taskQueue = new TaskQueue({
    sender: nodeTasks,
    clock: systemClock,
    timing: monotonicQueueClock,
    logger: logger.child({ component: 'node-task-queue' }),
    tickMs: Math.min(2_000, config.nodeHeartbeatIntervalMs),
  });

  // Backups: aborted first thing at stop (below), so that a download never holds the drain up.
  const stateExports = new StateExports(fsm, { memberId: config.id, clusterName: config.clusterName });
  stack.defer('snapshot exports', () => stateExports.close());

  registerScrapeMetrics(metricsRegistry, { node, fsm, transport });

  // A recovery round runs on the leader while the model says one collects (docs/recovery.md).
  const recovery = new RecoveryService({
    replicator,
    queue: taskQueue,
    clock: systemClock,
    selfHttpAddr: `${self.host}:${self.httpPort}`,
    nodeSetCapacity: config.nodeSetCap,
    legacyDataMediaType: config.legacyDataMediaType,
    proposeTimeoutMs: config.proposalTimeoutMs,
    roundIntervalMs: Math.min(1_000, config.nodeHeartbeatIntervalMs),
    request: options.recovery ?? null,
    logger: logger.child({ component: 'recovery' }),
  });

  registerHeartbeatMetrics(metricsRegistry);
  registerTransportMetrics(metricsRegistry, transport);
  registerDiskSpaceMetrics(metricsRegistry, diskSpace);
  const api = createApiServer({
    metricsRegistry,
    replicator,
    raft: raftControl,
    cluster: {
      clusterName: config.clusterName,
      selfId: config.id,
      selfHttpAddr: `${self.host}:${self.httpPort}`,
      nodeSetCapacity: config.nodeSetCap,
      legacyDataMediaType: config.legacyDataMediaType,
      singleNodeMode: config.singleNodeMode,
    },
    domain: { nodes: nodeTasks, ops: domainOps, queue: taskQueue },
    logger: logger.child({ component: 'http' }),
    timeouts: { proposeMs: config.proposalTimeoutMs },
    accessMode: config.apiAccess,
    limits: config.apiLimits,
    auditor: new MemberAuditor(node, fsm, log),
    stateExporter: stateExports,
    https: security.https,
    forward: security.forwardTls === undefined ? undefined : { tls: security.forwardTls },
    recovery,
  });
  if (chaos !== null) registerChaosRoutes(api.app, chaos.disk, chaos.clock);

  const leaderDomain = new LeaderDomain(
    logger,
    domainOps,
    taskQueue,
    new LeaderSchedulers({
      replicator,
      nodes: nodeTasks,
      queue: taskQueue,
      ops: domainOps,
      partitions: api.services.partitions,
      clock: systemClock,
      selfHttpAddr: `${self.host}:${self.httpPort}`,
      logger: logger.child({ component: 'schedulers' }),
      onPass: (loop, ok, seconds) => raftMetrics.schedulerPass(loop, ok, seconds),
      config: {
        heartbeatIntervalMs: config.nodeHeartbeatIntervalMs,
        topUpDelayMs: config.dataPartitionTopUpDelayMs,
        orphanGraceMs: config.orphanPartitionGraceMs,
        volRemovalDelayMs: config.volRemovalDelayMs,
        proposeTimeoutMs: config.proposalTimeoutMs,
      },
    }),
    replicator,
    config.domainStopGraceMs,
    recovery,
  );
  node.onLeaderChange((leader) => leaderDomain.onLeaderChange(leader === config.id));
  stack.defer('leader domain', () => leaderDomain.stop());
  await api.listen({ host: config.bindIp ? config.ip : '0.0.0.0', port: config.listen }, { handles: config.httpAcceptHandles, copier: acceptCopier ?? undefined });
  stack.defer('http listener', () => api.app.close());
  logger.info(
    { id: config.id, http: `${config.bindIp ? config.ip : '0.0.0.0'}:${config.listen}`, https: security.https !== undefined, raft: `${config.ip}:${self.raftPort}`, peerAuth: transport.peerAuthMode, peers: config.peers.map((p) => p.id) },
    'master started',
  );

  let stopping: Promise<void> | null = null;
  let hurried: () => void = () => undefined;
  const hurry = new Promise<void>((resolve) => {
    hurried = resolve;
  });

  async function stop(): Promise<void> {
    const started = performance.now();
    logger.info({ leader: node.isLeader() }, 'stopping');
    // 1. New requests get 503 from now on.
    api.gate.startDraining();
    // Backup downloads in flight are aborted beside everything else (they never hold the stop up).
    const exportsClosed = stateExports.close();
    // Domain operations in flight finish or roll back while this member still leads; with none
    // in flight the handover starts at once, beside the schedulers' stop (every millisecond
    // here is a millisecond without a leader for the clients).
    const handover = (): Promise<void> =>
      node.isLeader() && node.conf().voters.length > 1
        ? node.transferLeadership(NONE, { timeoutMs: config.transferLeaderTimeoutMs }).then(
            (to) => logger.info({ to }, 'leadership handed over'),
            (err: unknown) => logger.warn({ err }, 'leadership handover failed; stopping anyway'),
          )
        : Promise.resolve();
    if (domainOps.size === 0) {
      await raceHurry(Promise.all([leaderDomain.stop(), handover()]).then(() => undefined), hurry);
    } else {
      await raceHurry(leaderDomain.stop(), hurry);
      // 2. Hand leadership over, so that the cluster does not wait for an election timeout.
      await raceHurry(handover(), hurry);
    }
    await raceHurry(exportsClosed, hurry);
    // 3. No new proposals; those in flight finish or fail with ShuttingDown.
    node.stopAccepting();
    await raceHurry(node.drain(config.shutdownTimeoutMs), hurry);
    await raceHurry(api.gate.drained(config.shutdownTimeoutMs).then(() => undefined), hurry);
    // 4-6: the stack, in reverse order of start: leader work, HTTP, node, log, state store.
    await stack.disposeAll();
    logger.info({ ms: Math.round(performance.now() - started) }, 'stopped');
  }

  return {
    config,
    api,
    node,
    fsm,
    stop: () => (stopping ??= stop()),
    hurry: () => {
      hurried();
      fsm.abandonModelImage();
    },
  };
}

/** The Raft transport; a certificate that does not fit this member stops the start, naming the keys. */
function newTransport(config: MasterConfig, self: PeerConfig, peerAuth: PeerAuth, logger: Logger): TcpTransport {
  try {
    return new TcpTransport({
      selfId: config.id,
      clusterId: config.clusterName,
      listenHost: config.ip,
      listenPort: config.raftListenPort ?? self.raftPort,
      localAddress: config.bindIp ? config.ip : undefined,
      logger,
      peerAuth,
    });
  } catch (error) {
    if (!(error instanceof PeerAuthConfigError)) throw error;
    const key = peerAuth.mode === 'secret' ? 'raftSecretFile' : 'raftTlsCertFile';
    throw new ParamError(key, `config: ${error.message} (raftTlsCaFile ${config.raftTlsCaFile}, raftTlsCertFile ${config.raftTlsCertFile}, raftTlsKeyFile ${config.raftTlsKeyFile})`, CubeCode.InvalidCfg);
  }
}

/**
 * Test-only: CUBEMASTER_TEST_CRASH_AT=<install point> kills the process with SIGKILL at that
 * moment of a snapshot install, so crash tests can prove recovery from it. Unset in production.
 */
function testCrashHook(): ((point: InstallPoint) => void) | undefined {
  const at = process.env.CUBEMASTER_TEST_CRASH_AT;
  if (at === undefined || at === '') return undefined;
  return (point) => {
    if (point !== at) return;
    // Written synchronously (stderr is a pipe or a file): the kill leaves no time to flush.
    process.stderr.write(`${JSON.stringify({ level: 40, point, msg: 'test crash point reached: killing the process' })}\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}

/** Waits for `work`, unless a second stop request says not to; never leaves `work` unobserved. */
async function raceHurry(work: Promise<void>, hurry: Promise<void>): Promise<void> {
  work.catch(() => undefined);
  await Promise.race([work, hurry]);
}

/** Leader-only background work, owned and awaited on stop. */
class LeaderWork {
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly logger: Logger,
    private readonly cluster: ClusterService,
  ) {}

  onBecameLeader(needsBootstrap: () => boolean): void {
    if (this.stopped || this.running !== null || !needsBootstrap()) return;
    this.running = this.cluster
      .bootstrap({ timeoutMs: 10_000 })
      .then(
        (r) => this.logger.info(r, 'cluster bootstrapped'),
        // Another leader will try again when it takes over; this one retries on its next term.
        (err: unknown) => this.logger.warn({ err }, 'cluster bootstrap failed'),
      )
      .finally(() => {
        this.running = null;
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}

/**
 * The leader-only part of the domain: schedulers run, queued node tasks are sent and domain
 * operations are accepted only while this member leads. Becoming leader: read barrier (the
 * model holds every committed entry of earlier terms, so the sweeps see the intents a dead
 * leader left), then operations resume, the task queue and the schedulers start. Losing
 * leadership: schedulers stop, then the task queue (its sends in flight awaited, its tasks
 * discarded), then operations are aborted at once (their proposals would fail with NotLeader;
 * the new leader's sweep undoes their intents), and the heartbeat-derived live state is dropped.
 * Transitions run one at a time.
 */
class LeaderDomain {
  private chain: Promise<void> = Promise.resolve();
  private leading = false;
  private stopped = false;

  constructor(
    private readonly logger: Logger,
    private readonly ops: DomainOps,
    private readonly taskQueue: TaskQueue,
    private readonly schedulers: LeaderSchedulers,
    private readonly replicator: Replicator,
    private readonly stopGraceMs: number,
    private readonly recovery: RecoveryService,
  ) {}

  onLeaderChange(isLeader: boolean): void {
    if (this.stopped || isLeader === this.leading) return;
    this.leading = isLeader;
    this.enqueue(isLeader ? () => this.lead() : () => this.follow(0));
  }

  /** Stop for good: operations get the stop grace to finish, then roll back. Idempotent. */
  stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.leading = false;
      this.enqueue(() => this.follow(this.stopGraceMs));
    }
    return this.chain;
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((err: unknown) => this.logger.error({ err }, 'leader domain transition failed'));
  }

  private async lead(): Promise<void> {
    // Retried until it passes or leadership is gone: the sweeps must not run on a model that
    // lacks entries committed in earlier terms.
    for (let attempt = 0; this.leading; attempt++) {
      try {
        await this.replicator.readBarrier({ timeoutMs: LEAD_BARRIER_TIMEOUT_MS });
        break;
      } catch (err) {
        if (attempt === 0) this.logger.warn({ err }, 'read barrier after election failed; retrying');
        await delay(Math.min(1_000, 50 * 2 ** attempt));
      }
    }
    if (!this.leading) return;
    this.ops.resume();
    this.taskQueue.start();
    this.schedulers.start();
    this.recovery.start();
    this.logger.info({}, 'leader domain started');
  }

  private async follow(graceMs: number): Promise<void> {
    await this.recovery.stop();
    await this.schedulers.stop();
    // Nothing queued is sent by a member that no longer leads; operations do not use the queue.
    await this.taskQueue.stop();
    const left = await this.ops.quiesce(graceMs, DOMAIN_ABORT_WAIT_MS);
    clearLive(this.replicator.model);
    if (left.finished + left.aborted > 0) this.logger.info(left, 'domain operations stopped');
  }
}

/** How long aborted domain operations get to roll back before stop goes on without them. */
const DOMAIN_ABORT_WAIT_MS = 5_000;
const LEAD_BARRIER_TIMEOUT_MS = 5_000;
