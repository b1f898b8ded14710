// cubemaster's own operator actions (not CubeFS routes), for the web console and the admin CLI.
// Every one is signed with the root user's keys (root-auth.ts, RouteSpec.auth 'root'): the CubeFS
// routes that do the same work stay as open as in Go for cfs-cli's sake, these do not.
//
//   POST /cubemaster/leader/transfer?target=<id>       move leadership (0: most up-to-date voter)
//   POST /cubemaster/node/decommission?kind=&addr=      move every replica off a meta or data node
//                                                       (asynchronous; progress in the node views)
import type { FastifyPluginCallback } from 'fastify';
import { dataNodeByAddr, DataNodeNotFoundError, metaNodeByAddr, MetaNodeNotFoundError } from '../../model/index.js';
import { ParamError } from '../../util/errors.js';
import type { ApiContext } from '../context.js';
import { defineRoute } from '../route.js';

export const operatorRoutes: FastifyPluginCallback<{ ctx: ApiContext }> = (app, { ctx }, done) => {
  defineRoute(app, ctx, {
    url: '/cubemaster/leader/transfer',
    methods: ['POST'],
    access: 'leader',
    auth: 'root',
    handle: async (call) => {
      const target = call.params.uint('target', 0);
      await ctx.raft.transferLeadership(target, call.options(ctx.timeouts.transferMs));
      return { leaderId: ctx.raft.info().leaderId };
    },
  });

  defineRoute(app, ctx, {
    url: '/cubemaster/node/decommission',
    methods: ['POST'],
    access: 'leader',
    auth: 'root',
    handle: (call) => {
      const kind = call.params.require('kind');
      if (kind !== 'meta' && kind !== 'data') throw new ParamError('kind', `kind must be meta or data, got ${kind}`);
      const addr = call.params.require('addr');
      const model = ctx.replicator.model;
      if (kind === 'meta' && metaNodeByAddr(model, addr) === undefined) throw new MetaNodeNotFoundError(addr);
      if (kind === 'data' && dataNodeByAddr(model, addr) === undefined) throw new DataNodeNotFoundError(addr);
      const log = call.request.log;
      ctx.domain.ops
        .run(() => ctx.services.partitions.decommissionNode(kind, addr, 0))
        .then(
          (r) => log.info({ kind, addr, ...r }, 'node decommission finished'),
          (err: unknown) => log.warn({ kind, addr, err }, 'node decommission stopped'),
        );
      return { kind, addr, submitted: true };
    },
  });

  done();
};
