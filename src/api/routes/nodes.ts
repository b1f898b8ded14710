// Meta/data node registration and views (spec 1.5): /metaNode/add, /metaNode/get,
// /dataNode/add, /dataNode/get, /admin/cluster/getAllMetaNodes, /admin/cluster/getAllDataNodes.
// Node-add replies carry the id as a bare JSON number: the SDK parses `data` with
// strconv.ParseUint (spec 8.2).

import type { FastifyPluginCallback } from 'fastify';
import type { AddNodeRequest } from '../../cluster/nodes.js';
import { allDataNodes, allMetaNodes, dataNodeInfoByAddr, metaNodeInfoByAddr } from '../../model/index.js';
import type { ApiContext } from '../context.js';
import type { Params } from '../params.js';
import { defineRoute } from '../route.js';

export const nodeRoutes: FastifyPluginCallback<{ ctx: ApiContext }> = (app, { ctx }, done) => {
  defineRoute(app, ctx, {
    url: '/metaNode/add',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const added = await ctx.services.nodes.addMetaNode(addNodeRequest(call.params), call.options(ctx.timeouts.proposeMs));
      return added.id;
    },
  });

  defineRoute(app, ctx, {
    url: '/dataNode/add',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const request = { ...addNodeRequest(call.params), mediaType: call.params.uint('mediaType', 0) };
      const added = await ctx.services.nodes.addDataNode(request, call.options(ctx.timeouts.proposeMs));
      return added.id;
    },
  });

  defineRoute(app, ctx, {
    url: '/metaNode/get',
    methods: ['GET'],
    access: 'read',
    handle: (call) => metaNodeInfoByAddr(ctx.replicator.model, call.params.require('addr')),
  });

  // `ignoreDiscard` (bool, default true) filters discarded partition reports; parsed for its
  // errors, nothing to filter while the model holds no data partitions.
  defineRoute(app, ctx, {
    url: '/dataNode/get',
    methods: ['GET'],
    access: 'read',
    handle: (call) => {
      const addr = call.params.require('addr');
      call.params.bool('ignoreDiscard', true);
      return dataNodeInfoByAddr(ctx.replicator.model, addr);
    },
  });

  defineRoute(app, ctx, {
    url: '/admin/cluster/getAllMetaNodes',
    methods: ['GET'],
    access: 'read',
    handle: () => allMetaNodes(ctx.replicator.model),
  });

  defineRoute(app, ctx, {
    url: '/admin/cluster/getAllDataNodes',
    methods: ['GET'],
    access: 'read',
    handle: () => allDataNodes(ctx.replicator.model),
  });

  done();
};

/** `addr`* (keyNotFound when absent), `zoneName`, `heartbeatPort`, `replicaPort`, `id` (node set). */
function addNodeRequest(params: Params): AddNodeRequest {
  return {
    addr: params.require('addr'),
    zoneName: params.string('zoneName'),
    heartbeatPort: params.string('heartbeatPort'),
    replicaPort: params.string('replicaPort'),
    nodeSetId: params.uint('id', 0),
  };
}
