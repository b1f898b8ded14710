// The receiving side of one snapshot stream (an inbound connection whose Hello said "snapshot"):
//
//   SnapshotBegin (the MsgSnap) -> handler.onSnapshot({from, message, chunks}) is called at once
//   SnapshotChunk* -> pushed into `chunks` (chunk-stream.ts: the socket is paused while the
//                     consumer is behind by more than snapshotReceiveBufferBytes)
//   SnapshotEnd    -> the byte count is checked, `chunks` ends
//   handler resolves (and every chunk was consumed) -> SnapshotAck, then the connection ends
//   handler rejects, or the stream fails            -> Error frame with the reason, then close
//
// Chunk timeout: while the stream waits on the network (not paused for the consumer, not ended),
// a gap of snapshotChunkTimeoutMs between chunks fails it: a stalled sender must not hold the
// handler (and its staging files) forever. The sender has the matching timeout on its side.
import type { Socket } from 'node:net';
import { ChunkStream } from './chunk-stream.js';
import { MessageType, type Message, type NodeId } from '../core/index.js';
import { FrameType, encodeFrame, type Frame } from './frame-codec.js';
import { decodeMessage } from './message-codec.js';
import {
  SnapshotStreamError,
  type TransportLimits,
  type TransportLogger,
  type TransportMetrics,
  type TransportResources,
} from './transport-context.js';
import type { TransportHandler } from './transport.js';
import { decodeSnapshotEnd, encodeErrorReason } from './transport-wire.js';

/** What the inbound connection needs from the receiver. */
export interface FrameSink {
  /** Returns a reason to close the connection as a bad frame, or null. */
  onFrame(frame: Frame): string | null;
  onClose(): void;
}

export interface SnapshotReceiverHost {
  readonly socket: Socket;
  readonly peer: NodeId;
  pause(): void;
  resume(): void;
}

type Phase = 'begin' | 'streaming' | 'ended' | 'done';

export class SnapshotReceiver implements FrameSink {
  readonly #host: SnapshotReceiverHost;
  readonly #limits: TransportLimits;
  readonly #logger: TransportLogger;
  readonly #metrics: TransportMetrics;
  readonly #resources: TransportResources;
  readonly #handler: TransportHandler;
  readonly #onFinished: () => void;
  #phase: Phase = 'begin';
  #stream: ChunkStream | null = null;
  #message: Message | null = null;
  #receivedBytes = 0;
  #chunkTimer: NodeJS.Timeout | null = null;

  constructor(
    host: SnapshotReceiverHost,
    limits: TransportLimits,
    logger: TransportLogger,
    metrics: TransportMetrics,
    resources: TransportResources,
    handler: TransportHandler,
    onFinished: () => void,
  ) {
    this.#host = host;
    this.#limits = limits;
    this.#logger = logger;
    this.#metrics = metrics;
    this.#resources = resources;
    this.#handler = handler;
    this.#onFinished = onFinished;
    // Waiting for SnapshotBegin counts as waiting for a chunk.
    this.#armChunkTimer();
  }

  onFrame(frame: Frame): string | null {
    switch (this.#phase) {
      case 'begin':
        if (frame.type !== FrameType.SnapshotBegin) return `expected SnapshotBegin, got frame type ${frame.type}`;
        return this.#begin(frame.body);
      case 'streaming':
        if (frame.type === FrameType.SnapshotChunk) {
          this.#receivedBytes += frame.body.length;
          this.#metrics.snapshotBytesReceived += frame.body.length;
          this.#stream!.push(frame.body);
          this.#armChunkTimer();
          return null;
        }
        if (frame.type === FrameType.SnapshotEnd) {
          const total = decodeSnapshotEnd(frame.body);
          if (total !== this.#receivedBytes) return `snapshot end says ${total} bytes, received ${this.#receivedBytes}`;
          this.#phase = 'ended';
          this.#clearChunkTimer();
          this.#stream!.end();
          return null;
        }
        return `unexpected frame type ${frame.type} in a snapshot stream`;
      case 'ended':
        return `unexpected frame type ${frame.type} after the snapshot stream ended`;
      case 'done':
        return null; // failed or answered: discard until the sender closes
    }
  }

  /** The connection closed (either side, or transport close). */
  onClose(): void {
    this.#clearChunkTimer();
    if (this.#stream !== null && (this.#phase === 'streaming' || this.#phase === 'ended')) {
      this.#stream.fail(new SnapshotStreamError(this.#resources.closing ? 'closed' : 'connection-lost', this.#host.peer, 'connection closed before the stream completed'));
    }
    if (this.#phase === 'begin') this.#finish();
  }

  #begin(body: Buffer): string | null {
    const message = decodeMessage(body);
    const peer = this.#host.peer;
    if (message.type !== MessageType.Snap || message.snapshot === null) return 'SnapshotBegin does not carry a MsgSnap';
    if (message.to !== this.#limits.selfId || message.from !== peer) return `MsgSnap from ${message.from} to ${message.to} on a stream from ${peer}`;
    this.#message = message;
    this.#phase = 'streaming';
    const stream = new ChunkStream({
      highWaterBytes: this.#limits.snapshotReceiveBufferBytes,
      onPause: () => {
        this.#clearChunkTimer();
        this.#host.pause();
      },
      onResume: () => {
        this.#host.resume();
        // Not after the connection closed (a failing stream resumes to drop its buffer).
        if (this.#phase === 'streaming' && !this.#host.socket.destroyed) this.#armChunkTimer();
      },
      onCancel: () => {
        // The consumer stopped reading: the handler will settle; nothing more to read.
        this.#clearChunkTimer();
      },
    });
    this.#stream = stream;
    this.#armChunkTimer();
    this.#logger.info(
      { peer, index: message.snapshot.index, term: message.snapshot.term },
      'raft transport: receiving a snapshot',
    );
    let handled: Promise<void>;
    try {
      handled = this.#handler.onSnapshot({ from: peer, message, chunks: stream });
    } catch (err) {
      handled = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const done = handled.then(
      () => this.#succeeded(),
      (err: unknown) => this.#failed(err),
    );
    this.#resources.track(done);
    return null;
  }

  #succeeded(): void {
    const stream = this.#stream!;
    if (!stream.drained) {
      this.#failed(new Error('the snapshot handler resolved before consuming the whole stream'));
      return;
    }
    const snapshot = this.#message!.snapshot!;
    this.#metrics.snapshotsReceived++;
    this.#logger.info(
      { peer: this.#host.peer, index: snapshot.index, term: snapshot.term, bytes: this.#receivedBytes },
      'raft transport: snapshot received and staged; acknowledging',
    );
    const socket = this.#host.socket;
    if (!socket.destroyed) socket.end(encodeFrame(FrameType.SnapshotAck, Buffer.alloc(0)));
    this.#finish();
  }

  #failed(err: unknown): void {
    this.#clearChunkTimer();
    const stream = this.#stream!;
    stream.fail(err);
    this.#metrics.snapshotReceiveFailures++;
    const reason = err instanceof Error ? err.message : String(err);
    const snapshot = this.#message!.snapshot!;
    this.#logger.warn({ peer: this.#host.peer, index: snapshot.index, term: snapshot.term, reason }, 'raft transport: snapshot receive failed');
    const socket = this.#host.socket;
    if (!socket.destroyed) {
      // Tell the sender why, then close; destroy once written (a peer that stops reading is cut
      // by transport close).
      socket.end(encodeFrame(FrameType.Error, encodeErrorReason(`snapshot failed: ${reason}`)), () => socket.destroy());
      this.#host.resume(); // keep reading (and discarding) so the sender sees our frame and close
    }
    this.#finish();
  }

  #finish(): void {
    if (this.#phase === 'done') return;
    this.#phase = 'done';
    this.#clearChunkTimer();
    this.#onFinished();
  }

  #armChunkTimer(): void {
    this.#clearChunkTimer();
    const timeoutMs = this.#limits.snapshotChunkTimeoutMs;
    this.#chunkTimer = setTimeout(() => {
      this.#chunkTimer = null;
      this.#logger.warn({ peer: this.#host.peer, timeoutMs, receivedBytes: this.#receivedBytes }, 'raft transport: snapshot chunk timeout');
      this.#stream?.fail(new SnapshotStreamError('timeout', this.#host.peer, `no chunk within ${timeoutMs} ms`));
      this.#host.socket.destroy();
    }, timeoutMs);
  }

  #clearChunkTimer(): void {
    if (this.#chunkTimer !== null) clearTimeout(this.#chunkTimer);
    this.#chunkTimer = null;
  }
}
