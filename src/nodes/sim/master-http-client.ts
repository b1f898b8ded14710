// How a node talks to the masters, after the Go SDK's MasterClient.serveRequest
// (sdk/master/client.go; spec/node-protocol.md 1, spec/wire/README.md):
// - try the remembered leader first, then every configured master in order;
// - a transport error or an HTTP status other than 200 -> try the next host;
// - HTTP 200 -> that host is remembered as the leader; the {code,msg,data} envelope with
//   code != 0 is an error of the call (no other host is tried);
// - every request: User-Agent cubefs-sdk/…, Connection: close, Content-Type application/json,
//   Accept-Encoding gzip, one TCP connection per request.
// (The SDK re-runs the whole request on a 403 whose body names a master; a master that forwards
// to its leader, as ours does, never sends one, so here a 403 is just "try the next host".)

import { CubeCode, OperatingError } from '../../util/errors.js';
import { parseJsonExact } from '../../util/json.js';
import { httpCall, type HttpCallOptions } from './http-call.js';

export const SIM_USER_AGENT = 'cubefs-sdk/cubemaster-sim (commit sim)';

/** The master answered with an envelope whose code is not 0. */
export class MasterApiError extends OperatingError {
  readonly masterAddr: string;
  constructor(code: number, message: string, masterAddr: string) {
    super(code, message);
    this.masterAddr = masterAddr;
  }
}

/** No master answered with HTTP 200 (each error is in `cause`). */
export class MasterUnreachableError extends OperatingError {
  constructor(message: string, options: { readonly cause?: unknown } = {}) {
    super(CubeCode.InternalError, message, options);
  }
}

export interface MasterHttpClientOptions {
  readonly masterAddrs: readonly string[];
  readonly requestTimeoutMs?: number;
  readonly maxResponseBytes?: number;
  readonly userAgent?: string;
  /** HTTPS (real CubeFS nodes speak plain HTTP; this is for masters with httpTlsCertFile). */
  readonly tls?: HttpCallOptions['tls'];
}

export class MasterHttpClient {
  private readonly masterAddrs: readonly string[];
  private readonly requestTimeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly userAgent: string;
  private readonly tls: HttpCallOptions['tls'];
  private leader: string | null = null;
  /** Aborted by close(): every request in flight ends at once. */
  private readonly lifetime = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(o: MasterHttpClientOptions) {
    if (o.masterAddrs.length === 0) throw new TypeError('MasterHttpClient: at least one master address');
    this.masterAddrs = [...o.masterAddrs];
    this.requestTimeoutMs = o.requestTimeoutMs ?? 5_000;
    this.maxResponseBytes = o.maxResponseBytes ?? 16 << 20;
    this.userAgent = o.userAgent ?? SIM_USER_AGENT;
    this.tls = o.tls;
  }

  /** The master that last answered with HTTP 200. */
  get leaderAddr(): string | null {
    return this.leader;
  }

  /** GET `pathAndQuery`; resolves with the envelope's `data` (parsed 64-bit exact). */
  get(pathAndQuery: string): Promise<unknown> {
    return this.track(this.serve('GET', pathAndQuery, undefined));
  }

  /** POST a JSON body; resolves with the envelope's `data`. */
  post(pathAndQuery: string, jsonBody: string): Promise<unknown> {
    return this.track(this.serve('POST', pathAndQuery, Buffer.from(jsonBody, 'utf8')));
  }

  /** Aborts every request in flight and waits for them to end; later calls fail at once. */
  async close(): Promise<void> {
    this.lifetime.abort(new Error('master client closed'));
    await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const forget = (): void => {
      this.inFlight.delete(p);
    };
    p.then(forget, forget);
    return p;
  }

  private async serve(method: 'GET' | 'POST', path: string, body: Buffer | undefined): Promise<unknown> {
    const hosts = this.leader === null ? this.masterAddrs : [this.leader, ...this.masterAddrs];
    const errors: Error[] = [];
    for (const host of hosts) {
      if (this.lifetime.signal.aborted) throw new MasterUnreachableError(`${method} ${path}: client closed`);
      let res;
      try {
        res = await httpCall({
          addr: host,
          method,
          path,
          body,
          headers: { 'User-Agent': this.userAgent, Connection: 'close', 'Content-Type': 'application/json', 'Accept-Encoding': 'gzip' },
          timeoutMs: this.requestTimeoutMs,
          maxResponseBytes: this.maxResponseBytes,
          signal: this.lifetime.signal,
          tls: this.tls,
        });
      } catch (e) {
        errors.push(e instanceof Error ? e : new Error(String(e)));
        continue;
      }
      if (res.status !== 200) {
        errors.push(new Error(`${host}: HTTP ${res.status} ${res.body.toString('utf8').slice(0, 200)}`));
        continue;
      }
      this.leader = host;
      return this.unwrap(host, path, res.body.toString('utf8'));
    }
    throw new MasterUnreachableError(`${method} ${path}: no master answered (${errors.map((e) => e.message).join('; ')})`, { cause: errors });
  }

  private unwrap(host: string, path: string, text: string): unknown {
    let envelope: unknown;
    try {
      envelope = parseJsonExact(text);
    } catch {
      throw new MasterApiError(CubeCode.InternalError, `${path}: reply from ${host} is not JSON: ${text.slice(0, 200)}`, host);
    }
    if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
      throw new MasterApiError(CubeCode.InternalError, `${path}: reply from ${host} is not an envelope`, host);
    }
    const { code, msg, data } = envelope as { code?: unknown; msg?: unknown; data?: unknown };
    if (typeof code !== 'number') throw new MasterApiError(CubeCode.InternalError, `${path}: reply from ${host} has no numeric code`, host);
    if (code !== CubeCode.Success) throw new MasterApiError(code, typeof msg === 'string' ? msg : `code ${code}`, host);
    return data;
  }
}
