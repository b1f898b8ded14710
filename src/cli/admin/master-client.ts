// The admin CLI's client of the master HTTP API. It finds a master that answers the way the Go
// SDK does (spec/cubefs-master.md 8.2): the last master that answered 200 first, then every
// configured one in order; a connection error or any status but 200 moves on to the next (a
// 400 whose body names the leader puts that address next); when every one failed, the last
// errors are reported (exit 3). Followers forward writes to the leader themselves, so any live
// member will do. cubemaster's privileged routes are signed with the root user's keys
// (src/api/root-auth.ts); the keys are never printed.
import http from 'node:http';
import { signRequest } from '../../api/root-auth.js';
import { parseJsonExact } from '../../util/json.js';
import { AuthError, RefusedError, UnreachableError, UsageError } from './errors.js';

/** CubeFS NoPermission: what a signed route answers a bad or missing signature with. */
const CODE_NO_PERMISSION = 57;
/** Bound on an error body kept for the message. */
const ERROR_BODY_MAX_BYTES = 4096;
/** Bound on an envelope body (a /client/partitions of a big vol is a few MB). */
const ENVELOPE_MAX_BYTES = 256 * 1024 * 1024;

export interface Credentials {
  readonly accessKey: string;
  readonly secretKey: string;
}

export interface MasterClientOptions {
  /** host:port of every master to try, in order. */
  readonly masters: readonly string[];
  /** Bound on one attempt against one master (connect to last byte). */
  readonly timeoutMs: number;
  readonly credentials: Credentials | null;
}

export interface CallOptions {
  readonly method?: 'GET' | 'POST';
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** JSON body (user routes). */
  readonly body?: unknown;
  /** Sign with the root user's keys (cubemaster's own operator routes). */
  readonly signed?: boolean;
  /** Ask this member only (host:port), without looking for another. */
  readonly member?: string;
  readonly timeoutMs?: number;
}

export interface OpenStream {
  readonly member: string;
  readonly response: http.IncomingMessage;
}

export class MasterClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  private preferred: string | null = null;

  constructor(private readonly options: MasterClientOptions) {
    if (options.masters.length === 0) throw new UsageError('--masters is empty');
  }

  get masters(): readonly string[] {
    return this.options.masters;
  }

  /** Calls `route` and returns the envelope's `data` (64-bit integers exact, as bigint). */
  async call<T = unknown>(route: string, options: CallOptions = {}): Promise<T> {
    const { member, response } = await this.open(route, options);
    return envelopeData<T>(member, route, await readBody(response, ENVELOPE_MAX_BYTES), options.signed === true);
  }

  /**
   * The first 200 answer to `route` from a member, its body unread (a stream the caller
   * consumes or destroys).
   */
  async open(route: string, options: CallOptions = {}): Promise<OpenStream> {
    // Missing keys are the caller's problem, not a master's: refuse before trying any.
    if (options.signed === true) this.keys();
    const failures: string[] = [];
    const order = options.member !== undefined ? [options.member] : this.order();
    for (let i = 0; i < order.length; i++) {
      const member = order[i];
      let response: http.IncomingMessage;
      try {
        response = await this.send(member, route, options);
      } catch (error) {
        failures.push(`${member}: ${(error as Error).message}`);
        continue;
      }
      if (response.statusCode === 200) {
        this.preferred = member;
        return { member, response };
      }
      const body = (await readBody(response, ERROR_BODY_MAX_BYTES).catch(() => '')).trim();
      failures.push(`${member}: HTTP ${response.statusCode}${body === '' ? '' : ` ${body.slice(0, 200)}`}`);
      // A follower that cannot forward names the leader (spec 2): try it next.
      if (response.statusCode === 400 && /^[\w.-]+:\d+$/.test(body) && !order.slice(i + 1).includes(body) && options.member === undefined) {
        order.splice(i + 1, 0, body);
      }
    }
    throw new UnreachableError(`no master answered ${route}: ${failures.join('; ')}`);
  }

  /** Releases the keep-alive connections; the process can then exit at once. */
  close(): void {
    this.agent.destroy();
  }

  private order(): string[] {
    const all = [...this.options.masters];
    if (this.preferred === null || !all.includes(this.preferred)) return this.preferred === null ? all : [this.preferred, ...all];
    return [this.preferred, ...all.filter((m) => m !== this.preferred)];
  }

  private send(member: string, route: string, options: CallOptions): Promise<http.IncomingMessage> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) query.set(k, String(v));
    const qs = query.toString();
    const pathAndQuery = qs === '' ? route : `${route}?${qs}`;
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body), 'utf8');
    const method = options.method ?? (body === undefined ? 'GET' : 'POST');
    const headers: Record<string, string> = { 'user-agent': 'cubemaster-cli' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(body.byteLength);
    }
    if (options.signed === true) Object.assign(headers, signRequest({ method, pathAndQuery, body }, ...this.keys(), Date.now()));
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    return new Promise((resolve, reject) => {
      const request = http.request(`http://${member}${pathAndQuery}`, { method, headers, agent: this.agent, timeout: timeoutMs }, (response) => {
        // The timeout bounds the wait for the answer's head; a stream's body has its own bound.
        request.setTimeout(0);
        resolve(response);
      });
      request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      request.on('error', (error: NodeJS.ErrnoException) => reject(new Error(error.code ?? error.message)));
      request.end(body);
    });
  }

  private keys(): [string, string] {
    const c = this.options.credentials;
    if (c === null) {
      throw new AuthError(
        "this command needs the root user's keys: --access-key and --secret-key, or CUBEMASTER_ACCESS_KEY and CUBEMASTER_SECRET_KEY (the root user's keys: `cubemaster user info root --show-keys`)",
      );
    }
    return [c.accessKey, c.secretKey];
  }
}

/** The `data` of an envelope; code != 0 becomes RefusedError (AuthError for a refused signature). */
export function envelopeData<T>(member: string, route: string, text: string, signed: boolean): T {
  let envelope: { code?: unknown; msg?: unknown; data?: unknown };
  try {
    envelope = parseJsonExact(text) as typeof envelope;
  } catch {
    throw new UnreachableError(`${member}${route}: answered 200 without a JSON envelope: ${text.slice(0, 200)}`);
  }
  const code = Number(envelope.code);
  if (code !== 0) {
    const msg = typeof envelope.msg === 'string' ? envelope.msg : '';
    if (signed && code === CODE_NO_PERMISSION) throw new AuthError(`${route}: the master refused the root signature: ${msg}`);
    throw new RefusedError(code, msg, route);
  }
  return envelope.data as T;
}

/** The whole body as text, refusing more than `maxBytes`. */
export function readBody(response: http.IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        response.destroy(new Error(`answer larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
    response.on('aborted', () => reject(new Error('connection closed mid-answer')));
  });
}
