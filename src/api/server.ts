// The HTTP API of a master (spec 1, 2): a fastify instance with the CubeFS transport conventions,
// the routes as plugins, one error handler, follower -> leader forwarding, the shutdown request
// gate and Prometheus metrics. The caller (src/server) listens, and on stop: gate.startDraining(),
// await gate.drained(ms), then app.close() (which also closes the forwarding sockets).

import type { ServerOptions as HttpsServerOptions } from 'node:https';
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
import type { ForwardOptions } from './forward.js';
import { LeaderForwarder } from './forward.js';
import { RequestGate } from './gate.js';
import { ApiMetrics } from './metrics.js';
import { parseQueryInto, pathOf } from './params.js';
import { rawUrlClientErrorHandler } from './raw-url.js';
import { initRequestState, requestState } from './request-state.js';
import { adminRoutes } from './routes/admin.js';
import { consoleRoutes } from './routes/console.js';
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

export interface ApiLimits {
  /** Largest request body accepted (form or JSON). Default 1 MiB. */
  readonly bodyLimitBytes?: number;
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
  readonly limits?: ApiLimits;
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
}

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
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
  const bodyLimit = options.limits?.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const gate = new RequestGate();
  const metricsRegistry = options.metricsRegistry ?? new Registry();
  let nextRequestId = 0;

  let replayTarget: FastifyInstance | null = null;
  const app = Fastify({
    ...(options.logger !== undefined ? { loggerInstance: options.logger } : { logger: false }),
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
      querystringParser: rawQueryToRecord,
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
  };

  // Bodies are kept as raw bytes: handlers decode form or JSON themselves, and a forwarded
  // request carries exactly the bytes the client sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));

  app.addHook('onRequest', (request, reply, done) => {
    const raw = request.headers['content-type'];
    const state = initRequestState(request, raw);
    if (raw !== undefined && !VALID_CONTENT_TYPE.test(raw)) request.headers['content-type'] = 'application/octet-stream';
    reply.raw.once('close', () => finishRequest(ctx, gate, request, reply));
    if (!gate.tryEnter()) {
      // Answered here: fastify runs no further hook and no handler for a sent reply.
      sendShuttingDown(request, reply);
      return;
    }
    state.admitted = true;
    done();
  });

  app.setErrorHandler((error, request, reply) => sendFailure(request, reply, error));
  app.setNotFoundHandler((request, reply) => {
    const known = ctx.methodsByPath.get(pathOf(request.raw.url ?? ''));
    return known !== undefined && !known.has(request.method) ? sendMethodNotAllowed(request, reply) : sendNotFound(request, reply);
  });
  app.addHook('onClose', async () => {
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
  if (options.auditor !== undefined) void app.register(memberRoutes, { ctx, auditor: options.auditor });
  if (options.stateExporter !== undefined) void app.register(snapshotRoutes, { ctx, exporter: options.stateExporter });

  return { app, gate, metricsRegistry, services: ctx.services };
}

/** Runs once per request when its response closes (finished or abandoned by the client). */
function finishRequest(ctx: ApiContext, gate: RequestGate, request: FastifyRequest, reply: FastifyReply): void {
  const state = requestState(request);
  const finished = reply.raw.writableEnded;
  if (!finished) state.abort.abort(new Error('client closed the connection'));
  if (state.admitted) gate.leave();
  const seconds = Number(process.hrtime.bigint() - state.startNs) / 1e9;
  const code = !finished ? 'aborted' : state.outcome === 'forwarded' ? 'forwarded' : state.code === null ? 'none' : String(state.code);
  ctx.metrics.observe({ route: state.route, method: request.method, status: reply.raw.statusCode, code, seconds });
  request.log.debug(
    { reqId: request.id, method: request.method, url: request.raw.url, status: reply.raw.statusCode, code, ms: Math.round(seconds * 1000) },
    'request',
  );
}

/** fastify's querystringParser hook (request.query): first value per key, like Go's FormValue. */
function rawQueryToRecord(raw: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const values = new Map<string, string[]>();
  parseQueryInto(raw, values);
  for (const [k, v] of values) out[k] = v[0];
  return out;
}
