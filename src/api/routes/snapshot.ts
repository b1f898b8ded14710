// GET /cubemaster/snapshot: a backup of the state of the member it reaches (any member, not only
// the leader), signed by root like every operator action. The body is the backup file
// (src/fsm/snapshot-file.ts) streamed from one consistent RocksDB view while writes go on; its
// applied index and term are also in the headers. A refusal before the first byte is an
// envelope as usual; a failure mid-stream cuts the connection, and the reader sees a truncated
// file (its trailer is missing) rather than a wrong one.
import { Readable } from 'node:stream';
import type { FastifyPluginCallback } from 'fastify';
import type { StateExporter } from '../../cluster/ports.js';
import type { ApiContext } from '../context.js';
import { sendFailure } from '../errors.js';
import { requestState } from '../request-state.js';
import { verifySignedRequest } from '../root-auth.js';

export const SNAPSHOT_ROUTE = '/cubemaster/snapshot';
export const SNAPSHOT_HEADERS = { index: 'x-cubemaster-snapshot-index', term: 'x-cubemaster-snapshot-term' } as const;

export const snapshotRoutes: FastifyPluginCallback<{ ctx: ApiContext; exporter: StateExporter }> = (app, { ctx, exporter }, done) => {
  ctx.methodsByPath.set(SNAPSHOT_ROUTE, new Set(['GET']));
  app.get(SNAPSHOT_ROUTE, async (request, reply) => {
    const state = requestState(request);
    state.route = SNAPSHOT_ROUTE;
    let backup;
    try {
      verifySignedRequest(ctx.replicator.model, request.headers, { method: request.method, pathAndQuery: request.raw.url ?? '', body: undefined }, ctx.clock.nowMs());
      backup = await exporter.open(state.signal);
    } catch (error) {
      return sendFailure(request, reply, error);
    }
    state.code = 0;
    state.outcome = 'text';
    const body = Readable.from(backup.bytes, { objectMode: false });
    // However the stream ends (done, client gone, member stopping), the view is released.
    body.once('close', () => {
      backup.release().catch((err: unknown) => request.log.warn({ err }, 'snapshot export release failed'));
    });
    // A stop aborts the export even while the client reads slowly (the stream is then paused).
    const cut = (): void => void body.destroy(new Error('snapshot export aborted'));
    if (backup.signal.aborted) cut();
    else backup.signal.addEventListener('abort', cut, { once: true });
    body.once('error', (err) => request.log.warn({ err: err.message, index: backup.index }, 'snapshot export cut'));
    request.log.info({ index: backup.index, term: backup.term }, 'snapshot export started');
    return reply
      .code(200)
      .type('application/octet-stream')
      .header(SNAPSHOT_HEADERS.index, String(backup.index))
      .header(SNAPSHOT_HEADERS.term, String(backup.term))
      .send(body);
  });
  done();
};
