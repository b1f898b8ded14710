// Found by the node packet fuzzer (test/fuzz/node-packet-fuzz.ts): bytes a node sends after a
// whole reply used to stay buffered on the pooled connection, so the next request on it failed
// with "bad magic"; and a reply followed by a bad packet in the same read was lost. Now the reply
// is taken, and the connection is closed at once with one warning; the next request works.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { PacketDecodeError } from '../../src/nodes/errors.js';
import { encodePacket, makeReply, PacketDecoder, ResultCode, type Packet } from '../../src/nodes/packet.js';
import { TcpTaskClient } from '../../src/nodes/tcp-task-client.js';
import { waitUntil } from '../api/domain-helpers.js';

interface StrayNode {
  readonly addr: string;
  /** Bytes written after the reply of the n-th request, or null for none. */
  stray: (n: number) => { bytes: Buffer; separateWrite: boolean } | null;
  connections: number;
  close(): Promise<void>;
}

async function strayNode(): Promise<StrayNode> {
  const sockets = new Set<net.Socket>();
  let requests = 0;
  const node: StrayNode = {
    addr: '',
    stray: () => null,
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((socket) => {
    node.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const decoder = new PacketDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const request of decoder.push(chunk)) {
        const reply = encodePacket(makeReply(request, ResultCode.OK));
        const stray = node.stray(requests++);
        if (stray === null) socket.write(reply);
        else if (stray.separateWrite) {
          socket.write(reply);
          setTimeout(() => socket.write(stray.bytes), 20);
        } else socket.write(Buffer.concat([reply, stray.bytes]));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (node as { addr: string }).addr = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return node;
}

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup) await c();
});

async function setup(): Promise<{ node: StrayNode; client: TcpTaskClient; warnings: string[] }> {
  const node = await strayNode();
  const warnings: string[] = [];
  const client = new TcpTaskClient({ ackReplyTimeoutMs: 2_000, logger: { warn: (o, msg) => warnings.push(`${msg}: ${JSON.stringify(o)}`), info: () => undefined } });
  cleanup.push(() => client.close(), () => node.close());
  return { node, client, warnings };
}

const heartbeat = { currTimeSec: 1, masterAddr: '127.0.0.1:17010' };

void describe('a node that sends bytes after its reply', () => {
  void test('unsolicited bytes on an idle pooled connection close it at once; the next request dials afresh and works', async () => {
    const { node, client, warnings } = await setup();
    node.stray = (n) => (n === 0 ? { bytes: Buffer.from([0x5c, 1, 2]), separateWrite: true } : null);
    await client.heartbeat(node.addr, 'meta', heartbeat);
    await waitUntil('the warning', () => warnings.length === 1);
    assert.match(warnings[0], /malformed reply from a node: connection closed.*unexpected bytes .* with no request in flight \(3 bytes\)/);
    await client.heartbeat(node.addr, 'meta', heartbeat);
    assert.equal(node.connections, 2);
    assert.equal(warnings.length, 1);
  });

  void test('a whole reply followed by a bad packet in the same read answers the request, then closes the connection', async () => {
    const { node, client, warnings } = await setup();
    const garbage = Buffer.alloc(60, 0x42);
    node.stray = (n) => (n === 0 ? { bytes: garbage, separateWrite: false } : null);
    await client.heartbeat(node.addr, 'data', heartbeat);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /bad magic 0x42/);
    await client.heartbeat(node.addr, 'data', heartbeat);
    assert.equal(node.connections, 2);
  });
});

void describe('PacketDecoder', () => {
  void test('returns the packets before bad bytes in the same chunk, marks itself failed, and throws on the next push', () => {
    const request: Packet = makeReply({ opcode: 0x7a, partitionId: 1n, extentId: 0n, extentOffset: 0n, reqId: 5n, kernelOffset: 0n } as Packet, ResultCode.OK);
    const decoder = new PacketDecoder();
    const packets = decoder.push(Buffer.concat([encodePacket(request), Buffer.alloc(57, 0x11)]));
    assert.equal(packets.length, 1);
    assert.equal(packets[0].reqId, 5n);
    assert.ok(decoder.failed instanceof PacketDecodeError);
    assert.throws(() => decoder.push(Buffer.alloc(1)), /bad magic 0x11/);
    const fresh = new PacketDecoder();
    assert.throws(() => fresh.push(Buffer.alloc(57, 0x11)), /bad magic 0x11/);
  });
});
