// The cfs-cli wire captures (shared/spec/wire/cli-vs-*.jsonl) as replayable exchanges: read the
// file, send one captured request as cfs-cli sent it (same method, path + query, headers, body,
// a fresh connection each), decode both replies (the X-Cfs-Content-Encoding gzip marker), and
// list every difference between them: status, content type, gzip marker, envelope code, `msg`
// (exact after the listed normalizations), and for code 0 the `data` shape (keys in order, JSON
// types, array lengths, recursively; element by element).

import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { readJsonl } from '../nodes/capture.js';

interface RawSide {
  readonly headers: readonly string[];
  readonly body: { readonly text?: string; readonly base64?: string };
}

interface RawLine {
  readonly marker?: string;
  readonly seq?: number;
  readonly request?: RawSide & { readonly method: string; readonly url: string };
  readonly response?: RawSide & { readonly status: number };
  readonly proxyError?: string;
}

export interface Exchange {
  /** The capture's seq (unique among answered exchanges; the proxy numbers refused ones apart). */
  readonly seq: number;
  /** The cfs-cli command this request belongs to (the capture's marker line). */
  readonly command: string;
  readonly method: string;
  readonly url: string;
  /** The Host header: which proxy port (which master) cfs-cli sent it to. */
  readonly host: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** null: no master answered (the proxy could not connect). */
  readonly response: Reply | null;
  readonly proxyError: string | null;
}

export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Gunzipped when marked with X-Cfs-Content-Encoding: gzip. */
  readonly text: string;
  readonly gzipped: boolean;
}

function pairs(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) out[raw[i].toLowerCase()] = raw[i + 1];
  return out;
}

function bodyBytes(body: RawSide['body']): Buffer {
  if (body.base64 !== undefined) return Buffer.from(body.base64, 'base64');
  return Buffer.from(body.text ?? '', 'utf8');
}

function decodeReply(status: number, headers: Record<string, string>, raw: Buffer): Reply {
  const gzipped = (headers['x-cfs-content-encoding'] ?? '').toLowerCase() === 'gzip';
  return { status, headers, text: (gzipped ? gunzipSync(raw) : raw).toString('utf8'), gzipped };
}

/** Every request line of `shared/spec/wire/<name>`, in capture order. */
export function loadCapture(name: string): Exchange[] {
  const out: Exchange[] = [];
  let command = '';
  for (const line of readJsonl<RawLine>(`wire/${name}`)) {
    if (line.marker !== undefined) {
      command = line.marker;
      continue;
    }
    const req = line.request;
    if (req === undefined || line.seq === undefined) continue;
    const headers = pairs(req.headers);
    const res = line.response;
    out.push({
      seq: line.seq,
      command,
      method: req.method,
      url: req.url,
      host: headers.host ?? '',
      headers,
      body: bodyBytes(req.body),
      response: res === undefined ? null : decodeReply(res.status, pairs(res.headers), bodyBytes(res.body)),
      proxyError: line.proxyError ?? null,
    });
  }
  return out;
}

/** The exchange's request, sent to `addr` on a fresh connection; rejects on a connection error. */
export function send(addr: string, ex: Pick<Exchange, 'method' | 'url' | 'headers' | 'body'>, timeoutMs = 10_000): Promise<Reply> {
  const colon = addr.lastIndexOf(':');
  const headers: Record<string, string> = {};
  // Host and Content-Length are the transport's own; every other header as cfs-cli sent it.
  for (const [k, v] of Object.entries(ex.headers)) if (k !== 'host' && k !== 'content-length') headers[k] = v;
  if (ex.method !== 'GET' || ex.body.length > 0) headers['content-length'] = String(ex.body.length);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: addr.slice(0, colon), port: Number(addr.slice(colon + 1)), path: ex.url, method: ex.method, headers, agent: false, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
          try {
            resolve(decodeReply(res.statusCode ?? 0, h, Buffer.concat(chunks)));
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no reply from ${addr} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(ex.body);
  });
}

export interface Envelope {
  readonly code: number;
  readonly msg: string;
  readonly data: unknown;
}

function envelopeOf(text: string): Envelope | null {
  try {
    const v = JSON.parse(text) as unknown;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && 'code' in v && 'msg' in v && 'data' in v) return v as Envelope;
  } catch {
    // not JSON: compared as text
  }
  return null;
}

/**
 * Text normalizations applied to both sides of every `msg` and string `data` before comparing:
 * - host:port addresses become `<addr>` (the client's port in "delete vol[..] successfully,
 *   from[127.0.0.1:43738]", node and master addresses): they are the test's own ports.
 */
export const GLOBAL_NORMALIZERS: readonly (readonly [RegExp, string])[] = [[/\b\d{1,3}(?:\.\d{1,3}){3}:\d+\b/g, '<addr>']];

export interface CompareOptions {
  /** More [pattern, replacement] pairs for `msg` and string `data`, on both sides. */
  readonly normalize?: readonly (readonly [RegExp, string])[];
  /** `data` paths (e.g. `data.VolStatInfo`) whose array length may differ; elements still compared. */
  readonly anyLength?: readonly string[];
  /** `data` paths not compared at all. */
  readonly ignore?: readonly string[];
}

function normalizeText(s: string, extra: CompareOptions['normalize']): string {
  let out = s;
  for (const [re, to] of [...GLOBAL_NORMALIZERS, ...(extra ?? [])]) out = out.replace(re, to);
  return out;
}

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Same keys in the same order, same JSON types, same array lengths, recursively; differences as text. */
export function shapeDiffs(actual: unknown, expected: unknown, path: string, o: CompareOptions, out: string[]): void {
  if (o.ignore?.includes(path) === true) return;
  const [ka, ke] = [kind(actual), kind(expected)];
  if (ka !== ke) {
    out.push(`${path}: ${ke} expected, got ${ka} (${JSON.stringify(actual)?.slice(0, 120)})`);
    return;
  }
  if (Array.isArray(actual) && Array.isArray(expected)) {
    if (actual.length !== expected.length && o.anyLength?.includes(path) !== true) {
      out.push(`${path}: ${expected.length} elements expected, got ${actual.length}`);
    }
    if (expected.length === 0) return;
    actual.forEach((a, i) => shapeDiffs(a, expected[Math.min(i, expected.length - 1)], `${path}[${i}]`, o, out));
    return;
  }
  if (ka === 'object') {
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    const [keysA, keysE] = [Object.keys(a), Object.keys(e)];
    if (keysA.join(',') !== keysE.join(',')) {
      const missing = keysE.filter((k) => !(k in a));
      const extra = keysA.filter((k) => !(k in e));
      out.push(`${path}: keys differ${missing.length > 0 ? `; missing ${missing.join(',')}` : ''}${extra.length > 0 ? `; extra ${extra.join(',')}` : ''}${missing.length + extra.length === 0 ? '; order' : ''}`);
    }
    for (const k of keysE) if (k in a) shapeDiffs(a[k], e[k], `${path}.${k}`, o, out);
  }
}

/** Every difference between our reply and the captured one (empty: they match). */
export function replyDiffs(actual: Reply, expected: Reply, o: CompareOptions = {}): string[] {
  const out: string[] = [];
  if (actual.status !== expected.status) out.push(`status: ${expected.status} expected, got ${actual.status}`);
  const ctype = (r: Reply) => (r.headers['content-type'] ?? '').split(';')[0].trim();
  if (ctype(actual) !== ctype(expected)) out.push(`content-type: ${ctype(expected)} expected, got ${ctype(actual)}`);
  if (actual.gzipped !== expected.gzipped) out.push(`X-Cfs-Content-Encoding gzip: ${expected.gzipped} expected, got ${actual.gzipped}`);
  // Go writes an explicit length, and closes the connection as cfs-cli asks (Connection: close).
  for (const h of ['content-length', 'connection']) {
    if ((h in actual.headers) !== (h in expected.headers)) out.push(`header ${h}: ${h in expected.headers ? 'expected' : 'not expected'}, ours ${actual.headers[h] ?? 'absent'}`);
  }
  if ((actual.headers.connection ?? '').toLowerCase() !== (expected.headers.connection ?? '').toLowerCase()) {
    out.push(`header connection: ${expected.headers.connection} expected, got ${actual.headers.connection}`);
  }
  const [ea, ee] = [envelopeOf(actual.text), envelopeOf(expected.text)];
  if (ee === null || ea === null) {
    if ((ee === null) !== (ea === null) || normalizeText(actual.text, o.normalize) !== normalizeText(expected.text, o.normalize)) {
      out.push(`body: ${JSON.stringify(expected.text.slice(0, 200))} expected, got ${JSON.stringify(actual.text.slice(0, 200))}`);
    }
    return out;
  }
  if (Object.keys(ea).join(',') !== 'code,msg,data') out.push(`envelope keys: code,msg,data expected, got ${Object.keys(ea).join(',')}`);
  if (ea.code !== ee.code) {
    out.push(`code: ${ee.code} (${JSON.stringify(ee.msg)}) expected, got ${ea.code} (${JSON.stringify(ea.msg)})`);
    return out;
  }
  const [ma, me] = [normalizeText(ea.msg, o.normalize), normalizeText(ee.msg, o.normalize)];
  if (ma !== me) out.push(`msg: ${JSON.stringify(ee.msg)} expected, got ${JSON.stringify(ea.msg)}`);
  if (ee.code !== 0) {
    if (ea.data !== ee.data) out.push(`data: ${JSON.stringify(ee.data)} expected, got ${JSON.stringify(ea.data)?.slice(0, 200)}`);
    return out;
  }
  // A success whose data is a message: the text itself is what cfs-cli prints.
  if (typeof ee.data === 'string' && typeof ea.data === 'string') {
    const [da, de] = [normalizeText(ea.data, o.normalize), normalizeText(ee.data, o.normalize)];
    if (da !== de) out.push(`data: ${JSON.stringify(ee.data)} expected, got ${JSON.stringify(ea.data)}`);
    return out;
  }
  shapeDiffs(ea.data, ee.data, 'data', o, out);
  return out;
}

/**
 * Scalar values that differ (informational: many legitimately do, being times, keys, ids, ports
 * or counters), as `path: Go -> ours`; run the replay with WIRE_REPLAY_VALUES=1 to print them.
 */
export function valueDiffs(actual: unknown, expected: unknown, path = 'data', out: string[] = []): string[] {
  if (kind(actual) !== kind(expected)) return out;
  if (Array.isArray(actual) && Array.isArray(expected)) {
    for (let i = 0; i < Math.min(actual.length, expected.length); i++) valueDiffs(actual[i], expected[i], `${path}[${i}]`, out);
  } else if (kind(actual) === 'object') {
    const a = actual as Record<string, unknown>;
    for (const [k, v] of Object.entries(expected as Record<string, unknown>)) if (k in a) valueDiffs(a[k], v, `${path}.${k}`, out);
  } else if (actual !== expected) {
    out.push(`${path}: ${JSON.stringify(expected)} -> ${JSON.stringify(actual)}`);
  }
  return out;
}
