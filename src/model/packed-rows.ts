// The packed form of a map's entries (packed-map.ts): rows in one Buffer, their starts and key
// hashes as u32 arrays, and the writers and readers of rows. A codec writes a value's fields
// with a RowWriter and reads them back with a RowReader.
//
// In the model folder, like packed-map.ts, so that the model image's fingerprint covers the
// layout and the hash.
import { assert } from '../util/assert.js';

/** How one value is written into a row and read back. */
export interface PackedCodec<V> {
  encode(value: V, row: RowWriter): void;
  /** The value of `key` from the row's value bytes; every byte must be read. */
  decode(key: string, row: RowReader): V;
}

/**
 * The packed entries. Row i spans rows[starts[i], starts[i + 1]): a u16 key length, the key in
 * UTF-8, then the value's bytes. `hashes[i]` is keyHash of row i's key.
 */
export interface PackedTable {
  readonly count: number;
  readonly rows: Buffer;
  readonly starts: Uint32Array;
  readonly hashes: Uint32Array;
}

/** A row starts with its key's length. */
export const KEY_LENGTH_BYTES = 2;
const KEY_BYTES_MAX = 0xffff;
/** Row offsets are u32. */
const ROWS_BYTES_MAX = 0xffff_ffff;
/** Strings up to this length are tried as ASCII, byte by byte. */
const SHORT_STRING_MAX = 64;

/** FNV-1a over the key's UTF-16 code units: the same for a key read from a row or from a request. */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Row `row`'s key. */
export function rowKey(table: PackedTable, row: number): string {
  const start = table.starts[row];
  return table.rows.toString('utf8', start + KEY_LENGTH_BYTES, start + KEY_LENGTH_BYTES + table.rows.readUInt16LE(start));
}

/** Where row `row`'s value starts (it ends where the next row starts). */
export function rowValueStart(table: PackedTable, row: number): number {
  const start = table.starts[row];
  return start + KEY_LENGTH_BYTES + table.rows.readUInt16LE(start);
}

/** Whether the row at `start` holds `key`: byte by byte while both are ASCII, else by decoding. */
export function keyMatches(rows: Buffer, start: number, key: string): boolean {
  const length = rows.readUInt16LE(start);
  const at = start + KEY_LENGTH_BYTES;
  if (length === key.length) {
    let ascii = true;
    for (let i = 0; i < length; i++) {
      const byte = rows[at + i];
      if (byte >= 0x80) {
        ascii = false;
        break;
      }
      if (byte !== key.charCodeAt(i)) return false;
    }
    if (ascii) return true;
  }
  return rows.toString('utf8', at, at + length) === key;
}

/**
 * Whether a[aStart, aStart + length) equals b[bStart, bStart + length). A loop in JS: for keys and
 * ids of tens of bytes it beats Buffer.compare, whose call costs more than the comparison.
 */
export function bytesEqualAt(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/** Appends to one growing buffer: the fields of a row (codecs) and whole rows (TableWriter). */
export class RowWriter {
  private bytes = Buffer.allocUnsafe(64 * 1024);
  private at = 0;

  get length(): number {
    return this.at;
  }

  /** Room for `n` more bytes with no further growth. */
  reserve(n: number): void {
    this.room(n);
  }

  u8(n: number): void {
    assert(Number.isInteger(n) && n >= 0 && n <= 0xff, () => `u8 ${n}`);
    this.room(1);
    this.bytes[this.at++] = n;
  }

  u16At(offset: number, n: number): void {
    this.bytes.writeUInt16LE(n, offset);
  }

  f64(n: number): void {
    this.room(8);
    this.at = this.bytes.writeDoubleLE(n, this.at);
  }

  /** u32 length, then UTF-8. */
  string(s: string): void {
    this.room(4 + s.length * 3);
    const length = this.utf8At(s, this.at + 4);
    this.bytes.writeUInt32LE(length, this.at);
    this.at += 4 + length;
  }

  /** UTF-8 with no length (the caller records it). Returns its byte length. */
  raw(s: string): number {
    this.room(s.length * 3);
    const length = this.utf8At(s, this.at);
    this.at += length;
    return length;
  }

  /**
   * Writes `s` at `offset` (room made); returns its byte length. Short ASCII strings (ids, keys:
   * nearly every field) byte by byte, which beats Buffer.write's call for them.
   */
  private utf8At(s: string, offset: number): number {
    if (s.length <= SHORT_STRING_MAX) {
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        this.bytes[offset + i] = c;
      }
      if (i === s.length) return i;
    }
    return this.bytes.write(s, offset, 'utf8');
  }

  copy(from: Buffer, start: number, end: number): void {
    this.room(end - start);
    this.at += from.copy(this.bytes, this.at, start, end);
  }

  skip(n: number): number {
    this.room(n);
    const at = this.at;
    this.at += n;
    return at;
  }

  /** The bytes written (a view, valid until the next write). */
  view(): Buffer {
    return this.bytes.subarray(0, this.at);
  }

  private room(n: number): void {
    if (this.at + n <= this.bytes.byteLength) return;
    let size = this.bytes.byteLength * 2;
    while (size < this.at + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.bytes.copy(next, 0, 0, this.at);
    this.bytes = next;
  }
}

/** A growing array of u32 (row starts, key hashes): no JS array of a million numbers. */
class U32List {
  private items: Uint32Array;
  length = 0;

  constructor(capacity: number) {
    this.items = new Uint32Array(Math.max(16, capacity));
  }

  push(n: number): void {
    if (this.length === this.items.length) {
      const next = new Uint32Array(this.items.length * 2);
      next.set(this.items);
      this.items = next;
    }
    this.items[this.length++] = n;
  }

  /** The items (a view, valid while nothing is pushed). */
  view(): Uint32Array {
    return this.items.subarray(0, this.length);
  }
}

/** Reads the fields of one row in order; reused for every row of a map. */
export class RowReader {
  private bytes: Buffer = Buffer.alloc(0);
  private at = 0;
  private endAt = 0;

  over(bytes: Buffer, start: number, end: number): this {
    this.bytes = bytes;
    this.at = start;
    this.endAt = end;
    return this;
  }

  u8(): number {
    return this.bytes[this.take(1)];
  }

  f64(): number {
    return this.bytes.readDoubleLE(this.take(8));
  }

  string(): string {
    const length = this.bytes.readUInt32LE(this.take(4));
    const start = this.take(length);
    return this.bytes.toString('utf8', start, start + length);
  }

  /** Every byte of the row was read: a row is exactly what its codec wrote. */
  end(): void {
    assert(this.at === this.endAt, () => `packed row: ${this.endAt - this.at} bytes left`);
  }

  private take(n: number): number {
    const start = this.at;
    this.at += n;
    assert(this.at <= this.endAt, 'packed row read past its end');
    return start;
  }
}

/** Builds a PackedTable row by row. */
export class TableWriter {
  private readonly rows = new RowWriter();
  private readonly starts: U32List;
  private readonly hashes: U32List;

  /** `expectedRows`, `expectedBytes`: room made up front (a guess; more is made as needed). */
  constructor(expectedRows = 0, expectedBytes = 0) {
    this.starts = new U32List(expectedRows + 1);
    this.hashes = new U32List(expectedRows);
    this.starts.push(0);
    this.rows.reserve(expectedBytes);
  }

  entry<V>(key: string, value: V, codec: PackedCodec<V>): void {
    const head = this.rows.skip(KEY_LENGTH_BYTES);
    const keyBytes = this.rows.raw(key);
    assert(keyBytes <= KEY_BYTES_MAX, () => `packed key of ${keyBytes} bytes`);
    this.rows.u16At(head, keyBytes);
    codec.encode(value, this.rows);
    this.endRow(keyHash(key));
  }

  /** Rows [first, end) of `from`, as they are. */
  copyRows(from: PackedTable, first: number, end: number): void {
    if (first >= end) return;
    const shift = this.rows.length - from.starts[first];
    this.rows.copy(from.rows, from.starts[first], from.starts[end]);
    assert(this.rows.length <= ROWS_BYTES_MAX, 'packed rows past 4 GiB');
    for (let row = first; row < end; row++) {
      this.starts.push(from.starts[row + 1] + shift);
      this.hashes.push(from.hashes[row]);
    }
  }

  /** The table; its arrays are views of the writer's (the writer is done with). */
  finish(): PackedTable {
    return { count: this.hashes.length, rows: this.rows.view(), starts: this.starts.view(), hashes: this.hashes.view() };
  }

  private endRow(hash: number): void {
    assert(this.rows.length <= ROWS_BYTES_MAX, 'packed rows past 4 GiB');
    this.starts.push(this.rows.length);
    this.hashes.push(hash);
  }
}
