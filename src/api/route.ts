// How a route is served, by where its answer may come from (spec 2; ARCHITECTURE.md "Reads"):
//
// - `local`: answered by this member at any time (`/admin/getIp`, `/master/changeleader`).
// - `read`: answered by this member, leader or follower, from its warm model after
//   `replicator.readBarrier()` (ReadIndex, forwarded to the leader inside Raft): linearizable.
//   Deliberate change from CubeFS, whose followers proxy reads because only the leader holds a
//   model (spec 12.1); the answer a client sees is the same. With the header
//   `x-cubemaster-consistency: serializable` the barrier is skipped (a local, possibly stale
//   read, as etcd's serializable range).
// - `leader`: writes and leader-state views. On the leader: run. On a follower that knows the
//   leader: forward the request to it (forward.ts). No leader known: 400 "no leader" (spec 2).
// - `leader-read`: views that show heartbeat-derived state (node liveness, replica reports,
//   MaxInodeID, LeaderAddr), which only the leader holds (live-state.ts): forwarded like
//   `leader`, and on the leader answered after a read barrier like `read`.
//
// When the replicated core rejects with NotLeaderError (leadership moved mid-request; the
// command was not proposed), the request is forwarded once to the new leader if known. A request
// that was itself forwarded is never forwarded again: it gets 400 with the leader this member
// believes in (or "no leader"), which the SDK answers by trying another master.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CallOptions } from '../cluster/ports.js';
import { NotLeaderError } from '../raft/core/errors.js';
import type { ApiContext } from './context.js';
import { sendOk } from './envelope.js';
import { sendFailure, sendNoLeader } from './errors.js';
import { FORWARDED_BY_HEADER } from './forward.js';
import type { JsonObject } from './params.js';
import { jsonObject, Params, parsedQueryOf } from './params.js';
import { ApiBusyError, ApiLimitError, checkJsonStrings, checkParamLimits } from './limits.js';
import type { RequestState } from './request-state.js';
import { requestState } from './request-state.js';
import { checkAccess } from './access-check.js';
import type { AccessRule, SelfParam } from './access-rules.js';
import { accessRowOf, ruleIn } from './access-rules.js';
import { assert } from '../util/assert.js';

export type RouteAccess = 'local' | 'read' | 'leader' | 'leader-read';
export type RouteMethod = 'GET' | 'POST';

/** What a handler gets: decoded inputs, never the raw HTTP objects unless it must. */
export interface RouteCall {
  readonly params: Params;
  /** The raw body (JSON user APIs); undefined for bodiless requests. */
  readonly body: Buffer | undefined;
  /** The body as a JSON object (params.ts jsonObject), its strings within maxParamValueBytes. */
  json(): JsonObject;
  /** Fires when the client goes away. */
  readonly signal: AbortSignal;
  /** CallOptions for the replicated core with the given deadline. */
  options(timeoutMs: number): CallOptions;
  /** The caller's IP, honouring X-Real-IP / X-Forwarded-For (spec 1.5 getIp). */
  readonly clientIp: string;
  /** Whether another member forwarded this request to us. */
  readonly forwarded: boolean;
  readonly request: FastifyRequest;
}

export interface RouteSpec {
  readonly url: string;
  readonly methods: readonly RouteMethod[];
  readonly access: RouteAccess;
  /**
   * 'root': cubemaster's own privileged actions; the request must be signed with the root
   * user's keys (root-auth.ts), checked on the member that receives it, before anything else.
   * ('admin': root or an admin user.) The route's row in access-rules.ts, when it has one, must
   * say the same for the default mode; the row decides in every mode.
   */
  readonly auth?: 'root' | 'admin';
  /** Headers added when this request is forwarded to the leader. */
  readonly forwardHeaders?: (ctx: ApiContext) => Readonly<Record<string, string>>;
  /** Returns (or resolves with) the envelope's `data`; throws typed errors. */
  handle(call: RouteCall): unknown;
}

export function defineRoute(app: FastifyInstance, ctx: ApiContext, spec: RouteSpec): void {
  const methods = ctx.methodsByPath.get(spec.url) ?? new Set<string>();
  for (const m of spec.methods) methods.add(m);
  ctx.methodsByPath.set(spec.url, methods);
  const plan = routePlan(ctx, spec);
  ctx.accessEnforced.set(spec.url, plan.rule);
  app.route({
    method: [...spec.methods],
    url: spec.url,
    handler: async (request, reply) => {
      requestState(request).route = spec.url;
      await serve(ctx, plan, request, reply);
      return reply;
    },
  });
}

/** What serve() decides per request, decided once per route when it is defined. */
interface RoutePlan {
  readonly spec: RouteSpec;
  readonly rule: AccessRule;
  /** The access row's `self` parameter (self-or-admin routes). */
  readonly self: SelfParam | undefined;
  /** Answered by the leader only: a follower forwards. */
  readonly leaderOnly: boolean;
  /** When the read barrier runs before the handler. */
  readonly barrier: 'always' | 'unless-serializable' | 'never';
}

function routePlan(ctx: ApiContext, spec: RouteSpec): RoutePlan {
  const leaderOnly = spec.access === 'leader' || spec.access === 'leader-read';
  const barrier = spec.access === 'leader-read' ? 'always' : spec.access === 'read' ? 'unless-serializable' : 'never';
  return { spec, rule: accessRuleOf(ctx, spec), self: accessRowOf(spec.url)?.self, leaderOnly, barrier };
}

/** The rule of the route's row in this mode; a route without a row: its `auth`, else open. */
function accessRuleOf(ctx: ApiContext, spec: RouteSpec): AccessRule {
  const row = accessRowOf(spec.url);
  if (row === undefined) return spec.auth ?? 'open';
  assert(spec.auth === undefined || row.cubefs === spec.auth, () => `route ${spec.url}: auth '${spec.auth}' but its access row says '${row.cubefs}'`);
  return ruleIn(row, ctx.accessMode);
}

async function serve(ctx: ApiContext, plan: RoutePlan, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { spec } = plan;
  try {
    const call = new Call(ctx, request);
    if (plan.rule !== 'open') checkRouteAccess(ctx, plan, request, call);
    if (plan.leaderOnly && !ctx.raft.isLeader()) {
      await forwardToLeader(ctx, spec, request, reply, 0);
      return;
    }
    // Most routes have no QPS limit: no promise to wait on then.
    if (ctx.qps.limits(spec.url)) await ctx.qps.wait(spec.url, () => requestState(request).signal);
    if (plan.barrier === 'always' || (plan.barrier === 'unless-serializable' && !wantsSerializable(request))) {
      await ctx.replicator.readBarrier(callOptions(request, ctx.timeouts.proposeMs));
    }
    // A handler that answers synchronously costs no extra turn of the microtask queue.
    const answer: unknown = spec.handle(call);
    const data: unknown = isThenable(answer) ? await answer : answer;
    const sending = sendOk(request, reply, data);
    if (sending !== undefined) await sending;
  } catch (e) {
    if (e instanceof NotLeaderError && !reply.sent) {
      await forwardToLeader(ctx, spec, request, reply, e.leaderHint);
      return;
    }
    if (e instanceof ApiLimitError || e instanceof ApiBusyError) ctx.metrics.refused(e.reason, spec.url);
    if (!reply.sent) sendFailure(request, reply, e);
  }
}

function checkRouteAccess(ctx: ApiContext, plan: RoutePlan, request: FastifyRequest, call: RouteCall): void {
  try {
    checkAccess({ route: plan.spec.url, rule: plan.rule, self: plan.self, request, params: call.params, model: ctx.replicator.model, nowMs: ctx.clock.nowMs() });
  } catch (e) {
    ctx.metrics.refused('access', plan.spec.url);
    throw e;
  }
}

/** The leader's HTTP addr ('' = unknown). `hint` is a NotLeaderError's leader id (0 = none). */
export function leaderHttpAddr(ctx: ApiContext, hint: number): string {
  const info = ctx.raft.info();
  let addr = '';
  if (hint !== 0 && hint !== ctx.cluster.selfId) addr = info.peers.find((p) => p.id === hint)?.httpAddr ?? '';
  if (addr === '' && info.leaderId !== 0 && info.leaderId !== ctx.cluster.selfId) addr = info.leaderHttpAddr;
  // Spec 2 step 5: a recorded leader addr equal to our own while we are not leading is "no leader".
  return addr === ctx.cluster.selfHttpAddr ? '' : addr;
}

async function forwardToLeader(
  ctx: ApiContext,
  spec: RouteSpec,
  request: FastifyRequest,
  reply: FastifyReply,
  hint: number,
): Promise<void> {
  const leader = leaderHttpAddr(ctx, hint);
  if (leader === '' || isForwarded(request)) {
    if (leader !== '') ctx.metrics.forwarded(spec.url, 'refused');
    sendNoLeader(request, reply, leader);
    return;
  }
  const state = requestState(request);
  try {
    const answer = await ctx.forwarder.forward(request, leader, spec.forwardHeaders?.(ctx) ?? {});
    ctx.metrics.forwarded(spec.url, 'ok');
    state.outcome = 'forwarded';
    state.code = null;
    void reply.code(answer.status).headers(answer.headers).send(answer.body);
  } catch (e) {
    ctx.metrics.forwarded(spec.url, 'failed');
    sendFailure(request, reply, e);
  }
}

/**
 * Our extension, as etcd's serializable range: `x-cubemaster-consistency: serializable` on a
 * `read` route answers from this member's model without the ReadIndex round, so it may be
 * stale by what this member has not applied yet (never by more than it has not heard of).
 */
export const CONSISTENCY_HEADER = 'x-cubemaster-consistency';

function wantsSerializable(request: FastifyRequest): boolean {
  return request.headers[CONSISTENCY_HEADER] === 'serializable';
}

export function isForwarded(request: FastifyRequest): boolean {
  return request.headers[FORWARDED_BY_HEADER] !== undefined;
}

export function callOptions(request: FastifyRequest, timeoutMs: number): CallOptions {
  return new RequestCallOptions(requestState(request), timeoutMs);
}

/**
 * CallOptions whose signal is made on first use: most calls (a proposal, a read barrier) never
 * look at it, and creating an AbortSignal per request cost the leader 2.4% of its CPU
 * (bench:profile).
 */
class RequestCallOptions implements CallOptions {
  constructor(
    private readonly state: RequestState,
    readonly timeoutMs: number,
  ) {}

  get signal(): AbortSignal {
    return this.state.signal;
  }
}

/**
 * A request as its handler sees it. Issue 10: one object per request whose parts are worked out
 * when a handler asks for them (client IP, forwarded mark, the Raft view), not up front.
 */
class Call implements RouteCall {
  readonly params: Params;
  readonly body: Buffer | undefined;

  constructor(
    private readonly ctx: ApiContext,
    readonly request: FastifyRequest,
  ) {
    const body = Buffer.isBuffer(request.body) ? request.body : undefined;
    this.body = body;
    const isForm = body !== undefined && request.method === 'POST' && isFormType(requestState(request).originalContentType);
    this.params = new Params(parsedQueryOf(request.query, request.raw.url ?? ''), isForm ? body.toString('utf8') : undefined);
    checkParamLimits(this.params, ctx.limits);
  }

  json(): JsonObject {
    const object = jsonObject(this.body);
    checkJsonStrings(object, this.ctx.limits);
    return object;
  }

  get signal(): AbortSignal {
    return requestState(this.request).signal;
  }

  options(timeoutMs: number): CallOptions {
    return callOptions(this.request, timeoutMs);
  }

  get clientIp(): string {
    return clientIp(this.request);
  }

  get forwarded(): boolean {
    return isForwarded(this.request);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function isFormType(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.toLowerCase().startsWith('application/x-www-form-urlencoded');
}

/** X-Real-IP, then the first X-Forwarded-For entry, then the peer address (CubeFS iputil.RealIP). */
export function clientIp(request: FastifyRequest): string {
  const real = request.headers['x-real-ip'];
  if (typeof real === 'string' && real.trim() !== '') return real.trim();
  const fwd = request.headers['x-forwarded-for'];
  const first = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim();
  if (first !== undefined && first !== '') return first;
  const remote = request.socket.remoteAddress ?? '';
  return remote.startsWith('::ffff:') ? remote.slice('::ffff:'.length) : remote;
}
