// Limits on client input (src/api/limits.ts, docs/limits.md): each refused with a clear error
// naming the limit (code 2 for a request too big, HTTP 429 for a member too busy), counted in
// cubemaster_api_refused_total, and changing nothing.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_API_LIMITS, parseApiLimits, REFUSAL_REASONS, RouteQpsLimiter } from '../../src/api/limits.js';
import { modelDigest } from '../../src/model/index.js';
import { parseConfig } from '../../src/server/config.js';
import { FakeGroup } from '../cluster/fakes.js';
import { waitUntil } from './domain-helpers.js';
import type { TestMaster } from './helpers.js';
import { call, fails, listen, ok, postJson, rawHttp, singleMaster, startMaster } from './helpers.js';

async function refusedCount(m: TestMaster, reason: string, route: string): Promise<number> {
  const text = (await call(m.app, '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`cubemaster_api_refused_total{reason="${reason}",route="${route}"}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** Holds every read barrier until release() (requests then stay in flight). */
function holdReads(group: FakeGroup): { release(): void; waiting(): number } {
  let waiters: (() => void)[] = [];
  let held = true;
  group.beforeRead = () => (held ? new Promise<void>((resolve) => waiters.push(resolve)) : undefined);
  return {
    release() {
      held = false;
      for (const w of waiters) w();
      waiters = [];
    },
    waiting: () => waiters.length,
  };
}

void describe('request shape limits: code 2 naming the limit, counted, nothing changed', () => {
  void it('refuses a request target longer than maxUrlBytes', async () => {
    const m = singleMaster({ limits: { maxUrlBytes: 2048 } });
    const before = modelDigest(m.group.state);
    const msg = await fails(m.app, `/admin/createVol?name=v1&owner=alice&capacity=10&description=${'x'.repeat(2100)}`, 2);
    assert.match(msg, /^request target of 21\d\d bytes exceeds the limit of 2048 \(maxUrlBytes\)$/);
    assert.equal(modelDigest(m.group.state), before);
    assert.equal(await refusedCount(m, 'url_bytes', '/admin/createVol'), 1);
    await ok(m.app, '/admin/getIp');
  });

  void it('refuses more query keys than maxQueryKeys, the form body counted with the query', async () => {
    const m = singleMaster({ limits: { maxQueryKeys: 64 } });
    const many = Array.from({ length: 65 }, (_, i) => `k${i}=1`).join('&');
    assert.match(await fails(m.app, `/metaNode/add?addr=127.0.0.1:1&${many}`, 2), /66 query keys exceed the limit of 64 \(maxQueryKeys\)/);
    const form = Array.from({ length: 60 }, (_, i) => `k${i}=1`).join('&');
    const msg = await fails(
      m.app,
      { method: 'POST', url: '/metaNode/add?a=1&b=2&c=3&d=4&e=5', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `addr=127.0.0.1%3A1&${form}` },
      2,
    );
    assert.match(msg, /66 query and form keys exceed the limit of 64/);
    assert.equal(m.group.state.metaNodes.size, 0);
    assert.equal(await refusedCount(m, 'query_keys', '/metaNode/add'), 2);
  });

  void it('refuses a query or form value longer than maxParamValueBytes, naming the key', async () => {
    const m = singleMaster({ limits: { maxParamValueBytes: 256 } });
    assert.equal(
      await fails(m.app, `/metaNode/add?addr=127.0.0.1:1&zoneName=${'z'.repeat(257)}`, 2),
      'value of zoneName has 257 bytes, more than the limit of 256 (maxParamValueBytes)',
    );
    // UTF-8 bytes, not characters: 129 x 'é' is 258 bytes.
    assert.match(await fails(m.app, `/metaNode/add?addr=127.0.0.1:1&zoneName=${encodeURIComponent('é'.repeat(129))}`, 2), /has 258 bytes/);
    assert.equal(m.group.state.metaNodes.size, 0);
    assert.equal(await refusedCount(m, 'param_bytes', '/metaNode/add'), 2);
  });

  void it('refuses a JSON body string longer than maxParamValueBytes (user routes)', async () => {
    const m = singleMaster({ limits: { maxParamValueBytes: 256 } });
    const before = modelDigest(m.group.state);
    assert.match(await fails(m.app, postJson('/user/create', { id: 'alice', type: 3, description: 'd'.repeat(300) }), 2), /value of description has 300 bytes/);
    assert.equal(modelDigest(m.group.state), before);
    await ok(m.app, postJson('/user/create', { id: 'alice', type: 3, description: 'd'.repeat(200) }));
  });

  void it('refuses more header lines than maxHeaderCount', async () => {
    const m = singleMaster({ limits: { maxHeaderCount: 32 } });
    const headers = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`x-h${i}`, 'v']));
    const res = await call(m.app, { method: 'GET', url: '/admin/getIp', headers });
    assert.equal(res.envelope.code, 2);
    assert.match(res.envelope.msg, /more than 32 header lines \(maxHeaderCount\)/);
    assert.equal(await refusedCount(m, 'header_count', '/admin/getIp'), 1);
    // On a socket: Node keeps maxHeaderCount + 1 lines of 500, enough to see the excess.
    const addr = await listen(m.app);
    try {
      const lines = Array.from({ length: 500 }, (_, i) => `x-h${i}: v\r\n`).join('');
      const res = await rawHttp(addr, `GET /admin/getIp HTTP/1.1\r\nHost: ${addr}\r\nConnection: close\r\n${lines}\r\n`);
      assert.equal(res.envelope.code, 2);
      assert.match(res.envelope.msg, /more than 32 header lines/);
    } finally {
      await m.app.close();
    }
  });

  void it('refuses a body larger than maxBodyBytes with the limit in the message', async () => {
    const m = singleMaster({ limits: { maxBodyBytes: 64 * 1024 } });
    const before = modelDigest(m.group.state);
    const msg = await fails(m.app, postJson('/user/create', { id: 'alice', type: 3, description: 'x'.repeat(70_000) }), 2);
    assert.equal(msg, `request body larger than the limit of ${64 * 1024} bytes (maxBodyBytes)`);
    assert.equal(modelDigest(m.group.state), before);
    assert.equal(await refusedCount(m, 'body_bytes', '/user/create'), 1);
  });
});

void describe('numbers by range and names by charset and length (Go\'s rules)', () => {
  void it('refuses int32 parameters above 2^31-1 where Go parses with extractUint', async () => {
    const m = singleMaster();
    for (const q of ['capacity=2147483648', 'replicaNum=2147483648', 'volType=2147483648']) {
      assert.match(await fails(m.app, `/admin/createVol?name=vol1&owner=alice&${q}`, 2), /args \[\w+\] is not legal: 2147483648 is above 2147483647/, q);
    }
    assert.match(await fails(m.app, '/admin/createVol?name=vol1&owner=alice&volStorageClass=4294967296', 2), /above 4294967295/);
    assert.match(await fails(m.app, '/vol/expand?name=vol1&authKey=x&capacity=2147483648', 2), /above 2147483647/);
    assert.match(await fails(m.app, '/admin/createVol?name=vol1&owner=alice&capacity=-1', 2), /is not a non-negative integer/);
    assert.equal(m.group.state.vols.size, 0);
  });

  void it('checks vol names, owners, user ids and zone names with their codes', async () => {
    const m = singleMaster();
    const vol63 = `v${'a'.repeat(61)}z`;
    for (const name of ['ab', `${vol63}x`, '-ab', 'ab-', 'a b', 'vol/1', 'vól']) {
      assert.equal(await fails(m.app, `/admin/createVol?name=${encodeURIComponent(name)}&owner=alice&capacity=10`, 2), 'name can only be number and letters', name);
    }
    for (const owner of ['1abc', `a${'b'.repeat(21)}`, 'a-b', 'a.b']) {
      assert.equal(await fails(m.app, `/admin/createVol?name=${vol63}&owner=${owner}&capacity=10`, 2), 'owner can only be number and letters', owner);
    }
    for (const id of ['1abc', `a${'b'.repeat(21)}`, 'a-b', '']) {
      assert.equal(await fails(m.app, postJson('/user/create', { id, type: 3 }), 55), 'invalid user ID', id);
    }
    await ok(m.app, postJson('/user/create', { id: `a${'b'.repeat(20)}`, type: 3 }));
    assert.equal(await fails(m.app, `/metaNode/add?addr=127.0.0.1:1&zoneName=${encodeURIComponent('a\u0001b')}`, 2), 'zone name not legal');
    assert.equal(await fails(m.app, `/metaNode/add?addr=127.0.0.1:1&zoneName=${'z'.repeat(256)}`, 2), 'zone name not legal');
    assert.equal(m.group.state.vols.size, 0);
    assert.equal(m.group.state.metaNodes.size, 0);
  });
});

void describe('requests in flight per client and per route: HTTP 429, then admitted again', () => {
  void it('refuses a client over maxInFlightPerClient at once, not another client, and admits it once one finished', async () => {
    const m = singleMaster({ limits: { maxInFlightPerClient: 2 } });
    const hold = holdReads(m.group);
    const a1 = m.app.inject({ url: '/user/list', remoteAddress: '10.0.0.1' });
    const a2 = m.app.inject({ url: '/user/list', remoteAddress: '10.0.0.1' });
    await waitUntil('requests held', () => hold.waiting() === 2);
    const refused = await call(m.app, { url: '/vol/list', remoteAddress: '10.0.0.1' });
    assert.equal(refused.status, 429);
    assert.equal(refused.text, 'too many requests for api: /vol/list: 2 requests of client 10.0.0.1 in flight (maxInFlightPerClient)');
    const other = m.app.inject({ url: '/user/list', remoteAddress: '10.0.0.2' });
    await waitUntil('requests held', () => hold.waiting() === 3);
    hold.release();
    assert.deepEqual([(await a1).statusCode, (await a2).statusCode, (await other).statusCode], [200, 200, 200]);
    await ok(m.app, { url: '/vol/list', remoteAddress: '10.0.0.1' });
    assert.equal(await refusedCount(m, 'client_in_flight', '/vol/list'), 1);
  });

  void it('counts a forwarded request against the client the forwarding member saw, not the member', async () => {
    const group = new FakeGroup([1, 2], 1);
    group.setHttpAddr(2, '10.0.0.2:17010');
    const m = startMaster(group, 1, { limits: { maxInFlightPerClient: 1 } });
    const hold = holdReads(group);
    const fwd = (client: string) => ({ url: '/user/list', remoteAddress: '10.0.0.2', headers: { 'x-cubemaster-forwarded-by': '2', 'x-forwarded-for': client } });
    const first = m.app.inject(fwd('192.168.1.1'));
    const second = m.app.inject(fwd('192.168.1.2'));
    await waitUntil('requests held', () => hold.waiting() === 2);
    const third = await call(m.app, fwd('192.168.1.1'));
    assert.equal(third.status, 429);
    assert.match(third.text, /client 192\.168\.1\.1 in flight/);
    // The header alone, from an address that is no member, counts against that address.
    const spoof = (client: string) => ({ url: '/user/list', remoteAddress: '10.0.0.9', headers: { 'x-cubemaster-forwarded-by': '2', 'x-forwarded-for': client } });
    const spoofed = m.app.inject(spoof('192.168.1.3'));
    await waitUntil('requests held', () => hold.waiting() === 3);
    const again = await call(m.app, spoof('192.168.1.4'));
    assert.equal(again.status, 429);
    assert.match(again.text, /client 10\.0\.0\.9 in flight/);
    hold.release();
    assert.deepEqual([(await first).statusCode, (await second).statusCode, (await spoofed).statusCode], [200, 200, 200]);
  });

  void it('refuses a route over maxInFlightPerRoute, whoever calls', async () => {
    const m = singleMaster({ limits: { maxInFlightPerRoute: 2 } });
    const hold = holdReads(m.group);
    const held = [m.app.inject({ url: '/user/list', remoteAddress: '10.0.0.1' }), m.app.inject({ url: '/user/list', remoteAddress: '10.0.0.2' })];
    await waitUntil('requests held', () => hold.waiting() === 2);
    const refused = await call(m.app, { url: '/user/list', remoteAddress: '10.0.0.3' });
    assert.equal(refused.status, 429);
    assert.match(refused.text, /2 requests of \/user\/list in flight \(maxInFlightPerRoute\)/);
    await ok(m.app, { url: '/admin/getIp', remoteAddress: '10.0.0.3' });
    hold.release();
    for (const r of held) assert.equal((await r).statusCode, 200);
    assert.equal(await refusedCount(m, 'route_in_flight', '/user/list'), 1);
  });
});

void describe('per-route QPS limit (Go API limiter: /admin/setApiQpsLimit)', () => {
  void it('lets limit x timeout + 1 requests wait their turn and refuses the next at once with 429', async () => {
    let now = 1_000_000;
    const limiter = new RouteQpsLimiter({ '/vol/list': { limit: 10, timeoutSec: 1 } }, () => now);
    const abort = new AbortController();
    const signal = (): AbortSignal => abort.signal;
    const started = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => limiter.wait('/vol/list', signal)));
    const refused = results.filter((r) => r.status === 'rejected');
    assert.equal(refused.length, 1);
    assert.match(String((refused[0]).reason), /too many requests for api: \/vol\/list: over the limit of 10 requests per second/);
    assert.ok(Date.now() - started >= 900, 'the last admitted request waited about the timeout');
    // Other paths are not limited; time passing frees tokens again.
    await limiter.wait('/user/list', signal);
    now += 5_000;
    await limiter.wait('/vol/list', signal);
  });

  void it('stops waiting, and leaves no timer, when the client goes away', async () => {
    const limiter = new RouteQpsLimiter({ '/vol/list': { limit: 1, timeoutSec: 5 } }, () => 1_000);
    const abort = new AbortController();
    await limiter.wait('/vol/list', () => abort.signal);
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const waiting = limiter.wait('/vol/list', () => abort.signal);
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, timersBefore + 1);
    abort.abort(new Error('client closed the connection'));
    await assert.rejects(waiting, /client closed the connection/);
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, timersBefore);
  });

  void it('a limit of 0 lets one request through, then none (Go: rate.Limit(0), burst 1)', async () => {
    const limiter = new RouteQpsLimiter({ '/vol/list': { limit: 0, timeoutSec: 1 } }, () => 5);
    const abort = new AbortController();
    const signal = (): AbortSignal => abort.signal;
    await limiter.wait('/vol/list', signal);
    await assert.rejects(limiter.wait('/vol/list', signal), /too many requests/);
  });

  void it('is set, listed and removed through Go\'s routes, by Go\'s API names, and answers 429', async () => {
    const m = singleMaster();
    assert.equal(await ok(m.app, '/admin/setApiQpsLimit?name=AdminListVols&limit=0&timeout=1'), 'set api qps limit success: name: adminlistvols, limit: 0, timeout: 1');
    assert.deepEqual(await ok(m.app, '/admin/getApiQpsLimit'), { '/vol/list': { api_name: 'adminlistvols', query_path: '/vol/list', limit: 0, limiter_timeout: 1 } });
    await ok(m.app, '/vol/list');
    const busy = await call(m.app, '/vol/list');
    assert.equal(busy.status, 429);
    assert.match(busy.text, /^too many requests for api: \/vol\/list/);
    assert.equal(await refusedCount(m, 'route_qps', '/vol/list'), 1);
    assert.equal(await ok(m.app, '/admin/rmApiQpsLimit?name=adminlistvols'), 'rm api qps limit success: name: adminlistvols');
    await ok(m.app, '/vol/list');
    assert.equal(await fails(m.app, '/admin/setApiQpsLimit?name=nosuchapi&limit=1&timeout=1', 1), 'api name [nosuchapi] is not valid');
    assert.equal(await fails(m.app, '/admin/setApiQpsLimit?name=adminlistvols&limit=1', 1), 'timeout(seconds) args must be larger than 0');
    assert.match(await fails(m.app, '/admin/setApiQpsLimit?name=adminlistvols&limit=-1&timeout=1', 1), /parse \[limit\] is not valid uint32/);
    assert.equal(await fails(m.app, '/admin/rmApiQpsLimit', 1), '[operate_util.go 225] parameter name not found');
    const names = (await ok(m.app, '/admin/getMasterApiList')) as Record<string, string>;
    assert.equal(names.admincreatevol, '/admin/createVol');
    assert.equal(names.clientpartitions, undefined);
  });

  void it('applies the limits of the config from the start', async () => {
    const m = singleMaster({ limits: { qps: { '/admin/getIp': { limit: 0, timeoutSec: 1 } } } });
    await ok(m.app, '/admin/getIp');
    assert.equal((await call(m.app, '/admin/getIp')).status, 429);
  });
});

void describe('docs/limits.md', () => {
  void it('lists every limit with its default and every refusal reason', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../../docs/limits.md', import.meta.url)), 'utf8');
    for (const [key, value] of Object.entries(DEFAULT_API_LIMITS)) {
      if (key === 'qps') continue;
      assert.match(doc, new RegExp(`\\| \`${key}\` \\| ${String(value)}\\b`), key);
    }
    for (const reason of REFUSAL_REASONS) assert.ok(doc.includes(`\`${reason}\``), reason);
  });
});

void describe('config: apiAccess and apiLimits', () => {
  void it('defaults to the cubefs mode and the documented limits', () => {
    const c = parseConfig({}, '/tmp');
    assert.equal(c.apiAccess, 'cubefs');
    assert.deepEqual(c.apiLimits, DEFAULT_API_LIMITS);
  });

  void it('takes each limit, names the key of a bad one, and refuses unknown keys', () => {
    const c = parseConfig({ apiAccess: 'signed', apiLimits: { maxUrlBytes: 4096, maxInFlightPerClient: '8', qps: { '/vol/list': { limit: 5, timeout: 2 } } } }, '/tmp');
    assert.equal(c.apiAccess, 'signed');
    assert.equal(c.apiLimits.maxUrlBytes, 4096);
    assert.equal(c.apiLimits.maxInFlightPerClient, 8);
    assert.deepEqual(c.apiLimits.qps, { '/vol/list': { limit: 5, timeoutSec: 2 } });
    assert.throws(() => parseConfig({ apiAccess: 'open' }, '/tmp'), /key "apiAccess" = "open" is not allowed: must be "cubefs", "signed"/);
    assert.throws(() => parseConfig({ apiLimits: { maxUrlBytes: 10 } }, '/tmp'), /apiLimits.maxUrlBytes must be an integer in \[2048, /);
    assert.throws(() => parseConfig({ apiLimits: { maxUrls: 10 } }, '/tmp'), /apiLimits.maxUrls is not a known limit/);
    assert.throws(() => parseApiLimits({ qps: { '/vol/list': { limit: 1, timeout: 0 } } }), /timeout must be an integer number of seconds/);
    assert.throws(() => parseApiLimits({ qps: { 'vol/list': { limit: 1, timeout: 1 } } }), /is not a route path/);
  });
});
