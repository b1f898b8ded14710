// Recovery with the real nodes (issue 11, point 5; docs/recovery.md): 3 cubemaster members, a
// real CubeFS metanode, datanode and objectnode; a user and a vol, objects written through S3.
// Then every master is SIGKILLed and its disk wiped, and 3 new members run `cubemaster recover`
// on the same addresses. The real nodes must be heard (their reports rebuild the vol with the
// same partitions, ranges and node ids), the objects must read back byte for byte once the user
// is recreated with its old keys and the vol given back to it (the report's next steps), the
// cluster must take new writes, and the real nodes must survive a restart: they register again,
// get their old ids, and load every partition (none expired by the master's answer).
// Opt-in: `npm run test:cubefs-recover`; skipped without the binaries or a non-loopback IPv4
// address (under /work/bin/isolated: `ip addr add 10.254.0.1/32 dev lo` first).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { findBinaries } from '../cubefs/env.js';
import { waitFor } from '../cubefs/http.js';
import { cfsRequest } from '../integration/cfs-client.js';
import { MasterCluster } from '../integration/cluster.js';
import type { MasterProcess } from '../integration/master-process.js';
import { parseJsonExact } from '../../src/util/json.js';
import { roundTrip, s3Client, waitBucket } from './s3-round-trip.js';
import { MASTER_SUBNET, ObjectStack, STACK_MASTER_CONFIG, type Credentials } from './stack.js';

const USER: Credentials = { user: 'recuser', accessKey: 'RECOVERAK0000001', secretKey: 'RECOVERSK'.padEnd(31, '0') + '1' };
const VOL = 'recvol';
const KEPT = 'before-loss/kept.bin';

const found = findBinaries();
// The objectnode's SDK refuses to start without a non-loopback IPv4 address (ump.GetLocalIpAddr).
const localIp = Object.values(networkInterfaces())
  .flat()
  .some((a) => a !== undefined && a.family === 'IPv4' && !a.address.startsWith('127.'));
const skip = !found.ok
  ? `reference binaries not available: ${found.reason}`
  : !localIp
    ? 'no non-loopback IPv4 address here (the objectnode needs one; in a private network namespace: ip addr add 10.254.0.1/32 dev lo)'
    : false;
if (skip !== false) process.stderr.write(`cubefs recover suite skipped: ${skip}\n`);

interface View {
  meta: { id: number; start: string; end: string; members: string[] }[];
  data: { id: number; hosts: string[] }[];
  nodes: [number, string][];
}

async function data<T>(m: MasterProcess, pathAndQuery: string, body?: unknown): Promise<T> {
  const reply = await cfsRequest(m.url, pathAndQuery, { timeoutMs: 30_000, body });
  const e = parseJsonExact(reply.body) as { code: number; msg: string; data: T };
  if (e.code !== 0) throw new Error(`${pathAndQuery}: code ${e.code} ${e.msg}`);
  return e.data;
}

function count(text: string, pattern: RegExp): number {
  return [...text.matchAll(pattern)].length;
}

/** What a client needs of the vol and what an operator sees of the nodes; 64-bit values as text. */
async function view(m: MasterProcess): Promise<View> {
  const mps = await data<{ PartitionID: number; Start: bigint | number; End: bigint | number; Members: string[] }[]>(m, `/client/metaPartitions?name=${VOL}`);
  const dps = await data<{ DataPartitions: { PartitionID: number; Hosts: string[] }[] }>(m, `/client/partitions?name=${VOL}`);
  const metaNodes = await data<{ ID: number; Addr: string }[]>(m, '/admin/cluster/getAllMetaNodes');
  const dataNodes = await data<{ ID: number; Addr: string }[]>(m, '/admin/cluster/getAllDataNodes');
  return {
    meta: mps.map((p) => ({ id: p.PartitionID, start: String(p.Start), end: String(p.End), members: p.Members })),
    data: dps.DataPartitions.map((p) => ({ id: p.PartitionID, hosts: p.Hosts })).sort((a, b) => a.id - b.id),
    nodes: [...metaNodes, ...dataNodes].map((n): [number, string] => [n.ID, n.Addr]).sort((a, b) => a[0] - b[0]),
  };
}

void describe('recover with real CubeFS nodes after every master was lost', { skip }, () => {
  const t0 = Date.now();
  const say = (line: string): void => {
    process.stderr.write(`[recover-nodes +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);
  };
  let stack: ObjectStack | null = null;
  let fresh: MasterCluster | null = null;
  let client: S3Client | null = null;
  let before_: View | null = null;
  const kept = randomBytes(300 * 1024);
  let failed = false;

  /** The object written before the loss, read through the objectnode (retried while it refreshes). */
  const readKept = (when: string): Promise<Buffer> =>
    waitFor(`GET ${KEPT} ${when}`, 120_000, async () => {
      try {
        const r = await client!.send(new GetObjectCommand({ Bucket: VOL, Key: KEPT }));
        return Buffer.from(await r.Body!.transformToByteArray());
      } catch (error) {
        say(`GET ${KEPT}: ${(error as Error).message}`);
        return undefined;
      }
    }, 3000);

  const step = (name: string, body: () => Promise<void>): void => {
    void it(name, async () => {
      try {
        await body();
      } catch (error) {
        failed = true;
        throw error;
      }
    });
  };

  before(async () => {
    if (!found.ok || skip !== false) return;
    stack = new ObjectStack(found.bins, say);
    try {
      await stack.startMasters();
      await stack.startNodes();
      await stack.createUserAndVol(USER, VOL);
      const leader = await stack.leaderAddr();
      await stack.waitPartitionsReady(VOL, leader, 60_000);
      await stack.startObjectNode(leader);
      client = s3Client(stack.objectNodeEndpoint, USER);
      await waitBucket(client, VOL, 60_000, say);
      await client.send(new PutObjectCommand({ Bucket: VOL, Key: KEPT, Body: kept }));
      say(`PUT ${KEPT} (${kept.length} B) before the loss`);
      before_ = await view(await stack.masters.leader());
      say(`before the loss: ${before_.meta.length} meta and ${before_.data.length} data partitions, nodes ${JSON.stringify(before_.nodes)}`);
    } catch (error) {
      failed = true;
      (error as Error).message += `\nlogs: ${stack.logPaths().join(', ')}`;
      throw error;
    }
  });

  after(async () => {
    client?.destroy();
    await fresh?.stop();
    if (fresh !== null) await Promise.all(fresh.masters.map((m) => m.kill()));
    if (stack === null) return;
    await stack.stop();
    if (failed || process.env.CUBEFS_KEEP === '1') say(`kept ${stack.dir} and ${fresh?.dir ?? ''}`);
    else {
      rmSync(stack.dir, { recursive: true, force: true });
      if (fresh !== null) rmSync(fresh.dir, { recursive: true, force: true });
    }
  });

  step('every master SIGKILLed and wiped; 3 new members running recover rebuild the vol from the real nodes', async () => {
    const s = stack!;
    await Promise.all(s.masters.masters.map((m) => m.kill()));
    for (const m of s.masters.masters) {
      rmSync(path.join(m.spec.dataDir, 'wal'), { recursive: true, force: true });
      rmSync(path.join(m.spec.dataDir, 'store'), { recursive: true, force: true });
    }
    say('every master SIGKILLed, its wal and store removed');
    const nodes = `meta:${s.nodes!.meta[0].addr},data:${s.nodes!.data[0].addr}`;
    fresh = new MasterCluster({ subnet: MASTER_SUBNET, size: 3, extraConfig: STACK_MASTER_CONFIG, command: { name: 'recover', args: ['--nodes', nodes, '--collect-timeout-ms', '60000'] } });
    await fresh.start();
    const report = await waitFor('the recovery round to finish', 120_000, async () => {
      const r = await data<{ report: { phase: string; summary: Record<string, number> } | null }>(await fresh!.leader(), '/cubemaster/recovery');
      return r.report?.phase === 'done' ? r.report : undefined;
    });
    say(`recovery finished: ${JSON.stringify(report.summary)}`);
    const text = await data<string>(await fresh.leader(), '/cubemaster/recovery?format=text');
    say(`report:\n${text}`);
    assert.deepEqual(await view(await fresh.leader()), before_);
  });

  step('the objects written before the loss read back once the user is recreated with its keys and given its vol', async () => {
    const leader = await fresh!.leader();
    await data(leader, '/user/create', { id: USER.user, pwd: 'pw-recover', ak: USER.accessKey, sk: USER.secretKey, type: 3, description: 'recreated' });
    await data(leader, '/user/transferVol', { volume: VOL, user_src: 'root', user_dst: USER.user, force: true });
    say(`user ${USER.user} recreated with its old keys, ${VOL} transferred back to it`);
    assert.ok((await readKept('through the objectnode')).equals(kept), 'the bytes differ from what was PUT before the loss');
    const r = await roundTrip(client!, VOL, 'after-recovery', say);
    say(`round trip after the recovery: ${r.keys.length} objects in ${r.ms} ms`);
  });

  step('the real nodes restart: same ids, every partition loaded, the objects still read back', async () => {
    const s = stack!;
    const metaOut = path.join(s.dir, 'mn1', 'output.txt');
    const dataOut = path.join(s.dir, 'dn1', 'output.txt');
    const dataId = before_!.nodes.find(([, addr]) => addr === s.nodes!.data[0].addr)?.[0];
    await s.restartNodes();
    // The processes' own output: a second start (the first one had no partition to load),
    // registered under the old id, every partition loaded.
    await waitFor('the restarted nodes to load their partitions', 120_000, () => {
      const meta = readFileSync(metaOut, 'utf8');
      const data = readFileSync(dataOut, 'utf8');
      const metaDone = count(meta, /Finish loadPartitions!!!/g) === 2;
      const dataDone = count(data, new RegExp(`register DataNode: nodeID\\(${dataId}\\)`, 'g')) === 2 && count(data, /load all dp\(3\)/g) === 1;
      return Promise.resolve(metaDone && dataDone ? true : undefined);
    });
    const meta = readFileSync(metaOut, 'utf8');
    for (const mp of before_!.meta) assert.equal(count(meta, new RegExp(`load meta partition ${mp.id} success`, 'g')), 1, `meta partition ${mp.id} loaded at the restart`);
    assert.equal(count(meta, /expired/gi), 0, 'no meta partition set aside');
    assert.equal(count(readFileSync(dataOut, 'utf8'), /expired/gi), 0, 'no data partition set aside');
    say('metanode and datanode restarted: registered under their old ids, every partition loaded, none expired');
    assert.deepEqual((await view(await fresh!.leader())).nodes, before_!.nodes);
    assert.ok((await readKept('after the node restart')).equals(kept));
  });
});
