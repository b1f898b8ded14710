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
}

export interface RequestSpec {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

/** Runs `makeRequest(client, seq)` closed-loop for `seconds` after `warmupSeconds`. */
export async function closedLoop(
  urls: readonly string[],
  concurrency: number,
  seconds: number,
  makeRequest: (client: number, seq: number) => RequestSpec,
  isSuccess: (status: number, body: string) => boolean,
  warmupSeconds = 1,
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
        const { status, body } = await send(base, spec, agent);
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
  measuring = true;
  const started = performance.now();
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  running = false;
  await Promise.all(clients);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => (latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]);
  return { ops, errors, seconds: elapsed, opsPerSec: ops / elapsed, p50Ms: q(0.5), p99Ms: q(0.99) };
}

function send(base: URL, spec: RequestSpec, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: base.hostname, port: base.port, path: spec.path, method: spec.method, agent, headers: { ...(spec.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(spec.body) }), ...spec.headers }, timeout: 30_000 },
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
