// The nodes' POST /metaNode/response and /dataNode/response bodies of the capture
// (node-wire/http-to-master.jsonl): every one parses, 64-bit values exact, and its task ID is the
// ID of the ack-only task the master sent before it, so that replaying the capture through the
// queued sender (tasks enqueued as the master sent them, acknowledged as the nodes answered)
// queues each task once and leaves nothing unanswered.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeAdminTask } from '../../src/nodes/admin-task.js';
import { decodeUpdateMetaPartitionResponse, parseNodeResponse, type NodeResponseSource } from '../../src/nodes/heartbeat-report.js';
import { Opcode } from '../../src/nodes/opcodes.js';
import { isUrgentOpcode, TaskQueue } from '../../src/nodes/task-queue.js';
import { INT64_MAX } from '../../src/util/json.js';
import { readJsonl, skipUnless, wireJson, type HttpExchange, type MasterToNodeExchange } from './capture.js';

const HTTP = 'node-wire/http-to-master.jsonl';
const MASTER_TO_NODE = 'node-wire/master-to-node-tcp.jsonl';

interface CapturedResponse {
  readonly atMs: number;
  readonly source: NodeResponseSource;
  readonly body: Buffer;
}

function responses(): CapturedResponse[] {
  const out: CapturedResponse[] = [];
  for (const e of readJsonl<HttpExchange & { connStart: string }>(HTTP)) {
    const m = /^POST \/(metaNode|dataNode)\/response /.exec(e.request.startLine);
    if (m === null) continue;
    out.push({ atMs: Date.parse(e.connStart), source: m[1] as NodeResponseSource, body: Buffer.from(wireJson(e.request.bodyJSON), 'utf8') });
  }
  return out;
}

const ACK_ONLY: ReadonlySet<number> = new Set([Opcode.MetaNodeHeartbeat, Opcode.DataNodeHeartbeat, Opcode.UpdateMetaPartition, Opcode.LoadDataPartition]);

void describe('node responses against the capture', { skip: skipUnless(HTTP) || skipUnless(MASTER_TO_NODE) }, () => {
  void test('every captured response parses; heartbeat reports and task results keep 64-bit values exact', () => {
    const all = responses();
    assert.equal(all.length, 70);
    const kinds = new Map<string, number>();
    let lastMpEnds = 0;
    for (const r of all) {
      const parsed = parseNodeResponse(r.source, r.body);
      kinds.set(parsed.kind, (kinds.get(parsed.kind) ?? 0) + 1);
      assert.match(parsed.taskId, /^addr\[127\.0\.0\.1:18[23]10\]_op\[\d+\]/);
      if (parsed.kind === 'metaHeartbeat') {
        assert.equal(parsed.report.total, 4294967296n);
        for (const p of parsed.report.metaPartitions) if (p.end === INT64_MAX) lastMpEnds += 1;
      } else if (parsed.kind === 'dataHeartbeat') {
        assert.equal(parsed.report.status, 1);
      } else if (parsed.opCode === Opcode.UpdateMetaPartition) {
        assert.deepEqual(decodeUpdateMetaPartitionResponse(parsed.response), { partitionId: 3, volName: 'npvol', end: 12582915n, status: 1, result: '' });
      } else {
        assert.equal(parsed.opCode, Opcode.LoadDataPartition);
        assert.equal(parsed.status, 1);
      }
    }
    assert.deepEqual(Object.fromEntries(kinds), { metaHeartbeat: 29, dataHeartbeat: 28, taskResult: 13 });
    // The open-ended last partition (End 2^63-1) as reported, never rounded to 9223372036854776000.
    assert.ok(lastMpEnds > 0);
  });

  void test('replayed in time order through the queued sender, each sent task is queued once and answered by its response', () => {
    let nowMs = 0;
    const queue = new TaskQueue({ sender: { sendAdminTask: () => Promise.resolve() }, clock: { nowMs: () => nowMs }, timer: { every: () => () => undefined } });
    queue.start();
    type Event = { atMs: number; order: number; run: () => void };
    const events: Event[] = [];
    let queued = 0;
    let answered = 0;
    for (const e of readJsonl<MasterToNodeExchange>(MASTER_TO_NODE)) {
      const task = decodeAdminTask(Buffer.from(wireJson(e.request.dataJSON), 'utf8'));
      if (!ACK_ONLY.has(task.OpCode)) continue;
      events.push({
        atMs: Date.parse(e.request.t),
        order: 0,
        run: () => {
          nowMs = Date.parse(e.request.t);
          assert.equal(queue.enqueue(task), 'queued', `${task.ID} at ${e.request.t}: its previous instance was answered`);
          queued += 1;
        },
      });
    }
    for (const r of responses()) {
      events.push({
        atMs: r.atMs,
        order: 1,
        run: () => {
          const parsed = parseNodeResponse(r.source, r.body);
          assert.equal(queue.acknowledge(parsed.nodeAddr, parsed.taskId), true, `${parsed.taskId}: answers a pending task`);
          answered += 1;
        },
      });
    }
    events.sort((a, b) => a.atMs - b.atMs || a.order - b.order);
    for (const ev of events) ev.run();
    assert.equal(answered, 70);
    // Tasks sent while the processes were stopping got no response; nothing else is left.
    assert.ok(queued - answered <= 2, `${queued - answered} unanswered`);
    assert.equal(queue.stats.duplicates, 0);
  });

  void test('urgent ops are those Go marks urgent', () => {
    assert.deepEqual(
      [Opcode.CreateMetaPartition, Opcode.CreateDataPartition, Opcode.LoadDataPartition, Opcode.UpdateMetaPartition, Opcode.MetaNodeHeartbeat, Opcode.DeleteMetaPartition].map(isUrgentOpcode),
      [true, true, true, true, false, false],
    );
  });
});
