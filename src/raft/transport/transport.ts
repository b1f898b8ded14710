// How the Raft driver (../node.ts) talks to its peers. The TCP implementation is tcp-transport.ts;
// tests may use an in-memory one. Messages may be lost, duplicated or reordered: Raft tolerates
// it, so send() never blocks and never throws for a peer problem (it drops and reports).
import type { Message, NodeId, SnapshotMeta } from '../core/index.js';

export interface PeerAddress {
  readonly id: NodeId;
  /** host:port of the peer's Raft listener. */
  readonly raftAddr: string;
}

/** A snapshot being received: its description and its bytes, in order. */
export interface IncomingSnapshot {
  readonly from: NodeId;
  /** The MsgSnap that announced it (term, snapshot meta): stepped into the core once staged. */
  readonly message: Message;
  readonly chunks: AsyncIterable<Uint8Array>;
}

export interface TransportHandler {
  /** A message for this member. Called on the event loop, in arrival order per connection. */
  onMessage(message: Message): void;
  /**
   * A snapshot stream from the leader. Resolve once the bytes are consumed and staged (the
   * transport then acknowledges the stream to the sender); reject to fail it.
   */
  onSnapshot(snapshot: IncomingSnapshot): Promise<void>;
  /** A peer could not be reached (connection refused or lost, queue full): its messages were dropped. */
  onUnreachable(peer: NodeId): void;
}

export interface OutgoingSnapshot {
  /** The MsgSnap to announce (its snapshot meta describes the bytes that follow). */
  readonly message: Message;
  readonly chunks: AsyncIterable<Uint8Array>;
}

export interface Transport {
  /** Starts listening and accepting peers; handler receives everything addressed to us. */
  start(handler: TransportHandler): Promise<void>;
  /** The address peers dial; updated when membership changes. */
  setPeers(peers: readonly PeerAddress[]): void;
  /** Queues messages for their recipients (bounded per peer; batched on the wire). */
  send(messages: readonly Message[]): void;
  /**
   * Streams a snapshot to message.to with backpressure; resolves when the receiver acknowledged
   * it whole, rejects on failure or when a chunk is not accepted within the chunk timeout.
   */
  sendSnapshot(snapshot: OutgoingSnapshot, signal: AbortSignal): Promise<void>;
  /** Stops listening, closes every connection, waits for what it started. Idempotent. */
  close(): Promise<void>;
}

export type { SnapshotMeta };
