// A packed table (model/packed-rows.ts) as bytes: how a model image and a snapshot stream carry
// the packed users and access keys. [u32 count][u32 rows bytes][count + 1 row starts, u32]
// [count key hashes, u32][rows]; the lengths are big-endian, the typed arrays little-endian, as
// the machines this runs on.
import { endianness } from 'node:os';
import type { PackedTable } from '../model/index.js';
import { assert } from '../util/assert.js';

const U32_BYTES = 4;

assert(endianness() === 'LE', 'packed tables are stored with their typed arrays little-endian');

/** The table's bytes, in parts that share its memory. */
export function tableParts(table: PackedTable): Uint8Array[] {
  return [u32(table.count), u32(table.rows.byteLength), bytesOf(table.starts), bytesOf(table.hashes), table.rows];
}

/** Bytes of tableParts in all. */
export function tableBytes(table: PackedTable): number {
  return 2 * U32_BYTES + table.starts.byteLength + table.hashes.byteLength + table.rows.byteLength;
}

/**
 * The table at `reader.at` in bytes[.., end), its typed arrays copied out (aligned), its rows a
 * view of `bytes`; `fail` makes the error for bytes that do not hold one. Checks the frame only:
 * what the rows hold is the reader's to check (model/packed-users.ts verifyPackedUsers).
 */
export function readTable(bytes: Buffer, reader: { at: number }, end: number, fail: (message: string) => Error): PackedTable {
  const take = (n: number, what: string): Buffer => {
    if (reader.at + n > end) throw fail(`truncated ${what}`);
    const part = bytes.subarray(reader.at, reader.at + n);
    reader.at += n;
    return part;
  };
  const count = take(U32_BYTES, 'table count').readUInt32BE(0);
  const rowsBytes = take(U32_BYTES, 'table rows length').readUInt32BE(0);
  // Checked before allocating: a corrupt count must not allocate gigabytes.
  if (reader.at + (2 * count + 1) * U32_BYTES + rowsBytes > end) throw fail('truncated table');
  const starts = new Uint32Array(count + 1);
  bytesOf(starts).set(take(starts.byteLength, 'table row starts'));
  const hashes = new Uint32Array(count);
  bytesOf(hashes).set(take(hashes.byteLength, 'table key hashes'));
  const rows = take(rowsBytes, 'table rows');
  if (starts[0] !== 0 || starts[count] !== rowsBytes) throw fail('table row starts do not span its rows');
  return { count, rows, starts, hashes };
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(U32_BYTES);
  b.writeUInt32BE(n);
  return b;
}

function bytesOf(array: Uint32Array): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}
