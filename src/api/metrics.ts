// Prometheus metrics of the API (prom-client), served at `/metrics` by every member (spec 1.4:
// `/metrics` is on the API port; spec 2: served locally, never proxied). Labels are bounded:
// `route` is a registered path pattern or "unmatched", `code` an envelope code, "forwarded",
// or "none" for plain-text replies, `status` an HTTP status, `reason` one of limits.ts's
// RefusalReason values.

import { Counter, Gauge, Registry } from 'prom-client';
import { SeriesHistogram } from './series-histogram.js';
import type { RequestGate } from './gate.js';
import type { RefusalReason } from './limits.js';

export interface ApiRequestSample {
  readonly route: string;
  readonly method: string;
  readonly status: number;
  readonly code: string;
  readonly seconds: number;
}

export type ForwardResult = 'ok' | 'failed' | 'refused';

/** A request series: its counter labels, its running total and how much of it the counter holds. */
interface RequestSeries {
  readonly labels: Readonly<Record<'route' | 'method' | 'status' | 'code', string>>;
  /** Key and labels of its latency series (route, code). */
  readonly latencyKey: string;
  readonly latencyLabels: Readonly<Record<'route' | 'code', string>>;
  total: number;
  counted: number;
}

export class ApiMetrics {
  // Every request is observed on the leader's one thread (issue 10): it adds to a running
  // total found by a key (cubemaster_api_requests_total takes what grew at each scrape, as the
  // transport counters do) and to a SeriesHistogram, without prom-client's per-call label
  // hashing.
  private readonly requestSeries = new Map<string, RequestSeries>();
  private readonly latency: SeriesHistogram<'route' | 'code'>;
  private readonly forwards: Counter<'route' | 'result'>;
  private readonly refusals: Counter<'reason' | 'route'>;
  private acceptQueue: () => number | null = () => null;

  constructor(
    readonly registry: Registry,
    gate: RequestGate,
  ) {
    const requestSeries = this.requestSeries;
    new Counter({
      name: 'cubemaster_api_requests_total',
      help: 'HTTP API requests answered, by route, method, HTTP status and envelope code.',
      labelNames: ['route', 'method', 'status', 'code'],
      registers: [registry],
      collect() {
        for (const s of requestSeries.values()) {
          if (s.total > s.counted) this.inc(s.labels, s.total - s.counted);
          s.counted = s.total;
        }
      },
    });
    this.latency = new SeriesHistogram({
      name: 'cubemaster_api_request_duration_seconds',
      help: 'HTTP API request latency, from the first hook to the end of the response.',
      labelNames: ['route', 'code'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.forwards = new Counter({
      name: 'cubemaster_api_forwarded_total',
      help: 'Requests this member sent on to the leader (ok, failed: 502) or refused to (refused: 400).',
      labelNames: ['route', 'result'],
      registers: [registry],
    });
    this.refusals = new Counter({
      name: 'cubemaster_api_refused_total',
      help: 'Requests refused by an access rule (code 57) or an input limit (code 2, or HTTP 429 when over a concurrency or QPS limit), by reason and route.',
      labelNames: ['reason', 'route'],
      registers: [registry],
    });
    new Gauge({
      name: 'cubemaster_api_requests_in_flight',
      help: 'Requests admitted by the request gate and not finished yet.',
      registers: [registry],
      collect() {
        this.set(gate.inFlightCount);
      },
    });
    const acceptQueue = (): number => this.acceptQueue() ?? 0;
    new Gauge({
      name: 'cubemaster_api_accept_queue_connections',
      help: 'Connections the kernel completed on the HTTP port that no listening handle accepted yet; their first requests wait there (Linux; 0 when unknown). See httpAcceptHandles.',
      registers: [registry],
      collect() {
        this.set(acceptQueue());
      },
    });
    new Gauge({
      name: 'cubemaster_api_draining',
      help: '1 while the request gate refuses new requests (shutdown).',
      registers: [registry],
      collect() {
        this.set(gate.isDraining ? 1 : 0);
      },
    });
  }

  /** Where the accept queue gauge reads from, once the server listens (accept-queue.ts). */
  watchAcceptQueue(read: () => number | null): void {
    this.acceptQueue = read;
  }

  observe(sample: ApiRequestSample): void {
    const key = `${sample.route}\u0000${sample.method}\u0000${sample.status}\u0000${sample.code}`;
    let s = this.requestSeries.get(key);
    if (s === undefined) {
      s = { labels: { route: sample.route, method: sample.method, status: String(sample.status), code: sample.code }, latencyKey: `${sample.route}\u0000${sample.code}`, latencyLabels: { route: sample.route, code: sample.code }, total: 0, counted: 0 };
      this.requestSeries.set(key, s);
    }
    s.total += 1;
    this.latency.observe(s.latencyKey, s.latencyLabels, sample.seconds);
  }

  forwarded(route: string, result: ForwardResult): void {
    this.forwards.inc({ route, result });
  }

  refused(reason: RefusalReason, route: string): void {
    this.refusals.inc({ reason, route });
  }
}
