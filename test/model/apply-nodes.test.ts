import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataMediaType } from '../../src/model/index.js';
import { checkModel, dataNodeByAddr, metaNodeByAddr, nodeSetMemberCounts } from '../../src/model/index.js';
import { MediaTypeMismatchError, NodeSetNotFoundError } from '../../src/model/errors.js';
import { bootstrapped, dataNodeAddCmd, fails, metaNodeAddCmd, ok, run } from './helpers.js';

void describe('apply: metaNode.add', () => {
  void it('places the first meta node in a new node set: node set id 1, node id 2 (observed)', () => {
    const state = bootstrapped();
    const applied = run(state, metaNodeAddCmd('127.0.0.1:17210'));
    assert.deepEqual(applied.result, { ok: true, value: { id: 2, nodeSetId: 1, created: true } });
    assert.deepEqual(
      applied.changes.map((c) => c.kind),
      ['counter', 'zone', 'nodeSet', 'metaNode'],
    );
    assert.equal(state.counters.common, 2);
    assert.deepEqual(state.zones.get('default'), {
      name: 'default',
      dataMediaType: 0,
      dataNodesetSelector: 'RoundRobin',
      metaNodesetSelector: 'RoundRobin',
    });
    assert.deepEqual(state.nodeSets.get(1), {
      id: 1,
      zoneName: 'default',
      capacity: 18,
      dataNodeSelector: 'CarryWeight',
      metaNodeSelector: 'CarryWeight',
    });
    const node = metaNodeByAddr(state, '127.0.0.1:17210');
    assert.deepEqual(node, {
      id: 2,
      addr: '127.0.0.1:17210',
      zoneName: 'default',
      nodeSetId: 1,
      heartbeatPort: '17230',
      replicaPort: '17231',
      rdOnly: false,
    });
  });

  void it('returns the existing id for a known addr, takes no id and changes nothing', () => {
    const state = bootstrapped();
    ok(state, metaNodeAddCmd('127.0.0.1:17210'));
    const again = run(state, metaNodeAddCmd('127.0.0.1:17210', { zoneName: 'elsewhere', nodeSetId: 99 }));
    assert.deepEqual(again.result, { ok: true, value: { id: 2, nodeSetId: 1, created: false } });
    assert.equal(again.changes.length, 0);
    assert.equal(state.counters.common, 2);
  });

  void it('fills a node set up to its capacity, then opens a new one', () => {
    const state = bootstrapped();
    const ids = [1, 2, 3, 4].map((i) => ok(state, metaNodeAddCmd(`10.0.0.${i}:17210`, { nodeSetCapacity: 3 })));
    assert.deepEqual(
      ids.map((r) => [r.id, r.nodeSetId]),
      [
        [2, 1],
        [3, 1],
        [4, 1],
        [6, 5],
      ],
    );
    assert.deepEqual(nodeSetMemberCounts(state, 1), { meta: 3, data: 0 });
    // Data nodes are counted separately: node set 1 still has room for them.
    assert.equal(ok(state, dataNodeAddCmd('10.0.1.1:17310', { nodeSetCapacity: 3 })).nodeSetId, 1);
    assert.deepEqual(checkModel(state), []);
  });

  void it('keeps zones apart: a new zone gets its own node set', () => {
    const state = bootstrapped();
    ok(state, metaNodeAddCmd('10.0.0.1:17210'));
    const other = ok(state, metaNodeAddCmd('10.0.0.2:17210', { zoneName: 'z2' }));
    assert.deepEqual(other, { id: 4, nodeSetId: 3, created: true });
    assert.equal(state.nodeSets.get(3)?.zoneName, 'z2');
    assert.ok(state.zones.has('z2'));
  });

  void it('honours an explicit node set of the same zone', () => {
    const state = bootstrapped();
    ok(state, metaNodeAddCmd('10.0.0.1:17210')); // node set 1
    ok(state, metaNodeAddCmd('10.0.0.2:17210', { zoneName: 'z2' })); // node set 3
    ok(state, metaNodeAddCmd('10.0.0.3:17210', { zoneName: 'z2', nodeSetCapacity: 3 })); // node set 3
    const placed = ok(state, metaNodeAddCmd('10.0.0.4:17210', { nodeSetId: 1 }));
    assert.equal(placed.nodeSetId, 1);
  });

  void it('refuses an unknown node set (64)', () => {
    const e = fails(bootstrapped(), metaNodeAddCmd('10.0.0.1:17210', { nodeSetId: 42 }), 64);
    assert.ok(e instanceof NodeSetNotFoundError);
    assert.equal(e.nodeSetId, 42);
  });

  void it('refuses a node set of another zone (64)', () => {
    const state = bootstrapped();
    ok(state, metaNodeAddCmd('10.0.0.1:17210'));
    fails(state, metaNodeAddCmd('10.0.0.2:17210', { zoneName: 'z2', nodeSetId: 1 }), 64);
  });

  const bad: [string, Parameters<typeof metaNodeAddCmd>[1] & { addr?: string }, number][] = [
    ['an addr without port', { addr: '127.0.0.1' }, 2],
    ['a host name', { addr: 'localhost:17210' }, 2],
    ['a bad heartbeat port', { heartbeatPort: 'x' }, 2],
    ['a bad replica port', { replicaPort: '99999' }, 2],
    ['an empty zone', { zoneName: '' }, 2],
    ['a node set capacity below 3', { nodeSetCapacity: 2 }, 2],
  ];
  for (const [what, fields, code] of bad) {
    void it(`refuses ${what} (${code}) and changes nothing`, () => {
      const { addr = '127.0.0.1:17210', ...rest } = fields;
      fails(bootstrapped(), metaNodeAddCmd(addr, rest), code);
    });
  }
});

void describe('apply: dataNode.add', () => {
  void it('joins the meta nodes node set and fixes the zone media type (observed ids 1, 2, 3)', () => {
    const state = bootstrapped();
    ok(state, metaNodeAddCmd('127.0.0.1:17210'));
    const applied = run(state, dataNodeAddCmd('127.0.0.1:17310'));
    assert.deepEqual(applied.result, { ok: true, value: { id: 3, nodeSetId: 1, created: true } });
    assert.deepEqual(
      applied.changes.map((c) => c.kind),
      ['counter', 'zone', 'dataNode'],
    );
    assert.equal(state.zones.get('default')?.dataMediaType, 1);
    const node = dataNodeByAddr(state, '127.0.0.1:17310');
    assert.equal(node?.mediaType, 1);
    assert.equal(node?.createTimeMs, Date.UTC(2026, 10, 25, 18, 42, 6, 869));
  });

  void it('refuses a media type other than the zone media type (code 1)', () => {
    const state = bootstrapped();
    ok(state, dataNodeAddCmd('10.0.0.1:17310', { mediaType: 1 }));
    const e = fails(state, dataNodeAddCmd('10.0.0.2:17310', { mediaType: 2 }), 1);
    assert.ok(e instanceof MediaTypeMismatchError);
    assert.match(e.message, /hint DataNode mediaType not match/);
  });

  void it('creates a new zone with the node media type', () => {
    const state = bootstrapped();
    ok(state, dataNodeAddCmd('10.0.0.1:17310', { mediaType: 2, zoneName: 'hdd' }));
    assert.equal(state.zones.get('hdd')?.dataMediaType, 2);
  });

  void it('returns the existing id for a known addr even with another media type', () => {
    const state = bootstrapped();
    ok(state, dataNodeAddCmd('10.0.0.1:17310'));
    const again = run(state, dataNodeAddCmd('10.0.0.1:17310', { mediaType: 2 }));
    assert.deepEqual(again.result, { ok: true, value: { id: 2, nodeSetId: 1, created: false } });
    assert.equal(again.changes.length, 0);
  });

  void it('refuses an illegal media type (2) and an illegal addr (2)', () => {
    fails(bootstrapped(), dataNodeAddCmd('10.0.0.1:17310', { mediaType: 3 as DataMediaType }), 2);
    fails(bootstrapped(), dataNodeAddCmd('10.0.0.1', {}), 2);
    fails(bootstrapped(), dataNodeAddCmd('10.0.0.1:17310', { createTimeMs: -1 }), 2);
  });

  void it('allows the same addr as a meta node and a data node', () => {
    const state = bootstrapped();
    ok(state, metaNodeAddCmd('10.0.0.1:17000'));
    assert.equal(ok(state, dataNodeAddCmd('10.0.0.1:17000')).id, 3);
    assert.deepEqual(checkModel(state), []);
  });
});
