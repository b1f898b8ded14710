// The per-request logger fastify hands every request (`request.log`, `reply.log`: the server's
// logger with the request id bound), made when the request first logs at an enabled level
// rather than for every request (issue 10: pino's child() per request, with its bindings turned
// into JSON text, was ~1% of the leader's CPU, and most requests never write a line). A line
// written through it is the line the eager child would write: the same parent, bindings and
// options, made at the first line.

import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** pino's isLevelEnabled (factory() hands out a lazy logger only over a logger that has it). */
function levelsOf(logger: FastifyBaseLogger): { isLevelEnabled(level: string): boolean } {
  return logger as unknown as { isLevelEnabled(level: string): boolean };
}

export class LazyRequestLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | null = null;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  /** fastify's childLoggerFactory: a lazy child (a logger that cannot say its levels gets the eager one). */
  static factory(this: void, logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
    const canAsk = typeof (logger as { isLevelEnabled?: unknown }).isLevelEnabled === 'function';
    return canAsk && options.level === undefined ? new LazyRequestLogger(logger, bindings, options) : logger.child(bindings, options);
  }

  private logger(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.options);
    return this.made;
  }

  /** Whether a line at `level` would be written (the child has its parent's level until it is made). */
  private enabled(level: Level): boolean {
    return this.made !== null || levelsOf(this.parent).isLevelEnabled(level);
  }

  get level(): LevelWithSilentOrString {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: LevelWithSilentOrString) {
    this.logger().level = level;
  }

  isLevelEnabled(level: string): boolean {
    return levelsOf(this.made ?? this.parent).isLevelEnabled(level);
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }

  error(...args: unknown[]): void {
    this.write('error', args);
  }

  warn(...args: unknown[]): void {
    this.write('warn', args);
  }

  info(...args: unknown[]): void {
    this.write('info', args);
  }

  debug(...args: unknown[]): void {
    this.write('debug', args);
  }

  trace(...args: unknown[]): void {
    this.write('trace', args);
  }

  silent(): void {}

  private write(level: Level, args: unknown[]): void {
    if (!this.enabled(level)) return;
    const logger = this.logger();
    const write: (...a: unknown[]) => void = logger[level];
    write.apply(logger, args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger().child(bindings, options);
  }
}
