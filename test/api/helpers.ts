// Shared fixtures of the API tests: a master (API server over a FakeGroup member), request
// helpers that decode the envelope, a log recorder, and a shape comparison against the wire
// captures (field names, order and JSON types).

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { pino } from 'pino';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { ApiServer, ApiServerOptions } from '../../src/api/server.js';
import { createApiServer } from '../../src/api/server.js';
import { countingRandom, FakeGroup, FakeRaftControl, fixedClock } from '../cluster/fakes.js';

/** 2026-11-25 18:41:11 UTC: alice's create_time in the wire samples. */
export const T_USERS_MS = Date.UTC(2026, 10, 25, 18, 41, 11);

export interface Envelope {
  code: number;
  msg: string;
  data: unknown;
}

export interface TestMaster {
  readonly api: ApiServer;
  readonly app: FastifyInstance;
  readonly group: FakeGroup;
  readonly raft: FakeRaftControl;
  readonly id: number;
  readonly logs: LogRecord[];
}

export type LogRecord = Record<string, unknown> & { level: number; msg: string };

export function recordingLogger(records: LogRecord[]) {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') records.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  return pino({ level: 'debug' }, stream);
}

export function startMaster(
  group: FakeGroup,
  id: number,
  overrides: Partial<Omit<ApiServerOptions, 'replicator' | 'raft'>> = {},
): TestMaster {
  const logs: LogRecord[] = [];
  const raft = group.raft(id);
  const api = createApiServer({
    replicator: group.replicator(id),
    raft,
    cluster: { clusterName: 'test', selfId: id, selfHttpAddr: group.peers.get(id)?.httpAddr ?? '' },
    logger: recordingLogger(logs),
    clock: fixedClock(T_USERS_MS),
    random: countingRandom(),
    ...overrides,
  });
  return { api, app: api.app, group, raft, id, logs };
}

/** A one-member group (member 1 leads) and its API, for inject tests. */
export function singleMaster(overrides: Partial<Omit<ApiServerOptions, 'replicator' | 'raft'>> = {}): TestMaster {
  const group = new FakeGroup([1], 1);
  group.setHttpAddr(1, '127.0.0.1:17010');
  return startMaster(group, 1, overrides);
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | number | undefined>;
  readonly text: string;
  readonly raw: Buffer;
  /** The decoded envelope (throws when the body is not one). */
  readonly envelope: Envelope;
}

export async function call(app: FastifyInstance, options: InjectOptions | string): Promise<Answer> {
  const res = await app.inject(options);
  return answer(res.statusCode, res.headers, res.rawPayload);
}

export function answer(status: number, headers: Answer['headers'], raw: Buffer): Answer {
  const text = raw.toString('utf8');
  return {
    status,
    headers,
    text,
    raw,
    get envelope(): Envelope {
      assert.equal(status, 200, `expected HTTP 200 with an envelope, got ${status}: ${text}`);
      assert.match(String(headers['content-type']), /^application\/json/);
      const parsed = JSON.parse(text) as Envelope;
      assert.deepEqual(Object.keys(parsed), ['code', 'msg', 'data'], 'envelope keys in CubeFS order');
      return parsed;
    },
  };
}

/** Asserts `{code:0,msg:"success"}` and returns data. */
export async function ok(app: FastifyInstance, options: InjectOptions | string): Promise<unknown> {
  const env = (await call(app, options)).envelope;
  assert.equal(env.code, 0, `expected success, got ${env.code}: ${env.msg}`);
  assert.equal(env.msg, 'success');
  return env.data;
}

/** Asserts an error envelope with `code` (data null) and returns msg. */
export async function fails(app: FastifyInstance, options: InjectOptions | string, code: number): Promise<string> {
  const env = (await call(app, options)).envelope;
  assert.equal(env.code, code, `expected code ${code}, got ${env.code}: ${env.msg}`);
  assert.equal(env.data, null);
  return env.msg;
}

export function postJson(url: string, body: unknown): InjectOptions {
  return { method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) };
}

/** Same keys in the same order, recursively, and the same JSON type for every value. */
export function assertSameShape(actual: unknown, expected: unknown, path = 'data'): void {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  assert.equal(kind(actual), kind(expected), `${path}: type`);
  if (Array.isArray(actual) && Array.isArray(expected)) {
    if (actual.length > 0 && expected.length > 0) assertSameShape(actual[0], expected[0], `${path}[0]`);
    return;
  }
  if (kind(actual) === 'object') {
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    assert.deepEqual(Object.keys(a), Object.keys(e), `${path}: keys`);
    for (const k of Object.keys(e)) assertSameShape(a[k], e[k], `${path}.${k}`);
  }
}

/** The data of a captured reply body (test/model/wire-samples.ts). */
export function wireData(sample: string): unknown {
  return (JSON.parse(sample) as Envelope).data;
}

export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as AddressInfo;
  return `127.0.0.1:${address.port}`;
}

/** Sends `request` bytes as is on a fresh connection and reads the reply until the server closes. */
export function rawHttp(addr: string, request: Buffer | string): Promise<Answer> {
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(head[0]?.split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve(answer(status, headers, all.subarray(end + 4)));
    });
  });
}
