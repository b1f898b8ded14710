// Topology routes (spec 1.5): /cluster/stat, /zone/list, /topo/get, /nodeSet/list,
// /nodeSet/get. They show node liveness and usage from heartbeats, which only the leader holds,
// so they are `leader-read` (followers forward).

import type { FastifyPluginCallback } from 'fastify';
import type { ClusterStatInfo } from '../../model/index.js';
import { clusterStat, nodeSetList, nodeSetStatInfoById, topologyView, zoneList } from '../../model/index.js';
import type { ApiContext } from '../context.js';
import { defineRoute } from '../route.js';

export const topologyRoutes: FastifyPluginCallback<{ ctx: ApiContext }> = (app, { ctx }, done) => {
  const model = () => ctx.replicator.model;
  // Go's IncreasedGB is against the previous stat round; here against the previous request.
  let lastStat: ClusterStatInfo | null = null;

  defineRoute(app, ctx, {
    url: '/cluster/stat',
    methods: ['GET'],
    access: 'leader-read',
    handle: () => {
      lastStat = clusterStat(model(), { previousDataNodeStat: lastStat?.DataNodeStatInfo, previousMetaNodeStat: lastStat?.MetaNodeStatInfo });
      return lastStat;
    },
  });

  defineRoute(app, ctx, {
    url: '/zone/list',
    methods: ['GET'],
    access: 'leader-read',
    handle: () => zoneList(model()),
  });

  defineRoute(app, ctx, {
    url: '/topo/get',
    methods: ['GET'],
    access: 'leader-read',
    handle: () => topologyView(model()),
  });

  defineRoute(app, ctx, {
    url: '/nodeSet/list',
    methods: ['GET'],
    access: 'leader-read',
    handle: (call) => nodeSetList(model(), call.params.string('zoneName')),
  });

  defineRoute(app, ctx, {
    url: '/nodeSet/get',
    methods: ['GET'],
    access: 'leader-read',
    handle: (call) => nodeSetStatInfoById(model(), call.params.requireUint('nodesetId')),
  });

  done();
};
