// `cubemaster server`: loads the config, installs the process handlers, starts the master, and
// stops it on SIGTERM/SIGINT (a second signal hurries the stop, never reorders it). Any
// unhandled rejection or exception is logged and ends the process with a non-zero code. A
// failed start says what to do (startup-errors.ts) on stderr. `--demo` also runs simulated
// meta and data nodes in this process, stopped before the master.
import pino, { type Logger } from 'pino';
import { readConfig, type MasterConfig } from '../server/config.js';
import { startMaster, type Master, type MasterOptions } from '../server/master.js';
import { explainStartupError } from '../server/startup-errors.js';
import { configOverrides } from './config-flags.js';
import { startDemo, type Demo } from './demo.js';

/** How long a fatal error may spend stopping in order before the process exits anyway. */
const FATAL_STOP_TIMEOUT_MS = 5_000;

export async function runServer(flags: Record<string, unknown>): Promise<void> {
  let loaded;
  try {
    loaded = readConfig(typeof flags.config === 'string' ? flags.config : undefined, configOverrides(flags));
  } catch (error) {
    process.stderr.write(`cubemaster: ${(error as Error).message}\n  check a config with: cubemaster check-config --config FILE\n`);
    process.exit(1);
  }
  await runMaster(loaded.config, { demo: flags.demo === true, warnings: loaded.warnings, configFile: loaded.file });
}

export interface RunMasterOptions extends MasterOptions {
  /** Called once the master is up; the returned function runs when the stop begins. */
  readonly onStarted?: (master: Master, logger: Logger) => () => void;
  /** Also run simulated meta and data nodes in this process (`server --demo`). */
  readonly demo?: boolean;
  /** Config warnings to log once the logger exists, and the file they are about. */
  readonly warnings?: readonly string[];
  readonly configFile?: string | null;
}

/** Runs a master until SIGTERM/SIGINT (`server`, and `recover` with its options). */
export async function runMaster(config: MasterConfig, options: RunMasterOptions = {}): Promise<void> {
  const logger = pino({ level: config.logLevel, base: { master: config.id } });
  for (const warning of options.warnings ?? []) logger.warn({ file: options.configFile }, warning);
  let onStopping: () => void = () => undefined;
  let master: Master | null = null;
  let demo: Demo | null = null;
  let exiting = false;
  // The demo's nodes are the master's clients: they go first.
  const stopAll = async (): Promise<void> => {
    await demo?.stop();
    await master?.stop();
  };

  const fail = (what: string, error: unknown): void => {
    logger.fatal({ err: error }, what);
    if (exiting) return;
    exiting = true;
    process.exitCode = 1;
    onStopping();
    const timer = setTimeout(() => process.exit(1), FATAL_STOP_TIMEOUT_MS);
    timer.unref();
    void stopAll()
      .catch(() => undefined)
      .finally(() => process.exit(1));
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
    void stopAll().then(
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
    reportFailedStart(logger, config, error);
    process.exit(1);
  }
  if (options.onStarted !== undefined) onStopping = options.onStarted(master, logger);
  if (signals > 0) {
    onStopping();
    onSignalAfterStart(master, logger);
    return;
  }
  if (options.demo === true) demo = startDemo(config, logger.child({ component: 'demo' }));
  if (options.recovery === undefined) printWelcome(config, demo !== null);
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

function reportFailedStart(logger: Logger, config: MasterConfig, error: unknown): void {
  const explained = explainStartupError(error, config);
  logger.fatal({ err: error, ...(explained ?? {}) }, 'master failed to start');
  const message = explained?.problem ?? (error instanceof Error ? error.message : String(error));
  process.stderr.write(`cubemaster: cannot start master ${config.id}: ${message}\n${explained === null ? '' : `  what to do: ${explained.todo}\n`}`);
}

/** On stderr (stdout carries the JSON log): where the console is and what to try next. */
function printWelcome(config: MasterConfig, demo: boolean): void {
  const host = config.ip === '0.0.0.0' ? '127.0.0.1' : config.ip;
  const addr = `${host}:${config.listen}`;
  const lines = [
    `cubemaster: master ${config.id} of ${config.peers.length} is up (cluster "${config.clusterName}", data in ${config.walDir} and ${config.storeDir})`,
    `  console:  http://${addr}/console`,
    `  try:      node dist/src/cli/main.js status --masters ${addr}`,
    `            curl -s 'http://${addr}/admin/getCluster'`,
  ];
  if (demo) lines.push('  demo:     3 meta and 3 data nodes simulated in this process; user "demo" and vol "demo" follow once they report');
  else lines.push('  demo:     npm start -- --demo  (adds simulated meta and data nodes, a user and a vol)');
  process.stderr.write(`${lines.join('\n')}\n`);
}
