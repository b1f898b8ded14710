// Spec 1.1 transport conventions, compared with the wire captures (shared/spec/wire).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { modelDigest } from '../../src/model/index.js';
import { getIp, userCreateAlice } from '../model/wire-samples.js';
import type { TestMaster } from './helpers.js';
import { assertSameShape, call, fails, listen, ok, postJson, rawHttp, singleMaster, wireData } from './helpers.js';

void describe('unknown paths and wrong methods (gorilla/mux, curl-samples-errors.txt)', () => {
  void it('answers an unknown path with 404 text/plain "404 page not found"', async () => {
    const { app } = singleMaster();
    const res = await call(app, '/nonexistent');
    assert.equal(res.status, 404);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.text, '404 page not found\n');
    // exact paths: no trailing-slash or case folding
    assert.equal((await call(app, '/admin/getIp/')).status, 404);
    assert.equal((await call(app, '/Admin/getIp')).status, 404);
  });

  void it('answers a known path with a wrong method with 405 and an empty body', async () => {
    const { app } = singleMaster();
    for (const [method, url] of [
      ['GET', '/user/create'],
      ['POST', '/admin/getCluster'],
      ['HEAD', '/admin/getIp'],
      ['DELETE', '/user/delete'],
      ['POST', '/metrics'],
    ] as const) {
      const res = await call(app, { method, url });
      assert.equal(res.status, 405, `${method} ${url}`);
      assert.equal(res.raw.length, 0);
      assert.equal(res.headers['content-type'], undefined);
    }
  });
});

void describe('parameters (spec 1.1, 8.2)', () => {
  void it('treats an empty value as absent: keyNotFound with the observed text', async () => {
    const { app } = singleMaster();
    assert.equal(await fails(app, '/user/info', 2), '[operate_util.go 225] parameter user not found');
    assert.equal(await fails(app, '/user/info?user=', 2), '[operate_util.go 225] parameter user not found');
    assert.equal(await fails(app, '/user/info?user=nobody', 46), 'user not exists');
    // every key is sent, many empty (cfs-cli): the empty ones are defaults
    assert.equal(await ok(app, '/metaNode/add?clientIDKey=&heartbeatPort=&replicaPort=&addr=127.0.0.1:17210&zoneName=&id='), 2);
  });

  void it('reads parameters from an x-www-form-urlencoded POST body, body values first', async () => {
    const { app, group } = singleMaster();
    const data = await ok(app, {
      method: 'POST',
      url: '/metaNode/add?addr=127.0.0.1:1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'addr=127.0.0.1%3A17210&zoneName=zone+a',
    });
    assert.equal(data, 2);
    assert.equal(group.state.metaNodes.get(2)?.zoneName, 'zone a');
    assert.equal(group.state.metaNodes.get(2)?.addr, '127.0.0.1:17210');
  });

  void it('does not read a non-form body as parameters, and never answers 415', async () => {
    const { app } = singleMaster();
    const res = await call(app, { method: 'POST', url: '/cluster/freeze', headers: { 'content-type': 'text/plain' }, payload: 'enable=true' });
    assert.equal(res.envelope.code, 2);
    const weird = await call(app, { method: 'POST', url: '/cluster/freeze?enable=true', headers: { 'content-type': 'nonsense' }, payload: 'x' });
    assert.equal(weird.envelope.code, 0);
  });

  void it('tolerates unencoded characters in the query, as the Go SDK sends them', async () => {
    const m = singleMaster();
    const addr = await listen(m.app);
    try {
      const req = (target: string) => `GET ${target} HTTP/1.1\r\nHost: ${addr}\r\nConnection: close\r\nContent-Type: application/json\r\n\r\n`;
      // '#', '"', '<', '|' and a malformed escape reach the handler raw
      let res = await rawHttp(addr, req('/user/info?user=a#b"<c>|d%zz'));
      assert.equal(res.envelope.code, 46);
      await ok(m.app, postJson('/user/create', { id: 'carol', type: 3 }));
      res = await rawHttp(addr, req('/user/list?keywords=car&clientIDKey={x}'));
      assert.deepEqual((res.envelope.data as { user_id: string }[]).map((u) => u.user_id), ['carol']);
      // raw UTF-8 (Node's parser refuses it; Go takes it): repaired and replayed
      res = await rawHttp(
        addr,
        Buffer.concat([Buffer.from('GET /metaNode/add?addr=127.0.0.1:17210&zoneName='), Buffer.from('zoné', 'utf8'), Buffer.from(` HTTP/1.1\r\nHost: ${addr}\r\nConnection: close\r\n\r\n`)]),
      );
      assert.equal(res.envelope.code, 0);
      assert.equal(m.group.state.metaNodes.get(2)?.zoneName, 'zoné');
      // what Go refuses too (a space) stays a plain 400
      res = await rawHttp(addr, req('/user/info?user=a b'));
      assert.equal(res.status, 400);
    } finally {
      await m.app.close();
    }
  });

  void it('bounds the body: a larger one is refused with code 2 and changes nothing', async () => {
    const { app, group } = singleMaster({ limits: { maxBodyBytes: 64 } });
    const before = modelDigest(group.state);
    const msg = await fails(app, postJson('/user/create', { id: 'alice', type: 3, description: 'x'.repeat(100) }), 2);
    assert.match(msg, /body/i);
    assert.equal(modelDigest(group.state), before);
  });
});

void describe('envelope and gzip (spec 1.1, 8.2)', () => {
  let m: TestMaster;
  before(() => {
    m = singleMaster();
  });
  after(() => m.app.close());

  void it('answers success as HTTP 200 {code:0,msg:"success",data} with an explicit Content-Length', async () => {
    const res = await call(m.app, '/admin/getIp');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(Number(res.headers['content-length']), res.raw.length);
    assertSameShape(res.envelope.data, wireData(getIp));
  });

  void it('gzips a success body on x-cfs-Accept-Encoding: gzip and marks it with X-Cfs-Content-Encoding', async () => {
    const res = await call(m.app, { method: 'POST', url: '/user/create', headers: { 'content-type': 'application/json', 'x-cfs-Accept-Encoding': 'gzip' }, payload: JSON.stringify({ id: 'alice', type: 3 }) });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-cfs-content-encoding'], 'gzip');
    assert.equal(res.headers['content-encoding'], undefined);
    const env = JSON.parse(gunzipSync(res.raw).toString('utf8')) as { code: number; data: unknown };
    assert.equal(env.code, 0);
    assertSameShape(env.data, wireData(userCreateAlice));
  });

  void it('never gzips an error envelope (observed: code 18 came plain)', async () => {
    const res = await call(m.app, { url: '/user/info?user=nobody', headers: { 'x-cfs-accept-encoding': 'gzip' } });
    assert.equal(res.headers['x-cfs-content-encoding'], undefined);
    assert.deepEqual(JSON.parse(res.text), { code: 46, msg: 'user not exists', data: null });
  });
});
