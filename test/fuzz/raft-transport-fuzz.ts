// The Raft transport under malformed input, through its public behaviour only (the transport's
// files belong to another task): a real listening TcpTransport, raw sockets writing frames
// that are truncated, oversized, checksum-broken, of a wrong type or version, garbage after the
// Hello, or well-framed batches with mutated bodies; and the codec functions on mutated bytes.
// After each case: the connection is closed by the member (or, for input it must wait on, once
// the sender hangs up), the matching counter moved (badFrames, helloRejected) as the case
// promises, nothing undecodable reached the handler, and every so often a real peer transport
// still delivers a message. At the end no handle is left.

import net from 'node:net';
import { DecodeError } from '../../src/raft/codec/binary-codec.js';
import { EntryType, MessageType, type Message, type NodeId } from '../../src/raft/core/index.js';
import { FRAME_HEADER_BYTES, FrameDecoder, FrameType, encodeFrame } from '../../src/raft/transport/frame-codec.js';
import { decodeMessageBatch, encodeMessageBatch } from '../../src/raft/transport/message-codec.js';
import { TcpTransport, type TransportLogger } from '../../src/raft/transport/tcp-transport.js';
import type { IncomingSnapshot, TransportHandler } from '../../src/raft/transport/transport.js';
import { HelloAuth, StreamKind, decodeErrorReason, decodeHello, encodeHello } from '../../src/raft/transport/transport-wire.js';
import { activeResources, count, fuzzLoop, leakedResources, Rng, type FuzzBudget, type FuzzReport } from './fuzz-report.js';

const CLUSTER = 'fuzz';
const TARGET_ID = 1;
const SENDER_ID = 2;
const MAX_FRAME_BYTES = 64 * 1024;
const CLOSE_WAIT_MS = 3_000;
const PROBE_EVERY_CASES = 50;

const silentLogger: TransportLogger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

class Collector implements TransportHandler {
  readonly messages: Message[] = [];
  onMessage(message: Message): void {
    this.messages.push(message);
  }
  onSnapshot(snapshot: IncomingSnapshot): Promise<void> {
    // Drain whatever arrives; a snapshot stream that is cut is the transport's to fail.
    return (async () => {
      for await (const chunk of snapshot.chunks) void chunk;
    })();
  }
  onUnreachable(): void {}
}

function message(rng: Rng, from: NodeId, to: NodeId): Message {
  const type = rng.pick([MessageType.App, MessageType.Heartbeat, MessageType.Vote, MessageType.AppResp, MessageType.HeartbeatResp]);
  const entries =
    type === MessageType.App
      ? Array.from({ length: rng.int(3) }, (_, i) => ({ term: 3, index: 10 + i, type: EntryType.Normal, data: rng.bytes(rng.int(64)) }))
      : [];
  return { type, from, to, term: 3, logTerm: 3, index: 9, entries, commit: 9, reject: false, rejectHint: 0, snapshot: null, context: '' };
}

/** An unauthenticated Hello (the fuzzed member runs without peer TLS or secret); `version` overwrites its version byte. */
function hello(overrides: Partial<Parameters<typeof encodeHello>[0]> = {}, version?: number): Buffer {
  const body = helloBody(overrides);
  if (version !== undefined) body[0] = version;
  return encodeFrame(FrameType.Hello, body);
}

function helloBody(overrides: Partial<Parameters<typeof encodeHello>[0]> = {}): Buffer {
  return encodeHello({ stream: StreamKind.Raft, from: SENDER_ID, to: TARGET_ID, clusterId: CLUSTER, auth: HelloAuth.None, nonce: Buffer.alloc(0), ...overrides });
}

function batchFrame(rng: Rng, messages: number): Buffer {
  return encodeFrame(FrameType.Messages, encodeMessageBatch(Array.from({ length: messages }, () => message(rng, SENDER_ID, TARGET_ID))));
}

/** What the member must do with a case's bytes. */
type Expect =
  | { readonly kind: 'bad-frame' } // closes at once; badFrames + 1
  | { readonly kind: 'hello-rejected' } // answers an Error frame, closes; helloRejected + 1
  | { readonly kind: 'wait' } // needs more bytes: stays open until we hang up; no counter
  | { readonly kind: 'deliver'; readonly messages: number } // delivers; stays open
  | { readonly kind: 'any' }; // mutated at random: closed by one side, at most one counter

interface TransportCase {
  readonly name: string;
  readonly bytes: Buffer;
  readonly expect: Expect;
}

function flipBits(rng: Rng, bytes: Buffer, from = 0): Buffer {
  const out = Buffer.from(bytes);
  const flips = 1 + rng.int(4);
  for (let i = 0; i < flips && out.length > from; i++) out[from + rng.int(out.length - from)] ^= 1 << rng.int(8);
  return out;
}

export function transportCase(rng: Rng): TransportCase {
  const good = Buffer.concat([hello(), batchFrame(rng, 1 + rng.int(3))]);
  switch (rng.int(12)) {
    case 0:
      return { name: 'wrong version', bytes: hello({}, rng.pick([0, 3, 255])), expect: { kind: 'hello-rejected' } };
    case 1: {
      const wrong = rng.pick([{ clusterId: 'other' }, { to: 3 }, { from: 0 }, { from: TARGET_ID }]);
      return { name: `hello ${JSON.stringify(wrong)}`, bytes: hello(wrong), expect: { kind: 'hello-rejected' } };
    }
    case 2:
      return { name: 'messages before hello', bytes: batchFrame(rng, 1), expect: { kind: 'bad-frame' } };
    case 3: {
      const frame = batchFrame(rng, 1);
      frame.writeUInt32LE((frame.readUInt32LE(5) ^ (1 + rng.int(0xffff))) >>> 0, 5);
      return { name: 'bad checksum', bytes: Buffer.concat([hello(), frame]), expect: { kind: 'bad-frame' } };
    }
    case 4: {
      const header = Buffer.alloc(FRAME_HEADER_BYTES);
      header.writeUInt32LE(MAX_FRAME_BYTES + 1 + rng.int(0x7fff_0000), 0);
      header[4] = FrameType.Messages;
      return { name: 'oversized length', bytes: Buffer.concat([hello(), header]), expect: { kind: 'bad-frame' } };
    }
    case 5: {
      const type = rng.pick([0, 8, 9, 42, 255]);
      const frame = Buffer.from(encodeFrame(FrameType.Messages, Buffer.alloc(4)));
      frame[4] = type;
      return { name: `frame type ${type}`, bytes: Buffer.concat([hello(), frame]), expect: { kind: 'bad-frame' } };
    }
    case 6:
      return { name: 'wrong frame type after hello', bytes: Buffer.concat([hello(), encodeFrame(rng.pick([FrameType.Hello, FrameType.SnapshotChunk, FrameType.SnapshotAck]), rng.bytes(8))]), expect: { kind: 'bad-frame' } };
    case 7:
      return { name: 'truncated', bytes: good.subarray(0, 1 + rng.int(good.length - 1)), expect: { kind: 'wait' } };
    case 8: {
      // A well-framed Messages frame whose body is mutated: it passes the checksum, so the
      // message decoder (or the addressing check) must refuse it, or it is a valid batch.
      const body = flipBits(rng, encodeMessageBatch([message(rng, SENDER_ID, TARGET_ID)]));
      return { name: 'mutated batch body', bytes: Buffer.concat([hello(), encodeFrame(FrameType.Messages, body)]), expect: { kind: 'any' } };
    }
    case 9:
      return { name: 'garbage after hello', bytes: Buffer.concat([hello(), rng.bytes(FRAME_HEADER_BYTES + rng.int(200))]), expect: { kind: 'any' } };
    case 10:
      return { name: 'bit flips', bytes: flipBits(rng, good), expect: { kind: 'any' } };
    default: {
      const n = 1 + rng.int(3);
      return { name: 'valid', bytes: Buffer.concat([hello(), batchFrame(rng, n)]), expect: { kind: 'deliver', messages: n } };
    }
  }
}

interface Exchange {
  /** The member closed the connection before we hung up. */
  readonly closedByMember: boolean;
  /** The connection is gone (by either side) within the wait. */
  readonly closed: boolean;
  readonly received: Buffer;
}

/**
 * Writes `bytes`; waits for the member to close, or for `done()`, up to waitMs; then hangs up
 * and waits for the close.
 */
function exchange(port: number, bytes: Buffer, waitMs: number, done: () => boolean = () => false): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let hungUp = false;
    let closedByMember = false;
    const finish = (closed: boolean): void => {
      clearInterval(hangUp);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ closedByMember, closed, received: Buffer.concat(chunks) });
    };
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('end', () => {
      if (!hungUp) closedByMember = true;
    });
    socket.on('close', () => {
      if (!hungUp) closedByMember = true;
      finish(true);
    });
    socket.once('connect', () => socket.write(bytes));
    const started = Date.now();
    const hangUp = setInterval(() => {
      if (!done() && Date.now() - started < waitMs) return;
      clearInterval(hangUp);
      hungUp = true;
      socket.end();
    }, 5);
    const giveUp = setTimeout(() => finish(false), waitMs + CLOSE_WAIT_MS);
  });
}

export async function runRaftTransportFuzz(budget: FuzzBudget): Promise<FuzzReport> {
  const baseline = activeResources();
  const rng = new Rng(budget.seed);
  const handler = new Collector();
  const target = new TcpTransport({ selfId: TARGET_ID, clusterId: CLUSTER, listenHost: '127.0.0.1', listenPort: 0, logger: silentLogger, maxFrameBytes: MAX_FRAME_BYTES, snapshotChunkSizeBytes: 16 * 1024, connectTimeoutMs: 2_000 });
  const peer = new TcpTransport({ selfId: SENDER_ID, clusterId: CLUSTER, listenHost: '127.0.0.1', listenPort: 0, logger: silentLogger, maxFrameBytes: MAX_FRAME_BYTES, snapshotChunkSizeBytes: 16 * 1024, reconnectBackoffInitialMs: 10, reconnectBackoffMaxMs: 50 });
  await target.start(handler);
  await peer.start(new Collector());
  const port = target.address().port;
  peer.setPeers([{ id: TARGET_ID, raftAddr: `127.0.0.1:${port}` }]);
  let report: FuzzReport;
  try {
    report = await fuzzLoop('raft transport', budget, async (index, outcomes) => {
      const c = transportCase(rng);
      const before = target.metrics();
      const delivered = handler.messages.length;
      const expect = c.expect;
      // Input the member must refuse is answered at once; for the rest we hang up after a moment.
      const waitMs = expect.kind === 'bad-frame' || expect.kind === 'hello-rejected' || expect.kind === 'deliver' ? CLOSE_WAIT_MS : expect.kind === 'any' ? 150 : 30;
      const x = await exchange(port, c.bytes, waitMs, () => expect.kind === 'deliver' && handler.messages.length - delivered >= expect.messages);
      const after = target.metrics();
      const bad = after.badFrames - before.badFrames;
      const rejected = after.helloRejected - before.helloRejected;
      const got = handler.messages.length - delivered;
      const findings: string[] = [];
      const say = (what: string): void => {
        findings.push(`${c.name} (${c.bytes.length} bytes ${c.bytes.subarray(0, 48).toString('hex')}): ${what}`);
      };
      if (!x.closed) say('the connection was still open after we hung up');
      count(outcomes, bad > 0 ? 'bad frame' : rejected > 0 ? 'hello rejected' : got > 0 ? 'delivered' : 'closed quietly');
      switch (expect.kind) {
        case 'bad-frame':
          if (!x.closedByMember) say('bad input, but the member did not close the connection');
          if (bad !== 1 || rejected !== 0) say(`badFrames +${bad}, helloRejected +${rejected}; want +1, +0`);
          break;
        case 'hello-rejected': {
          if (!x.closedByMember) say('hello refused, but the member did not close the connection');
          if (rejected !== 1 || bad !== 0) say(`helloRejected +${rejected}, badFrames +${bad}; want +1, +0`);
          const reason = errorReason(x.received);
          if (reason === null) say(`no Error frame before the close (got ${x.received.length} bytes)`);
          break;
        }
        case 'wait':
          if (x.closedByMember) say('closed on a frame that was only incomplete');
          if (bad + rejected !== 0 || got !== 0) say(`counters moved (+${bad} bad, +${rejected} rejected) or messages delivered (${got}) on an incomplete frame`);
          break;
        case 'deliver':
          if (got !== expect.messages) say(`${got} messages delivered, want ${expect.messages}${x.closedByMember ? ' (the member closed the connection)' : ''}`);
          if (bad + rejected !== 0) say('counters moved on valid input');
          break;
        case 'any':
          if (bad + rejected > 1) say(`two counters for one connection (+${bad} bad, +${rejected} rejected)`);
          break;
      }
      for (const m of handler.messages.slice(delivered)) {
        if (m.from !== SENDER_ID || m.to !== TARGET_ID) say(`delivered a message from ${m.from} to ${m.to}`);
      }
      handler.messages.length = 0;
      if (index % PROBE_EVERY_CASES === PROBE_EVERY_CASES - 1 && !(await peerStillDelivers(peer, handler, rng))) say('a good peer connection no longer delivers');
      return findings;
    });
    if (!(await peerStillDelivers(peer, handler, rng))) report = { ...report, findings: [...report.findings, 'after the run: a good peer connection no longer delivers'] };
  } finally {
    await peer.close();
    await target.close();
  }
  const leaked = await leakedResources(baseline);
  return leaked.length === 0 ? report : { ...report, findings: [...report.findings, `after the run: leaked ${leaked.join(', ')}`] };
}

function errorReason(received: Buffer): string | null {
  try {
    const decoder = new FrameDecoder(MAX_FRAME_BYTES);
    decoder.push(received);
    const frame = decoder.next();
    return frame !== null && frame.type === FrameType.Error ? decodeErrorReason(frame.body) : null;
  } catch {
    return null;
  }
}

async function peerStillDelivers(peer: TcpTransport, handler: Collector, rng: Rng): Promise<boolean> {
  const before = handler.messages.length;
  const deadline = Date.now() + 5_000;
  peer.send([message(rng, SENDER_ID, TARGET_ID)]);
  while (handler.messages.length === before) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  handler.messages.length = 0;
  return true;
}

// --- the codecs alone, on mutated bytes ---------------------------------------------------------

/** Mutated Hello bodies, message batches and frame streams: each decodes or throws DecodeError, nothing else. */
export function runRaftCodecFuzz(budget: FuzzBudget): Promise<FuzzReport> {
  const rng = new Rng(budget.seed);
  return fuzzLoop('raft codecs', budget, (_index, outcomes) => {
    const findings: string[] = [];
    const check = (what: string, bytes: Buffer, decode: () => unknown): void => {
      try {
        decode();
        count(outcomes, `${what} decoded`);
      } catch (e) {
        if (e instanceof DecodeError) count(outcomes, `${what} refused`);
        else findings.push(`${what} ${bytes.subarray(0, 64).toString('hex')}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} instead of a DecodeError`);
      }
    };
    const batch = encodeMessageBatch(Array.from({ length: 1 + rng.int(3) }, () => message(rng, SENDER_ID, TARGET_ID)));
    const mutatedBatch = rng.chance(0.5) ? flipBits(rng, batch) : batch.subarray(0, rng.int(batch.length));
    check('batch', mutatedBatch, () => {
      const messages = decodeMessageBatch(mutatedBatch);
      // What decodes must encode again (no value the encoder's assertions refuse).
      encodeMessageBatch(messages);
    });
    const goodHello = helloBody();
    const mutatedHello = rng.chance(0.5) ? flipBits(rng, goodHello) : Buffer.concat([goodHello.subarray(0, rng.int(goodHello.length)), rng.bytes(rng.int(4))]);
    check('hello', mutatedHello, () => decodeHello(mutatedHello));
    const stream = flipBits(rng, Buffer.concat([hello(), batchFrame(rng, 1), batchFrame(rng, 2)]));
    check('frames', stream, () => {
      const decoder = new FrameDecoder(MAX_FRAME_BYTES);
      for (let at = 0; at < stream.length; ) {
        const n = 1 + rng.int(64);
        decoder.push(stream.subarray(at, at + n));
        at += n;
        while (decoder.next() !== null);
      }
    });
    return Promise.resolve(findings);
  });
}
