// Replies in the CubeFS shapes (spec 1.1): the `{code,msg,data}` envelope, always HTTP 200, with
// `Content-Type: application/json` and an explicit length; the success body gzip-compressed
// when the request carries `x-cfs-Accept-Encoding: gzip`, marked by `x-cfs-Content-Encoding:
// gzip` (custom header names, proto/header.go; the SDK gunzips on that header, spec 8.2). Error
// envelopes are never compressed (observed: a code-18 reply to a gzip request came plain).
// Non-envelope replies are plain text with a status, as the Go interceptor and mux send them.

import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { assert } from '../util/assert.js';
import { stringifyJson } from '../util/json.js';
import { requestState } from './request-state.js';

const gzipAsync = promisify(gzip);

export const CFS_ACCEPT_ENCODING = 'x-cfs-accept-encoding';
export const CFS_CONTENT_ENCODING = 'X-Cfs-Content-Encoding';
export const SUCCESS_MSG = 'success';
const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';

export interface Envelope {
  readonly code: number;
  readonly msg: string;
  readonly data: unknown;
}

function wantsGzip(request: FastifyRequest): boolean {
  const v = request.headers[CFS_ACCEPT_ENCODING];
  return typeof v === 'string' && v.toLowerCase().includes('gzip');
}

/** A success envelope serialized ahead (a cached reply): a handler returns it, sendOk sends its bytes as they are. */
export class OkBody {
  constructor(readonly bytes: Buffer) {}
}

/** The bytes sendOk writes for `data`. */
export function okEnvelopeBytes(data: unknown): Buffer {
  const envelope: Envelope = { code: 0, msg: SUCCESS_MSG, data: data === undefined ? null : data };
  // 64-bit values (inode ranges, sizes) are bigint in views: written as exact JSON numbers.
  return Buffer.from(stringifyJson(envelope), 'utf8');
}

/**
 * okEnvelopeBytes(data) for objects `data` that differ only in the values of `holes` (top-level
 * keys, in the order `data` has them): the text around those values is serialized once, and
 * `fill` writes the values in (numbers and strings, JSON.stringify'd, as in the whole).
 */
export class OkEnvelopeTemplate {
  /** Bytes before the first hole's value, between the values, after the last: holes.length + 1 parts. */
  private readonly parts: readonly Buffer[];

  constructor(
    data: Readonly<Record<string, unknown>>,
    readonly holes: readonly string[],
  ) {
    // JSON.stringify writes an object as `{` + its members `"key":value`, in key order, without
    // the undefined ones, joined by `,` + `}`; the members between two holes are serialized
    // together (one object each) and cut out of their braces.
    const members = Object.keys(data).filter((k) => data[k] !== undefined);
    const cuts = holes.map((h) => members.indexOf(h));
    assert(cuts.every((c, i) => c >= 0 && (i === 0 || c > cuts[i - 1])), () => `holes ${holes.join(',')} not in the data's key order`);
    const membersText = (from: number, to: number): string => {
      const text = stringifyJson(Object.fromEntries(members.slice(from, to).map((k) => [k, data[k]])));
      return text.slice(1, -1);
    };
    const [head, tail] = stringifyJson({ code: 0, msg: SUCCESS_MSG, data: HOLE } satisfies Envelope).split(JSON.stringify(HOLE));
    // Each part: the members before the next hole, with the commas on both sides of them that
    // the whole would have, then the hole's key.
    const parts: string[] = [];
    let text = `${head}{`;
    let from = 0;
    for (const [i, cut] of cuts.entries()) {
      const before = membersText(from, cut);
      const comma = i > 0 ? ',' : '';
      text += before === '' ? comma : `${comma}${before},`;
      parts.push(`${text}${JSON.stringify(holes[i])}:`);
      text = '';
      from = cut + 1;
    }
    const rest = membersText(from, members.length);
    parts.push(`${text}${rest !== '' && cuts.length > 0 ? ',' : ''}${rest}}${tail}`);
    this.parts = parts.map((part) => Buffer.from(part, 'utf8'));
  }

  /** The envelope with `values` (one per hole, none undefined) in the holes. */
  fill(values: readonly (string | number)[]): Buffer {
    assert(values.length === this.holes.length, 'one value per hole');
    const chunks: Buffer[] = [this.parts[0]];
    for (let i = 0; i < values.length; i++) chunks.push(Buffer.from(JSON.stringify(values[i]), 'utf8'), this.parts[i + 1]);
    return Buffer.concat(chunks);
  }
}

/** Stands for `data` in the envelope's text while the template cuts it out. */
const HOLE = '\u0000hole';

/**
 * `{"code":0,"msg":"success","data":...}`, gzipped on request; an OkBody as it is. Returns a
 * promise only when it gzips (the caller awaits it then): a plain reply is sent at once.
 */
export function sendOk(request: FastifyRequest, reply: FastifyReply, data: unknown): Promise<void> | undefined {
  const state = requestState(request);
  state.code = 0;
  state.outcome = 'envelope';
  const body: Buffer = data instanceof OkBody ? data.bytes : okEnvelopeBytes(data);
  if (wantsGzip(request)) return sendGzipped(reply, body);
  void reply.code(200).type(JSON_TYPE).send(body);
  return undefined;
}

async function sendGzipped(reply: FastifyReply, body: Buffer): Promise<void> {
  const zipped = await gzipAsync(body);
  void reply.header(CFS_CONTENT_ENCODING, 'gzip');
  void reply.code(200).type(JSON_TYPE).send(zipped);
}

/** An error envelope: HTTP 200, `code != 0`, `data: null` (spec 1.1). */
export function sendErrorEnvelope(request: FastifyRequest, reply: FastifyReply, code: number, msg: string): FastifyReply {
  const state = requestState(request);
  state.code = code;
  state.outcome = 'envelope';
  const envelope: Envelope = { code, msg, data: null };
  return reply.code(200).type(JSON_TYPE).send(Buffer.from(JSON.stringify(envelope), 'utf8'));
}

/** A plain-text reply with a status (400 leader/no leader, 429, 502, 503). */
export function sendText(request: FastifyRequest, reply: FastifyReply, status: number, text: string): FastifyReply {
  const state = requestState(request);
  state.code = null;
  state.outcome = 'text';
  return reply.code(status).type(TEXT_TYPE).send(text);
}

/** gorilla/mux NotFound: 404 `text/plain` "404 page not found\n" (curl-samples-errors.txt). */
export function sendNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  void reply.header('X-Content-Type-Options', 'nosniff');
  return sendText(request, reply, 404, '404 page not found\n');
}

/** gorilla/mux MethodNotAllowed: 405 with an empty body and no Content-Type (observed). */
export function sendMethodNotAllowed(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const state = requestState(request);
  state.code = null;
  state.outcome = 'text';
  return reply.code(405).header('content-length', '0').send();
}
