// /metaNode/*, /dataNode/*, getAll*: registration as the real nodes do it (metanode-datanode-to-master.jsonl).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modelDigest } from '../../src/model/index.js';
import { dataNodeGetAfterAdd, metaNodeGetAfterAdd } from '../model/wire-samples.js';
import { assertSameShape, call, fails, ok, singleMaster, wireData } from './helpers.js';

// The exact requests the real nodes sent.
const META_ADD = '/metaNode/add?clientIDKey=&heartbeatPort=17230&replicaPort=17231&addr=127.0.0.1:17210&zoneName=';
const DATA_ADD = '/dataNode/add?heartbeatPort=17330&replicaPort=17331&zoneName=default&clientIDKey=&mediaType=1&addr=127.0.0.1:17310';

void describe('/metaNode/add and /dataNode/add', () => {
  void it('answers the node id as a bare JSON number, idempotently (wire: data 2, then 3)', async () => {
    const { app } = singleMaster();
    const res = await call(app, META_ADD);
    assert.equal(res.text, '{"code":0,"msg":"success","data":2}');
    assert.equal(await ok(app, META_ADD), 2);
    assert.equal((await call(app, DATA_ADD)).text, '{"code":0,"msg":"success","data":3}');
    assert.equal(await ok(app, { method: 'POST', url: DATA_ADD }), 3);
  });

  void it('refuses a missing or bad addr with code 2 and changes nothing', async () => {
    const { app, group } = singleMaster({ resolveHost: () => Promise.reject(new Error('no such host')) });
    const before = modelDigest(group.state);
    assert.equal(await fails(app, '/metaNode/add?addr=', 2), '[operate_util.go 225] parameter addr not found');
    assert.equal(await fails(app, '/metaNode/add?addr=127.0.0.1', 2), 'addr not legal');
    assert.match(await fails(app, '/dataNode/add?addr=nohost:1&mediaType=1', 2), /addr not legal/);
    assert.match(await fails(app, '/metaNode/add?addr=127.0.0.1:1&id=-1', 2), /args \[id\] is not legal/);
    assert.match(await fails(app, '/metaNode/add?addr=127.0.0.1:1&heartbeatPort=abc', 2), /heartbeatPort/);
    assert.equal(modelDigest(group.state), before);
    assert.equal(group.proposed.length, 0);
  });

  void it('needs mediaType for a data node unless legacyDataMediaType is set (code 1, spec 11)', async () => {
    const { app, group } = singleMaster();
    const before = modelDigest(group.state);
    assert.match(await fails(app, '/dataNode/add?addr=127.0.0.1:17310', 1), /hint DataNode mediaType not match/);
    assert.equal(modelDigest(group.state), before);
    const legacy = singleMaster({ cluster: { clusterName: 'test', selfId: 1, selfHttpAddr: '127.0.0.1:17010', legacyDataMediaType: 2 } });
    assert.equal(await ok(legacy.app, '/dataNode/add?addr=127.0.0.1:17310'), 2);
    assert.equal(legacy.group.state.dataNodes.get(2)?.mediaType, 2);
  });

  void it('answers 64 for an unknown node set id and 1 for a media type the zone does not have', async () => {
    const { app } = singleMaster();
    await fails(app, '/metaNode/add?addr=127.0.0.1:17210&id=99', 64);
    await ok(app, DATA_ADD);
    assert.match(await fails(app, '/dataNode/add?addr=127.0.0.1:17311&mediaType=2', 1), /mediaType not match/);
  });
});

void describe('/metaNode/get, /dataNode/get, getAllMetaNodes, getAllDataNodes', () => {
  void it('answers MetaNodeInfo and DataNodeInfo as the wire samples', async () => {
    const { app, group } = singleMaster();
    await ok(app, META_ADD);
    await ok(app, DATA_ADD);
    const meta = await ok(app, '/metaNode/get?addr=127.0.0.1:17210');
    assert.deepEqual(meta, wireData(metaNodeGetAfterAdd));
    const data = await ok(app, '/dataNode/get?addr=127.0.0.1:17310');
    // ReportTime is the add time until the first heartbeat (our clock, not the sample's)
    assertSameShape(data, wireData(dataNodeGetAfterAdd));
    const expected = { ...(wireData(dataNodeGetAfterAdd) as Record<string, unknown>), ReportTime: '2026-11-25T18:41:11Z' };
    assert.deepEqual(data, expected);
    assert.ok(group.readBarriers >= 2);
  });

  void it('answers 13 and 12 for unknown addrs, and 2 without addr', async () => {
    const { app } = singleMaster();
    assert.equal(await fails(app, '/metaNode/get?addr=127.0.0.1:1', 13), 'meta node not exists');
    assert.equal(await fails(app, '/dataNode/get?addr=127.0.0.1:1', 12), 'data node not exists');
    assert.equal(await fails(app, '/dataNode/get', 2), '[operate_util.go 225] parameter addr not found');
    assert.match(await fails(app, '/dataNode/get?addr=127.0.0.1:1&ignoreDiscard=nope', 2), /ignoreDiscard/);
  });

  void it('lists NodeViews sorted by id, [] when empty', async () => {
    const { app } = singleMaster();
    assert.deepEqual(await ok(app, '/admin/cluster/getAllMetaNodes'), []);
    assert.deepEqual(await ok(app, '/admin/cluster/getAllDataNodes'), []);
    await ok(app, META_ADD);
    await ok(app, '/metaNode/add?addr=127.0.0.1:17211');
    await ok(app, DATA_ADD);
    const metas = (await ok(app, '/admin/cluster/getAllMetaNodes')) as { ID: number; Addr: string; Status: boolean; MediaType: number }[];
    assert.deepEqual(
      metas.map((n) => [n.ID, n.Addr, n.Status, n.MediaType]),
      [
        [2, '127.0.0.1:17210', false, 0],
        [3, '127.0.0.1:17211', false, 0],
      ],
    );
    const datas = (await ok(app, '/admin/cluster/getAllDataNodes')) as { ID: number; MediaType: number }[];
    assert.deepEqual(datas.map((n) => [n.ID, n.MediaType]), [[4, 1]]);
    assert.deepEqual(Object.keys(datas[0]), ['Addr', 'Status', 'DomainAddr', 'ID', 'IsWritable', 'MediaType', 'ForbidWriteOpOfProtoVer0']);
  });
});
