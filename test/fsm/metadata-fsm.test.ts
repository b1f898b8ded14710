// MetadataFsm on real RocksDB: apply writes effects and applied index together, restart reloads
// the same model, a snapshot streams and installs beside the live state, and a crash at any
// moment of an install leaves the old or the new state.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { MetadataFsm, type EntryResult } from '../../src/fsm/metadata-fsm.js';
import { StoreDir } from '../../src/fsm/store-dir.js';
import { encodeCommand, makeCommand, passwordSha1 } from '../../src/model/index.js';
import { bootstrapLog, ConfChangeType, encodeConfChange, EntryType, type Entry } from '../../src/raft/core/index.js';
import { encodeMemberContext } from '../../src/raft/member-context.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'fsm-'));
  dirs.push(d);
  return d;
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function userCreate(userId: string, accessKey: string): Uint8Array {
  return encodeCommand(
    makeCommand('user.create', {
      userId,
      accessKey,
      secretKey: 'S'.repeat(32),
      passwordSha1: passwordSha1('pw'),
      userType: 2,
      description: '',
      createTimeUnixSec: 1_700_000_000,
    }),
  );
}

function entry(index: number, data: Uint8Array, type: Entry['type'] = EntryType.Normal, term = 2): Entry {
  return { index, term, type, data };
}

/** The bootstrap log of members 1..3 and a few user creations after it. */
function someEntries(): Entry[] {
  const boot = bootstrapLog([1, 2, 3], (id) => encodeMemberContext({ httpAddr: `127.0.0.1:${17000 + id}`, raftAddr: `127.0.0.1:${18000 + id}` }));
  return [
    ...boot.entries,
    entry(4, new Uint8Array(0)),
    entry(5, userCreate('alice', 'A'.repeat(16))),
    entry(6, userCreate('bob', 'B'.repeat(16))),
    entry(7, userCreate('alice', 'C'.repeat(16))), // duplicate: a deterministic error result
  ];
}

void test('apply writes effects and the applied index, and results reach the proposer', async () => {
  const fsm = await MetadataFsm.open({ storeDir: tempDir(), logger: silent });
  const results = (await fsm.apply(someEntries())) as EntryResult[];
  assert.equal(fsm.appliedIndex(), 7);
  assert.equal(fsm.appliedTerm(), 2);
  assert.deepEqual(fsm.confState(), { voters: [1, 2, 3], learners: [] });
  assert.equal(results[3], null); // the no-op
  assert.equal(results[4]?.ok, true);
  assert.equal(results[6]?.ok, false);
  assert.equal(results[6]?.ok === false && results[6].error.code, 45); // DuplicateUserID
  assert.ok(fsm.view.users.has('alice') && fsm.view.users.has('bob'));
  await fsm.close();
});

void test('a restart reloads the same model, applied index and membership', async () => {
  const storeDir = tempDir();
  const fsm = await MetadataFsm.open({ storeDir, logger: silent });
  await fsm.apply(someEntries());
  const digest = fsm.digest();
  await fsm.close();
  const again = await MetadataFsm.open({ storeDir, logger: silent });
  assert.equal(again.appliedIndex(), 7);
  assert.equal(again.digest(), digest);
  assert.equal(again.members.addresses.get(2)?.raftAddr, '127.0.0.1:18002');
  await again.close();
});

void test('membership follows conf change entries, with addresses from their context', async () => {
  const fsm = await MetadataFsm.open({ storeDir: tempDir(), logger: silent });
  await fsm.apply(someEntries());
  const add = encodeConfChange({ type: ConfChangeType.AddLearner, nodeId: 4, context: encodeMemberContext({ httpAddr: 'h4:1', raftAddr: 'r4:1' }) });
  const remove = encodeConfChange({ type: ConfChangeType.RemoveNode, nodeId: 2, context: new Uint8Array(0) });
  await fsm.apply([entry(8, add, EntryType.ConfChange), entry(9, remove, EntryType.ConfChange)]);
  assert.deepEqual(fsm.confState(), { voters: [1, 3], learners: [4] });
  assert.equal(fsm.members.addresses.get(4)?.raftAddr, 'r4:1');
  assert.equal(fsm.members.addresses.has(2), false);
  await fsm.close();
});

void test('a snapshot streams from one member and installs on another, replacing its state', async () => {
  const leader = await MetadataFsm.open({ storeDir: tempDir(), logger: silent, snapshotChunkSizeBytes: 64 });
  await leader.apply(someEntries());
  const followerDir = tempDir();
  const follower = await MetadataFsm.open({ storeDir: followerDir, logger: silent });
  await follower.apply(someEntries().slice(0, 4)); // an older state
  const source = await leader.openSnapshot();
  assert.deepEqual(source.meta, { index: 7, term: 2, conf: { voters: [1, 2, 3], learners: [] } });
  const chunks: Uint8Array[] = [];
  for await (const c of source.chunks(new AbortController().signal)) chunks.push(c);
  await source.release();
  assert.ok(chunks.length > 3, 'small chunks: several of them');
  await follower.stageSnapshot(source.meta, toAsync(chunks));
  assert.equal(follower.appliedIndex(), 4, 'staging leaves the live state alone');
  await follower.installStagedSnapshot(source.meta);
  assert.equal(follower.appliedIndex(), 7);
  assert.equal(follower.digest(), leader.digest());
  assert.equal(readdirSync(followerDir).filter((n) => n.startsWith('db-')).length, 1, 'the old database is gone');
  await follower.close();
  const reopened = await MetadataFsm.open({ storeDir: followerDir, logger: silent });
  assert.equal(reopened.digest(), leader.digest());
  await reopened.close();
  await leader.close();
});

void test('a truncated snapshot stream is refused and leaves no staged copy behind', async () => {
  const leader = await MetadataFsm.open({ storeDir: tempDir(), logger: silent, snapshotChunkSizeBytes: 64 });
  await leader.apply(someEntries());
  const source = await leader.openSnapshot();
  const chunks: Uint8Array[] = [];
  for await (const c of source.chunks(new AbortController().signal)) chunks.push(c);
  await source.release();
  const followerDir = tempDir();
  const follower = await MetadataFsm.open({ storeDir: followerDir, logger: silent });
  const cut = [...chunks.slice(0, 2), chunks[2].subarray(0, 5)];
  await assert.rejects(follower.stageSnapshot(source.meta, toAsync(cut)));
  await follower.discardStagedSnapshot();
  assert.deepEqual(readdirSync(followerDir).filter((n) => n.includes('staging')), []);
  await follower.close();
  await leader.close();
});

void test('a crash after staging but before CURRENT moves leaves the old state; leftovers are cleaned at open', async () => {
  const storeDir = tempDir();
  const dir = await StoreDir.open(storeDir);
  const live = dir.livePath;
  const staging = await dir.newStagingPath();
  // A staged database that never became live (crash before promote).
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(staging, { recursive: true });
  writeFileSync(path.join(staging, 'junk'), 'x');
  const reopened = await StoreDir.open(storeDir);
  assert.equal(reopened.livePath, live);
  assert.equal(existsSync(staging), false);
});

async function* toAsync(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield await Promise.resolve(c);
}
