// The shutdown request gate (ARCHITECTURE.md Lifecycle step 1; spec 8.2: the SDK tries the next
// master on any status but 200).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestGate } from '../../src/api/gate.js';
import { ShuttingDownError } from '../../src/raft/errors.js';
import { call, listen, ok, postJson, singleMaster } from './helpers.js';

function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

void describe('request gate', () => {
  void it('refuses every new request with 503 at once while in-flight ones complete, then drains', async () => {
    const m = singleMaster();
    const addr = await listen(m.app);
    try {
      const hold = deferred();
      const entered = deferred();
      m.group.beforePropose = async () => {
        entered.release();
        await hold.promise;
      };
      const inFlight = fetch(`http://${addr}/user/create`, { method: 'POST', body: JSON.stringify({ id: 'alice', type: 3 }), headers: { 'content-type': 'application/json' } });
      await entered.promise;
      assert.equal(m.api.gate.inFlightCount, 1);
      m.api.gate.startDraining();
      const drained = m.api.gate.drained(5_000);

      const started = Date.now();
      for (const url of ['/admin/getIp', '/user/info?user=alice', '/nonexistent', '/metrics']) {
        const res = await fetch(`http://${addr}${url}`);
        assert.equal(res.status, 503, url);
        assert.equal(res.headers.get('connection'), 'close');
        assert.match(await res.text(), /shutting down/);
      }
      const write = await fetch(`http://${addr}/user/create`, { method: 'POST', body: JSON.stringify({ id: 'bob', type: 3 }), headers: { 'content-type': 'application/json' } });
      assert.equal(write.status, 503);
      assert.ok(Date.now() - started < 1_000, 'refused at once');
      assert.deepEqual(m.group.proposed.map((c) => c.type), ['user.create'], 'the refused write reached no handler');
      assert.equal(m.api.gate.inFlightCount, 1);

      hold.release();
      const res = await inFlight;
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { code: number }).code, 0);
      assert.equal(await drained, true);
      assert.equal(m.api.gate.inFlightCount, 0);
      assert.equal(m.group.state.users.has('alice'), true);
    } finally {
      await m.app.close();
    }
  });

  void it('drained() resolves false when the bound passes first', async () => {
    const gate = new RequestGate();
    assert.equal(gate.tryEnter(), true);
    gate.startDraining();
    assert.equal(gate.tryEnter(), false);
    assert.equal(await gate.drained(20), false);
    gate.leave();
    assert.equal(await gate.drained(20), true);
  });

  void it('turns a ShuttingDownError from the replicator into 503', async () => {
    const { app, group } = singleMaster();
    group.beforePropose = () => {
      throw new ShuttingDownError('proposal');
    };
    const res = await call(app, postJson('/user/create', { id: 'alice', type: 3 }));
    assert.equal(res.status, 503);
    group.beforeRead = () => {
      throw new ShuttingDownError('read');
    };
    assert.equal((await call(app, '/user/info?user=root')).status, 503);
  });

  void it('aborts the proposal signal of a request whose client went away, and still leaves the gate', async () => {
    const m = singleMaster();
    const addr = await listen(m.app);
    try {
      const seen = deferred();
      let signal: AbortSignal | undefined;
      m.group.beforePropose = async (_id, _cmd, options) => {
        signal = options?.signal;
        seen.release();
        await new Promise<void>((resolve) => options?.signal?.addEventListener('abort', () => resolve(), { once: true }));
      };
      const controller = new AbortController();
      const request = fetch(`http://${addr}/cluster/freeze?enable=true`, { signal: controller.signal });
      await seen.promise;
      controller.abort();
      await assert.rejects(request);
      assert.equal(await m.api.gate.drained(2_000), true);
      assert.equal(signal?.aborted, true);
      assert.equal(m.group.state.cluster?.disableAutoAllocate, false);
      await ok(m.app, '/admin/getIp');
    } finally {
      await m.app.close();
    }
  });
});
