// The cubemasters the wire captures are replayed against, each built into the state the Go
// master was in when the capture began (the .md next to each capture; README.md there):
// - single master: a fresh cluster "test" (the FakeGroup bootstrap: the capture's root keys and
//   create time), no nodes;
// - with meta/data nodes: singleNodeMode, one sim meta node and one sim data node registered
//   over HTTP (ids 2 and 3, node set 1), and what the earlier runs had left: alice (admin, her
//   captured keys), carol, the node info settings of the single-master run, vol1 created,
//   transferred, deleted and removed (its partition ids used up: vol2's mp 4 and dp 5 exist, as
//   in the capture), vol2 created, expanded to 20, shrunk to 15 GB and given one more dp;
// - 3 masters: a group of three (member 1 leads) bootstrapped as "test3" with that capture's
//   root keys; cfs-cli's proxy ports 17141/17142/17143 are members 1/2/3.
// Every setup request is sent over HTTP exactly as cfs-cli sends it and must succeed.

import assert from 'node:assert/strict';
import { removeDeletedVols } from '../../src/cluster/cleanup.js';
import { makeCommand, passwordSha1, ROOT_PASSWORD } from '../../src/model/index.js';
import { countingRandom, FakeGroup, fixedClock } from '../cluster/fakes.js';
import { ALICE_KEY, authKey, createVolQuery, domainMaster, type DomainMaster } from './domain-helpers.js';
import { listen, singleMaster, startMaster, type TestMaster } from './helpers.js';
import { loadCapture, send, type Exchange } from './wire-replay-capture.js';

export interface ReplayTarget {
  /** The listening master that a request cfs-cli sent to `host` (a proxy port) reaches. */
  addrOf(host: string): string;
  /** Runs before every replayed request (heartbeats: the Go master had them all along). */
  beforeEach(): Promise<void>;
  /** Closes every master, node, socket and timer; idempotent. */
  close(): Promise<void>;
}

const JSON_HEADERS = { 'user-agent': 'cubefs-sdk/ (commit )', connection: 'close', 'content-type': 'application/json', 'accept-encoding': 'gzip' };

/** A request cfs-cli would send, for setup; asserts code 0 and returns data. */
export async function setupCall(addr: string, method: 'GET' | 'POST', url: string, body?: unknown): Promise<unknown> {
  const reply = await send(addr, { method, url, headers: JSON_HEADERS, body: Buffer.from(body === undefined ? '' : JSON.stringify(body)) });
  assert.equal(reply.status, 200, `setup ${url}: HTTP ${reply.status} ${reply.text}`);
  const env = JSON.parse(reply.text) as { code: number; msg: string; data: unknown };
  assert.equal(env.code, 0, `setup ${method} ${url}: code ${env.code} ${env.msg}`);
  return env.data;
}

/** A captured exchange's request, sent for setup (must succeed). */
async function setupReplay(addr: string, ex: Exchange): Promise<void> {
  const reply = await send(addr, ex);
  const env = JSON.parse(reply.text) as { code: number; msg: string };
  assert.equal(env.code, 0, `setup replay of seq ${ex.seq} ${ex.url}: code ${env.code} ${env.msg}`);
}

export async function singleMasterTarget(): Promise<ReplayTarget & { readonly master: TestMaster }> {
  const master = singleMaster();
  const addr = await listen(master.app);
  let closing: Promise<void> | null = null;
  return {
    master,
    addrOf: () => addr,
    beforeEach: () => Promise.resolve(),
    close: () => (closing ??= master.app.close()),
  };
}

/** alice and carol with the keys the captures show (cli-vs-single-master seq 15, run 1's carol). */
export const ALICE = { id: 'alice', ak: 'MzloR2E5EYUGKBkY', sk: '67gNEnZWH1LRMGVjNp4i3kFIHHZ9ONWH' };
export const CAROL = { id: 'carol', ak: 'vMNQFgSHomxjtXz7', sk: 'FtbF1KbmmDkUwcXYFh3xFS2FwYwhMkBX' };

export interface NodesTarget extends ReplayTarget {
  readonly dm: DomainMaster;
}

export async function withNodesTarget(): Promise<NodesTarget> {
  const dm = await domainMaster({ meta: 1, data: 1, singleNodeMode: true });
  let closing: Promise<void> | null = null;
  const target: NodesTarget = {
    dm,
    addrOf: () => dm.addr,
    beforeEach: () => dm.heartbeat(),
    close: () => (closing ??= dm.close()),
  };
  try {
    await buildEarlierRuns(dm);
  } catch (e) {
    await target.close();
    throw e;
  }
  return target;
}

/** What the single-master run and run 1 (cli-transcript-with-nodes-run1-before-singleNodeMode.txt) left. */
async function buildEarlierRuns(dm: DomainMaster): Promise<void> {
  const addr = dm.addr;
  const single = loadCapture('cli-vs-single-master.jsonl');
  const bySeq = (seq: number) => single.find((e) => e.seq === seq)!;
  // cluster set --batchCount 100; cluster set --loadFactor 1.5 (single master seq 35, 36).
  await setupReplay(addr, bySeq(35));
  await setupReplay(addr, bySeq(36));
  for (const u of [ALICE, CAROL]) {
    await setupCall(addr, 'POST', '/user/create?clientIDKey=', { id: u.id, pwd: '', ak: u.ak, sk: u.sk, type: 3, description: '' });
  }
  // user update alice --user-type admin -y (single master seq 45).
  await setupReplay(addr, bySeq(45));
  // Run 1: vol1 created (mps 1-3, dps 1-3), transferred to carol, deleted, then removed.
  await setupCall(addr, 'GET', createVolQuery({ name: 'vol1' }));
  await setupCall(addr, 'POST', '/user/transferVol?clientIDKey=', { volume: 'vol1', user_src: 'alice', user_dst: 'carol', force: false });
  await setupCall(addr, 'GET', `/vol/delete?name=vol1&authKey=${authKey('carol')}&clientIDKey=`);
  await dm.heartbeat();
  await removeMarkedVols(dm, ['vol1']);
  // vol2: mps 4-6, dps 4-6, then 15 GB and one more dp.
  await setupCall(addr, 'GET', createVolQuery({ name: 'vol2' }));
  await setupCall(addr, 'GET', `/vol/expand?name=vol2&authKey=${ALICE_KEY}&capacity=20&clientIDKey=`);
  await setupCall(addr, 'GET', `/vol/shrink?capacity=15&clientIDKey=&name=vol2&authKey=${ALICE_KEY}`);
  await setupCall(addr, 'GET', '/dataPartition/create?clientIDKey=&mediaType=0&name=vol2&count=1');
  // Go's vol2 had dps 4..13 when the capture began (MaxDataPartitionID 13 in seq 5, then
  // "clusterLastTotalDataPartitions[13]" with volB's 3 in seq 58): its scheduler had topped it up.
  await setupCall(addr, 'GET', '/dataPartition/create?clientIDKey=&mediaType=0&name=vol2&count=6');
  const vol2Dps = [...dm.group.state.dataPartitions.values()].map((d) => d.id).sort((a, b) => a - b);
  assert.deepEqual(vol2Dps, [4, 5, 6, 7, 8, 9, 10, 11, 12, 13], 'vol2 has dps 4..13, as in the capture');
  assert.ok(dm.group.state.metaPartitions.has(4), 'vol2 has mp 4');
  await dm.heartbeat();
}

/**
 * The "volA" husk the Go master left when seq 10's create failed halfway (Status 1, its meta
 * partitions kept): made here as a create of volA that succeeds, then a delete. cubemaster's
 * failed create leaves nothing (docs/volume-create.md); this puts back the state that the later
 * requests of the capture were answered in.
 */
export async function makeVolAHusk(dm: DomainMaster): Promise<void> {
  await setupCall(dm.addr, 'GET', createVolQuery({ name: 'volA', mpCount: 3 }));
  await setupCall(dm.addr, 'GET', `/vol/delete?name=volA&authKey=${ALICE_KEY}&clientIDKey=`);
}

/** Go's background removal of a deleted vol (checkVolStatus, every 5 s): removes every marked vol. */
export async function removeMarkedVols(dm: DomainMaster, expected: readonly string[]): Promise<void> {
  const removed = await removeDeletedVols({ replicator: dm.group.replicator(1), nodes: dm.nodes, ops: dm.ops, proposeTimeoutMs: 5_000 }, AbortSignal.timeout(10_000));
  assert.deepEqual(removed, expected);
}

export interface ThreeMastersTarget extends ReplayTarget {
  readonly group: FakeGroup;
  readonly masters: readonly TestMaster[];
  /** The leader (member 1) is killed; member 3 wins the election. */
  killLeader(): Promise<void>;
}

export async function threeMastersTarget(): Promise<ThreeMastersTarget> {
  const group = new FakeGroup([1, 2, 3], 1, { bootstrap: false });
  group.applyNow(
    makeCommand('cluster.bootstrap', {
      clusterName: 'test3',
      createTimeUnixSec: Date.UTC(2026, 10, 25, 18, 44, 4) / 1000,
      root: { accessKey: 'TER5R3LIufsKNNgt', secretKey: 'W21STVptfUwER42I86UGDFHeAV5yJWsf', passwordSha1: passwordSha1(ROOT_PASSWORD) },
    }),
  );
  // The capture's clock (dave was created 30 s after the bootstrap); each member draws its own
  // keys (one counting source per member: the same sequence would repeat dave's keys for erin).
  const masters = [1, 2, 3].map((id) =>
    startMaster(group, id, {
      cluster: { clusterName: 'test3', selfId: id, selfHttpAddr: '' },
      clock: fixedClock(Date.UTC(2026, 10, 25, 18, 44, 34)),
      random: countingRandom(id * 61),
    }),
  );
  const addrs = new Map<string, string>();
  let closing: Promise<void> | null = null;
  const close = () => (closing ??= Promise.all(masters.map((m) => m.app.close())).then(() => undefined));
  try {
    for (const m of masters) {
      const addr = await listen(m.app);
      group.setHttpAddr(m.id, addr);
      addrs.set(`127.0.0.1:${17140 + m.id}`, addr);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return {
    group,
    masters,
    addrOf: (host) => {
      const addr = addrs.get(host);
      assert.ok(addr !== undefined, `no master behind proxy port ${host}`);
      return addr;
    },
    beforeEach: () => Promise.resolve(),
    close,
    killLeader: async () => {
      await masters[0].app.close();
      group.leaderId = 3;
      group.term += 1;
    },
  };
}
