// More than one listening handle on the HTTP socket, so that a busy event loop still accepts a
// burst of new connections at once.
//
// libuv 1.45 and later (Node 20 has 1.46) accept ONE connection per listening handle per
// event-loop turn (libuv#3696: accept() is no longer called in a loop). Under load a turn of the
// leader runs every request that arrived on the established connections (256 clients: 15-25 ms of
// JavaScript), so a burst of N new connections waits in the kernel's accept queue for N turns.
// The kernel completes the TCP handshake by itself, so each client has already sent its first
// request, and that request waits too: 256 new connections took ~5 s to be accepted, which was
// the p99 of 1.1 s (2.4 s with 5 members) at 256 clients (bench/results/notes.md). Go's net/http
// (etcd, the Go master) accepts on a goroutine of its own and does not show it.
//
// Every descriptor of the listening socket is a handle of its own to libuv and accepts one
// connection per turn, so `count` descriptors accept up to `count` per turn; when fewer
// connections wait, the others' accept() answers EAGAIN, a cheap system call. Node 20 has no
// dup() and no SO_REUSEPORT (`reusePort` came with Node 22.12), but a descriptor passed over an
// IPC channel arrives as a new one (SCM_RIGHTS): a short-lived helper process
// (accept-handles-helper.ts) receives the listening handle and sends it back `count - 1` times,
// then exits. It relays the raw handle and never listens on it, so it cannot take a connection.
// A process start costs tens of milliseconds of CPU, so a master starts the helper
// (HandleCopier.start) beside the opening of its stores, and the copies are made shortly after
// the server listens (server.ts, ACCEPT_HANDLES_AFTER_MS).
//
// The connections the extra handles accept are handed to the HTTP server as its own (its
// 'connection' event, which Node documents for injecting connections): parser, timeouts,
// keep-alive and closeAllConnections() treat them like the others.
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FastifyBaseLogger } from 'fastify';

const HELPER_PATH = fileURLToPath(new URL('./accept-handles-helper.js', import.meta.url));

/** Most listening handles one server gets; each is a descriptor and an epoll registration. */
export const ACCEPT_HANDLES_MAX = 1024;

export interface AcceptHandlesOptions {
  /** Handles on the socket in all, the server's own included (1: no extra handle). */
  readonly count: number;
  /** Bound on making the copies (and on the helper's exit). */
  readonly timeoutMs: number;
  /** Ends the making of copies at once (the server is closing): open() then fails. */
  readonly signal?: AbortSignal;
  /** A helper started ahead (HandleCopier.start); default: one started now. open() ends it. */
  readonly copier?: HandleCopier;
  readonly logger?: FastifyBaseLogger;
}

/** The extra handles of one listening server; stopListening() then closed() end them. */
export class AcceptHandles {
  private readonly servers: net.Server[] = [];
  private readonly closes: Promise<void>[] = [];
  private listening = true;

  private constructor(
    private readonly target: net.Server,
    private readonly logger: FastifyBaseLogger | undefined,
  ) {}

  /**
   * Adds `count - 1` handles to `target`, which must be listening. Fails (nothing added, the
   * helper ended) when the copies cannot be made; the server then accepts on its own handle.
   */
  static async open(target: net.Server, options: AcceptHandlesOptions): Promise<AcceptHandles> {
    const copier = options.copier ?? (options.count > 1 ? HandleCopier.start() : null);
    try {
      const handles = new AcceptHandles(target, options.logger);
      const copies = Math.min(options.count, ACCEPT_HANDLES_MAX) - 1;
      if (copies <= 0 || copier === null) return handles;
      // The raw libuv handle, sent as such ('net.Native'): a net.Server would be listened on by
      // the helper when it arrives there, and the helper could then accept a connection.
      const raw = (target as unknown as { _handle?: unknown })._handle;
      if (raw === null || typeof raw !== 'object' || !target.listening) throw new Error('accept handles: the server is not listening');
      const received = await copier.copies(raw as net.Server, copies, options.timeoutMs, options.signal);
      for (const handle of received) handles.add(handle);
      return handles;
    } finally {
      await copier?.end(options.signal?.aborted === true ? 0 : options.timeoutMs);
    }
  }

  /** Listening handles in all, the server's own included. */
  get count(): number {
    return 1 + this.servers.length;
  }

  /**
   * Stops accepting on every extra handle, at once (call it where the server itself stops
   * accepting). The connections they accepted belong to the server and end with it.
   */
  stopListening(): void {
    if (!this.listening) return;
    this.listening = false;
    for (const s of this.servers) s.close();
  }

  /** Resolves when every extra handle is closed: after stopListening(), once their connections ended. */
  closed(): Promise<void> {
    return Promise.all(this.closes).then(() => undefined);
  }

  private add(handle: unknown): void {
    const server = net.createServer(acceptOptionsOf(this.target));
    this.closes.push(new Promise((resolve) => server.once('close', () => resolve())));
    server.on('connection', (socket: net.Socket) => this.target.emit('connection', socket));
    // An accept error (no descriptor left...) is the listening socket's, not a crash.
    server.on('error', (err) => this.logger?.warn({ err }, 'http: accept failed on an extra listening handle'));
    server.listen(handle);
    this.servers.push(server);
    if (!this.listening) server.close();
  }
}

/**
 * The options the target's own accepts apply to a new connection (net.Server keeps them in these
 * properties; an HTTP server sets noDelay and allowHalfOpen), so that a connection is the same
 * whichever handle accepted it. maxConnections is not carried: it would count per handle.
 */
function acceptOptionsOf(target: net.Server): net.ServerOpts {
  const t = target as net.Server & { allowHalfOpen?: boolean; pauseOnConnect?: boolean; noDelay?: boolean; keepAlive?: boolean; keepAliveInitialDelay?: number; highWaterMark?: number };
  return {
    allowHalfOpen: t.allowHalfOpen,
    pauseOnConnect: t.pauseOnConnect,
    noDelay: t.noDelay,
    keepAlive: t.keepAlive,
    // Kept in seconds, given in milliseconds.
    keepAliveInitialDelay: (t.keepAliveInitialDelay ?? 0) * 1000,
    highWaterMark: t.highWaterMark,
  };
}

/**
 * The helper process (accept-handles-helper.ts), started ahead of need. It makes copies once,
 * then ends; end() is called by whoever started it, whether or not the copies were made.
 */
export class HandleCopier {
  private readonly exited: Promise<void>;
  private startError: Error | null = null;
  private used = false;
  /** Copies the helper may still send: the channel must not be closed from this side meanwhile. */
  private inFlight = false;
  /** Where a copy goes: collected, or closed (it came after copies() gave up). */
  private take: (handle: unknown) => void = closeHandle;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise<void>((resolve) => {
      // ('close' may never come when this side disconnects while the helper still sends.)
      child.once('exit', () => resolve());
      child.on('error', (error) => {
        this.startError ??= error;
        // A process that could not be started never exits.
        if (child.pid === undefined) resolve();
      });
    });
    child.on('message', (_message: unknown, handle: unknown) => {
      if (handle !== undefined && handle !== null) this.take(handle);
    });
    child.once('disconnect', () => {
      this.inFlight = false;
    });
  }

  static start(): HandleCopier {
    const env = { ...process.env };
    // The helper needs nothing of ours: no preloaded modules, no inspector.
    delete env.NODE_OPTIONS;
    return new HandleCopier(fork(HELPER_PATH, [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], execArgv: [], env, serialization: 'json' }));
  }

  /** Sends `raw` to the helper and collects the `copies` it sends back (once per helper). */
  async copies(raw: net.Server, copies: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown[]> {
    if (this.used) throw new Error('accept handles: a helper makes copies once');
    this.used = true;
    signal?.throwIfAborted();
    const child = this.child;
    if (this.startError !== null) throw this.startError;
    if (!child.connected) throw new Error('accept handles: the helper process ended before it was used');
    const received: unknown[] = [];
    // Set from the callbacks below (an object: TypeScript does not see assignments made in them).
    const outcome: { failure: Error | null } = { failure: null };
    await new Promise<void>((resolve) => {
      let finished = false;
      const finish = (error: Error | null): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        child.off('disconnect', onDisconnect);
        outcome.failure ??= error;
        this.take = closeHandle;
        resolve();
      };
      const timer = setTimeout(() => finish(new Error(`accept handles: the helper process sent ${received.length} of ${copies} copies within ${timeoutMs} ms`)), timeoutMs);
      const onAbort = (): void => finish(new Error('accept handles: the server closed while the copies were being made'));
      signal?.addEventListener('abort', onAbort, { once: true });
      // The channel closed before every copy arrived: the helper failed.
      const onDisconnect = (): void => finish(new Error(`accept handles: the helper process ended after ${received.length} of ${copies} copies`));
      child.once('disconnect', onDisconnect);
      child.once('error', (error) => finish(error));
      this.take = (handle) => {
        received.push(handle);
        if (received.length === copies) {
          this.inFlight = false;
          finish(null);
        }
      };
      this.inFlight = true;
      child.send({ copies }, raw, (error) => {
        if (error !== null) finish(error);
      });
    });
    if (outcome.failure !== null) {
      // Copies that did arrive are descriptors of ours: close them (later ones are closed as they come).
      for (const handle of received) closeHandle(handle);
      throw outcome.failure;
    }
    return received;
  }

  /**
   * Ends the helper and waits for its exit. With every copy in (or none asked for) its channel
   * is closed and it exits; with copies still on the way it is killed instead, and the channel
   * closes from its side (Node fails an assertion when this side closes a channel while a handle
   * it carried is being delivered). Killed anyway after `killAfterMs`.
   */
  async end(killAfterMs: number): Promise<void> {
    if (this.inFlight) this.child.kill('SIGKILL');
    else if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), killAfterMs);
    await this.exited;
    clearTimeout(timer);
  }
}

function closeHandle(handle: unknown): void {
  (handle as { close?: () => void }).close?.();
}
