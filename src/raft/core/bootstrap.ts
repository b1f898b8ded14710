// The first log of a new cluster: one add-voter entry per initial member, committed by
// construction (every initial member writes the same entries), so the configuration lives in
// the log like every later change and survives restarts without outside help.
import { assert } from '../../util/assert.js';
import { ConfChangeType, encodeConfChange } from './conf-change.js';
import { EntryType, NONE, type Entry, type HardState, type NodeId } from './types.js';

export interface BootstrapState {
  readonly entries: readonly Entry[];
  readonly hardState: HardState;
}

/** Every initial member must call this with the same ids (order does not matter). */
export function bootstrapLog(voters: readonly NodeId[], contextOf: (id: NodeId) => Uint8Array = () => new Uint8Array(0)): BootstrapState {
  assert(voters.length > 0, 'bootstrap needs at least one voter');
  const ids = [...new Set(voters)].sort((a, b) => a - b);
  assert(ids.length === voters.length, 'bootstrap voters must be distinct');
  const entries = ids.map(
    (nodeId, i): Entry => ({
      term: 1,
      index: i + 1,
      type: EntryType.ConfChange,
      data: encodeConfChange({ type: ConfChangeType.AddVoter, nodeId, context: contextOf(nodeId) }),
    }),
  );
  return { entries, hardState: { term: 1, vote: NONE, commit: entries.length } };
}
