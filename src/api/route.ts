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
import { Params } from './params.js';
import { requestState } from './request-state.js';
import { verifySignedRequest } from './root-auth.js';

export type RouteAccess = 'local' | 'read' | 'leader' | 'leader-read';
export type RouteMethod = 'GET' | 'POST';

/** What a handler gets: decoded inputs, never the raw HTTP objects unless it must. */
export interface RouteCall {
  readonly params: Params;
  /** The raw body (JSON user APIs); undefined for bodiless requests. */
  readonly body: Buffer | undefined;
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
   */
  readonly auth?: 'root';
  /** Headers added when this request is forwarded to the leader. */
  readonly forwardHeaders?: (ctx: ApiContext) => Readonly<Record<string, string>>;
  /** Returns (or resolves with) the envelope's `data`; throws typed errors. */
  handle(call: RouteCall): unknown;
}

export function defineRoute(app: FastifyInstance, ctx: ApiContext, spec: RouteSpec): void {
  const methods = ctx.methodsByPath.get(spec.url) ?? new Set<string>();
  for (const m of spec.methods) methods.add(m);
  ctx.methodsByPath.set(spec.url, methods);
  app.route({
    method: [...spec.methods],
    url: spec.url,
    handler: async (request, reply) => {
      requestState(request).route = spec.url;
      await serve(ctx, spec, request, reply);
      return reply;
    },
  });
}

async function serve(ctx: ApiContext, spec: RouteSpec, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  try {
    if (spec.auth === 'root') verifyRoot(ctx, request);
    if ((spec.access === 'leader' || spec.access === 'leader-read') && ctx.raft.info().role !== 'leader') {
      await forwardToLeader(ctx, spec, request, reply, 0);
      return;
    }
    if (spec.access === 'leader-read' || (spec.access === 'read' && !wantsSerializable(request))) {
      await ctx.replicator.readBarrier(callOptions(request, ctx.timeouts.proposeMs));
    }
    const data: unknown = await spec.handle(routeCall(request));
    await sendOk(request, reply, data);
  } catch (e) {
    if (e instanceof NotLeaderError && !reply.sent) {
      await forwardToLeader(ctx, spec, request, reply, e.leaderHint);
      return;
    }
    if (!reply.sent) sendFailure(request, reply, e);
  }
}

function verifyRoot(ctx: ApiContext, request: FastifyRequest): void {
  const body = Buffer.isBuffer(request.body) ? request.body : undefined;
  verifySignedRequest(ctx.replicator.model, request.headers, { method: request.method, pathAndQuery: request.raw.url ?? '', body }, ctx.clock.nowMs());
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
  const abort = requestState(request).abort;
  // The signal is made on first use: most calls (a proposal, a read barrier) never look at it,
  // and creating an AbortSignal per request cost the leader 2.4% of its CPU (bench:profile).
  return {
    timeoutMs,
    get signal() {
      return abort.signal;
    },
  };
}

function routeCall(request: FastifyRequest): RouteCall {
  const state = requestState(request);
  const body = Buffer.isBuffer(request.body) ? request.body : undefined;
  const isForm =
    request.method === 'POST' && (state.originalContentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
  return {
    params: new Params(request.raw.url ?? '', isForm && body !== undefined ? body.toString('utf8') : undefined),
    body,
    get signal() {
      return state.abort.signal;
    },
    options: (timeoutMs) => callOptions(request, timeoutMs),
    clientIp: clientIp(request),
    forwarded: isForwarded(request),
    request,
  };
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
