// A Map<string, V> whose starting entries live encoded in one Buffer: how a model image carries
// the users and access keys of a million-user cluster. Loading such a map is reading the rows
// and filling a typed-array hash table (tens of ms for a million), where a Map of decoded
// records costs two objects and a Map entry per user (~2.5 s per million on this machine, and
// three members start at once on two cores: bench/results/notes.md). An entry is decoded when it
// is read; changes go to ordinary Maps beside the packed base, which never changes.
//
// It is a Map in every observable way, iteration order included: a base key keeps its place
// when it is updated, and a base key deleted and then set again moves to the end. Reads of an
// unchanged base entry return the same object while it stays in a bounded cache of decoded
// entries; past the cache an equal, new object (callers keyed on identity rebuild, which is
// exact: the model still replaces a record object on every change). Only entries read twice
// are cached, so one pass over every entry (the invariant check at a stop) fills no cache.
//
// Lives in the model folder so that the model image's fingerprint covers the hash and row
// layout: an image is read only by the code that wrote it (fsm/model-image.ts).
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

/** Decoded base entries kept so that repeated reads return one object; bounds the memory of reads. */
export const DECODED_CACHE_MAX = 65_536;
const KEY_BYTES_MAX = 0xffff;
/** Row offsets are u32. */
const ROWS_BYTES_MAX = 0xffff_ffff;
/** What a packed user takes (about 90 bytes): the first guess of a table's size. */
const ROW_BYTES_GUESS = 96;
/** Strings up to this length are tried as ASCII, byte by byte. */
const SHORT_STRING_MAX = 64;

/** rowReads value of a row whose decoded value was put in the cache. */
const READS_CACHED = 2;

/** rowStates values. */
const RowState = { Clean: 0, Updated: 1, Removed: 2 } as const;

/** FNV-1a over the key's UTF-16 code units: the same for a key read from a row or from a request. */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The entries of `map` packed, but those that `keep` refuses, which are handed back. Rows of a
 * PackedMap over the same codec that never changed are copied as they are, with no decoding
 * and no `keep` (what was packed once stays packable), except those named in `recheck`.
 */
export function packEntries<V>(
  map: ReadonlyMap<string, V>,
  codec: PackedCodec<V>,
  keep: (value: V) => boolean = () => true,
  recheck: Iterable<string> = [],
): { table: PackedTable; left: V[] } {
  // Room made up front (copies of a growing buffer of 100+ MB cost seconds): the packed base's
  // size and an eighth more, or ROW_BYTES_GUESS a row.
  const out = new TableWriter(map.size, map instanceof PackedMap ? Math.ceil(map.packedBytes * 1.125) : map.size * ROW_BYTES_GUESS);
  const left: V[] = [];
  const add = (key: string, value: V): void => {
    if (keep(value)) out.entry(key, value, codec);
    else left.push(value);
  };
  if (map instanceof PackedMap && map.codec === codec) {
    map.repackInto(out, add, recheck);
  } else for (const [key, value] of map) add(key, value);
  return { table: out.finish(), left };
}

export class PackedMap<V> implements Map<string, V> {
  private table: PackedTable;
  /** Open addressing, linear probing: row index + 1, 0 for an empty slot; at most half full. */
  private slots: Int32Array;
  private mask: number;
  /** Per base row: Clean (the row's value), Updated (value in `updated`) or Removed. */
  private rowStates: Uint8Array;
  /** Per base row: reads by `get` while Clean, up to READS_CACHED (then it may be in `decoded`). */
  private rowReads: Uint8Array;
  private readonly updated = new Map<string, V>();
  /** Keys not in the base, or removed from it and set again, in insertion order. */
  private readonly added = new Map<string, V>();
  /**
   * Decoded values of Clean rows. When it is full it is emptied and starts again: one Map.set
   * per decode, where an LRU would add a delete (and a Map's first key is no queue: deleted
   * entries stay in its table until it rehashes, and each `keys().next()` walks over them).
   */
  private readonly decoded = new Map<string, V>();
  private entryCount: number;
  private readonly reader = new RowReader();

  /**
   * @param baseChecked the table comes from a model that passed its invariant checks (a model
   *   image), so a check may trust the rows that did not change since (invariants.ts).
   */
  constructor(
    table: PackedTable,
    readonly codec: PackedCodec<V>,
    private baseChecked = false,
  ) {
    assert(table.starts.length === table.count + 1 && table.hashes.length === table.count, 'packed table shape');
    assert(table.starts[table.count] === table.rows.byteLength, 'packed rows length');
    this.table = table;
    let capacity = 2;
    while (capacity < table.count * 2) capacity *= 2;
    this.slots = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (let row = 0; row < table.count; row++) {
      let slot = table.hashes[row] & this.mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = row + 1;
    }
    this.rowStates = new Uint8Array(table.count);
    this.rowReads = new Uint8Array(table.count);
    this.entryCount = table.count;
  }

  get size(): number {
    return this.entryCount;
  }

  get [Symbol.toStringTag](): string {
    return 'PackedMap';
  }

  /** Whether the base came from a checked model (and was not cleared away since). */
  get checkedBase(): boolean {
    return this.baseChecked;
  }

  /** Bytes of the packed base. */
  get packedBytes(): number {
    return this.table.rows.byteLength;
  }

  get(key: string): V | undefined {
    const value = this.added.get(key) ?? this.decoded.get(key);
    if (value !== undefined) return value;
    const row = this.rowOf(key);
    if (row < 0) return undefined;
    const state = this.rowStates[row];
    if (state === RowState.Removed) return undefined;
    if (state === RowState.Updated) return this.updated.get(key);
    const decoded = this.decodeRow(key, row);
    if (this.rowReads[row] === 0) this.rowReads[row] = 1;
    else {
      this.rowReads[row] = READS_CACHED;
      this.keepDecoded(key, decoded);
    }
    return decoded;
  }

  has(key: string): boolean {
    if (this.added.has(key) || this.decoded.has(key)) return true;
    const row = this.rowOf(key);
    return row >= 0 && this.rowStates[row] !== RowState.Removed;
  }

  set(key: string, value: V): this {
    assert(value !== undefined, 'a PackedMap holds no undefined values');
    this.decoded.delete(key);
    if (this.added.has(key)) {
      this.added.set(key, value);
      return this;
    }
    const row = this.rowOf(key);
    if (row >= 0 && this.rowStates[row] !== RowState.Removed) {
      this.rowStates[row] = RowState.Updated;
      this.updated.set(key, value);
    } else {
      this.added.set(key, value);
      this.entryCount++;
    }
    return this;
  }

  delete(key: string): boolean {
    this.decoded.delete(key);
    if (this.added.delete(key)) {
      this.entryCount--;
      return true;
    }
    const row = this.rowOf(key);
    if (row < 0 || this.rowStates[row] === RowState.Removed) return false;
    this.rowStates[row] = RowState.Removed;
    this.updated.delete(key);
    this.entryCount--;
    return true;
  }

  clear(): void {
    this.table = new TableWriter().finish();
    this.baseChecked = false;
    this.slots = new Int32Array(2);
    this.mask = 1;
    this.rowStates = new Uint8Array(0);
    this.rowReads = new Uint8Array(0);
    for (const m of [this.updated, this.added, this.decoded]) m.clear();
    this.entryCount = 0;
  }

  forEach(callback: (value: V, key: string, map: Map<string, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }

  entries(): MapIterator<[string, V]> {
    return this.walk((key, value) => [key, value] as [string, V]);
  }

  keys(): MapIterator<string> {
    return this.walk((key) => key);
  }

  values(): MapIterator<V> {
    return this.walk((_key, value) => value);
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  /**
   * For packEntries: Clean rows copied as they are, every other entry (and the Clean rows of
   * the `recheck` keys) handed to `add`, in iteration order.
   */
  repackInto(out: TableWriter, add: (key: string, value: V) => void, recheck: Iterable<string>): void {
    const { count } = this.table;
    const rechecked = new Set<number>();
    for (const key of recheck) {
      const row = this.rowOf(key);
      if (row >= 0 && this.rowStates[row] === RowState.Clean) rechecked.add(row);
    }
    let cleanFrom = 0;
    for (let row = 0; row < count; row++) {
      const state = this.rowStates[row];
      if (state === RowState.Clean && !rechecked.has(row)) continue;
      out.copyRows(this.table, cleanFrom, row);
      cleanFrom = row + 1;
      if (state === RowState.Removed) continue;
      const key = this.keyOf(row);
      add(key, state === RowState.Updated ? this.updated.get(key)! : this.decodeRow(key, row));
    }
    out.copyRows(this.table, cleanFrom, count);
    for (const [key, value] of this.added) add(key, value);
  }

  /** Keys whose entry may differ from the base: updated, removed (base keys), added. */
  *changedKeys(): Generator<string, undefined, unknown> {
    const { count } = this.table;
    for (let row = 0; row < count; row++) if (this.rowStates[row] !== RowState.Clean) yield this.keyOf(row);
    yield* this.added.keys();
    return undefined;
  }

  /** The base's value for `key`, whatever happened to it since; undefined for a key not in the base. */
  baseGet(key: string): V | undefined {
    const row = this.rowOf(key);
    return row < 0 ? undefined : this.decodeRow(key, row);
  }

  /** Base rows in their order (the updated ones with their new value), then the added keys. */
  private *walk<T>(make: (key: string, value: V) => T): Generator<T, undefined, unknown> {
    const { count } = this.table;
    for (let row = 0; row < count; row++) {
      const state = this.rowStates[row];
      if (state === RowState.Removed) continue;
      const key = this.keyOf(row);
      if (state === RowState.Updated) yield make(key, this.updated.get(key)!);
      else yield make(key, (this.rowReads[row] === READS_CACHED ? this.decoded.get(key) : undefined) ?? this.decodeRow(key, row));
    }
    for (const [key, value] of this.added) yield make(key, value);
    return undefined;
  }

  private keepDecoded(key: string, value: V): void {
    if (this.decoded.size >= DECODED_CACHE_MAX) this.decoded.clear();
    this.decoded.set(key, value);
  }

  private rowOf(key: string): number {
    const { hashes, rows, starts } = this.table;
    const hash = keyHash(key);
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const entry = this.slots[slot];
      if (entry === 0) return -1;
      const row = entry - 1;
      if (hashes[row] === hash && keyMatches(rows, starts[row], key)) return row;
    }
  }

  private keyOf(row: number): string {
    const start = this.table.starts[row];
    return this.table.rows.toString('utf8', start + 2, start + 2 + this.table.rows.readUInt16LE(start));
  }

  private decodeRow(key: string, row: number): V {
    const { rows, starts } = this.table;
    const reader = this.reader.over(rows, starts[row] + 2 + rows.readUInt16LE(starts[row]), starts[row + 1]);
    const value = this.codec.decode(key, reader);
    reader.end();
    return value;
  }
}

/** Whether the row at `start` holds `key`: byte by byte while both are ASCII, else by decoding. */
function keyMatches(rows: Buffer, start: number, key: string): boolean {
  const length = rows.readUInt16LE(start);
  const at = start + 2;
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
class TableWriter {
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
    const head = this.rows.skip(2);
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
