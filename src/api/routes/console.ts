// The web console (cubemaster's own, not a CubeFS route): the page at /console, its files, and
// the read routes it polls. Actions are not here: the page signs requests to the operator routes
// (operator.ts) with the root user's keys, which the operator types in and which never leave
// the page's memory.
//
//   GET /console, /console/            the page
//   GET /console/{app,static,vendor}/  its scripts, style sheet and npm packages (console-assets.ts)
//   GET /console/api/overview   local        this member's Raft position, every member's, counts
//   GET /console/api/series     local        write rate and latency, sampled here once a second
//   GET /console/api/vols       leader-read  vols with partition counts and usage
//   GET /console/api/vol?name=  leader-read  one vol with its meta and data partitions
//   GET /console/api/nodes      leader-read  meta and data nodes with liveness and usage
//   GET /console/api/users      read         users, access keys masked, secret keys left out
//
// Liveness, usage and partition status come from heartbeats only the leader holds, so those
// routes are answered by the leader (a follower forwards them), like /admin/getCluster and
// /client/metaPartitions. The overview is local on purpose: it must work without a leader, to
// say so.

import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from '../context.js';
import { sendNotFound, sendText } from '../envelope.js';
import { pathOf } from '../params.js';
import { requestState } from '../request-state.js';
import { defineRoute } from '../route.js';
import { CONSOLE_PATH, loadConsoleAssets } from '../console/console-assets.js';
import { MemberOverview } from '../console/member-overview.js';
import { PeerClient } from '../console/peer-client.js';
import type { StaticFile } from '../console/static-files.js';
import { StaticFiles } from '../console/static-files.js';
import { consoleNodes, consoleUsers, consoleVol, consoleVols } from '../console/views.js';
import { registryLatencyBuckets, WriteRateSampler } from '../console/write-rate-sampler.js';
import type { ConsoleSeries } from '../console/contract.js';

/** The metrics label of every console file request (a bounded set of labels). */
const FILES_ROUTE_LABEL = '/console/*';

export const consoleRoutes: FastifyPluginCallback<{ ctx: ApiContext }> = (app, { ctx }, done) => {
  const assets = loadConsoleAssets();
  if (assets.page === null) app.log.warn({ reason: assets.missing }, 'web console unavailable');
  const files = new StaticFiles(assets.roots);
  const peers = new PeerClient();
  const overview = new MemberOverview({
    raft: ctx.raft,
    model: () => ctx.replicator.model,
    clusterName: ctx.cluster.clusterName,
    selfId: ctx.cluster.selfId,
    peers,
    nowMs: Date.now,
  });
  const sampler = new WriteRateSampler({
    appliedIndex: () => ctx.raft.info().applied,
    latencyBuckets: registryLatencyBuckets(ctx.metrics.registry),
    nowMs: Date.now,
    log: app.log,
  });
  sampler.start();
  app.addHook('onClose', async () => {
    await sampler.stop();
    peers.close();
  });

  const sendPage = (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    requestState(request).route = FILES_ROUTE_LABEL;
    if (assets.page === null) return sendText(request, reply, 503, `web console unavailable: ${assets.missing}\n`);
    return sendFile(request, reply, assets.page.body, assets.page.etag, assets.page.headers);
  };
  for (const url of [CONSOLE_PATH, `${CONSOLE_PATH}/`]) {
    ctx.methodsByPath.set(url, new Set(['GET']));
    app.get(url, sendPage);
  }
  app.get(`${CONSOLE_PATH}/*`, async (request, reply) => {
    requestState(request).route = FILES_ROUTE_LABEL;
    const file = await files.lookup(pathOf(request.raw.url ?? ''));
    if (file === null) return sendNotFound(request, reply);
    return sendFile(request, reply, file.body, file.etag, fileHeaders(file));
  });

  defineRoute(app, ctx, {
    url: '/console/api/overview',
    methods: ['GET'],
    access: 'local',
    handle: () => overview.get(),
  });
  defineRoute(app, ctx, {
    url: '/console/api/series',
    methods: ['GET'],
    access: 'local',
    handle: (): ConsoleSeries => ({ memberId: ctx.cluster.selfId, intervalMs: sampler.intervalMs, samples: sampler.samples() }),
  });
  defineRoute(app, ctx, {
    url: '/console/api/vols',
    methods: ['GET'],
    access: 'leader-read',
    handle: () => consoleVols(ctx.replicator.model),
  });
  defineRoute(app, ctx, {
    url: '/console/api/vol',
    methods: ['GET'],
    access: 'leader-read',
    handle: (call) => consoleVol(ctx.replicator.model, call.params.require('name')),
  });
  defineRoute(app, ctx, {
    url: '/console/api/nodes',
    methods: ['GET'],
    access: 'leader-read',
    handle: () => consoleNodes(ctx.replicator.model),
  });
  defineRoute(app, ctx, {
    url: '/console/api/users',
    methods: ['GET'],
    access: 'read',
    handle: () => consoleUsers(ctx.replicator.model, ctx.viewOptions),
  });

  done();
};

function fileHeaders(file: StaticFile): Record<string, string> {
  return { 'content-type': file.contentType, 'cache-control': file.cacheControl, 'x-content-type-options': 'nosniff' };
}

/** The body, or 304 when the client's copy (If-None-Match) is current. */
function sendFile(request: FastifyRequest, reply: FastifyReply, body: Buffer, etag: string, headers: Readonly<Record<string, string>>): FastifyReply {
  void reply.headers(headers).header('etag', etag);
  const ifNoneMatch = request.headers['if-none-match'];
  if (typeof ifNoneMatch === 'string' && ifNoneMatch.split(',').some((t) => t.trim() === etag)) return reply.code(304).send();
  return reply.code(200).send(body);
}
