// One HTTP/1.1 exchange on its own connection (agent: false, `Connection: close`), as the Go SDK
// does for every node -> master call (spec/node-protocol.md 1). Bounded: a deadline for the
// whole exchange, a cap on the response size, and an AbortSignal the owner aborts on close.

import http from 'node:http';
import https from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { gunzipSync } from 'node:zlib';

export interface HttpCallOptions {
  /** host:port of the master. */
  readonly addr: string;
  readonly method: 'GET' | 'POST';
  /** Path and raw query, e.g. "/metaNode/add?addr=127.0.0.1:17210&zoneName=". */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly signal: AbortSignal;
  /** HTTPS with these options (ca, cert, key); absent: plain HTTP, as real nodes speak. */
  readonly tls?: Pick<ConnectionOptions, 'ca' | 'cert' | 'key'>;
}

export interface HttpCallResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The body, gunzipped when the master marked it (Content-Encoding or X-Cfs-Content-Encoding). */
  readonly body: Buffer;
}

/** Rejects with an Error on transport failure, timeout, abort or an oversized body. */
export function httpCall(o: HttpCallOptions): Promise<HttpCallResult> {
  return new Promise<HttpCallResult>((resolve, reject) => {
    const colon = o.addr.lastIndexOf(':');
    const host = o.addr.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const port = Number(o.addr.slice(colon + 1));
    let settled = false;
    const headers: Record<string, string> = { ...o.headers };
    if (o.body !== undefined) headers['Content-Length'] = String(o.body.length);
    const target = { host, port, method: o.method, path: o.path, headers, agent: false, signal: o.signal } as const;
    const req = o.tls === undefined ? http.request(target) : https.request({ ...target, ...o.tls });
    const finish = (error: Error | null, result?: HttpCallResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error !== null) {
        req.destroy();
        reject(error);
      } else if (result !== undefined) resolve(result);
    };
    const timer = setTimeout(() => finish(new Error(`${o.method} ${o.tls === undefined ? 'http' : 'https'}://${o.addr}${o.path}: no response within ${o.timeoutMs} ms`)), o.timeoutMs);
    req.on('error', (err) => finish(err));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > o.maxResponseBytes) {
          finish(new Error(`${o.method} ${o.tls === undefined ? 'http' : 'https'}://${o.addr}${o.path}: response larger than ${o.maxResponseBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err) => finish(err));
      res.on('end', () => {
        let body = Buffer.concat(chunks);
        const encoding = String(res.headers['x-cfs-content-encoding'] ?? res.headers['content-encoding'] ?? '');
        if (encoding === 'gzip') {
          try {
            body = gunzipSync(body, { maxOutputLength: o.maxResponseBytes });
          } catch (e) {
            finish(e instanceof Error ? e : new Error(String(e)));
            return;
          }
        }
        finish(null, { status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.end(o.body);
  });
}
