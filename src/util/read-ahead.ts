// Read-ahead over an async iterable: the next item is requested as soon as the current one is
// handed out, so the source's wait (a RocksDB read, a socket) overlaps the consumer's work
// instead of following it. At most one item is fetched ahead: memory stays one item deep.

/**
 * `source`'s items, one fetched ahead. Leaving early (break, throw, return) waits for the fetch
 * in flight before closing the source: a source that forbids overlapping steps (StateIterator)
 * is never asked to close during one.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  const it = source[Symbol.asyncIterator]();
  let next: Promise<IteratorResult<T>> | null = it.next();
  try {
    for (;;) {
      const result: IteratorResult<T> = await next;
      if (result.done === true) {
        next = null;
        return;
      }
      next = it.next();
      // Observed at once: if the consumer leaves before awaiting it, its rejection is not unhandled.
      next.catch(() => undefined);
      yield result.value;
    }
  } finally {
    if (next !== null) {
      const pending = await next.then(
        (r) => r.done !== true,
        () => false,
      );
      if (pending) await it.return?.();
    }
  }
}
