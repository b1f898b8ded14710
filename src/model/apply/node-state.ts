// Node state changes after registration: read-only flag and removal at the end of a
// decommission (spec 1.5 `/admin/setNodeRdOnly`, `/metaNode/decommission`, `/dataNode/decommission`).

import type { Change } from '../changes.js';
import type { CommandOf } from '../commands.js';
import { DataNodeNotFoundError, MetaNodeNotFoundError, StaleProposalError } from '../errors.js';
import type { DataNodeRecord, MetaNodeRecord, ModelView } from '../state.js';
import { dataNodeByAddr, metaNodeByAddr } from '../state.js';
import type { Success } from './results.js';

function nodeAt(model: ModelView, kind: 'meta' | 'data', addr: string): MetaNodeRecord | DataNodeRecord {
  const node = kind === 'meta' ? metaNodeByAddr(model, addr) : dataNodeByAddr(model, addr);
  if (node === undefined) throw kind === 'meta' ? new MetaNodeNotFoundError(addr) : new DataNodeNotFoundError(addr);
  return node;
}

export function applyNodeSetRdOnly(model: ModelView, cmd: CommandOf<'node.setRdOnly'>): Success<{ addr: string; rdOnly: boolean }> {
  const node = nodeAt(model, cmd.kind, cmd.addr);
  const value = { addr: cmd.addr, rdOnly: cmd.rdOnly };
  if (node.rdOnly === cmd.rdOnly) return { value, changes: [] };
  const change: Change =
    cmd.kind === 'meta'
      ? { kind: 'metaNode', op: 'put', record: { ...(node), rdOnly: cmd.rdOnly } }
      : { kind: 'dataNode', op: 'put', record: { ...(node as DataNodeRecord), rdOnly: cmd.rdOnly } };
  return { value, changes: [change] };
}

/** Refused while the node still holds a replica: a decommission moves them all first. */
export function applyNodeRemove(model: ModelView, cmd: CommandOf<'node.remove'>): Success<{ addr: string; removed: boolean }> {
  const node = cmd.kind === 'meta' ? metaNodeByAddr(model, cmd.addr) : dataNodeByAddr(model, cmd.addr);
  if (node === undefined) return { value: { addr: cmd.addr, removed: false }, changes: [] };
  const held = (cmd.kind === 'meta' ? model.index.replicasByMetaNode : model.index.replicasByDataNode).get(node.id) ?? 0;
  if (held > 0) throw new StaleProposalError(`${cmd.kind} node ${cmd.addr} still holds ${held} replicas`);
  // A create in progress may have placed partitions there (not counted until its commit): the
  // commit would then name a node that is gone. O(partitions of open intents).
  for (const intent of model.volIntents.values()) {
    const planned = cmd.kind === 'meta' ? intent.metaPartitions : intent.dataPartitions;
    if (planned.some((p) => p.peers.some((peer) => peer.nodeId === node.id))) {
      throw new StaleProposalError(`${cmd.kind} node ${cmd.addr} holds replicas of vol ${intent.vol.name}, still being created`);
    }
  }
  const change: Change = cmd.kind === 'meta' ? { kind: 'metaNode', op: 'del', id: node.id, addr: node.addr } : { kind: 'dataNode', op: 'del', id: node.id, addr: node.addr };
  return { value: { addr: cmd.addr, removed: true }, changes: [change] };
}
