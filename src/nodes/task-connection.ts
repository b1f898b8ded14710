// One TCP connection from the master to a node, carrying one admin packet at a time: write the
// request, read exactly one reply (spec/node-protocol.md 2.1; the nodes read packets one by one
// per connection). Any fault (timeout, abort, malformed or unexpected bytes, a reply to another
// request) destroys the socket: a late reply would otherwise be read as the next task's.
// Deadlines as in the Go master: the write must complete within writeTimeoutMs (5 s, every
// packet), the reply within the caller's reply timeout. A protocol fault (bytes that are not the
// reply to the request in flight) is reported once per connection through `onProtocolFault`, so
// the owner logs it; the caller of request() gets the same error.

import net from 'node:net';
import { assert } from '../util/assert.js';
import { PacketDecodeError } from './errors.js';
import { opcodeName } from './opcodes.js';
import { encodePacket, PacketDecoder, type Packet, type PacketLimits } from './packet.js';
import { NodeTaskError } from './task-client.js';

/** "host:port" or "[v6]:port" -> connect options; a bad address is reported as unreachable. */
export function parseNodeAddr(addr: string): { readonly host: string; readonly port: number } | null {
  const colon = addr.lastIndexOf(':');
  if (colon <= 0) return null;
  let host = addr.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const portText = addr.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  if (port < 1 || port > 65535 || host === '') return null;
  return { host, port };
}

interface InFlight {
  readonly request: Packet;
  readonly resolve: (reply: Packet) => void;
  readonly reject: (error: NodeTaskError) => void;
  readonly timer: NodeJS.Timeout;
  /** Cleared once the request's bytes are handed to the kernel. */
  writeTimer: NodeJS.Timeout | null;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/** What a TaskConnection needs besides its socket. */
export interface TaskConnectionOptions {
  readonly limits: Partial<PacketLimits>;
  /** Deadline of each packet's write (Go: 5 s). */
  readonly writeTimeoutMs: number;
  /** Called once, when the connection is destroyed for a protocol fault. */
  readonly onProtocolFault?: (conn: TaskConnection, error: NodeTaskError) => void;
}

/** Go's write deadline on every admin packet (proto.WriteDeadlineTime). */
export const WRITE_TIMEOUT_MS_DEFAULT = 5_000;

export class TaskConnection {
  readonly nodeAddr: string;
  /** Resolves once the socket is closed (after destroy or a peer close). */
  readonly closed: Promise<void>;
  /** Requests answered on this connection; 0 = fresh. */
  repliesReceived = 0;
  private readonly socket: net.Socket;
  private readonly decoder: PacketDecoder;
  private inFlight: InFlight | null = null;
  private gone = false;
  private readonly onGone: (conn: TaskConnection) => void;
  private readonly o: TaskConnectionOptions;

  constructor(socket: net.Socket, nodeAddr: string, options: TaskConnectionOptions, onGone: (conn: TaskConnection) => void) {
    this.socket = socket;
    this.nodeAddr = nodeAddr;
    this.o = options;
    this.decoder = new PacketDecoder(options.limits);
    this.onGone = onGone;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new NodeTaskError('unreachable', nodeAddr, this.opCode(), `connection to ${nodeAddr} failed: ${err.message}`, { cause: err })));
    socket.on('close', () => this.onClose());
  }

  get isGone(): boolean {
    return this.gone;
  }

  get isBusy(): boolean {
    return this.inFlight !== null;
  }

  /** Sends `request` and resolves with its reply; rejects with a NodeTaskError. One at a time. */
  request(request: Packet, replyTimeoutMs: number, signal?: AbortSignal): Promise<Packet> {
    assert(this.inFlight === null, 'TaskConnection: one packet in flight per connection');
    const op = opcodeName(request.opcode);
    if (this.gone) return Promise.reject(new NodeTaskError('unreachable', this.nodeAddr, request.opcode, `connection to ${this.nodeAddr} is closed`));
    if (signal?.aborted) return Promise.reject(new NodeTaskError('aborted', this.nodeAddr, request.opcode, `${op} to ${this.nodeAddr} aborted`, { cause: signal.reason }));
    return new Promise<Packet>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new NodeTaskError('timeout', this.nodeAddr, request.opcode, `${op} to ${this.nodeAddr}: no reply within ${replyTimeoutMs} ms`));
      }, replyTimeoutMs);
      const onAbort = (): void => this.fail(new NodeTaskError('aborted', this.nodeAddr, request.opcode, `${op} to ${this.nodeAddr} aborted`, { cause: signal?.reason }));
      signal?.addEventListener('abort', onAbort, { once: true });
      const writeTimeoutMs = this.o.writeTimeoutMs;
      const writeTimer = setTimeout(() => {
        this.fail(new NodeTaskError('timeout', this.nodeAddr, request.opcode, `${op} to ${this.nodeAddr}: write not done within ${writeTimeoutMs} ms`));
      }, writeTimeoutMs);
      const inFlight: InFlight = { request, resolve, reject, timer, writeTimer, signal, onAbort };
      this.inFlight = inFlight;
      // The callback runs once the bytes are with the kernel (or with the error that 'error' reports).
      this.socket.write(encodePacket(request), () => {
        if (inFlight.writeTimer !== null) clearTimeout(inFlight.writeTimer);
        inFlight.writeTimer = null;
      });
    });
  }

  /** Rejects the request in flight with `error` (if any) and destroys the socket. Idempotent. */
  destroy(error: NodeTaskError): void {
    this.fail(error);
  }

  /**
   * The owner found the reply unusable (its Data is not what the op answers): the connection is
   * destroyed and the fault reported like one found in the framing.
   */
  replyFault(error: NodeTaskError): void {
    this.protocolFault(error);
  }

  private opCode(): number {
    return this.inFlight?.request.opcode ?? 0;
  }

  private settle(): InFlight | null {
    const f = this.inFlight;
    if (f === null) return null;
    this.inFlight = null;
    clearTimeout(f.timer);
    if (f.writeTimer !== null) clearTimeout(f.writeTimer);
    f.writeTimer = null;
    f.signal?.removeEventListener('abort', f.onAbort);
    return f;
  }

  /** The peer closed (or the socket was destroyed): mid-packet, that is a truncated reply. */
  private onClose(): void {
    if (!this.gone && !this.decoder.idle) {
      this.protocolFault(
        new NodeTaskError('protocol', this.nodeAddr, this.opCode(), `malformed reply from ${this.nodeAddr}: connection closed after ${this.decoder.bufferedBytes} bytes of an incomplete packet`),
      );
      return;
    }
    this.fail(new NodeTaskError('unreachable', this.nodeAddr, this.opCode(), `connection to ${this.nodeAddr} closed before the reply`));
  }

  /** Bytes that are not the reply in flight: the stream is out of sync, the connection goes. */
  private protocolFault(error: NodeTaskError): void {
    const first = !this.gone;
    this.fail(error);
    if (first) this.o.onProtocolFault?.(this, error);
  }

  private onData(chunk: Buffer): void {
    if (this.gone) return;
    let packets: Packet[];
    try {
      packets = this.decoder.push(chunk);
    } catch (e) {
      const detail = e instanceof PacketDecodeError ? e.message : String(e);
      this.protocolFault(new NodeTaskError('protocol', this.nodeAddr, this.opCode(), `malformed reply from ${this.nodeAddr}: ${detail}`, { cause: e }));
      return;
    }
    for (const reply of packets) {
      const f = this.inFlight;
      if (f === null) {
        this.protocolFault(new NodeTaskError('protocol', this.nodeAddr, reply.opcode, `unexpected packet from ${this.nodeAddr} with no request in flight (ReqID ${reply.reqId})`));
        return;
      }
      if (reply.reqId !== f.request.reqId || reply.opcode !== f.request.opcode) {
        this.protocolFault(
          new NodeTaskError(
            'protocol',
            this.nodeAddr,
            f.request.opcode,
            `reply from ${this.nodeAddr} is ${opcodeName(reply.opcode)} ReqID ${reply.reqId}, want ${opcodeName(f.request.opcode)} ReqID ${f.request.reqId}`,
          ),
        );
        return;
      }
      this.settle();
      this.repliesReceived += 1;
      f.resolve(reply);
    }
    // Bytes after the reply (a bad packet, or the start of one nobody asked for) would be read
    // as the next request's reply: the connection goes now, not when the next request fails.
    const failure = this.decoder.failed;
    if (failure !== null) {
      this.protocolFault(new NodeTaskError('protocol', this.nodeAddr, this.opCode(), `malformed reply from ${this.nodeAddr}: ${failure.message}`, { cause: failure }));
    } else if (this.inFlight === null && !this.decoder.idle) {
      this.protocolFault(new NodeTaskError('protocol', this.nodeAddr, 0, `unexpected bytes from ${this.nodeAddr} with no request in flight (${this.decoder.bufferedBytes} bytes)`));
    }
  }

  private fail(error: NodeTaskError): void {
    const f = this.settle();
    if (!this.gone) {
      this.gone = true;
      this.socket.destroy();
      this.onGone(this);
    }
    f?.reject(error);
  }
}

export interface DialOptions extends TaskConnectionOptions {
  readonly dialTimeoutMs: number;
  readonly signal?: AbortSignal;
  /** Called with the socket as soon as it exists, so an owner can destroy and await it on close. */
  readonly track: (socket: net.Socket) => void;
  readonly onGone: (conn: TaskConnection) => void;
}

/**
 * Connects to `nodeAddr` (TCP keepalive and NoDelay on, as the Go connection pool sets them).
 * Refused, unresolvable or slower than dialTimeoutMs: NodeTaskError 'unreachable'.
 */
export function dialTaskConnection(nodeAddr: string, opCode: number, o: DialOptions): Promise<TaskConnection> {
  const target = parseNodeAddr(nodeAddr);
  if (target === null) return Promise.reject(new NodeTaskError('unreachable', nodeAddr, opCode, `bad node address "${nodeAddr}"`));
  if (o.signal?.aborted) return Promise.reject(new NodeTaskError('aborted', nodeAddr, opCode, `dial to ${nodeAddr} aborted`, { cause: o.signal.reason }));
  return new Promise<TaskConnection>((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port, noDelay: true, keepAlive: true });
    o.track(socket);
    let done = false;
    const finish = (error: NodeTaskError | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (error !== null) {
        // destroy() emits no 'error', but a late one must not become an uncaught exception.
        socket.on('error', () => undefined);
        socket.destroy();
        reject(error);
        return;
      }
      resolve(new TaskConnection(socket, nodeAddr, { limits: o.limits, writeTimeoutMs: o.writeTimeoutMs, onProtocolFault: o.onProtocolFault }, o.onGone));
    };
    const onConnect = (): void => finish(null);
    const onError = (err: Error): void => finish(new NodeTaskError('unreachable', nodeAddr, opCode, `cannot connect to ${nodeAddr}: ${err.message}`, { cause: err }));
    const onClose = (): void => finish(new NodeTaskError('unreachable', nodeAddr, opCode, `connection to ${nodeAddr} closed while connecting`));
    const onAbort = (): void => finish(new NodeTaskError('aborted', nodeAddr, opCode, `dial to ${nodeAddr} aborted`, { cause: o.signal?.reason }));
    const timer = setTimeout(() => finish(new NodeTaskError('unreachable', nodeAddr, opCode, `cannot connect to ${nodeAddr} within ${o.dialTimeoutMs} ms`)), o.dialTimeoutMs);
    socket.once('connect', onConnect);
    socket.once('error', onError);
    socket.once('close', onClose);
    o.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
