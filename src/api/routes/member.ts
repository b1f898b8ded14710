// Our own routes (not CubeFS's): a member's local view, for operators and for the chaos audit
// that compares members. Served locally, never forwarded, never behind a read barrier.
import type { FastifyPluginCallback } from 'fastify';
import type { Auditor } from '../../cluster/ports.js';
import type { ApiContext } from '../context.js';
import { defineRoute } from '../route.js';

export const memberRoutes: FastifyPluginCallback<{ ctx: ApiContext; auditor: Auditor }> = (app, { ctx, auditor }, done) => {
  defineRoute(app, ctx, {
    url: '/cubemaster/status',
    methods: ['GET'],
    access: 'local',
    handle: () => auditor.status(),
  });

  defineRoute(app, ctx, {
    url: '/cubemaster/audit',
    methods: ['GET'],
    access: 'local',
    handle: () => auditor.audit(),
  });

  defineRoute(app, ctx, {
    url: '/cubemaster/log-digest',
    methods: ['GET'],
    access: 'local',
    handle: (call) => auditor.logDigest(call.params.requireUint('from'), call.params.requireUint('to')),
  });

  done();
};
