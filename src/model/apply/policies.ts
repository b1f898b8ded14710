// `/user/updatePolicy` and `/user/removePolicy` (spec 1.5): per-vol grants of a user.

import type { CommandOf } from '../commands.js';
import { IsOwnerError, UserNotFoundError, VolNotFoundError } from '../errors.js';
import type { ModelView, UserRecord } from '../state.js';
import { volByName } from '../state.js';
import type { Success } from './results.js';
import { withoutGrant } from './vols.js';

/** Grants the Go master keeps (`ParsePermission` / `ParseAction`); anything else is dropped. */
const PERMISSION = /^perm:(builtin|custom):[A-Za-z0-9_-]{1,64}$/;
const ACTION = /^action:[a-z0-9]{1,16}:[A-Za-z0-9]{1,64}$/;

export function keptGrants(actions: readonly string[]): string[] {
  return actions.filter((a) => PERMISSION.test(a) || ACTION.test(a));
}

/**
 * The checks of both routes, in the Go master's order: unknown vol 7 (the handler looks it up
 * first), unknown user 46, the user owns the vol 61 (an owner holds no grant on its own vol).
 */
function grantee(model: ModelView, userId: string, volume: string): UserRecord {
  if (volByName(model, volume) === undefined) throw new VolNotFoundError(volume);
  const user = model.users.get(userId);
  if (user === undefined) throw new UserNotFoundError(userId);
  if (user.policy.ownVols.includes(volume)) throw new IsOwnerError(userId);
  return user;
}

/** Replaces the user's grants on the vol, as AddAuthorizedVol does. */
export function applyUpdatePolicy(model: ModelView, cmd: CommandOf<'user.updatePolicy'>): Success<UserRecord> {
  const user = grantee(model, cmd.userId, cmd.volume);
  const authorizedVols = new Map(user.policy.authorizedVols);
  authorizedVols.set(cmd.volume, keptGrants(cmd.actions));
  const next: UserRecord = { ...user, policy: { ...user.policy, authorizedVols } };
  return { value: next, changes: [{ kind: 'user', op: 'put', record: next }] };
}

export function applyRemovePolicy(model: ModelView, cmd: CommandOf<'user.removePolicy'>): Success<UserRecord> {
  const user = grantee(model, cmd.userId, cmd.volume);
  if (!user.policy.authorizedVols.has(cmd.volume)) return { value: user, changes: [] };
  const next = withoutGrant(user, cmd.volume);
  return { value: next, changes: [{ kind: 'user', op: 'put', record: next }] };
}
