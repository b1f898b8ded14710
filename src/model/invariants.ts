// Whole-model consistency checks: run after start-up loading and in tests. O(state); never on
// the apply path. Returns the list of problems (empty when consistent) rather than throwing, so
// a caller can report all of them at once.

import type { ModelView } from './state.js';

export function checkModel(model: ModelView): string[] {
  const problems: string[] = [];
  const maxCommonId = model.counters.common;

  for (const set of model.nodeSets.values()) {
    if (!model.zones.has(set.zoneName)) problems.push(`node set ${set.id}: zone ${set.zoneName} missing`);
    if (set.id > maxCommonId) problems.push(`node set ${set.id}: id above #max_common_id ${maxCommonId}`);
  }
  const nodes = [
    ...[...model.metaNodes.values()].map((n) => ({ kind: 'meta node', n, byAddr: model.index.metaNodeIdByAddr })),
    ...[...model.dataNodes.values()].map((n) => ({ kind: 'data node', n, byAddr: model.index.dataNodeIdByAddr })),
  ];
  const seenIds = new Map<number, string>();
  for (const set of model.nodeSets.values()) seenIds.set(set.id, `node set ${set.id}`);
  for (const { kind, n, byAddr } of nodes) {
    const what = `${kind} ${n.id} (${n.addr})`;
    const set = model.nodeSets.get(n.nodeSetId);
    if (set === undefined) problems.push(`${what}: node set ${n.nodeSetId} missing`);
    else if (set.zoneName !== n.zoneName) problems.push(`${what}: zone ${n.zoneName} but node set in ${set.zoneName}`);
    if (!model.zones.has(n.zoneName)) problems.push(`${what}: zone ${n.zoneName} missing`);
    if (n.id > maxCommonId) problems.push(`${what}: id above #max_common_id ${maxCommonId}`);
    if (byAddr.get(n.addr) !== n.id) problems.push(`${what}: addr index says ${byAddr.get(n.addr)}`);
    const other = seenIds.get(n.id);
    if (other !== undefined) problems.push(`${what}: id also used by ${other}`);
    seenIds.set(n.id, what);
  }
  if (model.index.metaNodeIdByAddr.size !== model.metaNodes.size) problems.push('meta node addr index size differs');
  if (model.index.dataNodeIdByAddr.size !== model.dataNodes.size) problems.push('data node addr index size differs');

  for (const [zoneName, room] of model.index.roomByZone) {
    for (const kind of ['meta', 'data'] as const) {
      for (const id of room[kind]) {
        const set = model.nodeSets.get(id);
        const members = model.index.nodeSetMembers.get(id)?.[kind].size ?? 0;
        if (set === undefined || set.zoneName !== zoneName || members >= set.capacity) {
          problems.push(`room index: node set ${id} listed for ${kind} nodes in zone ${zoneName} wrongly`);
        }
      }
    }
  }

  for (const set of model.nodeSets.values()) {
    const room = model.index.roomByZone.get(set.zoneName);
    const m = model.index.nodeSetMembers.get(set.id);
    for (const kind of ['meta', 'data'] as const) {
      const hasRoom = (m?.[kind].size ?? 0) < set.capacity;
      if (hasRoom !== (room?.[kind].includes(set.id) ?? false)) {
        problems.push(`room index: node set ${set.id} ${hasRoom ? 'missing' : 'listed'} for ${kind} nodes`);
      }
    }
  }

  for (const user of model.users.values()) {
    const ak = model.accessKeys.get(user.accessKey);
    if (ak === undefined) problems.push(`user ${user.userId}: access key record missing`);
    else if (ak.userId !== user.userId) problems.push(`user ${user.userId}: access key held by ${ak.userId}`);
  }
  for (const ak of model.accessKeys.values()) {
    const user = model.users.get(ak.userId);
    if (user === undefined || user.accessKey !== ak.accessKey) {
      problems.push(`access key ${ak.accessKey}: no user ${ak.userId} holding it`);
    }
  }
  return problems;
}
