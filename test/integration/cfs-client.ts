// A small HTTP client for the CubeFS master API, with keep-alive connections like the Go SDK.
// https:// URLs (masters with httpTlsCertFile) use the trust set with useTls().
import http from 'node:http';
import https from 'node:https';

export interface CfsReply<T = unknown> {
  readonly status: number;
  /** The parsed envelope, or null when the body is not one (503 text, 400 "no leader"...). */
  readonly envelope: { code: number; msg: string; data: T } | null;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** What https:// requests trust (ca) and present (cert + key, for masters that require client certificates). */
export interface TlsTrust {
  readonly ca: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

let tlsTrust: TlsTrust | undefined;
let httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 256 });

/** Sets the trust of every later https:// request of this process (test-wide, like the shared agent). */
export function useTls(trust: TlsTrust | undefined): void {
  tlsTrust = trust;
  httpsAgent.destroy();
  httpsAgent = newHttpsAgent(256);
}

function newHttpsAgent(maxSockets: number): https.Agent {
  return new https.Agent({ keepAlive: true, maxSockets, ...tlsTrust });
}

/** Keep-alive agents of one's own for both schemes (a workload's connection pool). Destroy both. */
export interface AgentPair {
  readonly http: http.Agent;
  readonly https: https.Agent;
}

export function keepAliveAgents(maxSockets: number): AgentPair {
  return { http: new http.Agent({ keepAlive: true, maxSockets }), https: newHttpsAgent(maxSockets) };
}

export interface RequestOptions {
  readonly timeoutMs?: number;
  readonly method?: 'GET' | 'POST';
  readonly body?: unknown;
  /** For http:// URLs (default: the shared keep-alive agent). */
  readonly agent?: http.Agent;
  /** Agents for either scheme; wins over `agent`. */
  readonly agents?: AgentPair;
}

export function cfsGet<T = unknown>(baseUrl: string, path: string, params: Record<string, string | number | boolean> = {}, options: RequestOptions = {}): Promise<CfsReply<T>> {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return cfsRequest<T>(baseUrl, query === '' ? path : `${path}?${query}`, options);
}

export function cfsRequest<T = unknown>(baseUrl: string, pathAndQuery: string, options: RequestOptions = {}): Promise<CfsReply<T>> {
  const url = new URL(pathAndQuery, baseUrl);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const secure = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(
      url,
      {
        method: options.method ?? (payload === undefined ? 'GET' : 'POST'),
        agent: secure ? (options.agents?.https ?? httpsAgent) : (options.agents?.http ?? options.agent ?? agent),
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          let envelope = null;
          try {
            const parsed = JSON.parse(body) as { code?: unknown };
            if (typeof parsed === 'object' && parsed !== null && typeof parsed.code === 'number') envelope = parsed as CfsReply<T>['envelope'];
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, envelope, body, headers: res.headers });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request ${pathAndQuery} timed out`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export function closeIdleConnections(): void {
  agent.destroy();
  httpsAgent.destroy();
}
