import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { check } from './check.js';
import { kvModel, type KvInput, type KvOutput } from './models/kv-model.js';
import { UNKNOWN_OUTPUT, type Operation } from './operation.js';

type KvOp = Operation<KvInput, KvOutput>;
const get = (clientId: number, call: number, ret: number, key: string, value: string): KvOp => ({
  clientId, call, return: ret, input: { f: 'get', key }, output: { f: 'get', value },
});
const append = (clientId: number, call: number, ret: number, key: string, value: string): KvOp => ({
  clientId, call, return: ret, input: { f: 'append', key, value }, output: ret === Infinity ? UNKNOWN_OUTPUT : { f: 'append' },
});
const put = (clientId: number, call: number, ret: number, key: string, value: string): KvOp => ({
  clientId, call, return: ret, input: { f: 'put', key, value }, output: { f: 'put' },
});

void describe('kv model', () => {
  void it('reads a never-written key as the empty string', () => {
    assert.equal(check(kvModel, [get(0, 0, 1, 'a', '')]).verdict, 'linearizable');
  });

  void it('accepts concurrent appends applied in either order', () => {
    const appends = [append(0, 0, 5, 'k', 'x'), append(1, 1, 6, 'k', 'y')];
    assert.equal(check(kvModel, [...appends, get(2, 7, 8, 'k', 'xy')]).verdict, 'linearizable');
    assert.equal(check(kvModel, [...appends, get(2, 7, 8, 'k', 'yx')]).verdict, 'linearizable');
    assert.equal(check(kvModel, [...appends, get(2, 7, 8, 'k', 'x')]).verdict, 'not-linearizable');
  });

  void it('replaces the value on put and appends after it', () => {
    const history = [append(0, 0, 1, 'k', 'a'), put(0, 2, 3, 'k', 'b'), append(0, 4, 5, 'k', 'c'), get(1, 6, 7, 'k', 'bc')];
    assert.equal(check(kvModel, history).verdict, 'linearizable');
  });

  void it('accepts an indeterminate append that did or did not happen', () => {
    const base = [append(0, 0, 1, 'k', 'a'), append(1, 2, Infinity, 'k', 'b')];
    assert.equal(check(kvModel, [...base, get(2, 3, 4, 'k', 'a')]).verdict, 'linearizable');
    assert.equal(check(kvModel, [...base, get(2, 3, 4, 'k', 'ab')]).verdict, 'linearizable');
  });

  void it('checks keys independently and reports the key that fails', () => {
    // Each key alone is fine except "b", whose second read goes back in time.
    const history = [
      append(0, 0, 1, 'a', '1'),
      append(1, 0, 10, 'b', '1'),
      get(2, 2, 3, 'b', '1'),
      get(2, 4, 5, 'b', ''),
      get(3, 6, 7, 'a', '1'),
    ];
    const result = check(kvModel, history);
    assert.equal(result.verdict, 'not-linearizable');
    assert.equal(result.partitionCount, 2);
    assert.ok(result.anomaly!.operations.every((op) => op.input.key === 'b'));
    assert.equal(result.anomaly!.historyIds[result.anomaly!.blockedOpIndex], 3);
  });
});
