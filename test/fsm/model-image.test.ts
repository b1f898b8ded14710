// The model image (src/fsm/model-image.ts): a clean stop writes the model to one file, and the
// next start loads it instead of scanning the store, only when it is the store's exact copy,
// and only once. Real RocksDB and real files; a rich model with every record kind, grants (Maps)
// and 64-bit values (bigints).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { IMAGE_KEY, APPLIED_KEY, encodeApplied } from '../../src/fsm/fsm-keys.js';
import { decodeSnapshotChunks } from '../../src/fsm/snapshot-codec.js';
import { MetadataFsm } from '../../src/fsm/metadata-fsm.js';
import { ModelImageError, readModelImage, writeModelImage, type ModelImage } from '../../src/fsm/model-image.js';
import { applyChanges, assertModel, checkModel, loadPut, DEFAULT_MP_INODE_STEP, emptyState, PackedMap, unpackUsers, type Command, encodeCommand, INODE_ID_MAX, makeCommand, modelDigest, passwordSha1, type ModelState } from '../../src/model/index.js';
import { bootstrapLog, EntryType, type Entry } from '../../src/raft/core/index.js';
import { encodeMemberContext } from '../../src/raft/member-context.js';
import { StateStore } from '../../src/storage/state-store.js';
import { asyncOf, collect } from './async-items.js';
import { ak, bootstrapped, createVol, okChecked, prng, replicated, run, scenarioCommands, sk, userCreateCmd, userUpdateCmd, volCreateBeginCmd, withNodesN } from '../model/helpers.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'model-image-'));
  dirs.push(d);
  return d;
}

/** Every record kind: the scenario's users and nodes, vols with 64-bit sizes and ranges, an open intent, a grant. */
function richModel(): ModelState {
  const state = bootstrapped();
  const { meta, data } = withNodesN(state, 1);
  const placement = { meta, data, mps: 1, dps: 1 };
  const vol = createVol(state, 'big', 'alice', placement, { dpSizeBytes: 9_007_199_254_740_993n });
  const mpId = okChecked(state, makeCommand('ids.reserve', { counter: 'metaPartition', count: 1 })).first;
  okChecked(state, makeCommand('mp.split', { volId: vol.id, mpId: 1, newEnd: INODE_ID_MAX - STEP, newPartitions: [{ id: mpId, start: INODE_ID_MAX - STEP + 1n, end: INODE_ID_MAX, peers: meta }] }));
  okChecked(state, volCreateBeginCmd('pending', 'alice', placement, { dpSizeBytes: 9_223_372_036_854_775_813n }));
  for (const cmd of scenarioCommands().slice(1)) run(state, cmd);
  okChecked(state, makeCommand('user.updatePolicy', { userId: 'carol', volume: 'big', actions: ['perm:builtin:ReadOnly'] }));
  assertModel(state, 'rich model');
  assert.ok(state.users.get('carol')!.policy.authorizedVols.size > 0, 'the model holds a grant');
  return state;
}

function loadImageInto(image: ModelImage): ModelState {
  const state = emptyState(unpackUsers(image.packed, { checked: true }));
  for (const chunk of image.chunks) for (const change of chunk) loadPut(state, change);
  return state;
}

const STEP = BigInt(DEFAULT_MP_INODE_STEP);
const HEADER = { token: 't'.repeat(32), store: 'db-000001', applied: { index: 9, term: 2 } };

void describe('model image file', () => {
  void it('gives back the same model: every kind, Maps, bigints, numbers', async () => {
    const model = richModel();
    const file = path.join(tempDir(), 'model.image');
    await writeModelImage(file, model, HEADER);
    const image = await readModelImage(file);
    assert.equal(image.header.token, HEADER.token);
    assert.deepEqual(image.header.applied, HEADER.applied);
    const loaded = loadImageInto(image);
    assertModel(loaded, 'model from the image');
    assert.deepEqual(replicated(loaded), replicated(model));
    assert.equal(modelDigest(loaded), modelDigest(model));
    const split = [...loaded.metaPartitions.values()].find((p) => p.end === INODE_ID_MAX);
    assert.equal(typeof split?.start, 'bigint');
  });

  void it('packs the users with no policy and their keys; a model loaded from it changes as the original does', async () => {
    const model = richModel();
    for (const userId of ['p1', 'p2', 'p3', 'p4']) okChecked(model, userCreateCmd(userId));
    const file = path.join(tempDir(), 'model.image');
    await writeModelImage(file, model, HEADER);
    const image = await readModelImage(file);
    const plain = [...model.users.values()].filter((u) => u.policy.ownVols.length === 0 && u.policy.authorizedVols.size === 0);
    assert.ok(plain.length >= 5 && plain.length < model.users.size, 'some users have a policy, most do not');
    assert.equal(image.packed.users.count, plain.length);
    assert.equal(image.packed.accessKeys.count, plain.length);
    const loaded = loadImageInto(image);
    assert.ok([loaded.users, loaded.accessKeys].every((m) => m instanceof PackedMap));
    // Each command built once and applied to both: packed users change keys, gain and lose
    // grants, go and come back under the same id; a vol's removal visits the users with a policy.
    const commands: Command[] = [
      userUpdateCmd('p1', { accessKey: ak(901), description: 'new key' }),
      makeCommand('user.updatePolicy', { userId: 'p2', volume: 'big', actions: ['perm:builtin:ReadOnly'] }),
      makeCommand('user.delete', { userId: 'p3' }),
      userCreateCmd('p3', { accessKey: ak(903), secretKey: sk(903) }),
      userCreateCmd('p5'),
      userCreateCmd('p1'), // duplicate id
      userCreateCmd('p6', { accessKey: ak(901) }), // p1's new key: taken
      makeCommand('user.removePolicy', { userId: 'carol', volume: 'big' }),
      makeCommand('vol.setDeleted', { name: 'big', deleted: true, timeUnixSec: 1_800_000_000 }),
      makeCommand('user.delete', { userId: 'p2' }),
      makeCommand('user.delete', { userId: 'p4' }),
    ];
    for (const command of commands) {
      const want = run(model, command);
      const got = run(loaded, command);
      assert.deepEqual(got.result, want.result, command.type);
      assert.deepEqual(replicated(loaded), replicated(model), `after ${command.type}`);
      assert.equal(modelDigest(loaded), modelDigest(model), `after ${command.type}`);
      assertModel(loaded, `loaded model after ${command.type}`);
    }
    assert.ok(!loaded.index.usersWithPolicy.has('p2') && loaded.users.get('p1')?.accessKey === ak(901));
  });

  void it('checks a loaded model by what changed since the image, and finds every break a full check finds', async () => {
    // The oracle: the same model with plain Maps gets the full check. Random valid commands and
    // random breaks (changes no command makes), and an image written and loaded again every
    // ten steps (unchanged rows copied, keys of changed owners decided again).
    const file = path.join(tempDir(), 'model.image');
    for (let seed = 1; seed <= 100; seed++) {
      const random = prng(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
      let model = richModel();
      for (let i = 0; i < 30; i++) okChecked(model, userCreateCmd(`q${i}`));
      const reload = async (): Promise<ModelState> => {
        await writeModelImage(file, model, HEADER);
        return loadImageInto(await readModelImage(file));
      };
      model = await reload();
      // Valid commands, an image every seven steps, then one break (a change no command makes;
      // some picks break nothing): both checks must see it or both not.
      const breakAt = 8 + Math.floor(random() * 40);
      for (let step = 1; step < breakAt; step++) {
        const id = pick([...model.users.keys()].filter((u) => u !== 'root'));
        const roll = random();
        if (roll < 0.25) run(model, userUpdateCmd(id, { accessKey: ak(5000 + seed * 100 + step) }));
        else if (roll < 0.4) run(model, makeCommand('user.delete', { userId: id }));
        else if (roll < 0.55) run(model, userCreateCmd(pick([`q${step}`, id, `new${seed}_${step}`])));
        else if (roll < 0.8) run(model, makeCommand('user.updatePolicy', { userId: id, volume: 'big', actions: ['perm:builtin:ReadOnly'] }));
        else run(model, makeCommand('user.removePolicy', { userId: id, volume: 'big' }));
        assert.deepEqual(checkModel({ ...model, users: new Map(model.users), accessKeys: new Map(model.accessKeys) }), [], `seed ${seed}, step ${step}: oracle`);
        assertModel(model, `seed ${seed}, step ${step}`);
        if (step % 7 === 0) model = await reload();
      }
      const ids = [...model.users.keys()].filter((u) => u !== 'root');
      // Half the time a user with a grant: packed before, a record since, its key maybe still packed.
      const granted = [...model.index.usersWithPolicy].filter((u) => u !== 'alice');
      const id = granted.length > 0 && random() < 0.5 ? pick(granted) : pick(ids);
      const user = model.users.get(id)!;
      const breaks: (() => void)[] = [
        () => applyChanges(model, [{ kind: 'accessKey', op: 'del', accessKey: user.accessKey }]),
        () => applyChanges(model, [{ kind: 'user', op: 'del', userId: id }]),
        () => applyChanges(model, [{ kind: 'accessKey', op: 'put', record: { ...model.accessKeys.get(user.accessKey)!, userId: pick(ids) } }]),
        () => applyChanges(model, [{ kind: 'user', op: 'put', record: { ...user, accessKey: ak(9_000_000 + seed) } }]),
        () => void model.index.usersWithPolicy.add(id),
      ];
      const which = Math.floor(random() * breaks.length);
      breaks[which]();
      const full = checkModel({ ...model, users: new Map(model.users), accessKeys: new Map(model.accessKeys) });
      const incremental = checkModel(model);
      const where = `seed ${seed}, step ${breakAt}, break ${which} of ${id}`;
      assert.equal(incremental.length > 0, full.length > 0, `${where}: full ${JSON.stringify(full)}, incremental ${JSON.stringify(incremental)}`);
      // Each problem is one the full check names too (the policy index's in other words).
      const named = (p: string): boolean => (p.startsWith('policy index') ? full.some((f) => f.startsWith('policy index')) : full.includes(p));
      for (const p of incremental) assert.ok(named(p), `${where}: ${p} is not a problem of the full check`);
    }
  });

  void it('refuses a file with a flipped byte, a truncated file and a file that is not an image', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'model.image');
    await writeModelImage(file, richModel(), HEADER);
    const bytes = readFileSync(file);
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(file, flipped);
    await assert.rejects(readModelImage(file), (e: unknown) => e instanceof ModelImageError && /checksum/.test(e.message));
    writeFileSync(file, bytes);
    truncateSync(file, bytes.length - 100);
    await assert.rejects(readModelImage(file), ModelImageError);
    writeFileSync(file, 'not an image at all, but long enough to hold a hash and a header');
    await assert.rejects(readModelImage(file), ModelImageError);
    // Larger than one read can hold (a sparse file): refused, so the start scans instead of failing.
    truncateSync(file, 2 ** 31 + 1);
    await assert.rejects(readModelImage(file), ModelImageError);
  });
});

// --- through MetadataFsm: written by a clean close, used once by the next open -------------

function userCreate(userId: string, accessKey: string): Uint8Array {
  return encodeCommand(
    makeCommand('user.create', { userId, accessKey, secretKey: 'S'.repeat(32), passwordSha1: passwordSha1('pw'), userType: 2, description: '', createTimeUnixSec: 1_700_000_000 }),
  );
}

function entries(from: number, users: number, term = 2): Entry[] {
  const out: Entry[] = [];
  if (from === 1) {
    const boot = bootstrapLog([1, 2, 3], (id) => encodeMemberContext({ httpAddr: `127.0.0.1:${17000 + id}`, raftAddr: `127.0.0.1:${18000 + id}` }));
    out.push(...boot.entries);
  }
  const first = from === 1 ? out.length + 1 : from;
  for (let i = 0; i < users; i++) {
    const index = first + i;
    out.push({ index, term, type: EntryType.Normal, data: userCreate(`u${index}`, `AK${String(index).padStart(14, '0')}`) });
  }
  return out;
}

interface Logged {
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

function recordingLogger(): { logger: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void; error: () => void }; lines: Logged[] } {
  const lines: Logged[] = [];
  const push = (o: object, msg: string): void => void lines.push({ msg, fields: o as Record<string, unknown> });
  return { logger: { info: push, warn: push, error: () => undefined }, lines };
}

/** Writes an image at every close, unless told otherwise. */
async function openFsm(storeDir: string, modelImageMinRecords = 0): Promise<{ fsm: MetadataFsm; lines: Logged[] }> {
  const { logger, lines } = recordingLogger();
  const fsm = await MetadataFsm.open({ storeDir, logger, modelImageMinRecords });
  return { fsm, lines };
}

/** A store with `users` users, closed cleanly: an image and its token beside it. Returns its digest. */
async function stoppedWithImage(storeDir: string, users = 5): Promise<string> {
  const { fsm } = await openFsm(storeDir);
  await fsm.apply(entries(1, users));
  const digest = fsm.digest();
  await fsm.close();
  return digest;
}

const usedImage = (lines: readonly Logged[]): boolean => lines.some((l) => l.msg.startsWith('model loaded from the image'));
const refusal = (lines: readonly Logged[]): string | undefined => lines.find((l) => l.msg.startsWith('model image not used'))?.fields.reason as string | undefined;

async function storeGet(storeDir: string, key: Uint8Array): Promise<Buffer | null> {
  const store = await StateStore.open(path.join(storeDir, 'db-000001'), { logger: recordingLogger().logger });
  try {
    return await store.get(key);
  } finally {
    await store.close();
  }
}

void describe('MetadataFsm with a model image', () => {
  void it('a clean close writes it, the next open loads the same state from it and removes it', async () => {
    const storeDir = tempDir();
    const first = await openFsm(storeDir);
    await first.fsm.apply(entries(1, 20));
    const digest = first.fsm.digest();
    const applied = first.fsm.appliedIndex();
    await first.fsm.close();
    assert.ok(existsSync(path.join(storeDir, 'model.image')));
    assert.notEqual(await storeGet(storeDir, IMAGE_KEY), null);

    const again = await openFsm(storeDir);
    assert.ok(usedImage(again.lines), JSON.stringify(again.lines));
    assert.equal(again.fsm.digest(), digest);
    assert.equal(again.fsm.appliedIndex(), applied);
    assert.equal(again.fsm.members.addresses.get(2)?.raftAddr, '127.0.0.1:18002');
    assert.ok(!existsSync(path.join(storeDir, 'model.image')), 'used once: the file is gone');
    // It goes on applying where it stood.
    await again.fsm.apply(entries(applied + 1, 3));
    assert.equal(again.fsm.view.users.size, 20 + 3);
    await again.fsm.close();
  });

  void it('is used once: a later open after a stop that wrote none scans the store', async () => {
    const storeDir = tempDir();
    await stoppedWithImage(storeDir);
    const second = await openFsm(storeDir);
    assert.ok(usedImage(second.lines));
    assert.equal(await second.fsm.audit().then((a) => a.modelDigest === a.storeDigest), true);
    await second.fsm.apply(entries(second.fsm.appliedIndex() + 1, 2));
    const digest = second.fsm.digest();
    await second.fsm.close();
    // The second close wrote a new image; drop it to stand for a crash (no close, no image).
    rmSync(path.join(storeDir, 'model.image'));
    const third = await openFsm(storeDir);
    assert.ok(!usedImage(third.lines));
    assert.equal(third.fsm.digest(), digest);
    await third.fsm.close();
  });

  void it('is not used when the store moved on after it was written; the scan gives the store\'s state', async () => {
    const storeDir = tempDir();
    await stoppedWithImage(storeDir);
    // Something wrote the store after the stop (the token stays): the applied position differs.
    const store = await StateStore.open(path.join(storeDir, 'db-000001'), { logger: recordingLogger().logger });
    await store.batch().put(APPLIED_KEY, encodeApplied({ index: 999, term: 7 })).commit();
    await store.close();
    const again = await openFsm(storeDir, Number.MAX_SAFE_INTEGER);
    assert.ok(!usedImage(again.lines));
    assert.match(refusal(again.lines) ?? '', /does not match the store/);
    assert.equal(again.fsm.appliedIndex(), 999);
    await again.fsm.close();
    assert.equal(await storeGet(storeDir, IMAGE_KEY), null, 'the token went with the refused image');
  });

  void it('is not used without its token in the store, nor when corrupt', async () => {
    for (const spoil of ['token', 'corrupt'] as const) {
      const storeDir = tempDir();
      const digest = await stoppedWithImage(storeDir);
      if (spoil === 'token') {
        const store = await StateStore.open(path.join(storeDir, 'db-000001'), { logger: recordingLogger().logger });
        await store.batch().delete(IMAGE_KEY).commit();
        await store.close();
      } else {
        const file = path.join(storeDir, 'model.image');
        const bytes = readFileSync(file);
        bytes[bytes.length - 40] ^= 0xff;
        writeFileSync(file, bytes);
      }
      const again = await openFsm(storeDir);
      assert.ok(!usedImage(again.lines), spoil);
      if (spoil === 'corrupt') assert.match(refusal(again.lines) ?? '', /checksum/);
      assert.equal(again.fsm.digest(), digest, spoil);
      assert.ok(!existsSync(path.join(storeDir, 'model.image')), `${spoil}: the file is removed`);
      await again.fsm.close();
    }
  });

  void it('is not written below modelImageMinRecords', async () => {
    const storeDir = tempDir();
    const fsm = await MetadataFsm.open({ storeDir, logger: recordingLogger().logger, modelImageMinRecords: 1_000 });
    await fsm.apply(entries(1, 5));
    await fsm.close();
    assert.ok(!existsSync(path.join(storeDir, 'model.image')));
    assert.equal(await storeGet(storeDir, IMAGE_KEY), null);
  });

  void it('is not written for a model that breaks an invariant (the next start scans and refuses the store)', async () => {
    const storeDir = tempDir();
    const { logger, lines } = recordingLogger();
    const fsm = await MetadataFsm.open({ storeDir, logger: { ...logger, error: (o: object, m: string) => logger.warn(o, m) }, modelImageMinRecords: 0 });
    await fsm.apply(entries(1, 5));
    // Stands for an apply bug: a user whose access key record is gone from the model.
    (fsm.view as ModelState).accessKeys.clear();
    await fsm.close();
    assert.ok(!existsSync(path.join(storeDir, 'model.image')));
    assert.ok(lines.some((l) => l.msg.startsWith('model is inconsistent')));
    assert.equal(await storeGet(storeDir, IMAGE_KEY), null);
  });

  void it('a hurried stop gives the image up: no file, no temporary file, no token', async () => {
    const storeDir = tempDir();
    const { fsm } = await openFsm(storeDir);
    await fsm.apply(entries(1, 9_000)); // more than one chunk of the image
    fsm.abandonModelImage();
    await fsm.close();
    assert.deepEqual(readdirSync(storeDir).filter((n) => n.startsWith('model.image')), []);
    assert.equal(await storeGet(storeDir, IMAGE_KEY), null);
  });
});

// --- a follower's snapshot, streamed from the model -----------------------------------------

/** User changes from `from` on: updates (a new key for some), deletes, and new users. */
function userChanges(from: number, existing: readonly string[], seed: number): Entry[] {
  const random = prng(seed);
  const out: Entry[] = [];
  let index = from;
  const push = (command: Command): void => void out.push({ index: index++, term: 2, type: EntryType.Normal, data: encodeCommand(command) });
  for (const userId of existing) {
    const roll = random();
    if (roll < 0.2) push(makeCommand('user.delete', { userId }));
    else if (roll < 0.35) push(userUpdateCmd(userId, { accessKey: `NK${String(index).padStart(14, '0')}`, description: `moved at ${index}` }));
    else if (roll < 0.5) push(userUpdateCmd(userId, { description: `touched at ${index}` }));
  }
  for (let i = 0; i < 5; i++) push(makeCommand('user.create', { userId: `n${seed}_${i}`, accessKey: `CK${String(seed * 10 + i).padStart(14, '0')}`, secretKey: 'S'.repeat(32), passwordSha1: passwordSha1('pw'), userType: 2, description: '', createTimeUnixSec: 1_700_000_000 }));
  return out;
}

async function pairsOf(source: { chunks: (signal: AbortSignal) => AsyncIterable<Uint8Array> }): Promise<Map<string, string>> {
  const chunks = await collect(source.chunks(new AbortController().signal));
  const pairs = new Map<string, string>();
  for await (const batch of decodeSnapshotChunks(asyncOf(chunks))) {
    for (const { key, value } of batch) {
      const k = Buffer.from(key).toString('latin1');
      assert.ok(!pairs.has(k), `key ${k} twice in the stream`);
      pairs.set(k, Buffer.from(value).toString('hex'));
    }
  }
  return pairs;
}

void describe("a follower's snapshot, streamed from the model", () => {
  for (const [start, tables] of [['scan', false], ['image', false], ['scan', true], ['image', true]] as const) {
    void it(`installs exactly the store's records at its index while writes go on (a model from a ${start}, users ${tables ? 'as packed tables' : 'as records'})`, async () => {
      for (let seed = 1; seed <= 4; seed++) {
        const storeDir = tempDir();
        if (start === 'image') await stoppedWithImage(storeDir, 40);
        else {
          const first = await openFsm(storeDir, Number.MAX_SAFE_INTEGER);
          await first.fsm.apply(entries(1, 40));
          await first.fsm.close();
        }
        // The image's threshold is also the one from which a snapshot sends packed tables.
        const { fsm } = await openFsm(storeDir, tables ? 0 : Number.MAX_SAFE_INTEGER);
        assert.equal(fsm.view.users instanceof PackedMap, start === 'image', 'the users are packed after a start from an image');
        // Changes before the snapshot (packed rows updated, removed, added).
        await fsm.apply(userChanges(fsm.appliedIndex() + 1, [...fsm.view.users.keys()], seed));
        const source = await fsm.openSnapshot();
        const digestThen = fsm.digest();
        // The store at the same index: nothing applied in between.
        const store = await fsm.openStoreSnapshot();
        assert.deepEqual(source.meta, store.meta);
        assert.equal(source.meta.index, fsm.appliedIndex());
        // Writes go on before the stream is read, changing and removing what it holds.
        await fsm.apply(userChanges(fsm.appliedIndex() + 1, [...fsm.view.users.keys()], seed + 100));
        assert.notEqual(fsm.digest(), digestThen);
        const fromStore = await pairsOf(store);
        await store.release();

        // It installs on a follower as the state of that index: the same model, the same records.
        const follower = await MetadataFsm.open({ storeDir: tempDir(), logger: recordingLogger().logger });
        await follower.stageSnapshot(source.meta, asyncOf(await collect(source.chunks(new AbortController().signal))));
        await follower.installStagedSnapshot(source.meta);
        assert.equal(follower.digest(), digestThen, `seed ${seed}`);
        assert.equal(follower.appliedIndex(), source.meta.index);
        assert.equal(follower.view.users instanceof PackedMap, tables, 'the follower loads packed tables exactly when they were sent');
        const followerStore = await follower.openStoreSnapshot();
        assert.deepEqual([...(await pairsOf(followerStore))].sort(), [...fromStore].sort(), `seed ${seed}: the follower's store is the leader's at the index`);
        await followerStore.release();
        // (The same source streams a second time, still at its index.)
        const again = await MetadataFsm.open({ storeDir: tempDir(), logger: recordingLogger().logger });
        await again.stageSnapshot(source.meta, asyncOf(await collect(source.chunks(new AbortController().signal))));
        await again.installStagedSnapshot(source.meta);
        assert.equal(again.digest(), digestThen, `seed ${seed}: streamed again`);
        await again.close();
        await source.release();
        await follower.close();
        await fsm.close();
      }
    });
  }
});
