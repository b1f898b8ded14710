// The Go master's API QPS limiter routes (master/api_limiter.go, api_service.go): per-route
// limits named by Go's API names (proto.GApiInfo), `limit` requests per second, a request
// waiting at most `timeout` seconds for its turn before HTTP 429 (limits.ts RouteQpsLimiter).
//
//   GET /admin/getMasterApiList                       Go's API names of the routes we serve
//   GET /admin/getApiQpsLimit                         the limits in force on this member
//   GET,POST /admin/setApiQpsLimit?name=&limit=&timeout=
//   GET,POST /admin/rmApiQpsLimit?name=
//
// Deliberate difference: Go persists the table through Raft and every member applies it; here
// each member keeps its own, served `local`, so a limit set at run time applies to the member
// that received the request and is gone after a restart. The durable way is the config key
// `apiLimits.qps`, which every member reads at start (docs/limits.md). Go answers the errors of
// these routes with code 1 (its errors are not in Err2CodeMap); so do we.

import type { FastifyPluginCallback } from 'fastify';
import { CubeCode, ParamError } from '../../util/errors.js';
import type { ApiContext } from '../context.js';
import { QPS_TIMEOUT_SEC_MAX } from '../limits.js';
import type { Params } from '../params.js';
import { defineRoute } from '../route.js';

/** proto.GApiInfo, restricted to the paths this master serves: Go's API name -> path. */
export const GO_API_NAMES: Readonly<Record<string, string>> = {
  admingetmasterapilist: '/admin/getMasterApiList',
  adminsetapiqpslimit: '/admin/setApiQpsLimit',
  admingetcluster: '/admin/getCluster',
  admingetdatapartition: '/dataPartition/get',
  adminloaddatapartition: '/dataPartition/load',
  admincreatedatapartition: '/dataPartition/create',
  admindecommissiondatapartition: '/dataPartition/decommission',
  admindiagnosedatapartition: '/dataPartition/diagnose',
  admindeletevol: '/vol/delete',
  adminupdatevol: '/vol/update',
  adminvolshrink: '/vol/shrink',
  adminvolexpand: '/vol/expand',
  admincreatevol: '/admin/createVol',
  admingetvol: '/admin/getVol',
  adminclusterfreeze: '/cluster/freeze',
  adminclusterstat: '/cluster/stat',
  admingetip: '/admin/getIp',
  admincreatemetapartition: '/metaPartition/create',
  adminlistvols: '/vol/list',
  adminsetnodeinfo: '/admin/setNodeInfo',
  admingetnodeinfo: '/admin/getNodeInfo',
  adminsetnoderdonly: '/admin/setNodeRdOnly',
  admingetdiscarddp: '/admin/getDiscardDp',
  clientdatapartitions: '/client/partitions',
  clientvol: '/client/vol',
  clientmetapartition: '/metaPartition/get',
  clientvolstat: '/client/volStat',
  clientmetapartitions: '/client/metaPartitions',
  qosupload: '/admin/qosUpload',
  addraftnode: '/raftNode/add',
  removeraftnode: '/raftNode/remove',
  raftstatus: '/get/raftStatus',
  adddatanode: '/dataNode/add',
  decommissiondatanode: '/dataNode/decommission',
  getdatanode: '/dataNode/get',
  addmetanode: '/metaNode/add',
  decommissionmetanode: '/metaNode/decommission',
  getmetanode: '/metaNode/get',
  adminloadmetapartition: '/metaPartition/load',
  admindiagnosemetapartition: '/metaPartition/diagnose',
  admindecommissionmetapartition: '/metaPartition/decommission',
  getmetanodetaskresponse: '/metaNode/response',
  getdatanodetaskresponse: '/dataNode/response',
  gettopologyview: '/topo/get',
  getallzones: '/zone/list',
  usercreate: '/user/create',
  userdelete: '/user/delete',
  userupdate: '/user/update',
  userupdatepolicy: '/user/updatePolicy',
  userremovepolicy: '/user/removePolicy',
  userdeletevolpolicy: '/user/deleteVolPolicy',
  usergetinfo: '/user/info',
  usergetakinfo: '/user/akInfo',
  usertransfervol: '/user/transferVol',
  userlist: '/user/list',
  usersofvol: '/vol/users',
};

const NAME_BY_PATH: ReadonlyMap<string, string> = new Map(Object.entries(GO_API_NAMES).map(([name, path]) => [path, name]));

/** Go extractName: required, and the vol-name pattern (Go reuses extractName for API names). */
function apiName(params: Params): { name: string; path: string } {
  const raw = params.get('name');
  if (raw === undefined) throw new ParamError('name', '[operate_util.go 225] parameter name not found', CubeCode.InternalError);
  const name = raw.toLowerCase();
  const path = GO_API_NAMES[name];
  if (path === undefined) throw new ParamError('name', `api name [${raw}] is not valid`, CubeCode.InternalError);
  return { name, path };
}

/** Go extractUint32: absent is 0; anything but a uint32 is refused. */
function uint32(params: Params, key: string): number {
  const raw = params.get(key);
  if (raw === undefined) return 0;
  const n = /^[0-9]{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!(n <= 0xffff_ffff)) throw new ParamError(key, `parse [${key}] is not valid uint32 [0], err strconv.ParseUint: parsing ${JSON.stringify(raw)}: invalid syntax`, CubeCode.InternalError);
  return n;
}

export const apiLimitRoutes: FastifyPluginCallback<{ ctx: ApiContext }> = (app, { ctx }, done) => {
  defineRoute(app, ctx, {
    url: '/admin/getMasterApiList',
    methods: ['GET'],
    access: 'local',
    handle: () => GO_API_NAMES,
  });

  // Go: map path -> {api_name, query_path, limit, limiter_timeout}.
  defineRoute(app, ctx, {
    url: '/admin/getApiQpsLimit',
    methods: ['GET'],
    access: 'local',
    handle: () =>
      Object.fromEntries(
        ctx.qps.list().map((l) => [l.path, { api_name: NAME_BY_PATH.get(l.path) ?? l.path, query_path: l.path, limit: l.limit, limiter_timeout: l.timeoutSec }]),
      ),
  });

  defineRoute(app, ctx, {
    url: '/admin/setApiQpsLimit',
    methods: ['GET', 'POST'],
    access: 'local',
    handle: (call) => {
      const { name, path } = apiName(call.params);
      const limit = uint32(call.params, 'limit');
      const timeoutSec = uint32(call.params, 'timeout');
      if (timeoutSec === 0) throw new ParamError('timeout', 'timeout(seconds) args must be larger than 0', CubeCode.InternalError);
      if (timeoutSec > QPS_TIMEOUT_SEC_MAX) throw new ParamError('timeout', `timeout(seconds) must be at most ${QPS_TIMEOUT_SEC_MAX}`, CubeCode.InternalError);
      ctx.qps.set(path, { limit, timeoutSec });
      call.request.log.info({ name, path, limit, timeoutSec }, 'api qps limit set');
      return `set api qps limit success: name: ${name}, limit: ${limit}, timeout: ${timeoutSec}`;
    },
  });

  defineRoute(app, ctx, {
    url: '/admin/rmApiQpsLimit',
    methods: ['GET', 'POST'],
    access: 'local',
    handle: (call) => {
      const { name, path } = apiName(call.params);
      ctx.qps.remove(path);
      call.request.log.info({ name, path }, 'api qps limit removed');
      return `rm api qps limit success: name: ${name}`;
    },
  });

  done();
};
