// A fault-injecting proxy in front of every member's Raft listener. Members dial each other at
// the addresses in `peers` (the proxy); each member's transport binds its own IP as source
// address, so the proxy knows which member a connection comes from and applies that link's
// rule: blocked (partitions, one-way or both ways), frame loss, delay with jitter (reordering
// across connections; order within one TCP connection is kept, as TCP would).
//
// Frames are parsed only as far as the transport's fixed header (u32le body length, u8 type,
// u32 crc): loss drops whole frames, never the first (the hello), so the receiver sees messages
// vanish, not garbage.
//
// With peer TLS (`tls-records`) the proxy sees TLS records (u8 type, u16 version, u16be length),
// not frames, and cannot drop one: the next record would fail its authentication and the
// connection die, every time (tried: the resets, each followed by a reconnect backoff, turned
// every loss fault into a multi-second partition). So a lost record is delivered late instead,
// after a retransmission timeout, in order: what packet loss does to a TCP stream. And at a tenth
// of the rule's rate: every later record waits behind a retransmitted one, so 5-35% loss would
// stall the link for good (as it would a real TCP connection), where dropped frames only thin
// it. Messages then vanish only with their connection (partitions, kills), as they do over real
// TLS. Blocking and delay work alike on both.
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

/** What the proxy cuts the byte stream into: transport frames (plain TCP) or TLS records. */
export type StreamUnits = 'frames' | 'tls-records';

const TLS_RECORD_HEADER_BYTES = 5;
/** Units passed untouched at the start of a connection (the hello; the TLS handshake's records). */
const SPARED_UNITS: Readonly<Record<StreamUnits, number>> = { frames: 1, 'tls-records': 4 };
/** How late a "lost" TLS record arrives: Linux's minimum TCP retransmission timeout. */
const RETRANSMIT_MS = 200;
/** The share of the rule's loss rate applied to each unit. */
const LOSS_SCALE: Readonly<Record<StreamUnits, number>> = { frames: 1, 'tls-records': 0.1 };

/** The byte length of the next whole unit at the start of `buffered`, or null until it is all there. */
function nextUnitBytes(units: StreamUnits, buffered: Buffer): number | null {
  if (units === 'frames') {
    if (buffered.length < FRAME_HEADER_BYTES) return null;
    const size = FRAME_HEADER_BYTES + buffered.readUInt32LE(0);
    return buffered.length < size ? null : size;
  }
  if (buffered.length < TLS_RECORD_HEADER_BYTES) return null;
  const size = TLS_RECORD_HEADER_BYTES + buffered.readUInt16BE(3);
  return buffered.length < size ? null : size;
}

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
    private readonly units: StreamUnits = 'frames',
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
    // Delayed units wait here in arrival order; one timer releases the head. (Separate timers per
    // unit could fire out of order by a millisecond: harmless between frames, fatal inside TLS.)
    const held: { releaseMs: number; bytes: Buffer }[] = [];
    let timer: NodeJS.Timeout | null = null;
    const release = (): void => {
      if (timer !== null) this.timers.delete(timer);
      timer = null;
      while (held.length > 0 && held[0].releaseMs <= Date.now()) {
        const unit = held.shift()!;
        if (!upstream.destroyed) upstream.write(unit.bytes);
      }
      if (held.length === 0 || this.closed) return;
      timer = setTimeout(release, held[0].releaseMs - Date.now());
      this.timers.add(timer);
    };
    client.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      for (;;) {
        const size = nextUnitBytes(this.units, buffered);
        if (size === null) break;
        const frame = buffered.subarray(0, size);
        buffered = buffered.subarray(size);
        const rule = this.rule(pipe.from, pipe.to);
        const lost = frames++ >= SPARED_UNITS[this.units] && rule.lossRate > 0 && this.random.nextFloat() < rule.lossRate * LOSS_SCALE[this.units];
        if (lost) this.framesDropped++;
        if (lost && this.units === 'frames') continue;
        const delay = rule.delayMs + (rule.jitterMs > 0 ? this.random.nextInt(rule.jitterMs) : 0) + (lost ? RETRANSMIT_MS : 0);
        if (delay <= 0 && held.length === 0) {
          upstream.write(frame);
          continue;
        }
        // Never before the unit ahead of it.
        const releaseMs = Math.max(Date.now() + delay, held.at(-1)?.releaseMs ?? 0);
        this.framesDelayed++;
        held.push({ releaseMs, bytes: Buffer.from(frame) });
        if (timer === null) {
          timer = setTimeout(release, releaseMs - Date.now());
          this.timers.add(timer);
        }
      }
    });
    client.on('close', () => {
      if (timer !== null) clearTimeout(timer);
    });
  }

  private destroy(pipe: Pipe): void {
    if (!this.pipes.delete(pipe)) return;
    pipe.client.destroy();
    pipe.upstream.destroy();
  }
}
