// The sending side of one snapshot stream, on a connection of its own so that a large snapshot
// never queues in front of heartbeats and appends:
//
//   dial (TLS: handshake) -> Hello(stream=snapshot) [secret mode: <- AuthChallenge, AuthProof ->]
//   -> SnapshotBegin(MsgSnap) -> SnapshotChunk* -> SnapshotEnd
//   -> wait for SnapshotAck (resolve) or Error (reject)
//
// Backpressure: the source is read one chunk at a time, each cut into frames of at most
// snapshotChunkSizeBytes; when the socket's buffer is full the next read waits for 'drain'. So
// memory is one source chunk plus the socket buffer, whatever the snapshot size.
// Every wait is bounded: connect and authentication (connectTimeoutMs), each drain (snapshotChunkTimeoutMs: the
// receiver accepted nothing for that long), the ack (snapshotAckTimeoutMs: the receiver stages
// the snapshot, which may take a while for a large one). Every wait also ends at once on the
// caller's abort, on transport close, and on the connection failing; the source's next() too,
// so a stuck source cannot hold close() (its return() is then called without being awaited).
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { boundedWait } from './bounded-wait.js';
import type { NodeId } from '../core/index.js';
import { FrameDecoder, FrameType, encodeFrame } from './frame-codec.js';
import { encodeMessage } from './message-codec.js';
import type { HostPort } from './peer-connection.js';
import { PeerRefusedError, type PeerSecurity } from './peer-security.js';
import {
  SnapshotStreamError,
  type SnapshotFailure,
  type TransportLimits,
  type TransportLogger,
  type TransportMetrics,
  type TransportResources,
} from './transport-context.js';
import type { OutgoingSnapshot } from './transport.js';
import { StreamKind, decodeErrorReason, encodeSnapshotEnd } from './transport-wire.js';

/** Chunks the socket may buffer before the sender waits for it to drain (bounds memory per stream). */
export const SEND_AHEAD_CHUNKS = 16;

export async function sendSnapshotStream(
  peer: NodeId,
  address: HostPort,
  snapshot: OutgoingSnapshot,
  signal: AbortSignal,
  limits: TransportLimits,
  logger: TransportLogger,
  metrics: TransportMetrics,
  resources: TransportResources,
  security: PeerSecurity,
): Promise<void> {
  // `failed` aborts on the first failure of any kind; its reason is the error to reject with.
  const failed = new AbortController();
  const fail = (reason: SnapshotFailure, message: string, cause?: unknown): void => {
    if (!failed.signal.aborted) failed.abort(new SnapshotStreamError(reason, peer, message, cause));
  };
  const onCallerAbort = (): void => fail('aborted', 'aborted by the caller', signal.reason);
  const onClose = (): void => fail('closed', 'transport closed');
  if (signal.aborted) onCallerAbort();
  if (resources.closing) onClose();
  signal.addEventListener('abort', onCallerAbort, { once: true });
  resources.closeSignal.addEventListener('abort', onClose, { once: true });

  const meta = snapshot.message.snapshot!;
  const fields = { peer, index: meta.index, term: meta.term };
  const startedMs = performance.now();
  let socket: net.Socket | null = null;
  let iterator: AsyncIterator<Uint8Array> | null = null;
  let sourceDone = false;
  let sentBytes = 0;
  try {
    if (failed.signal.aborted) throw failed.signal.reason;
    const { socket: s, readyEvent } = security.connect(address, peer, limits.localAddress);
    const handshake = security.dialerHandshake(StreamKind.Snapshot, peer);
    socket = s;
    resources.addSocket(s);
    let connected = false;
    let acked = false;
    let resolveAck: () => void = () => undefined;
    const ack = new Promise<void>((resolve) => (resolveAck = resolve));
    let resolveAuthenticated: () => void = () => undefined;
    const authenticated = new Promise<void>((resolve) => (resolveAuthenticated = resolve));
    /** This member refusing the receiver (its certificate or its proof): counted and logged. */
    const refuse = (err: Error): boolean => {
      const refusal = security.outboundRefusal(err);
      if (refusal === null) return false;
      security.refusedOutbound(address, peer, refusal);
      fail('refused', `we refused the receiver (${refusal.reason}): ${refusal.detail}`, err);
      security.closeRefused(s, err);
      return true;
    };
    const decoder = new FrameDecoder(limits.maxFrameBytes);
    s.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      try {
        for (let frame = decoder.next(); frame !== null; frame = decoder.next()) {
          if (frame.type === FrameType.AuthChallenge && handshake.awaitsChallenge && connected) {
            s.write(handshake.answer(frame.body));
            resolveAuthenticated();
          } else if (frame.type === FrameType.SnapshotAck && !acked && !handshake.awaitsChallenge) {
            acked = true;
            resolveAck();
          } else if (frame.type === FrameType.Error) {
            fail('refused', `receiver refused: ${decodeErrorReason(frame.body)}`);
            s.destroy();
            return;
          } else {
            fail('bad-frame', `unexpected frame type ${frame.type} from the receiver`);
            s.destroy();
            return;
          }
        }
      } catch (err) {
        if (err instanceof PeerRefusedError && refuse(err)) return;
        fail('bad-frame', 'bad frame from the receiver', err);
        s.destroy();
      }
    });
    s.on('error', (err) => {
      if (refuse(err)) return;
      fail(connected ? 'connection-lost' : 'connect', err.message, err);
    });
    s.once('close', () => {
      if (!acked) fail(connected ? 'connection-lost' : 'connect', 'connection closed before the acknowledgement');
    });
    const connectTimeout = (): SnapshotStreamError => new SnapshotStreamError('connect', peer, `connect timed out after ${limits.connectTimeoutMs} ms`);
    const connectStartedMs = performance.now();
    const connect = new Promise<void>((resolve) => s.once(readyEvent, resolve));
    await boundedWait(connect, failed.signal, limits.connectTimeoutMs, connectTimeout);
    connected = true;
    const drain = async (): Promise<void> => {
      const drained = new Promise<void>((resolve) => s.once('drain', resolve));
      await boundedWait(drained, failed.signal, limits.snapshotChunkTimeoutMs, () => {
        return new SnapshotStreamError('timeout', peer, `no chunk accepted within ${limits.snapshotChunkTimeoutMs} ms`);
      });
    };
    // Up to SEND_AHEAD_CHUNKS chunks wait in the socket's buffer before the next read waits for
    // 'drain': the source reads its next batch while the receiver still has data to decode
    // (waiting for every chunk left both ends idle a fifth of the time, bench/results/notes.md).
    const sendAheadBytes = limits.snapshotChunkSizeBytes * SEND_AHEAD_CHUNKS;
    const write = async (frame: Buffer): Promise<void> => {
      s.write(frame);
      if (s.writableLength > sendAheadBytes) await drain();
    };
    await write(handshake.helloFrame);
    if (handshake.awaitsChallenge) {
      const leftMs = Math.max(0, limits.connectTimeoutMs - (performance.now() - connectStartedMs));
      await boundedWait(authenticated, failed.signal, leftMs, connectTimeout);
    }
    await write(encodeFrame(FrameType.SnapshotBegin, encodeMessage(snapshot.message)));

    const it = snapshot.chunks[Symbol.asyncIterator]();
    iterator = it;
    const chunkSize = limits.snapshotChunkSizeBytes;
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await boundedWait(it.next(), failed.signal, Infinity, () => new Error('unreachable'));
      } catch (err) {
        if (failed.signal.aborted) throw failed.signal.reason;
        sourceDone = true; // a throwing iterator is finished
        throw new SnapshotStreamError('source', peer, `snapshot source failed: ${err instanceof Error ? err.message : String(err)}`, err);
      }
      if (next.done === true) {
        sourceDone = true;
        break;
      }
      const chunk = next.value;
      for (let offset = 0; offset < chunk.byteLength; offset += chunkSize) {
        // encodeFrame copies: the source may reuse its buffer once we ask for the next chunk.
        const piece = chunk.subarray(offset, Math.min(offset + chunkSize, chunk.byteLength));
        await write(encodeFrame(FrameType.SnapshotChunk, piece));
        sentBytes += piece.byteLength;
        metrics.snapshotBytesSent += piece.byteLength;
      }
    }
    await write(encodeFrame(FrameType.SnapshotEnd, encodeSnapshotEnd(sentBytes)));
    await boundedWait(ack, failed.signal, limits.snapshotAckTimeoutMs, () => {
      return new SnapshotStreamError('timeout', peer, `no acknowledgement within ${limits.snapshotAckTimeoutMs} ms`);
    });
    metrics.snapshotsSent++;
    logger.info({ ...fields, bytes: sentBytes, ms: Math.round(performance.now() - startedMs) }, 'raft transport: snapshot sent and acknowledged');
    s.end();
  } catch (err) {
    metrics.snapshotSendFailures++;
    socket?.destroy();
    const error = err instanceof SnapshotStreamError ? err : new SnapshotStreamError('source', peer, String(err), err);
    logger.warn({ ...fields, bytes: sentBytes, reason: error.reason, err: error.message }, 'raft transport: snapshot send failed');
    throw error;
  } finally {
    signal.removeEventListener('abort', onCallerAbort);
    resources.closeSignal.removeEventListener('abort', onClose);
    if (iterator !== null && !sourceDone && iterator.return !== undefined) {
      // Let the source release what it holds; not awaited (it may be the thing that is stuck).
      void Promise.resolve()
        .then(() => iterator!.return!())
        .catch(() => undefined);
    }
  }
}
