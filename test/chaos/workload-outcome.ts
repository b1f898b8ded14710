// How one workload operation goes over HTTP, and what its reply means for the history
// (src/api/errors.ts has the table of replies):
//
// - HTTP 200 + code 0: ok; the output carries what the model checks (description, id, flag).
// - HTTP 200 + a code that answers the request about its key (45 duplicate user on create; 46
//   user not exists on update, delete, info; 13 / 12 meta / data node not exists on get; 7 vol
//   not exists, 34 authKey mismatch, and 2 for an expand that does not grow the vol): a definite
//   failure, checked by the model too.
// - code 1 on a vol route, told apart by its text (domain-vol-model.ts): "duplicate vol" on a
//   create, "err:vol not exists" (the vol is marked for deletion) on update and expand, the
//   cluster frozen on a create, and any other "action[createVol]" failure (placement or node
//   work: nothing was made): definite. "internal error (reqId ...)" (a bug) stays indeterminate.
// - a create refused before or between its proposals (any "rejected" reply below, and a frozen
//   cluster) is kept as `notCreated`: it made no vol, but its begin may have left an intent.
// - rejected before anything was proposed, so it took no effect: a refused connection, 429
//   (backpressure), 400 ("no leader" or a leader addr: the member did not propose), and 503
//   without `x-cubemaster-outcome: unknown` (the request gate, or leadership moving). These
//   are left out of the history like Jepsen's :fail.
// - anything else is indeterminate: a timeout, a reset connection, 502 (forward failed), a
//   503 with `x-cubemaster-outcome: unknown` (proposed, then abandoned by a stop), code 4 (Raft
//   timeout or dropped proposal), code 1, and any code the request should never get. A write
//   may or may not have taken effect; a read says nothing.

import { createHash } from 'node:crypto';
import type { CfsReply } from '../integration/cfs-client.js';
import { DEFINITE_CODES, type CubeInput, type CubeOutput } from './cubefs-model.js';
import type { VolRefusal } from './domain-vol-model.js';
import { unreachable } from '../../src/util/assert.js';

export interface WorkloadRequest {
  /** Path and query, e.g. `/user/info?user=u1`. */
  readonly pathAndQuery: string;
  /** A JSON body (POST); undefined for a GET. */
  readonly body?: Readonly<Record<string, unknown>>;
}

export type Outcome =
  | { readonly outcome: 'ok' | 'failed'; readonly output: CubeOutput; readonly kind: string }
  | { readonly outcome: 'indeterminate' | 'rejected'; readonly kind: string };

/** src/api/errors.ts OUTCOME_HEADER: a 503 whose write was proposed before the stop abandoned it. */
const OUTCOME_HEADER = 'x-cubemaster-outcome';

/** The vol authKey the routes check: md5 of the owner, hex (src/cluster/auth-key.ts). */
export function authKeyOf(owner: string): string {
  return createHash('md5').update(owner).digest('hex');
}

/** Data partition size of workload vols (GB): the smallest the route takes (> 10). */
export const WORKLOAD_DP_SIZE_GB = 11;

export function requestFor(input: CubeInput): WorkloadRequest {
  const q = (path: string, params: Record<string, string>): WorkloadRequest => ({ pathAndQuery: `${path}?${new URLSearchParams(params).toString()}` });
  switch (input.f) {
    case 'user.create':
      // type 2: admin (1 root is refused). No description field at all when there is none.
      return { pathAndQuery: '/user/create', body: input.description === '' ? { id: input.userId, type: 2 } : { id: input.userId, type: 2, description: input.description } };
    case 'user.update':
      return { pathAndQuery: '/user/update', body: { user_id: input.userId, description: input.description } };
    case 'user.delete':
      return q('/user/delete', { user: input.userId });
    case 'user.info':
      return q('/user/info', { user: input.userId });
    case 'metaNode.add':
      return q('/metaNode/add', { addr: input.addr, zoneName: 'default' });
    case 'metaNode.get':
      return q('/metaNode/get', { addr: input.addr });
    case 'cluster.freeze':
      return q('/cluster/freeze', { enable: String(input.enable) });
    case 'cluster.get':
      return { pathAndQuery: '/admin/getCluster' };
    case 'dataNode.add':
      return q('/dataNode/add', { addr: input.addr, zoneName: 'default', mediaType: '1' });
    case 'dataNode.get':
      return q('/dataNode/get', { addr: input.addr });
    case 'vol.create':
      return q('/admin/createVol', {
        name: input.name,
        owner: input.owner,
        capacity: String(input.capacity),
        mpCount: '3',
        dpCount: '3',
        replicaNum: String(input.replicaNum),
        dpSize: String(WORKLOAD_DP_SIZE_GB),
        description: input.description,
      });
    case 'vol.get':
      return q('/admin/getVol', { name: input.name });
    case 'vol.update':
      return q('/vol/update', { name: input.name, authKey: authKeyOf(input.owner), capacity: String(input.capacity), description: input.description });
    case 'vol.expand':
      return q('/vol/expand', { name: input.name, authKey: authKeyOf(input.owner), capacity: String(input.capacity) });
    case 'vol.delete':
      return q('/vol/delete', { name: input.name, authKey: authKeyOf(input.owner) });
    case 'vol.removal':
      throw new Error('vol.removal is not a request: the leader removes marked vols by itself');
    default:
      return unreachable(input, 'cubefs input');
  }
}

/** The codes that are a definite answer to this operation (see the header). */
function definiteCodes(input: CubeInput): readonly number[] {
  switch (input.f) {
    case 'user.create':
      return [DEFINITE_CODES.duplicateUser];
    case 'user.update':
    case 'user.delete':
    case 'user.info':
      return [DEFINITE_CODES.userNotExists];
    case 'metaNode.get':
      return [DEFINITE_CODES.metaNodeNotExists];
    case 'dataNode.get':
      return [DEFINITE_CODES.dataNodeNotExists];
    case 'vol.get':
      return [DEFINITE_CODES.volNotExists];
    case 'vol.update':
    case 'vol.delete':
      return [DEFINITE_CODES.volNotExists, DEFINITE_CODES.authKeyMismatch];
    case 'vol.expand':
      return [DEFINITE_CODES.volNotExists, DEFINITE_CODES.authKeyMismatch, DEFINITE_CODES.paramError];
    case 'metaNode.add':
    case 'dataNode.add':
    case 'cluster.freeze':
    case 'cluster.get':
    case 'vol.create':
    case 'vol.removal':
      return [];
    default:
      return unreachable(input, 'cubefs input');
  }
}

/** What a code-1 reply of a vol route means, from its text (src/model/errors.ts, src/cluster/vols.ts); null: nothing definite. */
function volRefusal(input: CubeInput, msg: string): VolRefusal | null {
  if (/internal error \(reqId/.test(msg)) return null;
  if (input.f === 'vol.create') {
    if (/err:duplicate vol/.test(msg)) return 'duplicate';
    if (/the cluster is frozen|domain operations are stopped|too many domain operations/.test(msg)) return 'notCreated';
    if (msg.startsWith('action[createVol]')) return 'createFailed';
    return null;
  }
  if ((input.f === 'vol.update' || input.f === 'vol.expand') && /err:vol not exists/.test(msg)) return 'markedDelete';
  return null;
}

export function classifyReply(input: CubeInput, reply: CfsReply): Outcome {
  return forCreate(input, classifyReplyAs(input, reply));
}

function classifyReplyAs(input: CubeInput, reply: CfsReply): Outcome {
  if (reply.status === 400 || reply.status === 429 || (reply.status === 503 && reply.headers[OUTCOME_HEADER] !== 'unknown')) {
    return { outcome: 'rejected', kind: `http ${reply.status}` };
  }
  if (reply.status !== 200) return { outcome: 'indeterminate', kind: `http ${reply.status}${reply.headers[OUTCOME_HEADER] === 'unknown' ? ' outcome unknown' : ''}` };
  const envelope = reply.envelope;
  if (envelope === null) return { outcome: 'indeterminate', kind: 'malformed reply' };
  if (envelope.code !== 0) {
    const kind = `code ${envelope.code}`;
    if (envelope.code === 1 && input.f.startsWith('vol.')) {
      const reason = volRefusal(input, typeof envelope.msg === 'string' ? envelope.msg : '');
      if (reason !== null) return { outcome: 'failed', output: { kind: 'volRefused', reason }, kind: `code 1 ${reason}` };
    }
    return definiteCodes(input).includes(envelope.code)
      ? { outcome: 'failed', output: { kind: 'error', code: envelope.code }, kind }
      : { outcome: 'indeterminate', kind };
  }
  const output = decodeData(input, envelope.data);
  return output === null ? { outcome: 'indeterminate', kind: 'malformed reply' } : { outcome: 'ok', output, kind: 'ok' };
}

/**
 * A create is begin, node work, commit: a refusal may come after the begin left an intent, so
 * it is not left out of the history but kept as a definite "no vol made" (see the header).
 */
function forCreate(input: CubeInput, outcome: Outcome): Outcome {
  if (input.f !== 'vol.create' || outcome.outcome !== 'rejected') return outcome;
  return { outcome: 'failed', output: { kind: 'volRefused', reason: 'notCreated' }, kind: outcome.kind };
}

/** A connection error or our own timeout (cfs-client destroys the request with "timed out"). */
export function classifyError(error: unknown, input?: CubeInput): Outcome {
  const outcome = classifyErrorAs(error);
  return input === undefined ? outcome : forCreate(input, outcome);
}

function classifyErrorAs(error: unknown): Outcome {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  // Nothing listened: the request never reached a master.
  if (code === 'ECONNREFUSED') return { outcome: 'rejected', kind: 'error ECONNREFUSED' };
  if (typeof code === 'string') return { outcome: 'indeterminate', kind: `error ${code}` };
  const message = error instanceof Error ? error.message : String(error);
  return { outcome: 'indeterminate', kind: /timed out/.test(message) ? 'timeout' : `error ${message.slice(0, 60)}` };
}

/** The decoding boundary: `data` of a code-0 envelope into the output the model checks. */
function decodeData(input: CubeInput, data: unknown): CubeOutput | null {
  const record = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : null;
  switch (input.f) {
    case 'user.create':
    case 'user.update':
    case 'user.info': {
      const userId = record?.user_id;
      const description = record?.description;
      return typeof userId === 'string' && typeof description === 'string' ? { kind: 'user', userId, description } : null;
    }
    case 'user.delete':
    case 'cluster.freeze':
      return { kind: 'done' };
    case 'metaNode.add':
      // A bare number: the SDK parses it with strconv.ParseUint (spec 8.2).
      return typeof data === 'number' ? { kind: 'metaNode', addr: input.addr, id: data } : null;
    case 'metaNode.get': {
      const addr = record?.Addr;
      const id = record?.ID;
      return typeof addr === 'string' && typeof id === 'number' ? { kind: 'metaNode', addr, id } : null;
    }
    case 'dataNode.add':
      return typeof data === 'number' ? { kind: 'dataNode', addr: input.addr, id: data } : null;
    case 'dataNode.get': {
      const addr = record?.Addr;
      const id = record?.ID;
      return typeof addr === 'string' && typeof id === 'number' ? { kind: 'dataNode', addr, id } : null;
    }
    case 'vol.create':
    case 'vol.update':
    case 'vol.expand':
    case 'vol.delete':
      return { kind: 'done' };
    case 'vol.get': {
      // SimpleVolView (src/model/vol-views.ts); its 64-bit counters are not read here.
      const v = { name: record?.Name, owner: record?.Owner, capacity: record?.Capacity, replicaNum: record?.DpReplicaNum, description: record?.Description, status: record?.Status };
      return typeof v.name === 'string' &&
        typeof v.owner === 'string' &&
        typeof v.capacity === 'number' &&
        typeof v.replicaNum === 'number' &&
        typeof v.description === 'string' &&
        typeof v.status === 'number'
        ? { kind: 'vol', name: v.name, owner: v.owner, capacity: v.capacity, replicaNum: v.replicaNum, description: v.description, status: v.status }
        : null;
    }
    case 'vol.removal':
      return null;
    case 'cluster.get': {
      // ClusterView prints the flag as DisableAutoAlloc (views.ts, spec 1.6).
      const frozen = record?.DisableAutoAlloc;
      return typeof frozen === 'boolean' ? { kind: 'cluster', frozen } : null;
    }
    default:
      return unreachable(input, 'cubefs input');
  }
}
