// Cluster routes (spec 1.5): /admin/getIp, /admin/getCluster, /admin/getNodeInfo,
// /admin/setNodeInfo, /cluster/freeze, /admin/getDiscardDp.
// `data` shapes are the model's views (views.ts), with the Raft and config inputs the model
// does not hold.

import type { FastifyPluginCallback } from 'fastify';
import type { NodeInfoSettings } from '../../cluster/cluster.js';
import type { ModelView } from '../../model/index.js';
import { clusterInfo, newClusterRecord, nodeInfo } from '../../model/index.js';
import { ClusterViewCache } from '../cluster-view-cache.js';
import type { ApiContext } from '../context.js';
import { goFloat32, goMapString } from '../go-format.js';
import type { Params } from '../params.js';
import { parseUint, unmatchedKey } from '../params.js';
import { defineRoute } from '../route.js';
import { ParamError } from '../../util/errors.js';

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
  // parsed for its errors, nothing to add while the model has no vols. The body is cached
  // between changes (cluster-view-cache.ts).
  const clusterViews = new ClusterViewCache({ viewOptions: ctx.viewOptions, legacyDataMediaType: ctx.cluster.legacyDataMediaType });
  defineRoute(app, ctx, {
    url: '/admin/getCluster',
    methods: ['GET'],
    access: 'leader-read',
    handle: (call) => {
      call.params.bool('volStorageClass', false);
      const info = ctx.raft.info();
      return clusterViews.body(ctx.replicator.model, { leaderAddr: info.leaderHttpAddr, applied: info.applied, peers: info.peers });
    },
  });

  defineRoute(app, ctx, {
    url: '/admin/getNodeInfo',
    methods: ['GET', 'POST'],
    access: 'read',
    handle: () => nodeInfo(ctx.replicator.model),
  });

  // cfs-cli `cluster set`: every key is sent, the empty ones mean "keep". The msg echoes what
  // was set in Go's map format (wire: "set nodeinfo params map[batchCount:100] successfully").
  defineRoute(app, ctx, {
    url: '/admin/setNodeInfo',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const { settings, echoed } = nodeInfoSettings(call.params);
      await ctx.services.cluster.setNodeInfo(settings, call.options(ctx.timeouts.proposeMs));
      return `set nodeinfo params ${goMapString(echoed)} successfully`;
    },
  });

  // Data partitions marked discarded: cubemaster never discards one (no lost-replica repair that
  // gives up), so the list is always empty; the shape is Go's.
  defineRoute(app, ctx, {
    url: '/admin/getDiscardDp',
    methods: ['GET'],
    access: 'read',
    handle: () => ({ DiscardDps: null }),
  });

  // Asked by every node at start (node-protocol.md section 1). Vols listed are those that
  // refuse protocol-v0 writes; the cluster-wide switch is never set by cubemaster.
  defineRoute(app, ctx, {
    url: '/admin/getUpgradeCompatibleSettings',
    methods: ['GET'],
    access: 'read',
    handle: () => ({
      VolsForbidWriteOpOfProtoVer0: [...ctx.replicator.model.vols.values()].filter((v) => v.settings.forbidWriteOpOfProtoVer0).map((v) => v.name).sort(),
      ClusterForbidWriteOpOfProtoVer0: false,
      LegacyDataMediaType: ctx.cluster.legacyDataMediaType ?? 0,
      DataMediaTypeVaild: true,
    }),
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

const NODE_INFO_UINT_KEYS = ['batchCount', 'markDeleteRate', 'autoRepairRate', 'deleteWorkerSleepMs', 'maxDpCntLimit', 'maxMpCntLimit', 'dpMaxRepairErrCnt'] as const;

/** Go parseAndExtractSetNodeInfoParams: uints, a non-negative float loadFactor, at least one key. */
function nodeInfoSettings(params: Params): { settings: NodeInfoSettings; echoed: Map<string, string> } {
  const echoed = new Map<string, string>();
  const uint = (key: (typeof NODE_INFO_UINT_KEYS)[number]): number | null => {
    const text = params.get(key);
    if (text === undefined) return null;
    const value = parseUint(key, text);
    echoed.set(key, String(value));
    return value;
  };
  const [batchCount, markDeleteRate, autoRepairRate, deleteWorkerSleepMs, maxDpCntLimit, maxMpCntLimit, dpMaxRepairErrCnt] = NODE_INFO_UINT_KEYS.map(uint);
  let loadFactor: number | null = null;
  const factorText = params.get('loadFactor');
  if (factorText !== undefined) {
    const value = Number(factorText);
    if (!/^[+]?[0-9.eE+-]+$/.test(factorText) || !Number.isFinite(value) || value < 0) throw unmatchedKey('loadFactor');
    loadFactor = value;
    echoed.set('loadFactor', goFloat32(loadFactor));
  }
  if (echoed.size === 0) throw new ParamError('params', 'no key assigned');
  return { settings: { batchCount, markDeleteRate, autoRepairRate, deleteWorkerSleepMs, loadFactor, maxDpCntLimit, maxMpCntLimit, dpMaxRepairErrCnt }, echoed };
}
