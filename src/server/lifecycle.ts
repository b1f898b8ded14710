// Start acquires resources in order and registers each one's stop here at the moment it is
// created; stop runs them in reverse (ARCHITECTURE.md, lifecycle). Node 20 has no
// AsyncDisposableStack, hence this small one.
import type { Logger } from 'pino';

interface Deferred {
  readonly name: string;
  readonly stop: () => Promise<unknown>;
}

export class LifecycleStack {
  private readonly stack: Deferred[] = [];
  private disposing: Promise<void> | null = null;

  constructor(private readonly logger: Logger) {}

  defer(name: string, stop: () => Promise<unknown>): void {
    if (this.disposing !== null) throw new Error(`cannot register ${name}: stopping`);
    this.stack.push({ name, stop });
  }

  /** Runs every stop, last registered first; a failing stop is logged and the rest still run. */
  disposeAll(): Promise<void> {
    this.disposing ??= this.run();
    return this.disposing;
  }

  private async run(): Promise<void> {
    while (this.stack.length > 0) {
      const { name, stop } = this.stack.pop()!;
      const started = performance.now();
      try {
        await stop();
        this.logger.info({ step: name, ms: Math.round(performance.now() - started) }, 'stopped');
      } catch (err) {
        this.logger.error({ step: name, err }, 'stop step failed');
      }
    }
  }
}
