// Closed-loop HTTP load for the benchmarks: `concurrency` clients, each sending its next request
// as soon as the previous answered, over keep-alive connections; latencies recorded.
import http from 'node:http';

export interface LoadFigures {
  readonly ops: number;
  readonly errors: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
}

export interface RequestSpec {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

/** Bound on one request: a request that takes longer counts as an error. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Runs `makeRequest(client, seq)` closed-loop for `seconds` after `warmupSeconds`. Client c
 * talks to urls[c % urls.length]. `window` hears when the measured window starts and ends.
 */
export async function closedLoop(
  urls: readonly string[],
  concurrency: number,
  seconds: number,
  makeRequest: (client: number, seq: number) => RequestSpec,
  isSuccess: (status: number, body: string) => boolean,
  warmupSeconds = 1,
  window: { readonly onStart?: () => void; readonly onEnd?: () => void } = {},
): Promise<LoadFigures> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency * 2 });
  const latencies: number[] = [];
  let ops = 0;
  let errors = 0;
  let measuring = false;
  let running = true;
  const client = async (c: number): Promise<void> => {
    const base = new URL(urls[c % urls.length]);
    for (let seq = 0; running; seq++) {
      const spec = makeRequest(c, seq);
      const started = performance.now();
      let ok = false;
      try {
        const { status, body } = await sendRequest(base, spec, agent);
        ok = isSuccess(status, body);
      } catch {
        ok = false;
      }
      if (!measuring) continue;
      if (ok) {
        ops++;
        latencies.push(performance.now() - started);
      } else errors++;
    }
  };
  const clients = Array.from({ length: concurrency }, (_, c) => client(c));
  await sleep(warmupSeconds * 1000);
  window.onStart?.();
  measuring = true;
  const started = performance.now();
  await sleep(seconds * 1000);
  measuring = false;
  window.onEnd?.();
  const elapsed = (performance.now() - started) / 1000;
  running = false;
  await Promise.all(clients);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { ops, errors, seconds: elapsed, opsPerSec: ops / elapsed, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99), p999Ms: quantile(latencies, 0.999) };
}

/** The q-quantile of sorted values (NaN when empty). */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function sendRequest(base: URL, spec: RequestSpec, agent: http.Agent | false, timeoutMs = REQUEST_TIMEOUT_MS): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        path: spec.path,
        method: spec.method,
        agent,
        headers: { ...(spec.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(spec.body) }), ...spec.headers },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (spec.body !== undefined) req.write(spec.body);
    req.end();
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
