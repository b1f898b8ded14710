// The snapshot a follower is sent, made from the leader's model (MetadataFsm.openSnapshot), and
// what the follower makes of its packed part. The pairs, framed by snapshot-codec.ts, come as:
//   1. the FSM's pairs (applied index, membership);
//   2. two packed tables (model/packed-users.ts): the users with no policy, then the access keys
//      such users hold, each as a header pair {table, bytes, code} and its bytes in parts;
//   3. the store's pair of each row of those tables, in row order: users, then keys;
//   4. every other record's pair (users with a policy, their keys, vols, partitions...).
// The follower's new store gets every pair of 1, 3 and 4, as from any stream. Its model gets the
// tables, and the pairs of 3 are stored without being parsed: that was a JSON parse, two objects
// and a Map entry per user and per key, most of a follower's work in a catch-up
// (bench/results/notes.md). What makes the tables safe to trust:
// - before any pair of 3, verifyPackedUsers checks their bytes: rows laid out as the codecs
//   write them, the stored key hashes, no key twice, and the pairing of users and keys that the
//   model's invariant check walks (so the model is loaded as checked, and the check at install
//   visits only the other records);
// - each pair of 3 must be the key of the next row, so the store holds exactly the tables' keys;
// - one pair in SPOT_CHECK_EVERY is also compared with its row encoded as the store encodes it,
//   which catches a leader whose rows and pairs disagree without paying for every row.
// A follower whose model code differs (`code`: the model code fingerprint, model-image.ts)
// cannot read the rows: it skips the tables and parses every pair, which are whole records. A
// version before this layout would store the table pairs as unknown FSM keys (harmless, but
// ~100 bytes per user of junk): upgrade followers before the leader.
import { setImmediate } from 'node:timers/promises';
import {
  accessKeyJson,
  bytesEqualAt,
  changeToOp,
  KEY,
  KEY_LENGTH_BYTES,
  packedAccessKeyCodec,
  packedUserCodec,
  PackedUsersBuilder,
  putChangesOf,
  RowReader,
  rowKey,
  rowValueStart,
  verifyPackedUsers,
  type AccessKeyRecord,
  type Change,
  type PackedTable,
  type PackedUsers,
  type RecordSource,
  type UserRecord,
  userJson,
} from '../model/index.js';
import { assert } from '../util/assert.js';
import { SNAPSHOT_TABLE_KEY, SNAPSHOT_TABLE_PART_KEY } from './fsm-keys.js';
import { modelCodeFingerprint } from './model-image.js';
import { readTable, tableBytes, tableParts } from './packed-table-codec.js';
import { SnapshotStreamError, type KeyValue, type TextPair } from './snapshot-codec.js';

/** Records encoded per batch (one await per batch, not per record). */
const BATCH_RECORDS = 4096;
/** A table travels in parts of at most this many bytes. */
const TABLE_PART_BYTES = 512 * 1024;
/** A table header announcing more is corrupt (a table is ~100 bytes per user: 20M users). */
const TABLE_MAX_BYTES = 2 * 1024 * 1024 * 1024;
/** One pair of the tables' rows in this many is compared with its row, encoded. */
export const SPOT_CHECK_EVERY = 1024;

type TableName = 'users' | 'accessKeys';

const RAW_KEY_PREFIX: { readonly [T in TableName]: Buffer } = {
  users: Buffer.from(KEY.user(''), 'utf8'),
  accessKeys: Buffer.from(KEY.accessKey(''), 'utf8'),
};

// ------------------------------------------------------------------ the leader's side

/**
 * The stream's pairs in batches, from `fsmPairs` and the records frozen at their applied index.
 * Between batches the event loop gets a turn, so that the leader keeps serving while it packs
 * and encodes a large snapshot (a batch is a few ms of work). `expectedUsers` sizes the tables.
 */
export async function* modelSnapshotBatches(fsmPairs: readonly KeyValue[], frozen: RecordSource, expectedUsers: number): AsyncGenerator<readonly (KeyValue | TextPair)[]> {
  yield fsmPairs;
  const builder = new PackedUsersBuilder(expectedUsers);
  const otherUsers: UserRecord[] = [];
  const otherKeys: AccessKeyRecord[] = [];
  let seen = 0;
  for (const user of frozen.users.values()) {
    if (!builder.addUser(user)) otherUsers.push(user);
    if (++seen % BATCH_RECORDS === 0) await setImmediate();
  }
  for (const key of frozen.accessKeys.values()) {
    if (!builder.addAccessKey(key)) otherKeys.push(key);
    if (++seen % BATCH_RECORDS === 0) await setImmediate();
  }
  const { packed, users, accessKeys } = builder.finish();
  const code = modelCodeFingerprint();
  yield tablePairs('users', packed.users, code);
  yield tablePairs('accessKeys', packed.accessKeys, code);
  yield* textInBatches(users, (u) => KEY.user(u.userId), userJson);
  yield* textInBatches(accessKeys, (k) => KEY.accessKey(k.accessKey), accessKeyJson);
  yield* encodedInBatches(concat(putChangesOf(frozen, { users: false }), userPuts(otherUsers), keyPuts(otherKeys)));
}

function tablePairs(table: TableName, packed: PackedTable, code: string): KeyValue[] {
  const header = { table, bytes: tableBytes(packed), code };
  const pairs: KeyValue[] = [{ key: SNAPSHOT_TABLE_KEY, value: Buffer.from(JSON.stringify(header), 'utf8') }];
  for (const part of tableParts(packed)) {
    for (let at = 0; at < part.byteLength; at += TABLE_PART_BYTES) {
      pairs.push({ key: SNAPSHOT_TABLE_PART_KEY, value: part.subarray(at, Math.min(part.byteLength, at + TABLE_PART_BYTES)) });
    }
  }
  return pairs;
}

async function* encodedInBatches(changes: Iterable<Change>): AsyncGenerator<readonly KeyValue[]> {
  let batch: KeyValue[] = [];
  for (const change of changes) {
    const op = changeToOp(change);
    assert(op.type === 'put', 'a record encodes as a put');
    batch.push({ key: Buffer.from(op.key, 'utf8'), value: op.value });
    if (batch.length >= BATCH_RECORDS) {
      yield batch;
      batch = [];
      await setImmediate();
    }
  }
  if (batch.length > 0) yield batch;
}

/** The packed users' and keys' pairs, in row order, as text. */
async function* textInBatches<R>(records: readonly R[], key: (record: R) => string, value: (record: R) => string): AsyncGenerator<readonly TextPair[]> {
  for (let at = 0; at < records.length; at += BATCH_RECORDS) {
    const batch: TextPair[] = [];
    for (let i = at; i < Math.min(records.length, at + BATCH_RECORDS); i++) batch.push({ key: key(records[i]), value: value(records[i]) });
    yield batch;
    await setImmediate();
  }
}

function* userPuts(users: readonly UserRecord[]): Generator<Change> {
  for (const record of users) yield { kind: 'user', op: 'put', record };
}

function* keyPuts(keys: readonly AccessKeyRecord[]): Generator<Change> {
  for (const record of keys) yield { kind: 'accessKey', op: 'put', record };
}

function* concat<T>(...sources: Iterable<T>[]): Generator<T> {
  for (const source of sources) yield* source;
}

// ------------------------------------------------------------------ the follower's side

/** What the follower does with a pair (PackedIntake.take). */
export const PairUse = {
  /** Part of a packed table: not stored. */
  Table: 0,
  /** A packed row's pair: stored, not loaded into the model (the table holds it). */
  Packed: 1,
  /** Stored and loaded into the model. */
  Record: 2,
} as const;
export type PairUse = (typeof PairUse)[keyof typeof PairUse];

interface TableHeader {
  readonly table: TableName;
  readonly bytes: number;
  readonly code: string;
}

/**
 * Follows a stream's packed part pair by pair: collects and checks the tables, checks the pairs
 * of their rows, and hands the tables over once (takeTables) before the first of those pairs.
 * A stream without tables (an older leader, a store's stream) is all records.
 */
export class PackedIntake {
  #filling: { readonly header: TableHeader; readonly blob: Buffer | null; filled: number } | null = null;
  readonly #received = new Map<TableName, PackedTable | null>();
  /** The tables' rows whose pairs are still to come, in order. */
  readonly #rowsDue: { readonly name: TableName; readonly table: PackedTable; row: number }[] = [];
  #ready: PackedUsers | null = null;
  #modelRecordSeen = false;
  readonly #reader = new RowReader();

  take(key: Buffer, value: Buffer): PairUse {
    if (this.#filling !== null) return this.#part(key, value);
    // FSM keys start with a zero byte, the model's never do: one test for nearly every pair.
    if (key.byteLength > 0 && key[0] === 0) {
      if (key.equals(SNAPSHOT_TABLE_KEY)) return this.#header(value);
      if (key.equals(SNAPSHOT_TABLE_PART_KEY)) throw new SnapshotStreamError('a packed table part without its header');
      return PairUse.Record;
    }
    if (this.#rowsDue.length > 0) return this.#rowPair(key, value);
    this.#modelRecordSeen = true;
    return PairUse.Record;
  }

  /** The checked tables, once, as soon as both are in (before the pairs of their rows). */
  takeTables(): PackedUsers | null {
    const ready = this.#ready;
    this.#ready = null;
    return ready;
  }

  /** At the end of the stream: nothing of the packed part may be missing. */
  finish(): void {
    if (this.#filling !== null) throw new SnapshotStreamError(`snapshot stream ends inside the packed ${this.#filling.header.table}`);
    if (this.#rowsDue.length > 0) throw new SnapshotStreamError(`snapshot stream ends before the pairs of the packed ${this.#rowsDue[0].name}`);
    if (this.#received.size === 1) throw new SnapshotStreamError('snapshot stream holds one packed table of two');
  }

  #header(value: Buffer): PairUse {
    const header = parseHeader(value);
    if (this.#received.has(header.table)) throw new SnapshotStreamError(`snapshot stream holds the packed ${header.table} twice`);
    if (this.#modelRecordSeen) throw new SnapshotStreamError('packed tables after the records they stand for');
    // Rows of other model code cannot be read: the pairs, whole records, are parsed instead.
    const readable = header.code === modelCodeFingerprint();
    this.#filling = { header, blob: readable ? Buffer.allocUnsafe(header.bytes) : null, filled: 0 };
    return PairUse.Table;
  }

  #part(key: Buffer, value: Buffer): PairUse {
    const filling = this.#filling!;
    const { header, blob } = filling;
    if (!key.equals(SNAPSHOT_TABLE_PART_KEY)) throw new SnapshotStreamError(`the packed ${header.table} ends ${header.bytes - filling.filled} bytes early`);
    if (filling.filled + value.byteLength > header.bytes) throw new SnapshotStreamError(`the packed ${header.table} is longer than its ${header.bytes} bytes`);
    blob?.set(value, filling.filled);
    filling.filled += value.byteLength;
    if (filling.filled < header.bytes) return PairUse.Table;
    this.#filling = null;
    this.#received.set(header.table, blob === null ? null : this.#table(header, blob));
    const users = this.#received.get('users');
    const accessKeys = this.#received.get('accessKeys');
    if (users !== undefined && accessKeys !== undefined && users !== null && accessKeys !== null) this.#accept({ users, accessKeys });
    return PairUse.Table;
  }

  #table(header: TableHeader, blob: Buffer): PackedTable {
    const reader = { at: 0 };
    const table = readTable(blob, reader, blob.byteLength, (message) => new SnapshotStreamError(`the packed ${header.table}: ${message}`));
    if (reader.at !== blob.byteLength) throw new SnapshotStreamError(`the packed ${header.table}: ${blob.byteLength - reader.at} bytes after the table`);
    return table;
  }

  #accept(tables: PackedUsers): void {
    const problems = verifyPackedUsers(tables);
    if (problems.length > 0) throw new SnapshotStreamError(`the packed users do not hold together: ${problems.join('; ')}`);
    for (const name of ['users', 'accessKeys'] as const) if (tables[name].count > 0) this.#rowsDue.push({ name, table: tables[name], row: 0 });
    this.#ready = tables;
  }

  #rowPair(key: Buffer, value: Buffer): PairUse {
    const due = this.#rowsDue[0];
    const { name, table, row } = due;
    const prefix = RAW_KEY_PREFIX[name];
    const start = table.starts[row];
    const keyStart = start + KEY_LENGTH_BYTES;
    const keyEnd = keyStart + table.rows.readUInt16LE(start);
    if (
      key.byteLength !== prefix.byteLength + keyEnd - keyStart ||
      !bytesEqualAt(key, 0, prefix, 0, prefix.byteLength) ||
      !bytesEqualAt(key, prefix.byteLength, table.rows, keyStart, keyEnd - keyStart)
    ) {
      throw new SnapshotStreamError(`pair ${key.toString('utf8')} is not the one of packed ${name} row ${row} (${rowKey(table, row)})`);
    }
    if (row % SPOT_CHECK_EVERY === 0 && !value.equals(this.#encodedRow(name, table, row))) {
      throw new SnapshotStreamError(`pair ${key.toString('utf8')} does not hold the record of its packed row`);
    }
    if (++due.row === table.count) this.#rowsDue.shift();
    return PairUse.Packed;
  }

  /** The row's record as the store encodes it. */
  #encodedRow(name: TableName, table: PackedTable, row: number): Uint8Array {
    const key = rowKey(table, row);
    const reader = this.#reader.over(table.rows, rowValueStart(table, row), table.starts[row + 1]);
    const change: Change =
      name === 'users' ? { kind: 'user', op: 'put', record: packedUserCodec.decode(key, reader) } : { kind: 'accessKey', op: 'put', record: packedAccessKeyCodec.decode(key, reader) };
    reader.end();
    const op = changeToOp(change);
    assert(op.type === 'put', 'a record encodes as a put');
    return op.value;
  }
}

function parseHeader(value: Buffer): TableHeader {
  let header: Partial<TableHeader>;
  try {
    header = JSON.parse(value.toString('utf8')) as Partial<TableHeader>;
  } catch {
    throw new SnapshotStreamError('a packed table header is not JSON');
  }
  const { table, bytes, code } = header;
  if (table !== 'users' && table !== 'accessKeys') throw new SnapshotStreamError(`a packed table header names table ${String(table)}`);
  if (!Number.isSafeInteger(bytes) || bytes! < 8 || bytes! > TABLE_MAX_BYTES) throw new SnapshotStreamError(`the packed ${table} header gives ${String(bytes)} bytes`);
  if (typeof code !== 'string') throw new SnapshotStreamError(`the packed ${table} header has no model code`);
  return { table, bytes: bytes!, code };
}
