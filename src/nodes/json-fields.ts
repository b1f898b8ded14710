// Typed reads of JSON decoded by parseJsonExact, for the bodies nodes and masters exchange.
//
// Go's encoding/json is the other side: an absent key or a null leaves a field at its zero value,
// so here absent/null read as 0, '', false or []; a value of the wrong type or out of range is an
// error naming the field path (`Response.MetaPartitionReports[2].End`). Integers come as number
// (safe) or bigint (beyond 2^53) from parseJsonExact; 64-bit fields are returned as bigint.

import { parseJsonExact, UINT64_MAX } from '../util/json.js';
import { NodeMessageError } from './errors.js';

export type JsonObject = Record<string, unknown>;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

export function fieldPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'bigint') return `the integer ${value}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

function bad(path: string, want: string, value: unknown): NodeMessageError {
  return new NodeMessageError(path, `${path || 'body'}: want ${want}, got ${describe(value)}`);
}

/** Parses `text` as JSON (64-bit exact); not JSON is a NodeMessageError with field ''. */
export function parseJsonBody(text: string): unknown {
  try {
    return parseJsonExact(text);
  } catch (e) {
    throw new NodeMessageError('', `body is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function asObject(value: unknown, path: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(path, 'an object', value);
  return value as JsonObject;
}

/** The object at `obj[key]`, or null when absent or null. */
export function readObjectOrNull(obj: JsonObject, key: string, path: string): JsonObject | null {
  const v = obj[key];
  if (v === undefined || v === null) return null;
  return asObject(v, fieldPath(path, key));
}

function integerOf(value: unknown): bigint | null {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  return null;
}

/** A Go uint64 field. */
export function readUint64(obj: JsonObject, key: string, path: string): bigint {
  const v = obj[key];
  if (v === undefined || v === null) return 0n;
  const n = integerOf(v);
  if (n === null || n < 0n || n > UINT64_MAX) throw bad(fieldPath(path, key), 'an unsigned 64-bit integer', v);
  return n;
}

/** A Go int64 field. */
export function readInt64(obj: JsonObject, key: string, path: string): bigint {
  const v = obj[key];
  if (v === undefined || v === null) return 0n;
  const n = integerOf(v);
  if (n === null || n < INT64_MIN || n > INT64_MAX) throw bad(fieldPath(path, key), 'a signed 64-bit integer', v);
  return n;
}

/** An integer field the domain holds as a number (ids, counts, statuses): within +-2^53. */
export function readSafeInt(obj: JsonObject, key: string, path: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  const v = obj[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw bad(fieldPath(path, key), `an integer in [${min}, ${max}]`, v);
  }
  return v;
}

/** A non-negative id or count held as a number. */
export function readSafeUint(obj: JsonObject, key: string, path: string): number {
  return readSafeInt(obj, key, path, 0);
}

/** A Go float64 field (cpuUtil, progress); an integer literal is fine too. */
export function readFloat(obj: JsonObject, key: string, path: string): number {
  const v = obj[key];
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  throw bad(fieldPath(path, key), 'a number', v);
}

export function readString(obj: JsonObject, key: string, path: string): string {
  const v = obj[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw bad(fieldPath(path, key), 'a string', v);
  return v;
}

export function readBool(obj: JsonObject, key: string, path: string): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw bad(fieldPath(path, key), 'a boolean', v);
  return v;
}

/** A JSON array field; absent or null reads as []. */
export function readArray(obj: JsonObject, key: string, path: string): readonly unknown[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(fieldPath(path, key), 'an array', v);
  return v;
}

export function readStringArray(obj: JsonObject, key: string, path: string): string[] {
  const at = fieldPath(path, key);
  return readArray(obj, key, path).map((v, i) => {
    if (typeof v !== 'string') throw bad(fieldPath(at, i), 'a string', v);
    return v;
  });
}

export function readUint64Array(obj: JsonObject, key: string, path: string): bigint[] {
  const at = fieldPath(path, key);
  return readArray(obj, key, path).map((v, i) => {
    const n = integerOf(v);
    if (n === null || n < 0n || n > UINT64_MAX) throw bad(fieldPath(at, i), 'an unsigned 64-bit integer', v);
    return n;
  });
}

/** Each element of an array field of objects, decoded by `decode(object, elementPath)`. */
export function readObjectArray<T>(obj: JsonObject, key: string, path: string, decode: (o: JsonObject, at: string) => T): T[] {
  const at = fieldPath(path, key);
  return readArray(obj, key, path).map((v, i) => decode(asObject(v, fieldPath(at, i)), fieldPath(at, i)));
}
