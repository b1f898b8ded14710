// Signed requests: the caller proves it holds a user's secret key without sending it. CubeFS has
// no equivalent on the master (its REST routes authenticate nobody). cubemaster's own
// privileged routes need a request signed by root; in the `signed` access mode more routes need
// a signer of some user type (access-rules.ts, access-check.ts). Routes whose rule needs no
// signer ignore the headers.
//
// The caller sends three headers:
//   x-cubemaster-access-key  the user's access key (16 alphanumerics)
//   x-cubemaster-date        the caller's clock, unix milliseconds
//   x-cubemaster-signature   lower-case hex HMAC-SHA256(secretKey, canonical)
// canonical = METHOD "\n" path-and-query as sent "\n" date "\n" hex SHA-256 of the body (empty
// body: of zero bytes). The date must be within ROOT_AUTH_CLOCK_SKEW_MAX_MS of the master's clock,
// which bounds how long a captured request can be replayed.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { ModelView } from '../model/index.js';
import type { UserRecord } from '../model/state.js';
import { UserType } from '../model/state.js';
import { NoPermissionError } from '../model/errors.js';

export const ROOT_AUTH_HEADERS = {
  accessKey: 'x-cubemaster-access-key',
  date: 'x-cubemaster-date',
  signature: 'x-cubemaster-signature',
} as const;

export const ROOT_AUTH_CLOCK_SKEW_MAX_MS = 5 * 60_000;

export interface SignedRequestParts {
  readonly method: string;
  /** The request target exactly as sent: path and query string. */
  readonly pathAndQuery: string;
  readonly body: Uint8Array | undefined;
}

export function canonicalRequest(parts: SignedRequestParts, dateMs: number): string {
  const bodyHash = createHash('sha256')
    .update(parts.body ?? new Uint8Array(0))
    .digest('hex');
  return `${parts.method.toUpperCase()}\n${parts.pathAndQuery}\n${dateMs}\n${bodyHash}`;
}

/** The three headers for a request signed with `accessKey` / `secretKey`. */
export function signRequest(parts: SignedRequestParts, accessKey: string, secretKey: string, nowMs: number): Record<string, string> {
  const dateMs = Math.trunc(nowMs);
  const signature = createHmac('sha256', secretKey).update(canonicalRequest(parts, dateMs)).digest('hex');
  return { [ROOT_AUTH_HEADERS.accessKey]: accessKey, [ROOT_AUTH_HEADERS.date]: String(dateMs), [ROOT_AUTH_HEADERS.signature]: signature };
}

type HeaderValue = string | string[] | undefined;

/**
 * Checks a signed request against the model's users; returns the signer's user id. Throws
 * NoPermissionError (code 57) with the reason in `detail` when a header is missing, the date is
 * outside the allowed skew, the key is unknown, the signature does not match, or (with
 * `rootOnly`) the signer is not the root user.
 */
export function verifySignedRequest(
  model: ModelView,
  headers: Readonly<Record<string, HeaderValue>>,
  parts: SignedRequestParts,
  nowMs: number,
  rootOnly = true,
): string {
  const user = verifySigner(model, headers, parts, nowMs);
  if (rootOnly && user.userType !== UserType.Root) throw new NoPermissionError(`user ${user.userId} is not the root user`);
  return user.userId;
}

/** Whether the request carries any of the signature headers (an unsigned request carries none). */
export function isSigned(headers: Readonly<Record<string, HeaderValue>>): boolean {
  return Object.values(ROOT_AUTH_HEADERS).some((name) => headers[name] !== undefined);
}

/** The user whose secret key signed the request; NoPermissionError (57) as verifySignedRequest. */
export function verifySigner(model: ModelView, headers: Readonly<Record<string, HeaderValue>>, parts: SignedRequestParts, nowMs: number): UserRecord {
  const header = (name: string): string => {
    const value = headers[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (first === undefined || first === '') throw new NoPermissionError(`missing header ${name}`);
    return first;
  };
  const accessKey = header(ROOT_AUTH_HEADERS.accessKey);
  const dateText = header(ROOT_AUTH_HEADERS.date);
  const signature = header(ROOT_AUTH_HEADERS.signature);
  const dateMs = Number(dateText);
  if (!Number.isSafeInteger(dateMs) || Math.abs(nowMs - dateMs) > ROOT_AUTH_CLOCK_SKEW_MAX_MS) {
    throw new NoPermissionError(`${ROOT_AUTH_HEADERS.date} ${dateText} is not within ${ROOT_AUTH_CLOCK_SKEW_MAX_MS} ms of the master's clock`);
  }
  const owner = model.accessKeys.get(accessKey);
  const user = owner === undefined ? undefined : model.users.get(owner.userId);
  if (user === undefined) throw new NoPermissionError('unknown access key');
  const expected = createHmac('sha256', user.secretKey).update(canonicalRequest(parts, dateMs)).digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new NoPermissionError('signature does not match');
  return user;
}
