// Per-request bookkeeping shared by the hooks, the route wrapper and the error handler: when the
// request started, what it was answered with (for metrics and the one log line), the signal
// that fires when the client goes away, and the Content-Type as the client sent it (the hooks
// normalise a malformed one so fastify never answers 415, which the Go master never does).

import type { FastifyRequest } from 'fastify';
import type { InFlightSlot } from './limits.js';

export type Outcome = 'envelope' | 'forwarded' | 'text';

export interface RequestState {
  readonly startNs: bigint;
  /** Route pattern for metrics labels (bounded set); 'unmatched' for 404/405. */
  route: string;
  /** Envelope code sent, or null for non-envelope replies (404, 405, 400 no leader, 503...). */
  code: number | null;
  outcome: Outcome;
  /** Aborted when the response closes before it finished (client gone). */
  readonly abort: AbortController;
  /** The request's Content-Type header before normalisation; undefined when absent. */
  readonly originalContentType: string | undefined;
  /** Whether the gate admitted the request (then it must leave exactly once). */
  admitted: boolean;
  /** The in-flight slot the request holds (limits.ts), released when it finishes. */
  inFlightSlot: InFlightSlot | null;
}

const states = new WeakMap<FastifyRequest, RequestState>();

export function initRequestState(request: FastifyRequest, originalContentType: string | undefined): RequestState {
  const state: RequestState = {
    startNs: process.hrtime.bigint(),
    route: 'unmatched',
    code: null,
    outcome: 'text',
    abort: new AbortController(),
    originalContentType,
    admitted: false,
    inFlightSlot: null,
  };
  states.set(request, state);
  return state;
}

export function requestState(request: FastifyRequest): RequestState {
  const state = states.get(request);
  if (state === undefined) throw new Error('request state missing: the onRequest hook did not run');
  return state;
}
