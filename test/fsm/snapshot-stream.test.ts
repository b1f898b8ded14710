// A follower's snapshot with packed users (snapshot-stream.ts), through a real follower
// (MetadataFsm on RocksDB): it installs the leader's model and exactly the records its store
// would hold; a stream whose packed part breaks any rule, or holds rows of another version, is
// refused with nothing installed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { APPLIED_KEY, encodeApplied, SNAPSHOT_TABLE_KEY, SNAPSHOT_TABLE_PART_KEY } from '../../src/fsm/fsm-keys.js';
import { MetadataFsm } from '../../src/fsm/metadata-fsm.js';
import { decodeSnapshotChunks, encodeSnapshotChunks, SnapshotStreamError, type KeyValue } from '../../src/fsm/snapshot-codec.js';
import { BATCH_RECORDS, modelSnapshotBatches } from '../../src/fsm/snapshot-stream.js';
import { apply, applyChanges, changeToOp, freezeRecords, modelDigest, PackedMap, putChangesOf, type Command, type ModelState } from '../../src/model/index.js';
import { asyncOf, collect } from './async-items.js';
import { bootstrapped, createVol, okChecked, userCreateCmd, withNodesN } from '../model/helpers.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'snapshot-stream-'));
  dirs.push(d);
  return d;
}

const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const META = { index: 500, term: 3, conf: { voters: [1, 2, 3], learners: [] } };
/** Enough users for the follower to write their records in more than two batches. */
const USERS = 2 * BATCH_RECORDS + 10;

/** Users with no policy, one with a non-ASCII description, and the owner of a vol (a policy: an ordinary record). */
function leaderModel(): ModelState {
  const state = bootstrapped();
  const { meta, data } = withNodesN(state, 1);
  createVol(state, 'big', 'owner', { meta, data, mps: 1, dps: 1 });
  let index = 1000;
  const quick = (command: Command): void => {
    const applied = apply(state, command, { index: index++, term: 1 });
    assert.ok(applied.result.ok);
    applyChanges(state, applied.changes);
  };
  for (let i = 0; i < USERS; i++) quick(userCreateCmd(`user${i}`));
  okChecked(state, userCreateCmd('zoe', { description: 'café ☕' }));
  return state;
}

async function streamOf(state: ModelState): Promise<KeyValue[]> {
  const fsmPairs = [{ key: APPLIED_KEY, value: encodeApplied(META) }];
  return (await collect(modelSnapshotBatches(fsmPairs, freezeRecords(state), state.users.size))).flat();
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

async function follower(storeDir = tempDir()): Promise<MetadataFsm> {
  return MetadataFsm.open({ storeDir, logger, modelImageMinRecords: 0 });
}

/** Small chunks cut pairs and table parts across chunk bounds; large ones hold a table's end and records. */
async function stage(fsm: MetadataFsm, pairs: readonly KeyValue[], chunkSizeBytes = 16 * 1024): Promise<void> {
  await fsm.stageSnapshot(META, encodeSnapshotChunks(asyncOf([pairs]), chunkSizeBytes));
}

async function storePairs(fsm: MetadataFsm): Promise<string[]> {
  const source = await fsm.openStoreSnapshot();
  try {
    const out: string[] = [];
    for await (const batch of decodeSnapshotChunks(source.chunks(new AbortController().signal))) {
      for (const { key, value } of batch) out.push(`${text(key)}=${text(value)}`);
    }
    return out.sort();
  } finally {
    await source.release();
  }
}

void describe("a follower's snapshot with packed users", () => {
  const leader = leaderModel();

  for (const chunkSizeBytes of [16 * 1024, 1024 * 1024])
  void it(`installs the leader's model and exactly its records, and restarts from them (chunks of ${chunkSizeBytes} bytes)`, async () => {
    const pairs = await streamOf(leader);
    assert.equal(pairs.filter((p) => Buffer.from(p.key).equals(SNAPSHOT_TABLE_KEY)).length, 2, 'two packed tables');
    const storeDir = tempDir();
    const fsm = await follower(storeDir);
    await stage(fsm, pairs, chunkSizeBytes);
    await fsm.installStagedSnapshot(META);
    assert.equal(fsm.digest(), modelDigest(leader));
    assert.equal(fsm.appliedIndex(), META.index);
    assert.ok(isCheckedPackedMap(fsm.view.users), 'the users are the checked packed table');
    assert.equal(fsm.view.users.get('zoe')?.description, 'café ☕');
    assert.ok(fsm.view.users.get('owner')!.policy.ownVols.length > 0, 'the vol owner keeps its policy');
    // The store holds every record as the leader's store would, and the applied index.
    const expected = [...putChangesOf(leader)].map((change) => {
      const op = changeToOp(change);
      assert.ok(op.type === 'put');
      return `${op.key}=${text(op.value)}`;
    });
    expected.push(`${text(APPLIED_KEY)}=${text(encodeApplied(META))}`);
    assert.deepEqual(await storePairs(fsm), expected.sort());
    // The packed users' and keys' records crossed as rows only.
    assert.ok(!pairs.some((p) => text(p.key).startsWith('#user#user')), 'no pair for a packed user');
    // A clean stop writes an image from the packed model; the next start reads it back.
    await fsm.close();
    const again = await MetadataFsm.open({ storeDir, logger });
    assert.equal(again.digest(), modelDigest(leader));
    await again.close();
  });

  const refusals: { name: string; change: (pairs: KeyValue[]) => KeyValue[]; error: RegExp }[] = [
    {
      name: 'a stream cut inside the key table',
      change: (pairs) => {
        const header = pairs.findIndex((p, i) => i > pairs.findIndex((q) => Buffer.from(q.key).equals(SNAPSHOT_TABLE_KEY)) && Buffer.from(p.key).equals(SNAPSHOT_TABLE_KEY));
        return pairs.slice(0, header + 2);
      },
      error: /ends inside the packed accessKeys/,
    },
    {
      name: 'one table of two',
      change: (pairs) => {
        const second = pairs.findIndex((p, i) => i > pairs.findIndex((q) => Buffer.from(q.key).equals(SNAPSHOT_TABLE_KEY)) && Buffer.from(p.key).equals(SNAPSHOT_TABLE_KEY));
        let end = second + 1;
        while (Buffer.from(pairs[end].key).equals(SNAPSHOT_TABLE_PART_KEY)) end++;
        return [...pairs.slice(0, second), ...pairs.slice(end)];
      },
      error: /one packed table of two/,
    },
    {
      name: 'tables after a record',
      change: (pairs) => {
        const record = pairs.findIndex((p) => text(p.key).startsWith('#c#'));
        return [pairs[0], pairs[record], ...pairs.slice(1).filter((_, i) => i + 1 !== record)];
      },
      error: /packed tables after the records/,
    },
    {
      name: 'a table whose stored hash is wrong',
      change: (pairs) => {
        // A table's parts: its count, its rows' length, its row starts, its key hashes, its rows.
        const hashes = pairs.findIndex((p) => Buffer.from(p.key).equals(SNAPSHOT_TABLE_KEY)) + 4;
        const value = Buffer.from(pairs[hashes].value);
        value[0] ^= 0x01;
        return pairs.map((p, i) => (i === hashes ? { key: p.key, value } : p));
      },
      error: /the packed users do not hold together: packed users row 0: stored hash is not its key's/,
    },
    {
      name: 'a table part without its header',
      change: (pairs) => [pairs[0], { key: SNAPSHOT_TABLE_PART_KEY, value: Buffer.alloc(8) }, ...pairs.slice(1)],
      error: /a packed table part without its header/,
    },
  ];
  for (const { name, change, error } of refusals) {
    void it(`refuses ${name}, installing nothing`, async () => {
      const pairs = change(await streamOf(leader));
      const fsm = await follower();
      await assert.rejects(stage(fsm, pairs), (err: unknown) => err instanceof SnapshotStreamError && error.test(err.message));
      await fsm.discardStagedSnapshot();
      assert.equal(fsm.appliedIndex(), 0);
      assert.equal(fsm.view.users.size, 0);
      await fsm.close();
    });
  }

  void it('refuses tables whose rows are of another version, installing nothing', async () => {
    const pairs = (await streamOf(leader)).map((p) => {
      if (!Buffer.from(p.key).equals(SNAPSHOT_TABLE_KEY)) return p;
      const header = JSON.parse(text(p.value)) as { rows: number };
      return { key: p.key, value: Buffer.from(JSON.stringify({ ...header, rows: header.rows + 1 }), 'utf8') };
    });
    const fsm = await follower();
    await assert.rejects(stage(fsm, pairs), /hold rows of version 2; this member reads version 1 \(upgrade it\)/);
    await fsm.discardStagedSnapshot();
    assert.equal(fsm.appliedIndex(), 0);
    await fsm.close();
  });
});

/** Not a type guard: the test reads the map as a Map after. */
function isCheckedPackedMap(map: ReadonlyMap<string, unknown>): boolean {
  return map instanceof PackedMap && map.checkedBase;
}
