// The chaos run's other links, beside Raft (network-proxy.ts): every one goes through a proxy
// here, so that a partition cuts all of a member's traffic, not only its Raft messages.
// - Forwarding (follower -> leader, src/api/forward.ts): the members' `peers` name a proxy port
//   as every member's HTTP address; ForwardProxy reads the forwarding member's id from the
//   request's x-cubemaster-forwarded-by header and applies the link's rule. A request without it
//   (a client that followed a leader hint) always passes.
// - The simulated nodes' reports (HTTP, node -> master): the nodes dial each member through a
//   PipeProxy of its own (so every byte on it is node traffic, HTTPS included).
// - The admin tasks (TCP, master -> node): each node registers a proxy address and listens
//   behind it. Only the leader sends tasks, and every member dials from 127.0.0.1, so the task
//   proxies cannot tell members apart: a cut of any member -> nodes link blocks them all, and the
//   faults cut that link for the leader only.
// Blocked means: new connections are closed at once, open ones are destroyed when the rule is
// set (a request in flight sees a reset, as behind a dropped route).
import http from 'node:http';
import net from 'node:net';
import { FORWARDED_BY_HEADER } from '../../src/api/forward.js';

interface Listener {
  readonly host: string;
  readonly port: number;
}

/** A TCP proxy from one listening address to one target, closed while `blocked()` holds. */
export class PipeProxy {
  private server: net.Server | null = null;
  private readonly pipes = new Set<{ client: net.Socket; upstream: net.Socket }>();
  /** The port it listens on (the one given, or the one the system chose for 0). */
  port = 0;

  constructor(
    private readonly listen: Listener,
    private readonly target: Listener,
    private readonly blocked: () => boolean,
  ) {}

  async start(): Promise<void> {
    const server = net.createServer((client) => this.accept(client));
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listen.port, this.listen.host, () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Destroys the open connections (their link was just cut). */
  cut(): void {
    for (const p of this.pipes) {
      p.client.destroy();
      p.upstream.destroy();
    }
    this.pipes.clear();
  }

  async close(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.server === null || this.blocked()) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: this.target.host, port: this.target.port, noDelay: true });
    client.setNoDelay(true);
    const pipe = { client, upstream };
    this.pipes.add(pipe);
    const end = (): void => {
      this.pipes.delete(pipe);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** Bounds of one forwarded request through the proxy (the member's own forward has 30 s). */
const FORWARD_TIMEOUT_MS = 30_000;

/**
 * An HTTP proxy in front of one member's API for the other members' forwards: `blocked(from)`
 * says whether the link from member `from` to this one is cut.
 */
export class ForwardProxy {
  private server: http.Server | null = null;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  /** Client sockets by the member that forwards over them (learnt from their first request). */
  private readonly socketsFrom = new Map<net.Socket, number>();
  /** The port it listens on (the one given, or the one the system chose for 0). */
  port = 0;

  constructor(
    private readonly listen: Listener,
    private readonly target: Listener,
    private readonly blocked: (from: number) => boolean,
  ) {}

  async start(): Promise<void> {
    const server = http.createServer((request, response) => this.relay(request, response));
    server.on('connection', (socket) => socket.on('close', () => this.socketsFrom.delete(socket)));
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listen.port, this.listen.host, () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Destroys the connections member `from` forwards over (its link was just cut). */
  cut(from: number): void {
    for (const [socket, id] of this.socketsFrom) if (id === from) socket.destroy();
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.socketsFrom.keys()) socket.destroy();
    this.agent.destroy();
    if (server !== null) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private relay(request: http.IncomingMessage, response: http.ServerResponse): void {
    const from = Number(request.headers[FORWARDED_BY_HEADER] ?? 0);
    if (from !== 0) this.socketsFrom.set(request.socket, from);
    if (this.server === null || (from !== 0 && this.blocked(from))) {
      request.socket.destroy();
      return;
    }
    const upstream = http.request(
      { host: this.target.host, port: this.target.port, method: request.method, path: request.url, headers: request.headers, agent: this.agent, timeout: FORWARD_TIMEOUT_MS },
      (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(response);
        reply.on('error', () => response.destroy());
      },
    );
    upstream.on('timeout', () => upstream.destroy(new Error('proxy timeout')));
    upstream.on('error', () => response.destroy());
    request.on('error', () => upstream.destroy());
    request.pipe(upstream);
  }
}
