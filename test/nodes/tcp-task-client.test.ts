// TcpTaskClient against fake nodes (net.createServer on 127.0.81.x) that answer with malformed
// replies: a short header, a wrong magic, a huge length field, a reply to another request, bad
// JSON in Data, unsolicited bytes on an idle connection. Each closes that connection with one
// logged warning; the op fails or is retried by its rules (synchronous: 3 tries; ack-only: one,
// then the queued sender's next send); the client stays usable and nothing is thrown at the
// process. Also the timeouts and tries the Go master uses (spec/node-protocol.md 2.1).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { decodeAdminTask } from '../../src/nodes/admin-task.js';
import { Opcode } from '../../src/nodes/opcodes.js';
import { encodePacket, makePacket, makeReply, PacketDecoder, ResultCode, type Packet } from '../../src/nodes/packet.js';
import { NodeTaskError, type TaskLogSink } from '../../src/nodes/task-client.js';
import { TaskQueue } from '../../src/nodes/task-queue.js';
import { TCP_TASK_CLIENT_DEFAULTS, TcpTaskClient, type TcpTaskClientOptions } from '../../src/nodes/tcp-task-client.js';

type Behaviour = 'ok' | 'short-header' | 'bad-magic' | 'huge-size' | 'other-reqid' | 'bad-json' | 'silent';

interface FakeNode {
  readonly addr: string;
  /** What the n-th connection (0-based) answers to each request. */
  behaviour: (connNo: number) => Behaviour;
  readonly requests: Packet[];
  connections: number;
  readonly sockets: Set<net.Socket>;
  /** Closed by the client (the fake saw 'end' or 'close' from its side). */
  closedByPeer: number;
  close(): Promise<void>;
}

const nodes: FakeNode[] = [];
let hostNo = 10;

function replyBytes(request: Packet, behaviour: Behaviour): Buffer | null {
  const ok = (data: Uint8Array = Buffer.alloc(0)): Buffer => encodePacket(makeReply(request, ResultCode.OK, data));
  switch (behaviour) {
    case 'ok':
      return request.opcode === Opcode.LoadMetaPartition ? ok(Buffer.from('{"PartitionID":3,"MaxInode":9223372036854775807}')) : ok();
    case 'short-header':
      return ok().subarray(0, 20);
    case 'bad-magic': {
      const b = ok();
      b[0] = 0x7f;
      return b;
    }
    case 'huge-size': {
      const b = ok();
      b.writeUInt32BE(0xffff_ffff, 9);
      return b;
    }
    case 'other-reqid':
      return encodePacket(makeReply({ ...request, reqId: request.reqId + 7n }, ResultCode.OK));
    case 'bad-json':
      return ok(Buffer.from('{"PartitionID":3,'));
    case 'silent':
      return null;
  }
}

async function fakeNode(behaviour: (connNo: number) => Behaviour): Promise<FakeNode> {
  const host = `127.0.81.${hostNo++}`;
  const node: FakeNode = {
    addr: '',
    behaviour,
    requests: [],
    connections: 0,
    sockets: new Set(),
    closedByPeer: 0,
    close: () => new Promise<void>((resolve) => {
      for (const s of node.sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  const server = net.createServer((socket) => {
    const connNo = node.connections++;
    node.sockets.add(socket);
    const decoder = new PacketDecoder();
    let closing = false;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      node.sockets.delete(socket);
      if (!closing) node.closedByPeer += 1;
    });
    socket.on('data', (chunk: Buffer) => {
      for (const request of decoder.push(chunk)) {
        node.requests.push(request);
        const b = node.behaviour(connNo);
        const bytes = replyBytes(request, b);
        if (bytes === null) continue;
        if (b === 'short-header') {
          closing = true;
          socket.end(bytes);
        } else socket.write(bytes);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  (node as { addr: string }).addr = `${host}:${(server.address() as net.AddressInfo).port}`;
  nodes.push(node);
  return node;
}

interface LogLine {
  readonly level: 'warn' | 'info';
  readonly obj: Record<string, unknown>;
  readonly msg: string;
}

function recordingSink(): { sink: TaskLogSink; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    sink: {
      warn: (obj, msg) => lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
      info: (obj, msg) => lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
    },
  };
}

const clients: TcpTaskClient[] = [];

function client(options: TcpTaskClientOptions = {}): TcpTaskClient {
  const c = new TcpTaskClient({ syncReplyTimeoutMs: 1_000, ackReplyTimeoutMs: 500, dialTimeoutMs: 1_000, retryDelayMs: 10, ...options });
  clients.push(c);
  return c;
}

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(nodes.map((n) => n.close()));
});

function protocolFaults(lines: readonly LogLine[]): LogLine[] {
  return lines.filter((l) => l.level === 'warn' && l.msg === 'malformed reply from a node: connection closed');
}

async function rejectsWith(p: Promise<unknown>, reason: string, text: RegExp): Promise<NodeTaskError> {
  let caught: unknown = null;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof NodeTaskError, `want a NodeTaskError, got ${String(caught)}`);
  assert.equal(caught.reason, reason, caught.message);
  assert.match(caught.message, text);
  return caught;
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 30));
}

void describe('TcpTaskClient: malformed replies', () => {
  const cases: readonly { readonly behaviour: Behaviour; readonly text: RegExp }[] = [
    { behaviour: 'short-header', text: /connection closed after 20 bytes of an incomplete packet/ },
    { behaviour: 'bad-magic', text: /bad magic 0x7f/ },
    { behaviour: 'huge-size', text: /Size 4294967295 exceeds the limit/ },
    { behaviour: 'other-reqid', text: /reply from .* is OpLoadMetaPartition ReqID \d+, want OpLoadMetaPartition ReqID \d+/ },
    { behaviour: 'bad-json', text: /OpLoadMetaPartition reply from .* is not JSON/ },
  ];

  for (const { behaviour, text } of cases) {
    void test(`${behaviour}: a synchronous op is tried 3 times, one fresh connection each, one logged warning per connection`, async () => {
      const node = await fakeNode(() => behaviour);
      const { sink, lines } = recordingSink();
      const c = client({ logger: sink });
      await rejectsWith(c.loadMetaPartition(node.addr, 3), 'protocol', text);
      assert.equal(node.requests.length, TCP_TASK_CLIENT_DEFAULTS.syncTriesMax);
      assert.equal(node.connections, 3);
      await settle();
      assert.equal(node.closedByPeer, behaviour === 'short-header' ? 0 : 3, 'the client closed every connection');
      const faults = protocolFaults(lines);
      assert.equal(faults.length, 3);
      for (const f of faults) {
        assert.equal(f.obj.node, node.addr);
        assert.equal(f.obj.op, 'OpLoadMetaPartition');
        assert.match(String(f.obj.err), text);
      }
      // The node behaves again: the same client works (nothing crashed, nothing is stuck).
      node.behaviour = () => 'ok';
      assert.deepEqual(await c.loadMetaPartition(node.addr, 3), { PartitionID: 3, MaxInode: 9223372036854775807n });
    });
  }

  void test('a malformed first reply, then a good one: the synchronous op succeeds on its second try', async () => {
    const node = await fakeNode((connNo) => (connNo === 0 ? 'bad-magic' : 'ok'));
    const { sink, lines } = recordingSink();
    const c = client({ logger: sink });
    await c.deleteMetaPartition(node.addr, 5);
    assert.equal(node.requests.length, 2);
    assert.equal(protocolFaults(lines).length, 1);
  });

  void test('ack-only ops: one try, a protocol failure, one warning', async () => {
    const node = await fakeNode(() => 'huge-size');
    const { sink, lines } = recordingSink();
    const c = client({ logger: sink });
    await rejectsWith(c.heartbeat(node.addr, 'meta', { currTimeSec: 1, masterAddr: '127.0.81.9:17010' }), 'protocol', /exceeds the limit/);
    assert.equal(node.requests.length, 1);
    assert.equal(protocolFaults(lines).length, 1);
  });

  void test('the queued sender over a malformed node: the send fails, the task stays for its re-send, the process goes on', async () => {
    const node = await fakeNode((connNo) => (connNo === 0 ? 'other-reqid' : 'ok'));
    const { sink, lines } = recordingSink();
    const c = client({ logger: sink });
    let nowMs = Date.UTC(2026, 10, 25);
    const queue = new TaskQueue({ sender: c, clock: { nowMs: () => nowMs }, timer: { every: () => () => undefined } });
    queue.start();
    queue.heartbeat(node.addr, 'data', { currTimeSec: 1, masterAddr: '127.0.81.9:17010' });
    await queue.tick();
    assert.equal(queue.stats.sendFailures, 1);
    assert.deepEqual(queue.pending(node.addr).map((p) => p.sendCount), [1]);
    assert.equal(protocolFaults(lines).length, 1);
    nowMs += 6_000;
    await queue.tick();
    assert.equal(queue.stats.sends, 1);
    // What went out the second time is the same task, counted (SendCount 1).
    const second = decodeAdminTask(node.requests[1].data);
    assert.equal(second.ID, `addr[${node.addr}]_op[99]`);
    assert.equal(second.SendCount, 1);
    await queue.stop();
  });

  void test('bytes on an idle pooled connection close it with one warning; the next op dials a new one', async () => {
    const node = await fakeNode(() => 'ok');
    const { sink, lines } = recordingSink();
    const c = client({ logger: sink });
    await c.deleteDataPartition(node.addr, 6);
    assert.equal(node.connections, 1);
    for (const s of node.sockets) s.write(encodePacket(makePacket({ opcode: Opcode.DeleteDataPartition, resultCode: ResultCode.OK, reqId: 99n })));
    await settle();
    assert.equal(protocolFaults(lines).length, 1);
    assert.match(String(protocolFaults(lines)[0].obj.err), /unexpected packet .* with no request in flight/);
    await c.deleteDataPartition(node.addr, 6);
    assert.equal(node.connections, 2);
  });
});

void describe('TcpTaskClient: timeouts and tries', () => {
  void test('the Go defaults: dial 10 s, write 5 s, synchronous reply 30 s with 3 tries 100 ms apart, ack 5 s', () => {
    assert.equal(TCP_TASK_CLIENT_DEFAULTS.dialTimeoutMs, 10_000);
    assert.equal(TCP_TASK_CLIENT_DEFAULTS.writeTimeoutMs, 5_000);
    assert.equal(TCP_TASK_CLIENT_DEFAULTS.syncReplyTimeoutMs, 30_000);
    assert.equal(TCP_TASK_CLIENT_DEFAULTS.syncTriesMax, 3);
    assert.equal(TCP_TASK_CLIENT_DEFAULTS.retryDelayMs, 100);
    assert.equal(TCP_TASK_CLIENT_DEFAULTS.ackReplyTimeoutMs, 5_000);
  });

  void test('a node that never answers: the synchronous op times out on each of its 3 tries, no warning (not malformed)', async () => {
    const node = await fakeNode(() => 'silent');
    const { sink, lines } = recordingSink();
    const c = client({ logger: sink, syncReplyTimeoutMs: 100 });
    const started = performance.now();
    await rejectsWith(c.createMetaPartition(node.addr, { partitionId: 4, volName: 'v', start: 1n, end: 2n, members: [] }), 'timeout', /no reply within 100 ms/);
    assert.ok(performance.now() - started >= 300);
    assert.equal(node.requests.length, 3);
    assert.equal(protocolFaults(lines).length, 0);
  });

  void test('a reply with an error ResultCode is final: no retry', async () => {
    const server = net.createServer((socket) => {
      const decoder = new PacketDecoder();
      socket.on('data', (chunk: Buffer) => {
        for (const r of decoder.push(chunk)) socket.write(encodePacket(makeReply(r, ResultCode.DiskNoSpaceErr, Buffer.from('CreateDataPartition_no space left'))));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.81.60', resolve));
    const addr = `127.0.81.60:${(server.address() as net.AddressInfo).port}`;
    try {
      const c = client();
      const e = await rejectsWith(
        c.createDataPartition(addr, { partitionId: 3, volName: 'v', partitionSizeBytes: 11811160064n, replicaNum: 1, members: [], hosts: [addr], mediaType: 1 }),
        'failed',
        /no space left/,
      );
      assert.equal(e.resultCode, ResultCode.DiskNoSpaceErr);
      await c.close();
    } finally {
      server.close();
    }
  });

  void test('a node that stops reading: the write deadline ends the send', async () => {
    const server = net.createServer((socket) => {
      socket.pause();
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.81.61', resolve));
    const addr = `127.0.81.61:${(server.address() as net.AddressInfo).port}`;
    // The ack timeout is far longer than anything a loaded machine makes of this test: ending
    // well before it shows the write deadline, not the reply wait, ended the send.
    const c = client({ writeTimeoutMs: 200, ackReplyTimeoutMs: 120_000 });
    try {
      // 16 MiB cannot fit in the loopback socket buffers: the write stays pending.
      const big = { CurrTime: 1, MasterAddr: 'x'.repeat(16 << 20) };
      const task = { ID: `addr[${addr}]_op[65]`, PartitionID: 0, Disk: '', OpCode: Opcode.MetaNodeHeartbeat, OperatorAddr: addr, Status: 0, SendTime: 1, CreateTime: 1, SendCount: 0, Request: big, Response: null, RequestID: 'r' };
      const started = performance.now();
      await rejectsWith(c.sendAdminTask(task), 'timeout', /write not done within 200 ms/);
      assert.ok(performance.now() - started < 60_000);
    } finally {
      await c.close();
      server.close();
    }
  });
});
