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
// The rows, their layout and their writers are in packed-rows.ts.
import { assert } from '../util/assert.js';
import { keyHash, keyMatches, RowReader, rowKey, rowValueStart, TableWriter, type PackedCodec, type PackedTable } from './packed-rows.js';

/** Decoded base entries kept so that repeated reads return one object; bounds the memory of reads. */
export const DECODED_CACHE_MAX = 65_536;
/** What a packed user takes (about 90 bytes): the first guess of a table's size. */
const ROW_BYTES_GUESS = 96;

/** rowReads value of a row whose decoded value was put in the cache. */
const READS_CACHED = 2;

/** rowStates values. */
const RowState = { Clean: 0, Updated: 1, Removed: 2 } as const;

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

  /**
   * The values as they are now, in iteration order, to be read later while this map changes (a
   * snapshot streamed from the model): the base is shared, since it never changes, and the row
   * states and the changed entries are copied, so that freezing a million-row map costs a
   * copy of a byte per row. Rows are decoded as the iteration reaches them.
   */
  frozenValues(): Iterable<V> {
    const { table, codec } = this;
    const states = this.rowStates.slice();
    const updated = new Map(this.updated);
    const added = [...this.added.values()];
    return {
      *[Symbol.iterator](): Generator<V, undefined, unknown> {
        const reader = new RowReader();
        for (let row = 0; row < table.count; row++) {
          const state = states[row];
          if (state === RowState.Removed) continue;
          const key = rowKey(table, row);
          yield state === RowState.Updated ? updated.get(key)! : decodeRow(table, codec, reader, key, row);
        }
        yield* added;
        return undefined;
      },
    };
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
    return rowKey(this.table, row);
  }

  private decodeRow(key: string, row: number): V {
    return decodeRow(this.table, this.codec, this.reader, key, row);
  }
}

function decodeRow<V>(table: PackedTable, codec: PackedCodec<V>, reader: RowReader, key: string, row: number): V {
  const over = reader.over(table.rows, rowValueStart(table, row), table.starts[row + 1]);
  const value = codec.decode(key, over);
  over.end();
  return value;
}
