// Meta and data partition routes (spec 1.5): create (split / add), get, load, decommission, and
// the cfs-cli `check` diagnoses. Success texts are the Go master's (api_service.go).

import type { FastifyPluginCallback } from 'fastify';
import {
  checkVolName,
  dataPartitionDiagnosis,
  dataPartitionInfoById,
  DataPartitionNotFoundError,
  metaPartitionDiagnosis,
  metaPartitionInfoById,
  VolNotFoundError,
  volByName,
} from '../../model/index.js';
import { ParamError } from '../../util/errors.js';
import type { ApiContext } from '../context.js';
import type { Params } from '../params.js';
import { unmatchedKey } from '../params.js';
import { defineRoute } from '../route.js';

/** Bound on a partition operation that talks to nodes (30 s per node task, spec 6). */
export const PARTITION_OP_TIMEOUT_MS = 90_000;
/** maxMpCreationCount and maxInitDataPartitionCnt of the Go master. */
export const MP_CREATE_COUNT_MAX = 10;
export const DP_CREATE_COUNT_MAX = 200;

/**
 * `count` as the Go master reads it for the two create routes (strconv.Atoi): absent -> "not
 * found", not an integer or 0 -> "not match", above `max` -> "count[N] exceeds maximum
 * limit[max]" (all code 2). A negative count, which Go lets through to a loop that does nothing,
 * is refused here as "not match".
 */
function createCount(params: Params, max: number): number {
  const raw = params.require('count');
  if (!/^[+-]?[0-9]+$/.test(raw)) throw unmatchedKey('count');
  const count = Number(raw);
  if (count <= 0) throw unmatchedKey('count');
  if (count > max) throw new ParamError('count', `count[${raw}] exceeds maximum limit[${max}]`);
  return count;
}

export const partitionRoutes: FastifyPluginCallback<{ ctx: ApiContext }> = (app, { ctx }, done) => {
  const model = () => ctx.replicator.model;

  defineRoute(app, ctx, {
    url: '/metaPartition/create',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const count = createCount(call.params, MP_CREATE_COUNT_MAX);
      const name = checkVolName(call.params.require('name'));
      const { added } = await ctx.services.partitions.splitMetaPartition(name, count, 1, call.options(PARTITION_OP_TIMEOUT_MS));
      // Spec 12.7, copied: a vol marked for deletion gets success with empty data (Go passes a nil error).
      return added.length === 0 ? '' : 'create meta partition successfully';
    },
  });

  defineRoute(app, ctx, {
    url: '/metaPartition/get',
    methods: ['GET'],
    access: 'leader-read',
    handle: (call) => metaPartitionInfoById(model(), call.params.requireUint('id')),
  });

  defineRoute(app, ctx, {
    url: '/metaPartition/load',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const id = call.params.requireUint('id');
      await ctx.services.partitions.loadMetaPartition(id, call.options(PARTITION_OP_TIMEOUT_MS));
      return `/metaPartition/load partitionID :${id} Load successfully`;
    },
  });

  defineRoute(app, ctx, {
    url: '/metaPartition/decommission',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const id = call.params.requireUint('id');
      const addr = call.params.require('addr');
      await ctx.services.partitions.moveReplica('meta', id, addr, call.options(PARTITION_OP_TIMEOUT_MS));
      return `/metaPartition/decommission partitionID :${id}  decommissionMetaPartition successfully`;
    },
  });

  defineRoute(app, ctx, {
    url: '/metaPartition/diagnose',
    methods: ['GET', 'POST'],
    access: 'leader-read',
    handle: () => metaPartitionDiagnosis(model()),
  });

  defineRoute(app, ctx, {
    url: '/dataPartition/create',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      // Go parseRequestToCreateDataPartition order: count, name, mediaType; then force, the
      // count bound, the vol, the media type's validity.
      const count = createCount(call.params, Number.MAX_SAFE_INTEGER);
      const name = checkVolName(call.params.require('name'));
      const mediaType = call.params.uint('mediaType', 0);
      const force = call.params.bool('force', false);
      if (count > DP_CREATE_COUNT_MAX) throw new ParamError('count', `count[${count}] exceeds maximum limit[${DP_CREATE_COUNT_MAX}]`);
      if (volByName(model(), name) === undefined) throw new VolNotFoundError(name);
      if (mediaType > 2) throw new ParamError('mediaType', `invalid param mediaType(${mediaType})`);
      const clusterTotal = model().dataPartitions.size;
      const { before, after } = await ctx.services.partitions.addDataPartitions(name, count, force, call.options(PARTITION_OP_TIMEOUT_MS), mediaType);
      return ` createDataPartition succeeeds. clusterLastTotalDataPartitions[${clusterTotal}],vol[${name}] has ${before} data partitions previously and ${after} data partitions now`;
    },
  });

  defineRoute(app, ctx, {
    url: '/dataPartition/get',
    methods: ['GET'],
    access: 'leader-read',
    handle: (call) => {
      const id = call.params.requireUint('id');
      const name = call.params.get('name');
      return dataPartitionInfoById(model(), id, name ?? '');
    },
  });

  defineRoute(app, ctx, {
    url: '/dataPartition/load',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const id = call.params.requireUint('id');
      await ctx.services.partitions.loadDataPartition(id, call.options(PARTITION_OP_TIMEOUT_MS));
      return `/dataPartition/loadpartitionID :${id}  load data partition successfully`;
    },
  });

  defineRoute(app, ctx, {
    url: '/dataPartition/decommission',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: (call) => {
      const id = call.params.requireUint('id');
      const addr = call.params.require('addr');
      call.params.bool('raftForceDel', false);
      call.params.uint('weight', 2);
      // Asynchronous, as in Go (it marks the partition and a scheduler moves it): the checks
      // that need no node run here, the move runs as a tracked operation of this leader.
      const dp = model().dataPartitions.get(id);
      if (dp === undefined) throw new DataPartitionNotFoundError(id);
      if (!dp.peers.some((p) => p.addr === addr)) throw new ParamError('addr', `data partition ${id} has no replica on ${addr}`);
      const log = call.request.log;
      ctx.services.partitions.moveReplica('data', id, addr, { timeoutMs: PARTITION_OP_TIMEOUT_MS }).then(
        (to) => log.info({ partition: id, from: addr, to: to.addr }, 'data partition replica moved'),
        (err: unknown) => log.warn({ partition: id, from: addr, err }, 'data partition decommission failed'),
      );
      return `/dataPartition/decommission dataPartitionID :${id}  on node:${addr} successfully`;
    },
  });

  defineRoute(app, ctx, {
    url: '/dataPartition/diagnose',
    methods: ['GET', 'POST'],
    access: 'leader-read',
    handle: (call) => {
      call.params.bool('ignoreDiscard', true);
      return dataPartitionDiagnosis(model());
    },
  });

  done();
};
