// HTTP fuzz cases: a valid request of some route (the probes of test/api/route-fixture.ts, or a
// bare call of a route with parameters drawn from every name the API reads), then mutated:
// parameters dropped, repeated, retyped (huge, negative, fractional, unicode, escapes, long),
// moved into a form or JSON body, bodies broken (truncated, wrong types, deep nesting), methods
// and headers changed, signatures garbled or made by another user.

import { ROUTE_ACCESS } from '../../src/api/access-rules.js';
import { ROOT_AUTH_HEADERS, signRequest } from '../../src/api/root-auth.js';
import type { Probe } from '../api/route-fixture.js';
import type { Rng } from './fuzz-report.js';

export interface HttpCase {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer | undefined;
}

/** Keys the API reads somewhere (query, form or JSON), so that mutations hit real code paths. */
export const PARAM_NAMES = [
  'accessTimeValidInterval', 'addr', 'ak', 'allowedStorageClass', 'authKey', 'authenticate', 'autoDpMetaRepair', 'capacity', 'count', 'crossZone',
  'delete', 'deleteLockTime', 'description', 'directRead', 'domainId', 'dpCount', 'dpReadOnlyWhenVolFull', 'dpSelectorName', 'dpSelectorParm',
  'dpSize', 'ebsBlkSize', 'enable', 'enablePersistAccessTime', 'enablePosixAcl', 'enableQuota', 'enableTxMask', 'followerRead', 'force',
  'forceDelVol', 'from', 'heartbeatPort', 'id', 'ignoreDiscard', 'ignoreTinyRecover', 'ip', 'keywords', 'kind', 'leaderRetryTimeout', 'limit',
  'loadFactor', 'maximallyRead', 'mediaType', 'metaFollowerRead', 'mpCount', 'name', 'nodeType', 'nodesetId', 'normalZonesFirst', 'op', 'owner',
  'qosEnable', 'raftForceDel', 'rdOnly', 'replicaNum', 'replicaPort', 'target', 'timeout', 'to', 'trashInterval', 'txConflictRetryInterval',
  'txConflictRetryNum', 'txTimeout', 'user', 'version', 'volStorageClass', 'volType', 'weight', 'zoneName', 'batchCount', 'markDeleteRate',
  'autoRepairRate', 'deleteWorkerSleepMs', 'maxDpCntLimit', 'maxMpCntLimit', 'dpMaxRepairErrCnt', 'clientIDKey', 'volStorageClass',
] as const;

export const JSON_KEYS = ['id', 'pwd', 'ak', 'sk', 'type', 'description', 'user_id', 'access_key', 'secret_key', 'password', 'volume', 'subdir', 'policy', 'user_src', 'user_dst', 'force'] as const;

const TRICKY_VALUES = [
  '', '0', '1', '-1', '+1', '01', '1.5', '1e3', '0x10', ' 1', '1 ', 'NaN', 'Infinity', '-0',
  '2147483647', '2147483648', '4294967295', '4294967296', '9007199254740991', '9007199254740993', '18446744073709551615', '18446744073709551616',
  '99999999999999999999999999999999', 'true', 'false', 'TRUE', 't', 'null', 'undefined', '[]', '{}', '[1]', '{"a":1}',
  '%', '%%', '%zz', '%00', '%0', '%C3%A9', '%FF%FE', '%E2%80%AE', 'é', '日本', '😀', '\u202e', '\u0000', '\u0001', '\n', '\r\n', '\t',
  'a b', 'a+b', 'a&b=c', 'a=b', 'a#b', 'a"b', "a'b", 'a<b>', 'a|b', 'a,b', ',,', 'a;b', '../..', '/', '\\', '*', '?',
  'vola', 'nina', 'tina', 'root', 'adam', 'default', 'meta', 'data', 'all', 'off', 'rename|create', 'pause',
  '127.0.0.1:17210', '127.0.0.1:17310', '127.0.0.1', ':1', '127.0.0.1:0', '127.0.0.1:65536', '[::1]:17210', 'localhost:17210', '999.1.1.1:1',
  'NinaAccessKey001', 'TinaAccessKey001', 'f2ceea1536ac1b8fed1a167a9c8bf04d',
] as const;

function randomText(rng: Rng, length: number): string {
  const alphabets = ['abcXYZ019', 'abcdefghijklmnopqrstuvwxyz0123456789_.-', '%&=+#?/ \\"\'<>|,;', 'éü日本😀\u202e\u0000\u007f'];
  const alphabet = [...rng.pick(alphabets)];
  let out = '';
  for (let i = 0; i < length; i++) out += rng.pick(alphabet);
  return out;
}

export function trickyValue(rng: Rng): string {
  switch (rng.int(6)) {
    case 0:
      return randomText(rng, rng.int(20));
    case 1:
      return 'a'.repeat(rng.pick([3, 21, 22, 63, 64, 255, 256, 1000, 5000]));
    case 2:
      return String(rng.int(1000) - 100);
    default:
      return rng.pick(TRICKY_VALUES);
  }
}

/** Percent-encodes like a browser, or leaves some characters raw as the Go SDK does. */
function encode(rng: Rng, raw: string): string {
  const text = raw.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  if (rng.chance(0.8)) return encodeURIComponent(text);
  // Raw, but only what a request target may carry at all (inject builds a URL from it).
  return text.replace(/[^A-Za-z0-9\-._~:@!$'()*+,;=%/|"<>{}^`[\]\\]/gu, (c: string) => encodeURIComponent(c));
}

interface Pairs {
  pairs: [string, string][];
}

function parsePairs(url: string): { path: string } & Pairs {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const pairs: [string, string][] = [];
  if (q >= 0) {
    for (const part of url.slice(q + 1).split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const safeDecode = (s: string): string => {
        try {
          return decodeURIComponent(s);
        } catch {
          return s;
        }
      };
      pairs.push(eq < 0 ? [safeDecode(part), ''] : [safeDecode(part.slice(0, eq)), safeDecode(part.slice(eq + 1))]);
    }
  }
  return { path, pairs };
}

function mutatePairs(rng: Rng, pairs: [string, string][]): void {
  const steps = 1 + rng.int(3);
  for (let s = 0; s < steps; s++) {
    switch (rng.int(6)) {
      case 0:
        if (pairs.length > 0) pairs.splice(rng.int(pairs.length), 1);
        break;
      case 1:
        if (pairs.length > 0) {
          const [k] = rng.pick(pairs);
          pairs.splice(rng.int(pairs.length + 1), 0, [k, trickyValue(rng)]);
        }
        break;
      case 2:
        if (pairs.length > 0) rng.pick(pairs)[1] = trickyValue(rng);
        break;
      case 3:
        pairs.push([rng.pick(PARAM_NAMES), trickyValue(rng)]);
        break;
      case 4:
        if (pairs.length > 0) rng.pick(pairs)[0] = rng.chance(0.5) ? rng.pick(PARAM_NAMES) : trickyValue(rng);
        break;
      default:
        // leave as is: the valid request itself, through the other mutations
        break;
    }
  }
}

function randomJsonValue(rng: Rng, depth: number): unknown {
  switch (rng.int(depth > 2 ? 5 : 7)) {
    case 0:
      return trickyValue(rng);
    case 1:
      return rng.pick([0, -1, 1, 2, 3, 1.5, 2 ** 53, 2 ** 64, -(2 ** 63), 1e308]);
    case 2:
      return rng.chance(0.5);
    case 3:
      return null;
    case 4:
      return rng.pick(['perm:builtin:ReadOnly', 'perm:builtin:Writable', 'action:oss:GetObject', trickyValue(rng)]);
    case 5:
      return Array.from({ length: rng.int(4) }, () => randomJsonValue(rng, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: rng.int(4) }, () => [rng.pick(JSON_KEYS), randomJsonValue(rng, depth + 1)]));
  }
}

function mutateJson(rng: Rng, body: unknown): Buffer {
  const object: Record<string, unknown> = typeof body === 'object' && body !== null && !Array.isArray(body) ? { ...(body as Record<string, unknown>) } : {};
  switch (rng.int(8)) {
    case 0:
      return Buffer.from(JSON.stringify(object).slice(0, rng.int(JSON.stringify(object).length + 1)));
    case 1:
      return Buffer.from(JSON.stringify(randomJsonValue(rng, 0)));
    case 2: {
      const depth = rng.pick([100, 10_000, 200_000]);
      return Buffer.from(rng.chance(0.5) ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
    }
    case 3:
      return Buffer.from(rng.pick(['', ' ', 'null', '"x"', '1', '[]', '{', '}', '{"id":', '\u0000', '\ufeff{}', '{"id":"a","id":"b"}']));
    default: {
      const steps = 1 + rng.int(3);
      for (let s = 0; s < steps; s++) {
        const keys = Object.keys(object);
        if (keys.length > 0 && rng.chance(0.3)) delete object[rng.pick(keys)];
        else object[rng.chance(0.7) && keys.length > 0 ? rng.pick(keys) : rng.pick(JSON_KEYS)] = randomJsonValue(rng, 0);
      }
      return Buffer.from(JSON.stringify(object));
    }
  }
}

export interface Signer {
  readonly ak: string;
  readonly sk: string;
}

/**
 * One case: a template request of a random route, mutated. `signers` are the users a case may
 * sign as (a quarter of the cases are signed, some of those with a garbled signature).
 */
export function httpCase(rng: Rng, probes: Readonly<Record<string, readonly Probe[]>>, signers: readonly Signer[], nowMs: number): HttpCase {
  const rows = ROUTE_ACCESS.filter((r) => r.onlyWhen === undefined);
  const row = rng.pick(rows);
  const probe = rng.pick(probes[row.url] ?? [{ url: () => row.url, code: 0 }]);
  const callerIndex = rng.int(4);
  let method: string = probe.method ?? rng.pick(row.methods);
  const templateUrl = probe.url(callerIndex, (['anonymous', 'normal', 'admin', 'root'] as const)[callerIndex]);
  const { path, pairs } = parsePairs(rng.chance(0.05) ? row.url : templateUrl);
  let jsonBody: unknown = probe.body?.(callerIndex, 'anonymous');
  if (rng.chance(0.85)) mutatePairs(rng, pairs);
  const headers: Record<string, string> = {};
  let body: Buffer | undefined;
  const form = rng.chance(0.15);
  const query = pairs.map(([k, v]) => `${encode(rng, k)}=${encode(rng, v)}`);
  let url = path;
  if (form) {
    method = 'POST';
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = Buffer.from(query.join('&'));
  } else if (query.length > 0) {
    url = `${path}?${query.join('&')}`;
  }
  if (rng.chance(0.03)) url = url.slice(0, Math.max(1, rng.int(url.length + 1)));
  if (rng.chance(0.02)) url = `${url}${rng.pick(['/', '//', '?', '&', '#x', '%2F'])}`;
  if (!form && (jsonBody !== undefined || rng.chance(0.1))) {
    if (jsonBody === undefined) jsonBody = randomJsonValue(rng, 0);
    body = rng.chance(0.8) ? mutateJson(rng, jsonBody) : Buffer.from(JSON.stringify(jsonBody));
    headers['content-type'] = rng.pick(['application/json', 'application/json', 'text/plain', 'nonsense', 'application/x-www-form-urlencoded']);
    if (rng.chance(0.9)) method = 'POST';
  }
  if (rng.chance(0.03)) method = rng.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
  if (rng.chance(0.1)) headers['skip-owner-validation'] = rng.pick(['true', 'false', 'TRUE', '1', '']);
  if (rng.chance(0.1)) headers['x-cfs-accept-encoding'] = 'gzip';
  if (rng.chance(0.05)) headers['x-forwarded-for'] = trickyValue(rng).replace(/[^\x20-\x7e]/g, '');
  if (rng.chance(0.05)) headers['x-real-ip'] = trickyValue(rng).replace(/[^\x20-\x7e]/g, '');
  if (rng.chance(0.25) && signers.length > 0) {
    const signer = rng.pick(signers);
    Object.assign(headers, signRequest({ method, pathAndQuery: url, body }, signer.ak, signer.sk, nowMs));
    if (rng.chance(0.3)) {
      const name = rng.pick(Object.values(ROOT_AUTH_HEADERS));
      headers[name] = trickyValue(rng).replace(/[^\x20-\x7e]/g, '');
    }
  }
  return { method, url, headers, body };
}

export function describeCase(c: HttpCase): string {
  const body = c.body === undefined ? '' : ` body(${c.body.length})=${JSON.stringify(c.body.subarray(0, 200).toString('utf8'))}`;
  const url = c.url.length > 300 ? `${c.url.slice(0, 300)}...(${c.url.length})` : c.url;
  return `${c.method} ${url}${body}`;
}
