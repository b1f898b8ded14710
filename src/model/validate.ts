// Input rules of spec section 1.3 (and the per-route rules of 1.5), as functions that return the
// value when it is legal and throw a ParamError naming the field, with the CubeFS code and text,
// when it is not. The HTTP layer calls them while building commands; `apply` calls them again
// on the command's fields, so a command built by buggy code cannot break the model.

import { isIPv6 } from 'node:net';
import { assert } from '../util/assert.js';
import { CubeCode, OperatingError, ParamError } from '../util/errors.js';
import type { DataMediaType } from './state.js';
import type { VolRecord } from './vol-state.js';
import { MediaType, MIN_NODE_SET_CAPACITY, UserType } from './state.js';

/** `ownerRegexp` (spec 1.3): user ids and vol owners. */
export const USER_ID_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,20}$/;
/** `volNameRegexp` (spec 1.3): 3-63 characters. */
export const VOL_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,61}[a-zA-Z0-9]$/;
/** `proto/user_proto.go` (spec 1.3): 16 and 32 alphanumerics. */
export const ACCESS_KEY_PATTERN = /^[a-zA-Z0-9]{16}$/;
export const SECRET_KEY_PATTERN = /^[a-zA-Z0-9]{32}$/;
export const ACCESS_KEY_LENGTH = 16;
export const SECRET_KEY_LENGTH = 32;
const PASSWORD_SHA1_PATTERN = /^[0-9a-f]{40}$/;
const PORT_PATTERN = /^[0-9]{1,5}$/;
const IPV4_OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4_PATTERN = new RegExp(`^${IPV4_OCTET}(\\.${IPV4_OCTET}){3}$`);
/** Zone names are free text in CubeFS; we only bound them and keep control characters out of keys. */
export const ZONE_NAME_MAX_CHARS = 255;
export const NODE_SET_CAPACITY_MAX = 10_000;
export const DEFAULT_ZONE_NAME = 'default';

/** `/user/create` id (spec 1.5): code 55 "invalid user ID". */
export function checkUserId(id: string, field = 'id'): string {
  if (!USER_ID_PATTERN.test(id)) throw new ParamError(field, 'invalid user ID', CubeCode.InvalidUserID);
  return id;
}

/** `owner=` of vol routes (spec 1.3): the same regex, but code 2. */
export function checkOwner(owner: string, field = 'owner'): string {
  if (!USER_ID_PATTERN.test(owner)) throw new ParamError(field, 'owner can only be number and letters');
  return owner;
}

/** Every `name=` parsed through extractName (spec 1.3): code 2. */
export function checkVolName(name: string, field = 'name'): string {
  if (!VOL_NAME_PATTERN.test(name)) throw new ParamError(field, 'name can only be number and letters');
  return name;
}

/** Code 59 "invalid access key". */
export function checkAccessKey(ak: string, field = 'ak'): string {
  if (!ACCESS_KEY_PATTERN.test(ak)) throw new ParamError(field, 'invalid access key', CubeCode.InvalidAccessKey);
  return ak;
}

/** Code 60 "invalid secret key". */
export function checkSecretKey(sk: string, field = 'sk'): string {
  if (!SECRET_KEY_PATTERN.test(sk)) throw new ParamError(field, 'invalid secret key', CubeCode.InvalidSecretKey);
  return sk;
}

export type CreatableUserType = typeof UserType.Admin | typeof UserType.Normal;

/** `/user/create` type (spec 1.5): 2 admin or 3 normal; root (1) and anything else → 56. */
export function checkUserTypeForCreate(type: unknown, field = 'type'): CreatableUserType {
  if (type === UserType.Admin || type === UserType.Normal) return type;
  throw new ParamError(field, 'invalid user type', CubeCode.InvalidUserType);
}

/** `/user/update` type: 0 or absent keeps the current type; otherwise as for create. */
export function checkUserTypeForUpdate(type: unknown, field = 'type'): CreatableUserType | null {
  if (type === undefined || type === null || type === 0) return null;
  return checkUserTypeForCreate(type, field);
}

/** The hex sha1 of a password as stored in `#ak#` (computed by the proposer, see password.ts). */
export function checkPasswordSha1(hex: string, field = 'password'): string {
  if (!PASSWORD_SHA1_PATTERN.test(hex)) throw new ParamError(field, 'password hash must be 40 lower-case hex digits');
  return hex;
}

/**
 * `addr` of `/metaNode/add`, `/dataNode/add` (spec 1.3 extractNodeAddr + checkIpPort): an IP
 * and a port. The HTTP layer resolves host names to an IP before calling this.
 */
export function checkNodeAddr(addr: string, field = 'addr'): string {
  const bad = (): never => {
    throw new ParamError(field, 'addr not legal');
  };
  let host: string;
  let port: string;
  if (addr.startsWith('[')) {
    const close = addr.indexOf(']');
    if (close < 0 || addr[close + 1] !== ':') return bad();
    host = addr.slice(1, close);
    port = addr.slice(close + 2);
    if (!isIPv6(host)) return bad();
  } else {
    const colon = addr.lastIndexOf(':');
    if (colon < 0) return bad();
    host = addr.slice(0, colon);
    port = addr.slice(colon + 1);
    if (!IPV4_PATTERN.test(host)) return bad();
  }
  if (!PORT_PATTERN.test(port)) return bad();
  const n = Number(port);
  if (n < 1 || n > 65535) return bad();
  return addr;
}

/** `heartbeatPort` / `replicaPort`: optional (empty string), else a port number. */
export function checkOptionalPort(port: string, field: string): string {
  if (port === '') return port;
  if (!PORT_PATTERN.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new ParamError(field, `args [${field}] is not legal`);
  }
  return port;
}

/** `zoneName`: the caller maps empty to "default" (spec 1.5); we keep keys printable. */
export function checkZoneName(name: string, field = 'zoneName'): string {
   
  if (name === '' || name.length > ZONE_NAME_MAX_CHARS || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new ParamError(field, 'zone name not legal');
  }
  return name;
}

/** `nodeSetCap` (spec 9): at least 3. Carried in node-add commands from the leader's config. */
export function checkNodeSetCapacity(capacity: number, field = 'nodeSetCapacity'): number {
  if (!Number.isSafeInteger(capacity) || capacity < MIN_NODE_SET_CAPACITY || capacity > NODE_SET_CAPACITY_MAX) {
    throw new ParamError(field, `node set capacity must be in [${MIN_NODE_SET_CAPACITY}, ${NODE_SET_CAPACITY_MAX}]`);
  }
  return capacity;
}

/** Media of a data node in a command: SSD or HDD. */
export function checkDataMediaType(mediaType: number, field = 'mediaType'): DataMediaType {
  if (mediaType === MediaType.SSD || mediaType === MediaType.HDD) return mediaType;
  throw new ParamError(field, `mediaType [${mediaType}] is not legal, expect 1 (SSD) or 2 (HDD)`);
}

/**
 * `/dataNode/add` media type (spec 1.5, 9 `legacyDataMediaType`): required unless the cluster
 * config names a legacy default. Missing with no default → code 1 as observed (spec 11).
 */
export function resolveDataNodeMediaType(mediaType: number | undefined, legacyDataMediaType: number): DataMediaType {
  if (mediaType === undefined || mediaType === 0) {
    if (legacyDataMediaType === MediaType.SSD || legacyDataMediaType === MediaType.HDD) return legacyDataMediaType;
    throw new OperatingError(
      CubeCode.InternalError,
      'add datanode failed, err[mediaType not specified and no legacyDataMediaType configured], hint DataNode mediaType not match',
    );
  }
  return checkDataMediaType(mediaType);
}

/** Unix seconds or ms carried in a command: a non-negative safe integer. */
export function checkTimestamp(t: number, field: string): number {
  if (!Number.isSafeInteger(t) || t < 0) throw new ParamError(field, `${field} must be a non-negative integer`);
  return t;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A random alphanumeric string (generated AK/SK when none is given, spec 1.3). The caller
 * supplies the entropy (`crypto.randomBytes` on the proposer), keeping this module pure.
 * Bytes >= 248 are skipped so each of the 62 characters is equally likely.
 */
export function randomAlnum(length: number, nextRandomByte: () => number): string {
  let out = '';
  let draws = 0;
  while (out.length < length) {
    draws += 1;
    assert(draws <= length * 64, 'randomAlnum: the random source keeps returning bytes >= 248');
    const b = nextRandomByte();
    if (b < 248) out += ALNUM[b % 62];
  }
  return out;
}

/** Go's expand/shrink rule (code 2, its texts), checked again at apply against the current vol. */
export function checkCapacityChange(vol: VolRecord, capacityGB: number, change: 'expand' | 'shrink' | undefined): void {
  if (change === 'expand' && capacityGB <= vol.capacityGB) {
    throw new ParamError('capacity', `expand capacity[${capacityGB}] should be larger than the old capacity[${vol.capacityGB}]`);
  }
  if (change === 'shrink' && capacityGB >= vol.capacityGB) {
    throw new ParamError('capacity', `shrink capacity[${capacityGB}] should be less than the old capacity[${vol.capacityGB}]`);
  }
}
