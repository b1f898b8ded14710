// What every admin command shares: the options that say where the masters are and how to print,
// the client made from them, and the one place where an error becomes a message and an exit
// code (errors.ts).
import type { Command } from 'commander';
import { stringifyJson } from '../../util/json.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { MasterClient, type Credentials } from './master-client.js';
import { createOutput, type Output } from './output.js';
import { Progress, type ProgressOptions } from './progress.js';

export const DEFAULT_MASTERS = '127.0.0.1:17010';
/** The Go SDK's request timeout (spec 8.2: 30 s). */
const DEFAULT_TIMEOUT_MS = 30_000;

export interface AdminContext {
  readonly client: MasterClient;
  readonly out: Output;
  progress(options: Omit<ProgressOptions, 'enabled'>): Progress;
}

interface ClientOptions {
  readonly masters?: string;
  readonly json?: boolean;
  readonly timeoutMs?: string;
  readonly accessKey?: string;
  readonly secretKey?: string;
  readonly quiet?: boolean;
}

/** The options of every command that talks to the masters. */
export function withClientOptions(command: Command): Command {
  return command
    .option('--masters <addrs>', `master HTTP addresses host:port,... (env CUBEMASTER_MASTERS; default ${DEFAULT_MASTERS}); any member will do`)
    .option('--json', 'print the data as JSON, for scripts')
    .option('--timeout-ms <ms>', `bound on one request to one master (default ${DEFAULT_TIMEOUT_MS})`)
    .option('--access-key <ak>', "the root user's access key, for privileged commands (env CUBEMASTER_ACCESS_KEY)")
    .option('--secret-key <sk>', "the root user's secret key (env CUBEMASTER_SECRET_KEY); never printed")
    .option('-q, --quiet', 'no progress on stderr');
}

export function createContext(options: ClientOptions, env: NodeJS.ProcessEnv = process.env): AdminContext {
  // An empty variable counts as unset.
  const fromEnv = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const mastersText = options.masters ?? fromEnv('CUBEMASTER_MASTERS') ?? DEFAULT_MASTERS;
  const masters = mastersText
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  for (const m of masters) if (!/^[^:\s/]+:\d{1,5}$/.test(m)) throw new UsageError(`--masters: "${m}" is not host:port`);
  const timeoutMs = options.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : Number(options.timeoutMs);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError(`--timeout-ms must be a positive integer, got ${options.timeoutMs}`);
  const accessKey = options.accessKey ?? fromEnv('CUBEMASTER_ACCESS_KEY');
  const secretKey = options.secretKey ?? fromEnv('CUBEMASTER_SECRET_KEY');
  if ((accessKey === undefined) !== (secretKey === undefined)) throw new UsageError('give both the access key and the secret key, or neither');
  const credentials: Credentials | null = accessKey === undefined || secretKey === undefined ? null : { accessKey, secretKey };
  const client = new MasterClient({ masters, timeoutMs, credentials });
  const quiet = options.quiet === true;
  return {
    client,
    out: createOutput(options.json === true),
    progress: (p) => new Progress({ ...p, enabled: !quiet }),
  };
}

/**
 * Wraps a command's work: builds the context from its options, runs it, and turns an error into
 * a message on stderr and the exit code of its kind. Commander passes the positional arguments,
 * then the options, then the command; `work` gets the first two.
 */
export function adminAction<A extends unknown[]>(work: (ctx: AdminContext, ...args: A) => Promise<void>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    // The positional arguments, then the command's options object.
    const positional = args.slice(0, -1) as A;
    const options = command.opts<ClientOptions>();
    let ctx: AdminContext | null = null;
    try {
      ctx = createContext(options);
      await work(ctx, ...positional);
    } catch (error) {
      reportError(error, options.json === true);
    } finally {
      ctx?.client.close();
    }
  };
}

/** The message on stderr (with --json, also a JSON error object on stdout) and the exit code. */
export function reportError(error: unknown, json: boolean): void {
  const exitCode = error instanceof CliError ? error.exitCode : EXIT.refused;
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof CliError)) process.stderr.write(`cubemaster: unexpected error: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
  else process.stderr.write(`cubemaster: ${message}\n`);
  if (json) process.stdout.write(`${stringifyJson({ error: { exitCode, message, code: (error as { code?: unknown }).code ?? null } })}\n`);
  process.exitCode = exitCode;
}
