// Readers that turn an untrusted decoded value (msgpack or JSON) into typed fields, once, at the
// edge. Each failure is a CodecError naming the path of the offending field. This file and the
// decoders that call it are the only places where values are `unknown` by design.

import { CodecError } from './errors.js';

export type Obj = Readonly<Record<string, unknown>>;

/** Bound on every decoded string (descriptions, names); a command is small by construction. */
export const MAX_DECODED_STRING_CHARS = 65_536;
/** Bound on every decoded array (own vols, actions...). */
export const MAX_DECODED_ARRAY_LENGTH = 100_000;

export function isPlainObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

export function asObject(v: unknown, path: string): Obj {
  if (!isPlainObject(v)) throw new CodecError(path, 'expected an object');
  return v;
}

/** Rejects fields this version does not know: a newer writer must bump `v`. */
export function expectKeys(o: Obj, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new CodecError(path === '' ? k : `${path}.${k}`, 'unknown field');
  }
}

function at(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

export function readString(o: Obj, field: string, path = ''): string {
  const v = o[field];
  if (typeof v !== 'string') throw new CodecError(at(path, field), 'expected a string');
  if (v.length > MAX_DECODED_STRING_CHARS) throw new CodecError(at(path, field), 'string too long');
  return v;
}

export function readNullableString(o: Obj, field: string, path = ''): string | null {
  return o[field] === null ? null : readString(o, field, path);
}

export function readBool(o: Obj, field: string, path = ''): boolean {
  const v = o[field];
  if (typeof v !== 'boolean') throw new CodecError(at(path, field), 'expected a boolean');
  return v;
}

/** A safe integer within [min, max]. */
export function readInt(o: Obj, field: string, min: number, max: number, path = ''): number {
  const v = o[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new CodecError(at(path, field), 'expected an integer');
  if (v < min || v > max) throw new CodecError(at(path, field), `out of range [${min}, ${max}]`);
  return v;
}

/** A finite number (float fields such as loadFactor). */
export function readNumber(o: Obj, field: string, path = ''): number {
  const v = o[field];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new CodecError(at(path, field), 'expected a number');
  return v;
}

export function readOneOf<T extends string | number>(o: Obj, field: string, allowed: readonly T[], path = ''): T {
  const v = o[field];
  const hit = allowed.find((a) => a === v);
  if (hit === undefined) throw new CodecError(at(path, field), `expected one of ${allowed.join(', ')}`);
  return hit;
}

export function readNullableOneOf<T extends string | number>(
  o: Obj,
  field: string,
  allowed: readonly T[],
  path = '',
): T | null {
  return o[field] === null ? null : readOneOf(o, field, allowed, path);
}

export function readArray(o: Obj, field: string, path = ''): readonly unknown[] {
  const v = o[field];
  if (!Array.isArray(v)) throw new CodecError(at(path, field), 'expected an array');
  if (v.length > MAX_DECODED_ARRAY_LENGTH) throw new CodecError(at(path, field), 'array too long');
  return v as readonly unknown[];
}

export function readStringArray(o: Obj, field: string, path = ''): string[] {
  const arr = readArray(o, field, path);
  return arr.map((item, i) => {
    if (typeof item !== 'string') throw new CodecError(`${at(path, field)}[${i}]`, 'expected a string');
    if (item.length > MAX_DECODED_STRING_CHARS) throw new CodecError(`${at(path, field)}[${i}]`, 'string too long');
    return item;
  });
}

/** A bigint within [min, max] (msgpack 64-bit integers decode as bigint; JSON records store decimal strings). */
export function readBigInt(o: Obj, field: string, min: bigint, max: bigint, path = ''): bigint {
  const v = o[field];
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else if (typeof v === 'string' && /^-?[0-9]{1,20}$/.test(v)) b = BigInt(v);
  else throw new CodecError(at(path, field), 'expected a 64-bit integer');
  if (b < min || b > max) throw new CodecError(at(path, field), `out of range [${min}, ${max}]`);
  return b;
}

export function readNullableInt(o: Obj, field: string, min: number, max: number, path = ''): number | null {
  return o[field] === null ? null : readInt(o, field, min, max, path);
}

export function readNullableNumber(o: Obj, field: string, path = ''): number | null {
  return o[field] === null ? null : readNumber(o, field, path);
}

/** An array of objects, each decoded by `item` with its own path. */
export function readObjectArray<T>(o: Obj, field: string, item: (v: Obj, path: string) => T, path = ''): T[] {
  return readArray(o, field, path).map((v, i) => item(asObject(v, `${at(path, field)}[${i}]`), `${at(path, field)}[${i}]`));
}

export function readIntArray(o: Obj, field: string, min: number, max: number, path = ''): number[] {
  return readArray(o, field, path).map((v, i) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      throw new CodecError(`${at(path, field)}[${i}]`, `expected an integer in [${min}, ${max}]`);
    }
    return v;
  });
}
