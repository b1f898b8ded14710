import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StoreClosedError, StoreLimitError } from '../../src/storage/errors.js';
import { CallGate, type CallGateOptions } from '../../src/storage/gate.js';
import { AssertionError } from '../../src/util/assert.js';
import type { StoreLogger } from '../../src/storage/logger.js';
import { CubeCode } from '../../src/util/errors.js';
import { pino } from 'pino';
import { RecordingLogger, sleep, within } from './helpers.js';

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function makeGate(overrides: Partial<CallGateOptions> = {}): { gate: CallGate; logger: RecordingLogger; finalizeCount: () => number } {
  const logger = new RecordingLogger();
  let finalizeCount = 0;
  const gate = new CallGate({
    store: 'test-store',
    logger,
    closeWarnAfterMs: 1_000,
    finalize: () => {
      finalizeCount++;
      return Promise.resolve();
    },
    ...overrides,
  });
  return { gate, logger, finalizeCount: () => finalizeCount };
}

function openGate(overrides: Partial<CallGateOptions> = {}): ReturnType<typeof makeGate> {
  const made = makeGate(overrides);
  made.gate.markOpen();
  return made;
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected a throw');
}

const TEST_TIMEOUT_MS = 10_000;

// node:test owns and awaits the suite's promise; `void` says so to the floating-promise rule.
void describe('CallGate', { timeout: TEST_TIMEOUT_MS }, () => {
  void test('starts opening and refuses calls until markOpen', () => {
    const { gate } = makeGate();
    assert.equal(gate.state, 'opening');
    assert.throws(() => gate.enter('get'), StoreClosedError);
    gate.markOpen();
    assert.equal(gate.state, 'open');
    gate.enter('get').release();
    assert.throws(() => gate.markOpen(), AssertionError);
  });

  void test('counts admitted calls until released; release is idempotent', () => {
    const { gate } = openGate();
    const a = gate.enter('get', 'k1');
    const b = gate.lease('iterator', () => Promise.resolve());
    assert.equal(gate.callCount, 2);
    assert.deepEqual(
      gate.openCalls().map((call) => [call.kind, call.detail, call.lease]),
      [
        ['get', 'k1', false],
        ['iterator', undefined, true],
      ],
    );
    a.release();
    a.release();
    assert.equal(gate.callCount, 1);
    b.release();
    assert.equal(gate.callCount, 0);
  });

  void test('run and runSync release the call when the work throws', async () => {
    const { gate } = openGate();
    await assert.rejects(gate.run('write', () => Promise.reject(new Error('boom'))), /boom/);
    assert.throws(() => gate.runSync('append', () => { throw new Error('bang'); }), /bang/);
    assert.equal(gate.callCount, 0);
    assert.equal(await gate.run('get', () => Promise.resolve(7)), 7);
  });

  void test('close refuses new calls at once with a StoreClosedError naming the store', async () => {
    const { gate } = openGate();
    const closing = gate.close();
    assert.equal(gate.state, 'closing');
    const err = thrownBy(() => gate.enter('get'));
    assert.ok(err instanceof StoreClosedError);
    assert.equal(err.code, CubeCode.InternalError);
    assert.equal(err.store, 'test-store');
    assert.equal(err.op, 'get');
    assert.match(err.message, /store "test-store" is closing: get refused/);
    await assert.rejects(gate.run('write', () => Promise.resolve()), StoreClosedError);
    assert.throws(() => gate.lease('iterator', () => Promise.resolve()), StoreClosedError);
    await closing;
    assert.equal(gate.state, 'closed');
    assert.throws(() => gate.checkOpen('get'), /is closed: get refused/);
  });

  void test('close waits for operations in flight, then finalizes exactly once', async () => {
    const order: string[] = [];
    const { gate } = openGate({
      finalize: () => {
        order.push('finalize');
        return Promise.resolve();
      },
    });
    const slow = deferred();
    const running = gate.run('write', async () => {
      await slow.promise;
      order.push('write done');
    });
    const closing = gate.close();
    await sleep(20);
    assert.equal(gate.state, 'closing');
    assert.deepEqual(order, []);
    slow.resolve();
    await running;
    const report = await closing;
    assert.deepEqual(order, ['write done', 'finalize']);
    assert.equal(report.timedOut, false);
    assert.equal(report.abandonedCalls.length, 0);
    assert.equal(gate.state, 'closed');
  });

  void test('a second close returns the same promise and finalize runs once', async () => {
    const { gate, finalizeCount } = openGate();
    const first = gate.close();
    const second = gate.close();
    assert.equal(first, second);
    await first;
    assert.equal(gate.close(), first);
    assert.equal(finalizeCount(), 1);
  });

  void test('close destroys leases still open once operations drained, and reports them', async () => {
    const order: string[] = [];
    const { gate, logger } = openGate();
    const op = deferred();
    const running = gate.run('iterator.next', async () => {
      await op.promise;
      order.push('op done');
    });
    let revokeCount = 0;
    const leased = gate.lease(
      'iterator',
      () => {
        revokeCount++;
        order.push('revoked');
        return Promise.resolve();
      },
      'prefix=01',
    );
    const kept = gate.lease('snapshot', () => {
      order.push('snapshot revoked');
      return Promise.resolve();
    });
    kept.release(); // released by its owner: must not be revoked
    const closing = gate.close();
    await sleep(10);
    assert.deepEqual(order, []);
    op.resolve();
    await running;
    const report = await closing;
    assert.deepEqual(order, ['op done', 'revoked']);
    assert.equal(revokeCount, 1);
    assert.deepEqual(
      report.revokedLeases.map((call) => [call.kind, call.detail]),
      [['iterator', 'prefix=01']],
    );
    leased.release(); // the owner releasing late is harmless
    assert.equal(gate.callCount, 0);
    assert.equal(logger.at('warn').length, 1);
    assert.match(logger.at('warn')[0].msg, /destroying iterators\/snapshots/);
  });

  void test('a failing revoke is logged and does not block close', async () => {
    const { gate, logger } = openGate();
    gate.lease('iterator', () => Promise.reject(new Error('native close failed')));
    const report = await within(gate.close(), 2_000, 'close');
    assert.equal(report.revokedLeases.length, 1);
    assert.equal(gate.callCount, 0);
    assert.ok(logger.at('error').some((entry) => /destroying a lease failed/.test(entry.msg)));
  });

  void test('while waiting, close warns with the kinds and ages of open calls, and keeps waiting', async () => {
    const { gate, logger } = openGate({ closeWarnAfterMs: 30 });
    const stuck = deferred();
    const running = gate.run('write', () => stuck.promise, '3 ops');
    const closing = gate.close();
    await sleep(120);
    assert.equal(gate.state, 'closing');
    const warnings = logger.at('warn').filter((entry) => /still waiting/.test(entry.msg));
    assert.ok(warnings.length >= 2, `expected repeated warnings, got ${warnings.length}`);
    const calls = warnings[0].fields['calls'] as { kind: string; detail: string; ageMs: number }[];
    assert.equal(warnings[0].fields['store'], 'test-store');
    assert.equal(calls.length, 1);
    assert.equal(calls[0].kind, 'write');
    assert.equal(calls[0].detail, '3 ops');
    assert.ok(calls[0].ageMs >= 25, `age ${calls[0].ageMs}`);
    stuck.resolve();
    await running;
    const report = await closing;
    assert.equal(report.timedOut, false);
  });

  void test('past closeTimeoutMs, close finalizes anyway and reports the abandoned call', async () => {
    const { gate, logger, finalizeCount } = openGate({ closeWarnAfterMs: 20, closeTimeoutMs: 60 });
    const stuck = deferred();
    const running = gate.run('flush', () => stuck.promise);
    const report = await within(gate.close(), 2_000, 'close');
    assert.equal(report.timedOut, true);
    assert.deepEqual(report.abandonedCalls.map((call) => call.kind), ['flush']);
    assert.ok(report.closeMs >= 55, `closeMs ${report.closeMs}`);
    assert.equal(finalizeCount(), 1);
    assert.equal(gate.state, 'closed');
    assert.ok(logger.at('error').some((entry) => /timed out/.test(entry.msg)));
    stuck.resolve();
    await running; // the abandoned call finishing late does no harm
    assert.equal(gate.callCount, 0);
  });

  void test('a failed finalize rejects close, leaves the gate closed, and is not retried', async () => {
    let finalizeCount = 0;
    const { gate } = openGate({
      finalize: () => {
        finalizeCount++;
        return Promise.reject(new Error('native close failed'));
      },
    });
    const first = gate.close();
    await assert.rejects(first, /native close failed/);
    assert.equal(gate.state, 'closed');
    assert.equal(gate.close(), first);
    await assert.rejects(gate.close(), /native close failed/);
    assert.equal(finalizeCount, 1);
  });

  void test('maxCalls bounds the calls admitted at once', () => {
    const { gate } = openGate({ maxCalls: 2 });
    const a = gate.enter('get');
    gate.enter('get');
    assert.throws(() => gate.enter('get'), StoreLimitError);
    a.release();
    gate.enter('get');
  });

  void test('a pino logger is a StoreLogger', () => {
    const logger: StoreLogger = pino({ level: 'silent' });
    const { gate } = openGate({ logger });
    gate.enter('get').release();
  });

  void test('close while opening is a programming error', () => {
    const { gate } = makeGate();
    assert.throws(() => gate.close(), AssertionError);
  });
});
