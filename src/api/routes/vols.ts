// Volume routes (spec 1.5): /admin/createVol, /admin/getVol, /vol/list, /vol/update,
// /vol/expand, /vol/shrink, /vol/delete, and the client views /client/vol,
// /client/metaPartitions, /client/partitions (gzip on request, envelope.ts), /client/volStat.
// Views that show heartbeat-derived values are `leader-read` (route.ts).

import type { FastifyPluginCallback } from 'fastify';
import { authKeyOf } from '../../cluster/auth-key.js';
import type { VolRecord } from '../../model/index.js';
import {
  AuthKeyMismatchError,
  checkVolName,
  dataPartitionsViewByName,
  metaPartitionViewsByName,
  simpleVolViewByName,
  VolNotFoundError,
  volByName,
  volList,
  volStatInfoByName,
  volViewByName,
} from '../../model/index.js';
import type { ApiContext } from '../context.js';
import { INT32_MAX } from '../params.js';
import { defineRoute } from '../route.js';
import { createVolRequest, volUpdateRequest } from './vol-params.js';

/** Bound on the whole create (placement, every partition on its nodes, two proposals). */
export const CREATE_VOL_TIMEOUT_MS = 120_000;

export const volRoutes: FastifyPluginCallback<{ ctx: ApiContext }> = (app, { ctx }, done) => {
  const model = () => ctx.replicator.model;
  const volNamed = (name: string): VolRecord => {
    checkVolName(name);
    const vol = volByName(model(), name);
    if (vol === undefined) throw new VolNotFoundError(name);
    return vol;
  };

  defineRoute(app, ctx, {
    url: '/admin/createVol',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const { vol, dataPartitions } = await ctx.services.vols.create(createVolRequest(call.params), call.options(CREATE_VOL_TIMEOUT_MS));
      return `create vol[${vol.name}] successfully, has allocate [${dataPartitions}] data partitions`;
    },
  });

  defineRoute(app, ctx, {
    url: '/admin/getVol',
    methods: ['GET'],
    access: 'leader-read',
    handle: (call) => simpleVolViewByName(model(), checkVolName(call.params.require('name')), ctx.viewOptions),
  });

  defineRoute(app, ctx, {
    url: '/vol/list',
    methods: ['GET'],
    access: 'read',
    handle: (call) => volList(model(), call.params.string('keywords')),
  });

  defineRoute(app, ctx, {
    url: '/vol/update',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const vol = volNamed(call.params.require('name'));
      const vol2 = await ctx.services.vols.update(volUpdateRequest(call.params, vol.settings), call.options(ctx.timeouts.proposeMs));
      // Go hasTxParams: a request that names a transaction setting is answered with the result.
      if (call.params.get('enableTxMask') !== undefined || call.params.get('txTimeout') !== undefined) {
        return `update vol[${vol2.name}] successfully, txTimeout[${vol2.settings.txTimeoutMin}] enableTransaction[${vol2.settings.txMask}]`;
      }
      return `update vol[${vol2.name}] successfully`;
    },
  });

  for (const direction of ['expand', 'shrink'] as const) {
    defineRoute(app, ctx, {
      url: `/vol/${direction}`,
      methods: ['GET', 'POST'],
      access: 'leader',
      handle: async (call) => {
        // Go parseRequestToSetVolCapacity: name (and its pattern), authKey, then capacity, which
        // extractUint reads as 0 when absent (so the size check answers, not a missing key).
        const name = checkVolName(call.params.require('name'));
        const authKey = call.params.require('authKey');
        const capacity = call.params.uint('capacity', 0, INT32_MAX);
        const vol = await ctx.services.vols.setCapacity(name, authKey, capacity, direction, call.options(ctx.timeouts.proposeMs));
        return `update vol[${vol.name}] successfully\n`;
      },
    });
  }

  // `delete` and `forceDelVol` are parsed (a bad bool is code 2) and ignored: with the default
  // enableDirectDeleteVol the Go master marks the vol whatever `delete` says (its undelete
  // belongs to the delayed-delete mode, which this master does not have). Copied on purpose: an
  // undelete racing the background removal (cleanup.ts) could bring back a vol whose
  // partitions the nodes have already dropped.
  defineRoute(app, ctx, {
    url: '/vol/delete',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const name = checkVolName(call.params.require('name'));
      const authKey = call.params.require('authKey');
      call.params.bool('delete', true);
      call.params.bool('forceDelVol', false);
      await ctx.services.vols.delete(name, authKey, true, call.options(ctx.timeouts.proposeMs));
      return `delete vol[${name}] successfully,from[${call.clientIp}:${call.request.socket.remotePort ?? 0}]`;
    },
  });

  // authKey is checked before the vol lookup (observed: no authKey on an unknown vol -> code 2),
  // unless the header Skip-Owner-Validation: true is sent.
  defineRoute(app, ctx, {
    url: '/client/vol',
    methods: ['GET', 'POST'],
    access: 'leader-read',
    handle: (call) => {
      const name = checkVolName(call.params.require('name'));
      const skip = String(call.request.headers['skip-owner-validation'] ?? '').toLowerCase() === 'true';
      const authKey = skip ? '' : call.params.require('authKey');
      const vol = volNamed(name);
      if (!skip && authKey.toLowerCase() !== authKeyOf(vol.owner)) throw new AuthKeyMismatchError(name);
      return volViewByName(model(), name);
    },
  });

  defineRoute(app, ctx, {
    url: '/client/metaPartitions',
    methods: ['GET'],
    access: 'leader-read',
    handle: (call) => metaPartitionViewsByName(model(), checkVolName(call.params.require('name'))),
  });

  defineRoute(app, ctx, {
    url: '/client/partitions',
    methods: ['GET'],
    access: 'leader-read',
    handle: (call) => dataPartitionsViewByName(model(), checkVolName(call.params.require('name'))),
  });

  defineRoute(app, ctx, {
    url: '/client/volStat',
    methods: ['GET'],
    access: 'leader-read',
    handle: (call) => {
      const name = checkVolName(call.params.require('name'));
      call.params.uint('version', 0, INT32_MAX);
      return volStatInfoByName(model(), name);
    },
  });

  done();
};
