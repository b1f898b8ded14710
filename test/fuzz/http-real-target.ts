// The HTTP fuzzer's real target (`npm run fuzz -- --real`): one master as a child process with
// its RocksDB and WAL in a temporary directory, three simulated meta and data nodes heartbeating
// to it, and the users and vols of the in-process fixture created through the API. Cases travel
// over real sockets. The state digest is the member's own audit (model and store digests); a
// case that leaves the member without leadership (it removed itself...) rebuilds the target.
// Background work that would change the state on its own is pushed out of the run's way (data
// partition top-up, the removal of deleted vols).

import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimNodes, type SimNodes } from '../../src/nodes/sim/index.js';
import { CALLER_CLASSES } from '../api/access-rules-doc.js';
import { KEYS, routeProbes, TINA_AK } from '../api/route-fixture.js';
import { cfsRequest, type CfsReply } from '../integration/cfs-client.js';
import { MasterProcess } from '../integration/master-process.js';
import type { HttpCase } from './http-cases.js';
import { HarnessRefusal, type HttpFuzzTarget, type HttpReply } from './http-fuzz.js';

const STABLE_POLL_MS = 50;
const SETTLE_MAX_MS = 3_000;

async function freePort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Running {
  readonly dir: string;
  readonly master: MasterProcess;
  readonly sims: SimNodes;
  readonly ids: { mp: number; dp: number; nodeSet: number };
  readonly rootKeys: { ak: string; sk: string };
  outputSeen: number;
}

async function call<T>(agent: http.Agent, master: MasterProcess, pathAndQuery: string, body?: unknown): Promise<CfsReply<T>> {
  return cfsRequest<T>(master.url, pathAndQuery, { agent, timeoutMs: 30_000, ...(body === undefined ? {} : { body, method: 'POST' as const }) });
}

async function must<T>(agent: http.Agent, master: MasterProcess, pathAndQuery: string, body?: unknown): Promise<T> {
  const r = await call<T>(agent, master, pathAndQuery, body);
  if (r.envelope === null || r.envelope.code !== 0) throw new Error(`fuzz setup: ${pathAndQuery} answered ${r.status} ${r.body.slice(0, 300)}`);
  return r.envelope.data;
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`fuzz setup: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function start(agent: http.Agent): Promise<Running> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cubemaster-fuzz-'));
  const host = '127.0.0.1';
  const [httpPort, raftPort] = [await freePort(host), await freePort(host)];
  const master = new MasterProcess({
    id: 1,
    host,
    httpPort,
    raftPort,
    peers: `1:${host}:${httpPort}:${raftPort}`,
    dataDir: dir,
    extraConfig: {
      clusterName: 'fuzz',
      logLevel: 'warn',
      nodeHeartbeatIntervalMs: 1_000,
      dataPartitionTopUpDelayMs: 3_600_000,
      volRemovalDelayMs: 30 * 86_400_000,
      orphanPartitionGraceMs: 86_400_000,
      memberCatchUpTimeoutMs: 1_000,
    },
  });
  await master.start();
  await until('leadership and the root user', async () => (await call(agent, master, '/user/info?user=root')).envelope?.code === 0);
  const root = await must<{ access_key: string; secret_key: string }>(agent, master, '/user/info?user=root');
  await must(agent, master, '/user/create', { id: 'nina', ak: KEYS.normal.ak, sk: KEYS.normal.sk, type: 3 });
  await must(agent, master, '/user/create', { id: 'adam', ak: KEYS.admin.ak, sk: KEYS.admin.sk, type: 2 });
  await must(agent, master, '/user/create', { id: 'tina', ak: TINA_AK, type: 3 });
  for (const c of CALLER_CLASSES) await must(agent, master, '/user/create', { id: `gone_${c}`, type: 3 });
  const sims = await startSimNodes({ masterAddrs: [`${host}:${httpPort}`], meta: 3, data: 3 });
  try {
    await until('every node live', async () => {
      const metas = await must<{ Status: boolean }[]>(agent, master, '/admin/cluster/getAllMetaNodes');
      const datas = await must<{ Status: boolean }[]>(agent, master, '/admin/cluster/getAllDataNodes');
      return metas.length === 3 && datas.length === 3 && [...metas, ...datas].every((n) => n.Status);
    });
    for (const name of ['vola', ...CALLER_CLASSES.flatMap((c) => [`del-${c}`, `move-${c}`])]) {
      await must(agent, master, `/admin/createVol?name=${name}&owner=nina&capacity=10&mpCount=1&dpCount=1&dpSize=11`);
    }
    const mps = await must<{ PartitionID: number }[]>(agent, master, '/client/metaPartitions?name=vola');
    const dps = await must<{ DataPartitions: { PartitionID: number }[] }>(agent, master, '/client/partitions?name=vola');
    const sets = await must<{ ID: number }[]>(agent, master, '/nodeSet/list');
    return {
      dir,
      master,
      sims,
      ids: { mp: mps[0].PartitionID, dp: dps.DataPartitions[0].PartitionID, nodeSet: sets[0].ID },
      rootKeys: { ak: root.access_key, sk: root.secret_key },
      outputSeen: master.logs.length,
    };
  } catch (e) {
    await sims.close();
    await master.kill();
    throw e;
  }
}

async function stop(r: Running): Promise<string[]> {
  const problems: string[] = [];
  await r.sims.close();
  r.master.signal('SIGTERM');
  try {
    const exit = await r.master.waitExit(15_000);
    if (exit.code !== 0) problems.push(`the master exited with ${JSON.stringify(exit)} on SIGTERM:\n${r.master.tail(20)}`);
  } catch (e) {
    problems.push(e instanceof Error ? e.message : String(e));
  }
  for (const line of r.master.crashLines()) problems.push(`crash output: ${line}`);
  rmSync(r.dir, { recursive: true, force: true });
  return problems;
}

/** A real master process with simulated nodes; rebuilt when a case left it unable to serve. */
export async function realMasterTarget(): Promise<HttpFuzzTarget & { readonly rebuilds: () => number }> {
  const agent = new http.Agent({ keepAlive: false });
  let running = await start(agent);
  let rebuilds = 0;
  let needsCheck = false;
  const digest = async (): Promise<string> => {
    const r = await call<{ modelDigest: string; storeDigest: string }>(agent, running.master, '/cubemaster/audit');
    if (r.envelope === null || r.envelope.code !== 0) return `unavailable: ${r.status} ${r.body.slice(0, 100)}`;
    return `${r.envelope.data.modelDigest}/${r.envelope.data.storeDigest}`;
  };
  const target: HttpFuzzTarget & { readonly rebuilds: () => number } = {
    name: 'real master',
    get probes() {
      return routeProbes(running.ids);
    },
    get signers() {
      return [KEYS.normal, KEYS.admin, running.rootKeys];
    },
    nowMs: () => Date.now(),
    send: (c) => send(agent, running.master, c),
    stateDigest: digest,
    // Work an accepted call started in the background (a decommission) shows as a digest that
    // still moves: wait until two reads agree.
    settle: async () => {
      const deadline = Date.now() + SETTLE_MAX_MS;
      let last = await digest();
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, STABLE_POLL_MS));
        const now = await digest();
        if (now === last) return;
        last = now;
      }
    },
    problems: () => {
      const out: string[] = [];
      if (!running.master.running) out.push(`the master died: ${JSON.stringify(running.master.exitInfo)}\n${running.master.tail(30)}`);
      const fresh = running.master.logs.slice(running.outputSeen);
      running.outputSeen = running.master.logs.length;
      for (const line of fresh.split('\n')) {
        if (/"level":(50|60)/.test(line)) out.push(`logged an error: ${line.slice(0, 400)}`);
      }
      needsCheck = true;
      return Promise.resolve(out);
    },
    restore: () => {
      // Checked lazily before the next case (restore is synchronous): see `send`.
    },
    close: async () => {
      const problems = await stop(running);
      agent.destroy();
      return problems;
    },
    rebuilds: () => rebuilds,
  };
  const send = async (a: http.Agent, master: MasterProcess, c: HttpCase): Promise<HttpReply> => {
    if (needsCheck) {
      needsCheck = false;
      const status = await call<{ role: string }>(a, master, '/cubemaster/status').catch(() => null);
      if (!running.master.running || status?.envelope?.data.role !== 'leader') {
        await stop(running);
        running = await start(agent);
        rebuilds += 1;
        throw new HarnessRefusal('target rebuilt');
      }
    }
    return rawSend(a, running.master, c);
  };
  return target;
}

function rawSend(agent: http.Agent, master: MasterProcess, c: HttpCase): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    let req: http.ClientRequest;
    try {
      const headers: Record<string, string> = { ...c.headers };
      if (c.body !== undefined) headers['content-length'] = String(c.body.length);
      req = http.request({ host: master.spec.host, port: master.spec.httpPort, method: c.method, path: c.url, headers, agent, timeout: 30_000 });
    } catch (e) {
      reject(new HarnessRefusal(e instanceof Error ? e.message : String(e)));
      return;
    }
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), gzip: res.headers['x-cfs-content-encoding'] === 'gzip', body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no reply within 30 s')));
    req.on('error', reject);
    req.end(c.body);
  });
}
