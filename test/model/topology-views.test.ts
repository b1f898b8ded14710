// The topology views (src/model/topology-views.ts): /zone/list, /nodeSet/list, /nodeSet/get,
// /topo/get and /cluster/stat, against the Go master's replies in wire-samples.ts where one was
// captured, and against Go's struct field order and arithmetic (master/api_service.go,
// master/cluster_stat.go) where none was. Rendered with stringifyJson as the HTTP layer does.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelState } from '../../src/model/index.js';
import {
  clusterStat,
  dataNodeStatInfo,
  emptyStatInfo,
  makeCommand,
  mediaTypeString,
  metaNodeStatInfo,
  nodeSetList,
  nodeSetStatInfoById,
  setDataNodeLive,
  setMetaNodeLive,
  topologyView,
  zoneList,
} from '../../src/model/index.js';
import { stringifyJson } from '../../src/util/json.js';
import { bootstrapped, dataNodeAddCmd, metaNodeAddCmd, ok, sameJson, wireData, withNodes } from './helpers.js';
import * as wire from './wire-samples.js';

const META_ADDR = '127.0.0.1:17210';
const DATA_ADDR = '127.0.0.1:17310';
const META_DOMAIN = 'localhost:17210,runsc:17210,vm:17210';
const DATA_DOMAIN = 'localhost:17310,runsc:17310,vm:17310';



/**
 * The nodes of cli-vs-master-with-meta-data-nodes: node set 1 in zone default with meta node 2
 * and data node 3, both heartbeating with the figures of their reports in
 * metanode-datanode-to-master (#173, #174).
 */
function capturedNodes(): ModelState {
  const state = bootstrapped();
  withNodes(state);
  assert.ok(
    setMetaNodeLive(state, 2, {
      isActive: true,
      isWritable: true,
      domainAddr: META_DOMAIN,
      totalWeight: 4_294_967_296,
      usedWeight: 163_962_880,
      maxMemAvailWeight: 4_131_004_416,
      ratio: 0.038_175_582_885_742_19,
      metaPartitionCount: 3,
    }),
  );
  assert.ok(
    setDataNodeLive(state, 3, {
      isActive: true,
      isWritable: true,
      domainAddr: DATA_DOMAIN,
      totalWeight: 259_815_755_776,
      usedWeight: 27_857_399_808,
      availableSpace: 70_349_475_840,
      dataPartitionCount: 10,
    }),
  );
  return state;
}

void describe('topology views match the captured CubeFS replies', () => {
  void it('/zone/list with one zone: NodeSet {} and DataMediaType "" (listZone fills neither)', () => {
    const state = capturedNodes();
    assert.equal(state.zones.get('default')?.dataMediaType, 1);
    sameJson(zoneList(state), wireData(wire.zoneListOne));
  });

  void it('/nodeSet/list with one writable meta and data node', () => {
    const state = capturedNodes();
    sameJson(nodeSetList(state, ''), wireData(wire.nodeSetListOne));
    sameJson(nodeSetList(state, 'default'), wireData(wire.nodeSetListOne));
  });

  void it('/zone/list, /nodeSet/list and /cluster/stat without nodes', () => {
    const state = bootstrapped();
    sameJson(zoneList(state), wireData(wire.zoneListEmpty));
    sameJson(nodeSetList(state, ''), wireData(wire.nodeSetListEmpty));
    sameJson(clusterStat(state), wireData(wire.clusterStatEmpty));
  });
});

void describe('topology views', () => {
  void it('/topo/get: zones with node sets keyed by id, meta nodes with Ratio, Go field order', () => {
    const state = capturedNodes();
    const expected = {
      Zones: [
        {
          Name: 'default',
          Status: 'available',
          DataNodesetSelector: 'RoundRobin',
          MetaNodesetSelector: 'RoundRobin',
          NodeSet: {
            '1': {
              DataNodeLen: 1,
              MetaNodeLen: 1,
              MetaNodes: [
                {
                  Addr: META_ADDR,
                  Status: true,
                  DomainAddr: META_DOMAIN,
                  ID: 2,
                  IsWritable: true,
                  MediaType: 0,
                  ForbidWriteOpOfProtoVer0: false,
                  Ratio: 0.038_175_582_885_742_19,
                  SystemRatio: 0,
                },
              ],
              DataNodes: [
                { Addr: DATA_ADDR, Status: true, DomainAddr: DATA_DOMAIN, ID: 3, IsWritable: true, MediaType: 1, ForbidWriteOpOfProtoVer0: false },
              ],
            },
          },
          DataMediaType: 'SSD',
        },
      ],
    };
    sameJson(topologyView(state), expected);
  });

  void it('/topo/get: a zone without data nodes shows DataMediaType "Unspecified" and empty lists as []', () => {
    const state = bootstrapped();
    ok(state, metaNodeAddCmd('10.0.0.1:17210', { zoneName: 'metaonly' }));
    const [zone] = topologyView(state).Zones;
    assert.equal(zone.DataMediaType, 'Unspecified');
    assert.equal(stringifyJson(zone.NodeSet['1']), stringifyJson({ DataNodeLen: 0, MetaNodeLen: 1, MetaNodes: [zone.NodeSet['1'].MetaNodes[0]], DataNodes: [] }));
    assert.deepEqual([mediaTypeString(2), mediaTypeString(7)], ['HDD', 'InvalidValue(7)']);
  });

  void it('list zones by name and node sets by id; NodeSet keys print in numeric order (Go: as strings)', () => {
    const state = bootstrapped();
    ok(state, makeCommand('ids.reserve', { counter: 'common', count: 7 }));
    // Node set 8 (cap 3) takes meta nodes 9-11, the 4th opens node set 12 for node 13.
    for (let i = 1; i <= 4; i++) ok(state, metaNodeAddCmd(`10.0.0.${i}:17210`, { zoneName: 'zb', nodeSetCapacity: 3 }));
    ok(state, metaNodeAddCmd('10.0.1.1:17210', { zoneName: 'za' }));
    assert.deepEqual(
      zoneList(state).map((z) => z.Name),
      ['za', 'zb'],
    );
    assert.deepEqual(
      nodeSetList(state, '').map((s) => [s.ID, s.Zone, s.MetaNodeNum]),
      [
        [14, 'za', 1],
        [8, 'zb', 3],
        [12, 'zb', 1],
      ],
    );
    const zb = topologyView(state).Zones[1];
    // Deliberate: a JS object prints integer keys ascending; Go's encoding/json sorts map keys
    // as strings ("12" before "8"). JSON readers do not depend on key order.
    assert.match(stringifyJson(zb), /"NodeSet":\{"8":\{"DataNodeLen":0,"MetaNodeLen":3,.*\},"12":\{"DataNodeLen":0,"MetaNodeLen":1,/);
    assert.deepEqual(
      zb.NodeSet['8'].MetaNodes.map((n) => n.ID),
      [9, 10, 11],
    );
    assert.throws(() => nodeSetList(state, 'nope'), { code: 52 });
  });

  void it('count a node as writable and allocatable as Go IsWriteAble / PartitionCntLimited do', () => {
    const state = capturedNodes();
    const stat = () => nodeSetList(state, 'default')[0];
    const metaInTopo = () => topologyView(state).Zones[0].NodeSet['1'].MetaNodes[0];
    const dataInTopo = () => topologyView(state).Zones[0].NodeSet['1'].DataNodes[0];
    // At the per-node limit (300 / 3000) a node still counts; one more and it does not.
    setMetaNodeLive(state, 2, { metaPartitionCount: 300 });
    setDataNodeLive(state, 3, { dataPartitionCount: 3000 });
    assert.deepEqual([stat().CanAllocMetaNodeCnt, stat().CanAllocDataNodeCnt], [1, 1]);
    setMetaNodeLive(state, 2, { metaPartitionCount: 301 });
    setDataNodeLive(state, 3, { dataPartitionCount: 3001 });
    assert.deepEqual([stat().CanAllocMetaNodeCnt, stat().CanAllocDataNodeCnt], [0, 0]);
    assert.deepEqual([metaInTopo().IsWritable, dataInTopo().IsWritable], [true, true]);
    setMetaNodeLive(state, 2, { metaPartitionCount: 3 });
    setDataNodeLive(state, 3, { dataPartitionCount: 10 });
    // A read-only node is not writable even before its next heartbeat says so.
    ok(state, makeCommand('node.setRdOnly', { kind: 'meta', addr: META_ADDR, rdOnly: true }));
    ok(state, makeCommand('node.setRdOnly', { kind: 'data', addr: DATA_ADDR, rdOnly: true }));
    assert.deepEqual([stat().CanAllocMetaNodeCnt, stat().CanAllocDataNodeCnt], [0, 0]);
    assert.deepEqual([metaInTopo().IsWritable, dataInTopo().IsWritable], [false, false]);
    assert.equal(nodeSetStatInfoById(state, 1).MetaNodes?.[0].IsWritable, false);
    // A node whose heartbeat said not writable.
    ok(state, makeCommand('node.setRdOnly', { kind: 'meta', addr: META_ADDR, rdOnly: false }));
    setMetaNodeLive(state, 2, { isWritable: false });
    assert.equal(stat().CanAllocMetaNodeCnt, 0);
    assert.equal(metaInTopo().IsWritable, false);
  });

  void it('/nodeSet/get: Go field order, node capacity figures, null lists, 64 when unknown', () => {
    const state = capturedNodes();
    const expected = {
      ID: 1,
      Capacity: 18,
      Zone: 'default',
      CanAllocMetaNodeCnt: 1,
      CanAllocDataNodeCnt: 1,
      MetaNodes: [{ Addr: META_ADDR, Status: true, DomainAddr: META_DOMAIN, ID: 2, IsWritable: true, Total: 4_294_967_296, Used: 163_962_880, Avail: 4_131_004_416 }],
      DataNodes: [
        { Addr: DATA_ADDR, Status: true, DomainAddr: DATA_DOMAIN, ID: 3, IsWritable: true, Total: 259_815_755_776, Used: 27_857_399_808, Avail: 231_958_355_968 },
      ],
      DataNodeSelector: 'CarryWeight',
      MetaNodeSelector: 'CarryWeight',
    };
    sameJson(nodeSetStatInfoById(state, 1), expected);
    // A node set with meta nodes only: DataNodes is null (Go appends to a nil slice).
    ok(state, metaNodeAddCmd('10.0.0.1:17210', { zoneName: 'metaonly' }));
    const other = nodeSetStatInfoById(state, 4);
    assert.deepEqual([other.Zone, other.DataNodes, other.MetaNodes?.length], ['metaonly', null, 1]);
    assert.match(stringifyJson(other), /"DataNodes":null,/);
    assert.throws(() => nodeSetStatInfoById(state, 99), { code: 64 });
  });

  void it('/nodeSet/get: Avail stops at 0 where Go uint64 Total - Used would wrap (deliberate)', () => {
    const state = capturedNodes();
    setMetaNodeLive(state, 2, { totalWeight: 100, usedWeight: 150 });
    assert.equal(nodeSetStatInfoById(state, 1).MetaNodes?.[0].Avail, 0);
  });

  void it('a data node before its first heartbeat: TotalWeight 1, not writable, not allocatable', () => {
    const state = bootstrapped();
    ok(state, dataNodeAddCmd(DATA_ADDR));
    const info = nodeSetStatInfoById(state, 1);
    assert.deepEqual(info.DataNodes, [{ Addr: DATA_ADDR, Status: false, DomainAddr: '', ID: 2, IsWritable: false, Total: 1, Used: 0, Avail: 1 }]);
    assert.deepEqual([info.CanAllocDataNodeCnt, info.MetaNodes], [0, null]);
  });
});

void describe('/cluster/stat', () => {
  void it('sums node figures in whole GB (rounded down) with a 3-decimal float32 ratio, per zone with 2 decimals', () => {
    const state = capturedNodes();
    const expected = {
      DataNodeStatInfo: { TotalGB: 241, UsedGB: 25, IncreasedGB: 25, UsedRatio: '0.107', AvailGB: 65 },
      MetaNodeStatInfo: { TotalGB: 4, UsedGB: 0, IncreasedGB: 0, UsedRatio: '0.038', AvailGB: 3 },
      ZoneStatInfo: {
        default: {
          DataNodeStat: { TotalGB: 241.97, UsedGB: 25.94, AvailGB: 216.03, UsedRatio: 0.11, TotalNodes: 1, WritableNodes: 1 },
          MetaNodeStat: { TotalGB: 4, UsedGB: 0.15, AvailGB: 3.85, UsedRatio: 0.04, TotalNodes: 1, WritableNodes: 1 },
        },
      },
    };
    sameJson(clusterStat(state), expected);
  });

  void it('IncreasedGB is against the previous round; without capacity the previous figures stay', () => {
    const state = capturedNodes();
    const previous = { TotalGB: 241, UsedGB: 20, IncreasedGB: 3, UsedRatio: '0.083', AvailGB: 70 };
    assert.equal(dataNodeStatInfo(state, previous).IncreasedGB, 5);
    setMetaNodeLive(state, 2, { totalWeight: 0, usedWeight: 0 });
    assert.deepEqual(metaNodeStatInfo(state, previous), previous);
    assert.deepEqual(metaNodeStatInfo(state), emptyStatInfo());
    const stat = clusterStat(state, { previousMetaNodeStat: previous });
    assert.deepEqual(stat.MetaNodeStatInfo, previous);
  });

  void it('counts available bytes of active nodes only; a zone without a node kind shows TotalGB 1', () => {
    const state = capturedNodes();
    setDataNodeLive(state, 3, { isActive: false });
    setMetaNodeLive(state, 2, { isActive: false });
    const stat = clusterStat(state);
    assert.deepEqual([stat.DataNodeStatInfo.AvailGB, stat.MetaNodeStatInfo.AvailGB], [0, 0]);
    assert.deepEqual([stat.ZoneStatInfo['default'].DataNodeStat.WritableNodes, stat.ZoneStatInfo['default'].MetaNodeStat.WritableNodes], [0, 0]);
    ok(state, metaNodeAddCmd('10.0.0.1:17210', { zoneName: 'metaonly' }));
    sameJson(clusterStat(state).ZoneStatInfo['metaonly'], {
      DataNodeStat: { TotalGB: 1, UsedGB: 0, AvailGB: 0, UsedRatio: 0, TotalNodes: 0, WritableNodes: 0 },
      MetaNodeStat: { TotalGB: 1, UsedGB: 0, AvailGB: 0, UsedRatio: 0, TotalNodes: 1, WritableNodes: 0 },
    });
    assert.deepEqual(Object.keys(clusterStat(state).ZoneStatInfo), ['default', 'metaonly']);
  });
});
