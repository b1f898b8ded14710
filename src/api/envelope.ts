// Replies in the CubeFS shapes (spec 1.1): the `{code,msg,data}` envelope, always HTTP 200, with
// `Content-Type: application/json` and an explicit length; the success body gzip-compressed
// when the request carries `x-cfs-Accept-Encoding: gzip`, marked by `x-cfs-Content-Encoding:
// gzip` (custom header names, proto/header.go; the SDK gunzips on that header, spec 8.2). Error
// envelopes are never compressed (observed: a code-18 reply to a gzip request came plain).
// Non-envelope replies are plain text with a status, as the Go interceptor and mux send them.

import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
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

/** `{"code":0,"msg":"success","data":...}`, gzipped on request. */
export async function sendOk(request: FastifyRequest, reply: FastifyReply, data: unknown): Promise<void> {
  const state = requestState(request);
  state.code = 0;
  state.outcome = 'envelope';
  const envelope: Envelope = { code: 0, msg: SUCCESS_MSG, data: data === undefined ? null : data };
  // 64-bit values (inode ranges, sizes) are bigint in views: written as exact JSON numbers.
  let body: Buffer = Buffer.from(stringifyJson(envelope), 'utf8');
  if (wantsGzip(request)) {
    body = await gzipAsync(body);
    void reply.header(CFS_CONTENT_ENCODING, 'gzip');
  }
  void reply.code(200).type(JSON_TYPE).send(body);
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
