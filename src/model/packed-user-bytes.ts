// The packed users and access keys (packed-users.ts) read as bytes, with no record decoded: the
// check of tables received from another member (verifyPackedUsers), and a row's record written
// as the store holds it (writeStoredPair). Both walk the rows field by field as packedUserCodec
// and packedAccessKeyCodec lay them out: a change to the codecs is a change here, and to
// PACKED_ROWS_VERSION (the tests compare both with the codecs).
import { KEY, RECORD_VERSION } from './records.js';
import { bytesEqualAt, KEY_LENGTH_BYTES, keyHash, rowKey, rowValueStart, type PackedTable } from './packed-rows.js';
import type { PackedUsers } from './packed-users.js';

/**
 * Problems of packed tables received from elsewhere (a snapshot), read as bytes, with no record
 * decoded: rows that do not hold exactly what the codecs above write, stored key hashes that are
 * not the keys', a key twice in a table, and any break of the pairing that a checked image
 * promises (every packed user's key is in the key table with that user as owner, and every
 * packed key is so matched). Empty when the tables may be loaded as checked (unpackUsers). The
 * row walks follow packedUserCodec and packedAccessKeyCodec field by field.
 */
export function verifyPackedUsers(packed: PackedUsers, maxProblems = 5): string[] {
  const problems: string[] = [];
  const report = (problem: string): boolean => problems.push(problem) >= maxProblems;
  const users = indexRows(packed.users, 'users', report);
  const keys = indexRows(packed.accessKeys, 'access keys', report);
  if (users === null || keys === null) return problems;
  const { rows: userRows, starts: userStarts } = packed.users;
  const { rows: keyRows, starts: keyStarts } = packed.accessKeys;
  const field = { start: 0, end: 0 };
  for (let row = 0; row < packed.users.count; row++) {
    const keyStart = userStarts[row] + KEY_LENGTH_BYTES;
    const keyEnd = keyStart + userRows.readUInt16LE(userStarts[row]);
    const end = userStarts[row + 1];
    // u8 user type, f64 create time, then the access key, secret key and description.
    let at = keyEnd + 1 + 8;
    if (!stringAt(userRows, at, end, field)) {
      if (report(`packed user row ${row}: fields do not fit the row`)) return problems;
      continue;
    }
    const akStart = field.start;
    const akEnd = field.end;
    at = akEnd;
    if (!stringAt(userRows, at, end, field) || !stringAt(userRows, field.end, end, field) || field.end !== end) {
      if (report(`packed user row ${row}: fields do not fit the row`)) return problems;
      continue;
    }
    const keyRow = findRow(packed.accessKeys, keys, userRows, akStart, akEnd);
    if (keyRow < 0) {
      if (report(`packed user ${rowKey(packed.users, row)}: access key not in the packed keys`)) return problems;
      continue;
    }
    // The key's row: the owner's user id, then the password's sha1.
    const keyRowEnd = keyStarts[keyRow + 1];
    if (!stringAt(keyRows, rowValueStart(packed.accessKeys, keyRow), keyRowEnd, field)) {
      if (report(`packed access key row ${keyRow}: fields do not fit the row`)) return problems;
      continue;
    }
    const ownerStart = field.start;
    const ownerEnd = field.end;
    if (!stringAt(keyRows, ownerEnd, keyRowEnd, field) || field.end !== keyRowEnd) {
      if (report(`packed access key row ${keyRow}: fields do not fit the row`)) return problems;
      continue;
    }
    if (ownerEnd - ownerStart !== keyEnd - keyStart || !bytesEqualAt(userRows, keyStart, keyRows, ownerStart, keyEnd - keyStart)) {
      if (report(`packed user ${rowKey(packed.users, row)}: its access key is held by ${keyRows.toString('utf8', ownerStart, ownerEnd)}`)) return problems;
    }
  }
  // Each user matched a key of its own (user ids are distinct), so equal counts leave no key unmatched.
  if (problems.length === 0 && packed.users.count !== packed.accessKeys.count) {
    problems.push(`${packed.accessKeys.count} packed access keys for ${packed.users.count} packed users`);
  }
  return problems;
}


/** A u32 length and that many bytes at `at`, within `end`: their bounds in `out`. */
function stringAt(bytes: Buffer, at: number, end: number, out: { start: number; end: number }): boolean {
  if (at + 4 > end) return false;
  out.start = at + 4;
  out.end = out.start + bytes.readUInt32LE(at);
  return out.end <= end;
}

/**
 * A hash index over the table's rows after checking their bounds, keys and hashes, or null (with
 * the problems reported). Open addressing over row index + 1, as PackedMap's.
 */
function indexRows(table: PackedTable, name: string, report: (problem: string) => boolean): Int32Array | null {
  const { count, rows, starts, hashes } = table;
  let capacity = 2;
  while (capacity < count * 2) capacity *= 2;
  const slots = new Int32Array(capacity);
  const mask = capacity - 1;
  let ok = true;
  if (starts.length !== count + 1 || hashes.length !== count || starts[0] !== 0 || starts[count] !== rows.byteLength) {
    report(`packed ${name}: the table's arrays do not match its rows`);
    return null;
  }
  for (let row = 0; row < count; row++) {
    const start = starts[row];
    if (starts[row + 1] < start + KEY_LENGTH_BYTES || starts[row + 1] < start + KEY_LENGTH_BYTES + rows.readUInt16LE(start)) {
      ok = false;
      if (report(`packed ${name} row ${row}: its key does not fit the row`)) return null;
      continue;
    }
    const keyStart = start + KEY_LENGTH_BYTES;
    const keyEnd = keyStart + rows.readUInt16LE(start);
    const hash = bytesKeyHash(rows, keyStart, keyEnd);
    if (hash !== hashes[row]) {
      ok = false;
      if (report(`packed ${name} row ${row}: stored hash is not its key's`)) return null;
      continue;
    }
    let slot = hash & mask;
    for (; slots[slot] !== 0; slot = (slot + 1) & mask) {
      const other = slots[slot] - 1;
      if (hashes[other] === hash && sameKey(table, other, rows, keyStart, keyEnd)) {
        ok = false;
        if (report(`packed ${name}: key ${rowKey(table, row)} twice`)) return null;
        break;
      }
    }
    slots[slot] = row + 1;
  }
  return ok ? slots : null;
}

/** keyHash of the UTF-8 key in bytes[start, end): byte by byte while ASCII, else by decoding. */
function bytesKeyHash(bytes: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    const byte = bytes[i];
    if (byte >= 0x80) return keyHash(bytes.toString('utf8', start, end));
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function sameKey(table: PackedTable, row: number, bytes: Buffer, start: number, end: number): boolean {
  const rowStart = table.starts[row];
  return table.rows.readUInt16LE(rowStart) === end - start && bytesEqualAt(table.rows, rowStart + KEY_LENGTH_BYTES, bytes, start, end - start);
}

/** The row whose key is the UTF-8 in bytes[start, end), or -1. */
function findRow(table: PackedTable, slots: Int32Array, bytes: Buffer, start: number, end: number): number {
  const hash = bytesKeyHash(bytes, start, end);
  const mask = slots.length - 1;
  for (let slot = hash & mask; slots[slot] !== 0; slot = (slot + 1) & mask) {
    const row = slots[slot] - 1;
    if (table.hashes[row] === hash && sameKey(table, row, bytes, start, end)) return row;
  }
  return -1;
}

/**
 * A packed row's record as the store holds it: the key (records.ts KEY) and the JSON value
 * (userJson, accessKeyJson), written from the row's bytes into `out` at `at` with no string or
 * object made, for a follower that writes a snapshot's packed users into its store. Only for
 * rows whose strings are printable ASCII with no quote or backslash (JSON copies those bytes as
 * they are: nearly every id and key); for any other row it writes nothing and returns -1, and the
 * caller encodes the decoded record (what was written past `at` is then garbage). Returns where
 * the value ends; the key ends at `ends.keyEnd`. `out` needs room for twice the row's bytes (its
 * key is in the pair's key and value) and PAIR_OVERHEAD_BYTES.
 */
export function writeStoredPair(table: PackedTable, row: number, kind: 'user' | 'accessKey', out: Buffer, at: number, ends: { keyEnd: number }): number {
  // Byte loops in JS, not Buffer.write or copy: for fields of tens of bytes the native calls
  // cost more than the copying (they were two thirds of this function). A string is checked as
  // it is copied; on the first byte JSON would escape, the row is given up (-1).
  const { rows, starts } = table;
  const start = starts[row];
  const keyStart = start + KEY_LENGTH_BYTES;
  const keyEnd = keyStart + rows.readUInt16LE(start);
  let w: number;
  if (kind === 'user') {
    // Row: u8 user type, f64 create time, access key, secret key, description (packedUserCodec).
    const createTimeUnixSec = rows.readDoubleLE(keyEnd + 1);
    if (!Number.isFinite(createTimeUnixSec)) return -1;
    const ak = keyEnd + 9;
    const sk = ak + 4 + rows.readUInt32LE(ak);
    const description = sk + 4 + rows.readUInt32LE(sk);
    if ((w = putKeyAndId(out, at, USER_KEY_PREFIX, USER_JSON.head, rows, keyStart, keyEnd, ends)) < 0) return -1;
    if ((w = putField(out, w, USER_JSON.accessKey, rows, ak + 4, sk)) < 0) return -1;
    if ((w = putField(out, w, USER_JSON.secretKey, rows, sk + 4, description)) < 0) return -1;
    if ((w = putField(out, w, userJsonMiddle(rows[keyEnd], createTimeUnixSec), rows, description + 4, starts[row + 1])) < 0) return -1;
    return putBytes(out, w, USER_JSON.tail, 0, USER_JSON.tail.length);
  }
  // Row: the owner's user id, then the password's sha1 (packedAccessKeyCodec).
  const owner = keyEnd;
  const sha = owner + 4 + rows.readUInt32LE(owner);
  if ((w = putKeyAndId(out, at, ACCESS_KEY_KEY_PREFIX, ACCESS_KEY_JSON.head, rows, keyStart, keyEnd, ends)) < 0) return -1;
  if ((w = putField(out, w, ACCESS_KEY_JSON.userId, rows, owner + 4, sha)) < 0) return -1;
  if ((w = putField(out, w, ACCESS_KEY_JSON.passwordSha1, rows, sha + 4, starts[row + 1])) < 0) return -1;
  return putBytes(out, w, ACCESS_KEY_JSON.tail, 0, ACCESS_KEY_JSON.tail.length);
}

/** The pair's key (prefix and id), then its value up to the id as a JSON string; -1 as putString. */
function putKeyAndId(out: Buffer, w: number, prefix: Buffer, head: Buffer, rows: Buffer, keyStart: number, keyEnd: number, ends: { keyEnd: number }): number {
  w = putBytes(out, w, prefix, 0, prefix.length);
  w = putBytes(out, w, rows, keyStart, keyEnd);
  ends.keyEnd = w;
  return putField(out, w, head, rows, keyStart, keyEnd);
}

/** The JSON before a string field (`label`), then the field as putString writes it. */
function putField(out: Buffer, w: number, label: Buffer, rows: Buffer, start: number, end: number): number {
  return putString(out, putBytes(out, w, label, 0, label.length), rows, start, end);
}

/**
 * The JSON between a user's secret key and description. Users created in the same second with
 * the same type share it (most neighbours in a table): the last one is kept.
 */
function userJsonMiddle(userType: number, createTimeUnixSec: number): Buffer {
  if (lastMiddle.userType !== userType || lastMiddle.createTimeUnixSec !== createTimeUnixSec) {
    lastMiddle = { userType, createTimeUnixSec, bytes: ascii(`,"userType":${userType},"createTimeUnixSec":${JSON.stringify(createTimeUnixSec)},"description":`) };
  }
  return lastMiddle.bytes;
}

/** Bytes a stored pair takes beyond its row's bytes (names, quotes, numbers), at most. */
export const PAIR_OVERHEAD_BYTES = 256;

const ascii = (text: string): Buffer => Buffer.from(text, 'latin1');
let lastMiddle: { userType: number; createTimeUnixSec: number; bytes: Buffer } = { userType: -1, createTimeUnixSec: NaN, bytes: Buffer.alloc(0) };
const USER_KEY_PREFIX = ascii(KEY.user(''));
const ACCESS_KEY_KEY_PREFIX = ascii(KEY.accessKey(''));
/** The JSON around a user's fields, in userJson's order. */
const USER_JSON = {
  head: ascii(`{"v":${RECORD_VERSION},"userId":`),
  accessKey: ascii(',"accessKey":'),
  secretKey: ascii(',"secretKey":'),
  tail: ascii(',"ownVols":[],"authorizedVols":[]}'),
};
/** The JSON around an access key's fields, in accessKeyJson's order. */
const ACCESS_KEY_JSON = {
  head: ascii(`{"v":${RECORD_VERSION},"accessKey":`),
  userId: ascii(',"userId":'),
  passwordSha1: ascii(',"passwordSha1":'),
  tail: ascii('}'),
};

function putBytes(out: Buffer, w: number, bytes: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) out[w++] = bytes[i];
  return w;
}

/**
 * bytes[start, end) as a JSON string at `w`, if they are printable ASCII with no '"' or '\\'
 * (JSON writes those as they are); returns where it ends, or -1 at the first other byte.
 */
function putString(out: Buffer, w: number, bytes: Uint8Array, start: number, end: number): number {
  out[w++] = 0x22;
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c) return -1;
    out[w++] = b;
  }
  out[w++] = 0x22;
  return w;
}
