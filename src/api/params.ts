// Request parameters the way the Go master reads them (spec 1.1, 1.3, 8.2): `r.FormValue`, i.e.
// the query string and an `application/x-www-form-urlencoded` POST body, body values first; an
// empty value counts as absent; JSON bodies only for the user APIs. Decoding happens here, once,
// at the edge: handlers get typed values or a ParamError naming the field.
//
// The Go SDK builds query strings without URL-encoding (spec 8.2), so values may hold raw `#`,
// `"`, `<`, `{`, `|`... and malformed escapes ("100%"). The query parser below takes the raw
// text after the first `?` (Go's ParseRequestURI keeps a `#` in the query too), splits on `&`
// and the first `=`, turns `+` into a space and decodes `%XX`; where Go would reject a malformed
// escape we keep the raw text instead of dropping the pair.

import { ParamError } from '../util/errors.js';

/** Go `keyNotFound` as observed on the wire: `[operate_util.go 225] parameter name not found`. */
export function keyNotFound(name: string): ParamError {
  return new ParamError(name, `[operate_util.go 225] parameter ${name} not found`);
}

/** Go `unmatchedKey` ("parameter addr not match"); the file:line prefix was never observed. */
export function unmatchedKey(name: string, detail?: string): ParamError {
  return new ParamError(name, detail === undefined ? `parameter ${name} not match` : `parameter ${name} not match: ${detail}`);
}

/** Spec 1.3 integers: "args [k] is not legal". */
export function illegalArg(name: string, value: string): ParamError {
  return new ParamError(name, `args [${name}] is not legal: ${JSON.stringify(value)} is not a non-negative integer`);
}

/** Tolerant `%XX` / `+` decoding of one query component. */
export function decodeComponent(raw: string): string {
  const spaced = raw.includes('+') ? raw.replace(/\+/g, ' ') : raw;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    // Malformed escapes or invalid UTF-8: decode the well-formed escapes one by one, keep the rest.
    return spaced.replace(/(%[0-9a-fA-F]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/**
 * Appends the pairs of a raw `a=1&b=2` string to `into`; the first value of a key wins later.
 * Returns the number of pairs read.
 */
export function parseQueryInto(raw: string, into: Map<string, string[]>): number {
  if (raw === '') return 0;
  let pairs = 0;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    pairs += 1;
    const eq = pair.indexOf('=');
    const key = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1));
    const values = into.get(key);
    if (values === undefined) into.set(key, [value]);
    else values.push(value);
  }
  return pairs;
}

/**
 * A query string parsed once: fastify's querystringParser hook (server.ts) parses every routed
 * request's query for `request.query`; route.ts hands the same parse to Params rather than
 * parsing it a second time (issue 10: the parse was ~3% of the leader's CPU on reads).
 */
export interface ParsedQuery {
  /** The text parsed (after the first `?`). */
  readonly raw: string;
  /** Values by key, first-seen order, repeats kept. Never mutated once parsed. */
  readonly values: ReadonlyMap<string, readonly string[]>;
  /** key=value pairs read, repeats included. */
  readonly pairs: number;
}

export function parseQuery(raw: string): ParsedQuery {
  const values = new Map<string, string[]>();
  const pairs = parseQueryInto(raw, values);
  return { raw, values, pairs };
}

/** Where queryRecord keeps its parse (a symbol: not a key of the record). */
const PARSED = Symbol('parsed query');

/**
 * fastify's querystringParser hook (`request.query`): the first value per key, like Go's
 * FormValue, with the whole parse kept on the record for parsedQueryOf.
 */
export function queryRecord(raw: string): Record<string, string> {
  const parsed = parseQuery(raw);
  const out = Object.create(null) as Record<string, string> & { [PARSED]?: ParsedQuery };
  for (const [k, v] of parsed.values) out[k] = v[0];
  // Not enumerable: a copy of request.query ({...query}) holds the values only.
  Object.defineProperty(out, PARSED, { value: parsed });
  return out;
}

/**
 * The query of `target` parsed: the parse queryRecord kept on `query` (request.query) when it
 * is of the same text (the router splits the target at a `#` before a `?`, Go does not), else
 * parsed now.
 */
export function parsedQueryOf(query: unknown, target: string): ParsedQuery {
  const raw = rawQueryOf(target);
  const kept = typeof query === 'object' && query !== null ? (query as { [PARSED]?: ParsedQuery })[PARSED] : undefined;
  return kept !== undefined && kept.raw === raw ? kept : parseQuery(raw);
}

/** The raw query of a request target: everything after the first `?`, fragment included. */
export function rawQueryOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

/** The path of a request target (before `?`). */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Form values of one request, read like Go's `r.FormValue`. */
export class Params {
  private readonly values: ReadonlyMap<string, readonly string[]>;
  /** key=value pairs in the query and the form body, repeats included (limits.ts). */
  readonly pairCount: number;

  /**
   * `url`: the request target, or its query parsed already (parseQuery of rawQueryOf(target)).
   * `formBody`: the raw x-www-form-urlencoded POST body, whose values come first (Go r.Form).
   */
  constructor(url: string | ParsedQuery, formBody?: string) {
    const query = typeof url === 'string' ? parseQuery(rawQueryOf(url)) : url;
    if (formBody === undefined) {
      this.values = query.values;
      this.pairCount = query.pairs;
      return;
    }
    const values = new Map<string, string[]>();
    const formPairs = parseQueryInto(formBody, values);
    for (const [key, queryValues] of query.values) {
      const formValues = values.get(key);
      if (formValues === undefined) values.set(key, [...queryValues]);
      else formValues.push(...queryValues);
    }
    this.values = values;
    this.pairCount = formPairs + query.pairs;
  }

  /** Every key with all its values, in first-seen order. */
  entries(): IterableIterator<[string, readonly string[]]> {
    return this.values.entries();
  }

  /** The first value, or undefined when absent or empty (spec 1.1). */
  get(name: string): string | undefined {
    const value = this.values.get(name)?.[0];
    return value === undefined || value === '' ? undefined : value;
  }

  /** A required value: keyNotFound (code 2) when absent or empty. */
  require(name: string): string {
    const value = this.get(name);
    if (value === undefined) throw keyNotFound(name);
    return value;
  }

  /** `get` with '' for absent: for fields whose model type is a string with '' = not given. */
  string(name: string): string {
    return this.get(name) ?? '';
  }

  /**
   * A non-negative integer (spec 1.3 extractUint), `fallback` when absent; at most `max` (Go's
   * type of the parameter: INT32_MAX where it parses with extractUint, UINT32_MAX for uint32).
   */
  uint(name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.get(name);
    return value === undefined ? fallback : parseUint(name, value, max);
  }

  requireUint(name: string): number {
    return parseUint(name, this.require(name));
  }

  /** Go strconv.ParseBool, `fallback` when absent. */
  bool(name: string, fallback: boolean): boolean {
    const value = this.get(name);
    return value === undefined ? fallback : parseBool(name, value);
  }

  requireBool(name: string): boolean {
    return parseBool(name, this.require(name));
  }
}

/** Go's extractUint parses with strconv.ParseInt(s, 10, 32): larger values are illegal. */
export const INT32_MAX = 0x7fff_ffff;
/** extractUint32 / extractUint32WithDefault: strconv.ParseUint(s, 10, 32). */
export const UINT32_MAX = 0xffff_ffff;

export function parseUint(name: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\+?[0-9]{1,16}$/.test(value)) throw illegalArg(name, value);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw illegalArg(name, value);
  if (n > max) throw new ParamError(name, `args [${name}] is not legal: ${value} is above ${max}`);
  return n;
}

export function parseBool(name: string, value: string): boolean {
  if (GO_TRUE.has(value)) return true;
  if (GO_FALSE.has(value)) return false;
  throw unmatchedKey(name, `strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
}

// --- JSON bodies (user APIs) ------------------------------------------------------------------

export type JsonObject = Readonly<Record<string, unknown>>;

/** The body as a JSON object; Go's json.Unmarshal texts for the common failures (code 2). */
export function jsonObject(body: Buffer | undefined): JsonObject {
  const text = body === undefined ? '' : body.toString('utf8');
  if (text.trim() === '') throw new ParamError('body', 'unexpected end of JSON input');
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (e) {
    throw new ParamError('body', `invalid JSON body: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ParamError('body', `json: cannot unmarshal ${jsonTypeName(value)} into an object`);
  }
  return value as JsonObject;
}

/** A string field; absent or null is ''. */
export function jsonString(o: JsonObject, key: string): string {
  const v = o[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new ParamError(key, `json: cannot unmarshal ${jsonTypeName(v)} into field ${key} of type string`);
  return v;
}

/** An integer field; absent or null is 0. */
export function jsonInt(o: JsonObject, key: string): number {
  const v = o[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new ParamError(key, `json: cannot unmarshal ${jsonTypeName(v)} into field ${key} of type int`);
  }
  return v;
}

function jsonTypeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'number' : `number ${v}`;
  return typeof v;
}

/** A boolean field; absent or null is false. */
export function jsonBool(o: JsonObject, key: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new ParamError(key, `json: cannot unmarshal ${jsonTypeName(v)} into field ${key} of type bool`);
  return v;
}

/** A []string field; absent or null is []. */
export function jsonStrings(o: JsonObject, key: string): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
    throw new ParamError(key, `json: cannot unmarshal ${jsonTypeName(v)} into field ${key} of type []string`);
  }
  return v as string[];
}
