// `cubemaster server --demo` (`npm start -- --demo`): simulated meta and data nodes in the
// master's own process, speaking the real protocol to it, and once they have reported, a demo
// user and a demo vol, so that a newcomer's console and `cubemaster status` have something to
// show. Stopped before the master (the nodes are its clients): the setup is aborted and awaited,
// then the nodes close.
import type { Logger } from 'pino';
import { startSimNodes, type SimNodes } from '../nodes/sim/index.js';
import type { MasterConfig } from '../server/config.js';
import { MasterClient } from './admin/master-client.js';
import { RefusedError } from './admin/errors.js';

export const DEMO_USER = 'demo';
export const DEMO_VOL = 'demo';
const DEMO_NODES = { meta: 3, data: 3 } as const;
/** Bound on waiting for the nodes' first reports before the vol can be placed. */
const SETUP_TIMEOUT_MS = 120_000;
const SETUP_RETRY_MS = 1_000;
/** CubeFS DuplicateUserID, DuplicateVol: a restarted demo finds them already there. */
const ALREADY_THERE_CODES = new Set([45, 14]);

export interface Demo {
  stop(): Promise<void>;
}

export function startDemo(config: MasterConfig, logger: Logger): Demo {
  const host = config.ip === '0.0.0.0' ? '127.0.0.1' : config.ip;
  const self = `${host}:${config.listen}`;
  const abort = new AbortController();
  let nodes: SimNodes | null = null;
  const client = new MasterClient({ masters: [self], timeoutMs: 30_000, credentials: null });
  const work = (async () => {
    nodes = await startSimNodes({ masterAddrs: [self], ...DEMO_NODES });
    logger.info({ meta: nodes.metaNodes.map((n) => n.addr), data: nodes.dataNodes.map((n) => n.addr) }, 'demo: simulated nodes registered');
    await setUp(client, abort.signal, logger);
  })().catch((err: unknown) => {
    if (!abort.signal.aborted) logger.warn({ err }, 'demo: setup stopped');
  });
  let stopping: Promise<void> | null = null;
  return {
    stop: () =>
      (stopping ??= (async () => {
        abort.abort();
        // Closing the client's sockets ends a call in flight at once.
        client.close();
        await work;
        await nodes?.close();
      })()),
  };
}

async function setUp(client: MasterClient, signal: AbortSignal, logger: Logger): Promise<void> {
  await retry(signal, () => client.call('/user/create', { body: { id: DEMO_USER, type: 2, description: 'the demo user of npm start -- --demo' } }));
  await retry(signal, () => client.call('/admin/createVol', { query: { name: DEMO_VOL, owner: DEMO_USER, capacity: 10 }, timeoutMs: 120_000 }));
  logger.info({ user: DEMO_USER, vol: DEMO_VOL }, 'demo: user and vol ready');
}

/** Runs `step` until it succeeds, finds its object already there, or the setup bound passes. */
async function retry(signal: AbortSignal, step: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + SETUP_TIMEOUT_MS;
  for (;;) {
    if (signal.aborted) return;
    try {
      await step();
      return;
    } catch (error) {
      if (error instanceof RefusedError && ALREADY_THERE_CODES.has(error.code)) return;
      // Until the nodes' first reports arrive, placement finds "no enough meta nodes" (code 1 or
      // one of the no-node codes): every refusal is retried within the bound.
      if (Date.now() > deadline) throw error;
    }
    await sleep(SETUP_RETRY_MS, signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
