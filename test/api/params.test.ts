import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Params, parsedQueryOf, parseQuery, queryRecord } from '../../src/api/params.js';

void describe('queries parsed once (queryRecord, parsedQueryOf)', () => {
  void it('gives request.query the first value per key and keeps the whole parse for Params', () => {
    const record = queryRecord('user=alice&user=bob&x=%41+b');
    assert.deepEqual({ ...record }, { user: 'alice', x: 'A b' });
    assert.deepEqual(Object.keys(record), ['user', 'x']);
    const parsed = parsedQueryOf(record, '/user/info?user=alice&user=bob&x=%41+b');
    assert.deepEqual([...parsed.values.entries()], [['user', ['alice', 'bob']], ['x', ['A b']]]);
    assert.equal(parsed.pairs, 3);
  });

  void it('parses again when the kept text is not the query Go would read (a # before the ?)', () => {
    // the router splits "/p#f?user=a" at the '#': its query text is "f?user=a"; Go's is "user=a"
    const parsed = parsedQueryOf(queryRecord('f?user=a'), '/p#f?user=a');
    assert.deepEqual([...parsed.values.entries()], [['user', ['a']]]);
    assert.deepEqual([...parsedQueryOf(undefined, '/p?a=1').values.entries()], [['a', ['1']]]);
  });
});

void describe('Params', () => {
  void it('reads form values before query values, as Go r.Form, from a parsed query or a target alike', () => {
    for (const query of [parseQuery('addr=q&zone=z&addr=q2'), '/metaNode/add?addr=q&zone=z&addr=q2']) {
      const params = new Params(query, 'addr=f&id=7');
      assert.equal(params.get('addr'), 'f');
      assert.deepEqual([...params.entries()], [['addr', ['f', 'q', 'q2']], ['id', ['7']], ['zone', ['z']]]);
      assert.equal(params.pairCount, 5);
    }
  });

  void it('leaves the parsed query it was given as it was', () => {
    const parsed = parseQuery('a=1');
    new Params(parsed, 'a=0');
    assert.deepEqual([...parsed.values.entries()], [['a', ['1']]]);
    assert.equal(new Params(parsed).get('a'), '1');
  });
});
