// Cluster routes (spec 1.5): /admin/getIp, /admin/getCluster, /admin/getNodeInfo, /cluster/freeze.
// `data` shapes are the model's views (views.ts), with the Raft and config inputs the model
// does not hold.

import type { FastifyPluginCallback } from 'fastify';
import type { ModelView } from '../../model/index.js';
import { clusterInfo, clusterView, newClusterRecord, nodeInfo } from '../../model/index.js';
import type { ApiContext } from '../context.js';
import { defineRoute } from '../route.js';

export const adminRoutes: FastifyPluginCallback<{ ctx: ApiContext }> = (app, { ctx }, done) => {
  // Spec 1.5, 2 step 2: always local, on followers too, even before this member caught up.
  // Before the cluster record is applied here, the configured name and the defaults of a new
  // cluster stand in (CubeFS re-reads #c# from local RocksDB; the name must match anyway).
  defineRoute(app, ctx, {
    url: '/admin/getIp',
    methods: ['GET'],
    access: 'local',
    handle: (call) => {
      const model = ctx.replicator.model;
      const view: ModelView = model.cluster !== null ? model : { ...model, cluster: newClusterRecord(ctx.cluster.clusterName, 0) };
      return clusterInfo(view, {
        ip: call.clientIp,
        ebsAddr: ctx.cluster.ebsAddr,
        servicePath: ctx.cluster.servicePath,
        enableSnapshot: ctx.cluster.enableSnapshot,
      });
    },
  });

  // `volStorageClass` (bool, default false) only adds per-class stats CubeFS computes from vols;
  // parsed for its errors, nothing to add while the model has no vols.
  defineRoute(app, ctx, {
    url: '/admin/getCluster',
    methods: ['GET'],
    access: 'read',
    handle: (call) => {
      call.params.bool('volStorageClass', false);
      const info = ctx.raft.info();
      return clusterView(ctx.replicator.model, {
        ...ctx.viewOptions,
        leaderAddr: info.leaderHttpAddr,
        applied: info.applied,
        // Spec 1.5: MasterNodes come from the configured peers (here: Raft's member list).
        masterPeers: info.peers.map((p) => ({ id: p.id, addr: p.httpAddr })),
        legacyDataMediaType: ctx.cluster.legacyDataMediaType,
      });
    },
  });

  defineRoute(app, ctx, {
    url: '/admin/getNodeInfo',
    methods: ['GET', 'POST'],
    access: 'read',
    handle: () => nodeInfo(ctx.replicator.model),
  });

  defineRoute(app, ctx, {
    url: '/cluster/freeze',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const enable = call.params.requireBool('enable');
      await ctx.services.cluster.setFrozen(enable, call.options(ctx.timeouts.proposeMs));
      return `set DisableAutoAllocate to ${enable} successfully`;
    },
  });

  done();
};
