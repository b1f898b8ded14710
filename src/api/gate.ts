// The request gate of the shutdown path (ARCHITECTURE.md "Lifecycle", step 1): once draining,
// every new request is refused at once with HTTP 503, which the Go SDK treats as "unknown
// status" and answers by trying the next master (spec 8.2); requests already admitted run to
// completion and `drained()` tells the server when the last one has finished, within a bound.

import { assert } from '../util/assert.js';

export class RequestGate {
  private draining = false;
  private inFlight = 0;
  private readonly idleWaiters = new Set<() => void>();

  get isDraining(): boolean {
    return this.draining;
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  /** Admits a request unless draining; every `true` must be paired with one `leave()`. */
  tryEnter(): boolean {
    if (this.draining) return false;
    this.inFlight += 1;
    return true;
  }

  leave(): void {
    assert(this.inFlight > 0, 'RequestGate.leave without a matching tryEnter');
    this.inFlight -= 1;
    if (this.inFlight === 0) for (const wake of [...this.idleWaiters]) wake();
  }

  /** From now on every new request gets 503. Idempotent. */
  startDraining(): void {
    this.draining = true;
  }

  /**
   * Resolves true once no admitted request is in flight, or false when `timeoutMs` passed first.
   * Call after startDraining(), or requests admitted meanwhile count too.
   */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const finish = (idle: boolean) => {
        clearTimeout(timer);
        this.idleWaiters.delete(onIdle);
        resolve(idle);
      };
      const onIdle = () => finish(true);
      const timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
      this.idleWaiters.add(onIdle);
    });
  }
}
