// Bounds-checked primitives for the Raft binary formats (log records, wire messages, frames):
// unsigned LEB128 varints for safe integers, fixed little-endian u32/u64, byte strings.
//
// Writing goes into a buffer sized exactly in advance (callers compute the size first, so an
// encode is one allocation and one pass); overflowing it is a bug (assertion). Reading untrusted
// bytes never reads past the end and never yields a value outside its type: it throws
// DecodeError (an operating error, CubeFS code UnmarshalData) instead.

import { assert } from '../../util/assert.js';
import { CubeCode, OperatingError } from '../../util/errors.js';

/** Bytes that cannot be decoded: truncated, out of range, or trailing garbage. */
export class DecodeError extends OperatingError {
  readonly what: string;
  readonly offsetBytes: number;
  constructor(what: string, offsetBytes: number, message: string) {
    super(CubeCode.UnmarshalData, `cannot decode ${what} at byte ${offsetBytes}: ${message}`);
    this.what = what;
    this.offsetBytes = offsetBytes;
  }
}

const TWO_POW_32 = 0x1_0000_0000;
/** 2^53 - 1 needs 8 groups of 7 bits (56 bits); a ninth byte can only be garbage. */
const VARUINT_BYTES_MAX = 8;
/** High u32 of a u64 holding a safe integer is below 2^21. */
const U64_HIGH_LIMIT = 0x20_0000;

/** Encoded size of a varuint. */
export function varuintBytes(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  if (value < 0x1000_0000) return 4;
  let n = 4;
  let rest = Math.floor(value / 0x1000_0000);
  while (rest > 0) {
    n++;
    rest = Math.floor(rest / 0x80);
  }
  return n;
}

export function isSafeUint(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** Writes into a pre-sized buffer; `finish()` asserts it was filled exactly. */
export class ByteWriter {
  readonly buffer: Buffer;
  offset: number;

  constructor(buffer: Buffer, offset = 0) {
    this.buffer = buffer;
    this.offset = offset;
  }

  static alloc(sizeBytes: number): ByteWriter {
    return new ByteWriter(Buffer.allocUnsafe(sizeBytes));
  }

  u8(value: number): void {
    this.buffer[this.offset++] = value;
  }

  u32(value: number): void {
    this.buffer.writeUInt32LE(value, this.offset);
    this.offset += 4;
  }

  /** A safe integer as two little-endian u32 (low first): fixed size, no BigInt. */
  u64(value: number): void {
    assert(isSafeUint(value), () => `u64 field ${value} is not a safe unsigned integer`);
    this.buffer.writeUInt32LE(value >>> 0, this.offset);
    this.buffer.writeUInt32LE(Math.floor(value / TWO_POW_32), this.offset + 4);
    this.offset += 8;
  }

  varuint(value: number): void {
    assert(isSafeUint(value), () => `varuint field ${value} is not a safe unsigned integer`);
    const buffer = this.buffer;
    let offset = this.offset;
    let rest = value;
    // Division above 2^31: bitwise operators work on 32 bits only.
    while (rest >= 0x8000_0000) {
      buffer[offset++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    while (rest >= 0x80) {
      buffer[offset++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    buffer[offset++] = rest;
    this.offset = offset;
  }

  bytes(data: Uint8Array): void {
    this.buffer.set(data, this.offset);
    this.offset += data.byteLength;
  }

  /** Writes `byteLength` bytes of UTF-8 (the caller measured it with Buffer.byteLength). */
  utf8(text: string, byteLength: number): void {
    const written = this.buffer.write(text, this.offset, byteLength, 'utf8');
    assert(written === byteLength, 'utf8 length changed between sizing and writing');
    this.offset += written;
  }

  finish(): Buffer {
    assert(this.offset === this.buffer.length, () => `encoder wrote ${this.offset} of ${this.buffer.length} bytes`);
    return this.buffer;
  }
}

const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Reads untrusted bytes; every failure is a DecodeError naming `what` and the offset. */
export class ByteReader {
  readonly data: Uint8Array;
  readonly what: string;
  offset: number;
  readonly end: number;

  constructor(data: Uint8Array, what: string, offset = 0, end = data.byteLength) {
    this.data = data;
    this.what = what;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  fail(message: string): never {
    throw new DecodeError(this.what, this.offset, message);
  }

  #need(n: number, field: string): void {
    if (this.end - this.offset < n) this.fail(`truncated ${field}: needs ${n} bytes, ${this.end - this.offset} left`);
  }

  u8(field: string): number {
    this.#need(1, field);
    return this.data[this.offset++];
  }

  u32(field: string): number {
    this.#need(4, field);
    const d = this.data;
    const o = this.offset;
    this.offset += 4;
    return (d[o] | (d[o + 1] << 8) | (d[o + 2] << 16)) + d[o + 3] * 0x100_0000;
  }

  u64(field: string): number {
    const low = this.u32(field);
    const high = this.u32(field);
    if (high >= U64_HIGH_LIMIT) this.fail(`${field} is not a safe integer`);
    return high * TWO_POW_32 + low;
  }

  varuint(field: string): number {
    const d = this.data;
    let offset = this.offset;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < VARUINT_BYTES_MAX; i++) {
      if (offset >= this.end) this.fail(`truncated ${field}`);
      const byte = d[offset++];
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        // Canonical form only (no zero continuation group), so that every value has one
        // encoding and a decoded message re-encodes to the same bytes.
        if (byte === 0 && i > 0) this.fail(`${field}: non-canonical varint`);
        if (!Number.isSafeInteger(result)) this.fail(`${field} is not a safe integer`);
        this.offset = offset;
        return result;
      }
      scale *= 0x80;
    }
    this.fail(`${field}: varint longer than ${VARUINT_BYTES_MAX} bytes`);
  }

  /** A varuint that must not exceed `max` (counts and lengths: bounds allocations). */
  boundedVaruint(field: string, max: number): number {
    const start = this.offset;
    const value = this.varuint(field);
    if (value > max) throw new DecodeError(this.what, start, `${field} ${value} exceeds ${max}`);
    return value;
  }

  /** A view of the next n bytes (no copy). */
  bytes(n: number, field: string): Uint8Array {
    this.#need(n, field);
    const view = this.data.subarray(this.offset, this.offset + n);
    this.offset += n;
    return view;
  }

  utf8(n: number, field: string): string {
    const view = this.bytes(n, field);
    if (n === 0) return '';
    try {
      return UTF8_STRICT.decode(view);
    } catch {
      this.offset -= n;
      this.fail(`${field} is not valid UTF-8`);
    }
  }

  /** Everything must have been consumed. */
  done(): void {
    if (this.offset !== this.end) this.fail(`${this.end - this.offset} trailing bytes`);
  }
}
