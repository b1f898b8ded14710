import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NodeService } from '../../src/cluster/nodes.js';
import { modelDigest } from '../../src/model/index.js';
import { FakeGroup, fixedClock } from './fakes.js';

const T_MS = Date.UTC(2026, 10, 25, 18, 42, 6, 869);
const meta = { addr: '127.0.0.1:17210', zoneName: '', heartbeatPort: '17230', replicaPort: '17231', nodeSetId: 0 };

function setup(options: { nodeSetCapacity?: number; legacyDataMediaType?: number; resolveHost?: (h: string) => Promise<string> } = {}) {
  const group = new FakeGroup([1], 1);
  const nodes = new NodeService({
    replicator: group.replicator(1),
    clock: fixedClock(T_MS),
    nodeSetCapacity: options.nodeSetCapacity ?? 18,
    legacyDataMediaType: options.legacyDataMediaType ?? 0,
    resolveHost: options.resolveHost,
    resolveTimeoutMs: 50,
  });
  return { group, nodes };
}

void describe('NodeService', () => {
  void it('registers a meta node in zone "default" with the configured node set capacity (ids of the wire sample)', async () => {
    const { group, nodes } = setup({ nodeSetCapacity: 5 });
    assert.deepEqual(await nodes.addMetaNode(meta), { id: 2, nodeSetId: 1, created: true });
    assert.equal(group.state.nodeSets.get(1)?.capacity, 5);
    assert.equal(group.state.metaNodes.get(2)?.zoneName, 'default');
    // idempotent by addr
    assert.deepEqual(await nodes.addMetaNode(meta), { id: 2, nodeSetId: 1, created: false });
  });

  void it('stamps a data node with the clock and the requested media type', async () => {
    const { group, nodes } = setup();
    await nodes.addMetaNode(meta);
    const added = await nodes.addDataNode({ ...meta, addr: '127.0.0.1:17310', mediaType: 1 });
    assert.equal(added.id, 3);
    assert.equal(group.state.dataNodes.get(3)?.createTimeMs, T_MS);
    assert.equal(group.state.dataNodes.get(3)?.mediaType, 1);
  });

  void it('needs a media type unless legacyDataMediaType is configured (code 1)', async () => {
    const { group, nodes } = setup();
    const before = modelDigest(group.state);
    await assert.rejects(nodes.addDataNode({ ...meta, mediaType: undefined }), { code: 1 });
    assert.equal(modelDigest(group.state), before);
    const legacy = setup({ legacyDataMediaType: 2 });
    const added = await legacy.nodes.addDataNode({ ...meta, mediaType: undefined });
    assert.equal(legacy.group.state.dataNodes.get(added.id)?.mediaType, 2);
  });

  void it('refuses bad addrs and ports with code 2 naming the field, proposing nothing', async () => {
    const { group, nodes } = setup({ resolveHost: () => Promise.reject(new Error('NXDOMAIN')) });
    for (const [req, field] of [
      [{ ...meta, addr: '127.0.0.1' }, 'addr'],
      [{ ...meta, addr: '999.0.0.1:1' }, 'addr'],
      [{ ...meta, addr: 'nosuchhost:17210' }, 'addr'],
      [{ ...meta, heartbeatPort: 'x' }, 'heartbeatPort'],
      [{ ...meta, replicaPort: '70000' }, 'replicaPort'],
    ] as const) {
      await assert.rejects(nodes.addMetaNode(req), (e: Error & { code?: number; field?: string }) => {
        assert.equal(e.code, 2, e.message);
        assert.equal(e.field, field);
        return true;
      });
    }
    assert.equal(group.proposed.length, 0);
  });

  void it('resolves a host name to an IP before proposing (spec 1.3)', async () => {
    const { group, nodes } = setup({ resolveHost: (h) => Promise.resolve(h === 'meta1' ? '10.0.0.7' : 'fe80::1') });
    await nodes.addMetaNode({ ...meta, addr: 'meta1:17210' });
    assert.ok(group.state.index.metaNodeIdByAddr.has('10.0.0.7:17210'));
    await nodes.addMetaNode({ ...meta, addr: 'meta6:17210' });
    assert.ok(group.state.index.metaNodeIdByAddr.has('[fe80::1]:17210'));
  });

  void it('bounds a hanging resolver', async () => {
    const { nodes } = setup({ resolveHost: () => new Promise<string>(() => {}) });
    await assert.rejects(nodes.addMetaNode({ ...meta, addr: 'slow:17210' }), { code: 2, field: 'addr' });
  });

  void it('refuses a node set capacity below 3 at construction', () => {
    assert.throws(() => setup({ nodeSetCapacity: 2 }), { code: 2 });
  });
});
