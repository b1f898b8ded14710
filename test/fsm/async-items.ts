// Test streams: the async iterables that the snapshot and backup code read, made from arrays.

/** The items, one per step, as an async iterable that can be read more than once. */
export function asyncOf<T>(items: readonly T[]): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => {
      let i = 0;
      return { next: () => Promise.resolve(i < items.length ? { value: items[i++], done: false } : { value: undefined, done: true }) };
    },
  } as AsyncIterable<T>;
}

/** Everything an async iterable yields. */
export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}
