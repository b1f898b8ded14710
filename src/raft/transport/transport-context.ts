// What every piece of the TCP transport shares: the resolved limits, the logger, the counters,
// the typed errors, and the owner of everything started (sockets, promises), which close()
// tears down and awaits.
import type { Socket } from 'node:net';
import { CubeCode, OperatingError } from '../../util/errors.js';
import type { NodeId } from '../core/index.js';

/** pino-like: structured fields first, then the event. */
export interface TransportLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
  debug(fields: object, msg: string): void;
}

export interface TransportLimits {
  readonly selfId: NodeId;
  readonly clusterId: string;
  readonly maxQueuedMessagesPerPeer: number;
  readonly maxQueuedBytesPerPeer: number;
  /** Largest frame body accepted or sent. */
  readonly maxFrameBytes: number;
  readonly connectTimeoutMs: number;
  readonly reconnectBackoffInitialMs: number;
  readonly reconnectBackoffMaxMs: number;
  /** A socket whose buffered writes do not drain for this long is considered dead. */
  readonly writeStallTimeoutMs: number;
  readonly snapshotChunkTimeoutMs: number;
  readonly snapshotChunkSizeBytes: number;
  readonly snapshotAckTimeoutMs: number;
  readonly snapshotReceiveBufferBytes: number;
  readonly maxInboundConnections: number;
  readonly maxInboundSnapshots: number;
  readonly random: () => number;
  /** Source address of outbound connections (the member's own IP), or undefined for the OS's choice. */
  readonly localAddress: string | undefined;
}

/** Counters for tests, logs and metrics export. All monotonic. */
export class TransportMetrics {
  framesSent = 0;
  messagesSent = 0;
  bytesSent = 0;
  framesReceived = 0;
  messagesReceived = 0;
  /** Messages dropped: queue full, peer unknown or in backoff, connection lost with them queued. */
  messagesDropped = 0;
  unreachableReported = 0;
  connectAttempts = 0;
  connectFailures = 0;
  connectionsLost = 0;
  inboundConnections = 0;
  badFrames = 0;
  /** Hellos refused for a version, cluster or member mismatch, or too many snapshot streams (both ends count). */
  helloRejected = 0;
  // Peers refused for who they are (peer-refusals.ts), either end, by reason.
  refusedStranger = 0;
  refusedUntrusted = 0;
  refusedExpired = 0;
  refusedIdMismatch = 0;
  refusedBadSecret = 0;
  refusedAuthMismatch = 0;
  refusedTlsHandshake = 0;
  snapshotsSent = 0;
  snapshotSendFailures = 0;
  snapshotBytesSent = 0;
  snapshotsReceived = 0;
  snapshotReceiveFailures = 0;
  snapshotBytesReceived = 0;

  snapshot(): TransportMetricValues {
    const out: Record<string, number> = {};
    for (const [key, value] of Object.entries(this)) if (typeof value === 'number') out[key] = value;
    return out as TransportMetricValues;
  }
}

export type TransportMetricName = Exclude<keyof TransportMetrics, 'snapshot'>;
export type TransportMetricValues = Readonly<Record<TransportMetricName, number>>;

export type SnapshotFailure =
  | 'closed'
  | 'aborted'
  | 'unknown-peer'
  | 'connect'
  | 'connection-lost'
  | 'timeout'
  | 'refused'
  | 'bad-frame'
  | 'source';

/** A snapshot stream that did not complete (sender side: the reason; receiver side: what the chunks iterator throws). */
export class SnapshotStreamError extends OperatingError {
  readonly reason: SnapshotFailure;
  readonly peer: NodeId;
  constructor(reason: SnapshotFailure, peer: NodeId, message: string, cause?: unknown) {
    super(CubeCode.InternalError, `snapshot stream with ${peer}: ${message}`, cause === undefined ? undefined : { cause });
    this.reason = reason;
    this.peer = peer;
  }
}

/** The transport is closed (or closing): nothing new is started. */
export class TransportClosedError extends OperatingError {
  constructor(op: string) {
    super(CubeCode.InternalError, `transport closed: ${op} refused`);
  }
}

/**
 * The owner of what the transport starts. Sockets are destroyed and awaited (until 'close') by
 * close(); promises (snapshot sends, snapshot handlers) are awaited. Nothing is added after
 * close began (callers check `closing`).
 */
export class TransportResources {
  readonly #sockets = new Set<Socket>();
  readonly #socketsClosed = new Set<Promise<void>>();
  readonly #tasks = new Set<Promise<unknown>>();
  readonly #closeController = new AbortController();

  get closing(): boolean {
    return this.#closeController.signal.aborted;
  }

  /** Aborted when close() begins: long waits (snapshot source, drain) listen to it. */
  get closeSignal(): AbortSignal {
    return this.#closeController.signal;
  }

  get socketCount(): number {
    return this.#sockets.size;
  }

  /** Tracks a socket until it closes (a socket already tracked is left as it is). */
  addSocket(socket: Socket): void {
    if (this.#sockets.has(socket)) return;
    this.#sockets.add(socket);
    const closed = new Promise<void>((resolve) => {
      socket.once('close', () => {
        this.#sockets.delete(socket);
        resolve();
      });
    });
    this.#socketsClosed.add(closed);
    void closed.then(() => this.#socketsClosed.delete(closed));
  }

  /** Tracks a promise until it settles; close() waits for it. Never rejects itself. */
  track(task: Promise<unknown>): void {
    const settled = task.then(
      () => undefined,
      () => undefined,
    );
    this.#tasks.add(settled);
    void settled.then(() => this.#tasks.delete(settled));
  }

  /** Destroys every socket, then waits until every socket closed and every task settled. */
  async close(reason: Error): Promise<void> {
    this.#closeController.abort(reason);
    for (const socket of this.#sockets) socket.destroy();
    // Tasks may destroy sockets of their own as they unwind; loop until both sets are empty.
    while (this.#socketsClosed.size > 0 || this.#tasks.size > 0) {
      for (const socket of this.#sockets) socket.destroy();
      await Promise.all([...this.#socketsClosed, ...this.#tasks]);
    }
  }
}
