// A real master process that writes its model image at every clean stop (modelImageMinRecords 0)
// and loads it at every start: its users (packed in the image, src/model/packed-users.ts) answer
// exactly as before the restart, through changes made after a load (updated keys, deletes, an
// id created again) and a second image written from the packed model; a SIGKILL at the end
// leaves no image, and the start that scans RocksDB gives the same answers again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cfsGet, cfsRequest } from './cfs-client.js';
import { MasterProcess } from './master-process.js';

const USERS = 300;
const IMAGE_LOADED = 'model loaded from the image of the last clean stop';
const IMAGE_NOT_USED = 'model image not used; scanning the store';

interface UserInfo {
  readonly user_id: string;
  readonly access_key: string;
}

async function ok<T>(reply: Promise<{ status: number; envelope: { code: number; data: T } | null; body: string }>, what: string): Promise<T> {
  const r = await reply;
  assert.equal(r.envelope?.code, 0, `${what}: ${r.status} ${r.body.slice(0, 300)}`);
  return r.envelope.data;
}

/** Every user's /user/info and /user/akInfo body and the /user/list body: what clients read. */
async function answers(url: string): Promise<Map<string, string>> {
  const list = await cfsGet<UserInfo[]>(url, '/user/list', {}, { timeoutMs: 30_000 });
  assert.equal(list.envelope?.code, 0, list.body.slice(0, 300));
  const out = new Map<string, string>([['list', list.body]]);
  for (const user of list.envelope.data) {
    out.set(`info ${user.user_id}`, (await cfsGet(url, '/user/info', { user: user.user_id })).body);
    out.set(`akInfo ${user.access_key}`, (await cfsGet(url, '/user/akInfo', { ak: user.access_key })).body);
  }
  return out;
}

/** Stops with SIGTERM (exit 0) and starts again; returns the lines the start logged. */
async function restart(master: MasterProcess): Promise<string> {
  master.signal('SIGTERM');
  assert.deepEqual(await master.waitExit(30_000), { code: 0, signal: null }, master.tail());
  const before = master.logs.length;
  await master.start();
  return master.logs.slice(before);
}

void test('users answer the same after starts from the model image, with changes in between, and after a scan', { timeout: 5 * 60_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'model-image-restart-'));
  const master = new MasterProcess({
    id: 1,
    host: '127.0.0.24',
    httpPort: 17010,
    raftPort: 17110,
    peers: '1:127.0.0.24:17010:17110',
    dataDir: dir,
    extraConfig: { modelImageMinRecords: 0 },
  });
  try {
    await master.start();
    for (let i = 0; i < USERS; i++) {
      const description = i % 7 === 0 ? `utilisatrice n°${i} ユーザー` : i % 5 === 0 ? `user ${i}` : '';
      await ok(cfsRequest(master.url, '/user/create', { body: { id: `u${i}`, type: 2 + (i % 2), description } }), `create u${i}`);
    }
    const first = await answers(master.url);

    const loaded = await restart(master);
    assert.match(loaded, new RegExp(IMAGE_LOADED), 'the start loads the image the stop wrote');
    assert.deepEqual(await answers(master.url), first, 'answers after the first start from the image');

    // Changes to packed users: new keys and descriptions, deletes, an id created again, new users.
    for (let i = 0; i < 20; i++) await ok(cfsRequest(master.url, '/user/update', { body: { user_id: `u${i}`, description: `changed ${i}`, access_key: `NEWKEY${String(i).padStart(10, '0')}` } }), `update u${i}`);
    for (let i = 20; i < 40; i++) await ok(cfsGet(master.url, '/user/delete', { user: `u${i}` }), `delete u${i}`);
    await ok(cfsRequest(master.url, '/user/create', { body: { id: 'u25', type: 3, description: 'again' } }), 'create u25 again');
    for (let i = USERS; i < USERS + 20; i++) await ok(cfsRequest(master.url, '/user/create', { body: { id: `u${i}`, type: 3 } }), `create u${i}`);
    const changed = await answers(master.url);
    const listed = JSON.parse(changed.get('list')!) as { data: UserInfo[] };
    assert.equal(listed.data.length, 1 + USERS - 20 + 1 + 20, 'root, the users left, u25 again, the new ones');
    assert.match(changed.get('info u3')!, /NEWKEY0000000003/);

    // This image is written from the packed model: unchanged rows copied, changed ones encoded.
    assert.match(await restart(master), new RegExp(IMAGE_LOADED));
    assert.deepEqual(await answers(master.url), changed, 'answers after a start from an image of a loaded, changed model');

    // A crash leaves no image: the start scans RocksDB, the truth, and must agree.
    await master.kill();
    const before = master.logs.length;
    await master.start();
    assert.doesNotMatch(master.logs.slice(before), new RegExp(IMAGE_LOADED));
    assert.doesNotMatch(master.logs.slice(before), new RegExp(IMAGE_NOT_USED), 'no image was left to refuse');
    assert.deepEqual(await answers(master.url), changed, 'answers after a start that scanned the store');
    assert.deepEqual(master.crashLines(), []);
  } finally {
    await master.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
