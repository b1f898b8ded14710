import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Applied, Command } from '../../src/model/index.js';
import {
  apply,
  applyChanges,
  changesToBatch,
  checkModel,
  decodeCommand,
  emptyState,
  encodeCommand,
  loadRecord,
  makeCommand,
  modelDigest,
  recordsOf,
} from '../../src/model/index.js';
import {
  ak,
  bootstrapCmd,
  dataNodeAddCmd,
  metaNodeAddCmd,
  MemoryStore,
  prng,
  replicated,
  run,
  scenarioCommands,
  shuffled,
  sk,
  userCreateCmd,
  userUpdateCmd,
} from './helpers.js';

/** Rebuild an object with its own keys in reverse order (nested objects too). */
function reverseKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reverseKeys) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reverseKeys(v)]),
  ) as T;
}

/** The outcome of a command in comparable form (error instances compared by name, code, message). */
function outcome(applied: Applied<unknown>): unknown {
  return applied.result.ok
    ? { ok: true, value: applied.result.value, changes: applied.changes }
    : { ok: false, name: applied.result.error.name, code: applied.result.error.code, message: applied.result.error.message };
}

/** A random but seeded command: valid and invalid ones, colliding names, addrs and keys. */
function randomCommand(random: () => number): Command {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const users = ['alice', 'bob', 'carol', 'dave', 'root', '9bad'];
  const n = Math.floor(random() * 8);
  const addr = `10.0.${Math.floor(random() * 3)}.${Math.floor(random() * 6)}:${pick(['17210', '17310', '0'])}`;
  const zone = pick(['default', 'z2', 'z3']);
  switch (Math.floor(random() * 9)) {
    case 0:
      return makeCommand('cluster.setFrozen', { frozen: random() < 0.5 });
    case 1:
      return makeCommand('ids.reserve', { counter: pick(['common', 'metaPartition', 'dataPartition'] as const), count: pick([1, 3, 10]) });
    case 2:
      return metaNodeAddCmd(addr, { zoneName: zone, nodeSetCapacity: pick([3, 4, 18]), nodeSetId: pick([0, 0, 0, 1, 5]) });
    case 3:
      return dataNodeAddCmd(addr, { zoneName: zone, mediaType: pick([1, 2] as const), nodeSetCapacity: pick([3, 18]) });
    case 4:
    case 5:
      return userCreateCmd(pick(users), { accessKey: ak(n), secretKey: sk(n), userType: pick([2, 3] as const) });
    case 6:
      return userUpdateCmd(pick(users), {
        accessKey: random() < 0.3 ? ak(n) : null,
        userType: random() < 0.3 ? pick([2, 3] as const) : null,
        description: random() < 0.3 ? `d${n}` : null,
      });
    case 7:
      return makeCommand('user.delete', { userId: pick(users) });
    default:
      return bootstrapCmd(pick(['test', 'test', 'other']));
  }
}

void describe('determinism', () => {
  void it('same commands give the same results, changes and digest, whatever the field order', () => {
    const a = emptyState();
    const b = emptyState();
    for (const cmd of scenarioCommands()) {
      const viaCodec = decodeCommand(encodeCommand(reverseKeys(cmd)));
      const ra = run(a, cmd);
      const rb = run(b, reverseKeys(viaCodec));
      assert.deepEqual(outcome(rb), outcome(ra));
      assert.equal(modelDigest(b), modelDigest(a));
    }
    assert.deepEqual(replicated(b), replicated(a));
  });

  void it('a seeded random history replays identically on three members and survives a reload', () => {
    for (const seed of [1, 2, 3, 42, 2026]) {
      const random = prng(seed);
      const members = [emptyState(), emptyState(), emptyState()];
      const store = new MemoryStore();
      members.forEach((m) => run(m, bootstrapCmd(), m === members[0] ? store : undefined));
      let succeeded = 0;
      for (let i = 0; i < 300; i++) {
        const cmd = randomCommand(random);
        const bytes = encodeCommand(cmd);
        const outcomes = members.map((m, j) => {
          const decoded = decodeCommand(bytes);
          const applied = apply(m, j === 1 ? reverseKeys(decoded) : decoded, { index: i + 2, term: 1 + j });
          if (j === 0) store.write(changesToBatch(applied.changes));
          applyChanges(m, applied.changes);
          return outcome(applied);
        });
        assert.deepEqual(outcomes[1], outcomes[0], `seed ${seed} step ${i}`);
        assert.deepEqual(outcomes[2], outcomes[0], `seed ${seed} step ${i}`);
        if ((outcomes[0] as { ok: boolean }).ok) succeeded += 1;
      }
      // The history must exercise both paths and leave something to compare.
      assert.ok(succeeded > 60 && succeeded < 290, `seed ${seed}: ${succeeded} of 300 succeeded`);
      const sizes = [members[0].metaNodes.size, members[0].dataNodes.size, members[0].users.size, members[0].nodeSets.size];
      assert.ok(sizes[0] > 3 && sizes[1] > 3 && sizes[2] > 1, `seed ${seed}: sizes ${sizes.join(",")}`);
      const digests = members.map(modelDigest);
      assert.equal(digests[1], digests[0]);
      assert.equal(digests[2], digests[0]);
      assert.deepEqual(checkModel(members[0]), []);

      const reloaded = emptyState();
      for (const { key, value } of shuffled(store.entries(), random)) loadRecord(reloaded, key, value);
      assert.equal(modelDigest(reloaded), digests[0], `seed ${seed}: reload`);
      assert.deepEqual(replicated(reloaded), replicated(members[0]));
    }
  });

  void it('the digest ignores the order records were loaded or granted in, and sees every change', () => {
    const a = emptyState();
    for (const cmd of scenarioCommands()) run(a, cmd);
    const records = [...recordsOf(a)];
    const b = emptyState();
    for (const r of [...records].reverse()) loadRecord(b, r.key, r.value);
    assert.equal(modelDigest(b), modelDigest(a));

    const before = modelDigest(a);
    run(a, makeCommand('cluster.setFrozen', { frozen: false }));
    assert.notEqual(modelDigest(a), before);
  });

  void it('apply does not read the context (index/term) into the outcome', () => {
    const s1 = emptyState();
    const s2 = emptyState();
    for (const [i, cmd] of scenarioCommands().entries()) {
      const r1 = apply(s1, cmd, { index: i + 1, term: 1 });
      const r2 = apply(s2, cmd, { index: 1000 + i * 7, term: 99 });
      assert.deepEqual(outcome(r2), outcome(r1));
      applyChanges(s1, r1.changes);
      applyChanges(s2, r2.changes);
    }
  });
});
