// One accepted connection: reads the Hello, then either Raft message batches (delivered to the
// handler in arrival order) or one snapshot stream (snapshot-receiver.ts).
//
// Anything malformed (undecodable frame, wrong frame for the phase, a message not from the
// hello's sender or not addressed to us) closes the connection with a logged warning: it never
// throws out of a socket callback. A Hello for another cluster or another member is answered
// with an Error frame naming the mismatch (so the dialer logs why), then the connection closes.
// A connection that sends no Hello within connectTimeoutMs is closed.
import type { Socket } from 'node:net';
import { DecodeError } from '../codec/binary-codec.js';
import type { NodeId } from '../core/index.js';
import { FrameDecoder, FrameType, encodeFrame, type Frame } from './frame-codec.js';
import { decodeMessageBatch } from './message-codec.js';
import { SnapshotReceiver, type FrameSink } from './snapshot-receiver.js';
import type { TransportLimits, TransportLogger, TransportMetrics, TransportResources } from './transport-context.js';
import type { TransportHandler } from './transport.js';
import { PROTOCOL_VERSION, StreamKind, decodeHello, encodeErrorReason } from './transport-wire.js';

export interface InboundSnapshotSlots {
  /** Takes a slot for a snapshot stream; false when maxInboundSnapshots are running. */
  acquire(): boolean;
  release(): void;
}

export class InboundConnection {
  readonly #socket: Socket;
  readonly #limits: TransportLimits;
  readonly #logger: TransportLogger;
  readonly #metrics: TransportMetrics;
  readonly #resources: TransportResources;
  readonly #handler: TransportHandler;
  readonly #snapshotSlots: InboundSnapshotSlots;
  readonly #decoder: FrameDecoder;
  readonly #remote: string;
  #peer: NodeId = 0;
  #sink: FrameSink | null = null;
  #helloTimer: NodeJS.Timeout | null;
  #paused = false;
  #closed = false;

  constructor(
    socket: Socket,
    limits: TransportLimits,
    logger: TransportLogger,
    metrics: TransportMetrics,
    resources: TransportResources,
    handler: TransportHandler,
    snapshotSlots: InboundSnapshotSlots,
  ) {
    this.#socket = socket;
    this.#limits = limits;
    this.#logger = logger;
    this.#metrics = metrics;
    this.#resources = resources;
    this.#handler = handler;
    this.#snapshotSlots = snapshotSlots;
    this.#decoder = new FrameDecoder(limits.maxFrameBytes);
    this.#remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    this.#helloTimer = setTimeout(() => {
      this.#helloTimer = null;
      this.#logger.warn({ remote: this.#remote, timeoutMs: limits.connectTimeoutMs }, 'raft transport: no hello from an inbound connection; closing');
      socket.destroy();
    }, limits.connectTimeoutMs);
    socket.on('data', (chunk: Buffer) => {
      this.#decoder.push(chunk);
      this.#pump();
    });
    socket.on('error', (err) => {
      this.#logger.debug({ remote: this.#remote, peer: this.#peer, err }, 'raft transport: inbound connection error');
    });
    socket.once('close', () => this.#onClose());
  }

  /** Decodes and dispatches buffered frames until none is whole or the stream asked for a pause. */
  #pump(): void {
    while (!this.#paused && !this.#closed) {
      let frame: Frame | null;
      try {
        frame = this.#decoder.next();
      } catch (err) {
        this.#badFrame(err instanceof DecodeError ? err.message : String(err));
        return;
      }
      if (frame === null) return;
      this.#metrics.framesReceived++;
      let problem: string | null;
      try {
        problem = this.#dispatch(frame);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err; // a bug (or the handler's), not the peer's
        problem = err.message;
      }
      if (problem !== null) {
        this.#badFrame(problem);
        return;
      }
    }
  }

  #dispatch(frame: Frame): string | null {
    if (this.#sink !== null) return this.#sink.onFrame(frame);
    if (this.#peer === 0) {
      if (frame.type !== FrameType.Hello) return `expected Hello, got frame type ${frame.type}`;
      return this.#hello(frame.body);
    }
    if (frame.type !== FrameType.Messages) return `unexpected frame type ${frame.type} on a raft connection`;
    const messages = decodeMessageBatch(frame.body);
    const self = this.#limits.selfId;
    for (const m of messages) {
      if (m.to !== self || m.from !== this.#peer) return `message from ${m.from} to ${m.to} on a connection from ${this.#peer} to ${self}`;
    }
    this.#metrics.messagesReceived += messages.length;
    // Delivered after the whole batch validated, in order. The handler is synchronous.
    for (const m of messages) this.#handler.onMessage(m);
    return null;
  }

  #hello(body: Buffer): string | null {
    const hello = decodeHello(body);
    if (this.#helloTimer !== null) clearTimeout(this.#helloTimer);
    this.#helloTimer = null;
    const limits = this.#limits;
    let refusal: string | null = null;
    if (hello.version !== PROTOCOL_VERSION) refusal = `protocol version ${hello.version}, expected ${PROTOCOL_VERSION}`;
    else if (hello.clusterId !== limits.clusterId) refusal = `cluster "${hello.clusterId}", this is "${limits.clusterId}"`;
    else if (hello.to !== limits.selfId) refusal = `dialed member ${hello.to}, this is member ${limits.selfId}`;
    else if (hello.from === 0 || hello.from === limits.selfId) refusal = `invalid sender id ${hello.from}`;
    else if (hello.stream === StreamKind.Snapshot && !this.#snapshotSlots.acquire()) {
      refusal = `too many snapshot streams at once (${limits.maxInboundSnapshots})`;
    }
    if (refusal !== null) {
      this.#metrics.helloRejected++;
      this.#logger.warn({ remote: this.#remote, from: hello.from, to: hello.to, clusterId: hello.clusterId, reason: refusal }, 'raft transport: refused an inbound connection');
      this.#refuse(refusal);
      return null;
    }
    this.#peer = hello.from;
    if (hello.stream === StreamKind.Snapshot) {
      const socket = this.#socket;
      this.#sink = new SnapshotReceiver(
        {
          socket,
          peer: hello.from,
          pause: () => {
            this.#paused = true;
            socket.pause();
          },
          resume: () => {
            if (!this.#paused) return;
            this.#paused = false;
            socket.resume();
            // Frames already buffered in the decoder come first; later ones from the socket.
            queueMicrotask(() => this.#pump());
          },
        },
        limits,
        this.#logger,
        this.#metrics,
        this.#resources,
        this.#handler,
        () => this.#snapshotSlots.release(),
      );
    }
    this.#logger.debug({ remote: this.#remote, peer: hello.from, stream: hello.stream }, 'raft transport: accepted a peer connection');
    return null;
  }

  #refuse(reason: string): void {
    this.#closed = true;
    const socket = this.#socket;
    socket.end(encodeFrame(FrameType.Error, encodeErrorReason(reason)), () => socket.destroy());
  }

  #badFrame(reason: string): void {
    this.#metrics.badFrames++;
    this.#logger.warn({ remote: this.#remote, peer: this.#peer, reason }, 'raft transport: bad frame; closing the connection');
    this.#closed = true;
    this.#socket.destroy();
  }

  #onClose(): void {
    this.#closed = true;
    if (this.#helloTimer !== null) clearTimeout(this.#helloTimer);
    this.#helloTimer = null;
    this.#sink?.onClose();
  }
}
