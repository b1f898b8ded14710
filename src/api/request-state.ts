// Per-request bookkeeping shared by the hooks, the route wrapper and the error handler: when the
// request started, what it was answered with (for metrics and the one log line), the signal
// that fires when the client goes away, and the Content-Type as the client sent it (the hooks
// normalise a malformed one so fastify never answers 415, which the Go master never does).
//
// Issue 10: this runs for every request on the leader's one thread, so it is kept cheap: the
// state is a field of the request (fastify decorateRequest: one hidden class, no WeakMap lookups
// and no ephemeron work for the collector), its start is a double (performance.now, no bigint),
// and the AbortController is made only when something asks for the signal (most requests
// never do: creating one cost ~2% of the leader's CPU).

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { InFlightSlot } from './limits.js';

export type Outcome = 'envelope' | 'forwarded' | 'text';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the onRequest hook (server.ts); read through requestState(). */
    cubemasterState: RequestState | null;
  }
}

export class RequestState {
  /** performance.now() when the onRequest hook ran. */
  readonly startMs = performance.now();
  /** Route pattern for metrics labels (bounded set); 'unmatched' for 404/405. */
  route = 'unmatched';
  /** Envelope code sent, or null for non-envelope replies (404, 405, 400 no leader, 503...). */
  code: number | null = null;
  outcome: Outcome = 'text';
  /** Whether the gate admitted the request (then it must leave exactly once). */
  admitted = false;
  /** The in-flight slot the request holds (limits.ts), released when it finishes. */
  inFlightSlot: InFlightSlot | null = null;
  private controller: AbortController | null = null;
  /** Why the client went away (set once by clientGone). */
  private goneReason: Error | null = null;

  /** `originalContentType`: the request's Content-Type header before normalisation; undefined when absent. */
  constructor(readonly originalContentType: string | undefined) {}

  /** Aborted when the response closes before it finished (client gone); made on first use. */
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.goneReason !== null) this.controller.abort(this.goneReason);
    }
    return this.controller.signal;
  }

  /** The response closed before it finished: the signal fires (now, or aborted when first asked for). */
  clientGone(): void {
    if (this.goneReason !== null) return;
    this.goneReason = new Error('client closed the connection');
    this.controller?.abort(this.goneReason);
  }

  /** Seconds since the onRequest hook. */
  elapsedSeconds(): number {
    return (performance.now() - this.startMs) / 1000;
  }
}

/** Declares the request field on the root instance, before any route (every request then has it, null until onRequest). */
export function declareRequestState(app: FastifyInstance): void {
  app.decorateRequest('cubemasterState', null);
}

export function initRequestState(request: FastifyRequest, originalContentType: string | undefined): RequestState {
  const state = new RequestState(originalContentType);
  request.cubemasterState = state;
  return state;
}

export function requestState(request: FastifyRequest): RequestState {
  const state = request.cubemasterState;
  if (state === null) throw new Error('request state missing: the onRequest hook did not run');
  return state;
}
