// The access-rule table (src/api/access-rules.ts) against the API that enforces it: every route
// has a row and every row a route; docs/access-rules.md is the table's rendering; and in both
// modes every row is walked with an anonymous caller, a normal user, an admin and root, each
// getting the exact code the table promises, and a refused call changing nothing (model digest,
// Raft calls, QPS limits).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { InjectOptions } from 'fastify';
import type { AccessMode, RouteAccessRow } from '../../src/api/access-rules.js';
import { ACCESS_MODES, ROUTE_ACCESS, ruleIn } from '../../src/api/access-rules.js';
import { signRequest } from '../../src/api/root-auth.js';
import type { Auditor } from '../../src/cluster/ports.js';
import { modelDigest } from '../../src/model/index.js';
import { FakeGroup, ROOT_AK, ROOT_SK } from '../cluster/fakes.js';
import { createVol, ok as applyOk, userCreateCmd, withNodes } from '../model/helpers.js';
import { ACCESS_RULES_DOC_PATH, CALLER_CLASSES, type CallerClass, outcomeOf, renderAccessRulesDoc } from './access-rules-doc.js';
import { authKey } from './domain-helpers.js';
import type { TestMaster } from './helpers.js';
import { call, startMaster, T_USERS_MS } from './helpers.js';

const KEYS: Readonly<Record<Exclude<CallerClass, 'anonymous'>, { user: string; ak: string; sk: string }>> = {
  normal: { user: 'nina', ak: 'NinaAccessKey001', sk: 'NinaSecretKey0000000000000000001' },
  admin: { user: 'adam', ak: 'AdamAccessKey001', sk: 'AdamSecretKey0000000000000000001' },
  root: { user: 'root', ak: ROOT_AK, sk: ROOT_SK },
};
const TINA_AK = 'TinaAccessKey001';
const NINA_KEY = authKey('nina');

const fakeAuditor: Auditor = {
  status: () => ({ id: 1 }) as unknown as ReturnType<Auditor['status']>,
  audit: () => Promise.resolve({ digest: 'x' } as unknown as Awaited<ReturnType<Auditor['audit']>>),
  logDigest: () => null,
};

/** A master whose model holds the callers, a target user, nodes and vols the probes name. */
function fixture(mode: AccessMode): { master: TestMaster; ids: { mp: number; dp: number; nodeSet: number } } {
  const group = new FakeGroup([1], 1);
  group.setHttpAddr(1, '127.0.0.1:17010');
  const state = group.state;
  applyOk(state, userCreateCmd('nina', { accessKey: KEYS.normal.ak, secretKey: KEYS.normal.sk, userType: 3 }));
  applyOk(state, userCreateCmd('adam', { accessKey: KEYS.admin.ak, secretKey: KEYS.admin.sk, userType: 2 }));
  applyOk(state, userCreateCmd('tina', { accessKey: TINA_AK, userType: 3 }));
  for (const c of CALLER_CLASSES) applyOk(state, userCreateCmd(`gone_${c}`));
  const nodes = withNodes(state);
  const placement = { ...nodes, mps: 1, dps: 1 };
  createVol(state, 'vola', 'nina', placement);
  for (const c of CALLER_CLASSES) {
    createVol(state, `del-${c}`, 'nina', placement);
    createVol(state, `move-${c}`, 'nina', placement);
  }
  const vol = [...state.vols.values()].find((v) => v.name === 'vola')!;
  const mp = [...state.metaPartitions.values()].find((p) => p.volId === vol.id)!;
  const dp = [...state.dataPartitions.values()].find((p) => p.volId === vol.id)!;
  const nodeSet = [...state.nodeSets.values()][0];
  const master = startMaster(group, 1, { accessMode: mode, auditor: fakeAuditor });
  return { master, ids: { mp: mp.id, dp: dp.id, nodeSet: nodeSet.id } };
}

interface Probe {
  readonly method?: 'GET' | 'POST';
  /** The request target for the caller of index i (0 anonymous .. 3 root). */
  readonly url: (i: number, c: CallerClass) => string;
  readonly body?: (i: number, c: CallerClass) => unknown;
  /** What an allowed caller gets: an envelope code, or 'http200' for a non-envelope reply. */
  readonly code: number | 'http200';
  /** The request is about the normal caller itself (self-or-admin rows). */
  readonly aboutNormal?: boolean;
  /** The same request with a wrong authKey, for authKey rows: every caller gets 34. */
  readonly wrongKey?: (i: number) => string;
}

type Ids = ReturnType<typeof fixture>['ids'];

/** Probes by route: each allowed caller's answer is deterministic whatever ran before. */
function probes(ids: Ids): Readonly<Record<string, readonly Probe[]>> {
  const get = (url: string, code: number | 'http200' = 0): Probe[] => [{ url: () => url, code }];
  // The wrong-key request passes every check before the authKey's (Go's order).
  const vol = (path: string, extra: (i: number) => string, wrongExtra = extra): Probe => ({
    url: (i) => `${path}?name=vola&authKey=${NINA_KEY}${extra(i)}`,
    code: 0,
    wrongKey: (i) => `${path}?name=vola&authKey=${authKey('mallory')}${wrongExtra(i)}`,
  });
  return {
    '/admin/getIp': get('/admin/getIp'),
    '/admin/getCluster': get('/admin/getCluster'),
    '/admin/getNodeInfo': get('/admin/getNodeInfo'),
    '/admin/getDiscardDp': get('/admin/getDiscardDp'),
    '/admin/getUpgradeCompatibleSettings': get('/admin/getUpgradeCompatibleSettings'),
    '/admin/setNodeInfo': [{ url: (i) => `/admin/setNodeInfo?batchCount=${100 + i}`, code: 0 }],
    '/cluster/freeze': [{ url: (i) => `/cluster/freeze?enable=${i % 2 === 0}`, code: 0 }],
    '/cluster/stat': get('/cluster/stat'),
    '/metrics': get('/metrics', 'http200'),
    '/admin/getMasterApiList': get('/admin/getMasterApiList'),
    '/admin/getApiQpsLimit': get('/admin/getApiQpsLimit'),
    '/admin/setApiQpsLimit': [{ url: (i) => `/admin/setApiQpsLimit?name=admingetvol&limit=${1000 + i}&timeout=1`, code: 0 }],
    '/admin/rmApiQpsLimit': [{ url: () => '/admin/rmApiQpsLimit?name=admingetvol', code: 0 }],
    '/get/raftStatus': get('/get/raftStatus'),
    '/raftNode/add': [{ url: (i) => `/raftNode/add?id=${10 + i}&addr=127.0.0.1:${17100 + i}`, code: 0 }],
    '/raftNode/remove': [{ url: (i) => `/raftNode/remove?id=${10 + i}&addr=127.0.0.1:${17100 + i}`, code: 0 }],
    '/master/changeleader': get('/master/changeleader'),
    // No live meta node: the create fails (Go's wrapped code 1) after every check of the request.
    '/admin/createVol': [{ url: (i) => `/admin/createVol?name=new-${i}&owner=nina&capacity=10`, code: 1 }],
    '/admin/getVol': get('/admin/getVol?name=vola'),
    '/vol/list': get('/vol/list'),
    // One replica: Go refuses an update that does not keep followerRead on.
    '/vol/update': [vol('/vol/update', (i) => `&followerRead=true&description=d${i}`)],
    '/vol/expand': [vol('/vol/expand', (i) => `&capacity=${21 + i}`, () => '&capacity=1000')],
    '/vol/shrink': [vol('/vol/shrink', (i) => `&capacity=${20 - i}`, () => '&capacity=1')],
    '/vol/delete': [
      {
        url: (_i, c) => `/vol/delete?name=del-${c}&authKey=${NINA_KEY}`,
        code: 0,
        wrongKey: () => `/vol/delete?name=vola&authKey=${authKey('mallory')}`,
      },
    ],
    '/vol/users': get('/vol/users?name=vola'),
    '/client/vol': [vol('/client/vol', () => '')],
    '/client/metaPartitions': get('/client/metaPartitions?name=vola'),
    '/client/partitions': get('/client/partitions?name=vola'),
    '/client/volStat': get('/client/volStat?name=vola'),
    '/metaPartition/create': get('/metaPartition/create?name=no-such-vol&count=1', 7),
    '/metaPartition/get': get(`/metaPartition/get?id=${ids.mp}`),
    '/metaPartition/load': get('/metaPartition/load?id=999999', 10),
    '/metaPartition/decommission': get('/metaPartition/decommission?id=999999&addr=127.0.0.1:17210', 10),
    '/metaPartition/diagnose': get('/metaPartition/diagnose'),
    '/dataPartition/create': get('/dataPartition/create?name=no-such-vol&count=1', 7),
    '/dataPartition/get': get(`/dataPartition/get?id=${ids.dp}`),
    '/dataPartition/load': get('/dataPartition/load?id=999999', 11),
    '/dataPartition/decommission': get('/dataPartition/decommission?id=999999&addr=127.0.0.1:17310', 11),
    '/dataPartition/diagnose': get('/dataPartition/diagnose'),
    '/metaNode/add': get('/metaNode/add?addr=127.0.0.1:17210'),
    '/dataNode/add': get('/dataNode/add?addr=127.0.0.1:17310&mediaType=1'),
    '/metaNode/get': get('/metaNode/get?addr=127.0.0.1:17210'),
    '/dataNode/get': get('/dataNode/get?addr=127.0.0.1:17310'),
    '/admin/cluster/getAllMetaNodes': get('/admin/cluster/getAllMetaNodes'),
    '/admin/cluster/getAllDataNodes': get('/admin/cluster/getAllDataNodes'),
    '/metaNode/response': [{ method: 'POST', url: () => '/metaNode/response', body: () => ({}), code: 2 }],
    '/dataNode/response': [{ method: 'POST', url: () => '/dataNode/response', body: () => ({}), code: 2 }],
    '/metaNode/decommission': get('/metaNode/decommission?addr=10.9.9.9:17210', 13),
    '/dataNode/decommission': get('/dataNode/decommission?addr=10.9.9.9:17310', 12),
    '/admin/setNodeRdOnly': get('/admin/setNodeRdOnly?addr=127.0.0.1:17210&nodeType=1&rdOnly=false'),
    '/zone/list': get('/zone/list'),
    '/topo/get': get('/topo/get'),
    '/nodeSet/list': get('/nodeSet/list'),
    '/nodeSet/get': get(`/nodeSet/get?nodesetId=${ids.nodeSet}`),
    '/user/create': [{ method: 'POST', url: () => '/user/create', body: (_i, c) => ({ id: `new_${c}`, type: 3 }), code: 0 }],
    '/user/update': [{ method: 'POST', url: () => '/user/update', body: (i) => ({ user_id: 'tina', description: `d${i}` }), code: 0 }],
    '/user/delete': [{ url: (_i, c) => `/user/delete?user=gone_${c}`, code: 0 }],
    '/user/info': [
      { url: () => '/user/info?user=tina', code: 0 },
      { url: () => '/user/info?user=nina', code: 0, aboutNormal: true },
    ],
    '/user/akInfo': [
      { url: () => `/user/akInfo?ak=${TINA_AK}`, code: 0 },
      { url: () => `/user/akInfo?ak=${KEYS.normal.ak}`, code: 0, aboutNormal: true },
    ],
    '/user/list': get('/user/list'),
    '/user/updatePolicy': [
      { method: 'POST', url: () => '/user/updatePolicy', body: () => ({ user_id: 'tina', volume: 'vola', policy: ['perm:builtin:ReadOnly'] }), code: 0 },
    ],
    '/user/removePolicy': [{ method: 'POST', url: () => '/user/removePolicy', body: () => ({ user_id: 'tina', volume: 'vola' }), code: 0 }],
    '/user/deleteVolPolicy': get('/user/deleteVolPolicy?name=vola'),
    '/user/transferVol': [
      { method: 'POST', url: () => '/user/transferVol', body: (_i, c) => ({ volume: `move-${c}`, user_src: 'nina', user_dst: 'tina', force: false }), code: 0 },
    ],
    '/s3/qos/get': get('/s3/qos/get'),
    '/admin/qosUpload': get('/admin/qosUpload?name=vola&qosEnable=false'),
    '/admin/aclOp': get('/admin/aclOp?name=vola&op=0'),
    '/cubemaster/status': get('/cubemaster/status'),
    '/cubemaster/audit': get('/cubemaster/audit'),
    // The fake auditor has no log: 0 with data null.
    '/cubemaster/log-digest': get('/cubemaster/log-digest?from=1&to=1'),
    '/cubemaster/leader/transfer': [{ method: 'POST', url: () => '/cubemaster/leader/transfer?target=1', code: 0 }],
    '/cubemaster/node/decommission': [{ method: 'POST', url: () => '/cubemaster/node/decommission?kind=meta&addr=10.9.9.9:17210', code: 13 }],
  };
}

function request(method: 'GET' | 'POST', url: string, body: unknown, caller: CallerClass): InjectOptions {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = payload === undefined ? {} : { 'content-type': 'application/json' };
  if (caller !== 'anonymous') {
    const k = KEYS[caller];
    Object.assign(headers, signRequest({ method, pathAndQuery: url, body: payload }, k.ak, k.sk, T_USERS_MS));
  }
  return { method, url, headers, ...(payload === undefined ? {} : { payload }) };
}

/** Everything a call could change: the model, Raft membership calls, this member's QPS limits. */
async function sideState(m: TestMaster): Promise<string> {
  const qps = await call(m.app, '/admin/getApiQpsLimit');
  return JSON.stringify([modelDigest(m.group.state), m.raft.calls.length, m.group.leaderId, qps.envelope.data]);
}

/** The code (or 'http200') an allowed caller got, or the refusal code. */
async function codeOf(m: TestMaster, options: InjectOptions): Promise<{ code: number | 'http200' | `http${number}`; msg: string }> {
  const answer = await call(m.app, options);
  if (String(answer.headers['content-type']).startsWith('application/json')) {
    const env = answer.envelope;
    return { code: env.code, msg: env.msg };
  }
  return { code: `http${answer.status}`, msg: answer.text.slice(0, 200) };
}

function expectedCode(row: RouteAccessRow, mode: AccessMode, probe: Probe, caller: CallerClass): number | 'http200' {
  const outcome = outcomeOf(ruleIn(row, mode), caller);
  if (outcome === 'ok' || (outcome === 'self' && probe.aboutNormal === true)) return probe.code;
  return 57;
}

void describe('the access-rule table', () => {
  void it('has a row for every route served and a route for every row, with the same methods and the rule enforced', async () => {
    for (const mode of ACCESS_MODES) {
      const { master } = fixture(mode);
      await master.app.ready();
      const served = new Map(master.api.routes().map((r) => [r.url, r]));
      const rows = new Map(ROUTE_ACCESS.map((r) => [r.url, r]));
      const withoutRow = [...served.keys()].filter((url) => !rows.has(url));
      assert.deepEqual(withoutRow, [], 'routes served without a row in src/api/access-rules.ts');
      const withoutRoute = ROUTE_ACCESS.filter((r) => r.onlyWhen === undefined && !served.has(r.url)).map((r) => r.url);
      assert.deepEqual(withoutRoute, [], 'rows of src/api/access-rules.ts without a route');
      assert.equal(rows.size, ROUTE_ACCESS.length, 'a path has two rows');
      for (const [url, route] of served) {
        const row = rows.get(url)!;
        assert.deepEqual(route.methods, [...row.methods].sort(), `${url}: methods`);
        // A route registered without defineRoute enforces nothing: its row must say open.
        assert.equal(route.enforced ?? 'open', ruleIn(row, mode), `${url}: rule enforced in ${mode} mode`);
      }
      await master.app.close();
    }
  });

  void it('is what docs/access-rules.md shows (rewrite: node dist/test/api/access-rules-doc.js --write)', () => {
    const path = fileURLToPath(new URL(`../../../${ACCESS_RULES_DOC_PATH}`, import.meta.url));
    assert.equal(readFileSync(path, 'utf8'), renderAccessRulesDoc());
  });

  void it('has a probe below for every row', () => {
    const { master, ids } = fixture('cubefs');
    const all = probes(ids);
    assert.deepEqual(
      ROUTE_ACCESS.filter((r) => r.onlyWhen === undefined && all[r.url] === undefined).map((r) => r.url),
      [],
    );
    void master.app.close();
  });
});

for (const mode of ACCESS_MODES) {
  void describe(`every route in ${mode} mode, called by anonymous, normal, admin and root`, () => {
    void it('gets each caller the code of its rule, and a refused call changes nothing', async () => {
      const { master, ids } = fixture(mode);
      const all = probes(ids);
      const failures: string[] = [];
      try {
        for (const row of ROUTE_ACCESS) {
          for (const probe of all[row.url] ?? []) {
            for (const [i, caller] of CALLER_CLASSES.entries()) {
              const method = probe.method ?? 'GET';
              const url = probe.url(i, caller);
              const want = expectedCode(row, mode, probe, caller);
              const before = want === 57 ? await sideState(master) : '';
              const got = await codeOf(master, request(method, url, probe.body?.(i, caller), caller));
              if (got.code !== want) failures.push(`${mode} ${caller} ${method} ${url}: got ${got.code} (${got.msg}), want ${want}`);
              if (want === 57) {
                if (!/^no permission: /.test(got.msg)) failures.push(`${mode} ${caller} ${url}: refusal text ${JSON.stringify(got.msg)}`);
                if ((await sideState(master)) !== before) failures.push(`${mode} ${caller} ${method} ${url}: refused, yet the state changed`);
              }
              if (probe.wrongKey !== undefined) {
                const wrong = probe.wrongKey(i);
                const beforeWrong = await sideState(master);
                const refused = await codeOf(master, request(method, wrong, undefined, caller));
                if (refused.code !== 34) failures.push(`${mode} ${caller} ${wrong}: got ${refused.code} (${refused.msg}), want 34`);
                if ((await sideState(master)) !== beforeWrong) failures.push(`${mode} ${caller} ${wrong}: refused, yet the state changed`);
              }
            }
          }
        }
      } finally {
        await master.app.close();
      }
      assert.deepEqual(failures, []);
    });
  });
}

void describe('signatures on the signed rules', () => {
  void it('refuses a bad signature, a stale date and a signature of another request with 57 naming the reason', async () => {
    const { master } = fixture('signed');
    try {
      const url = '/user/list';
      const good = request('GET', url, undefined, 'admin');
      const headers = good.headers as Record<string, string>;
      const cases: [string, Record<string, string>, RegExp][] = [
        ['wrong secret', signRequest({ method: 'GET', pathAndQuery: url, body: undefined }, KEYS.admin.ak, 'x'.repeat(32), T_USERS_MS), /signature does not match/],
        ['other target', signRequest({ method: 'GET', pathAndQuery: '/user/list?keywords=a', body: undefined }, KEYS.admin.ak, KEYS.admin.sk, T_USERS_MS), /signature does not match/],
        ['stale date', signRequest({ method: 'GET', pathAndQuery: url, body: undefined }, KEYS.admin.ak, KEYS.admin.sk, T_USERS_MS - 3_600_000), /not within/],
        ['unknown key', { ...headers, 'x-cubemaster-access-key': 'Z'.repeat(16) }, /unknown access key/],
      ];
      for (const [what, h, pattern] of cases) {
        const got = await codeOf(master, { method: 'GET', url, headers: h });
        assert.equal(got.code, 57, what);
        assert.match(got.msg, /^no permission: \/user\/list needs a request signed by an admin or root: /, what);
        assert.match(got.msg, pattern, what);
      }
      assert.equal((await codeOf(master, good)).code, 0);
      const normal = await codeOf(master, request('GET', url, undefined, 'normal'));
      assert.equal(normal.msg, 'no permission: /user/list needs a request signed by an admin or root: user nina is a normal user');
    } finally {
      await master.app.close();
    }
  });

  void it('counts every refusal in cubemaster_api_refused_total{reason="access"}', async () => {
    const { master } = fixture('signed');
    try {
      await codeOf(master, request('GET', '/user/list', undefined, 'anonymous'));
      await codeOf(master, request('GET', '/raftNode/add?id=5&addr=127.0.0.1:1', undefined, 'admin'));
      const metrics = (await call(master.app, '/metrics')).text;
      assert.match(metrics, /cubemaster_api_refused_total\{reason="access",route="\/user\/list"\} 1/);
      assert.match(metrics, /cubemaster_api_refused_total\{reason="access",route="\/raftNode\/add"\} 1/);
    } finally {
      await master.app.close();
    }
  });
});
