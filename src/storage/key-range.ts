// Key ranges for iteration, in byte order (RocksDB's default bytewise comparator).

import { assert } from '../util/assert.js';

export interface KeyRange {
  /** Every key starting with these bytes. Combines with the bounds below (both must hold). */
  readonly prefix?: Uint8Array;
  readonly gt?: Uint8Array;
  readonly gte?: Uint8Array;
  readonly lt?: Uint8Array;
  readonly lte?: Uint8Array;
  readonly reverse?: boolean;
  /** Entries returned at most. */
  readonly limit?: number;
}

/** Bounds with the prefix folded in, as rocksdb-native takes them (absent bound: null). */
export interface ResolvedRange {
  readonly gt: Buffer | null;
  readonly gte: Buffer | null;
  readonly lt: Buffer | null;
  readonly lte: Buffer | null;
  readonly reverse: boolean;
  readonly limit: number;
}

export function resolveRange(range: KeyRange): ResolvedRange {
  assert(range.gt === undefined || range.gte === undefined, 'key range: gt and gte both set');
  assert(range.lt === undefined || range.lte === undefined, 'key range: lt and lte both set');
  assert(range.limit === undefined || (Number.isInteger(range.limit) && range.limit >= 0), 'key range: bad limit');
  // rocksdb-native reads an empty bound as "no bound", which is not what an empty gt/lt/lte
  // means; refuse them rather than return the wrong keys (an empty gte is the same as none).
  for (const bound of [range.gt, range.lt, range.lte]) {
    assert(bound === undefined || bound.length > 0, 'key range: empty gt/lt/lte bound');
  }
  const gt = copyOrNull(range.gt);
  let gte = copyOrNull(range.gte);
  let lt = copyOrNull(range.lt);
  let lte = copyOrNull(range.lte);
  if (range.prefix !== undefined && range.prefix.length > 0) {
    const prefix = Buffer.from(range.prefix);
    // Lower bound: the tighter of the prefix and any given bound.
    if (gt === null && (gte === null || Buffer.compare(gte, prefix) < 0)) gte = prefix;
    // Upper bound: keys below the prefix's successor, unless a given bound is already tighter.
    const end = prefixEnd(prefix);
    if (end !== null) {
      const upper = lt ?? lte;
      if (upper === null || Buffer.compare(upper, end) >= 0) {
        lt = end;
        lte = null;
      }
    }
  }
  return { gt, gte, lt, lte, reverse: range.reverse ?? false, limit: range.limit ?? Infinity };
}

/**
 * The smallest key greater than every key that starts with `prefix`: increment the last byte
 * that is not 0xff and drop what follows. null when the prefix is all 0xff (no upper bound).
 */
export function prefixEnd(prefix: Uint8Array): Buffer | null {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = end[i] + 1;
      return end;
    }
  }
  return null;
}

function copyOrNull(key: Uint8Array | undefined): Buffer | null {
  return key === undefined ? null : Buffer.from(key);
}
