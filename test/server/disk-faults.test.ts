// Disk faults on a real master process (docs/faults.md): a failed fsync stops the member
// (exit 1, one fatal line) and a restart recovers from what is on disk; a full disk refuses
// writes with 503 at once, shows in the metrics, and the member takes writes again by itself
// once space returns. Faults come from the chaos hooks (CUBEMASTER_CHAOS=1,
// src/server/chaos-hooks.ts); everything else is real: the process, its WAL and RocksDB.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cfsGet, cfsRequest } from '../integration/cfs-client.js';
import { MasterProcess } from '../integration/master-process.js';
import { memberAudit, waitUntil } from '../integration/member-status.js';

function singleMaster(dir: string): MasterProcess {
  return new MasterProcess({
    id: 1,
    host: '127.0.0.31',
    httpPort: 17010,
    raftPort: 17110,
    peers: '1:127.0.0.31:17010:17110',
    dataDir: dir,
    env: { CUBEMASTER_CHAOS: '1' },
  });
}

async function createUser(url: string, id: string): Promise<{ status: number; code: number | undefined; body: string }> {
  const reply = await cfsRequest(url, '/user/create', { body: { id, type: 2 }, timeoutMs: 10_000 });
  return { status: reply.status, code: reply.envelope?.code, body: reply.body };
}

async function injectDisk(url: string, params: Record<string, string | number>): Promise<void> {
  const reply = await cfsGet(url, '/cubemaster/chaos/disk', params, { timeoutMs: 2_000 });
  assert.equal(reply.envelope?.code, 0, reply.body);
}

async function userExists(url: string, id: string): Promise<boolean> {
  const reply = await cfsGet(url, '/user/info', { user: id }, { timeoutMs: 5_000 });
  return reply.envelope?.code === 0;
}

async function metric(url: string, line: RegExp): Promise<number> {
  const reply = await cfsGet(url, '/metrics', {}, { timeoutMs: 5_000 });
  const match = reply.body.split('\n').find((l) => line.test(l));
  assert.ok(match !== undefined, `no metric ${line} in /metrics`);
  return Number(match.split(' ').at(-1));
}

void test('a failed fsync of the Raft log stops the master (exit 1, one fatal line naming the fsync); restarted, it holds every acknowledged write', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fsync-failure-'));
  const master = singleMaster(dir);
  try {
    await master.start();
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      const reply = await createUser(master.url, `before_${i}`);
      assert.equal(reply.code, 0, reply.body);
      acked.push(`before_${i}`);
    }
    await injectDisk(master.url, { store: 'raft-log', fault: 'fsync-error' });
    // The write whose fsync fails: never acknowledged (its outcome is unknown to the client).
    const doomed = await createUser(master.url, 'doomed').catch((e: Error) => ({ status: 0, code: undefined, body: e.message }));
    assert.notEqual(doomed.code, 0, `a write whose fsync failed was acknowledged: ${doomed.body}`);
    const exit = await master.waitExit(15_000);
    assert.deepEqual(exit, { code: 1, signal: null });
    const fatal = master.logs.split('\n').filter((line) => line.includes('"level":60'));
    assert.equal(fatal.length, 1, `one fatal line, got:\n${fatal.join('\n')}`);
    assert.match(fatal[0], /fdatasync/);
    assert.match(fatal[0], /EIO/);
    assert.deepEqual(master.crashLines(), []);

    await master.start();
    for (const id of acked) assert.ok(await userExists(master.url, id), `acknowledged user ${id} lost`);
    const after = await createUser(master.url, 'after_restart');
    assert.equal(after.code, 0, after.body);
    const audit = await memberAudit(master.url);
    assert.equal(audit.modelDigest, audit.storeDigest);
    master.signal('SIGTERM');
    assert.deepEqual(await master.waitExit(10_000), { code: 0, signal: null });
  } finally {
    await master.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const store of ['raft-log', 'state'] as const) {
  void test(`a full disk under the ${store === 'raft-log' ? 'Raft log' : 'state store (RocksDB)'} refuses writes with 503 "disk full", sets cubemaster_disk_full, and the master takes writes again by itself once space returns; nothing acknowledged is lost`, { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), `disk-full-${store}-`));
    const master = singleMaster(dir);
    try {
      await master.start();
      const acked = new Set<string>();
      for (let i = 0; i < 10; i++) {
        assert.equal((await createUser(master.url, `before_${i}`)).code, 0);
        acked.add(`before_${i}`);
      }
      await injectDisk(master.url, { store, fault: 'full', durationMs: 600_000 });
      // The write that finds the disk full (the log: its save waits for space; the state store:
      // the apply is written behind the reply), then refusals at once.
      const first = createUser(master.url, 'first_on_full_disk');
      const refused = await waitUntil('a 503 disk full', async () => {
        const id = `probe_${Date.now()}`;
        const reply = await createUser(master.url, id);
        if (reply.code === 0) acked.add(id);
        return reply.status === 503 ? reply : null;
      }, 10_000);
      assert.match(refused.body, /disk full/);
      assert.equal(await metric(master.url, new RegExp(`^cubemaster_disk_full\\{store="${store}"\\}`)), 1);
      assert.equal(master.running, true, 'the member stays up');
      await injectDisk(master.url, { fault: 'clear' });
      await waitUntil('writes taken again', async () => {
        const id = `resumed_${Date.now()}`;
        const ok = (await createUser(master.url, id)).code === 0;
        if (ok) acked.add(id);
        return ok;
      }, 15_000);
      const firstReply = await first;
      if (firstReply.code === 0) acked.add('first_on_full_disk');
      assert.equal(await metric(master.url, new RegExp(`^cubemaster_disk_full\\{store="${store}"\\}`)), 0);
      assert.equal(await metric(master.url, new RegExp(`^cubemaster_disk_full_episodes_total\\{store="${store}"\\}`)), 1);
      for (const id of acked) assert.ok(await userExists(master.url, id), `acknowledged user ${id} lost`);
      const lines = master.logs.split('\n');
      assert.equal(lines.filter((l) => l.includes('disk full: a store cannot write')).length, 1, 'one line when the disk fills');
      assert.equal(lines.filter((l) => l.includes('disk space available again')).length, 1, 'one line when space returns');
      master.signal('SIGTERM');
      assert.deepEqual(await master.waitExit(10_000), { code: 0, signal: null });
      await master.start();
      for (const id of acked) assert.ok(await userExists(master.url, id), `acknowledged user ${id} lost after a restart`);
      const audit = await memberAudit(master.url);
      assert.equal(audit.modelDigest, audit.storeDigest);
    } finally {
      await master.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
