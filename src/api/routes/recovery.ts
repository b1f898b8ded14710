// cubemaster's own recovery routes (docs/recovery.md; CubeFS has no equivalent):
//
//   GET /cubemaster/recovery               {report, progress}: the recovery report (JSON; null
//                                          when the cluster never had one) and the round's live
//                                          progress on the leader
//   GET /cubemaster/recovery?format=text   the same report as the human summary (data: a string)
//
// Served by the leader: the census of a collecting round lives there.
import type { FastifyPluginCallback } from 'fastify';
import { buildRecoveryReport, recoveryReportText } from '../../cluster/recovery/report.js';
import { ParamError } from '../../util/errors.js';
import type { ApiContext } from '../context.js';
import { defineRoute } from '../route.js';

export const recoveryRoutes: FastifyPluginCallback<{ ctx: ApiContext }> = (app, { ctx }, done) => {
  defineRoute(app, ctx, {
    url: '/cubemaster/recovery',
    methods: ['GET'],
    access: 'leader-read',
    handle: (call) => {
      const format = call.params.string('format');
      if (format !== '' && format !== 'json' && format !== 'text') throw new ParamError('format', `format must be json or text, got ${format}`);
      const report = buildRecoveryReport(ctx.replicator.model);
      if (format === 'text') return report === null ? 'this cluster had no recovery\n' : recoveryReportText(report);
      const status = ctx.recovery?.status() ?? null;
      return {
        report,
        progress:
          status === null
            ? null
            : { collecting: status.collecting, targets: status.targets, reported: status.reported, pending: status.pending, registering: status.registering, deadlineMs: status.deadlineMs, lastError: status.lastError },
      };
    },
  });
  done();
};
