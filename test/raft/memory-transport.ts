// An in-process Transport for driver tests: messages hop between nodes on the event loop
// (setImmediate), links can be cut, snapshots stream through the same async iteration.
import type { Message, NodeId } from '../../src/raft/core/index.js';
import type { OutgoingSnapshot, PeerAddress, Transport, TransportHandler } from '../../src/raft/transport/transport.js';

export class MemoryNetwork {
  readonly handlers = new Map<NodeId, TransportHandler>();
  private readonly cut = new Set<string>();
  delivered = 0;

  transport(id: NodeId): Transport {
    return new MemoryTransport(this, id);
  }

  isolate(id: NodeId): void {
    for (const other of this.handlers.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  canReach(from: NodeId, to: NodeId): boolean {
    return !this.cut.has(`${from}>${to}`) && this.handlers.has(to);
  }
}

class MemoryTransport implements Transport {
  private closed = false;
  private readonly pending = new Set<NodeJS.Immediate>();

  constructor(
    private readonly network: MemoryNetwork,
    private readonly id: NodeId,
  ) {}

  start(handler: TransportHandler): Promise<void> {
    this.network.handlers.set(this.id, handler);
    return Promise.resolve();
  }

  setPeers(_peers: readonly PeerAddress[]): void {}

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    for (const m of messages) {
      const immediate = setImmediate(() => {
        this.pending.delete(immediate);
        if (!this.network.canReach(this.id, m.to)) return;
        this.network.delivered++;
        this.network.handlers.get(m.to)!.onMessage(m);
      });
      this.pending.add(immediate);
    }
  }

  async sendSnapshot(snapshot: OutgoingSnapshot, signal: AbortSignal): Promise<void> {
    const to = snapshot.message.to;
    if (!this.network.canReach(this.id, to)) throw new Error(`cannot reach ${to}`);
    const chunks: Uint8Array[] = [];
    for await (const c of snapshot.chunks) {
      if (signal.aborted) throw new Error('aborted');
      chunks.push(c);
    }
    const handler = this.network.handlers.get(to)!;
    await handler.onSnapshot({ from: this.id, message: snapshot.message, chunks: (async function* () { for (const c of chunks) yield await Promise.resolve(c); })() });
  }

  close(): Promise<void> {
    this.closed = true;
    for (const i of this.pending) clearImmediate(i);
    this.pending.clear();
    this.network.handlers.delete(this.id);
    return Promise.resolve();
  }
}
