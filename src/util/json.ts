// JSON that keeps 64-bit integers exact (inode ranges end at 2^63-1, sizes in bytes exceed 2^53).
//
// Writing: values are plain JS data where 64-bit quantities are `bigint`. The native
// JSON.stringify is tried first (it is several times faster, and most replies hold no bigint);
// it throws on a bigint, and only then the lossless writer runs, which prints bigints as bare
// JSON integers, exactly as Go's encoding/json prints uint64/int64.
//
// Reading: `parseJsonExact` turns every integer literal outside the safe range into a bigint and
// keeps the others as numbers, so a field's type tells whether precision could have been lost:
// decoders that need a 64-bit value accept both and convert (`toBigInt`).

import { isInteger, isSafeNumber, parse, stringify } from 'lossless-json';

/** JSON text of `value`; bigints become exact integer literals. */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (e) {
    if (!(e instanceof TypeError) || !/BigInt/i.test(e.message)) throw e;
    const text = stringify(value);
    // lossless-json returns undefined only for a top-level undefined/function, which callers never pass.
    if (text === undefined) throw new TypeError('value is not representable as JSON');
    return text;
  }
}

/**
 * A run of 16 digits: the shortest text that can hold an integer beyond 2^53 (9007199254740993
 * has 16 digits). A text without one holds no integer JSON.parse could round.
 */
const LONG_DIGIT_RUN = /[0-9]{16}/;

/** Integers beyond Number.MAX_SAFE_INTEGER become bigints; everything else as JSON.parse. */
export function parseJsonExact(text: string): unknown {
  // Most bodies (node heartbeats of small clusters, every small request) hold no such integer:
  // the native parser, several times faster than the lossless one, gives the same values.
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text) as unknown;
  return parse(text, null, (literal: string) => {
    if (isInteger(literal)) return isSafeNumber(literal) ? Number(literal) : BigInt(literal);
    return Number.parseFloat(literal);
  });
}

/** A JSON integer read by parseJsonExact (number or bigint) as a bigint; null when it is not an integer. */
export function toBigInt(value: unknown): bigint | null {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  return null;
}

/** uint64 range, for decoders of Go uint64 fields. */
export const UINT64_MAX = (1n << 64n) - 1n;
/** int64 max: the End of a volume's last meta partition (spec 3.1). */
export const INT64_MAX = (1n << 63n) - 1n;
