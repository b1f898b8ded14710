// The TCP side of a simulated node: accepts the master's connections on 127.0.0.1 and answers
// packets one at a time per connection, in order, as the real nodes do (each connection is read
// sequentially; spec/node-protocol.md 2.1). Framing errors (bad magic, oversized lengths) close
// that connection, as a real node's failed read does, and are reported to the owner.
//
// pause() holds every reply (and everything after it) until resume(); sockets stay open.
// stop() closes the listener, destroys every socket and waits for the per-connection loops.

import net from 'node:net';
import { PacketDecodeError } from '../errors.js';
import { encodePacket, makeReply, PacketDecoder, ResultCode, type Packet, type PacketLimits } from '../packet.js';

export interface SimReply {
  /** null: no reply at all. */
  readonly reply: Packet | null;
  /** Work after the reply is written (the HTTP result of an ack-only op); run in the background. */
  readonly after?: () => Promise<void>;
}

export type SimPacketHandler = (packet: Packet, remote: string) => Promise<SimReply>;

export interface SimPacketServerOptions {
  readonly handler: SimPacketHandler;
  readonly limits?: Partial<PacketLimits>;
  /** Packets a connection may have waiting (pipelined or held by pause) before it is closed. */
  readonly queuedPacketsMax?: number;
  readonly onProtocolError: (error: PacketDecodeError, remote: string) => void;
  /** Receives each `after` promise; the owner awaits them on close. */
  readonly onBackground: (work: Promise<void>) => void;
}

class ServerConnection {
  readonly remote: string;
  readonly socket: net.Socket;
  readonly decoder: PacketDecoder;
  readonly queue: Packet[] = [];
  draining = false;
  destroyed = false;

  constructor(socket: net.Socket, limits: Partial<PacketLimits> | undefined) {
    this.socket = socket;
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.decoder = new PacketDecoder(limits);
  }
}

export class SimPacketServer {
  private readonly o: SimPacketServerOptions;
  private server: net.Server | null = null;
  private readonly conns = new Set<ServerConnection>();
  private readonly drains = new Set<Promise<void>>();
  private paused = false;
  private resumeWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(options: SimPacketServerOptions) {
    this.o = options;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** Starts listening; resolves with the port. */
  listen(host: string, port: number): Promise<number> {
    const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    return new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.releaseWaiters();
    for (const c of this.conns) this.kick(c);
  }

  /** Closes the listener and every connection; resolves when all loops have ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    const server = this.server;
    this.server = null;
    const closed = server === null ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    const socketsClosed = [...this.conns].map((c) => new Promise<void>((resolve) => (c.socket.closed ? resolve() : c.socket.once('close', () => resolve()))));
    for (const c of this.conns) this.destroy(c);
    this.releaseWaiters();
    await Promise.all([closed, ...socketsClosed, ...this.drains]);
  }

  private releaseWaiters(): void {
    const waiters = this.resumeWaiters;
    this.resumeWaiters = [];
    for (const w of waiters) w();
  }

  private unpaused(): Promise<void> {
    if (!this.paused || this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => this.resumeWaiters.push(resolve));
  }

  private accept(socket: net.Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    const c = new ServerConnection(socket, this.o.limits);
    this.conns.add(c);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      c.destroyed = true;
      this.conns.delete(c);
    });
    socket.on('data', (chunk: Buffer) => this.onData(c, chunk));
  }

  private destroy(c: ServerConnection): void {
    c.destroyed = true;
    c.queue.length = 0;
    c.socket.destroy();
  }

  private onData(c: ServerConnection, chunk: Buffer): void {
    if (c.destroyed) return;
    let packets: Packet[];
    try {
      packets = c.decoder.push(chunk);
    } catch (e) {
      this.destroy(c);
      if (e instanceof PacketDecodeError) this.o.onProtocolError(e, c.remote);
      return;
    }
    c.queue.push(...packets);
    if (c.queue.length > (this.o.queuedPacketsMax ?? 64)) {
      this.destroy(c);
      this.o.onProtocolError(new PacketDecodeError('too-large', `more than ${this.o.queuedPacketsMax ?? 64} packets queued on one connection`), c.remote);
      return;
    }
    this.kick(c);
  }

  private kick(c: ServerConnection): void {
    if (c.draining || c.destroyed || c.queue.length === 0 || this.paused) return;
    c.draining = true;
    const drain = this.drain(c).finally(() => {
      c.draining = false;
      this.drains.delete(drain);
      this.kick(c);
    });
    this.drains.add(drain);
  }

  /** Answers queued packets in order; never rejects. */
  private async drain(c: ServerConnection): Promise<void> {
    while (!c.destroyed && !this.paused) {
      const packet = c.queue.shift();
      if (packet === undefined) return;
      let result: SimReply;
      try {
        result = await this.o.handler(packet, c.remote);
      } catch (e) {
        if (c.destroyed || this.stopped) return;
        result = { reply: makeReply(packet, ResultCode.Err, Buffer.from(`internal error: ${e instanceof Error ? e.message : String(e)}`)) };
      }
      await this.unpaused();
      if (c.destroyed) return;
      if (result.reply !== null) c.socket.write(encodePacket(result.reply));
      if (result.after !== undefined) this.o.onBackground(result.after());
    }
  }
}
