import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { okEnvelopeBytes } from '../../src/api/envelope.js';
import { RecordBodyCache } from '../../src/api/record-body-cache.js';

interface Rec {
  readonly id: string;
  readonly n: number;
}

void describe('RecordBodyCache', () => {
  void it("answers the envelope of the record's view, built once per record object", () => {
    let builds = 0;
    const cache = new RecordBodyCache((r: Rec) => {
      builds += 1;
      return { id: r.id, n: r.n };
    }, 10);
    const a = { id: 'a', n: 1 };
    assert.deepEqual(cache.body('a', a).bytes, okEnvelopeBytes({ id: 'a', n: 1 }));
    assert.equal(cache.body('a', a), cache.body('a', a));
    assert.equal(builds, 1);
  });

  void it('builds again for a replaced record, even one equal in content', () => {
    const cache = new RecordBodyCache((r: Rec) => ({ n: r.n }), 10);
    cache.body('a', { id: 'a', n: 1 });
    assert.deepEqual(JSON.parse(cache.body('a', { id: 'a', n: 2 }).bytes.toString('utf8')), { code: 0, msg: 'success', data: { n: 2 } });
    const same = { id: 'a', n: 2 };
    const first = cache.body('a', same);
    assert.notEqual(cache.body('a', { id: 'a', n: 2 }), first);
  });

  void it('keeps at most maxEntries bodies, dropping the oldest added', () => {
    const cache = new RecordBodyCache((r: Rec) => r.n, 2);
    const records = [1, 2, 3].map((n) => ({ id: `r${n}`, n }));
    for (const r of records) cache.body(r.id, r);
    assert.equal(cache.size, 2);
    let builds = 0;
    const counting = new RecordBodyCache((r: Rec) => {
      builds += 1;
      return r.n;
    }, 2);
    for (const r of records) counting.body(r.id, r);
    counting.body('r3', records[2]);
    counting.body('r2', records[1]);
    assert.equal(builds, 3);
    counting.body('r1', records[0]);
    assert.equal(builds, 4);
  });
});
