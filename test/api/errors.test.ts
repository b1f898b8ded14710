// The one error mapping (src/api/errors.ts): codes and statuses per error class.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BackpressureError, TransferInProgressError } from '../../src/raft/core/errors.js';
import { ProposalDroppedError, RaftTimeoutError } from '../../src/raft/errors.js';
import { call, fails, ok, singleMaster } from './helpers.js';

void describe('error mapping', () => {
  void it('answers Raft persistence failures with code 4 (PersistenceByRaft)', async () => {
    const { app, group } = singleMaster();
    for (const error of [new RaftTimeoutError('proposal', 10_000), new ProposalDroppedError(7, 2)]) {
      group.beforePropose = () => {
        throw error;
      };
      assert.equal(await fails(app, '/cluster/freeze?enable=true', 4), error.message);
    }
  });

  void it('answers backpressure with 429 text, as the CubeFS API limiter (the SDK tries elsewhere)', async () => {
    const { app, group } = singleMaster();
    group.beforePropose = () => {
      throw new BackpressureError('too many uncommitted bytes');
    };
    const res = await call(app, '/cluster/freeze?enable=true');
    assert.equal(res.status, 429);
    assert.equal(res.text, 'too many requests for api: /cluster/freeze: too many uncommitted bytes');
  });

  void it('answers other operating errors with their own code and message', async () => {
    const { app, group } = singleMaster();
    group.beforePropose = () => {
      throw new RaftTimeoutError('proposal at 3/7', 10);
    };
    assert.equal(await fails(app, '/cluster/freeze?enable=true', 4), 'proposal at 3/7 did not complete within 10 ms');
  });

  void it('answers 503 while leadership moves, so that the client tries another master', async () => {
    const { app, group } = singleMaster();
    group.beforePropose = () => {
      throw new TransferInProgressError(2);
    };
    const res = await call(app, '/cluster/freeze?enable=true');
    assert.equal(res.status, 503);
    assert.match(res.text, /leadership is moving, try another master; new leader will be 2/);
  });

  void it('answers a bug with code 1 naming the request id, logged once at error level with reqId', async () => {
    const { app, group, logs } = singleMaster();
    group.beforePropose = () => {
      throw new TypeError('boom');
    };
    const res = await call(app, { url: '/cluster/freeze?enable=true', headers: { 'x-request-id': 'req-42' } });
    assert.deepEqual(JSON.parse(res.text), { code: 1, msg: 'internal error (reqId req-42)', data: null });
    const errors = logs.filter((l) => l.level >= 50);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].reqId, 'req-42');
    assert.match(JSON.stringify(errors[0].err), /boom/);
    // the process goes on
    group.beforePropose = null;
    await ok(app, '/cluster/freeze?enable=true');
  });

  void it('writes one debug line per request with its status and code', async () => {
    const { app, logs } = singleMaster();
    await call(app, '/user/info?user=nobody');
    const lines = logs.filter((l) => l.msg === 'request');
    assert.equal(lines.length, 1);
    assert.equal(lines[0].status, 200);
    assert.equal(lines[0].code, '46');
    assert.equal(lines[0].url, '/user/info?user=nobody');
  });
});

void describe('GET /metrics', () => {
  void it('counts requests by route, method, status and code, and observes latency', async () => {
    const { app } = singleMaster();
    await call(app, '/user/info?user=nobody');
    await call(app, '/user/info?user=root');
    await call(app, '/nope');
    await call(app, { method: 'GET', url: '/user/create' });
    const res = await call(app, '/metrics');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.match(res.text, /cubemaster_api_requests_total\{route="\/user\/info",method="GET",status="200",code="46"\} 1/);
    assert.match(res.text, /cubemaster_api_requests_total\{route="\/user\/info",method="GET",status="200",code="0"\} 1/);
    assert.match(res.text, /cubemaster_api_requests_total\{route="unmatched",method="GET",status="404",code="none"\} 1/);
    assert.match(res.text, /cubemaster_api_requests_total\{route="unmatched",method="GET",status="405",code="none"\} 1/);
    assert.match(res.text, /cubemaster_api_request_duration_seconds_count\{route="\/user\/info",code="0"\} 1/);
    assert.match(res.text, /cubemaster_api_requests_in_flight 1/);
    assert.match(res.text, /cubemaster_api_draining 0/);
  });
});
