// Fault injection for the chaos suite (test/chaos/, docs/faults.md), off unless the process
// runs with CUBEMASTER_CHAOS=1, driven through local routes. Nothing here is reachable in a
// normal deployment: master.ts creates none of it without the variable.
// - ChaosDisk: the stores' disk calls made slow (seconds-long fsyncs, slow RocksDB writes), full
//   (writes refused with ENOSPC until "space returns") or failing (the next fdatasync fails with
//   EIO), through the stores' DiskFaults hook (storage/disk-faults.ts).
// - ChaosClock: the process's wall clock (Date.now) stepped forward or back, as an NTP step or a
//   resumed VM does; the monotonic clock (performance.now, timers) is left alone, as the kernel
//   leaves CLOCK_MONOTONIC.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { systemError, type DiskFaults } from '../storage/disk-faults.js';

export function chaosEnabled(): boolean {
  return process.env.CUBEMASTER_CHAOS === '1';
}

/** The stores a chaos fault can target: the Raft log (RaftLogStore's name) and the state store. */
export const CHAOS_STORES = ['raft-log', 'state'] as const;
export type ChaosStore = (typeof CHAOS_STORES)[number];

interface StoreFaults {
  /** Extra time per fdatasync (raft-log) or per write and flush (state), until slowUntilMs. */
  delayMs: number;
  slowUntilMs: number;
  /** Writes are refused with ENOSPC until then. */
  fullUntilMs: number;
  /** The next fdatasync (or flush) fails with EIO. */
  failNextSync: boolean;
}

/** The injected disk of one member. Times are monotonic: a clock jump does not move them. */
export class ChaosDisk implements DiskFaults {
  private readonly stores = new Map<string, StoreFaults>();

  /** Every write (raft-log: fdatasync) of `store` takes `delayMs` longer, for `durationMs`. */
  slow(store: ChaosStore, delayMs: number, durationMs: number): void {
    const f = this.faults(store);
    f.delayMs = delayMs;
    f.slowUntilMs = performance.now() + durationMs;
  }

  /** Writes of `store` are refused with ENOSPC for `durationMs`; then space "returns". */
  full(store: ChaosStore, durationMs: number): void {
    this.faults(store).fullUntilMs = performance.now() + durationMs;
  }

  /** The next fdatasync of `store` fails with EIO. */
  failNextSync(store: ChaosStore): void {
    this.faults(store).failNextSync = true;
  }

  clear(): void {
    this.stores.clear();
  }

  writeError(store: string): Error | null {
    const f = this.stores.get(store);
    return f !== undefined && performance.now() < f.fullUntilMs ? systemError('ENOSPC', 'write') : null;
  }

  syncError(store: string): Error | null {
    const f = this.stores.get(store);
    if (f === undefined || !f.failNextSync) return null;
    f.failNextSync = false;
    return systemError('EIO', 'fdatasync');
  }

  delayMs(store: string, op: 'write' | 'sync'): number {
    const f = this.stores.get(store);
    if (f === undefined || performance.now() >= f.slowUntilMs) return 0;
    // The Raft log's writes land in the page cache; its fdatasync is what waits on the device.
    // RocksDB's writes are never synced (state-store.ts): a slow device shows in the write.
    return store === 'raft-log' && op === 'write' ? 0 : f.delayMs;
  }

  private faults(store: string): StoreFaults {
    let f = this.stores.get(store);
    if (f === undefined) {
      f = { delayMs: 0, slowUntilMs: 0, fullUntilMs: 0, failNextSync: false };
      this.stores.set(store, f);
    }
    return f;
  }
}

/**
 * Steps the wall clock of this process: Date.now() (and so every Clock built on it) returns the
 * real time plus an offset. Installed once, at start, before anything keeps a reference to it.
 */
export class ChaosClock {
  private offsetMs = 0;
  private readonly realNow: () => number;

  constructor() {
    this.realNow = Date.now.bind(Date);
    Date.now = () => this.realNow() + this.offsetMs;
  }

  /** From now on the wall clock reads real time + `offsetMs` (negative: in the past). */
  setOffset(offsetMs: number): void {
    this.offsetMs = offsetMs;
  }

  get offset(): number {
    return this.offsetMs;
  }
}

const MAX_DELAY_MS = 60_000;
const MAX_DURATION_MS = 600_000;
/** A day either way: enough for any step an NTP daemon or a suspended VM makes. */
const MAX_CLOCK_OFFSET_MS = 86_400_000;

/**
 * Local routes, chaos mode only:
 * - GET /cubemaster/chaos/disk?store=raft-log|state&fault=slow|full|fsync-error|clear&delayMs=&durationMs=;
 * - GET /cubemaster/chaos/clock?offsetMs=: the wall clock reads real time + offsetMs.
 */
export function registerChaosRoutes(app: FastifyInstance, disk: ChaosDisk, clock: ChaosClock): void {
  app.get('/cubemaster/chaos/disk', (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const store = query.store as ChaosStore | undefined;
    const fault = query.fault;
    const delayMs = boundedNumber(query.delayMs, MAX_DELAY_MS);
    const durationMs = boundedNumber(query.durationMs, MAX_DURATION_MS);
    if (fault !== 'clear' && (store === undefined || !CHAOS_STORES.includes(store))) return refuse(reply, `store must be one of ${CHAOS_STORES.join(', ')}`);
    if (delayMs === null || durationMs === null) return refuse(reply, 'delayMs and durationMs must be non-negative numbers');
    switch (fault) {
      case 'slow':
        disk.slow(store!, delayMs, durationMs);
        break;
      case 'full':
        disk.full(store!, durationMs);
        break;
      case 'fsync-error':
        disk.failNextSync(store!);
        break;
      case 'clear':
        disk.clear();
        break;
      default:
        return refuse(reply, 'fault must be slow, full, fsync-error or clear');
    }
    return reply.send({ code: 0, msg: 'success', data: { store: store ?? null, fault, delayMs, durationMs } });
  });
  app.get('/cubemaster/chaos/clock', (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const offsetMs = Number(query.offsetMs ?? 0);
    if (!Number.isSafeInteger(offsetMs) || Math.abs(offsetMs) > MAX_CLOCK_OFFSET_MS) return refuse(reply, `offsetMs must be an integer within ±${MAX_CLOCK_OFFSET_MS}`);
    clock.setOffset(offsetMs);
    return reply.send({ code: 0, msg: 'success', data: { offsetMs, nowMs: Date.now() } });
  });
}

function boundedNumber(text: string | undefined, max: number): number | null {
  const n = Number(text ?? 0);
  return Number.isFinite(n) && n >= 0 ? Math.min(n, max) : null;
}

function refuse(reply: FastifyReply, msg: string): FastifyReply {
  return reply.send({ code: 2, msg, data: null });
}
