// Extra listening handles on the HTTP socket (src/api/accept-handles.ts): a master whose event
// loop is busy still accepts a burst of new connections within a few turns, serves them like
// the others, and leaves nothing listening or running once closed.
//
// The burst is made deterministic: a worker thread opens the connections and sends a request on
// each while the main thread is blocked (as a busy leader is, running a turn), and wakes the main
// thread only once the kernel holds every connection in the listening socket's accept queue
// (/proc/net/tcp). Turns are counted by a chain of setImmediate callbacks: between two of them the
// loop polls for I/O exactly once.
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import type { AddressInfo, Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { AcceptHandles } from '../../src/api/accept-handles.js';
import { acceptQueueLength } from '../../src/api/accept-queue.js';
import { ok, rawHttp, singleMaster } from './helpers.js';

const BURST = 20;
const HANDLES = 8;

/**
 * Runs in the worker: opens `count` connections to `port`, sends a request on each, waits until
 * the listening socket's accept queue holds all of them, then wakes the main thread; answers
 * with the number of replies once every connection got one.
 */
const BURST_CLIENT = `
const { workerData, parentPort } = require('node:worker_threads');
const net = require('node:net');
const fs = require('node:fs');
const { port, count, flag } = workerData;
const portHex = port.toString(16).toUpperCase().padStart(4, '0');
function acceptQueue() {
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\\n').slice(1)) {
    const f = line.trim().split(/\\s+/);
    if (f.length > 4 && f[1] === '0100007F:' + portHex && f[3] === '0A') return parseInt(f[4].split(':')[1], 16);
  }
  return -1;
}
let connected = 0;
let replies = 0;
for (let i = 0; i < count; i++) {
  const socket = net.connect(port, '127.0.0.1', () => {
    socket.write('GET /admin/getIp HTTP/1.1\\r\\nHost: test\\r\\n\\r\\n');
    if (++connected === count) waitForQueue();
  });
  socket.once('data', () => {
    socket.destroy();
    if (++replies === count) parentPort.postMessage(replies);
  });
}
function waitForQueue() {
  if (acceptQueue() < count) return setTimeout(waitForQueue, 1);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}
`;

/** Connections the server accepted in each event-loop turn, from the first turn after the burst until all of them. */
async function acceptsPerTurn(server: Server, port: number): Promise<{ perTurn: number[]; replies: Promise<number> }> {
  let accepted = 0;
  const reference = server as Server & { allowHalfOpen: boolean; noDelay: boolean };
  server.on('connection', (socket: Socket & { allowHalfOpen: boolean }) => {
    accepted++;
    // Accepted by whichever handle, a connection gets the server's own socket options.
    assert.equal(socket.allowHalfOpen, reference.allowHalfOpen);
  });
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(BURST_CLIENT, { eval: true, workerData: { port, count: BURST, flag } });
  const replies = new Promise<number>((resolve, reject) => {
    worker.once('message', (n: number) => resolve(n));
    worker.once('error', reject);
  }).finally(() => worker.terminate());
  // Busy: this turn lasts until the whole burst waits in the accept queue.
  const woken = Atomics.wait(flag, 0, 0, 60_000);
  assert.equal(woken, 'ok', 'the worker did not queue its connections');
  assert.equal(accepted, 0);
  // What the accept queue gauge shows meanwhile.
  assert.equal(acceptQueueLength(server.address() as AddressInfo), BURST);
  const perTurn: number[] = [];
  let seen = 0;
  while (seen < BURST) {
    await new Promise((resolve) => setImmediate(resolve));
    perTurn.push(accepted - seen);
    seen = accepted;
  }
  // The turn that was running when the burst came polled nothing: drop the leading zeros.
  while (perTurn[0] === 0) perTurn.shift();
  return { perTurn, replies };
}

/** Resolves after `n` event-loop turns (a handle closed in one is released in its close phase). */
async function nextTurns(n: number): Promise<void> {
  for (let turn = 0; turn < n; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/** Descriptors of this process per socket inode, most shared first. */
function sharedSocketDescriptors(): number[] {
  const counts = new Map<string, number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target.startsWith('socket:')) counts.set(target, (counts.get(target) ?? 0) + 1);
  }
  return [...counts.values()].sort((a, b) => b - a);
}

void describe('extra accept handles on the HTTP socket', () => {
  void it(`accepts a burst of ${BURST} new connections ${HANDLES} per event-loop turn, and answers each`, async () => {
    const m = singleMaster();
    try {
      await m.api.listen({ host: '127.0.0.1', port: 0 }, { handles: HANDLES, afterMs: 0 });
      assert.equal(await m.api.acceptHandleCount(), HANDLES);
      const { port } = m.app.server.address() as AddressInfo;
      const { perTurn, replies } = await acceptsPerTurn(m.app.server, port);
      // One handle would take 20 turns (libuv accepts one connection per handle and turn).
      assert.deepEqual(perTurn, [8, 8, 4]);
      assert.equal(await replies, BURST);
    } finally {
      await m.app.close();
    }
  });

  void it('serves requests on every handle, and closes them all with the app', async () => {
    const m = singleMaster();
    let closed = false;
    try {
      await m.api.listen({ host: '127.0.0.1', port: 0 }, { handles: 4, afterMs: 0 });
      assert.equal(await m.api.acceptHandleCount(), 4);
      // Four descriptors of the listening socket; the helper process that made them is gone
      // (its handle is released in the close phase of the turn that heard it exit).
      assert.equal(sharedSocketDescriptors()[0], 4);
      await nextTurns(2);
      assert.ok(!process.getActiveResourcesInfo().includes('ProcessWrap'), 'the helper process still runs');
    } catch (error) {
      await m.app.close();
      throw error;
    }
    const { port } = m.app.server.address() as AddressInfo;
    const addr = `127.0.0.1:${port}`;
    // An idle keep-alive connection (accepted by whichever handle) does not hold the close up.
    const idle = connect(port, '127.0.0.1');
    try {
      for (let i = 0; i < 8; i++) {
        const reply = await rawHttp(addr, 'GET /admin/getIp HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n');
        assert.equal(reply.status, 200);
      }
      await ok(m.app, '/admin/getIp');
      // Nothing waits to be accepted now.
      const metrics = await rawHttp(addr, 'GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n');
      assert.match(metrics.text, /^cubemaster_api_accept_queue_connections 0$/m);
      await new Promise<void>((resolve) => (idle.readyState === 'open' ? resolve() : idle.once('connect', () => resolve())));
      await m.app.close();
      closed = true;
    } finally {
      idle.destroy();
      if (!closed) await m.app.close();
    }
    assert.ok((sharedSocketDescriptors()[0] ?? 0) < 4, 'a listening descriptor is still open');
    const refused = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    assert.equal(refused, 'ECONNREFUSED');
  });

  void it('a close while the copies are on their way leaves no extra descriptor and no helper', async () => {
    // At different points of the exchange: before the helper runs, while copies arrive, after.
    for (const turns of [0, 1, 2, 5, 20, 100, 1000]) {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const closing = new AbortController();
        const opening = AcceptHandles.open(server, { count: 16, timeoutMs: 30_000, signal: closing.signal });
        await nextTurns(turns);
        closing.abort();
        // Busy for a while (as a master stopping under load): what the helper sends meanwhile
        // is read in one go, its acknowledgement of the listening handle and the first copies.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
        const handles = await opening.catch(() => null);
        handles?.stopListening();
        await handles?.closed();
        // Copies still on their way when it gave up are closed as they arrive, before the
        // helper's channel closes.
        while ((sharedSocketDescriptors()[0] ?? 0) > 1) await new Promise((resolve) => setTimeout(resolve, 10));
        await nextTurns(2);
        assert.ok(!process.getActiveResourcesInfo().includes('ProcessWrap'), `the helper still runs (abort after ${turns} turns)`);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }
  });

  void it('with one handle, listens as before and makes no helper process', async () => {
    const m = singleMaster();
    try {
      await m.api.listen({ host: '127.0.0.1', port: 0 }, { handles: 1 });
      assert.equal(await m.api.acceptHandleCount(), 1);
      assert.equal(sharedSocketDescriptors()[0], 1);
      assert.ok(!process.getActiveResourcesInfo().includes('ProcessWrap'));
    } finally {
      await m.app.close();
    }
  });
});
