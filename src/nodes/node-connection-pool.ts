// A small pool of TaskConnections to one node address. The Go master keeps 5..80 pooled
// connections per node and rotates over them FIFO (spec/node-protocol.md 2.1); here the pool is
// smaller and bounded three ways: open connections (connectionsMax), callers waiting for one
// (waitersMax, then 'busy'), and how long a caller waits (its timeout, then 'timeout').
// Idle connections close after idleTimeoutMs (the Go pool's 90 s).

import type net from 'node:net';
import { opcodeName } from './opcodes.js';
import type { PacketLimits } from './packet.js';
import { NodeTaskError } from './task-client.js';
import { dialTaskConnection, type TaskConnection } from './task-connection.js';

export interface NodeConnectionPoolOptions {
  readonly connectionsMax: number;
  readonly waitersMax: number;
  readonly dialTimeoutMs: number;
  /** Deadline of each packet's write (Go: 5 s). */
  readonly writeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly limits: Partial<PacketLimits>;
  /** A connection destroyed for a protocol fault (malformed reply): reported once, for the log. */
  readonly onProtocolFault?: (conn: TaskConnection, error: NodeTaskError) => void;
  /** Registers every socket with the client, which destroys and awaits them on close. */
  readonly track: (socket: net.Socket) => void;
}

export interface Lease {
  readonly conn: TaskConnection;
  /** True when the connection carried an earlier request (it may have gone stale meanwhile). */
  readonly reused: boolean;
}

interface Waiter {
  readonly opCode: number;
  readonly resolve: (lease: Lease) => void;
  readonly reject: (error: NodeTaskError) => void;
  readonly timer: NodeJS.Timeout;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

export class NodeConnectionPool {
  readonly nodeAddr: string;
  private readonly o: NodeConnectionPoolOptions;
  private readonly onEmpty: (pool: NodeConnectionPool) => void;
  private readonly open = new Set<TaskConnection>();
  /** FIFO: the longest idle is used first, so successive tasks rotate as in the Go pool. */
  private readonly idle: TaskConnection[] = [];
  private readonly idleTimers = new Map<TaskConnection, NodeJS.Timeout>();
  private readonly waiters: Waiter[] = [];
  private dialing = 0;
  private closedWith: NodeTaskError | null = null;

  constructor(nodeAddr: string, options: NodeConnectionPoolOptions, onEmpty: (pool: NodeConnectionPool) => void) {
    this.nodeAddr = nodeAddr;
    this.o = options;
    this.onEmpty = onEmpty;
  }

  get isEmpty(): boolean {
    return this.open.size === 0 && this.dialing === 0 && this.waiters.length === 0;
  }

  /** A connection for one request; give it back with release() after a good reply. */
  acquire(opCode: number, waitTimeoutMs: number, signal?: AbortSignal): Promise<Lease> {
    if (this.closedWith !== null) return Promise.reject(this.closedWith);
    if (signal?.aborted) return Promise.reject(this.abortError(opCode, signal));
    for (let conn = this.idle.shift(); conn !== undefined; conn = this.idle.shift()) {
      this.clearIdleTimer(conn);
      if (!conn.isGone) return Promise.resolve({ conn, reused: conn.repliesReceived > 0 });
    }
    if (this.open.size + this.dialing < this.o.connectionsMax) return this.dial(opCode, signal);
    if (this.waiters.length >= this.o.waitersMax) {
      return Promise.reject(
        new NodeTaskError('busy', this.nodeAddr, opCode, `${opcodeName(opCode)} to ${this.nodeAddr}: ${this.waiters.length} calls already wait for a connection`),
      );
    }
    return new Promise<Lease>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.removeWaiter(waiter);
        reject(new NodeTaskError('timeout', this.nodeAddr, opCode, `${opcodeName(opCode)} to ${this.nodeAddr}: no free connection within ${waitTimeoutMs} ms`));
      }, waitTimeoutMs);
      const onAbort = (): void => {
        this.removeWaiter(waiter);
        reject(this.abortError(opCode, signal));
      };
      const waiter: Waiter = { opCode, resolve, reject, timer, signal, onAbort };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Returns a connection after a complete exchange: to the next waiter, or to the idle list. */
  release(conn: TaskConnection): void {
    if (conn.isGone) return;
    if (this.closedWith !== null) {
      conn.destroy(this.closedWith);
      return;
    }
    const waiter = this.takeWaiter();
    if (waiter !== undefined) {
      waiter.resolve({ conn, reused: true });
      return;
    }
    this.idle.push(conn);
    this.idleTimers.set(
      conn,
      setTimeout(() => {
        this.idleTimers.delete(conn);
        conn.destroy(new NodeTaskError('closed', this.nodeAddr, 0, `idle connection to ${this.nodeAddr} closed`));
      }, this.o.idleTimeoutMs),
    );
  }

  /** Rejects every waiter and destroys every connection with `error`; later acquires fail with it. */
  close(error: NodeTaskError): void {
    if (this.closedWith !== null) return;
    this.closedWith = error;
    for (const waiter of this.waiters.splice(0)) {
      this.forgetWaiter(waiter);
      waiter.reject(error);
    }
    for (const conn of [...this.open]) conn.destroy(error);
  }

  private abortError(opCode: number, signal: AbortSignal | undefined): NodeTaskError {
    return new NodeTaskError('aborted', this.nodeAddr, opCode, `${opcodeName(opCode)} to ${this.nodeAddr} aborted`, { cause: signal?.reason });
  }

  private async dial(opCode: number, signal: AbortSignal | undefined): Promise<Lease> {
    this.dialing += 1;
    let conn: TaskConnection;
    try {
      conn = await dialTaskConnection(this.nodeAddr, opCode, {
        dialTimeoutMs: this.o.dialTimeoutMs,
        writeTimeoutMs: this.o.writeTimeoutMs,
        limits: this.o.limits,
        onProtocolFault: this.o.onProtocolFault,
        signal,
        track: this.o.track,
        onGone: (c) => this.onGone(c),
      });
    } catch (e) {
      this.dialing -= 1;
      this.afterCapacityChange();
      // The client's close() destroys dialing sockets: report that as 'closed', not 'unreachable'.
      throw this.closedWith ?? e;
    }
    // Counted as open before it stops counting as dialing, so the pool never looks empty here.
    this.open.add(conn);
    this.dialing -= 1;
    if (this.closedWith !== null) {
      conn.destroy(this.closedWith);
      throw this.closedWith;
    }
    return { conn, reused: false };
  }

  private onGone(conn: TaskConnection): void {
    this.open.delete(conn);
    this.clearIdleTimer(conn);
    const at = this.idle.indexOf(conn);
    if (at >= 0) this.idle.splice(at, 1);
    this.afterCapacityChange();
  }

  /** A connection slot freed up: a waiter may dial now; an empty pool is dropped by its owner. */
  private afterCapacityChange(): void {
    if (this.closedWith === null && this.waiters.length > 0 && this.open.size + this.dialing < this.o.connectionsMax) {
      const waiter = this.takeWaiter();
      if (waiter !== undefined) this.dial(waiter.opCode, waiter.signal).then(waiter.resolve, waiter.reject);
    }
    if (this.isEmpty) this.onEmpty(this);
  }

  private takeWaiter(): Waiter | undefined {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) this.forgetWaiter(waiter);
    return waiter;
  }

  private removeWaiter(waiter: Waiter): void {
    const at = this.waiters.indexOf(waiter);
    if (at >= 0) this.waiters.splice(at, 1);
    this.forgetWaiter(waiter);
    if (this.isEmpty) this.onEmpty(this);
  }

  private forgetWaiter(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }

  private clearIdleTimer(conn: TaskConnection): void {
    const timer = this.idleTimers.get(conn);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.idleTimers.delete(conn);
    }
  }
}
