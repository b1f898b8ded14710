// `GET /metrics` (spec 1.4: Prometheus on the API port; spec 2: isFollowerRead, served locally
// on every member). The Prometheus text format, not the envelope.

import type { FastifyPluginCallback } from 'fastify';
import type { ApiContext } from '../context.js';
import { requestState } from '../request-state.js';

export const metricsRoutes: FastifyPluginCallback<{ ctx: ApiContext }> = (app, { ctx }, done) => {
  const registry = ctx.metrics.registry;
  ctx.methodsByPath.set('/metrics', new Set(['GET']));
  app.get('/metrics', async (request, reply) => {
    requestState(request).route = '/metrics';
    const text = await registry.metrics();
    return reply.code(200).type(registry.contentType).send(text);
  });
  done();
};
