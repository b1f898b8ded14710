// Who may call each route: one row per path we serve, read by defineRoute (route.ts) to enforce
// the rule and by the docs (docs/access-rules.md, generated from this table by
// test/api/access-rules-doc.ts and compared with it by test/api/access-rules.test.ts), so the
// enforcement, the doc and the test cannot drift apart.
//
// The Go master's HTTP API authenticates no caller (spec 1.3, 1.5; master/api_service*.go): its
// checks are about the request, not about who sends it: authKey = md5(owner) on the vol routes
// that change or reveal a vol (code 34), and refusals of the root user as a target (create or
// update to type root: 56, delete or update root: 57). Its GraphQL console API is the one place
// that knows user types (master/gapi_user.go `permissions`: root and admin manage users, a
// normal user sees itself). cfs-cli, the SDK, the objectnode and the nodes send no credentials
// but the authKey (the optional `clientIDKey` belongs to the authnode mode, which cubemaster
// does not have; it is ignored).
//
// So there are two modes (config `apiAccess`):
// - `cubefs` (default): every CubeFS route as open as in Go, with Go's checks in the handlers;
//   cubemaster's own privileged routes need a request signed by root (root-auth.ts). Anyone who
//   can reach the API can read any user's keys (/user/info, as in Go), root's included, so the
//   signature stops mistakes, not an attacker on the network: use `signed` for that.
// - `signed`: the CubeFS routes that manage users, vols, partitions, nodes and the master group
//   need a signed request by a user of the right type (the GraphQL API's rules); what nodes, the
//   SDK and the objectnode call unsigned stays open. cfs-cli cannot sign: in this mode it keeps
//   only its read commands and the authKey vol commands.
//
// A caller signs with its own access and secret key (root-auth.ts headers); the signature is
// checked on the member that receives the request, before anything else, and again by the
// leader when the request is forwarded (the forward keeps the target, body and headers).

import type { UserType } from '../model/state.js';

export type AccessMode = 'cubefs' | 'signed';
export const ACCESS_MODES: readonly AccessMode[] = ['cubefs', 'signed'];

/**
 * - `open`: anyone; the handler's own checks answer.
 * - `authKey`: anyone holding the vol's authKey = md5(owner) (34 otherwise), checked by the
 *   handler in Go's order (after the name, before the vol's settings).
 * - `self-or-admin`: signed by root or an admin, or by the user the request is about (57); the
 *   root user's own record only by root.
 * - `admin`: signed by root or an admin user (57).
 * - `root`: signed by the root user (57).
 */
export type AccessRule = 'open' | 'authKey' | 'self-or-admin' | 'admin' | 'root';

/** The user types that pass each signed rule (UserType: 1 root, 2 admin, 3 normal). */
export const SIGNER_TYPES: Readonly<Record<'self-or-admin' | 'admin' | 'root', readonly UserType[]>> = {
  'self-or-admin': [1, 2],
  admin: [1, 2],
  root: [1],
};

/** Where a `self-or-admin` route names the user it is about. */
export type SelfParam = 'user' | 'ak';

export interface RouteAccessRow {
  /** Section of the docs. */
  readonly group: string;
  readonly url: string;
  readonly methods: readonly ('GET' | 'POST')[];
  /** Rule in the default `cubefs` mode. */
  readonly cubefs: AccessRule;
  /** Rule in the `signed` mode. */
  readonly signed: AccessRule;
  /** For `self-or-admin`: the parameter naming the user (`ak`: the key's owner). */
  readonly self?: SelfParam;
  /** The handler's own access-related checks (Go's), with their codes. */
  readonly checks?: string;
  /** Why the rule is what it is, where that is not obvious. */
  readonly note?: string;
  /** Registered only in some setups (the chaos hooks); absent from a plain API server. */
  readonly onlyWhen?: string;
}

function group(name: string, rows: readonly Omit<RouteAccessRow, 'group'>[]): RouteAccessRow[] {
  return rows.map((row) => ({ group: name, ...row }));
}

const GET: RouteAccessRow['methods'] = ['GET'];
const GP: RouteAccessRow['methods'] = ['GET', 'POST'];
const POST: RouteAccessRow['methods'] = ['POST'];

const NODES_CALL = 'meta and data nodes call it unsigned';
const SDK_CALLS = 'the SDK calls it unsigned';
const OBJECTNODE_AK = 'the objectnode looks up S3 keys with it unsigned: it cannot run against a signed-mode master';
const CLI_ONLY = 'cfs-cli only';
const CONSOLE_FILES = 'the page and its scripts';
const ROOT_RECORD = "in signed mode the root user's record only to root (an admin holding root's secret key would be root)";

/** Every path the API serves, by group, in the order of the docs. */
export const ROUTE_ACCESS: readonly RouteAccessRow[] = [
  ...group('Cluster', [
    { url: '/admin/getIp', methods: GET, cubefs: 'open', signed: 'open', note: `${NODES_CALL}, and clients to learn the cluster name` },
    { url: '/admin/getCluster', methods: GET, cubefs: 'open', signed: 'open', note: SDK_CALLS },
    { url: '/admin/getNodeInfo', methods: GP, cubefs: 'open', signed: 'open' },
    { url: '/admin/getDiscardDp', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/admin/getUpgradeCompatibleSettings', methods: GET, cubefs: 'open', signed: 'open', note: NODES_CALL },
    { url: '/admin/setNodeInfo', methods: GP, cubefs: 'open', signed: 'root', note: 'cluster-wide tunables' },
    { url: '/cluster/freeze', methods: GP, cubefs: 'open', signed: 'root', note: 'stops every vol create and partition top-up' },
    { url: '/cluster/stat', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/metrics', methods: GET, cubefs: 'open', signed: 'open', note: 'Prometheus scrapes it unsigned' },
  ]),
  ...group('API QPS limiter (master/api_limiter.go)', [
    { url: '/admin/getMasterApiList', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/admin/getApiQpsLimit', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/admin/setApiQpsLimit', methods: GP, cubefs: 'open', signed: 'root', note: 'a limit of 0 on a client route stops every client' },
    { url: '/admin/rmApiQpsLimit', methods: GP, cubefs: 'open', signed: 'root' },
  ]),
  ...group('Master group', [
    { url: '/get/raftStatus', methods: GP, cubefs: 'open', signed: 'open' },
    { url: '/raftNode/add', methods: GP, cubefs: 'open', signed: 'root', note: CLI_ONLY },
    { url: '/raftNode/remove', methods: GP, cubefs: 'open', signed: 'root', note: CLI_ONLY },
    { url: '/master/changeleader', methods: GP, cubefs: 'open', signed: 'root', note: CLI_ONLY },
  ]),
  ...group('Volumes', [
    { url: '/admin/createVol', methods: GP, cubefs: 'open', signed: 'admin', note: 'the objectnode creates a bucket\'s vol with it unsigned: no bucket creation in signed mode' },
    { url: '/admin/getVol', methods: GET, cubefs: 'open', signed: 'open', note: 'meta nodes and the objectnode call it unsigned' },
    { url: '/vol/list', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/vol/update', methods: GP, cubefs: 'authKey', signed: 'authKey', checks: 'authKey mismatch or absent: 34 (after the vol lookup: unknown vol 7)' },
    { url: '/vol/expand', methods: GP, cubefs: 'authKey', signed: 'authKey', checks: 'authKey absent: 2; mismatch: 34' },
    { url: '/vol/shrink', methods: GP, cubefs: 'authKey', signed: 'authKey', checks: 'authKey absent: 2; mismatch: 34' },
    { url: '/vol/delete', methods: GP, cubefs: 'authKey', signed: 'authKey', checks: 'authKey absent: 2; mismatch: 34', note: 'the objectnode deletes a bucket\'s vol with the owner\'s authKey' },
    { url: '/vol/users', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/client/vol', methods: GP, cubefs: 'authKey', signed: 'authKey', checks: 'authKey absent: 2; mismatch: 34; not checked with header Skip-Owner-Validation: true (as Go)', note: SDK_CALLS },
    { url: '/client/metaPartitions', methods: GET, cubefs: 'open', signed: 'open', note: SDK_CALLS },
    { url: '/client/partitions', methods: GET, cubefs: 'open', signed: 'open', note: SDK_CALLS },
    { url: '/client/volStat', methods: GET, cubefs: 'open', signed: 'open', note: SDK_CALLS },
  ]),
  ...group('Partitions', [
    { url: '/metaPartition/create', methods: GP, cubefs: 'open', signed: 'admin' },
    { url: '/metaPartition/get', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/metaPartition/load', methods: GP, cubefs: 'open', signed: 'admin' },
    { url: '/metaPartition/decommission', methods: GP, cubefs: 'open', signed: 'admin' },
    { url: '/metaPartition/diagnose', methods: GP, cubefs: 'open', signed: 'open' },
    { url: '/dataPartition/create', methods: GP, cubefs: 'open', signed: 'admin' },
    { url: '/dataPartition/get', methods: GET, cubefs: 'open', signed: 'open', note: 'data nodes call it unsigned' },
    { url: '/dataPartition/load', methods: GP, cubefs: 'open', signed: 'admin' },
    { url: '/dataPartition/decommission', methods: GP, cubefs: 'open', signed: 'admin' },
    { url: '/dataPartition/diagnose', methods: GP, cubefs: 'open', signed: 'open' },
  ]),
  ...group('Nodes and topology', [
    { url: '/metaNode/add', methods: GP, cubefs: 'open', signed: 'open', note: `${NODES_CALL} to register` },
    { url: '/dataNode/add', methods: GP, cubefs: 'open', signed: 'open', note: `${NODES_CALL} to register` },
    { url: '/metaNode/get', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/dataNode/get', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/admin/cluster/getAllMetaNodes', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/admin/cluster/getAllDataNodes', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/metaNode/response', methods: GP, cubefs: 'open', signed: 'open', note: `${NODES_CALL} with task results and heartbeats` },
    { url: '/dataNode/response', methods: GP, cubefs: 'open', signed: 'open', note: `${NODES_CALL} with task results and heartbeats` },
    { url: '/metaNode/decommission', methods: GP, cubefs: 'open', signed: 'admin' },
    { url: '/dataNode/decommission', methods: GP, cubefs: 'open', signed: 'admin' },
    { url: '/admin/setNodeRdOnly', methods: GP, cubefs: 'open', signed: 'admin' },
    { url: '/zone/list', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/topo/get', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/nodeSet/list', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/nodeSet/get', methods: GET, cubefs: 'open', signed: 'open' },
  ]),
  ...group("Users (master/api_service_user.go; the signed-mode rules are gapi_user.go's)", [
    { url: '/user/create', methods: POST, cubefs: 'open', signed: 'admin', checks: 'type root (1) or unknown: 56; bad id: 55' },
    { url: '/user/update', methods: GP, cubefs: 'open', signed: 'admin', checks: 'to type root (1): 56; the root user: 57' },
    { url: '/user/delete', methods: GP, cubefs: 'open', signed: 'admin', checks: 'the root user: 57; owns vols: 53' },
    { url: '/user/info', methods: GET, cubefs: 'open', signed: 'self-or-admin', self: 'user', note: `shows the user's secret key; ${ROOT_RECORD}` },
    { url: '/user/akInfo', methods: GET, cubefs: 'open', signed: 'self-or-admin', self: 'ak', note: `shows the key's secret; ${ROOT_RECORD}; ${OBJECTNODE_AK}` },
    { url: '/user/list', methods: GET, cubefs: 'open', signed: 'root', note: 'shows every user\'s secret key, root\'s too' },
    { url: '/user/updatePolicy', methods: GP, cubefs: 'open', signed: 'admin' },
    { url: '/user/removePolicy', methods: GP, cubefs: 'open', signed: 'admin' },
    { url: '/user/deleteVolPolicy', methods: GP, cubefs: 'open', signed: 'admin' },
    { url: '/user/transferVol', methods: GP, cubefs: 'open', signed: 'admin', checks: 'user_src not the owner and no force: 50' },
  ]),
  ...group('Client QoS and ACLs the SDK and the objectnode call (src/api/routes/s3.ts)', [
    { url: '/s3/qos/get', methods: GP, cubefs: 'open', signed: 'open', note: 'the objectnode calls it unsigned at start' },
    { url: '/admin/qosUpload', methods: GET, cubefs: 'open', signed: 'open', note: SDK_CALLS },
    { url: '/admin/aclOp', methods: GET, cubefs: 'open', signed: 'open', checks: 'add and delete (op 1, 2) refused: 2 (no ACLs kept)', note: SDK_CALLS },
  ]),
  ...group('Web console (read-only; its actions call the root-signed operator routes)', [
    { url: '/console', methods: GET, cubefs: 'open', signed: 'open', note: CONSOLE_FILES },
    { url: '/console/', methods: GET, cubefs: 'open', signed: 'open', note: CONSOLE_FILES },
    { url: '/console/*', methods: GET, cubefs: 'open', signed: 'open', note: CONSOLE_FILES },
    { url: '/console/api/overview', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/console/api/series', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/console/api/vols', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/console/api/vol', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/console/api/nodes', methods: GET, cubefs: 'open', signed: 'open' },
    { url: '/console/api/users', methods: GET, cubefs: 'open', signed: 'open', note: 'access keys masked by the master; secret keys never sent' },
  ]),
  ...group("cubemaster's own", [
    { url: '/cubemaster/status', methods: GET, cubefs: 'open', signed: 'open', note: 'a member\'s Raft position; health checks call it unsigned' },
    { url: '/cubemaster/audit', methods: GET, cubefs: 'open', signed: 'root', note: 'digests only; the chaos suite calls it unsigned (cubefs mode)' },
    { url: '/cubemaster/log-digest', methods: GET, cubefs: 'open', signed: 'root', note: 'digests only; the chaos suite calls it unsigned (cubefs mode)' },
    { url: '/cubemaster/members', methods: GET, cubefs: 'open', signed: 'open', note: 'ids, addresses and roles of the master group' },
    { url: '/cubemaster/members/learner', methods: POST, cubefs: 'root', signed: 'root' },
    { url: '/cubemaster/members/promote', methods: POST, cubefs: 'root', signed: 'root' },
    { url: '/cubemaster/members/remove', methods: POST, cubefs: 'root', signed: 'root' },
    { url: '/cubemaster/recovery', methods: GET, cubefs: 'open', signed: 'open', note: 'the recovery report: vols, partitions and nodes rebuilt, what needs the operator; no keys' },
    {
      url: '/cubemaster/snapshot',
      methods: GET,
      cubefs: 'root',
      signed: 'root',
      onlyWhen: 'a master with its store (`cubemaster snapshot save`)',
      note: 'streams the whole state, users\' secret keys included: checked by the route itself',
    },
    { url: '/cubemaster/leader/transfer', methods: POST, cubefs: 'root', signed: 'root' },
    { url: '/cubemaster/node/decommission', methods: POST, cubefs: 'root', signed: 'root' },
    ...['/cubemaster/chaos/disk', '/cubemaster/chaos/clock'].map((url) => ({
      url,
      methods: GET,
      cubefs: 'open' as const,
      signed: 'open' as const,
      onlyWhen: 'CUBEMASTER_CHAOS=1',
      note: 'fault injection (slow, full or failing disk; clock steps) for the chaos suite, registered only in its processes',
    })),
  ]),
];

const BY_URL: ReadonlyMap<string, RouteAccessRow> = new Map(ROUTE_ACCESS.map((row) => [row.url, row]));

export function accessRowOf(url: string): RouteAccessRow | undefined {
  return BY_URL.get(url);
}

export function ruleIn(row: RouteAccessRow, mode: AccessMode): AccessRule {
  return mode === 'cubefs' ? row.cubefs : row.signed;
}
