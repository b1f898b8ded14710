// What the transport tests share: a recording logger, a collecting handler, message builders,
// polling, and raw clients (plain or TLS) that speak bytes to a member and report what came back.
import net from 'node:net';
import tls from 'node:tls';
import { EntryType, MessageType, type Message, type NodeId } from '../../../src/raft/core/index.js';
import { FrameDecoder, FrameType, encodeFrame, type Frame } from '../../../src/raft/transport/frame-codec.js';
import { TcpTransport, parseHostPort, type TcpTransportOptions } from '../../../src/raft/transport/tcp-transport.js';
import type { IncomingSnapshot, TransportHandler } from '../../../src/raft/transport/transport.js';
import { HelloAuth, StreamKind, decodeErrorReason, encodeHello } from '../../../src/raft/transport/transport-wire.js';

export interface LogLine {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly msg: string;
}

export class TestLogger {
  readonly lines: LogLine[] = [];
  info(fields: object, msg: string): void {
    this.lines.push({ level: 'info', fields: fields as Record<string, unknown>, msg });
  }
  warn(fields: object, msg: string): void {
    this.lines.push({ level: 'warn', fields: fields as Record<string, unknown>, msg });
  }
  error(fields: object, msg: string): void {
    this.lines.push({ level: 'error', fields: fields as Record<string, unknown>, msg });
  }
  debug(fields: object, msg: string): void {
    this.lines.push({ level: 'debug', fields: fields as Record<string, unknown>, msg });
  }
  has(level: string, pattern: RegExp): boolean {
    return this.lines.some((line) => line.level === level && pattern.test(line.msg));
  }
  /** warn lines about refusing a peer, with the given reason. */
  refusals(reason?: string): LogLine[] {
    return this.lines.filter((l) => l.level === 'warn' && /refused (a connection from an unauthenticated peer|the peer we dialed)/.test(l.msg) && (reason === undefined || l.fields.reason === reason));
  }
}

/** Collects messages and unreachable reports; consumes (and counts) snapshots. */
export class Collector implements TransportHandler {
  readonly messages: Message[] = [];
  readonly unreachable: NodeId[] = [];
  readonly snapshots: { from: NodeId; bytes: number }[] = [];
  onMessage(message: Message): void {
    this.messages.push(message);
  }
  async onSnapshot(snapshot: IncomingSnapshot): Promise<void> {
    let bytes = 0;
    for await (const chunk of snapshot.chunks) bytes += chunk.byteLength;
    this.snapshots.push({ from: snapshot.from, bytes });
  }
  onUnreachable(peer: NodeId): void {
    this.unreachable.push(peer);
  }
}

export interface Member {
  readonly id: NodeId;
  readonly transport: TcpTransport;
  readonly handler: Collector;
  readonly logger: TestLogger;
  /** host:port of its listener. */
  readonly addr: string;
}

/**
 * A started transport on 127.0.0.1 (a free port) with a recording logger and a collecting
 * handler, short backoffs; pushed on `open` for the file's after() to close.
 */
export async function startMember(id: NodeId, options: Partial<TcpTransportOptions> & { readonly clusterId: string }, open: TcpTransport[]): Promise<Member> {
  const logger = new TestLogger();
  const transport = new TcpTransport({
    selfId: id,
    listenHost: '127.0.0.1',
    listenPort: 0,
    logger,
    reconnectBackoffInitialMs: 20,
    reconnectBackoffMaxMs: 200,
    connectTimeoutMs: 1_000,
    ...options,
  });
  open.push(transport);
  const handler = new Collector();
  await transport.start(handler);
  const { host, port } = transport.address();
  return { id, transport, handler, logger, addr: `${host}:${port}` };
}

/** Every member knows every other's address. */
export function connectAll(members: readonly Member[]): void {
  const peers = members.map((m) => ({ id: m.id, raftAddr: m.addr }));
  for (const m of members) m.transport.setPeers(peers);
}

export function msg(type: Message['type'], from: NodeId, to: NodeId, fields: Partial<Message> = {}): Message {
  return { type, from, to, term: 3, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, snapshot: null, context: '', ...fields };
}

export function app(from: NodeId, to: NodeId, index: number, data: Buffer = Buffer.alloc(16, index % 251)): Message {
  return msg(MessageType.App, from, to, { index: index - 1, logTerm: 3, commit: index - 1, entries: [{ term: 3, index, type: EntryType.Normal, data }] });
}

export function snapMessage(from: NodeId, to: NodeId, index = 1_000): Message {
  return { ...msg(MessageType.Snap, from, to, { term: 5 }), snapshot: { index, term: 4, conf: { voters: [1, 2, 3], learners: [] } } };
}

export async function* bytesSource(totalBytes: number, chunkBytes = 64 * 1024): AsyncIterable<Uint8Array> {
  for (let sent = 0; sent < totalBytes; sent += chunkBytes) {
    yield Buffer.alloc(Math.min(chunkBytes, totalBytes - sent), sent % 251);
    await Promise.resolve(); // a source that yields to the event loop, as a file read would
  }
}

export async function waitFor(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function helloFrame(from: NodeId, to: NodeId, clusterId: string, auth: HelloAuth = HelloAuth.None, nonce: Buffer = Buffer.alloc(0)): Buffer {
  return encodeFrame(FrameType.Hello, encodeHello({ stream: StreamKind.Raft, from, to, clusterId, auth, nonce }));
}

export interface RawExchange {
  /** Frames the member sent back. */
  readonly frames: Frame[];
  /** Reasons of the Error frames among them. */
  readonly errors: string[];
  readonly closedMs: number;
  /** The socket error, if the connection failed (e.g. a TLS verification error). */
  readonly error: Error | null;
}

/**
 * Connects (plain, or TLS with `tlsOptions`), writes `bytes` once connected, and collects frames
 * until the member closes the connection. `respond` may answer frames as they come.
 */
export function rawExchange(
  addr: string,
  bytes: Buffer,
  options: { tls?: tls.ConnectionOptions; respond?: (frame: Frame, socket: net.Socket) => void; timeoutMs?: number } = {},
): Promise<RawExchange> {
  const { host, port } = parseHostPort(addr);
  const startedMs = Date.now();
  return new Promise((resolve) => {
    const socket: net.Socket = options.tls === undefined ? net.connect({ host, port }) : tls.connect({ host, port, ...options.tls });
    const decoder = new FrameDecoder(1 << 20);
    const frames: Frame[] = [];
    let error: Error | null = null;
    const timer = setTimeout(() => socket.destroy(new Error('test timeout: the member kept the connection open')), options.timeoutMs ?? 5_000);
    socket.on(options.tls === undefined ? 'connect' : 'secureConnect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      try {
        for (let frame = decoder.next(); frame !== null; frame = decoder.next()) {
          frames.push(frame);
          options.respond?.(frame, socket);
        }
      } catch (err) {
        socket.destroy(err as Error);
      }
    });
    socket.on('error', (err) => (error ??= err));
    socket.on('close', () => {
      clearTimeout(timer);
      const errors = frames.filter((f) => f.type === FrameType.Error).map((f) => decodeErrorReason(f.body));
      resolve({ frames, errors, closedMs: Date.now() - startedMs, error });
    });
  });
}

/**
 * A TCP relay in front of `target` that records what the dialer sends (to check that the wire
 * holds no plaintext, or to replay a handshake). Close it with close().
 */
export class RecordingRelay {
  readonly sent: Buffer[] = [];
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  private constructor(server: net.Server) {
    this.#server = server;
  }

  static async start(target: string): Promise<RecordingRelay> {
    const { host, port } = parseHostPort(target);
    const server = net.createServer();
    const relay = new RecordingRelay(server);
    server.on('connection', (client) => {
      const upstream = net.connect({ host, port });
      for (const s of [client, upstream]) {
        relay.#sockets.add(s);
        s.on('close', () => relay.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.on('data', (chunk: Buffer) => {
        relay.sent.push(Buffer.from(chunk));
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => client.write(chunk));
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get addr(): string {
    return `127.0.0.1:${(this.#server.address() as net.AddressInfo).port}`;
  }

  get sentBytes(): Buffer {
    return Buffer.concat(this.sent);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export const HANDLE_KINDS = /^(TCPSocketWrap|TCPServerWrap|TCPConnectWrap|TCPWRAP|TLSWrap|PipeWrap|Timeout|Immediate)$/;

export function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) if (HANDLE_KINDS.test(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}
