// How one workload operation goes over HTTP, and what its reply means for the history
// (src/api/errors.ts has the table of replies):
//
// - HTTP 200 + code 0: ok; the output carries what the model checks (description, id, flag).
// - HTTP 200 + a code that answers the request about its key (45 duplicate user on create; 46
//   user not exists on update, delete, info; 13 meta node not exists on get): a definite
//   failure, checked by the model too.
// - rejected before anything was proposed, so it took no effect: a refused connection, 429
//   (backpressure), 400 ("no leader" or a leader addr: the member did not propose), and 503
//   without `x-cubemaster-outcome: unknown` (the request gate, or leadership moving). These
//   are left out of the history like Jepsen's :fail.
// - anything else is indeterminate: a timeout, a reset connection, 502 (forward failed), a
//   503 with `x-cubemaster-outcome: unknown` (proposed, then abandoned by a stop), code 4 (Raft
//   timeout or dropped proposal), code 1, and any code the request should never get. A write
//   may or may not have taken effect; a read says nothing.

import type { CfsReply } from '../integration/cfs-client.js';
import { DEFINITE_CODES, type CubeInput, type CubeOutput } from './cubefs-model.js';
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
    case 'metaNode.add':
    case 'cluster.freeze':
    case 'cluster.get':
      return [];
    default:
      return unreachable(input, 'cubefs input');
  }
}

export function classifyReply(input: CubeInput, reply: CfsReply): Outcome {
  if (reply.status === 400 || reply.status === 429 || (reply.status === 503 && reply.headers[OUTCOME_HEADER] !== 'unknown')) {
    return { outcome: 'rejected', kind: `http ${reply.status}` };
  }
  if (reply.status !== 200) return { outcome: 'indeterminate', kind: `http ${reply.status}${reply.headers[OUTCOME_HEADER] === 'unknown' ? ' outcome unknown' : ''}` };
  const envelope = reply.envelope;
  if (envelope === null) return { outcome: 'indeterminate', kind: 'malformed reply' };
  if (envelope.code !== 0) {
    const kind = `code ${envelope.code}`;
    return definiteCodes(input).includes(envelope.code)
      ? { outcome: 'failed', output: { kind: 'error', code: envelope.code }, kind }
      : { outcome: 'indeterminate', kind };
  }
  const output = decodeData(input, envelope.data);
  return output === null ? { outcome: 'indeterminate', kind: 'malformed reply' } : { outcome: 'ok', output, kind: 'ok' };
}

/** A connection error or our own timeout (cfs-client destroys the request with "timed out"). */
export function classifyError(error: unknown): Outcome {
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
    case 'cluster.get': {
      // ClusterView prints the flag as DisableAutoAlloc (views.ts, spec 1.6).
      const frozen = record?.DisableAutoAlloc;
      return typeof frozen === 'boolean' ? { kind: 'cluster', frozen } : null;
    }
    default:
      return unreachable(input, 'cubefs input');
  }
}
