// Fault injection for the chaos suite, off unless the process runs with CUBEMASTER_CHAOS=1:
// a Raft log whose writes can be stalled (a slow or hung disk), driven through a local route.
// Nothing here is reachable in a normal deployment.
import type { FastifyInstance } from 'fastify';
import type { ConfState, Entry, HardState, SnapshotMeta } from '../raft/core/index.js';
import type { DurableLog } from '../raft/node.js';

export function chaosEnabled(): boolean {
  return process.env.CUBEMASTER_CHAOS === '1';
}

/** Delegates to the real log; while a stall is on, every save first waits `delayMs`. */
export class StallableLog implements DurableLog {
  private delayMs = 0;
  private untilMs = 0;

  constructor(private readonly log: DurableLog) {}

  stall(delayMs: number, durationMs: number): void {
    this.delayMs = delayMs;
    this.untilMs = Date.now() + durationMs;
  }

  async save(update: { snapshot: SnapshotMeta | null; entries: readonly Entry[]; hardState: HardState | null }): Promise<void> {
    if (Date.now() < this.untilMs) await new Promise((r) => setTimeout(r, this.delayMs));
    await this.log.save(update);
  }

  compact(index: number, conf: ConfState): Promise<void> {
    return this.log.compact(index, conf);
  }
  isEmpty(): boolean {
    return this.log.isEmpty();
  }
  hardState(): HardState {
    return this.log.hardState();
  }
  snapshot(): SnapshotMeta {
    return this.log.snapshot();
  }
  firstIndex(): number {
    return this.log.firstIndex();
  }
  lastIndex(): number {
    return this.log.lastIndex();
  }
  term(index: number): number {
    return this.log.term(index);
  }
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    return this.log.entries(lo, hi, maxSizeBytes);
  }
}

/** GET /cubemaster/chaos/disk-stall?delayMs=&durationMs= (local, chaos mode only). */
export function registerChaosRoutes(app: FastifyInstance, log: StallableLog): void {
  app.get('/cubemaster/chaos/disk-stall', (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const delayMs = Math.min(Number(query.delayMs ?? 0), 60_000);
    const durationMs = Math.min(Number(query.durationMs ?? 0), 600_000);
    if (!Number.isFinite(delayMs) || !Number.isFinite(durationMs) || delayMs < 0 || durationMs < 0) {
      return reply.send({ code: 2, msg: 'delayMs and durationMs must be non-negative numbers', data: null });
    }
    log.stall(delayMs, durationMs);
    return reply.send({ code: 0, msg: 'success', data: { delayMs, durationMs } });
  });
}
