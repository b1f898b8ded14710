// Raft messages and snapshot streams between members over TCP (implements transport.ts).
//
// Wire: length-prefixed, CRC-checked frames (frame-codec.ts). Every connection starts with a
// Hello naming the sender, the member it meant to reach and the cluster (transport-wire.ts);
// the acceptor refuses a mismatch with an Error frame. Who may connect at all is the business of
// peer-security.ts: TLS 1.3 with mutual certificate checks and member ids bound to certificates,
// a shared-secret challenge-response, or (the default) nothing. Connections are one-way:
// - per peer, ONE outbound connection carries our Raft messages to it, in batches
//   (peer-connection.ts: bounded queue, lazy dial, backoff, backpressure);
// - each snapshot goes over a connection of its own (snapshot-sender.ts), so a large snapshot
//   never delays heartbeats; the receiver streams it to the handler with backpressure
//   (snapshot-receiver.ts, chunk-stream.ts) and acknowledges it once the handler resolved;
// - accepted connections are read by inbound-connection.ts.
// Messages to a peer that cannot take them are dropped and the peer reported unreachable
// (onUnreachable, at most once per peer per microtask, never re-entering the caller of send()).
//
// Lifetime: close() stops the listener, destroys every socket, fails every snapshot stream in
// either direction, and resolves once every socket has closed and every snapshot task (ours and
// the handler's) has settled: nothing the transport started outlives it.
import type net from 'node:net';
import { assert } from '../../util/assert.js';
import { ParamError } from '../../util/errors.js';
import { MessageType, type Message, type NodeId } from '../core/index.js';
import { FRAME_HEADER_BYTES } from './frame-codec.js';
import { InboundConnection } from './inbound-connection.js';
import type { MemberIdentity } from './member-identity.js';
import { PeerConnection, type HostPort } from './peer-connection.js';
import { PeerSecurity, type PeerAuth, type PeerAuthMode } from './peer-security.js';
import { sendSnapshotStream } from './snapshot-sender.js';
import {
  SnapshotStreamError,
  TransportClosedError,
  TransportMetrics,
  TransportResources,
  type TransportLimits,
  type TransportLogger,
  type TransportMetricValues,
} from './transport-context.js';
import type { OutgoingSnapshot, PeerAddress, Transport, TransportHandler } from './transport.js';

export { SnapshotStreamError, TransportClosedError, TransportMetrics, type PeerAuth, type TransportLogger, type TransportMetricValues };

export interface TcpTransportOptions {
  readonly selfId: NodeId;
  /** Both ends must agree (CubeFS clusterName): a member of another cluster is refused. */
  readonly clusterId: string;
  readonly listenHost: string;
  /** 0 picks a free port (read it with address()). */
  readonly listenPort: number;
  readonly logger: TransportLogger;
  /** Messages waiting for one peer, at most (default 4096). */
  readonly maxQueuedMessagesPerPeer?: number;
  /** Encoded bytes waiting for one peer, at most (default 32 MiB, the core's in-flight bound). */
  readonly maxQueuedBytesPerPeer?: number;
  /** Frame body, at most, both ways (default 8 MiB; must exceed the core's maxSizePerMsgBytes). */
  readonly maxFrameBytes?: number;
  readonly connectTimeoutMs?: number;
  readonly reconnectBackoffInitialMs?: number;
  readonly reconnectBackoffMaxMs?: number;
  /** Jitter source in [0, 1) (default Math.random: the transport is outside the deterministic core). */
  readonly random?: () => number;
  /** Buffered writes that do not drain for this long mean a dead peer (default 15 s). */
  readonly writeStallTimeoutMs?: number;
  /** A snapshot fails when no chunk is accepted (sender) or arrives (receiver) for this long. */
  readonly snapshotChunkTimeoutMs?: number;
  /** Bytes per snapshot chunk frame (default 256 KiB). */
  readonly snapshotChunkSizeBytes?: number;
  /** Wait for the receiver to stage a whole snapshot and acknowledge it (default 60 s). */
  readonly snapshotAckTimeoutMs?: number;
  /** Received snapshot bytes buffered ahead of a slow consumer before the socket is paused. */
  readonly snapshotReceiveBufferBytes?: number;
  readonly maxInboundConnections?: number;
  /** Snapshot streams received at once (default 2); more are refused. */
  readonly maxInboundSnapshots?: number;
  /**
   * Binds outbound connections to this local address (the member's configured IP, as with
   * CubeFS's bindIp): peers and firewalls see the member's own address, not the OS's pick.
   */
  readonly localAddress?: string;
  /** How members authenticate each other (peer-security.ts); default none. */
  readonly peerAuth?: PeerAuth;
  /** Per remote address and reason, one warn line about refusing it at most this often (default 60 s). */
  readonly refusalLogIntervalMs?: number;
}

const DEFAULTS = {
  maxQueuedMessagesPerPeer: 4_096,
  maxQueuedBytesPerPeer: 32 * 1024 * 1024,
  maxFrameBytes: 8 * 1024 * 1024,
  connectTimeoutMs: 3_000,
  reconnectBackoffInitialMs: 100,
  reconnectBackoffMaxMs: 5_000,
  writeStallTimeoutMs: 15_000,
  snapshotChunkTimeoutMs: 10_000,
  snapshotChunkSizeBytes: 256 * 1024,
  snapshotAckTimeoutMs: 60_000,
  maxInboundConnections: 64,
  maxInboundSnapshots: 2,
} as const;

export class TcpTransport implements Transport {
  readonly #limits: TransportLimits;
  readonly #options: TcpTransportOptions;
  readonly #logger: TransportLogger;
  readonly #metrics = new TransportMetrics();
  readonly #resources = new TransportResources();
  readonly #security: PeerSecurity;
  readonly #peers = new Map<NodeId, PeerConnection>();
  readonly #addresses = new Map<NodeId, HostPort>();
  readonly #pendingUnreachable = new Set<NodeId>();
  #unreachableScheduled = false;
  #handler: TransportHandler | null = null;
  #server: net.Server | null = null;
  #listening: HostPort | null = null;
  #inboundSnapshots = 0;
  #closing: Promise<void> | null = null;

  constructor(options: TcpTransportOptions) {
    const chunk = options.snapshotChunkSizeBytes ?? DEFAULTS.snapshotChunkSizeBytes;
    const limits: TransportLimits = {
      selfId: options.selfId,
      clusterId: options.clusterId,
      maxQueuedMessagesPerPeer: options.maxQueuedMessagesPerPeer ?? DEFAULTS.maxQueuedMessagesPerPeer,
      maxQueuedBytesPerPeer: options.maxQueuedBytesPerPeer ?? DEFAULTS.maxQueuedBytesPerPeer,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULTS.maxFrameBytes,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      reconnectBackoffInitialMs: options.reconnectBackoffInitialMs ?? DEFAULTS.reconnectBackoffInitialMs,
      reconnectBackoffMaxMs: options.reconnectBackoffMaxMs ?? DEFAULTS.reconnectBackoffMaxMs,
      writeStallTimeoutMs: options.writeStallTimeoutMs ?? DEFAULTS.writeStallTimeoutMs,
      snapshotChunkTimeoutMs: options.snapshotChunkTimeoutMs ?? DEFAULTS.snapshotChunkTimeoutMs,
      snapshotChunkSizeBytes: chunk,
      snapshotAckTimeoutMs: options.snapshotAckTimeoutMs ?? DEFAULTS.snapshotAckTimeoutMs,
      // Four chunks ahead of the consumer: enough to keep the link busy, small in memory.
      // As much as the sender sends ahead (snapshot-sender.ts): the decoder never waits on a round trip.
      snapshotReceiveBufferBytes: options.snapshotReceiveBufferBytes ?? 16 * chunk,
      maxInboundConnections: options.maxInboundConnections ?? DEFAULTS.maxInboundConnections,
      maxInboundSnapshots: options.maxInboundSnapshots ?? DEFAULTS.maxInboundSnapshots,
      random: options.random ?? Math.random,
      localAddress: options.localAddress,
    };
    assert(Number.isSafeInteger(limits.selfId) && limits.selfId > 0, 'selfId must be a positive integer');
    assert(Buffer.byteLength(limits.clusterId) <= 256, 'clusterId must be at most 256 bytes');
    for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
      assert(limits[key] > 0, () => `${key} must be positive`);
    }
    assert(limits.reconnectBackoffMaxMs >= limits.reconnectBackoffInitialMs, 'reconnectBackoffMaxMs below reconnectBackoffInitialMs');
    assert(chunk <= limits.maxFrameBytes, 'snapshotChunkSizeBytes must fit in maxFrameBytes');
    assert(limits.snapshotReceiveBufferBytes > 0, 'snapshotReceiveBufferBytes must be positive');
    this.#limits = limits;
    this.#options = options;
    this.#logger = options.logger;
    // Throws PeerAuthConfigError for unusable material (a certificate of another member...).
    this.#security = new PeerSecurity(options.peerAuth ?? { mode: 'none' }, {
      selfId: limits.selfId,
      clusterId: limits.clusterId,
      logger: options.logger,
      metrics: this.#metrics,
      handshakeTimeoutMs: limits.connectTimeoutMs,
      refusalLogIntervalMs: options.refusalLogIntervalMs,
    });
  }

  /** How this member authenticates its peers. */
  get peerAuthMode(): PeerAuthMode {
    return this.#security.mode;
  }

  /** Counters: frames, messages and bytes sent and received, drops, failures. */
  metrics(): TransportMetricValues {
    return this.#metrics.snapshot();
  }

  /** Where the listener is bound (after start). */
  address(): HostPort {
    assert(this.#listening !== null, 'TcpTransport.address() before start()');
    return this.#listening;
  }

  /** Queue lengths per peer, for status pages and tests. */
  queues(): Map<NodeId, { state: string; messages: number; bytes: number }> {
    const out = new Map<NodeId, { state: string; messages: number; bytes: number }>();
    for (const [peer, conn] of this.#peers) out.set(peer, { state: conn.state, messages: conn.queuedMessages, bytes: conn.queuedBytes });
    return out;
  }

  async start(handler: TransportHandler): Promise<void> {
    assert(this.#handler === null, 'TcpTransport.start() called twice');
    assert(this.#closing === null, 'TcpTransport.start() after close()');
    this.#handler = handler;
    const server = this.#security.createServer({
      onRawSocket: (socket) => this.#track(socket),
      onSocket: (socket, identity) => this.#accept(socket, identity, handler),
    });
    server.maxConnections = this.#limits.maxInboundConnections;
    server.on('drop', (data) => {
      this.#logger.warn({ remote: `${data?.remoteAddress}:${data?.remotePort}`, max: this.#limits.maxInboundConnections }, 'raft transport: too many inbound connections; dropped one');
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.listenPort, this.#options.listenHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.#logger.error({ err }, 'raft transport: listener error'));
    const bound = server.address();
    assert(bound !== null && typeof bound === 'object', 'TCP server without an address');
    this.#listening = { host: bound.address, port: bound.port };
    this.#logger.info({ selfId: this.#limits.selfId, host: bound.address, port: bound.port, auth: this.#security.mode }, 'raft transport listening');
  }

  setPeers(peers: readonly PeerAddress[]): void {
    const wanted = new Map<NodeId, HostPort>();
    for (const peer of peers) {
      if (peer.id === this.#limits.selfId) continue;
      wanted.set(peer.id, parseHostPort(peer.raftAddr));
    }
    for (const [id, conn] of this.#peers) {
      if (!wanted.has(id)) {
        conn.close();
        this.#peers.delete(id);
      }
    }
    this.#addresses.clear();
    for (const [id, address] of wanted) {
      this.#addresses.set(id, address);
      this.#peers.get(id)?.setAddress(address);
    }
  }

  send(messages: readonly Message[]): void {
    if (this.#closing !== null || messages.length === 0) return;
    assert(this.#handler !== null, 'TcpTransport.send() before start()');
    // The common Ready holds messages for 2-4 peers: group them so each peer queues once.
    let byPeer: Map<NodeId, Message[]> | null = null;
    for (const m of messages) {
      assert(m.to !== this.#limits.selfId, () => `message type ${m.type} to self handed to the transport`);
      byPeer ??= new Map();
      const list = byPeer.get(m.to);
      if (list === undefined) byPeer.set(m.to, [m]);
      else list.push(m);
    }
    for (const [peer, list] of byPeer!) {
      const conn = this.#connection(peer);
      if (conn === null) {
        this.#metrics.messagesDropped += list.length;
        this.#logger.debug({ peer, count: list.length }, 'raft transport: messages for a peer without an address dropped');
        this.#reportUnreachable(peer);
        continue;
      }
      conn.enqueue(list);
    }
  }

  sendSnapshot(snapshot: OutgoingSnapshot, signal: AbortSignal): Promise<void> {
    const m = snapshot.message;
    assert(m.type === MessageType.Snap && m.snapshot !== null, 'sendSnapshot needs a MsgSnap with its snapshot meta');
    assert(this.#handler !== null, 'TcpTransport.sendSnapshot() before start()');
    if (this.#closing !== null) return Promise.reject(new SnapshotStreamError('closed', m.to, 'transport closed'));
    const address = this.#addresses.get(m.to);
    if (address === undefined) return Promise.reject(new SnapshotStreamError('unknown-peer', m.to, 'no address for this peer'));
    const task = sendSnapshotStream(m.to, address, snapshot, signal, this.#limits, this.#logger, this.#metrics, this.#resources, this.#security);
    this.#resources.track(task);
    return task;
  }

  close(): Promise<void> {
    this.#closing ??= this.#closeOnce();
    return this.#closing;
  }

  async #closeOnce(): Promise<void> {
    for (const conn of this.#peers.values()) conn.close();
    this.#peers.clear();
    const server = this.#server;
    const serverClosed =
      server === null || !server.listening
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            server.close(() => resolve());
          });
    await this.#resources.close(new TransportClosedError('close'));
    await serverClosed;
    // net.Server emits 'close' before libuv releases its handle, which happens at the end of the
    // current loop iteration: wait for the next one, so that nothing of ours is left on resolve.
    await new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
    this.#logger.info({ selfId: this.#limits.selfId, ...this.#metrics.snapshot() }, 'raft transport closed');
  }

  #connection(peer: NodeId): PeerConnection | null {
    const existing = this.#peers.get(peer);
    if (existing !== undefined) return existing;
    const address = this.#addresses.get(peer);
    if (address === undefined) return null;
    const conn = new PeerConnection(peer, address, this.#limits, this.#logger, this.#metrics, this.#resources, this.#security, (p) => this.#reportUnreachable(p));
    this.#peers.set(peer, conn);
    return conn;
  }

  /** Every accepted TCP connection, from before its TLS handshake: close() destroys it. */
  #track(socket: net.Socket): void {
    if (this.#closing !== null) {
      socket.destroy();
      return;
    }
    this.#resources.addSocket(socket);
    this.#metrics.inboundConnections++;
  }

  /** A connection ready for its Hello (with peer TLS: the TLS socket over the tracked one). */
  #accept(socket: net.Socket, identity: MemberIdentity | null, handler: TransportHandler): void {
    if (this.#closing !== null) {
      socket.destroy();
      return;
    }
    this.#resources.addSocket(socket);
    const slots = {
      acquire: (): boolean => {
        if (this.#inboundSnapshots >= this.#limits.maxInboundSnapshots) return false;
        this.#inboundSnapshots++;
        return true;
      },
      release: (): void => {
        this.#inboundSnapshots--;
      },
    };
    new InboundConnection(socket, this.#limits, this.#logger, this.#metrics, this.#resources, handler, slots, this.#security, identity);
  }

  /** Deferred to a microtask and de-duplicated: the handler is never re-entered from send(). */
  #reportUnreachable(peer: NodeId): void {
    this.#pendingUnreachable.add(peer);
    if (this.#unreachableScheduled) return;
    this.#unreachableScheduled = true;
    queueMicrotask(() => {
      this.#unreachableScheduled = false;
      const peers = [...this.#pendingUnreachable];
      this.#pendingUnreachable.clear();
      if (this.#closing !== null || this.#handler === null) return;
      for (const p of peers) {
        this.#metrics.unreachableReported++;
        this.#handler.onUnreachable(p);
      }
    });
  }
}

/** "host:port" or "[v6]:port". */
export function parseHostPort(raftAddr: string): HostPort {
  const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(raftAddr) ?? /^([^:[\]]+):(\d{1,5})$/.exec(raftAddr);
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || port < 1 || port > 65_535) throw new ParamError('raftAddr', `bad raft address "${raftAddr}" (expected host:port)`);
  return { host: match[1], port };
}

/** Bytes a frame adds to its body (for sizing maxFrameBytes against the core's message size). */
export const TRANSPORT_FRAME_HEADER_BYTES = FRAME_HEADER_BYTES;
