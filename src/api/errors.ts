// The one place where an error becomes a reply (spec 1.1, 1.2, 8.2). The Go SDK decides what to
// do from the HTTP status first and the envelope code second:
// - HTTP 200 with code != 0 is a final error for the caller; codes must match CubeFS, and the
//   text matters only for codes 1 and 2 (cfs-cli prints it);
// - any other status (400, 429, 502, 503...) makes the SDK try the next master.
// So errors that are about *this member* (shutting down, overloaded, not the leader, leader
// unreachable) are plain-text statuses, and errors about the *request* are envelopes.
//
// | error                                   | reply                                            |
// |-----------------------------------------|--------------------------------------------------|
// | ShuttingDownError                       | 503 text (the request gate's answer); with       |
// |                                         |   x-cubemaster-outcome: unknown when proposed    |
// | TransferInProgressError                 | 503 text: leadership is moving to another master |
// | MemberDiskFullError, DiskFullError      | 503 text: this master's disk is full, refused;   |
// |                                         |   the SDK tries another (docs/faults.md)         |
// | BackpressureError                       | 429 text, as CubeFS's API limiter (spec 1.1)     |
// | ApiBusyError (limits.ts: in flight, QPS)| 429 text "too many requests for api: <path>: …"  |
// | NotLeaderError (could not forward)      | 400 text: the leader's addr, or "no leader" (§2) |
// | ForwardError                            | 502 text, as httputil.ReverseProxy               |
// | ParamError (ApiLimitError: too big),    | 200 envelope with the error's code and message   |
// |   AccessRefusedError (57), model errors,|   (Raft failures carry 4, PersistenceByRaft)     |
// |   other OperatingErrors (RaftTimeout-   |                                                  |
// |   Error, ProposalDroppedError: code 4)  |                                                  |
// | fastify client errors (bad body)        | 200 envelope, code 2                             |
// | anything else (a bug)                   | 200 envelope, code 1, logged once with reqId     |

import type { FastifyReply, FastifyRequest } from 'fastify';
import { MemberDiskFullError, ShuttingDownError } from '../raft/errors.js';
import { DiskFullError } from '../storage/errors.js';
import { BackpressureError, NotLeaderError, TransferInProgressError } from '../raft/core/errors.js';
import { CubeCode, OperatingError, ParamError } from '../util/errors.js';
import { sendErrorEnvelope, sendText } from './envelope.js';
import { ForwardError } from './forward.js';
import { ApiBusyError } from './limits.js';
import { pathOf } from './params.js';

export const NO_LEADER_TEXT = 'no leader';
export const SHUTTING_DOWN_TEXT = 'master is shutting down, try another master';
export const TRANSFER_TEXT = 'leadership is moving, try another master; new leader will be';
export const DISK_FULL_TEXT = 'master disk full, try another master';

/** 400 text/plain, body = the leader's HTTP addr or "no leader" (spec 2, steps 4-6). */
export function sendNoLeader(request: FastifyRequest, reply: FastifyReply, leaderAddr: string): FastifyReply {
  return sendText(request, reply, 400, leaderAddr === '' ? NO_LEADER_TEXT : leaderAddr);
}

/**
 * Set on a 503 whose write was already proposed when the stop abandoned it: it may still
 * commit. Without it, a 503 means the request was refused before anything was proposed.
 */
export const OUTCOME_HEADER = 'x-cubemaster-outcome';

/** 503 with `Connection: close`: new requests while draining, and ShuttingDownError. */
export function sendShuttingDown(request: FastifyRequest, reply: FastifyReply, outcomeUnknown = false): FastifyReply {
  void reply.header('connection', 'close');
  if (outcomeUnknown) void reply.header(OUTCOME_HEADER, 'unknown');
  return sendText(request, reply, 503, SHUTTING_DOWN_TEXT);
}

export function sendFailure(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof ShuttingDownError) return sendShuttingDown(request, reply, error.outcomeUnknown);
  // The leader refuses proposals while it hands leadership over (a stop, /master/changeleader):
  // the SDK tries the next master, which is soon the leader or forwards to it.
  if (error instanceof TransferInProgressError) return sendText(request, reply, 503, `${TRANSFER_TEXT} ${error.target}`);
  if (error instanceof ApiBusyError) {
    request.log.debug({ reason: error.reason, err: error.message }, 'request refused: busy');
    return sendText(request, reply, 429, error.message);
  }
  // A full disk is this member's problem, not the request's: nothing was proposed, and another
  // master (the leader this one hands over to, or one that forwards there) can take it.
  if (error instanceof MemberDiskFullError || error instanceof DiskFullError) return sendText(request, reply, 503, `${DISK_FULL_TEXT}: ${error.message}`);
  if (error instanceof BackpressureError) {
    request.log.warn({ err: error.message }, 'backpressure');
    return sendText(request, reply, 429, `too many requests for api: ${pathOf(request.raw.url ?? '')}: ${error.message}`);
  }
  if (error instanceof NotLeaderError) return sendNoLeader(request, reply, '');
  if (error instanceof ForwardError) {
    request.log.warn({ leader: error.leaderAddr, err: error.message }, 'forward to leader failed');
    return sendText(request, reply, 502, error.message);
  }
  if (error instanceof ParamError) {
    request.log.debug({ field: error.field, code: error.code, err: error.message }, 'bad parameter');
    return sendErrorEnvelope(request, reply, error.code, error.message);
  }
  if (error instanceof OperatingError) {
    request.log.debug({ code: error.code, err: error.message, kind: error.name }, 'request refused');
    return sendErrorEnvelope(request, reply, error.code, error.message);
  }
  const clientError = fastifyClientError(error);
  if (clientError !== null) return sendErrorEnvelope(request, reply, CubeCode.ParamError, clientError);
  // A bug: CubeFS answers an unmapped error with code 1 (spec 1.2). Logged here, once.
  request.log.error({ err: error, reqId: request.id }, 'unexpected error in request');
  return sendErrorEnvelope(request, reply, CubeCode.InternalError, `internal error (reqId ${request.id})`);
}

/** A fastify error about the request itself (4xx: body too large, bad body), as text. */
function fastifyClientError(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const e = error as Error & { statusCode?: unknown; code?: unknown };
  if (typeof e.code !== 'string' || !e.code.startsWith('FST_')) return null;
  if (typeof e.statusCode !== 'number' || e.statusCode < 400 || e.statusCode >= 500) return null;
  return `bad request: ${e.message}`;
}
