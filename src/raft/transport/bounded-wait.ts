// A wait with both a deadline and a cancellation signal, leaving nothing behind: the timer is
// cleared and the abort listener removed however the wait ends (no handle outlives it).

/**
 * Resolves with `promise`'s value; rejects with signal.reason once `signal` aborts, or with
 * onTimeout() after timeoutMs (Infinity: no deadline). `promise` itself is not cancelled (the
 * caller tears down whatever would settle it), and its later rejection is ignored here.
 */
export function boundedWait<T>(promise: Promise<T>, signal: AbortSignal, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  if (signal.aborted) {
    void promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    const cleanup = (): void => {
      if (timer !== null) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => {
        cleanup();
        reject(onTimeout());
      }, timeoutMs);
    }
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (err: unknown) => {
        cleanup();
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
