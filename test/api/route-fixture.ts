// A master for walking every route (the access-rule test, the HTTP fuzzer): an API over a
// FakeGroup whose model holds a normal user, an admin and root with known keys, a target user,
// nodes and vols; and one probe per route: a request whose answer to an allowed caller is
// deterministic whatever ran before it.

import type { InjectOptions } from 'fastify';
import type { AccessMode } from '../../src/api/access-rules.js';
import type { ApiServerOptions } from '../../src/api/server.js';
import { signRequest } from '../../src/api/root-auth.js';
import type { Auditor } from '../../src/cluster/ports.js';
import { FakeGroup, ROOT_AK, ROOT_SK } from '../cluster/fakes.js';
import { createVol, ok as applyOk, userCreateCmd, withNodes } from '../model/helpers.js';
import { CALLER_CLASSES, type CallerClass } from './access-rules-doc.js';
import { authKey } from './domain-helpers.js';
import type { TestMaster } from './helpers.js';
import { startMaster, T_USERS_MS } from './helpers.js';

export const KEYS: Readonly<Record<Exclude<CallerClass, 'anonymous'>, { user: string; ak: string; sk: string }>> = {
  normal: { user: 'nina', ak: 'NinaAccessKey001', sk: 'NinaSecretKey0000000000000000001' },
  admin: { user: 'adam', ak: 'AdamAccessKey001', sk: 'AdamSecretKey0000000000000000001' },
  root: { user: 'root', ak: ROOT_AK, sk: ROOT_SK },
};
export const TINA_AK = 'TinaAccessKey001';
export const NINA_KEY = authKey('nina');

const fakeAuditor: Auditor = {
  status: () => ({ id: 1 }) as unknown as ReturnType<Auditor['status']>,
  audit: () => Promise.resolve({ digest: 'x' } as unknown as Awaited<ReturnType<Auditor['audit']>>),
  logDigest: () => null,
};

/** A master whose model holds the callers, a target user, nodes and vols the probes name. */
export function routeFixture(mode: AccessMode, overrides: Partial<Omit<ApiServerOptions, 'replicator' | 'raft'>> = {}): { master: TestMaster; ids: { mp: number; dp: number; nodeSet: number } } {
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
  const master = startMaster(group, 1, { accessMode: mode, auditor: fakeAuditor, ...overrides });
  return { master, ids: { mp: mp.id, dp: dp.id, nodeSet: nodeSet.id } };
}

export interface Probe {
  readonly method?: 'GET' | 'POST';
  /** The request target for the caller of index i (0 anonymous .. 3 root). */
  readonly url: (i: number, c: CallerClass) => string;
  readonly body?: (i: number, c: CallerClass) => unknown;
  /** What an allowed caller gets: an envelope code, or 'http200' for a non-envelope reply. */
  readonly code: number | 'http200';
  /** The request is about the normal caller itself (self-or-admin rows). */
  readonly aboutNormal?: boolean;
  /** The request is about the root user (self-or-admin rows: root only). */
  readonly aboutRoot?: boolean;
  /** The same request with a wrong authKey, for authKey rows: every caller gets 34. */
  readonly wrongKey?: (i: number) => string;
}

export type FixtureIds = ReturnType<typeof routeFixture>['ids'];

/** Probes by route: each allowed caller's answer is deterministic whatever ran before. */
export function routeProbes(ids: FixtureIds): Readonly<Record<string, readonly Probe[]>> {
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
      { url: () => '/user/info?user=root', code: 0, aboutRoot: true },
    ],
    '/user/akInfo': [
      { url: () => `/user/akInfo?ak=${TINA_AK}`, code: 0 },
      { url: () => `/user/akInfo?ak=${KEYS.normal.ak}`, code: 0, aboutNormal: true },
      { url: () => `/user/akInfo?ak=${KEYS.root.ak}`, code: 0, aboutRoot: true },
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
    '/cubemaster/members': get('/cubemaster/members'),
    '/cubemaster/members/learner': [{ method: 'POST', url: (i) => `/cubemaster/members/learner?id=${20 + i}&addr=10.0.0.${20 + i}:17010`, code: 0 }],
    // The learner root added just before (one caller index each).
    '/cubemaster/members/promote': [{ method: 'POST', url: (i) => `/cubemaster/members/promote?id=${20 + i}`, code: 0 }],
    '/cubemaster/members/remove': [{ method: 'POST', url: () => '/cubemaster/members/remove?id=99', code: 2 }],
    '/cubemaster/recovery': get('/cubemaster/recovery'),
    '/console': get('/console', 'http200'),
    '/console/': get('/console/', 'http200'),
    '/console/*': get('/console/static/console.css', 'http200'),
    '/console/api/overview': get('/console/api/overview'),
    '/console/api/series': get('/console/api/series'),
    '/console/api/vols': get('/console/api/vols'),
    '/console/api/vol': get('/console/api/vol?name=vola'),
    '/console/api/nodes': get('/console/api/nodes'),
    '/console/api/users': get('/console/api/users'),
    '/cubemaster/leader/transfer': [{ method: 'POST', url: () => '/cubemaster/leader/transfer?target=1', code: 0 }],
    '/cubemaster/node/decommission': [{ method: 'POST', url: () => '/cubemaster/node/decommission?kind=meta&addr=10.9.9.9:17210', code: 13 }],
  };
}

export function signedRequest(method: 'GET' | 'POST', url: string, body: unknown, caller: CallerClass): InjectOptions {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = payload === undefined ? {} : { 'content-type': 'application/json' };
  if (caller !== 'anonymous') {
    const k = KEYS[caller];
    Object.assign(headers, signRequest({ method, pathAndQuery: url, body: payload }, k.ak, k.sk, T_USERS_MS));
  }
  return { method, url, headers, ...(payload === undefined ? {} : { payload }) };
}

