// The HTTP API of a master (spec 1, 2): a fastify instance with the CubeFS transport conventions,
// the routes as plugins, one error handler, follower -> leader forwarding, the shutdown request
// gate and Prometheus metrics. The caller (src/server) listens (listen(): with extra accept handles,
// accept-handles.ts), and on stop: gate.startDraining(), await gate.drained(ms), then app.close()
// (which also closes the forwarding sockets and the extra accept handles).

import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Fastify, { LogController } from 'fastify';
import { Registry } from 'prom-client';
import { ClusterService } from '../cluster/cluster.js';
import type { HostResolver } from '../cluster/nodes.js';
import { NodeService } from '../cluster/nodes.js';
import type { Auditor, RaftControl, Replicator, StateExporter } from '../cluster/ports.js';
import type { Clock, RandomSource } from '../cluster/sources.js';
import { cryptoRandom, systemClock } from '../cluster/sources.js';
import { DomainOps } from '../cluster/domain-ops.js';
import { HostNames } from '../cluster/host-names.js';
import { PartitionService } from '../cluster/partitions.js';
import type { RecoveryPort } from '../cluster/recovery/recovery-service.js';
import { UserService } from '../cluster/users.js';
import { VolumeService } from '../cluster/vols.js';
import type { NodeTaskClient } from '../nodes/task-client.js';
import { TaskQueue } from '../nodes/task-queue.js';
import { TcpTaskClient } from '../nodes/tcp-task-client.js';
import { DEFAULT_NODE_SET_CAPACITY } from '../model/index.js';
import type { ApiClusterConfig, ApiContext, ApiTimeouts } from './context.js';
import { sendMethodNotAllowed, sendNotFound } from './envelope.js';
import { sendFailure, sendShuttingDown } from './errors.js';
import type { AccessMode, AccessRule } from './access-rules.js';
import type { ForwardOptions } from './forward.js';
import { LeaderForwarder, splitHostPort } from './forward.js';
import type { ApiLimits } from './limits.js';
import { ApiBusyError, ApiLimitError, checkRequestShape, clientKeyOf, DEFAULT_API_LIMITS, InFlightLimiter, RouteQpsLimiter } from './limits.js';
import { AcceptHandles, type HandleCopier } from './accept-handles.js';
import { acceptQueueLength } from './accept-queue.js';
import { RequestGate } from './gate.js';
import { ApiMetrics } from './metrics.js';
import { pathOf, queryRecord } from './params.js';
import { rawUrlClientErrorHandler } from './raw-url.js';
import { LazyRequestLogger } from './request-logger.js';
import { declareRequestState, initRequestState, requestState } from './request-state.js';
import { adminRoutes } from './routes/admin.js';
import { consoleRoutes } from './routes/console.js';
import { apiLimitRoutes } from './routes/api-limits.js';
import { memberRoutes } from './routes/member.js';
import { metricsRoutes } from './routes/metrics.js';
import { nodeRoutes } from './routes/nodes.js';
import { operatorRoutes } from './routes/operator.js';
import { partitionRoutes } from './routes/partitions.js';
import { raftRoutes } from './routes/raft.js';
import { recoveryRoutes } from './routes/recovery.js';
import { s3Routes } from './routes/s3.js';
import { snapshotRoutes } from './routes/snapshot.js';
import { topologyRoutes } from './routes/topology.js';
import { userRoutes } from './routes/users.js';
import { volRoutes } from './routes/vols.js';

/** Limits on client input (limits.ts; defaults DEFAULT_API_LIMITS) and the socket timeouts. */
export interface ApiServerLimits extends Partial<ApiLimits> {
  /** Node's server.requestTimeout: the whole request must arrive within it. Default 60 s. */
  readonly requestTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this. Default 65 s. */
  readonly keepAliveTimeoutMs?: number;
}

export interface ApiServerOptions {
  readonly replicator: Replicator;
  readonly raft: RaftControl;
  readonly cluster: ApiClusterConfig;
  /** A pino logger (or any fastify-compatible one); none = silent. */
  readonly logger?: FastifyBaseLogger;
  /** Where the API's metrics register; default a registry of its own. */
  readonly metricsRegistry?: Registry;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly forward?: ForwardOptions;
  readonly timeouts?: Partial<ApiTimeouts>;
  readonly limits?: ApiServerLimits;
  /** Which access rules apply (access-rules.ts); default 'cubefs', the Go master's. */
  readonly accessMode?: AccessMode;
  /** Host name resolution for node addrs (spec 1.3); default DNS. */
  readonly resolveHost?: HostResolver;
  /** This member's own status and audit digests (/cubemaster/status, /cubemaster/audit). */
  readonly auditor?: Auditor;
  /** Backups of this member's state (GET /cubemaster/snapshot); absent: no such route. */
  readonly stateExporter?: StateExporter;
  /**
   * The node task client, domain operation registry and queued task sender, owned by the caller
   * (the master stops them in its lifecycle and runs the queue while it leads). Absent: the API
   * makes its own client and registry and closes them with the app. Without `queue` the API holds
   * one that is never started: responses find no task in it, and it sends nothing.
   */
  readonly domain?: { readonly nodes: NodeTaskClient; readonly ops: DomainOps; readonly queue?: TaskQueue };
  /** Reverse lookups of node IPs (DomainAddr); default /etc/hosts then PTR, cached. */
  readonly hostNames?: HostNames;
  /** Serve HTTPS with these node:https options (key, cert; ca + requestCert for client certificates). Absent: HTTP. */
  readonly https?: HttpsServerOptions;
  /** The master's recovery service (node reports and registrations during a recovery round). */
  readonly recovery?: RecoveryPort;
}

export interface ApiServer {
  readonly app: FastifyInstance;
  readonly gate: RequestGate;
  readonly metricsRegistry: Registry;
  /** The services behind the routes; the master hands `partitions` to its leader schedulers. */
  readonly services: ApiContext['services'];
  /** Every route registered (after `app.ready()`), with the access rule it enforces, if any. */
  routes(): readonly RegisteredRoute[];
  /**
   * `app.listen()` on host:port; then, in the background, `accept.handles - 1` more listening
   * handles on the socket (accept-handles.ts: the event loop accepts up to `accept.handles`
   * connections per turn). They close with the app. When they cannot be made, the server
   * accepts on its one handle and the failure is logged.
   */
  listen(address: { readonly host: string; readonly port: number }, accept?: AcceptHandlesPlan): Promise<void>;
  /** The listening handles in use once the extra ones are made (or failed): 1 without them. */
  acceptHandleCount(): Promise<number>;
}

/** How listen() adds listening handles (accept-handles.ts). */
export interface AcceptHandlesPlan {
  /** Handles in all, the server's own included; 1: none added. */
  readonly handles: number;
  /** Their helper process, started ahead (HandleCopier.start); listen() ends it. */
  readonly copier?: HandleCopier;
  /**
   * How long after listening they are made; default ACCEPT_HANDLES_AFTER_MS. The exchange
   * with the helper costs this thread ~20 ms, which a start's first answers need not wait for;
   * a loop that just started is not busy, and one accept per turn is then no wait.
   */
  readonly afterMs?: number;
}

export const ACCEPT_HANDLES_AFTER_MS = 1_000;
/** Bound on making the extra accept handles (the exchange with the helper process). */
const ACCEPT_HANDLES_TIMEOUT_MS = 10_000;

export interface RegisteredRoute {
  readonly url: string;
  readonly methods: readonly string[];
  /** The rule defineRoute enforces; undefined for routes registered without it (/metrics...). */
  readonly enforced: AccessRule | undefined;
}

export const DEFAULT_BODY_LIMIT_BYTES = DEFAULT_API_LIMITS.maxBodyBytes;
export const DEFAULT_TIMEOUTS: ApiTimeouts = { proposeMs: 10_000, membershipMs: 25_000, transferMs: 10_000 };

// A Content-Type fastify can parse ("type/subtype" plus parameters); anything else is replaced
// so that fastify's 415 never happens (Go reads FormValue whatever the type says).
const VALID_CONTENT_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*(;.*)?$/;

export function createApiServer(options: ApiServerOptions): ApiServer {
  const cluster: Required<ApiClusterConfig> = {
    nodeSetCapacity: DEFAULT_NODE_SET_CAPACITY,
    legacyDataMediaType: 0,
    utcOffsetSec: 0,
    ebsAddr: '',
    servicePath: '',
    enableSnapshot: false,
    singleNodeMode: false,
    ...options.cluster,
  };
  const ownsDomain = options.domain === undefined;
  const domain = options.domain ?? { nodes: new TcpTaskClient(), ops: new DomainOps() };
  const taskQueue = options.domain?.queue ?? new TaskQueue({ sender: { sendAdminTask: () => Promise.reject(new Error('this API does not send queued node tasks')) } });
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const limits: ApiLimits = { ...DEFAULT_API_LIMITS, ...stripUndefined(options.limits ?? {}) };
  const bodyLimit = limits.maxBodyBytes;
  const gate = new RequestGate();
  const metricsRegistry = options.metricsRegistry ?? new Registry();
  let nextRequestId = 0;

  let replayTarget: FastifyInstance | null = null;
  const app = Fastify({
    ...(options.logger !== undefined ? { loggerInstance: options.logger, childLoggerFactory: LazyRequestLogger.factory } : { logger: false }),
    // One log line per request, written when it closes (finishRequest), not fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => `m${cluster.selfId}-${++nextRequestId}`,
    bodyLimit,
    requestTimeout: options.limits?.requestTimeoutMs ?? 60_000,
    keepAliveTimeout: options.limits?.keepAliveTimeoutMs ?? 65_000,
    // gorilla/mux: exact paths, GET routes do not answer HEAD (405), case-sensitive.
    exposeHeadRoutes: false,
    routerOptions: {
      ignoreTrailingSlash: false,
      ignoreDuplicateSlashes: false,
      caseSensitive: true,
      // The Go SDK's unencoded query strings: parsed by our own Go-like parser (params.ts).
      querystringParser: queryRecord,
    },
    return503OnClosing: true,
    // Stop drains the gate first; whatever connection is left then (idle keep-alive, or a
    // client's half-closed socket) is destroyed so that close() cannot hang on it.
    forceCloseConnections: true,
    // Spec 8.2: raw UTF-8 in the SDK's unencoded query strings, which Node's parser refuses.
    clientErrorHandler: rawUrlClientErrorHandler(() => replayTarget),
    ...(options.https === undefined ? {} : { https: options.https }),
  });

  replayTarget = app;

  const ctx: ApiContext = {
    cluster,
    timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
    replicator: options.replicator,
    raft: options.raft,
    services: {
      users: new UserService({ replicator: options.replicator, clock, random }),
      nodes: new NodeService({
        replicator: options.replicator,
        clock,
        nodeSetCapacity: cluster.nodeSetCapacity,
        legacyDataMediaType: cluster.legacyDataMediaType,
        resolveHost: options.resolveHost,
      }),
      cluster: new ClusterService({ replicator: options.replicator, clock, random, clusterName: cluster.clusterName }),
      vols: new VolumeService({
        replicator: options.replicator,
        clock,
        random,
        nodes: domain.nodes,
        ops: domain.ops,
        clusterName: cluster.clusterName,
        selfId: cluster.selfId,
        singleNodeMode: cluster.singleNodeMode,
        logger: options.logger,
      }),
      partitions: new PartitionService({
        replicator: options.replicator,
        clock,
        nodes: domain.nodes,
        ops: domain.ops,
        clusterName: cluster.clusterName,
        logger: options.logger,
      }),
    },
    domain,
    taskQueue,
    recovery: options.recovery ?? null,
    clock,
    hostNames: options.hostNames ?? new HostNames(() => clock.nowMs()),
    forwarder: new LeaderForwarder(cluster.selfId, options.forward),
    metrics: new ApiMetrics(metricsRegistry, gate),
    viewOptions: { utcOffsetSec: cluster.utcOffsetSec },
    methodsByPath: new Map(),
    accessMode: options.accessMode ?? 'cubefs',
    accessEnforced: new Map(),
    limits,
    inFlight: new InFlightLimiter(limits),
    qps: new RouteQpsLimiter(limits.qps, () => clock.nowMs()),
  };
  // Node keeps at most this many header lines; one more than the limit shows a request over it.
  app.server.maxHeadersCount = limits.maxHeaderCount + 1;
  const registered = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = registered.get(route.url) ?? new Set<string>();
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) methods.add(m);
    registered.set(route.url, methods);
  });
  const isMemberHost = (host: string): boolean => ctx.raft.info().peers.some((p) => splitHostPort(p.httpAddr).host === host);

  // Bodies are kept as raw bytes: handlers decode form or JSON themselves, and a forwarded
  // request carries exactly the bytes the client sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));

  declareRequestState(app);
  app.addHook('onRequest', (request, reply, done) => {
    const raw = request.headers['content-type'];
    const state = initRequestState(request, raw);
    if (raw !== undefined && !VALID_CONTENT_TYPE.test(raw)) request.headers['content-type'] = 'application/octet-stream';
    // 'close' comes once per response: `on`, not `once` (no wrapper, no removal per request).
    reply.raw.on('close', () => finishRequest(ctx, gate, request, reply));
    if (!gate.tryEnter()) {
      // Answered here: fastify runs no further hook and no handler for a sent reply.
      sendShuttingDown(request, reply);
      return;
    }
    state.admitted = true;
    const route = request.routeOptions.url ?? null;
    const shape = checkRequestShape(request, limits);
    if (shape !== null) {
      refuse(ctx, request, reply, route, shape);
      return;
    }
    const slot = ctx.inFlight.acquire(clientKeyOf(request, isMemberHost), route, request.raw.url ?? '');
    if (slot instanceof ApiBusyError) {
      refuse(ctx, request, reply, route, slot);
      return;
    }
    state.inFlightSlot = slot;
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    if ((error as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const tooLarge = new ApiLimitError('body', 'body_bytes', `request body larger than the limit of ${bodyLimit} bytes (maxBodyBytes)`);
      refuse(ctx, request, reply, request.routeOptions.url ?? null, tooLarge);
      return;
    }
    sendFailure(request, reply, error);
  });
  app.setNotFoundHandler((request, reply) => {
    const known = ctx.methodsByPath.get(pathOf(request.raw.url ?? ''));
    return known !== undefined && !known.has(request.method) ? sendMethodNotAllowed(request, reply) : sendNotFound(request, reply);
  });
  // Extra listening handles (listen()): made in the background once the server listens, so
  // that they cost the start nothing; they stop accepting where the server's own handle does
  // (fastify closes it after preClose), and are awaited once the server closed its connections,
  // theirs included.
  let acceptHandles: Promise<AcceptHandles | null> = Promise.resolve(null);
  const closingAcceptHandles = new AbortController();
  app.addHook('preClose', (done) => {
    closingAcceptHandles.abort();
    done();
  });
  app.addHook('onClose', async () => {
    await (await acceptHandles)?.closed();
    ctx.forwarder.close();
    if (ownsDomain) {
      await domain.ops.quiesce(0, 1_000);
      await domain.nodes.close();
    }
  });

  void app.register(adminRoutes, { ctx });
  void app.register(raftRoutes, { ctx });
  void app.register(nodeRoutes, { ctx });
  void app.register(userRoutes, { ctx });
  void app.register(volRoutes, { ctx });
  void app.register(partitionRoutes, { ctx });
  void app.register(topologyRoutes, { ctx });
  void app.register(metricsRoutes, { ctx });
  void app.register(s3Routes, { ctx });
  void app.register(operatorRoutes, { ctx });
  void app.register(consoleRoutes, { ctx });
  void app.register(recoveryRoutes, { ctx });
  void app.register(apiLimitRoutes, { ctx });
  if (options.auditor !== undefined) void app.register(memberRoutes, { ctx, auditor: options.auditor });
  if (options.stateExporter !== undefined) void app.register(snapshotRoutes, { ctx, exporter: options.stateExporter });

  const routes = (): RegisteredRoute[] =>
    [...registered.entries()].map(([url, methods]) => ({ url, methods: [...methods].sort(), enforced: ctx.accessEnforced.get(url) }));
  const listen = async (address: { readonly host: string; readonly port: number }, accept: AcceptHandlesPlan = { handles: 1 }): Promise<void> => {
    try {
      await app.listen({ host: address.host, port: address.port });
    } catch (error) {
      await accept.copier?.end(0);
      throw error;
    }
    const bound = app.server.address();
    if (bound !== null && typeof bound === 'object') ctx.metrics.watchAcceptQueue(() => acceptQueueLength(bound));
    if (accept.handles <= 1) {
      await accept.copier?.end(0);
      return;
    }
    const signal = closingAcceptHandles.signal;
    acceptHandles = (async (): Promise<AcceptHandles | null> => {
      try {
        await sleep(accept.afterMs ?? ACCEPT_HANDLES_AFTER_MS, undefined, { signal });
      } catch {
        await accept.copier?.end(0);
        return null;
      }
      try {
        const handles = await AcceptHandles.open(app.server, { count: accept.handles, timeoutMs: ACCEPT_HANDLES_TIMEOUT_MS, signal, copier: accept.copier, logger: options.logger });
        options.logger?.debug({ handles: handles.count }, 'http: accepting on extra listening handles');
        if (signal.aborted) handles.stopListening();
        else signal.addEventListener('abort', () => handles.stopListening(), { once: true });
        return handles;
      } catch (err) {
        if (!signal.aborted) options.logger?.warn({ err }, 'http: no extra listening handles; new connections are accepted one per event-loop turn');
        return null;
      }
    })();
  };
  const acceptHandleCount = async (): Promise<number> => (await acceptHandles)?.count ?? 1;
  return { app, gate, metricsRegistry, services: ctx.services, routes, listen, acceptHandleCount };
}

/** Answers a request refused by a limit (limits.ts) and counts it. */
function refuse(ctx: ApiContext, request: FastifyRequest, reply: FastifyReply, route: string | null, error: ApiLimitError | ApiBusyError): void {
  const label = route ?? 'unmatched';
  requestState(request).route = label;
  ctx.metrics.refused(error.reason, label);
  sendFailure(request, reply, error);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Runs once per request when its response closes (finished or abandoned by the client). */
function finishRequest(ctx: ApiContext, gate: RequestGate, request: FastifyRequest, reply: FastifyReply): void {
  const state = requestState(request);
  const finished = reply.raw.writableEnded;
  if (!finished) state.clientGone();
  if (state.admitted) gate.leave();
  if (state.inFlightSlot !== null) ctx.inFlight.release(state.inFlightSlot);
  state.inFlightSlot = null;
  const seconds = state.elapsedSeconds();
  const code = !finished ? 'aborted' : state.outcome === 'forwarded' ? 'forwarded' : state.code === null ? 'none' : String(state.code);
  ctx.metrics.observe({ route: state.route, method: request.method, status: reply.raw.statusCode, code, seconds });
  // The line's object is built only when it is written (debug is off in production).
  if (debugEnabled(request.log)) {
    request.log.debug(
      { reqId: request.id, method: request.method, url: request.raw.url, status: reply.raw.statusCode, code, ms: Math.round(seconds * 1000) },
      'request',
    );
  }
}

/** Whether a debug line would be written (pino's isLevelEnabled; a logger without it: assume so). */
function debugEnabled(log: FastifyBaseLogger): boolean {
  const { isLevelEnabled } = log as { isLevelEnabled?: (level: string) => boolean };
  return isLevelEnabled === undefined || isLevelEnabled.call(log, 'debug');
}
