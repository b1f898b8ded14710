// A fault-injecting proxy in front of every member's Raft listener. Members dial each other at
// the addresses in `peers` (the proxy); each member's transport binds its own IP as source
// address, so the proxy knows which member a connection comes from and applies that link's
// rule: blocked (partitions, one-way or both ways), frame loss, delay with jitter (reordering
// across connections; order within one TCP connection is kept, as TCP would).
//
// Frames are parsed only as far as the transport's fixed header (u32le body length, u8 type,
// u32 crc): loss drops whole frames, never the first (the hello), so the receiver sees messages
// vanish, not garbage.
import net from 'node:net';
import type { SeededRandom } from '../../src/raft/core/index.js';
import { FRAME_HEADER_BYTES } from '../../src/raft/transport/frame-codec.js';

export interface LinkRule {
  blocked: boolean;
  lossRate: number;
  delayMs: number;
  jitterMs: number;
}

const CLEAR: LinkRule = Object.freeze({ blocked: false, lossRate: 0, delayMs: 0, jitterMs: 0 });

export interface ProxiedMember {
  readonly id: number;
  /** The member's own IP: the source address of its outbound connections. */
  readonly host: string;
  /** Where peers dial it (the proxy listens here). */
  readonly advertisedPort: number;
  /** Where the member really listens. */
  readonly listenPort: number;
}

interface Pipe {
  readonly from: number;
  readonly to: number;
  readonly client: net.Socket;
  readonly upstream: net.Socket;
}

export class NetworkProxy {
  private readonly servers: net.Server[] = [];
  private readonly rules = new Map<string, LinkRule>();
  private readonly pipes = new Set<Pipe>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  framesDropped = 0;
  framesDelayed = 0;

  constructor(
    private readonly members: readonly ProxiedMember[],
    private readonly random: SeededRandom,
  ) {}

  async start(): Promise<void> {
    for (const target of this.members) {
      const server = net.createServer((client) => this.accept(client, target));
      server.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(target.advertisedPort, target.host, () => resolve());
      });
      this.servers.push(server);
    }
  }

  rule(from: number, to: number): LinkRule {
    return this.rules.get(`${from}>${to}`) ?? CLEAR;
  }

  setRule(from: number, to: number, rule: Partial<LinkRule>): void {
    const next = { ...this.rule(from, to), ...rule };
    this.rules.set(`${from}>${to}`, next);
    if (next.blocked) for (const p of this.pipes) if (p.from === from && p.to === to) this.destroy(p);
  }

  /** Cuts both directions between the two sides. */
  partition(sideA: readonly number[], sideB: readonly number[]): void {
    for (const a of sideA) for (const b of sideB) {
      this.setRule(a, b, { blocked: true });
      this.setRule(b, a, { blocked: true });
    }
  }

  healAll(): void {
    this.rules.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const p of this.pipes) this.destroy(p);
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private accept(client: net.Socket, target: ProxiedMember): void {
    const source = this.members.find((m) => m.host === client.remoteAddress);
    if (this.closed || source === undefined || this.rule(source.id, target.id).blocked) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: target.host, port: target.listenPort, noDelay: true });
    client.setNoDelay(true);
    const pipe: Pipe = { from: source.id, to: target.id, client, upstream };
    this.pipes.add(pipe);
    const end = () => this.destroy(pipe);
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    // Replies (errors, snapshot acks) go back untouched.
    upstream.on('data', (chunk: Buffer) => {
      if (!client.destroyed) client.write(chunk);
    });
    let buffered: Buffer = Buffer.alloc(0);
    let frames = 0;
    let lastReleaseMs = 0;
    client.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      for (;;) {
        if (buffered.length < FRAME_HEADER_BYTES) break;
        const size = FRAME_HEADER_BYTES + buffered.readUInt32LE(0);
        if (buffered.length < size) break;
        const frame = buffered.subarray(0, size);
        buffered = buffered.subarray(size);
        const rule = this.rule(pipe.from, pipe.to);
        if (frames++ > 0 && rule.lossRate > 0 && this.random.nextFloat() < rule.lossRate) {
          this.framesDropped++;
          continue;
        }
        const delay = rule.delayMs + (rule.jitterMs > 0 ? this.random.nextInt(rule.jitterMs) : 0);
        if (delay <= 0 && lastReleaseMs <= Date.now()) {
          upstream.write(frame);
          continue;
        }
        // Keep the order within the connection: never release before the previous frame.
        const releaseMs = Math.max(Date.now() + delay, lastReleaseMs);
        lastReleaseMs = releaseMs;
        this.framesDelayed++;
        const copy = Buffer.from(frame);
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (!upstream.destroyed) upstream.write(copy);
        }, releaseMs - Date.now());
        this.timers.add(timer);
      }
    });
  }

  private destroy(pipe: Pipe): void {
    if (!this.pipes.delete(pipe)) return;
    pipe.client.destroy();
    pipe.upstream.destroy();
  }
}
