// Id arithmetic shared by the handlers that allocate from the replicated counters.

import { CubeCode, OperatingError } from '../../util/errors.js';

/** `current + count`, refusing to leave the range where JS numbers are exact integers. */
export function nextId(current: number, count = 1): number {
  const next = current + count;
  if (!Number.isSafeInteger(next)) throw new OperatingError(CubeCode.InternalError, 'id space exhausted');
  return next;
}
