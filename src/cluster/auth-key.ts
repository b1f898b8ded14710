// authKey = lower-case hex md5 of the vol owner (spec 1.3 matchKey; the SDK's util.CalcAuthKey).

import { createHash } from 'node:crypto';

export function authKeyOf(owner: string): string {
  return createHash('md5').update(owner).digest('hex');
}
