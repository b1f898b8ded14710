// Meta/data node routes (spec 1.5): registration (/metaNode/add, /dataNode/add), views
// (/metaNode/get, /dataNode/get, /admin/cluster/getAllMetaNodes, getAllDataNodes), the nodes'
// task results and heartbeat reports (/metaNode/response, /dataNode/response), decommission and
// /admin/setNodeRdOnly. Node-add replies carry the id as a bare JSON number: the SDK parses
// `data` with strconv.ParseUint (spec 8.2). The views show liveness and usage from heartbeats,
// which only the leader receives, so they are `leader-read`.

import type { FastifyBaseLogger, FastifyPluginCallback } from 'fastify';
import { applyDataHeartbeat, applyMetaHeartbeat } from '../../cluster/heartbeats.js';
import type { AddNodeRequest } from '../../cluster/nodes.js';
import type { CensusRegistration } from '../../cluster/recovery/census.js';
import { queueRangeEndUpdates } from '../../cluster/schedulers.js';
import type { NodeResponse, NodeResponseSource } from '../../nodes/heartbeat-report.js';
import { decodeUpdateMetaPartitionResponse, parseNodeResponse } from '../../nodes/heartbeat-report.js';
import { Opcode, opcodeName } from '../../nodes/opcodes.js';
import { ParamError } from '../../util/errors.js';
import { allDataNodes, allMetaNodes, dataNodeByAddr, dataNodeInfoByAddr, DataNodeNotFoundError, metaNodeInfoByAddr } from '../../model/index.js';
import type { ApiContext } from '../context.js';
import type { Params } from '../params.js';
import { defineRoute } from '../route.js';

export const nodeRoutes: FastifyPluginCallback<{ ctx: ApiContext }> = (app, { ctx }, done) => {
  defineRoute(app, ctx, {
    url: '/metaNode/add',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const request = addNodeRequest(call.params);
      ctx.recovery?.checkRegistration(registrationOf('meta', request, 0));
      const added = await ctx.services.nodes.addMetaNode(request, call.options(ctx.timeouts.proposeMs));
      return added.id;
    },
  });

  defineRoute(app, ctx, {
    url: '/dataNode/add',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const request = { ...addNodeRequest(call.params), mediaType: call.params.uint('mediaType', 0) };
      ctx.recovery?.checkRegistration(registrationOf('data', request, request.mediaType));
      const added = await ctx.services.nodes.addDataNode(request, call.options(ctx.timeouts.proposeMs));
      return added.id;
    },
  });

  defineRoute(app, ctx, {
    url: '/metaNode/get',
    methods: ['GET'],
    access: 'leader-read',
    handle: (call) => metaNodeInfoByAddr(ctx.replicator.model, call.params.require('addr')),
  });

  // `ignoreDiscard` (bool, default true) filters discarded partition reports; parsed for its
  // errors, nothing to filter while the model holds no data partitions.
  defineRoute(app, ctx, {
    url: '/dataNode/get',
    methods: ['GET'],
    access: 'leader-read',
    handle: (call) => {
      const addr = call.params.require('addr');
      call.params.bool('ignoreDiscard', true);
      return dataNodeInfoByAddr(ctx.replicator.model, addr);
    },
  });

  defineRoute(app, ctx, {
    url: '/admin/cluster/getAllMetaNodes',
    methods: ['GET'],
    access: 'leader-read',
    handle: () => allMetaNodes(ctx.replicator.model),
  });

  defineRoute(app, ctx, {
    url: '/admin/cluster/getAllDataNodes',
    methods: ['GET'],
    access: 'leader-read',
    handle: () => allDataNodes(ctx.replicator.model),
  });

  for (const source of ['metaNode', 'dataNode'] as const) {
    defineRoute(app, ctx, {
      url: `/${source}/response`,
      methods: ['GET', 'POST'],
      access: 'leader',
      handle: (call) => {
        takeNodeResponse(ctx, source, call.body ?? Buffer.alloc(0), call.request.log);
        return '200';
      },
    });
  }

  // `count`: replicas to move (0 = all). Synchronous, as in Go: the reply comes after the moves.
  defineRoute(app, ctx, {
    url: '/metaNode/decommission',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const addr = call.params.require('addr');
      const limit = call.params.uint('count', 0);
      const { firstError } = await ctx.domain.ops.run(() => ctx.services.partitions.decommissionNode('meta', addr, limit));
      // Go migrateMetaNode answers the first failed move.
      if (firstError !== null) throw firstError;
      return `decommissionMetaNode metaNode [${addr}] limit ${limit} has offline successfully`;
    },
  });

  // Asynchronous, as in Go: the moves run as a tracked domain operation (stopped with leadership).
  // `raftForceDel` is parsed for its errors; `weight` must not be negative.
  defineRoute(app, ctx, {
    url: '/dataNode/decommission',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: (call) => {
      const addr = call.params.require('addr');
      const limit = call.params.uint('count', 0);
      call.params.bool('raftForceDel', false);
      const weight = Number(call.params.get('weight') ?? '2');
      if (!Number.isInteger(weight)) throw new ParamError('weight', `weight must be an integer, got ${call.params.get('weight')}`);
      if (weight < 0) throw new ParamError('weight', 'weight should not be set to less than 0');
      if (dataNodeByAddr(ctx.replicator.model, addr) === undefined) throw new DataNodeNotFoundError(addr);
      const log = call.request.log;
      ctx.domain.ops
        .run(() => ctx.services.partitions.decommissionNode('data', addr, limit))
        .then(
          (r) => log.info({ addr, ...r }, 'data node decommission finished'),
          (err: unknown) => log.warn({ addr, err }, 'data node decommission stopped'),
        );
      return `decommission data node [${addr}] submited!need check status later!`;
    },
  });

  // `nodeType` 1 meta, 2 data (Go's TypeMetaPartition / TypeDataPartition); code 2 for every
  // failure, unknown node included, as Go answers.
  defineRoute(app, ctx, {
    url: '/admin/setNodeRdOnly',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const addr = call.params.require('addr');
      const nodeType = call.params.requireUint('nodeType');
      if (nodeType !== 1 && nodeType !== 2) throw new ParamError('nodeType', `parseSetNodeRdOnlyParam nodeType is not legal, must be 2 or 1`);
      const rdOnly = call.params.requireBool('rdOnly');
      await ctx.services.nodes.setRdOnly(nodeType === 1 ? 'meta' : 'data', addr, rdOnly, call.options(ctx.timeouts.proposeMs));
      return `[setNodeRdOnlyHandler] set node ${addr} to rdOnly(${rdOnly}) success`;
    },
  });

  done();
};

/**
 * A node's AdminTask result (spec/node-protocol.md 2.3). Its task leaves the queued sender
 * (Go DelTask: the ID is answered, a re-send is no longer due). Heartbeat reports go into this
 * leader's live state, and a meta partition reported with an End other than its record's gets
 * an OpUpdateMetaPartition queued (Go updateMetaNode). Task results are logged: an update that
 * failed as a warning (Go dealUpdateMetaPartitionResp); the synchronous tasks already got their
 * answer on the TCP reply. A malformed body is code 2 naming the field; a report from an unknown
 * node is dropped.
 */
function takeNodeResponse(ctx: ApiContext, source: NodeResponseSource, body: Buffer, log: FastifyBaseLogger): void {
  const response = parseNodeResponse(source, body);
  const model = ctx.replicator.model;
  const at = { wallMs: ctx.clock.nowMs(), monoMs: ctx.clock.monoMs() };
  ctx.taskQueue.acknowledge(response.nodeAddr, response.taskId);
  // A recovery round hears every node, registered or not (docs/recovery.md).
  ctx.recovery?.takeHeartbeat(response);
  switch (response.kind) {
    case 'metaHeartbeat': {
      if (!applyMetaHeartbeat(model, response.nodeAddr, response.report, at, ctx.hostNames.domainAddrOf(response.nodeAddr))) {
        log.debug({ addr: response.nodeAddr }, 'heartbeat from an unknown meta node');
        return;
      }
      const updates = queueRangeEndUpdates(model, ctx.taskQueue, response.nodeAddr, response.report);
      if (updates > 0) log.info({ addr: response.nodeAddr, updates }, 'meta partitions reported with a stale End: updates queued');
      return;
    }
    case 'dataHeartbeat':
      if (!applyDataHeartbeat(model, response.nodeAddr, response.report, at, ctx.hostNames.domainAddrOf(response.nodeAddr))) log.debug({ addr: response.nodeAddr }, 'heartbeat from an unknown data node');
      return;
    case 'taskResult':
      takeTaskResult(response, log);
  }
}

function takeTaskResult(response: Extract<NodeResponse, { kind: 'taskResult' }>, log: FastifyBaseLogger): void {
  const fields = { addr: response.nodeAddr, op: opcodeName(response.opCode), partition: response.partitionId, status: response.status, result: response.result };
  if (response.opCode === Opcode.UpdateMetaPartition) {
    const update = decodeUpdateMetaPartitionResponse(response.response);
    // TaskFailed (2): the node kept its range; the next heartbeat reports it and re-queues.
    if (update.status === 2) log.warn({ ...fields, vol: update.volName, end: update.end.toString() }, 'meta partition range update failed on the node');
    else log.info({ ...fields, vol: update.volName, end: update.end.toString() }, 'meta partition range updated on the node');
    return;
  }
  if (response.status === 2) log.warn(fields, 'node task failed');
  else log.debug(fields, 'node task result');
}

/** What a recovery round notes of a node that asks to register while it collects. */
function registrationOf(kind: 'meta' | 'data', r: AddNodeRequest, mediaType: number): CensusRegistration {
  return { kind, addr: r.addr, zoneName: r.zoneName, heartbeatPort: r.heartbeatPort, replicaPort: r.replicaPort, mediaType };
}

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
