// The byte stream of a state snapshot: every key/value pair of the store, in key order, framed
// as [u32 key length][key][u32 value length][value], cut into chunks of about chunkSizeBytes.
// The decoder takes chunks cut anywhere and yields whole pairs.
/** A snapshot stream that does not decode: the transfer fails and the staged copy is dropped. */
export class SnapshotStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotStreamError';
  }
}

export interface KeyValue {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** Bound on one key or value, so a corrupt length cannot make the decoder buffer without limit. */
export const MAX_FIELD_BYTES = 64 * 1024 * 1024;

/**
 * Pairs come in batches (StateIterator.batches): one await per batch, not per pair. Each pair is
 * framed straight into the chunk being filled (one copy of its bytes); a chunk is at most
 * chunkSizeBytes, or one pair when a pair alone is larger.
 */
export async function* encodeSnapshotChunks(batches: AsyncIterable<readonly KeyValue[]>, chunkSizeBytes: number): AsyncGenerator<Uint8Array> {
  let chunk = Buffer.allocUnsafe(chunkSizeBytes);
  let size = 0;
  for await (const batch of batches) {
    for (const { key, value } of batch) {
      const frameBytes = 8 + key.byteLength + value.byteLength;
      if (size + frameBytes > chunk.byteLength) {
        // A yielded chunk belongs to the consumer: the next one is a new buffer.
        if (size > 0) yield chunk.subarray(0, size);
        chunk = Buffer.allocUnsafe(Math.max(chunkSizeBytes, frameBytes));
        size = 0;
      }
      size = writeFrame(chunk, size, key, value);
    }
  }
  if (size > 0) yield chunk.subarray(0, size);
}

/** The pairs of each chunk as one batch (a chunk that ends inside a pair carries it over). */
export async function* decodeSnapshotChunks(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<readonly KeyValue[]> {
  // Buffers, so that the pairs are Buffer views that a store batch takes as they are.
  let buffer: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    buffer = buffer.byteLength === 0 ? bytes : Buffer.concat([buffer, bytes], buffer.byteLength + bytes.byteLength);
    const view = viewOf(buffer);
    let offset = 0;
    const pairs: KeyValue[] = [];
    for (;;) {
      const pair = readPair(buffer, view, offset);
      if (pair === null) break;
      offset = pair.next;
      pairs.push(pair);
    }
    buffer = buffer.subarray(offset);
    if (pairs.length > 0) yield pairs;
  }
  if (buffer.byteLength !== 0) throw new SnapshotStreamError(`snapshot stream ends inside a record (${buffer.byteLength} bytes left)`);
}

/** A decoded pair with the bytes of its frame (length prefixes included), for readers that hash them. */
export interface FramedPair extends KeyValue {
  readonly frame: Uint8Array;
}

export async function* decodeFramedPairs(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<FramedPair> {
  let buffer: Uint8Array = new Uint8Array(0);
  for await (const chunk of chunks) {
    buffer = buffer.byteLength === 0 ? chunk : concat([buffer, chunk], buffer.byteLength + chunk.byteLength);
    const view = viewOf(buffer);
    let offset = 0;
    for (;;) {
      const pair = readPair(buffer, view, offset);
      if (pair === null) break;
      yield { key: pair.key, value: pair.value, frame: buffer.subarray(offset, pair.next) };
      offset = pair.next;
    }
    buffer = buffer.subarray(offset);
  }
  if (buffer.byteLength !== 0) throw new SnapshotStreamError(`snapshot stream ends inside a record (${buffer.byteLength} bytes left)`);
}

/** One pair as the stream frames it. */
export function framePair(key: Uint8Array, value: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(8 + key.byteLength + value.byteLength);
  writeFrame(out, 0, key, value);
  return out;
}

/** Frames the pair into `out` at `at`; returns where the frame ends. */
function writeFrame(out: Buffer, at: number, key: Uint8Array, value: Uint8Array): number {
  out.writeUInt32BE(key.byteLength, at);
  out.set(key, at + 4);
  const valueAt = at + 8 + key.byteLength;
  out.writeUInt32BE(value.byteLength, valueAt - 4);
  out.set(value, valueAt);
  return valueAt + value.byteLength;
}

/** One DataView per buffer, not per pair: the decoders read hundreds of thousands of pairs. */
function viewOf(buffer: Uint8Array): DataView {
  return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** The pair at `offset` of `buffer` (`view` is viewOf(buffer)), or null when it is not whole yet. */
function readPair(buffer: Uint8Array, view: DataView, offset: number): { key: Uint8Array; value: Uint8Array; next: number } | null {
  if (buffer.byteLength - offset < 4) return null;
  const keyLength = view.getUint32(offset);
  if (keyLength > MAX_FIELD_BYTES) throw new SnapshotStreamError(`snapshot key length ${keyLength} exceeds the limit`);
  if (buffer.byteLength - offset < 8 + keyLength) return null;
  const valueLength = view.getUint32(offset + 4 + keyLength);
  if (valueLength > MAX_FIELD_BYTES) throw new SnapshotStreamError(`snapshot value length ${valueLength} exceeds the limit`);
  const end = offset + 8 + keyLength + valueLength;
  if (end > buffer.byteLength) return null;
  // Views, not copies: a chunk is never written again once it is handed over (the transport
  // and the file reader give fresh buffers), and readers copy what they keep.
  return {
    key: buffer.subarray(offset + 4, offset + 4 + keyLength),
    value: buffer.subarray(offset + 8 + keyLength, end),
    next: end,
  };
}

function concat(parts: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
