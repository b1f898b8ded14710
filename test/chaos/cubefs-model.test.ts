import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCubefsModel, cubefsModel, type CubeInput, type CubeOperation, type CubeOutput, type CubeState } from './cubefs-model.js';
import { check } from './lincheck/check.js';
import { UNKNOWN_OUTPUT } from './lincheck/operation.js';

// History builders: `op(client, call, return, input, output)`; a return of Infinity makes the
// operation indeterminate (its output is then UNKNOWN_OUTPUT).
const U = 'alice';
const ADDR = '10.0.0.1:17210';

function op(clientId: number, call: number, ret: number, input: CubeInput, output?: CubeOutput): CubeOperation {
  if (ret === Infinity) return { clientId, call, return: ret, input, output: UNKNOWN_OUTPUT };
  assert.ok(output !== undefined, 'a determinate operation needs an output');
  return { clientId, call, return: ret, input, output };
}

const create = (c: number, call: number, ret: number, description: string, output: CubeOutput | 'ok' = 'ok'): CubeOperation =>
  op(c, call, ret, { f: 'user.create', userId: U, description }, output === 'ok' ? { kind: 'user', userId: U, description } : output);
const update = (c: number, call: number, ret: number, description: string, output: CubeOutput | 'ok' = 'ok'): CubeOperation =>
  op(c, call, ret, { f: 'user.update', userId: U, description }, output === 'ok' ? { kind: 'user', userId: U, description } : output);
const del = (c: number, call: number, ret: number, output: CubeOutput = { kind: 'done' }): CubeOperation => op(c, call, ret, { f: 'user.delete', userId: U }, output);
const info = (c: number, call: number, ret: number, description: string | null): CubeOperation =>
  op(c, call, ret, { f: 'user.info', userId: U }, description === null ? { kind: 'error', code: 46 } : { kind: 'user', userId: U, description });
const addNode = (c: number, call: number, ret: number, id?: number): CubeOperation =>
  op(c, call, ret, { f: 'metaNode.add', addr: ADDR }, id === undefined ? undefined : { kind: 'metaNode', addr: ADDR, id });
const getNode = (c: number, call: number, ret: number, id: number | null): CubeOperation =>
  op(c, call, ret, { f: 'metaNode.get', addr: ADDR }, id === null ? { kind: 'error', code: 13 } : { kind: 'metaNode', addr: ADDR, id });
const freeze = (c: number, call: number, ret: number, enable: boolean): CubeOperation => op(c, call, ret, { f: 'cluster.freeze', enable }, { kind: 'done' });
const getCluster = (c: number, call: number, ret: number, frozen: boolean): CubeOperation => op(c, call, ret, { f: 'cluster.get' }, { kind: 'cluster', frozen });

const DUPLICATE: CubeOutput = { kind: 'error', code: 45 };
const NO_USER: CubeOutput = { kind: 'error', code: 46 };

function verdict(history: CubeOperation[], model = cubefsModel): string {
  return check(model, history, { timeoutMs: 5000 }).verdict;
}

void describe('cubefs model: histories it accepts', () => {
  void it('accepts concurrent creates of one id where one gets 45 and the user holds the winner', () => {
    assert.equal(verdict([create(0, 0, 10, 'a'), create(1, 1, 9, 'b', DUPLICATE), info(2, 11, 12, 'a')]), 'linearizable');
    assert.equal(verdict([create(0, 0, 10, 'a', DUPLICATE), create(1, 1, 9, 'b'), info(2, 11, 12, 'b')]), 'linearizable');
  });

  void it('accepts an indeterminate create whether a later info sees it or not', () => {
    assert.equal(verdict([create(0, 0, Infinity, 'x'), info(1, 5, 6, 'x')]), 'linearizable');
    assert.equal(verdict([create(0, 0, Infinity, 'x'), info(1, 5, 6, null)]), 'linearizable');
    // Not applied yet, then applied.
    assert.equal(verdict([create(0, 0, Infinity, 'x'), info(1, 5, 6, null), info(1, 7, 8, 'x')]), 'linearizable');
    // A later create that got 45 proves it was applied, and the user holds its description.
    assert.equal(verdict([create(0, 0, Infinity, 'x'), create(1, 5, 6, 'y', DUPLICATE), info(1, 7, 8, 'x')]), 'linearizable');
  });

  void it('accepts reads on either side of a concurrent update, in real-time order', () => {
    const base = [create(0, 0, 1, 'a'), update(0, 2, 10, 'b')];
    assert.equal(verdict([...base, info(1, 3, 4, 'a'), info(1, 5, 6, 'b'), info(2, 7, 8, 'b'), info(2, 11, 12, 'b')]), 'linearizable');
    // Two readers overlapping each other and the update may see different values.
    assert.equal(verdict([...base, info(1, 3, 9, 'b'), info(2, 4, 9, 'a')]), 'linearizable');
  });

  void it('keeps the description on an update with an empty one, and answers 46 on an absent user', () => {
    assert.equal(verdict([update(0, 0, 1, 'b', NO_USER), create(0, 2, 3, 'a'), update(0, 4, 5, '', { kind: 'user', userId: U, description: 'a' }), info(0, 6, 7, 'a')]), 'linearizable');
  });

  void it('accepts delete, 46 on a second delete, and a create after it', () => {
    assert.equal(verdict([create(0, 0, 1, ''), del(0, 2, 3), del(1, 4, 5, NO_USER), info(1, 6, 7, null), create(1, 8, 9, 'again'), info(0, 10, 11, 'again')]), 'linearizable');
  });

  void it('accepts an indeterminate delete whether it happened or not', () => {
    assert.equal(verdict([create(0, 0, 1, 'a'), del(0, 2, Infinity), info(1, 3, 4, 'a'), info(1, 5, 6, null)]), 'linearizable');
    assert.equal(verdict([create(0, 0, 1, 'a'), del(0, 2, Infinity), info(1, 3, 4, 'a'), info(1, 5, 6, 'a')]), 'linearizable');
  });

  void it('accepts any first id for a meta node, then the same id from add and get', () => {
    assert.equal(verdict([getNode(0, 0, 1, null), addNode(0, 2, 3, 42), addNode(1, 4, 5, 42), getNode(1, 6, 7, 42)]), 'linearizable');
  });

  void it('accepts an indeterminate add whose id a later get or add reveals', () => {
    assert.equal(verdict([addNode(0, 0, Infinity), getNode(1, 2, 3, null), getNode(1, 4, 5, 9), addNode(2, 6, 7, 9)]), 'linearizable');
  });

  void it('accepts freeze and getCluster in real-time order, and concurrent ones either way', () => {
    assert.equal(verdict([getCluster(0, 0, 1, false), freeze(0, 2, 3, true), getCluster(1, 4, 5, true), freeze(1, 6, 10, false), getCluster(2, 7, 8, true), getCluster(2, 11, 12, false)]), 'linearizable');
  });

  void it('with an unknown initial flag, accepts a first read of either value, also one concurrent with a freeze', () => {
    const unknownStart = createCubefsModel({ initialFrozen: 'unknown' });
    assert.equal(verdict([getCluster(0, 0, 1, true), freeze(0, 2, 3, false), getCluster(1, 4, 5, false)], unknownStart), 'linearizable');
    // The long read saw the initial value before the freeze; the short one saw the freeze.
    assert.equal(verdict([getCluster(0, 0, 10, false), freeze(1, 1, 2, true), getCluster(2, 3, 4, true)], unknownStart), 'linearizable');
    assert.equal(verdict([getCluster(0, 0, 10, true), freeze(1, 1, 2, false), getCluster(2, 3, 4, false)], unknownStart), 'linearizable');
    // The read that began first saw the freeze: a model that forced it first as a read-only
    // operation would pin the initial flag to true and wrongly reject this history.
    assert.equal(verdict([getCluster(0, 0, 4, true), getCluster(1, 0.1, 10, false), freeze(2, 1, 2, true)], unknownStart), 'linearizable');
  });

  void it('checks every key on its own', () => {
    const createBob = op(1, 0, 1, { f: 'user.create', userId: 'bob', description: 'b' }, { kind: 'user', userId: 'bob', description: 'b' });
    const result = check(cubefsModel, [create(0, 0, 1, 'a'), createBob, info(2, 2, 3, 'a'), getNode(2, 4, 5, null), getCluster(2, 6, 7, false)]);
    assert.equal(result.verdict, 'linearizable');
    assert.equal(result.partitionCount, 4);
  });
});

void describe('cubefs model: histories it rejects', () => {
  void it('rejects a stale read: info shows the old description after an acknowledged update', () => {
    assert.equal(verdict([create(0, 0, 1, 'a'), update(0, 2, 3, 'b'), info(1, 4, 5, 'a')]), 'not-linearizable');
  });

  void it('rejects a lost acknowledged create: info answers 46 with no delete', () => {
    assert.equal(verdict([create(0, 0, 1, 'a'), info(1, 2, 3, null)]), 'not-linearizable');
  });

  void it('rejects an indeterminate create seen and then unseen', () => {
    assert.equal(verdict([create(0, 0, Infinity, 'x'), info(1, 5, 6, 'x'), info(1, 7, 8, null)]), 'not-linearizable');
  });

  void it('rejects a meta node whose id changes', () => {
    assert.equal(verdict([addNode(0, 0, 1, 7), getNode(1, 2, 3, 8)]), 'not-linearizable');
    assert.equal(verdict([addNode(0, 0, 1, 7), addNode(1, 2, 3, 8)]), 'not-linearizable');
    assert.equal(verdict([addNode(0, 0, Infinity), getNode(1, 2, 3, 7), getNode(1, 4, 5, 8)]), 'not-linearizable');
  });

  void it('rejects an acknowledged meta node that is then not found', () => {
    assert.equal(verdict([addNode(0, 0, 1, 7), getNode(1, 2, 3, null)]), 'not-linearizable');
  });

  void it('rejects a read of a description never written', () => {
    assert.equal(verdict([create(0, 0, 1, 'a'), update(1, 0, 5, 'b'), info(2, 2, 3, 'c')]), 'not-linearizable');
  });

  void it('rejects getCluster going back in time', () => {
    assert.equal(verdict([freeze(0, 0, 1, true), getCluster(1, 2, 3, true), getCluster(1, 4, 5, false)]), 'not-linearizable');
    // Concurrent with the freeze, a read may see either value, but not the new one then the old one.
    assert.equal(verdict([freeze(0, 0, 10, true), getCluster(1, 1, 2, true), getCluster(1, 3, 4, false)]), 'not-linearizable');
  });

  void it('rejects a frozen flag on a fresh cluster, unless the initial flag is unknown', () => {
    assert.equal(verdict([getCluster(0, 0, 1, true)]), 'not-linearizable');
    assert.equal(verdict([getCluster(0, 0, 1, true)], createCubefsModel({ initialFrozen: 'unknown' })), 'linearizable');
    assert.equal(verdict([getCluster(0, 0, 1, true), getCluster(0, 2, 3, false)], createCubefsModel({ initialFrozen: 'unknown' })), 'not-linearizable');
  });

  void it('rejects 45 for a user nobody created, and a user seen after an acknowledged delete', () => {
    assert.equal(verdict([create(0, 0, 1, 'a', DUPLICATE)]), 'not-linearizable');
    assert.equal(verdict([create(0, 0, 1, 'a'), del(0, 2, 3), info(1, 4, 5, 'a')]), 'not-linearizable');
  });

  void it("rejects an answer about another user or another addr", () => {
    assert.equal(verdict([create(0, 0, 1, 'a'), op(1, 2, 3, { f: 'user.info', userId: U }, { kind: 'user', userId: 'bob', description: 'a' })]), 'not-linearizable');
    assert.equal(verdict([addNode(0, 0, 1, 7), op(1, 2, 3, { f: 'metaNode.get', addr: ADDR }, { kind: 'metaNode', addr: '10.0.0.2:17210', id: 7 })]), 'not-linearizable');
  });
});

void describe('cubefs model: steps', () => {
  const inputs: CubeInput[] = [
    { f: 'user.create', userId: U, description: 'n' },
    { f: 'user.update', userId: U, description: 'n' },
    { f: 'user.delete', userId: U },
    { f: 'user.info', userId: U },
  ];
  const userStates: CubeState[] = [null, { kind: 'user', description: 'd' }];

  void it('accepts an unknown output in every state and leaves the state the write would', () => {
    const after = (state: CubeState, input: CubeInput): CubeState => {
      const result = cubefsModel.step(state, input, UNKNOWN_OUTPUT);
      assert.ok(result.ok);
      return result.state;
    };
    for (const state of userStates) for (const input of inputs) after(state, input);
    assert.deepEqual(after(null, inputs[0]), { kind: 'user', description: 'n' });
    assert.deepEqual(after(userStates[1], inputs[0]), userStates[1]);
    assert.deepEqual(after(userStates[1], inputs[1]), { kind: 'user', description: 'n' });
    assert.equal(after(userStates[1], inputs[2]), null);
    assert.deepEqual(after(null, { f: 'metaNode.add', addr: ADDR }), { kind: 'metaNode', id: null });
    assert.deepEqual(after({ kind: 'metaNode', id: 3 }, { f: 'metaNode.add', addr: ADDR }), { kind: 'metaNode', id: 3 });
    assert.deepEqual(after(null, { f: 'cluster.freeze', enable: true }), { kind: 'cluster', frozen: true });
  });

  void it('hashes distinct states differently', () => {
    const states: CubeState[] = [null, { kind: 'user', description: '' }, { kind: 'user', description: 'initial' }, { kind: 'metaNode', id: null }, { kind: 'metaNode', id: 1 }, { kind: 'cluster', frozen: false }];
    assert.equal(new Set(states.map((s) => cubefsModel.hash(s))).size, states.length);
  });

  void it('treats a user operation on a meta node state as a partition bug', () => {
    assert.throws(() => cubefsModel.step({ kind: 'metaNode', id: 1 }, inputs[3], UNKNOWN_OUTPUT), /partition bug/);
  });
});

void describe('cubefs model: volumes', () => {
  const V = 'vol1';
  const OWNER = 'ownerA';
  const OTHER = 'ownerB';
  type Fields = { owner?: string; capacity?: number; replicaNum?: number; description?: string; status?: number };
  const volOut = (f: Fields = {}): CubeOutput => ({
    kind: 'vol',
    name: V,
    owner: f.owner ?? OWNER,
    capacity: f.capacity ?? 10,
    replicaNum: f.replicaNum ?? 3,
    description: f.description ?? 'c',
    status: f.status ?? 0,
  });
  const DONE: CubeOutput = { kind: 'done' };
  const NOT_EXISTS: CubeOutput = { kind: 'error', code: 7 };
  const AUTH: CubeOutput = { kind: 'error', code: 34 };
  const SIZE: CubeOutput = { kind: 'error', code: 2 };
  const refused = (reason: 'duplicate' | 'markedDelete' | 'createFailed' | 'notCreated'): CubeOutput => ({ kind: 'volRefused', reason });
  const vcreate = (c: number, call: number, ret: number, output?: CubeOutput, f: Fields & { intentMayHold?: boolean } = {}): CubeOperation =>
    op(c, call, ret, { f: 'vol.create', name: V, owner: f.owner ?? OWNER, capacity: f.capacity ?? 10, replicaNum: f.replicaNum ?? 3, description: f.description ?? 'c', intentMayHold: f.intentMayHold }, output);
  const vget = (c: number, call: number, ret: number, output: CubeOutput, intentMayShow?: boolean): CubeOperation => op(c, call, ret, { f: 'vol.get', name: V, intentMayShow }, output);
  const vupdate = (c: number, call: number, ret: number, owner: string, capacity: number, description: string, output?: CubeOutput): CubeOperation =>
    op(c, call, ret, { f: 'vol.update', name: V, owner, capacity, description }, output);
  const vexpand = (c: number, call: number, ret: number, owner: string, capacity: number, output?: CubeOutput): CubeOperation => op(c, call, ret, { f: 'vol.expand', name: V, owner, capacity }, output);
  const vdelete = (c: number, call: number, ret: number, owner: string, output?: CubeOutput): CubeOperation => op(c, call, ret, { f: 'vol.delete', name: V, owner }, output);
  const removal = (call: number, seq: number): CubeOperation => op(-2, call, Infinity, { f: 'vol.removal', name: V, seq });

  void it('accepts a vol through its life: create, duplicate, update, expand, refusals by the rules, delete, removal, create again', () => {
    const history = [
      vget(0, 0, 1, NOT_EXISTS),
      vcreate(0, 2, 3, DONE),
      vcreate(1, 4, 5, refused('duplicate'), { owner: OTHER }),
      vget(1, 6, 7, volOut()),
      vupdate(0, 8, 9, OTHER, 20, 'u1', AUTH),
      vupdate(0, 10, 11, OWNER, 20, 'u1', DONE),
      vget(1, 12, 13, volOut({ capacity: 20, description: 'u1' })),
      vexpand(0, 14, 15, OWNER, 20, SIZE),
      vexpand(0, 16, 17, OTHER, 30, AUTH),
      vexpand(0, 18, 19, OWNER, 30, DONE),
      vdelete(1, 20, 21, OTHER, AUTH),
      vdelete(1, 22, 23, OWNER, DONE),
      removal(22, 0),
      vget(0, 24, 25, volOut({ capacity: 30, description: 'u1', status: 1 })),
      vupdate(0, 26, 27, OWNER, 40, 'u2', refused('markedDelete')),
      vexpand(0, 28, 29, OWNER, 40, refused('markedDelete')),
      vcreate(0, 30, 31, refused('duplicate')),
      vdelete(1, 32, 33, OWNER, DONE),
      removal(32, 1),
      vget(0, 34, 35, NOT_EXISTS),
      vupdate(0, 36, 37, OWNER, 40, 'u3', NOT_EXISTS),
      vexpand(0, 38, 39, OWNER, 40, NOT_EXISTS),
      vdelete(0, 40, 41, OWNER, NOT_EXISTS),
      vcreate(1, 42, 43, DONE, { owner: OTHER, replicaNum: 2, description: 'again' }),
      vget(0, 44, 45, volOut({ owner: OTHER, replicaNum: 2, description: 'again' })),
    ];
    assert.equal(verdict(history), 'linearizable');
  });

  void it('accepts the answers a create may get without a vol: failed on a free name, refused in any state', () => {
    assert.equal(verdict([vcreate(0, 0, 1, refused('createFailed')), vget(0, 2, 3, NOT_EXISTS)]), 'linearizable');
    assert.equal(verdict([vcreate(0, 0, 1, DONE), vcreate(1, 2, 3, refused('notCreated')), vget(0, 4, 5, volOut())]), 'linearizable');
    assert.equal(verdict([vcreate(0, 0, 1, refused('notCreated')), vget(0, 2, 3, NOT_EXISTS)]), 'linearizable');
  });

  void it('accepts an indeterminate create seen later or never, and an indeterminate delete whose vol is later gone', () => {
    assert.equal(verdict([vcreate(0, 0, Infinity), vget(1, 2, 3, NOT_EXISTS), vget(1, 4, 5, volOut())]), 'linearizable');
    assert.equal(verdict([vcreate(0, 0, Infinity), vget(1, 2, 3, NOT_EXISTS)]), 'linearizable');
    assert.equal(verdict([vcreate(0, 0, 1, DONE), vdelete(0, 2, Infinity, OTHER), removal(2, 0), vget(1, 3, 4, volOut()), vget(1, 5, 6, NOT_EXISTS)]), 'linearizable');
  });

  void it('accepts a duplicate or a getVol of an absent vol only when an intent may explain it', () => {
    assert.equal(verdict([vcreate(0, 0, 1, refused('duplicate'), { intentMayHold: true }), vget(0, 2, 3, NOT_EXISTS)]), 'linearizable');
    assert.equal(verdict([vcreate(0, 0, 1, refused('duplicate')), vget(0, 2, 3, NOT_EXISTS)]), 'not-linearizable');
    assert.equal(verdict([vget(0, 0, 1, volOut(), true), vget(0, 2, 3, NOT_EXISTS)]), 'linearizable');
    assert.equal(verdict([vget(0, 0, 1, volOut()), vget(0, 2, 3, NOT_EXISTS)]), 'not-linearizable');
    // An intent does not hide the committed vol: getVol shows the vol itself.
    assert.equal(verdict([vcreate(0, 0, 1, DONE), vget(0, 2, 3, volOut({ description: 'other' }), true)]), 'not-linearizable');
  });

  void it('lets a lost update, expand or delete take effect whatever the owner (apply checks no authKey)', () => {
    assert.equal(verdict([vcreate(0, 0, 1, DONE), vupdate(1, 2, Infinity, OTHER, 50, 'u'), vget(0, 3, 4, volOut({ capacity: 50, description: 'u' }))]), 'linearizable');
    assert.equal(verdict([vcreate(0, 0, 1, DONE), vexpand(1, 2, Infinity, OTHER, 50), vget(0, 3, 4, volOut({ capacity: 50 }))]), 'linearizable');
  });

  void it('uses removals in call order, each one once', () => {
    const life = (t: number, seq: number, description: string): CubeOperation[] => [
      vcreate(0, t, t + 1, DONE, { description }),
      vdelete(0, t + 2, t + 3, OWNER, DONE),
      removal(t + 2, seq),
      vget(0, t + 4, t + 5, NOT_EXISTS),
    ];
    assert.equal(verdict([...life(0, 0, 'a'), ...life(10, 1, 'b'), ...life(20, 2, 'c')]), 'linearizable');
    // Two removals called early serve two later incarnations.
    assert.equal(
      verdict([removal(0, 0), removal(0, 1), vcreate(0, 1, 2, DONE), vdelete(0, 3, 4, OWNER, DONE), vget(0, 5, 6, NOT_EXISTS), vcreate(0, 7, 8, DONE, { description: 'b' }), vdelete(0, 9, 10, OWNER, DONE), vget(0, 11, 12, NOT_EXISTS)]),
      'linearizable',
    );
  });

  void it('rejects what no order explains', () => {
    // A lost acknowledged create.
    assert.equal(verdict([vcreate(0, 0, 1, DONE), vget(1, 2, 3, NOT_EXISTS)]), 'not-linearizable');
    // A marked vol gone with no removal, and a removed vol back with no create.
    assert.equal(verdict([vcreate(0, 0, 1, DONE), vdelete(0, 2, 3, OWNER, DONE), vget(1, 4, 5, NOT_EXISTS)]), 'not-linearizable');
    assert.equal(verdict([vcreate(0, 0, 1, DONE), vdelete(0, 2, 3, OWNER, DONE), removal(2, 0), vget(1, 4, 5, NOT_EXISTS), vget(1, 6, 7, volOut({ status: 1 }))]), 'not-linearizable');
    // A create that failed while the vol existed, and one acknowledged twice.
    assert.equal(verdict([vcreate(0, 0, 1, DONE), vcreate(1, 2, 3, refused('createFailed'))]), 'not-linearizable');
    assert.equal(verdict([vcreate(0, 0, 1, DONE), vcreate(1, 2, 3, DONE, { description: 'b' })]), 'not-linearizable');
    // Refusals against the rules: an update by another owner acknowledged, an expand that does not grow, 34 to the owner.
    assert.equal(verdict([vcreate(0, 0, 1, DONE), vupdate(1, 2, 3, OTHER, 20, 'u', DONE)]), 'not-linearizable');
    assert.equal(verdict([vcreate(0, 0, 1, DONE, { capacity: 30 }), vexpand(1, 2, 3, OWNER, 20, DONE)]), 'not-linearizable');
    assert.equal(verdict([vcreate(0, 0, 1, DONE), vdelete(1, 2, 3, OWNER, AUTH)]), 'not-linearizable');
    // An update on a marked vol acknowledged; a stale read after an acknowledged update.
    assert.equal(verdict([vcreate(0, 0, 1, DONE), vdelete(0, 2, 3, OWNER, DONE), vupdate(1, 4, 5, OWNER, 20, 'u', DONE)]), 'not-linearizable');
    assert.equal(verdict([vcreate(0, 0, 1, DONE), vupdate(0, 2, 3, OWNER, 20, 'u', DONE), vget(1, 4, 5, volOut())]), 'not-linearizable');
    // A removal seen as a determinate answer is a history bug.
    assert.equal(verdict([vcreate(0, 0, 1, DONE), op(-2, 2, 3, { f: 'vol.removal', name: V, seq: 0 }, DONE)]), 'not-linearizable');
  });

  void it('accepts an unknown output of every vol operation in every state', () => {
    const states: CubeState[] = [
      null,
      { kind: 'vol', vol: { owner: OWNER, capacity: 10, replicaNum: 3, description: 'c', status: 0 }, removals: 0 },
      { kind: 'vol', vol: { owner: OWNER, capacity: 10, replicaNum: 3, description: 'c', status: 1 }, removals: 2 },
      { kind: 'vol', vol: null, removals: 1 },
    ];
    const inputs: CubeInput[] = [
      { f: 'vol.create', name: V, owner: OWNER, capacity: 1, replicaNum: 1, description: 'x' },
      { f: 'vol.get', name: V },
      { f: 'vol.update', name: V, owner: OTHER, capacity: 1, description: 'x' },
      { f: 'vol.expand', name: V, owner: OTHER, capacity: 1 },
      { f: 'vol.delete', name: V, owner: OTHER },
      { f: 'vol.removal', name: V, seq: 0 },
      { f: 'vol.removal', name: V, seq: 2 },
    ];
    for (const state of states) for (const input of inputs) assert.ok(cubefsModel.step(state, input, UNKNOWN_OUTPUT).ok, `${JSON.stringify(state)} ${input.f}`);
    assert.deepEqual(cubefsModel.step(states[2], inputs[6], UNKNOWN_OUTPUT).state, { kind: 'vol', vol: null, removals: 3 });
    assert.deepEqual(cubefsModel.step(states[2], inputs[5], UNKNOWN_OUTPUT).state, states[2]);
  });
});

void describe('cubefs model: data nodes', () => {
  const D = '10.78.0.1:17310';
  const addData = (c: number, call: number, ret: number, id?: number): CubeOperation => op(c, call, ret, { f: 'dataNode.add', addr: D }, id === undefined ? undefined : { kind: 'dataNode', addr: D, id });
  const getData = (c: number, call: number, ret: number, id: number | null): CubeOperation =>
    op(c, call, ret, { f: 'dataNode.get', addr: D }, id === null ? { kind: 'error', code: 12 } : { kind: 'dataNode', addr: D, id });

  void it('keeps a data node id for ever, as for meta nodes', () => {
    assert.equal(verdict([getData(0, 0, 1, null), addData(0, 2, 3, 5), getData(1, 4, 5, 5), addData(1, 6, 7, 5)]), 'linearizable');
    assert.equal(verdict([addData(0, 0, 1, 5), getData(1, 2, 3, 6)]), 'not-linearizable');
    assert.equal(verdict([addData(0, 0, 1, 5), getData(1, 2, 3, null)]), 'not-linearizable');
    // A meta node answer on a data node key is a wrong answer.
    assert.equal(verdict([op(0, 0, 1, { f: 'dataNode.add', addr: D }, { kind: 'metaNode', addr: D, id: 5 })]), 'not-linearizable');
  });
});

void describe('cubefs model: the expand race of seed 533231 (fixed by 8ca4c9d)', () => {
  const V = 'vol1';
  const make = (call: number, ret: number, capacity: number): CubeOperation =>
    op(0, call, ret, { f: 'vol.create', name: V, owner: 'o', capacity, replicaNum: 3, description: 'c' }, { kind: 'done' });
  const update = (c: number, call: number, ret: number, capacity: number): CubeOperation =>
    op(c, call, ret, { f: 'vol.update', name: V, owner: 'o', capacity, description: `u${capacity}` }, { kind: 'done' });
  const expand = (c: number, call: number, ret: number, capacity: number, output: CubeOutput = { kind: 'done' }): CubeOperation =>
    op(c, call, ret, { f: 'vol.expand', name: V, owner: 'o', capacity }, output);
  const get = (call: number, ret: number, capacity: number, description: string): CubeOperation =>
    op(3, call, ret, { f: 'vol.get', name: V }, { kind: 'vol', name: V, owner: 'o', capacity, replicaNum: 3, description, status: 0 });

  void it('rejects an acknowledged expand that shrank the vol: an update to 40 and an expand to 20, concurrent on a vol of 10, ending at 20', () => {
    assert.equal(verdict([make(0, 1, 10), update(1, 2, 10, 40), expand(2, 3, 11, 20), get(12, 13, 20, 'u40')]), 'not-linearizable');
  });

  void it('accepts the answers the fix gives: the expand first, or refused with 2 after the update', () => {
    assert.equal(verdict([make(0, 1, 10), update(1, 2, 10, 40), expand(2, 3, 11, 20), get(12, 13, 40, 'u40')]), 'linearizable');
    assert.equal(verdict([make(0, 1, 10), update(1, 2, 10, 40), expand(2, 3, 11, 20, { kind: 'error', code: 2 }), get(12, 13, 40, 'u40')]), 'linearizable');
  });
});

void describe('cubefs model: expand check orders', () => {
  const V = 'vol1';
  const make = op(0, 0, 1, { f: 'vol.create', name: V, owner: 'o', capacity: 30, replicaNum: 3, description: 'c' }, { kind: 'done' });
  const del = op(0, 2, 3, { f: 'vol.delete', name: V, owner: 'o' }, { kind: 'done' });
  const expand = (capacity: number, output: CubeOutput): CubeOperation => op(1, 4, 5, { f: 'vol.expand', name: V, owner: 'o', capacity }, output);

  void it('accepts "marked" or 2 for an expand that does not grow a marked vol (apply checks marked first, the route size first)', () => {
    assert.equal(verdict([make, del, expand(20, { kind: 'volRefused', reason: 'markedDelete' })]), 'linearizable');
    assert.equal(verdict([make, del, expand(20, { kind: 'error', code: 2 })]), 'linearizable');
    assert.equal(verdict([make, del, expand(40, { kind: 'error', code: 2 })]), 'not-linearizable');
  });

  void it('lets a lost expand take effect only if it grows the vol', () => {
    const lost = op(1, 2, Infinity, { f: 'vol.expand', name: V, owner: 'other', capacity: 20 }, undefined);
    const get = (capacity: number): CubeOperation => op(2, 6, 7, { f: 'vol.get', name: V }, { kind: 'vol', name: V, owner: 'o', capacity, replicaNum: 3, description: 'c', status: 0 });
    assert.equal(verdict([make, lost, get(20)]), 'not-linearizable');
    assert.equal(verdict([make, op(1, 2, Infinity, { f: 'vol.expand', name: V, owner: 'other', capacity: 50 }, undefined), get(50)]), 'linearizable');
  });
});
