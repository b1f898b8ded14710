// AdminTask and request builders: for every task in the capture, building it from the domain's
// values gives the exact JSON the Go master sent (field names, order, 64-bit values), and the
// task ID has the captured shape; the node-side decoders read the captured requests back.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { adminTaskId, decodeAdminTask, encodeAdminTask, newAdminTask } from '../../src/nodes/admin-task.js';
import { NodeMessageError } from '../../src/nodes/errors.js';
import { Opcode } from '../../src/nodes/opcodes.js';
import {
  createDataPartitionRequest,
  createMetaPartitionRequest,
  decodeCreateDataPartitionRequest,
  decodeCreateMetaPartitionRequest,
  decodeDeleteDataPartitionRequest,
  decodeHeartbeatRequest,
  decodeLoadDataPartitionRequest,
  decodeMetaPartitionIdRequest,
  decodeUpdateMetaPartitionRequest,
  deleteDataPartitionRequest,
  deleteMetaPartitionRequest,
  heartbeatRequestWire,
  loadDataPartitionRequest,
  loadMetaPartitionRequest,
  updateMetaPartitionRequest,
  type ReplicaPeer,
} from '../../src/nodes/task-requests.js';
import { INT64_MAX, parseJsonExact } from '../../src/util/json.js';
import { readJsonl, skipUnless, wireJson, type MasterToNodeExchange } from './capture.js';

const MASTER_TO_NODE = 'node-wire/master-to-node-tcp.jsonl';

type Json = Record<string, unknown>;

function big(v: unknown): bigint {
  return BigInt(v as string | number);
}

function members(req: Json): ReplicaPeer[] {
  return (req.Members as Json[]).map((m) => ({ id: m.id as number, addr: m.addr as string, heartbeatPort: m.raftHeartbeat as string, replicaPort: m.raftReplica as string }));
}

/** The request a builder makes from the values in a captured request. */
function rebuild(opCode: number, req: Json): unknown {
  switch (opCode) {
    case Opcode.CreateMetaPartition:
      return createMetaPartitionRequest({ partitionId: req.PartitionID as number, volName: req.VolName as string, start: big(req.Start), end: big(req.End), members: members(req), verSeq: big(req.VerSeq) });
    case Opcode.DeleteMetaPartition:
      return deleteMetaPartitionRequest(req.PartitionID as number);
    case Opcode.LoadMetaPartition:
      return loadMetaPartitionRequest(req.PartitionID as number);
    case Opcode.UpdateMetaPartition:
      return updateMetaPartitionRequest({ partitionId: req.PartitionID as number, volName: req.VolName as string, start: big(req.Start), end: big(req.End) });
    case Opcode.CreateDataPartition:
      return createDataPartitionRequest({
        partitionId: req.PartitionId as number,
        volName: req.VolumeId as string,
        partitionSizeBytes: big(req.PartitionSize),
        replicaNum: req.ReplicaNum as number,
        members: members(req),
        hosts: req.Hosts as string[],
      });
    case Opcode.DeleteDataPartition:
      return deleteDataPartitionRequest(req.PartitionId as number);
    case Opcode.LoadDataPartition:
      return loadDataPartitionRequest(req.PartitionId as number);
    case Opcode.MetaNodeHeartbeat:
    case Opcode.DataNodeHeartbeat:
      return heartbeatRequestWire(opCode === Opcode.MetaNodeHeartbeat ? 'meta' : 'data', {
        currTimeSec: req.CurrTime as number,
        masterAddr: req.MasterAddr as string,
        flReadVols: req.FLReadVols as string[] | null,
        txInfo: (req.TxInfo as Json[] | null)?.map((t) => ({ volume: t.Volume as string, mask: t.Mask as number, opLimitVal: t.OpLimitVal as number })) ?? null,
        volsForbidWriteOpOfProtoVer0: req.VolsForbidWriteOpOfProtoVer0 as string[] | null,
      });
    default:
      throw new Error(`no builder for op ${opCode}`);
  }
}

void describe('AdminTask builders against the capture', { skip: skipUnless(MASTER_TO_NODE) }, () => {
  const exchanges = readJsonl<MasterToNodeExchange>(MASTER_TO_NODE);

  void test('every captured task is rebuilt byte for byte from the domain values', () => {
    const ops = new Set<number>();
    for (const e of exchanges) {
      const t = e.request.dataJSON;
      const opCode = t.OpCode as number;
      ops.add(opCode);
      const heartbeat = opCode === Opcode.MetaNodeHeartbeat || opCode === Opcode.DataNodeHeartbeat;
      const task = newAdminTask({
        opCode,
        operatorAddr: t.OperatorAddr as string,
        partitionId: heartbeat ? undefined : (t.PartitionID as number),
        request: rebuild(opCode, t.Request as Json),
        createTimeSec: t.CreateTime as number,
        sendTimeSec: t.SendTime as number,
        requestId: t.RequestID as string,
      });
      assert.equal(encodeAdminTask(task).toString('utf8'), wireJson(t), `${e.request.op} at ${e.request.t}`);
    }
    assert.equal(ops.size, 9);
  });

  void test('task IDs: addr[A]_op[N] for heartbeats, _pid[N] for MP tasks, _DataPartitionID[N] for DP tasks', () => {
    for (const e of exchanges) {
      const t = e.request.dataJSON;
      assert.equal(adminTaskId(t.OpCode as number, t.OperatorAddr as string, t.PartitionID as number), t.ID);
    }
    assert.equal(adminTaskId(Opcode.MetaNodeHeartbeat, '127.0.0.1:18210', 0), 'addr[127.0.0.1:18210]_op[65]');
    assert.equal(adminTaskId(Opcode.CreateMetaPartition, '127.0.0.1:18210', 4), 'addr[127.0.0.1:18210]_op[64]_pid[4]');
    assert.equal(adminTaskId(Opcode.LoadDataPartition, '127.0.0.1:18310', 2), 'addr[127.0.0.1:18310]_op[98]_DataPartitionID[2]');
  });

  void test('the node-side decoders read every captured request', () => {
    for (const e of exchanges) {
      const task = decodeAdminTask(Buffer.from(wireJson(e.request.dataJSON)));
      switch (task.OpCode) {
        case Opcode.CreateMetaPartition: {
          const r = decodeCreateMetaPartitionRequest(task.Request);
          assert.equal(r.partitionId, task.PartitionID);
          assert.ok(r.end > r.start);
          assert.equal(r.members.length, 1);
          break;
        }
        case Opcode.DeleteMetaPartition:
        case Opcode.LoadMetaPartition:
          assert.equal(decodeMetaPartitionIdRequest(task.Request).partitionId, task.PartitionID);
          break;
        case Opcode.UpdateMetaPartition:
          assert.equal(decodeUpdateMetaPartitionRequest(task.Request).end, 12582915n);
          break;
        case Opcode.CreateDataPartition: {
          const r = decodeCreateDataPartitionRequest(task.Request);
          assert.equal(r.partitionSizeBytes, 11811160064n);
          assert.equal(r.volName.length > 0, true);
          break;
        }
        case Opcode.DeleteDataPartition:
          assert.equal(decodeDeleteDataPartitionRequest(task.Request).partitionId, task.PartitionID);
          break;
        case Opcode.LoadDataPartition:
          assert.equal(decodeLoadDataPartitionRequest(task.Request).partitionId, task.PartitionID);
          break;
        default:
          assert.equal(decodeHeartbeatRequest(task.Request).masterAddr, '127.0.0.1:18010');
      }
    }
  });
});

void describe('AdminTask 64-bit values', () => {
  void test('End = 2^63-1 is printed and read back exactly', () => {
    const task = newAdminTask({
      opCode: Opcode.CreateMetaPartition,
      operatorAddr: '127.0.0.1:17210',
      partitionId: 3,
      request: createMetaPartitionRequest({ partitionId: 3, volName: 'v', start: 8388609n, end: INT64_MAX, members: [] }),
      createTimeSec: 1,
      requestId: 'r',
    });
    const text = encodeAdminTask(task).toString();
    assert.match(text, /"End":9223372036854775807,/);
    assert.equal(decodeCreateMetaPartitionRequest(decodeAdminTask(text).Request).end, INT64_MAX);
    assert.equal((parseJsonExact(text) as { Request: { End: unknown } }).Request.End, INT64_MAX);
  });

  void test('decoders name the bad field', () => {
    assert.throws(
      () => decodeCreateMetaPartitionRequest({ PartitionID: 1, Start: 0, End: -5 }),
      (e: unknown) => e instanceof NodeMessageError && e.field === 'Request.End',
    );
    assert.throws(
      () => decodeCreateDataPartitionRequest({ PartitionId: 1, Members: [{ id: 'x' }] }),
      (e: unknown) => e instanceof NodeMessageError && e.field === 'Request.Members[0].id',
    );
    assert.throws(() => decodeMetaPartitionIdRequest(null), (e: unknown) => e instanceof NodeMessageError && e.field === 'Request');
  });
});
