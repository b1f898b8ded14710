// Wall-clock steps on a real master (docs/faults.md, "Clock jumps"): Raft's timing runs on the
// monotonic clock, so a step of Date.now (ChaosClock, CUBEMASTER_CHAOS=1) neither starts an
// election nor fails a write in flight; node liveness ages reports on the monotonic clock (the
// wall clock only stamps the ReportTime shown), so the nodes heartbeating every interval stay
// active, and a node that stops reporting at a backward step goes inactive within the usual
// bound, not the size of the step later.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startSimNodes } from '../../src/nodes/sim/index.js';
import { cfsGet, cfsRequest } from '../integration/cfs-client.js';
import { MasterProcess } from '../integration/master-process.js';
import { memberStatus, waitUntil } from '../integration/member-status.js';

const HOUR_MS = 3_600_000;
/** A silent node is inactive once its last report is 18 s old, seen by the next 6 s liveness pass; plus slack for a loaded machine. */
const INACTIVE_WITHIN_MS = 18_000 + 6_000 + 4_000;

async function createUser(url: string, id: string): Promise<number | undefined> {
  const reply = await cfsRequest(url, '/user/create', { body: { id, type: 2 }, timeoutMs: 10_000 });
  return reply.envelope?.code;
}

async function chaos(url: string, route: string, params: Record<string, string | number>): Promise<void> {
  const reply = await cfsGet(url, route, params, { timeoutMs: 2_000 });
  assert.equal(reply.envelope?.code, 0, reply.body);
}

/** addr -> active, for every meta and data node the master knows. */
async function nodesActive(url: string): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  for (const route of ['/admin/cluster/getAllMetaNodes', '/admin/cluster/getAllDataNodes']) {
    const reply = await cfsGet<{ Addr: string; Status: boolean }[]>(url, route, {}, { timeoutMs: 5_000 });
    for (const n of reply.envelope?.data ?? []) out.set(n.Addr, n.Status);
  }
  return out;
}

void test('wall-clock steps (an hour forward, then two hours back): no election, a write in flight completes, nodes stay active, a node silent from the back step goes inactive in 18 s + one pass', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'clock-jumps-'));
  const master = new MasterProcess({
    id: 1,
    host: '127.0.0.32',
    httpPort: 17010,
    raftPort: 17110,
    peers: '1:127.0.0.32:17010:17110',
    dataDir: dir,
    env: { CUBEMASTER_CHAOS: '1' },
    extraConfig: { nodeHeartbeatIntervalMs: 500 },
  });
  let nodes: Awaited<ReturnType<typeof startSimNodes>> | null = null;
  try {
    await master.start();
    nodes = await startSimNodes({ masterAddrs: ['127.0.0.32:17010'], meta: 2, data: 2, common: { httpTimeoutMs: 2_000 } });
    await waitUntil('every node active', async () => {
      const active = await nodesActive(master.url);
      return active.size === 4 && [...active.values()].every(Boolean);
    }, 20_000);
    const before = await memberStatus(master.url);
    let silent: { addr: string; sinceMs: number } | null = null;

    for (const [step, offsetMs] of [['forward', HOUR_MS], ['back', -HOUR_MS]] as const) {
      // A write in flight across the step: its fsync takes a second.
      await chaos(master.url, '/cubemaster/chaos/disk', { store: 'raft-log', fault: 'slow', delayMs: 1_000, durationMs: 1_500 });
      const inFlight = createUser(master.url, `inflight_${step}`);
      await new Promise((r) => setTimeout(r, 200));
      if (step === 'back') {
        // Its last report was stamped an hour ahead; after the step that lies two hours in the
        // master's future, which must not keep the node active.
        const node = nodes.metaNodes[0];
        await node.crash();
        silent = { addr: node.addr, sinceMs: Date.now() };
      }
      await chaos(master.url, '/cubemaster/chaos/clock', { offsetMs });
      assert.equal(await inFlight, 0, `the write in flight across the ${step} step`);
      assert.equal(await createUser(master.url, `after_${step}`), 0);
      // After a liveness pass (every 6 s, src/cluster/schedulers.ts) under the new time: every
      // node active, its reports (every 500 ms) stamped with that time.
      await new Promise((r) => setTimeout(r, 6_500));
      const reporting = async (): Promise<boolean> => [...(await nodesActive(master.url))].every(([addr, active]) => active || addr === silent?.addr);
      await waitUntil(`every reporting node active after the ${step} step`, reporting, 15_000);
      const status = await memberStatus(master.url);
      assert.equal(status.term, before.term, `no election after the ${step} step`);
      assert.equal(status.role, 'leader');
    }
    assert.ok(silent !== null);
    const { addr, sinceMs } = silent;
    await waitUntil(`${addr}, silent since the back step, inactive`, async () => (await nodesActive(master.url)).get(addr) === false, Math.max(0, sinceMs + INACTIVE_WITHIN_MS - Date.now()));
    await nodes.close();
    nodes = null;
    master.signal('SIGTERM');
    assert.deepEqual(await master.waitExit(10_000), { code: 0, signal: null });
  } finally {
    await nodes?.close();
    await master.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
