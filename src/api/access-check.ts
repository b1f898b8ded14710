// Enforcement of a route's access rule (access-rules.ts) for one request: `open` and `authKey`
// pass here (the handler checks the authKey in Go's order); the signed rules verify the
// request's signature (root-auth.ts) and the signer's user type, and refuse with code 57 and a
// message that names the route, what it needs and what was wrong.

import type { FastifyRequest } from 'fastify';
import type { ModelView } from '../model/index.js';
import { NoPermissionError } from '../model/errors.js';
import { UserType } from '../model/state.js';
import { CubeCode, OperatingError } from '../util/errors.js';
import type { AccessRule, SelfParam } from './access-rules.js';
import { SIGNER_TYPES } from './access-rules.js';
import type { Params } from './params.js';
import { verifySigner } from './root-auth.js';

/** 57, as NoPermissionError, with the reason in the message (Go's text is only "no permission"). */
export class AccessRefusedError extends OperatingError {
  constructor(
    readonly route: string,
    readonly rule: AccessRule,
    readonly detail: string,
  ) {
    super(CubeCode.NoPermission, `no permission: ${route} needs a request signed by ${WHO[rule]}: ${detail}`);
  }
}

const WHO: Readonly<Record<AccessRule, string>> = {
  open: 'anyone',
  authKey: 'anyone',
  'self-or-admin': 'the user it is about, an admin or root',
  admin: 'an admin or root',
  root: 'the root user',
};

const TYPE_NAMES: Readonly<Record<number, string>> = { [UserType.Root]: 'root', [UserType.Admin]: 'admin', [UserType.Normal]: 'normal' };

export interface AccessRequest {
  readonly route: string;
  readonly rule: AccessRule;
  readonly self: SelfParam | undefined;
  readonly request: FastifyRequest;
  readonly params: Params;
  readonly model: ModelView;
  readonly nowMs: number;
}

/** Throws AccessRefusedError (57) unless the request may call the route; returns the signer's id ('' unsigned). */
export function checkAccess(a: AccessRequest): string {
  if (a.rule === 'open' || a.rule === 'authKey') return '';
  const body = Buffer.isBuffer(a.request.body) ? a.request.body : undefined;
  let signer;
  try {
    signer = verifySigner(a.model, a.request.headers, { method: a.request.method, pathAndQuery: a.request.raw.url ?? '', body }, a.nowMs);
  } catch (e) {
    if (e instanceof NoPermissionError) throw new AccessRefusedError(a.route, a.rule, e.detail);
    throw e;
  }
  if (a.rule === 'self-or-admin' && a.self !== undefined) {
    const subject = subjectOf(a.self, a.params, a.model);
    if (subject === signer.userId) return signer.userId;
    // Root's secret key would make any admin root: root's record is root's alone.
    if (a.model.users.get(subject)?.userType === UserType.Root) throw new AccessRefusedError(a.route, a.rule, `the root user's record is shown to root only, not to ${signer.userId}`);
  }
  if (SIGNER_TYPES[a.rule].includes(signer.userType)) return signer.userId;
  throw new AccessRefusedError(a.route, a.rule, `user ${signer.userId} is a ${TYPE_NAMES[signer.userType] ?? 'unknown'} user`);
}

/** The user a `self-or-admin` request is about ('' when it names none, which matches nobody). */
function subjectOf(self: SelfParam, params: Params, model: ModelView): string {
  if (self === 'user') return params.get('user') ?? '';
  const ak = params.get('ak');
  return ak === undefined ? '' : (model.accessKeys.get(ak)?.userId ?? '');
}
