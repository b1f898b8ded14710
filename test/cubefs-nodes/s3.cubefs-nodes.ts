// S3 through a real CubeFS objectnode whose masters are cubemaster (issue 9, point 8): 3 cubemaster
// members, one real metanode, datanode and objectnode (cfs-server), a user and a vol created
// through cubemaster, an S3 round trip (PUT, GET same bytes, LIST, DELETE); then the leader master
// is SIGKILLed and the same round trip works again; last, a user and a vol created after the kill
// are served too (the objectnode must then look up the new keys and load the new vol from the
// surviving members, not from its caches). Opt-in: `npm run test:cubefs-nodes` (the file name
// does not end in .test.js, so `npm test` never runs it); skipped without the binaries.
// CUBEFS_KEEP=1 keeps the data dir (logs) after a green run too.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { findBinaries } from '../cubefs/env.js';
import { waitFor } from '../cubefs/http.js';
import { callCounts, formatCalls, phaseCalls, type PhaseCall } from './master-calls.js';
import { roundTrip, s3Client, waitBucket } from './s3-round-trip.js';
import { ObjectStack, type Credentials } from './stack.js';

// Keys we choose: 16 and 32 letters or digits, as the master requires.
const USER: Credentials = { user: 's3user', accessKey: 'S3NODESAK0000001', secretKey: 'S3NODESSK'.padEnd(31, '0') + '1' };
const VOL = 's3vol';
const LATE_USER: Credentials = { user: 's3late', accessKey: 'S3NODESAK0000002', secretKey: 'S3NODESSK'.padEnd(31, '0') + '2' };
const LATE_VOL = 's3late';
/** The vol views the objectnode's SDK re-reads for a mounted vol (the harness makes no calls while it waits for one). */
const REFRESH_ROUTES = ['/admin/getVol', '/client/partitions', '/client/vol', '/client/metaPartitions'];

const found = findBinaries();
if (!found.ok) process.stderr.write(`cubefs-nodes S3 suite skipped: reference binaries not available: ${found.reason}\n`);

void describe('S3 through a real objectnode, 3 cubemaster members, real metanode + datanode', { skip: found.ok ? false : `reference binaries not available: ${found.reason}` }, () => {
  const t0 = Date.now();
  const say = (line: string): void => {
    process.stderr.write(`[s3-nodes +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);
  };
  let stack: ObjectStack | null = null;
  let client: S3Client | null = null;
  const clients: S3Client[] = [];
  let failed = false;

  const running = (): string[] => stack!.masters.masters.filter((m) => m.running).map((m) => m.url);
  /** Runs `body` and prints the master calls made meanwhile (by the objectnode: the harness makes none). */
  const tracked = async (what: string, body: () => Promise<void>): Promise<PhaseCall[]> => {
    const members = running();
    const before = await callCounts(members);
    await body();
    const calls = phaseCalls(before, await callCounts(members));
    say(`master calls during ${what}:\n${formatCalls(calls)}`);
    const unmatched = calls.filter((c) => c.route === 'unmatched' || c.status === '404');
    assert.deepEqual(unmatched, [], `routes cubemaster lacks were called during ${what}`);
    return calls;
  };

  before(async () => {
    if (!found.ok) return;
    stack = new ObjectStack(found.bins, say);
    try {
      await stack.startMasters();
      await stack.startNodes();
      await stack.createUserAndVol(USER, VOL);
      const leader = await stack.leaderAddr();
      await stack.waitPartitionsReady(VOL, leader, 60_000);
      say(`vol ${VOL}: every meta and data partition listed with a leader`);
      await tracked('objectnode start-up and first HeadBucket', async () => {
        await stack!.startObjectNode(leader);
        client = s3Client(stack!.objectNodeEndpoint, USER);
        clients.push(client);
        await waitBucket(client, VOL, 60_000, say);
      });
    } catch (error) {
      failed = true;
      (error as Error).message += `\nlogs: ${stack.logPaths().join(', ')}`;
      throw error;
    }
  });

  after(async () => {
    for (const c of clients) c.destroy();
    if (stack === null) return;
    await stack.stop();
    if (failed || process.env.CUBEFS_KEEP === '1') say(`kept ${stack.dir}; logs: ${stack.logPaths().join(', ')}`);
    else rmSync(stack.dir, { recursive: true, force: true });
  });

  const step = (name: string, body: () => Promise<void>): void => {
    void it(name, async () => {
      try {
        assert.ok(stack !== null && client !== null, 'the stack did not start');
        await body();
      } catch (error) {
        failed = true;
        throw error;
      }
    });
  };

  step('PUT, GET (same bytes), LIST and DELETE through the objectnode', async () => {
    await tracked('the first round trip', async () => {
      const r = await roundTrip(client!, VOL, 'before-kill', say);
      say(`round trip before the kill: ${r.keys.length} objects in ${r.ms} ms`);
    });
  });

  step('the same round trip works after the leader master is SIGKILLed', async () => {
    const old = await stack!.masters.leader();
    const killedAt = Date.now();
    await old.kill();
    say(`SIGKILLed the leader master ${old.spec.host}:${old.spec.httpPort} (pid ${old.pid}, exit ${JSON.stringify(old.exitInfo)})`);
    const leader = await stack!.masters.leader(30_000);
    say(`new leader ${leader.spec.host}:${leader.spec.httpPort} after ${Date.now() - killedAt} ms`);
    await stack!.waitPartitionsReady(VOL, `${leader.spec.host}:${leader.spec.httpPort}`, 60_000);
    say(`vol ${VOL}: partition leaders known to the new leader after ${Date.now() - killedAt} ms`);
    await tracked('the round trip after the kill', async () => {
      const r = await roundTrip(client!, VOL, 'after-kill', say);
      say(`round trip after the kill: ${r.keys.length} objects in ${r.ms} ms (${Date.now() - killedAt} ms after the kill)`);
    });
    // The objectnode served that from its caches; its SDK refreshes the vol from the masters
    // periodically (about every 30 s in the spec's capture), starting with the dead first address.
    // Wait for that refresh to reach a surviving member, then go round once more.
    const members = running();
    const base = await callCounts(members);
    const refresh = await waitFor('the objectnode to refresh vol views from a surviving member', 90_000, async () => {
      const calls = phaseCalls(base, await callCounts(members));
      return calls.some((c) => REFRESH_ROUTES.includes(c.route) && c.code === '0') ? calls : undefined;
    }, 2000);
    say(`objectnode re-read the vol views from the survivors ${Date.now() - killedAt} ms after the kill; master calls meanwhile:\n${formatCalls(refresh)}`);
    await tracked('the round trip after the refresh', async () => {
      const r = await roundTrip(client!, VOL, 'after-refresh', say);
      say(`round trip after the refresh: ${r.keys.length} objects in ${r.ms} ms`);
    });
  });

  step('a user and a vol created after the kill are served: the objectnode asks the surviving members', async () => {
    await stack!.createUserAndVol(LATE_USER, LATE_VOL);
    await stack!.waitPartitionsReady(LATE_VOL, await stack!.leaderAddr(), 60_000);
    const late = s3Client(stack!.objectNodeEndpoint, LATE_USER);
    clients.push(late);
    const calls = await tracked(`the first round trip on ${LATE_VOL}`, async () => {
      await waitBucket(late, LATE_VOL, 60_000, say);
      const r = await roundTrip(late, LATE_VOL, 'late', say);
      say(`round trip on ${LATE_VOL} as ${LATE_USER.user}: ${r.keys.length} objects in ${r.ms} ms`);
    });
    // The new access key and the new vol are in no cache of the objectnode: it asked cubemaster.
    for (const route of ['/user/akInfo', '/admin/getVol', '/client/vol', '/client/partitions'])
      assert.ok(calls.some((c) => c.route === route && c.code === '0'), `the objectnode made no successful ${route} call for ${LATE_VOL}`);
  });
});
