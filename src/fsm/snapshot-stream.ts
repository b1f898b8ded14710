// The snapshot a follower is sent, made from the leader's model (MetadataFsm.openSnapshot), and
// what the follower makes of its packed part. The pairs, framed by snapshot-codec.ts, come as:
//   1. the FSM's pairs (applied index, membership);
//   2. two packed tables (model/packed-users.ts): the users with no policy, then the access keys
//      such users hold, each as a header pair {table, bytes, rows} and its bytes in parts;
//   3. every other record's pair (users with a policy, their keys, vols, partitions...).
// The follower loads the tables as its model's users and keys, and writes each row into its new
// store as the record's pair (packedRecordPairs), beside the pairs of 1 and 3. The users and
// keys, nearly all of a large cluster's records, thus cross the wire once, as rows (a third of
// their pairs' bytes), and the leader neither encodes them as JSON nor frames them: in a
// catch-up the leader serves writes and streams at once, and its thread was the limit
// (bench/results/notes.md). The follower does no JSON parse, and makes no object to keep, per
// user. Store and model come from the same bytes, so they cannot disagree; the tables are
// checked before use (verifyPackedUsers: rows laid out as the codecs write them, the stored key
// hashes, no key twice, and the pairing of users and keys that the invariant check walks), so
// the model is loaded as checked and the check at install visits only the other records.
//
// Versions. A table names its PACKED_ROWS_VERSION; a follower that reads another refuses the
// snapshot (SnapshotStreamError) rather than guess. The header's key is in the model's namespace
// ('#'), where a version from before this layout fails to decode it and refuses the snapshot too,
// instead of storing what it does not know and missing the users: upgrade followers first.
import { setImmediate } from 'node:timers/promises';
import {
  accessKeyJson,
  changeToOp,
  KEY,
  packedAccessKeyCodec,
  packedUserCodec,
  PACKED_ROWS_VERSION,
  PAIR_OVERHEAD_BYTES,
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
  writeStoredPair,
} from '../model/index.js';
import { assert } from '../util/assert.js';
import { SNAPSHOT_TABLE_KEY, SNAPSHOT_TABLE_PART_KEY } from './fsm-keys.js';
import { readTable, tableBytes, tableParts } from './packed-table-codec.js';
import { SnapshotStreamError, type KeyValue } from './snapshot-codec.js';

/** Records encoded or decoded per batch (one await per batch, not per record). */
export const BATCH_RECORDS = 4096;
/** A table travels in parts of at most this many bytes. */
const TABLE_PART_BYTES = 512 * 1024;
/** A table header announcing more is corrupt (a table is ~100 bytes per user: 20M users). */
const TABLE_MAX_BYTES = 2 * 1024 * 1024 * 1024;

type TableName = 'users' | 'accessKeys';

// ------------------------------------------------------------------ the leader's side

/**
 * The stream's pairs in batches, from `fsmPairs` and the records frozen at their applied index.
 * Between batches the event loop gets a turn, so that the leader keeps serving while it packs
 * and encodes a large snapshot (a batch is a few ms of work). `expectedUsers` sizes the tables;
 * null sends every record as a pair, with no tables (a small model, as a scan would load it).
 */
export async function* modelSnapshotBatches(fsmPairs: readonly KeyValue[], frozen: RecordSource, expectedUsers: number | null): AsyncGenerator<readonly KeyValue[]> {
  yield fsmPairs;
  if (expectedUsers === null) {
    yield* encodedInBatches(putChangesOf(frozen));
    return;
  }
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
  const packed = builder.finish();
  yield tablePairs('users', packed.users);
  yield tablePairs('accessKeys', packed.accessKeys);
  yield* encodedInBatches(concat(putChangesOf(frozen, { users: false }), userPuts(otherUsers), keyPuts(otherKeys)));
}

function tablePairs(table: TableName, packed: PackedTable): KeyValue[] {
  const header: TableHeader = { table, bytes: tableBytes(packed), rows: PACKED_ROWS_VERSION };
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
  /** Stored and loaded into the model. */
  Record: 1,
} as const;
export type PairUse = (typeof PairUse)[keyof typeof PairUse];

interface TableHeader {
  readonly table: TableName;
  readonly bytes: number;
  /** PACKED_ROWS_VERSION of the rows. */
  readonly rows: number;
}

/**
 * Follows a stream's packed part pair by pair: collects the tables, checks them, and hands them
 * over once (takeTables) as soon as both are in; the model they go into refuses them after any
 * record (ModelLoader.useTables). A stream without tables (an older leader, a store's stream) is
 * all records.
 */
export class PackedIntake {
  #filling: { readonly header: TableHeader; readonly blob: Buffer; filled: number } | null = null;
  readonly #received = new Map<TableName, PackedTable>();
  #ready: PackedUsers | null = null;

  take(key: Buffer, value: Buffer): PairUse {
    if (this.#filling !== null) return this.#part(key, value);
    // Both table keys are this long: one length test passes nearly every pair on.
    if (key.byteLength === SNAPSHOT_TABLE_KEY.byteLength || key.byteLength === SNAPSHOT_TABLE_PART_KEY.byteLength) {
      if (key.equals(SNAPSHOT_TABLE_KEY)) return this.#header(value);
      if (key.equals(SNAPSHOT_TABLE_PART_KEY)) throw new SnapshotStreamError('a packed table part without its header');
    }
    return PairUse.Record;
  }

  /** The checked tables, once, as soon as both are in. */
  takeTables(): PackedUsers | null {
    const ready = this.#ready;
    this.#ready = null;
    return ready;
  }

  /** At the end of the stream: nothing of the packed part may be missing. */
  finish(): void {
    if (this.#filling !== null) throw new SnapshotStreamError(`snapshot stream ends inside the packed ${this.#filling.header.table}`);
    if (this.#received.size === 1) throw new SnapshotStreamError('snapshot stream holds one packed table of two');
  }

  #header(value: Buffer): PairUse {
    const header = parseHeader(value);
    if (this.#received.has(header.table)) throw new SnapshotStreamError(`snapshot stream holds the packed ${header.table} twice`);
    if (header.rows !== PACKED_ROWS_VERSION) {
      throw new SnapshotStreamError(`the packed ${header.table} hold rows of version ${header.rows}; this member reads version ${PACKED_ROWS_VERSION} (upgrade it)`);
    }
    this.#filling = { header, blob: Buffer.allocUnsafe(header.bytes), filled: 0 };
    return PairUse.Table;
  }

  #part(key: Buffer, value: Buffer): PairUse {
    const filling = this.#filling!;
    const { header, blob } = filling;
    if (!key.equals(SNAPSHOT_TABLE_PART_KEY)) throw new SnapshotStreamError(`the packed ${header.table} ends ${header.bytes - filling.filled} bytes early`);
    if (filling.filled + value.byteLength > header.bytes) throw new SnapshotStreamError(`the packed ${header.table} is longer than its ${header.bytes} bytes`);
    blob.set(value, filling.filled);
    filling.filled += value.byteLength;
    if (filling.filled < header.bytes) return PairUse.Table;
    this.#filling = null;
    const reader = { at: 0 };
    const table = readTable(blob, reader, blob.byteLength, (message) => new SnapshotStreamError(`the packed ${header.table}: ${message}`));
    if (reader.at !== blob.byteLength) throw new SnapshotStreamError(`the packed ${header.table}: ${blob.byteLength - reader.at} bytes after the table`);
    this.#received.set(header.table, table);
    const users = this.#received.get('users');
    const accessKeys = this.#received.get('accessKeys');
    if (users !== undefined && accessKeys !== undefined) {
      const problems = verifyPackedUsers({ users, accessKeys });
      if (problems.length > 0) throw new SnapshotStreamError(`the packed users do not hold together: ${problems.join('; ')}`);
      this.#ready = { users, accessKeys };
    }
    return PairUse.Table;
  }
}

function parseHeader(value: Buffer): TableHeader {
  let header: Partial<TableHeader>;
  try {
    header = JSON.parse(value.toString('utf8')) as Partial<TableHeader>;
  } catch {
    throw new SnapshotStreamError('a packed table header is not JSON');
  }
  const { table, bytes, rows } = header;
  if (table !== 'users' && table !== 'accessKeys') throw new SnapshotStreamError(`a packed table header names table ${String(table)}`);
  if (!Number.isSafeInteger(bytes) || bytes! < 8 || bytes! > TABLE_MAX_BYTES) throw new SnapshotStreamError(`the packed ${table} header gives ${String(bytes)} bytes`);
  if (!Number.isSafeInteger(rows)) throw new SnapshotStreamError(`the packed ${table} header has no rows version`);
  return { table, bytes: bytes!, rows: rows! };
}

/**
 * The store's pair of every row of checked tables, as the store encodes the record, in batches of
 * BATCH_RECORDS. A batch's keys and values are views of one buffer, written from the rows'
 * bytes (writeStoredPair); a row it cannot write so (a string JSON must escape) is decoded and
 * encoded as a record.
 */
export function* packedRecordPairs(packed: PackedUsers): Generator<KeyValue[]> {
  const reader = new RowReader();
  const encoded = (table: PackedTable, row: number, kind: 'user' | 'accessKey'): [string, string] => {
    const id = rowKey(table, row);
    reader.over(table.rows, rowValueStart(table, row), table.starts[row + 1]);
    const pair: [string, string] =
      kind === 'user' ? [KEY.user(id), userJson(packedUserCodec.decode(id, reader))] : [KEY.accessKey(id), accessKeyJson(packedAccessKeyCodec.decode(id, reader))];
    reader.end();
    return pair;
  };
  const ends = { keyEnd: 0 };
  for (const [table, kind] of [
    [packed.users, 'user'],
    [packed.accessKeys, 'accessKey'],
  ] as const) {
    for (let first = 0; first < table.count; first += BATCH_RECORDS) {
      const end = Math.min(table.count, first + BATCH_RECORDS);
      // Room: each row's bytes twice (its key is in the key and in the value), names, quotes.
      const bytes = Buffer.allocUnsafe(2 * (table.starts[end] - table.starts[first]) + (end - first) * PAIR_OVERHEAD_BYTES);
      const pairs: KeyValue[] = [];
      let at = 0;
      for (let row = first; row < end; row++) {
        const valueEnd = writeStoredPair(table, row, kind, bytes, at, ends);
        if (valueEnd < 0) {
          // Buffers of their own: escapes can make the JSON longer than the room made above.
          const [key, value] = encoded(table, row, kind);
          pairs.push({ key: Buffer.from(key, 'utf8'), value: Buffer.from(value, 'utf8') });
          continue;
        }
        pairs.push({ key: bytes.subarray(at, ends.keyEnd), value: bytes.subarray(ends.keyEnd, valueEnd) });
        at = valueEnd;
      }
      yield pairs;
    }
  }
}
