// Limits on everything a client controls (issue 12.3; docs/limits.md lists them with their
// defaults, config keys and replies). Checked as early as each can be:
// - in the onRequest hook, before routing work: the request target's bytes, the number of query
//   keys, the number of headers, and requests in flight per client and per route;
// - by fastify while reading the body: its bytes (bodyLimitBytes);
// - when the route's parameters are parsed (route.ts): the number of query + form keys and the
//   bytes of each value, and the string fields of JSON bodies;
// - before the handler of a route this member answers itself: the route's QPS limit, as the Go
//   master's API limiter (master/api_limiter.go: a token bucket of burst 1 per path, a request
//   waits up to the limit's timeout for its token, else HTTP 429 "too many requests for api").
//
// Two kinds of refusal, following errors.ts: a request that is too big is refused for what it
// is (HTTP 200, code 2, the message names the limit and the field; retrying elsewhere would not
// help), while a member that is too busy answers HTTP 429 text, on which the SDK tries the next
// master. Every refusal counts in cubemaster_api_refused_total{reason, route}.

import type { FastifyRequest } from 'fastify';
import { CubeCode, OperatingError, ParamError } from '../util/errors.js';
import { FORWARDED_BY_HEADER } from './forward.js';
import type { Params } from './params.js';
import { pathOf } from './params.js';
import { abortableSleep } from '../util/sleep.js';

export interface ApiLimits {
  /** Largest request body (form, JSON, node reports). */
  readonly maxBodyBytes: number;
  /** Largest request target (path and query), in bytes. */
  readonly maxUrlBytes: number;
  /** Most query-string plus form-body keys in one request (repeats count). */
  readonly maxQueryKeys: number;
  /** Largest single query or form value, and string field of a JSON body, in bytes. */
  readonly maxParamValueBytes: number;
  /** Most header lines in one request. */
  readonly maxHeaderCount: number;
  /** Requests one client address may have in flight on this member. */
  readonly maxInFlightPerClient: number;
  /** Requests one route may have in flight on this member. */
  readonly maxInFlightPerRoute: number;
  /** Per-route QPS limits in force from start (path -> limit); /admin/setApiQpsLimit adds more. */
  readonly qps: Readonly<Record<string, QpsLimit>>;
}

export interface QpsLimit {
  /** Requests per second (0: one, then none, as Go's rate.Limit(0) with burst 1). */
  readonly limit: number;
  /** How long a request may wait for its turn before 429, in seconds (Go's `timeout`). */
  readonly timeoutSec: number;
}

// The largest requests the tools send are far below these: cfs-cli's `vol update` has 36 query
// keys in ~900 bytes; node heartbeat reports are ~100 KiB with every vol. 5,000 simulated nodes
// behind one address (bench:heartbeats) stay below the per-client bound.
export const DEFAULT_API_LIMITS: ApiLimits = {
  maxBodyBytes: 1024 * 1024,
  maxUrlBytes: 8 * 1024,
  maxQueryKeys: 128,
  maxParamValueBytes: 4 * 1024,
  maxHeaderCount: 100,
  maxInFlightPerClient: 4096,
  maxInFlightPerRoute: 8192,
  qps: {},
};

/** Largest QPS timeout accepted (Go takes any uint32 seconds; an hour is plenty). */
export const QPS_TIMEOUT_SEC_MAX = 3600;

/** Reasons of cubemaster_api_refused_total. */
export const REFUSAL_REASONS = [
  'access',
  'body_bytes',
  'url_bytes',
  'query_keys',
  'param_bytes',
  'header_count',
  'client_in_flight',
  'route_in_flight',
  'route_qps',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** The member is too busy for this request now: HTTP 429, the SDK tries the next master. */
export class ApiBusyError extends OperatingError {
  constructor(
    readonly path: string,
    readonly reason: RefusalReason,
    detail: string,
  ) {
    super(CubeCode.InternalError, `too many requests for api: ${path}: ${detail}`);
  }
}

/** A request bigger than a limit allows: code 2 naming the limit (and the field). */
export class ApiLimitError extends ParamError {
  constructor(
    field: string,
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(field, message);
  }
}

// --- the onRequest checks ---------------------------------------------------------------------

/** Target, query keys, headers: the shape checks that need no route. Null when within limits. */
export function checkRequestShape(request: FastifyRequest, limits: ApiLimits): ApiLimitError | null {
  const url = request.raw.url ?? '';
  // Cheap first: a string of n UTF-16 units has at most 3n UTF-8 bytes.
  const urlBytes = url.length * 3 <= limits.maxUrlBytes ? 0 : Buffer.byteLength(url, 'utf8');
  if (urlBytes > limits.maxUrlBytes) return new ApiLimitError('url', 'url_bytes', `request target of ${urlBytes} bytes exceeds the limit of ${limits.maxUrlBytes} (maxUrlBytes)`);
  const keys = queryKeyCount(url);
  if (keys > limits.maxQueryKeys) return new ApiLimitError('query', 'query_keys', `${keys} query keys exceed the limit of ${limits.maxQueryKeys} (maxQueryKeys)`);
  const headers = request.raw.rawHeaders.length / 2;
  if (headers > limits.maxHeaderCount) return new ApiLimitError('headers', 'header_count', `more than ${limits.maxHeaderCount} header lines (maxHeaderCount)`);
  return null;
}

function queryKeyCount(url: string): number {
  const q = url.indexOf('?');
  if (q < 0 || q === url.length - 1) return 0;
  let count = 0;
  let start = q + 1;
  for (;;) {
    const amp = url.indexOf('&', start);
    const end = amp < 0 ? url.length : amp;
    if (end > start) count += 1;
    if (amp < 0) return count;
    start = amp + 1;
  }
}

/** Query + form keys and value sizes of a route's parameters (after the form body is read). */
export function checkParamLimits(params: Params, limits: ApiLimits): void {
  if (params.pairCount > limits.maxQueryKeys) {
    throw new ApiLimitError('query', 'query_keys', `${params.pairCount} query and form keys exceed the limit of ${limits.maxQueryKeys} (maxQueryKeys)`);
  }
  for (const [key, values] of params.entries()) {
    for (const value of values) checkValueBytes(key, value, limits);
  }
}

/** A string of a JSON body (and each string of an array field). */
export function checkJsonStrings(body: Readonly<Record<string, unknown>>, limits: ApiLimits): void {
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === 'string') checkValueBytes(key, value, limits);
    else if (Array.isArray(value)) for (const item of value) if (typeof item === 'string') checkValueBytes(key, item, limits);
  }
}

function checkValueBytes(key: string, value: string, limits: ApiLimits): void {
  // Cheap first: a string of n UTF-16 units has at most 3n UTF-8 bytes.
  if (value.length * 3 <= limits.maxParamValueBytes) return;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > limits.maxParamValueBytes) {
    const shown = key.length > 64 ? `${key.slice(0, 64)}...` : key;
    throw new ApiLimitError(shown, 'param_bytes', `value of ${shown} has ${bytes} bytes, more than the limit of ${limits.maxParamValueBytes} (maxParamValueBytes)`);
  }
}

// --- requests in flight -------------------------------------------------------------------------

/** What a request holds until it finishes (InFlightLimiter.release). */
export interface InFlightSlot {
  readonly client: string;
  readonly route: string | null;
}

/**
 * Counts requests in flight per client address and per route. A request over either bound is
 * refused at once (no queue: the SDK has other masters, and a queue would only hold memory).
 */
export class InFlightLimiter {
  private readonly byClient = new Map<string, number>();
  private readonly byRoute = new Map<string, number>();

  constructor(private readonly limits: ApiLimits) {}

  /**
   * Takes a slot, or returns the error that refuses the request (nothing taken then). `target`:
   * the request target, whose path the refusal names (cut out only on refusal).
   */
  acquire(client: string, route: string | null, target: string): InFlightSlot | ApiBusyError {
    const clientCount = this.byClient.get(client) ?? 0;
    if (clientCount >= this.limits.maxInFlightPerClient) {
      return new ApiBusyError(pathOf(target), 'client_in_flight', `${clientCount} requests of client ${client} in flight (maxInFlightPerClient)`);
    }
    if (route !== null) {
      const routeCount = this.byRoute.get(route) ?? 0;
      if (routeCount >= this.limits.maxInFlightPerRoute) {
        return new ApiBusyError(pathOf(target), 'route_in_flight', `${routeCount} requests of ${route} in flight (maxInFlightPerRoute)`);
      }
      this.byRoute.set(route, routeCount + 1);
    }
    this.byClient.set(client, clientCount + 1);
    return { client, route };
  }

  release(slot: InFlightSlot): void {
    decrement(this.byClient, slot.client);
    if (slot.route !== null) decrement(this.byRoute, slot.route);
  }

  /** Requests in flight now (for tests and the gauge). */
  get inFlight(): number {
    let n = 0;
    for (const v of this.byClient.values()) n += v;
    return n;
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = map.get(key) ?? 0;
  if (n <= 1) map.delete(key);
  else map.set(key, n - 1);
}

/**
 * The client a request counts against: the peer address, except for a request another member
 * forwarded (FORWARDED_BY_HEADER from a member's own address), which counts against the client
 * that member saw, the last X-Forwarded-For entry it appended (forward.ts).
 */
export function clientKeyOf(request: FastifyRequest, isMemberHost: (host: string) => boolean): string {
  const remote = stripV4Mapped(request.socket.remoteAddress ?? '');
  if (request.headers[FORWARDED_BY_HEADER] === undefined || !isMemberHost(remote)) return remote;
  const fwd = request.headers['x-forwarded-for'];
  const list = Array.isArray(fwd) ? fwd.join(',') : (fwd ?? '');
  const last = list.split(',').pop()?.trim() ?? '';
  return last === '' ? remote : stripV4Mapped(last);
}

function stripV4Mapped(addr: string): string {
  return addr.startsWith('::ffff:') ? addr.slice('::ffff:'.length) : addr;
}

// --- per-route QPS (Go's API limiter) -------------------------------------------------------------

interface Bucket {
  readonly limit: QpsLimit;
  /** When the next token is free (ms); a request at or after it passes at once. */
  nextFreeMs: number;
}

export interface QpsLimitView {
  readonly path: string;
  readonly limit: number;
  readonly timeoutSec: number;
}

/**
 * Token buckets of burst 1, one per limited path. A request finds the time its token is free;
 * when that is more than the limit's timeout away it is refused at once (Go's rate.Limiter.Wait
 * fails as soon as the wait would pass its context's deadline), else it takes the token and
 * waits. So the requests waiting on one path are at most limit x timeout + 1.
 */
export class RouteQpsLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    initial: Readonly<Record<string, QpsLimit>>,
    private readonly nowMs: () => number,
  ) {
    for (const [path, limit] of Object.entries(initial)) this.set(path, limit);
  }

  set(path: string, limit: QpsLimit): void {
    this.buckets.set(path, { limit, nextFreeMs: Number.NEGATIVE_INFINITY });
  }

  /** Whether `path` has a limit (wait() would look it up; a request on a path without one need not wait). */
  limits(path: string): boolean {
    return this.buckets.has(path);
  }

  remove(path: string): boolean {
    return this.buckets.delete(path);
  }

  list(): QpsLimitView[] {
    return [...this.buckets.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, b]) => ({ path, limit: b.limit.limit, timeoutSec: b.limit.timeoutSec }));
  }

  /**
   * Resolves when the request may run; rejects with ApiBusyError, or the signal's reason. The
   * signal is asked for only when the request has to wait (making one costs; most paths have no
   * limit).
   */
  async wait(path: string, signalOf: () => AbortSignal): Promise<void> {
    const bucket = this.buckets.get(path);
    if (bucket === undefined) return;
    const now = this.nowMs();
    const at = Math.max(now, bucket.nextFreeMs);
    const waitMs = at - now;
    const timeoutMs = bucket.limit.timeoutSec * 1000;
    if (waitMs > timeoutMs || !Number.isFinite(at)) {
      throw new ApiBusyError(path, 'route_qps', `over the limit of ${bucket.limit.limit} requests per second (waited up to ${bucket.limit.timeoutSec} s)`);
    }
    bucket.nextFreeMs = bucket.limit.limit > 0 ? at + 1000 / bucket.limit.limit : Number.POSITIVE_INFINITY;
    if (waitMs > 0) await abortableSleep(waitMs, signalOf());
  }
}


// --- config (master.json `apiLimits`) --------------------------------------------------------------

const NUMERIC_KEYS = ['maxBodyBytes', 'maxUrlBytes', 'maxQueryKeys', 'maxParamValueBytes', 'maxHeaderCount', 'maxInFlightPerClient', 'maxInFlightPerRoute'] as const;
/** Smallest values accepted: below them cfs-cli or the nodes could not work. */
const NUMERIC_MIN: Readonly<Record<(typeof NUMERIC_KEYS)[number], number>> = {
  maxBodyBytes: 64 * 1024,
  maxUrlBytes: 2048,
  maxQueryKeys: 64,
  maxParamValueBytes: 256,
  maxHeaderCount: 32,
  maxInFlightPerClient: 1,
  maxInFlightPerRoute: 1,
};
const NUMERIC_MAX = 1 << 30;

/**
 * master.json `apiLimits`: an object with any of the numeric keys of ApiLimits and `qps`, an
 * object from route path to `{ "limit": N, "timeout": S }` (Go's setApiQpsLimit parameters).
 * Throws Error naming the key; the caller wraps it as a config error.
 */
export function parseApiLimits(raw: unknown): ApiLimits {
  if (raw === undefined || raw === null || raw === '') return DEFAULT_API_LIMITS;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error('apiLimits must be an object');
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key !== 'qps' && !(NUMERIC_KEYS as readonly string[]).includes(key)) throw new Error(`apiLimits.${key} is not a known limit (${[...NUMERIC_KEYS, 'qps'].join(', ')})`);
  }
  const out: Record<string, unknown> = { ...DEFAULT_API_LIMITS };
  for (const key of NUMERIC_KEYS) {
    if (o[key] === undefined) continue;
    const n = typeof o[key] === 'string' ? Number(o[key]) : o[key];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < NUMERIC_MIN[key] || n > NUMERIC_MAX) {
      throw new Error(`apiLimits.${key} must be an integer in [${NUMERIC_MIN[key]}, ${NUMERIC_MAX}], got ${JSON.stringify(o[key])}`);
    }
    out[key] = n;
  }
  out.qps = parseQpsConfig(o.qps);
  return out as unknown as ApiLimits;
}

function parseQpsConfig(raw: unknown): Record<string, QpsLimit> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error('apiLimits.qps must be an object of path -> { limit, timeout }');
  const out: Record<string, QpsLimit> = {};
  for (const [path, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!path.startsWith('/')) throw new Error(`apiLimits.qps: "${path}" is not a route path`);
    const entry = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
    const limit = entry.limit;
    const timeout = entry.timeout;
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0 || limit > 0xffff_ffff) throw new Error(`apiLimits.qps["${path}"].limit must be an integer in [0, 4294967295]`);
    if (typeof timeout !== 'number' || !Number.isSafeInteger(timeout) || timeout < 1 || timeout > QPS_TIMEOUT_SEC_MAX) {
      throw new Error(`apiLimits.qps["${path}"].timeout must be an integer number of seconds in [1, ${QPS_TIMEOUT_SEC_MAX}]`);
    }
    out[path] = { limit, timeoutSec: timeout };
  }
  return out;
}
