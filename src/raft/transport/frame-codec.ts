// Length-prefixed, checksummed frames on a TCP stream (the Raft transport's wire unit):
//
//   u32le bodyBytes | u8 frameType | u32le crc32(frameType byte, body) | body
//
// The checksum is zlib's CRC-32 (native, GB/s): TCP's 16-bit checksum lets rare corruption
// through, and a corrupted entry here would be replicated into every state machine.
//
// FrameDecoder takes socket chunks as they come and hands out whole frames. The length is
// checked against maxFrameBodyBytes from the header alone, before any body is buffered, so a
// peer cannot make us buffer more than one frame (plus one socket read). A body that lies within
// one socket chunk is a view of it (no copy); one that spans chunks is copied once.
import zlib from 'node:zlib';
import { assert } from '../../util/assert.js';
import { DecodeError } from '../codec/binary-codec.js';

export const FrameType = {
  /** First frame on every connection: who is calling, for which cluster, for which stream. */
  Hello: 1,
  /** A batch of Raft messages (message-codec.ts batch body). */
  Messages: 2,
  /** Snapshot stream: the MsgSnap announcing it (message-codec.ts message body). */
  SnapshotBegin: 3,
  /** Snapshot stream: raw bytes, in order. */
  SnapshotChunk: 4,
  /** Snapshot stream: end, with the total byte count for a final check. */
  SnapshotEnd: 5,
  /** Receiver -> sender: the snapshot was consumed and staged. */
  SnapshotAck: 6,
  /** Receiver -> sender: refused (hello mismatch, snapshot failed), with a reason; then close. */
  Error: 7,
  /** Acceptor -> dialer, secret handshake: the acceptor's nonce and its proof (secret-handshake.ts). */
  AuthChallenge: 8,
  /** Dialer -> acceptor, secret handshake: the dialer's proof. */
  AuthProof: 9,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

const FRAME_TYPE_MAX = 9;
export const FRAME_HEADER_BYTES = 9;

/** CRC state after the type byte, per frame type. */
const TYPE_CRC: readonly number[] = Array.from({ length: FRAME_TYPE_MAX + 1 }, (_, type) => zlib.crc32(Uint8Array.of(type)));

export interface Frame {
  readonly type: FrameType;
  readonly body: Buffer;
}

/** A frame with its body still to be written: fill `body`, then call seal(). */
export interface FrameBuilder {
  readonly frame: Buffer;
  readonly body: Buffer;
  seal(): Buffer;
}

export function allocFrame(type: FrameType, bodyBytes: number): FrameBuilder {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyBytes);
  frame.writeUInt32LE(bodyBytes, 0);
  frame[4] = type;
  const body = frame.subarray(FRAME_HEADER_BYTES);
  return {
    frame,
    body,
    seal: () => {
      frame.writeUInt32LE(zlib.crc32(body, TYPE_CRC[type]), 5);
      return frame;
    },
  };
}

export function encodeFrame(type: FrameType, body: Uint8Array): Buffer {
  const builder = allocFrame(type, body.byteLength);
  builder.body.set(body);
  return builder.seal();
}

export class FrameDecoder {
  readonly #maxFrameBodyBytes: number;
  readonly #chunks: Buffer[] = [];
  /** Read position in #chunks[0]. */
  #offset = 0;
  #bufferedBytes = 0;
  /** Total bytes consumed, for error offsets. */
  #position = 0;
  #failed = false;

  constructor(maxFrameBodyBytes: number) {
    assert(maxFrameBodyBytes > 0, 'maxFrameBodyBytes must be positive');
    this.#maxFrameBodyBytes = maxFrameBodyBytes;
  }

  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#bufferedBytes += chunk.length;
  }

  /** The next whole frame, or null until more bytes arrive. Throws DecodeError for a bad frame. */
  next(): Frame | null {
    assert(!this.#failed, 'FrameDecoder used after a decode error');
    if (this.#bufferedBytes < FRAME_HEADER_BYTES) return null;
    const header = this.#peek(FRAME_HEADER_BYTES);
    const bodyBytes = header.readUInt32LE(0);
    const type = header[4];
    const checksum = header.readUInt32LE(5);
    if (type < 1 || type > FRAME_TYPE_MAX) this.#fail(`unknown frame type ${type}`);
    if (bodyBytes > this.#maxFrameBodyBytes) this.#fail(`frame body of ${bodyBytes} bytes exceeds the limit of ${this.#maxFrameBodyBytes}`);
    if (this.#bufferedBytes < FRAME_HEADER_BYTES + bodyBytes) return null;
    this.#consume(FRAME_HEADER_BYTES);
    const body = this.#take(bodyBytes);
    if (zlib.crc32(body, TYPE_CRC[type]) !== checksum) {
      this.#position -= FRAME_HEADER_BYTES + bodyBytes;
      this.#fail('frame checksum mismatch');
    }
    return { type: type as FrameType, body };
  }

  #fail(message: string): never {
    this.#failed = true;
    throw new DecodeError('frame', this.#position, message);
  }

  /** The first n buffered bytes without consuming them (n <= bufferedBytes). */
  #peek(n: number): Buffer {
    const first = this.#chunks[0];
    if (first.length - this.#offset >= n) return first.subarray(this.#offset, this.#offset + n);
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    let offset = this.#offset;
    for (const chunk of this.#chunks) {
      const k = Math.min(n - copied, chunk.length - offset);
      chunk.copy(out, copied, offset, offset + k);
      copied += k;
      offset = 0;
      if (copied === n) break;
    }
    return out;
  }

  #consume(n: number): void {
    let left = n;
    while (left > 0) {
      const first = this.#chunks[0];
      const available = first.length - this.#offset;
      if (available > left) {
        this.#offset += left;
        break;
      }
      left -= available;
      this.#chunks.shift();
      this.#offset = 0;
    }
    this.#bufferedBytes -= n;
    this.#position += n;
  }

  /** Consumes and returns the next n bytes: a view when they lie in one chunk, else a copy. */
  #take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.#chunks[0];
    if (first.length - this.#offset >= n) {
      const view = first.subarray(this.#offset, this.#offset + n);
      this.#consume(n);
      return view;
    }
    const out = this.#peek(n);
    this.#consume(n);
    return out;
  }
}
