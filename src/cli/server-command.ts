// `cubemaster server`: loads the config, installs the process handlers, starts the master, and
// stops it on SIGTERM/SIGINT (a second signal hurries the stop, never reorders it). Any
// unhandled rejection or exception is logged and ends the process with a non-zero code.
import pino, { type Logger } from 'pino';
import { loadConfig, type MasterConfig } from '../server/config.js';
import { startMaster, type Master, type MasterOptions } from '../server/master.js';

/** How long a fatal error may spend stopping in order before the process exits anyway. */
const FATAL_STOP_TIMEOUT_MS = 5_000;

export async function runServer(flags: Record<string, string | undefined>): Promise<void> {
  const config = loadConfig(flags.config, {
    id: flags.id,
    ip: flags.ip,
    listen: flags.listen,
    peers: flags.peers,
    walDir: flags.walDir,
    storeDir: flags.storeDir,
    replicaPort: flags.replicaPort,
    clusterName: flags.clusterName,
    logLevel: flags.logLevel,
    shutdownTimeoutMs: flags.shutdownTimeoutMs,
  });
  await runMaster(config);
}

export interface RunMasterOptions extends MasterOptions {
  /** Called once the master is up; the returned function runs when the stop begins. */
  readonly onStarted?: (master: Master, logger: Logger) => () => void;
}

/** Runs a master until SIGTERM/SIGINT (`server`, and `recover` with its options). */
export async function runMaster(config: MasterConfig, options: RunMasterOptions = {}): Promise<void> {
  const logger = pino({ level: config.logLevel, base: { master: config.id } });
  let onStopping: () => void = () => undefined;
  let master: Master | null = null;
  let exiting = false;

  const fail = (what: string, error: unknown): void => {
    logger.fatal({ err: error }, what);
    if (exiting) return;
    exiting = true;
    process.exitCode = 1;
    onStopping();
    const stopping = master === null ? Promise.resolve() : master.stop();
    const timer = setTimeout(() => process.exit(1), FATAL_STOP_TIMEOUT_MS);
    timer.unref();
    void stopping.catch(() => undefined).finally(() => process.exit(1));
  };
  process.on('unhandledRejection', (reason) => fail('unhandled rejection', reason));
  process.on('uncaughtException', (error) => fail('uncaught exception', error));

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    logger.info({ signal, count: signals }, 'signal received');
    if (master === null) return;
    if (signals > 1) {
      master.hurry();
      return;
    }
    onStopping();
    void master.stop().then(
      () => {
        process.exitCode ??= 0;
        // Everything is closed: nothing keeps the event loop alive; exit now regardless.
        setImmediate(() => process.exit(process.exitCode));
      },
      (error: unknown) => fail('stop failed', error),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    master = await startMaster(config, logger, (error) => fail('raft node failed', error), options);
  } catch (error) {
    logFatalStart(logger, error);
    process.exit(1);
  }
  if (options.onStarted !== undefined) onStopping = options.onStarted(master, logger);
  if (signals > 0) {
    onStopping();
    onSignalAfterStart(master, logger);
  }
  // Test-only: proves that an unhandled rejection ends the process with a non-zero code.
  if (process.env.CUBEMASTER_TEST_UNHANDLED_REJECTION === '1') {
    setTimeout(() => void Promise.reject(new Error('test: an unhandled rejection')), 100);
  }
}

/** A signal that arrived during start-up is honoured once the master is up. */
function onSignalAfterStart(master: Master, logger: Logger): void {
  logger.info('signal arrived during start-up: stopping');
  void master.stop().then(() => process.exit(0));
}

function logFatalStart(logger: Logger, error: unknown): void {
  logger.fatal({ err: error }, 'master failed to start');
}
