// Snapshot streaming over TcpTransport on real sockets: a 20 MB stream to a slow consumer with
// bounded buffering (and heartbeats flowing beside it), and every way a stream can fail: the
// receiver dying, the sender closing, chunk timeouts on either side, the handler refusing, the
// caller aborting, too many streams at once.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { after, describe, mock, test } from 'node:test';
import { ChunkStream } from '../../../src/raft/transport/chunk-stream.js';
import { MessageType, type Message, type NodeId } from '../../../src/raft/core/index.js';
import { SnapshotStreamError, TcpTransport, type TcpTransportOptions } from '../../../src/raft/transport/tcp-transport.js';
import { SEND_AHEAD_CHUNKS } from '../../../src/raft/transport/snapshot-sender.js';
import type { IncomingSnapshot, TransportHandler } from '../../../src/raft/transport/transport.js';

const CLUSTER = 'snap-cluster';
const TEST_TIMEOUT_MS = 120_000;
const MiB = 1024 * 1024;

const silent = { info(): void {}, warn(): void {}, error(): void {}, debug(): void {} };

type SnapshotHandler = (snapshot: IncomingSnapshot) => Promise<void>;

class Handler implements TransportHandler {
  readonly messages: Message[] = [];
  readonly unreachable: NodeId[] = [];
  onSnap: SnapshotHandler = async (snapshot) => {
    for await (const _ of snapshot.chunks) {
      // consume
    }
  };
  onMessage(message: Message): void {
    this.messages.push(message);
  }
  onSnapshot(snapshot: IncomingSnapshot): Promise<void> {
    return this.onSnap(snapshot);
  }
  onUnreachable(peer: NodeId): void {
    this.unreachable.push(peer);
  }
}

interface Member {
  readonly id: NodeId;
  readonly transport: TcpTransport;
  readonly handler: Handler;
  readonly addr: string;
}

const open: TcpTransport[] = [];
after(async () => {
  await Promise.all(open.map((t) => t.close()));
});

async function member(id: NodeId, options: Partial<TcpTransportOptions> = {}): Promise<Member> {
  const transport = new TcpTransport({ selfId: id, clusterId: CLUSTER, listenHost: '127.0.0.1', listenPort: 0, logger: silent, ...options });
  open.push(transport);
  const handler = new Handler();
  await transport.start(handler);
  const { host, port } = transport.address();
  return { id, transport, handler, addr: `${host}:${port}` };
}

function connect(members: readonly Member[]): void {
  const peers = members.map((m) => ({ id: m.id, raftAddr: m.addr }));
  for (const m of members) m.transport.setPeers(peers);
}

function snapMessage(from: NodeId, to: NodeId, index = 1_000): Message {
  return {
    type: MessageType.Snap,
    from,
    to,
    term: 5,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    snapshot: { index, term: 4, conf: { voters: [1, 2, 3], learners: [] } },
    context: '',
  };
}

function heartbeat(from: NodeId, to: NodeId): Message {
  return { ...snapMessage(from, to), type: MessageType.Heartbeat, snapshot: null };
}

/** Deterministic bytes, generated lazily (never the whole snapshot in memory). */
function source(totalBytes: number, chunkBytes: number, progress: { produced: number } = { produced: 0 }): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      let n = 0;
      while (progress.produced < totalBytes) {
        const size = Math.min(chunkBytes, totalBytes - progress.produced);
        const chunk = Buffer.alloc(size, n++ % 251);
        chunk.writeUInt32LE(n, 0);
        progress.produced += size;
        yield chunk;
        await Promise.resolve();
      }
    },
  };
}

function sha256Of(totalBytes: number, chunkBytes: number): string {
  const hash = createHash('sha256');
  let n = 0;
  for (let done = 0; done < totalBytes; ) {
    const size = Math.min(chunkBytes, totalBytes - done);
    const chunk = Buffer.alloc(size, n++ % 251);
    chunk.writeUInt32LE(n, 0);
    hash.update(chunk);
    done += size;
  }
  return hash.digest('hex');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function isStreamError(reason: SnapshotStreamError['reason'] | readonly SnapshotStreamError['reason'][]): (err: unknown) => boolean {
  const reasons = typeof reason === 'string' ? [reason] : reason;
  return (err) => {
    assert.ok(err instanceof SnapshotStreamError, `expected SnapshotStreamError, got ${String(err)}`);
    assert.ok(reasons.includes(err.reason), `reason ${err.reason} (${err.message}), expected ${reasons.join('|')}`);
    return true;
  };
}

const HANDLE_KINDS = /^(TCPSocketWrap|TCPServerWrap|TCPConnectWrap|Timeout|Immediate)$/;
function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) if (HANDLE_KINDS.test(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

void describe('TcpTransport snapshots', { timeout: TEST_TIMEOUT_MS }, () => {
  void test('20 MB to a slow consumer: bytes intact, buffering bounded, heartbeats flow meanwhile', async (t) => {
    const chunkSize = 64 * 1024;
    const receiveBuffer = 256 * 1024;
    const [a, b] = await Promise.all([member(1, { snapshotChunkSizeBytes: chunkSize }), member(2, { snapshotReceiveBufferBytes: receiveBuffer })]);
    connect([a, b]);
    const totalBytes = 20 * MiB;
    const sourceChunkBytes = 256 * 1024;
    const progress = { produced: 0 };
    let consumed = 0;
    let maxAheadBytes = 0;
    let maxBufferedBytes = 0;
    let heartbeatsDuringStream = -1;
    const hash = createHash('sha256');
    b.handler.onSnap = async (snapshot) => {
      assert.equal(snapshot.from, 1);
      assert.deepEqual(snapshot.message.snapshot, snapMessage(1, 2).snapshot);
      const stream = snapshot.chunks as ChunkStream;
      let sinceSleep = 0;
      for await (const chunk of snapshot.chunks) {
        assert.ok(chunk.byteLength <= chunkSize);
        hash.update(chunk);
        consumed += chunk.byteLength;
        maxAheadBytes = Math.max(maxAheadBytes, progress.produced - consumed);
        maxBufferedBytes = Math.max(maxBufferedBytes, stream.bufferedBytes);
        sinceSleep += chunk.byteLength;
        if (sinceSleep >= MiB) {
          sinceSleep = 0;
          await sleep(25); // a slow disk
        }
      }
      heartbeatsDuringStream = b.handler.messages.length;
    };
    let sending = true;
    const heartbeats = (async () => {
      while (sending) {
        a.transport.send([heartbeat(1, 2)]);
        await sleep(5);
      }
    })();
    // What the sending side buffers in user space: the largest socket write buffer seen.
    let maxWritableBytes = 0;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- applied to the socket below
    const originalWrite = net.Socket.prototype.write as (this: net.Socket, ...args: unknown[]) => boolean;
    const write = mock.method(net.Socket.prototype, 'write', function (this: net.Socket, ...args: unknown[]) {
      const accepted = originalWrite.apply(this, args);
      maxWritableBytes = Math.max(maxWritableBytes, this.writableLength);
      return accepted;
    });
    const startedMs = performance.now();
    try {
      await a.transport.sendSnapshot({ message: snapMessage(1, 2), chunks: source(totalBytes, sourceChunkBytes, progress) }, new AbortController().signal);
    } finally {
      write.mock.restore();
      sending = false;
      await heartbeats;
    }
    const elapsedMs = performance.now() - startedMs;
    assert.equal(consumed, totalBytes);
    assert.equal(hash.digest('hex'), sha256Of(totalBytes, sourceChunkBytes));
    assert.ok(elapsedMs >= 20 * 25, 'the consumer was slow');
    // Bounded in user space: the receiver buffers at most its high-water mark plus one frame;
    // the sender waits for 'drain' once the socket holds SEND_AHEAD_CHUNKS chunks, so a write
    // buffer never holds more than that plus one frame. (How far the producer runs ahead of the
    // consumer also counts the kernel's socket buffers, up to tcp_wmem + tcp_rmem: reported only.)
    assert.ok(maxBufferedBytes <= receiveBuffer + chunkSize, `receiver buffered ${maxBufferedBytes} bytes`);
    assert.ok(maxWritableBytes <= SEND_AHEAD_CHUNKS * chunkSize + chunkSize + 64, `a socket buffered ${maxWritableBytes} bytes`);
    assert.ok(maxAheadBytes < totalBytes / 2, `producer ran ${maxAheadBytes} bytes ahead`);
    t.diagnostic(`producer ahead of consumer at most ${maxAheadBytes} bytes; receiver buffer ${maxBufferedBytes}; socket buffer ${maxWritableBytes}; ${Math.round(elapsedMs)} ms`);
    assert.ok(heartbeatsDuringStream >= 10, `only ${heartbeatsDuringStream} heartbeats during the stream`);
    assert.equal(a.transport.metrics().snapshotsSent, 1);
    assert.equal(a.transport.metrics().snapshotBytesSent, totalBytes);
    assert.equal(b.transport.metrics().snapshotsReceived, 1);
    await Promise.all([a.transport.close(), b.transport.close()]);
  });

  void test('the receiver dying mid-stream fails both ends', async () => {
    const [a, b] = await Promise.all([member(1), member(2)]);
    connect([a, b]);
    const started = deferred();
    let handlerError: unknown = null;
    b.handler.onSnap = async (snapshot) => {
      let got = 0;
      try {
        for await (const chunk of snapshot.chunks) {
          got += chunk.byteLength;
          if (got >= 2 * MiB) started.resolve();
        }
      } catch (err) {
        handlerError = err;
        throw err;
      }
    };
    const sending = a.transport.sendSnapshot({ message: snapMessage(1, 2), chunks: source(200 * MiB, 256 * 1024) }, new AbortController().signal);
    await started.promise;
    await b.transport.close(); // waits for the handler, which fails with the stream
    await assert.rejects(sending, isStreamError(['connection-lost', 'refused']));
    assert.ok(handlerError instanceof SnapshotStreamError && handlerError.reason === 'closed', String(handlerError));
    assert.equal(a.transport.metrics().snapshotSendFailures, 1);
    await a.transport.close();
  });

  void test('closing the sender mid-stream rejects the send and fails the receiver\'s stream', async () => {
    const [a, b] = await Promise.all([member(1), member(2)]);
    connect([a, b]);
    const started = deferred();
    const handlerDone = deferred();
    let handlerError: unknown = null;
    b.handler.onSnap = async (snapshot) => {
      try {
        for await (const _ of snapshot.chunks) started.resolve();
      } catch (err) {
        handlerError = err;
        throw err;
      } finally {
        handlerDone.resolve();
      }
    };
    const sending = a.transport.sendSnapshot({ message: snapMessage(1, 2), chunks: source(500 * MiB, 256 * 1024) }, new AbortController().signal);
    await started.promise;
    await a.transport.close();
    await assert.rejects(sending, isStreamError('closed'));
    await handlerDone.promise;
    assert.ok(handlerError instanceof SnapshotStreamError && handlerError.reason === 'connection-lost', String(handlerError));
    await sleep(20);
    assert.equal(b.transport.metrics().snapshotReceiveFailures, 1);
    await b.transport.close();
  });

  void test('a consumer that stops taking chunks makes the sender time out', async () => {
    const timeoutMs = 300;
    const [a, b] = await Promise.all([member(1, { snapshotChunkTimeoutMs: timeoutMs }), member(2)]);
    connect([a, b]);
    const stuck = deferred();
    const handlerDone = deferred();
    b.handler.onSnap = async (snapshot) => {
      try {
        for await (const _ of snapshot.chunks) await stuck.promise;
      } finally {
        handlerDone.resolve();
      }
    };
    const startedMs = performance.now();
    await assert.rejects(
      a.transport.sendSnapshot({ message: snapMessage(1, 2), chunks: source(200 * MiB, 256 * 1024) }, new AbortController().signal),
      isStreamError('timeout'),
    );
    const elapsedMs = performance.now() - startedMs;
    assert.ok(elapsedMs >= timeoutMs && elapsedMs < 10_000, `timed out after ${elapsedMs} ms`);
    stuck.resolve();
    await handlerDone.promise; // its stream failed when the sender hung up
    await Promise.all([a.transport.close(), b.transport.close()]);
  });

  void test('a sender that stalls mid-stream makes the receiver time out', async () => {
    const timeoutMs = 300;
    const [a, b] = await Promise.all([member(1), member(2, { snapshotChunkTimeoutMs: timeoutMs })]);
    connect([a, b]);
    const release = deferred();
    const stalling: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        yield Buffer.alloc(1_000, 1);
        await release.promise; // the source hangs
        yield Buffer.alloc(1_000, 2);
      },
    };
    let handlerError: unknown = null;
    b.handler.onSnap = async (snapshot) => {
      try {
        for await (const _ of snapshot.chunks) {
          // consume
        }
      } catch (err) {
        handlerError = err;
        throw err;
      }
    };
    await assert.rejects(a.transport.sendSnapshot({ message: snapMessage(1, 2), chunks: stalling }, new AbortController().signal), isStreamError('connection-lost'));
    assert.ok(handlerError instanceof SnapshotStreamError && handlerError.reason === 'timeout', String(handlerError));
    release.resolve();
    await Promise.all([a.transport.close(), b.transport.close()]);
  });

  void test('a handler that rejects fails the send with its reason; the caller can abort', async () => {
    const [a, b] = await Promise.all([member(1), member(2)]);
    connect([a, b]);
    b.handler.onSnap = () => Promise.reject(new Error('disk full while staging'));
    await assert.rejects(
      a.transport.sendSnapshot({ message: snapMessage(1, 2), chunks: source(1 * MiB, 64 * 1024) }, new AbortController().signal),
      (err) => isStreamError('refused')(err) && /disk full while staging/.test((err as Error).message),
    );
    // Abort mid-stream.
    const controller = new AbortController();
    const started = deferred();
    b.handler.onSnap = async (snapshot) => {
      for await (const _ of snapshot.chunks) started.resolve();
    };
    const sending = a.transport.sendSnapshot({ message: snapMessage(1, 2), chunks: source(500 * MiB, 256 * 1024) }, controller.signal);
    await started.promise;
    controller.abort(new Error('leader stepped down'));
    await assert.rejects(sending, isStreamError('aborted'));
    // An already aborted signal fails at once.
    await assert.rejects(a.transport.sendSnapshot({ message: snapMessage(1, 2), chunks: source(10, 10) }, AbortSignal.abort()), isStreamError('aborted'));
    await Promise.all([a.transport.close(), b.transport.close()]);
  });

  void test('unknown peers, closed transports and too many streams at once are refused', async () => {
    const [a, b, c] = await Promise.all([member(1), member(2, { maxInboundSnapshots: 1 }), member(3)]);
    connect([a, b, c]);
    await assert.rejects(a.transport.sendSnapshot({ message: snapMessage(1, 9), chunks: source(10, 10) }, new AbortController().signal), isStreamError('unknown-peer'));
    // A peer that is down: the dial fails.
    const down = await member(4);
    const downAddr = down.addr;
    await down.transport.close();
    a.transport.setPeers([...[a, b, c].map((m) => ({ id: m.id, raftAddr: m.addr })), { id: 4, raftAddr: downAddr }]);
    await assert.rejects(a.transport.sendSnapshot({ message: snapMessage(1, 4), chunks: source(10, 10) }, new AbortController().signal), isStreamError('connect'));
    const hold = deferred();
    const first = deferred();
    b.handler.onSnap = async (snapshot) => {
      first.resolve();
      await hold.promise;
      for await (const _ of snapshot.chunks) {
        // consume
      }
    };
    const fromA = a.transport.sendSnapshot({ message: snapMessage(1, 2), chunks: source(1_000, 100) }, new AbortController().signal);
    await first.promise;
    await assert.rejects(
      c.transport.sendSnapshot({ message: snapMessage(3, 2), chunks: source(1_000, 100) }, new AbortController().signal),
      (err) => isStreamError('refused')(err) && /too many snapshot streams/.test((err as Error).message),
    );
    hold.resolve();
    await fromA;
    await a.transport.close();
    await assert.rejects(a.transport.sendSnapshot({ message: snapMessage(1, 2), chunks: source(10, 10) }, new AbortController().signal), isStreamError('closed'));
    await Promise.all([b.transport.close(), c.transport.close()]);
  });

  void test('close during streams in both directions leaves no handle behind', async () => {
    const baseline = handleCounts();
    const [a, b] = await Promise.all([member(1), member(2)]);
    connect([a, b]);
    const started = deferred();
    b.handler.onSnap = async (snapshot) => {
      for await (const _ of snapshot.chunks) started.resolve();
    };
    a.handler.onSnap = b.handler.onSnap;
    const ab = a.transport.sendSnapshot({ message: snapMessage(1, 2), chunks: source(500 * MiB, 256 * 1024) }, new AbortController().signal);
    const ba = b.transport.sendSnapshot({ message: snapMessage(2, 1), chunks: source(500 * MiB, 256 * 1024) }, new AbortController().signal);
    ab.catch(() => undefined);
    ba.catch(() => undefined);
    await started.promise;
    await Promise.all([a.transport.close(), b.transport.close()]);
    await assert.rejects(ab, SnapshotStreamError);
    await assert.rejects(ba, SnapshotStreamError);
    assert.deepEqual(handleCounts(), baseline);
  });
});
