// Follower -> leader forwarding (spec 2, step 5): the request is replayed to the leader's HTTP
// address with the same method, path, raw query, body and headers, and the leader's reply is
// passed back as is; the client never sees a redirect (CubeFS: httputil.ReverseProxy). Unlike
// the Go proxy, a forwarded request is marked, and a member never forwards a marked request
// again, so two members that disagree about the leader cannot bounce a request between them.
//
// With HTTPS on (the members' API is TLS), forwards go over https: the leader's certificate is
// verified against `tls.ca` (default: Node's CA store) and its host name, and the member presents
// its own certificate, for leaders that require client certificates.
//
// Bounded: one keep-alive agent owned by the API server (bounded sockets, destroyed on close),
// a deadline per forward, a cap on the bytes of the leader's reply. Failures to reach the
// leader become 502, as the Go proxy answers, which the SDK treats as "try the next master".

import http from 'node:http';
import https from 'node:https';
import type { FastifyRequest } from 'fastify';
import { OperatingError, CubeCode } from '../util/errors.js';
import { requestState } from './request-state.js';

/** Set on a forwarded request to the forwarding member's id; such a request is never forwarded again. */
export const FORWARDED_BY_HEADER = 'x-cubemaster-forwarded-by';

export interface ForwardOptions {
  /** Deadline of one forward, connect to last byte of the reply. Default 30 s (the SDK's timeout). */
  readonly timeoutMs?: number;
  /** Cap on the leader's reply body; a larger one fails the forward. Default 64 MiB. */
  readonly maxResponseBytes?: number;
  /** Keep-alive sockets to the leader. Default 64. */
  readonly maxSockets?: number;
  /** The members serve HTTPS: forward over TLS with these (PEM: ca to verify the leader, cert + key to present). */
  readonly tls?: { readonly ca?: string | Buffer; readonly cert?: string | Buffer; readonly key?: string | Buffer };
}

export const DEFAULT_FORWARD_TIMEOUT_MS = 30_000;
export const DEFAULT_FORWARD_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_FORWARD_MAX_SOCKETS = 64;

/** The leader could not be reached or did not answer in time: HTTP 502. */
export class ForwardError extends OperatingError {
  constructor(
    readonly leaderAddr: string,
    detail: string,
  ) {
    super(CubeCode.InternalError, `forward to leader ${leaderAddr} failed: ${detail}`);
  }
}

export interface ForwardedReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;
}

// Hop-by-hop headers (RFC 9110 7.6.1) and the ones we recompute.
const DROP_REQUEST_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'transfer-encoding',
  'te',
  'trailer',
  'expect',
  'upgrade',
  'host',
  'content-length',
  'content-type',
  'x-forwarded-for',
  FORWARDED_BY_HEADER,
]);
const DROP_REPLY_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'trailer', 'upgrade', 'content-length', 'date']);

export class LeaderForwarder {
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(
    private readonly selfId: number,
    options: ForwardOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_FORWARD_MAX_RESPONSE_BYTES;
    // Node honours the leader's `Keep-Alive: timeout=N` hint for idle sockets (minus 1 s), so an
    // idle socket is dropped here before the leader closes it.
    const agentOptions: http.AgentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? DEFAULT_FORWARD_MAX_SOCKETS,
      maxFreeSockets: Math.min(16, options.maxSockets ?? DEFAULT_FORWARD_MAX_SOCKETS),
      scheduling: 'lifo',
    };
    if (options.tls === undefined) {
      this.agent = new http.Agent(agentOptions);
      this.request = http.request;
    } else {
      this.agent = new https.Agent({ ...agentOptions, ...options.tls, minVersion: 'TLSv1.2' });
      this.request = https.request;
    }
  }

  /** Closes every pooled socket; forwards still running fail. */
  close(): void {
    this.agent.destroy();
  }

  /**
   * Replays `request` to `leaderAddr` (host:port of its HTTP API). `extraHeaders` travel with
   * it (e.g. the member that should take leadership). Rejects with ForwardError.
   */
  async forward(request: FastifyRequest, leaderAddr: string, extraHeaders: Readonly<Record<string, string>> = {}): Promise<ForwardedReply> {
    const state = requestState(request);
    const signal = AbortSignal.any([state.signal, AbortSignal.timeout(this.timeoutMs)]);
    const body = Buffer.isBuffer(request.body) ? request.body : undefined;
    const headers = this.headersFor(request, state.originalContentType, body, extraHeaders);
    try {
      return await this.send(leaderAddr, request.method, request.raw.url ?? '/', headers, body, signal, true);
    } catch (e) {
      if (e instanceof ForwardError) throw e;
      const detail = signal.aborted && !state.signal.aborted ? `no reply within ${this.timeoutMs} ms` : errorText(e);
      throw new ForwardError(leaderAddr, detail);
    }
  }

  private headersFor(
    request: FastifyRequest,
    contentType: string | undefined,
    body: Buffer | undefined,
    extraHeaders: Readonly<Record<string, string>>,
  ): http.OutgoingHttpHeaders {
    const out: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined && !DROP_REQUEST_HEADERS.has(name)) out[name] = value;
    }
    if (contentType !== undefined) out['content-type'] = contentType;
    if (body !== undefined) out['content-length'] = String(body.length);
    // As httputil.ReverseProxy: append the client to X-Forwarded-For (getIp honours it, spec 1.5).
    const prior = request.headers['x-forwarded-for'];
    const client = request.socket.remoteAddress ?? '';
    out['x-forwarded-for'] = prior === undefined || prior === '' ? client : `${String(prior)}, ${client}`;
    out['x-request-id'] = request.id;
    out[FORWARDED_BY_HEADER] = String(this.selfId);
    for (const [name, value] of Object.entries(extraHeaders)) out[name.toLowerCase()] = value;
    return out;
  }

  private send(
    leaderAddr: string,
    method: string,
    path: string,
    headers: http.OutgoingHttpHeaders,
    body: Buffer | undefined,
    signal: AbortSignal,
    mayRetry: boolean,
  ): Promise<ForwardedReply> {
    const { host, port } = splitHostPort(leaderAddr);
    return new Promise<ForwardedReply>((resolve, reject) => {
      const req = this.request({ host, port, method, path, headers, agent: this.agent, signal }, (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > this.maxResponseBytes) {
            res.destroy(new ForwardError(leaderAddr, `reply larger than ${this.maxResponseBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('close', () => {
          if (!res.complete) reject(new ForwardError(leaderAddr, 'the leader closed the connection mid-reply'));
        });
        res.on('end', () => {
          const replyHeaders: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined && !DROP_REPLY_HEADERS.has(name)) replyHeaders[name] = value;
          }
          resolve({ status: res.statusCode ?? 502, headers: replyHeaders, body: Buffer.concat(chunks, bytes) });
        });
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        // A pooled socket the leader closed while idle fails before the request reached it:
        // safe to send once more on a fresh socket.
        if (mayRetry && req.reusedSocket && e.code === 'ECONNRESET' && !signal.aborted) {
          this.send(leaderAddr, method, path, headers, body, signal, false).then(resolve, reject);
          return;
        }
        reject(e);
      });
      req.end(body);
    });
  }
}

/** "host:port" or "[v6]:port". */
export function splitHostPort(addr: string): { host: string; port: number } {
  const colon = addr.lastIndexOf(':');
  let host = colon < 0 ? addr : addr.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = colon < 0 ? 80 : Number(addr.slice(colon + 1));
  return { host, port };
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === undefined ? e.message : `${code}: ${e.message}`;
  }
  return String(e);
}
