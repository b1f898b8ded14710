// GETs to the other masters' own read routes (`/cubemaster/status`, `/get/raftStatus`) for the
// console's cluster overview: each member reports its own Raft position, so the member answering
// asks the others. Bounded: one keep-alive agent with few sockets (destroyed by close()), a
// deadline per call, a cap on the reply's bytes.

import http from 'node:http';

export interface PeerClientOptions {
  /** Connect to last byte. Default 1 s: an overview must not wait on a dead member. */
  readonly timeoutMs?: number;
  /** Default 256 KiB (a status reply is a few hundred bytes). */
  readonly maxResponseBytes?: number;
  /** Default 8 sockets over all members. */
  readonly maxSockets?: number;
}

export const DEFAULT_PEER_TIMEOUT_MS = 1_000;
const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024;
const DEFAULT_MAX_SOCKETS = 8;

export class PeerClient {
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(options: PeerClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.agent = new http.Agent({ keepAlive: true, maxTotalSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS, maxSockets: 2 });
  }

  /** The `data` of a `{code: 0}` envelope from `http://<addr><path>`; rejects with a short reason otherwise. */
  getData(addr: string, path: string): Promise<unknown> {
    const colon = addr.lastIndexOf(':');
    if (colon <= 0) return Promise.reject(new Error(`bad address ${addr}`));
    const host = addr.slice(0, colon);
    const port = Number(addr.slice(colon + 1));
    return new Promise((resolve, reject) => {
      const req = http.request({ host, port, path, method: 'GET', agent: this.agent, timeout: this.timeoutMs, signal: AbortSignal.timeout(this.timeoutMs) }, (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > this.maxResponseBytes) {
            req.destroy(new Error(`reply larger than ${this.maxResponseBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            reject(new Error(`HTTP ${res.statusCode}: ${text.trim().slice(0, 200)}`));
            return;
          }
          try {
            resolve(envelopeData(JSON.parse(text) as unknown));
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (e) => reject(e.name === 'AbortError' || e.name === 'TimeoutError' ? new Error(`no answer within ${this.timeoutMs} ms`) : e));
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function envelopeData(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || !('code' in body)) throw new Error('not a CubeFS envelope');
  const { code, msg, data } = body as { code: unknown; msg: unknown; data: unknown };
  if (code !== 0) throw new Error(`code ${String(code)}: ${String(msg)}`);
  return data;
}
