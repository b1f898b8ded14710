// A tiny HTTP client for the harness's own look-ups (readiness, ids, credentials): one
// connection per request, no keep-alive agent left behind, gunzip of `X-Cfs-Content-Encoding`.
import http from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface Envelope<T = unknown> {
  readonly code: number;
  readonly msg: string;
  readonly data: T;
}

export async function cfsJson<T = unknown>(addr: string, pathAndQuery: string, timeoutMs = 5000): Promise<Envelope<T>> {
  const { status, body } = await httpGet(`http://${addr}${pathAndQuery}`, timeoutMs);
  if (status !== 200) throw new Error(`GET ${addr}${pathAndQuery}: HTTP ${status} ${body.slice(0, 200)}`);
  try {
    return JSON.parse(body) as Envelope<T>;
  } catch {
    throw new Error(`GET ${addr}${pathAndQuery}: not JSON: ${body.slice(0, 200)}`);
  }
}

/** `data` of a successful reply, or an error naming the code and msg. */
export async function cfsData<T = unknown>(addr: string, pathAndQuery: string, timeoutMs = 5000): Promise<T> {
  const env = await cfsJson<T>(addr, pathAndQuery, timeoutMs);
  if (env.code !== 0) throw new Error(`GET ${addr}${pathAndQuery}: code ${env.code} ${env.msg}`);
  return env.data;
}

export function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        let raw = Buffer.concat(chunks);
        if (String(res.headers['x-cfs-content-encoding'] ?? '').includes('gzip')) raw = gunzipSync(raw);
        resolve({ status: res.statusCode ?? 0, body: raw.toString('utf8') });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes; the error says what was awaited. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === '' ? '' : ` (last error: ${last})`}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
