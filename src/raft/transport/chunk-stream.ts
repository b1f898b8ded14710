// The receiving end of a snapshot stream as an async iterable with backpressure: the socket side
// push()es chunks; when more than highWaterBytes wait unconsumed, onPause() asks the producer
// (the socket) to stop reading, and onResume() asks it to go on once the consumer has taken the
// buffer below half of that. Memory held here is therefore bounded by highWaterBytes plus what
// the producer delivers between pause and the socket actually stopping (one frame).
//
// One consumer, one iteration. A failed stream rejects the consumer's next() (chunks still
// buffered are dropped: the stream is useless). A consumer that stops early (break, throw:
// return() is called) cancels it: onCancel() lets the producer give up too.
import { assert } from '../../util/assert.js';

export type ChunkStreamState = 'open' | 'ended' | 'failed' | 'cancelled';

export interface ChunkStreamHooks {
  readonly highWaterBytes: number;
  onPause(): void;
  onResume(): void;
  onCancel(): void;
}

interface Waiter {
  resolve(result: IteratorResult<Uint8Array>): void;
  reject(err: Error): void;
}

export class ChunkStream implements AsyncIterable<Uint8Array> {
  readonly #hooks: ChunkStreamHooks;
  #queue: Buffer[] = [];
  #head = 0;
  #bufferedBytes = 0;
  #state: ChunkStreamState = 'open';
  #error: Error | null = null;
  #paused = false;
  #waiter: Waiter | null = null;
  #iterating = false;

  constructor(hooks: ChunkStreamHooks) {
    assert(hooks.highWaterBytes > 0, 'highWaterBytes must be positive');
    this.#hooks = hooks;
  }

  get state(): ChunkStreamState {
    return this.#state;
  }

  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Ended and every chunk handed to the consumer. */
  get drained(): boolean {
    return this.#state === 'ended' && this.#bufferedBytes === 0 && this.#head === this.#queue.length;
  }

  push(chunk: Buffer): void {
    if (this.#state !== 'open') return; // failed or cancelled: the producer is told separately
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = null;
      waiter.resolve({ done: false, value: chunk });
      return;
    }
    this.#queue.push(chunk);
    this.#bufferedBytes += chunk.length;
    if (!this.#paused && this.#bufferedBytes >= this.#hooks.highWaterBytes) {
      this.#paused = true;
      this.#hooks.onPause();
    }
  }

  end(): void {
    if (this.#state !== 'open') return;
    this.#state = 'ended';
    const waiter = this.#waiter;
    if (waiter !== null && this.#head === this.#queue.length) {
      this.#waiter = null;
      waiter.resolve({ done: true, value: undefined });
    }
  }

  fail(err: unknown): void {
    if (this.#state !== 'open' && this.#state !== 'ended') return;
    if (this.drained) return; // everything was delivered already: nothing to fail
    this.#state = 'failed';
    const error = err instanceof Error ? err : new Error(String(err));
    this.#error = error;
    this.#dropBuffered();
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = null;
      waiter.reject(error);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    assert(!this.#iterating, 'a snapshot chunk stream can be iterated once');
    this.#iterating = true;
    return {
      next: () => this.#next(),
      return: () => {
        this.#cancel();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  #next(): Promise<IteratorResult<Uint8Array>> {
    assert(this.#waiter === null, 'snapshot chunk stream: next() while another next() is pending');
    if (this.#state === 'failed') return Promise.reject(this.#error!);
    if (this.#state === 'cancelled') return Promise.resolve({ done: true, value: undefined });
    if (this.#head < this.#queue.length) {
      const chunk = this.#queue[this.#head++];
      this.#bufferedBytes -= chunk.length;
      if (this.#head === this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      }
      if (this.#paused && this.#bufferedBytes <= this.#hooks.highWaterBytes / 2) {
        this.#paused = false;
        this.#hooks.onResume();
      }
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.#state === 'ended') return Promise.resolve({ done: true, value: undefined });
    if (this.#paused) {
      // Cannot happen with a positive high-water mark (an empty buffer is below it), but a
      // paused producer with an empty buffer would be a deadlock: resume it.
      this.#paused = false;
      this.#hooks.onResume();
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  #cancel(): void {
    // Stopping after the last chunk (before seeing `done`) is a complete read, not a cancel.
    if (this.#state === 'failed' || this.#state === 'cancelled' || this.drained) return;
    this.#state = 'cancelled';
    this.#dropBuffered();
    this.#hooks.onCancel();
  }

  #dropBuffered(): void {
    this.#queue = [];
    this.#head = 0;
    this.#bufferedBytes = 0;
    if (this.#paused) {
      // Let the producer read on (and discard) so that its connection can finish or fail.
      this.#paused = false;
      this.#hooks.onResume();
    }
  }
}
