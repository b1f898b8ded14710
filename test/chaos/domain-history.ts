// What the leader does to vols by itself, written into a recorded history before it is checked
// (domain-vol-model.ts explains the model):
//
// - removal: for every delete that may have marked a vol (acknowledged, or its answer lost), a
//   `vol.removal` of that name, indeterminate from the delete's call on: the cleanup sweep
//   removes a marked vol at some later time, or the history ends first. They are numbered per
//   name in call order (`seq`): the model uses them in that order (domain-vol-model.ts).
// - intents: a create reserves its name from its begin to its commit or abort; getVol shows the
//   vol of the create meanwhile, no other view does. A "duplicate vol" answer to create B is
//   marked `intentMayHold` when some other create A may have held an intent during B, and a
//   getVol answer B that shows the fields of a create A (owner, capacity, replicas and its
//   unique description) is marked `intentMayShow` when A may have held one during B:
//     A was called before B returned, and
//     - A was acknowledged and returned after B was called (its begin..commit window may
//       overlap B), or
//     - A failed or was refused (its begin may have left an intent that the rollback or the
//       sweep drops later), unless an acknowledged create was called after A returned and
//       returned before B was called (its begin proves the name free, and A's intent gone), or
//     - A's answer was lost (its begin may have applied at any time after its call).
//   Duplicate answers, and creates that the model cannot see made a vol (frozen), never hold one.
//   One thing is left unmarked on purpose: a create's own intent. A create whose commit is
//   refused with NotLeader is forwarded (src/api/route.ts) to the new leader, which may find the
//   create's own intent and answer "duplicate vol" although no vol exists or will: a wrong
//   answer, which the check then reports.

import type { CubeOperation } from './cubefs-model.js';
import type { VolInput } from './domain-vol-model.js';
import { isUnknownOutput, UNKNOWN_OUTPUT } from './lincheck/operation.js';

/** The lane the background removals are drawn in. */
export const REMOVAL_CLIENT_ID = -2;

type CreateOp = CubeOperation & { readonly input: Extract<VolInput, { f: 'vol.create' }> };
type GetOp = CubeOperation & { readonly input: Extract<VolInput, { f: 'vol.get' }> };

function isCreate(op: CubeOperation): op is CreateOp {
  return op.input.f === 'vol.create';
}

function createAnswer(op: CreateOp): 'ok' | 'duplicate' | 'noVol' | 'unknown' {
  if (isUnknownOutput(op.output)) return 'unknown';
  if (op.output.kind === 'done') return 'ok';
  if (op.output.kind === 'volRefused' && op.output.reason === 'duplicate') return 'duplicate';
  return 'noVol';
}

/** The history with intents marked on duplicate answers and a removal per delete; sorted by call. */
export function withDomainEffects(history: readonly CubeOperation[]): CubeOperation[] {
  const createsByName = new Map<string, CreateOp[]>();
  for (const op of history) {
    if (!isCreate(op)) continue;
    const list = createsByName.get(op.input.name) ?? [];
    list.push(op);
    createsByName.set(op.input.name, list);
  }
  const out: CubeOperation[] = [];
  const removalsByName = new Map<string, number>();
  const until = intentDeadlines(createsByName);
  for (const op of [...history].sort((x, y) => x.call - y.call)) {
    const creates = createsByName.get('name' in op.input ? op.input.name : '') ?? [];
    if (isCreate(op) && createAnswer(op) === 'duplicate' && creates.some((a) => a !== op && intentMayHoldDuring(a, op, until))) {
      out.push({ ...op, input: { ...op.input, intentMayHold: true } });
      continue;
    }
    if (isGet(op) && creates.some((a) => showsCreate(op, a) && intentMayHoldDuring(a, op, until))) {
      out.push({ ...op, input: { ...op.input, intentMayShow: true } });
      continue;
    }
    out.push(op);
    if (op.input.f === 'vol.delete' && (isUnknownOutput(op.output) || op.output.kind === 'done')) {
      const seq = removalsByName.get(op.input.name) ?? 0;
      removalsByName.set(op.input.name, seq + 1);
      out.push({ clientId: REMOVAL_CLIENT_ID, input: { f: 'vol.removal', name: op.input.name, seq }, call: op.call, return: Number.POSITIVE_INFINITY, output: UNKNOWN_OUTPUT });
    }
  }
  return out.sort((a, b) => a.call - b.call);
}

function isGet(op: CubeOperation): op is GetOp {
  return op.input.f === 'vol.get';
}

/** Whether get `b` answered with the fields create `a` asked for (a vol as its intent holds it). */
function showsCreate(b: GetOp, a: CreateOp): boolean {
  const out = b.output;
  if (isUnknownOutput(out) || out.kind !== 'vol') return false;
  const i = a.input;
  return out.status === 0 && out.owner === i.owner && out.capacity === i.capacity && out.replicaNum === i.replicaNum && out.description === i.description;
}

/**
 * For each create that may have left an intent behind (failed or refused after its call): the
 * time by which an acknowledged create called after it returned proves that intent gone (the
 * earliest such return), or Infinity.
 */
function intentDeadlines(createsByName: ReadonlyMap<string, readonly CreateOp[]>): Map<CreateOp, number> {
  const until = new Map<CreateOp, number>();
  for (const creates of createsByName.values()) {
    const acknowledged = creates.filter((c) => createAnswer(c) === 'ok');
    for (const a of creates) {
      if (createAnswer(a) !== 'noVol') continue;
      let deadline = Number.POSITIVE_INFINITY;
      for (const c of acknowledged) if (c.call > a.return && c.return < deadline) deadline = c.return;
      until.set(a, deadline);
    }
  }
  return until;
}

/** Whether create `a`'s intent may have existed while operation `b` ran (the rules in the header). */
function intentMayHoldDuring(a: CreateOp, b: CubeOperation, until: ReadonlyMap<CreateOp, number>): boolean {
  if (a.call >= b.return) return false;
  switch (createAnswer(a)) {
    case 'ok':
      return a.return > b.call;
    case 'noVol':
      return b.call <= (until.get(a) ?? Number.POSITIVE_INFINITY);
    case 'unknown':
      return true;
    case 'duplicate':
      return false;
  }
}
