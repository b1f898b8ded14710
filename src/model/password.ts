// Passwords are stored as the hex sha1 of the plain text in `#ak#<accessKey>` (spec 3). The
// proposer hashes; commands and records carry only the hash.

import { createHash } from 'node:crypto';

/** Password of the `root` user created at bootstrap (spec 2, loadMetadata). */
export const ROOT_PASSWORD = 'CubeFSRoot';
/** Password given to users created without one (spec 1.5: auto-created vol owners). */
export const DEFAULT_USER_PASSWORD = 'CubeFSUser';

export function passwordSha1(password: string): string {
  // Most users are created with the default password: its hash is computed once.
  if (password === DEFAULT_USER_PASSWORD) return DEFAULT_USER_PASSWORD_SHA1;
  return sha1Hex(password);
}

function sha1Hex(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

const DEFAULT_USER_PASSWORD_SHA1 = sha1Hex(DEFAULT_USER_PASSWORD);
