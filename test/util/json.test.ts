import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJsonExact, stringifyJson } from '../../src/util/json.js';

void describe('parseJsonExact', () => {
  void it('keeps every integer beyond 2^53 exact as a bigint, at any depth', () => {
    const text = '{"a":[{"End":9223372036854775807}],"b":9007199254740993,"c":-9007199254740993}';
    assert.deepEqual(parseJsonExact(text), { a: [{ End: 9223372036854775807n }], b: 9007199254740993n, c: -9007199254740993n });
    assert.equal(stringifyJson(parseJsonExact(text)), text);
  });

  void it('gives what JSON.parse gives when no integer could be rounded (the fast path)', () => {
    for (const text of ['{"x":1,"y":[2.5,-3,"9007199254740993"],"z":null,"t":true}', '[]', '"s"', '123456789012345', '{"big":1e300}']) {
      assert.deepEqual(parseJsonExact(text), JSON.parse(text), text);
    }
  });

  void it('keeps safe 16-digit integers as numbers and floats as floats on the slow path', () => {
    assert.deepEqual(parseJsonExact('{"a":9007199254740991,"b":0.12345678901234567,"c":9007199254740992}'), { a: 9007199254740991, b: 0.12345678901234567, c: 9007199254740992n });
  });

  void it('refuses what JSON.parse refuses on either path', () => {
    assert.throws(() => parseJsonExact('{"a":'));
    assert.throws(() => parseJsonExact('{"a":12345678901234567'));
  });
});
