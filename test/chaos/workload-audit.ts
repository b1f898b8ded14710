// The final audit of a workload run: once the clients stopped and the cluster healed, read every
// key once and append those reads to the history. The checker then decides whether the final
// state is one the acknowledged operations allow (an acknowledged create not deleted later must
// be there with its description, an acknowledged meta or data node with its id, a vol as last
// written or gone after a delete, the flag as last set), with the same model and no
// hand-written "final state candidates".

import { cfsRequest } from '../integration/cfs-client.js';
import type { CubeInput, CubeOperation } from './cubefs-model.js';
import { isUnknownOutput } from './lincheck/operation.js';
import type { WorkloadKeys } from './workload.js';
import { classifyError, classifyReply, requestFor, type Outcome } from './workload-outcome.js';

/** The lane the final reads are drawn in. */
export const AUDIT_CLIENT_ID = -1;

/**
 * One read per key (users, meta and data nodes, vols, the flag) through `url`, one after the other, as
 * operations to append to the history. Throws when one has no definite answer: the audit needs
 * an available cluster.
 */
export async function readFinalState(url: string, keys: WorkloadKeys, requestTimeoutMs: number): Promise<CubeOperation[]> {
  const inputs: CubeInput[] = [
    ...keys.userIds.map((userId): CubeInput => ({ f: 'user.info', userId })),
    ...keys.metaNodeAddrs.map((addr): CubeInput => ({ f: 'metaNode.get', addr })),
    ...keys.dataNodeAddrs.map((addr): CubeInput => ({ f: 'dataNode.get', addr })),
    ...keys.volNames.map((name): CubeInput => ({ f: 'vol.get', name })),
    { f: 'cluster.get' },
  ];
  const reads: CubeOperation[] = [];
  for (const input of inputs) {
    const request = requestFor(input);
    const call = performance.now();
    let outcome: Outcome;
    try {
      outcome = classifyReply(input, await cfsRequest(url, request.pathAndQuery, { timeoutMs: requestTimeoutMs }));
    } catch (error) {
      outcome = classifyError(error, input);
    }
    if (outcome.outcome !== 'ok' && outcome.outcome !== 'failed') throw new Error(`final read ${input.f} at ${url}: ${outcome.kind}`);
    reads.push({ clientId: AUDIT_CLIENT_ID, input, call, return: performance.now(), output: outcome.output });
  }
  return reads;
}

/**
 * The one rule the per-key model leaves out: two addrs never share a node id (meta and data
 * nodes take theirs from one counter). Returns a line per id held by more than one addr in the
 * final reads (empty when none).
 */
export function sharedMetaNodeIds(finalReads: readonly CubeOperation[]): string[] {
  const addrsById = new Map<number, string[]>();
  for (const op of finalReads) {
    if (isUnknownOutput(op.output) || (op.output.kind !== 'metaNode' && op.output.kind !== 'dataNode')) continue;
    const addrs = addrsById.get(op.output.id) ?? [];
    addrs.push(`${op.output.kind === 'metaNode' ? 'meta' : 'data'} node ${op.output.addr}`);
    addrsById.set(op.output.id, addrs);
  }
  return [...addrsById].filter(([, addrs]) => addrs.length > 1).map(([id, addrs]) => `node id ${id} held by ${addrs.join(', ')}`);
}
