// The outbound Raft-message connection to one peer: a bounded queue, a lazily dialed socket,
// batching, backpressure and reconnection with jittered exponential backoff.
//
// - Lazy: nothing is dialed until there is something to send.
// - Bounded: at most maxQueuedMessagesPerPeer messages / maxQueuedBytesPerPeer encoded bytes
//   wait here; beyond that messages are dropped and the peer reported unreachable (the core
//   then stops pipelining to it and probes). Raft tolerates loss; an unbounded queue to a slow
//   peer would only grow memory and latency.
// - Batching: everything queued when the socket can take more goes out in as few frames as
//   maxFrameBytes allows. While the socket is backpressured (write() returned false) messages
//   accumulate and leave together on 'drain', so batches grow exactly when the link is busy.
//   Sends within one tick are coalesced by a microtask (no timer, no added latency).
// - Failure: a lost or refused connection drops its queue (stale by the time of a reconnect)
//   and reports the peer unreachable; the next dial waits for a backoff (doubling from the
//   initial to the max, equal jitter). Messages sent meanwhile are dropped and reported too.
//   The backoff resets once a connection has stayed up for reconnectBackoffMaxMs, so a peer
//   that accepts and then drops us at once still backs off.
// - A write that does not drain within writeStallTimeoutMs means a dead peer behind a live TCP
//   connection (power loss, partition: no RST ever comes): the socket is destroyed.
// - Authentication (peer-security.ts): the connection opens for messages once TLS verified the
//   peer's certificate and the Hello is written, or once the shared-secret challenge was answered;
//   until then messages wait in the queue, and connectTimeoutMs bounds the whole of it. Refusing
//   the peer (its certificate, its proof) or being refused backs off fully: it will not fix itself soon.
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { ByteWriter } from '../codec/binary-codec.js';
import type { Message, NodeId } from '../core/index.js';
import { FRAME_HEADER_BYTES, FrameDecoder, FrameType, allocFrame } from './frame-codec.js';
import { messageBatchBytes, messageEncodedBytes, writeMessage } from './message-codec.js';
import { PeerRefusedError, type PeerSecurity } from './peer-security.js';
import type { TransportLimits, TransportLogger, TransportMetrics, TransportResources } from './transport-context.js';
import { StreamKind, decodeErrorReason } from './transport-wire.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export type PeerConnectionState = 'idle' | 'connecting' | 'open' | 'backoff' | 'closed';

interface Queued {
  readonly message: Message;
  readonly bytes: number;
}

/** Room in a frame body for the batch's message count varint. */
const BATCH_COUNT_BYTES_MAX = 8;

export class PeerConnection {
  readonly peer: NodeId;
  #address: HostPort;
  readonly #limits: TransportLimits;
  readonly #logger: TransportLogger;
  readonly #metrics: TransportMetrics;
  readonly #resources: TransportResources;
  readonly #security: PeerSecurity;
  readonly #onUnreachable: (peer: NodeId) => void;

  #state: PeerConnectionState = 'idle';
  #socket: net.Socket | null = null;
  #queue: Queued[] = [];
  #queuedBytes = 0;
  #writable = true;
  #flushScheduled = false;
  #backoffMs: number;
  #retryAtMs = 0;
  #openedAtMs = 0;
  #connectTimer: NodeJS.Timeout | null = null;
  #stallTimer: NodeJS.Timeout | null = null;
  /** Why the current socket is being closed, for the log line at 'close'. */
  #closeReason: string | null = null;
  #consecutiveFailures = 0;

  constructor(
    peer: NodeId,
    address: HostPort,
    limits: TransportLimits,
    logger: TransportLogger,
    metrics: TransportMetrics,
    resources: TransportResources,
    security: PeerSecurity,
    onUnreachable: (peer: NodeId) => void,
  ) {
    this.peer = peer;
    this.#address = address;
    this.#limits = limits;
    this.#logger = logger;
    this.#metrics = metrics;
    this.#resources = resources;
    this.#security = security;
    this.#onUnreachable = onUnreachable;
    this.#backoffMs = limits.reconnectBackoffInitialMs;
  }

  get state(): PeerConnectionState {
    return this.#state;
  }

  get address(): HostPort {
    return this.#address;
  }

  get queuedMessages(): number {
    return this.#queue.length;
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** A new address: the current connection (to the old one) is closed; the next send dials anew. */
  setAddress(address: HostPort): void {
    if (address.host === this.#address.host && address.port === this.#address.port) return;
    this.#address = address;
    this.#backoffMs = this.#limits.reconnectBackoffInitialMs;
    this.#retryAtMs = 0;
    if (this.#socket !== null) this.#destroy('peer address changed');
    else if (this.#state === 'backoff') this.#state = 'idle';
  }

  /** Queues messages (all for this peer); drops what does not fit and reports the peer unreachable. */
  enqueue(messages: readonly Message[]): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'backoff') {
      if (performance.now() < this.#retryAtMs) {
        this.#drop(messages.length);
        return;
      }
      this.#state = 'idle';
    }
    const limits = this.#limits;
    let dropped = 0;
    for (const message of messages) {
      const bytes = messageEncodedBytes(message);
      if (bytes + BATCH_COUNT_BYTES_MAX > limits.maxFrameBytes) {
        this.#logger.warn(
          { peer: this.peer, type: message.type, bytes, maxFrameBytes: limits.maxFrameBytes },
          'raft transport: message larger than a frame dropped (raise maxFrameBytes above the core maxSizePerMsgBytes)',
        );
        dropped++;
        continue;
      }
      if (this.#queue.length >= limits.maxQueuedMessagesPerPeer || this.#queuedBytes + bytes > limits.maxQueuedBytesPerPeer) {
        dropped++;
        continue;
      }
      this.#queue.push({ message, bytes });
      this.#queuedBytes += bytes;
    }
    if (dropped > 0) this.#drop(dropped);
    if (this.#queue.length === 0) return;
    if (this.#state === 'idle') this.#dial();
    else if (this.#state === 'open') this.#scheduleFlush();
  }

  /** Destroys the socket and drops the queue; final. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#clearTimers();
    this.#socket?.destroy();
  }

  #drop(count: number): void {
    this.#metrics.messagesDropped += count;
    this.#onUnreachable(this.peer);
  }

  #dial(): void {
    const limits = this.#limits;
    if (this.#resources.closing) return;
    this.#state = 'connecting';
    this.#writable = true;
    this.#closeReason = null;
    this.#metrics.connectAttempts++;
    const address = this.#address;
    const { host, port } = address;
    const { socket, readyEvent } = this.#security.connect(address, this.peer, limits.localAddress);
    const handshake = this.#security.dialerHandshake(StreamKind.Raft, this.peer);
    this.#socket = socket;
    this.#resources.addSocket(socket);
    this.#connectTimer = setTimeout(() => {
      this.#connectTimer = null;
      this.#destroy(`connect timed out after ${limits.connectTimeoutMs} ms`);
    }, limits.connectTimeoutMs);

    const decoder = new FrameDecoder(limits.maxFrameBytes);
    socket.once(readyEvent, () => {
      if (this.#state !== 'connecting') return;
      this.#logger.debug({ peer: this.peer, host, port, auth: this.#security.mode }, 'raft transport: connected to peer');
      this.#writable = socket.write(handshake.helloFrame);
      if (!handshake.awaitsChallenge) this.#open();
    });
    // The peer sends an Error frame (then closes), and in secret mode first its challenge.
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      try {
        for (let frame = decoder.next(); frame !== null; frame = decoder.next()) {
          if (frame.type === FrameType.AuthChallenge && handshake.awaitsChallenge && this.#state === 'connecting') {
            this.#writable = socket.write(handshake.answer(frame.body));
            this.#open();
            continue;
          }
          if (frame.type === FrameType.Error) {
            const reason = decodeErrorReason(frame.body);
            this.#metrics.helloRejected++;
            // A refusal (wrong cluster, wrong member, authentication) will not fix itself soon: back off fully.
            this.#backoffMs = limits.reconnectBackoffMaxMs;
            this.#logger.warn({ peer: this.peer, host, port, reason }, 'raft transport: peer refused our connection');
            this.#destroy(`refused by peer: ${reason}`);
            return;
          }
          this.#metrics.badFrames++;
          this.#logger.warn({ peer: this.peer, host, port, frameType: frame.type }, 'raft transport: unexpected frame from peer; closing');
          this.#destroy('unexpected frame');
          return;
        }
      } catch (err) {
        if (err instanceof PeerRefusedError) {
          this.#refused(err, socket);
          return;
        }
        this.#metrics.badFrames++;
        this.#logger.warn({ peer: this.peer, host, port, err }, 'raft transport: bad frame from peer; closing');
        this.#destroy('bad frame');
      }
    });
    socket.on('drain', () => {
      if (this.#socket !== socket) return;
      this.#writable = true;
      if (this.#stallTimer !== null) clearTimeout(this.#stallTimer);
      this.#stallTimer = null;
      this.#flush();
    });
    socket.on('error', (err) => {
      if (this.#refused(err, socket)) return;
      this.#closeReason ??= err.message;
    });
    socket.once('close', () => this.#onClose(socket));
  }

  /** The handshake is done: messages may flow. */
  #open(): void {
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
    this.#state = 'open';
    this.#openedAtMs = performance.now();
    this.#flush();
  }

  /** When `err` is this member refusing the peer: counted, logged, full backoff, socket closed. */
  #refused(err: Error, socket: net.Socket): boolean {
    const refusal = this.#security.outboundRefusal(err);
    if (refusal === null) return false;
    this.#security.refusedOutbound(this.#address, this.peer, refusal);
    this.#backoffMs = this.#limits.reconnectBackoffMaxMs;
    this.#closeReason ??= `refused the peer (${refusal.reason}): ${refusal.detail}`;
    this.#security.closeRefused(socket, err);
    return true;
  }

  #destroy(reason: string): void {
    this.#closeReason ??= reason;
    this.#socket?.destroy();
  }

  #onClose(socket: net.Socket): void {
    if (this.#socket !== socket) return;
    this.#socket = null;
    this.#clearTimers();
    const wasOpen = this.#state === 'open';
    if (this.#state === 'closed') return;
    const dropped = this.#queue.length;
    this.#queue = [];
    this.#queuedBytes = 0;
    const nowMs = performance.now();
    if (wasOpen && nowMs - this.#openedAtMs >= this.#limits.reconnectBackoffMaxMs) {
      this.#backoffMs = this.#limits.reconnectBackoffInitialMs;
    }
    // Equal jitter: half fixed, half random, so peers that failed together do not redial together.
    const delayMs = this.#backoffMs / 2 + (this.#limits.random() * this.#backoffMs) / 2;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#limits.reconnectBackoffMaxMs);
    this.#retryAtMs = nowMs + delayMs;
    this.#state = 'backoff';
    const { host, port } = this.#address;
    const fields = { peer: this.peer, host, port, reason: this.#closeReason ?? 'closed by peer', droppedMessages: dropped, retryInMs: Math.round(delayMs) };
    if (wasOpen) {
      this.#metrics.connectionsLost++;
      this.#consecutiveFailures = 0;
      this.#logger.warn(fields, 'raft transport: connection to peer lost');
    } else {
      this.#metrics.connectFailures++;
      // First failure in a row at warn, the rest at debug: a peer down for an hour is one line.
      if (this.#consecutiveFailures++ === 0) this.#logger.warn(fields, 'raft transport: cannot connect to peer');
      else this.#logger.debug({ ...fields, consecutiveFailures: this.#consecutiveFailures }, 'raft transport: cannot connect to peer');
    }
    this.#metrics.messagesDropped += dropped;
    this.#onUnreachable(this.peer);
  }

  #clearTimers(): void {
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer);
    if (this.#stallTimer !== null) clearTimeout(this.#stallTimer);
    this.#connectTimer = null;
    this.#stallTimer = null;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || !this.#writable) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Writes queued messages in frames while the socket takes them. */
  #flush(): void {
    const socket = this.#socket;
    if (this.#state !== 'open' || socket === null) return;
    const maxBodyBytes = this.#limits.maxFrameBytes;
    while (this.#writable && this.#queue.length > 0) {
      // The longest prefix of the queue that fits in one frame (at least one message: each
      // was checked against the frame size when queued).
      let count = 0;
      let bytes = 0;
      while (count < this.#queue.length && messageBatchBytes(count + 1, bytes + this.#queue[count].bytes) <= maxBodyBytes) {
        bytes += this.#queue[count].bytes;
        count++;
      }
      const batch = count === this.#queue.length ? this.#queue : this.#queue.slice(0, count);
      this.#queue = count === this.#queue.length ? [] : this.#queue.slice(count);
      this.#queuedBytes -= bytes;
      const builder = allocFrame(FrameType.Messages, messageBatchBytes(count, bytes));
      const w = new ByteWriter(builder.body);
      w.varuint(count);
      for (const queued of batch) writeMessage(w, queued.message);
      w.finish();
      const frame = builder.seal();
      this.#writable = socket.write(frame);
      this.#metrics.framesSent++;
      this.#metrics.messagesSent += count;
      this.#metrics.bytesSent += frame.length;
    }
    if (!this.#writable && this.#stallTimer === null) {
      this.#stallTimer = setTimeout(() => {
        this.#stallTimer = null;
        this.#destroy(`writes did not drain within ${this.#limits.writeStallTimeoutMs} ms`);
      }, this.#limits.writeStallTimeoutMs);
    }
  }
}

/** Frame overhead on top of a batch body, for callers sizing limits. */
export const MESSAGE_FRAME_OVERHEAD_BYTES = FRAME_HEADER_BYTES + BATCH_COUNT_BYTES_MAX;
