// What each system is asked in the comparison: a small replicated write, a linearizable read,
// a serializable (local) read, and how to seed keys to read. cubemaster and the Go master speak
// the CubeFS master API (/user/create, /user/info), etcd its v3 HTTP/JSON gateway.
import { b64 } from '../etcd-cluster.js';
import type { RequestSpec } from '../write-load.js';

export type SystemKind = 'cubemaster' | 'etcd' | 'go';
export type ReadMode = 'linearizable' | 'serializable';

export interface Workload {
  /** A fresh key per call: `tag` keeps runs apart. */
  readonly write: (tag: string) => (client: number, seq: number) => RequestSpec;
  readonly writeOk: (status: number, body: string) => boolean;
  /** Creates key `name` (for reads). */
  readonly seed: (name: string) => RequestSpec;
  readonly read: (mode: ReadMode, names: readonly string[]) => (client: number, seq: number) => RequestSpec;
  readonly readOk: (status: number, body: string) => boolean;
}

const ETCD_VALUE = b64('v'.repeat(64));

/** A CubeFS user id for (tag, client, seq): letters, digits and _, at most 21 characters. */
export function userId(tag: string, client: number, seq: number): string {
  return `u${tag.replace(/[^A-Za-z0-9]/g, '').slice(-6)}_${client.toString(36)}_${seq.toString(36)}`;
}

export function isEnvelopeOk(status: number, body: string): boolean {
  return status === 200 && body.startsWith('{"code":0');
}

const pick = (names: readonly string[], client: number, seq: number): string => names[(client * 7919 + seq) % names.length];

export const CUBEFS_WORKLOAD: Workload = {
  write: (tag) => (client, seq) => ({ method: 'POST', path: '/user/create', body: JSON.stringify({ id: userId(tag, client, seq), type: 2 }) }),
  writeOk: isEnvelopeOk,
  seed: (name) => ({ method: 'POST', path: '/user/create', body: JSON.stringify({ id: name, type: 2 }) }),
  read: (mode, names) => (client, seq) => ({
    method: 'GET',
    path: `/user/info?user=${pick(names, client, seq)}`,
    headers: mode === 'serializable' ? { 'x-cubemaster-consistency': 'serializable' } : undefined,
  }),
  readOk: isEnvelopeOk,
};

export const ETCD_WORKLOAD: Workload = {
  write: (tag) => (client, seq) => ({ method: 'POST', path: '/v3/kv/put', body: JSON.stringify({ key: b64(`${tag}/${client}/${seq}`), value: ETCD_VALUE }) }),
  writeOk: (status) => status === 200,
  seed: (name) => ({ method: 'POST', path: '/v3/kv/put', body: JSON.stringify({ key: b64(name), value: ETCD_VALUE }) }),
  read: (mode, names) => (client, seq) => ({
    method: 'POST',
    path: '/v3/kv/range',
    body: JSON.stringify(mode === 'serializable' ? { key: b64(pick(names, client, seq)), serializable: true } : { key: b64(pick(names, client, seq)) }),
  }),
  readOk: (status, body) => status === 200 && body.includes('"kvs"'),
};

/** The Go master: /user/create for writes; its reads are leader-only, so only `/admin/getCluster` is compared. */
export const GO_WORKLOAD: Workload = { ...CUBEFS_WORKLOAD };

export const CLUSTER_VIEW_READ: RequestSpec = { method: 'GET', path: '/admin/getCluster' };

export function workloadOf(kind: SystemKind): Workload {
  return kind === 'etcd' ? ETCD_WORKLOAD : kind === 'go' ? GO_WORKLOAD : CUBEFS_WORKLOAD;
}

/**
 * The leader's hot paths that api-cost.ts and api-pipeline.ts measure, as bench/wrk/workload.lua
 * KINDs: a linearizable /user/info of a seeded user, /admin/getCluster, /user/create.
 */
export const HOT_PATH_WRK_KINDS: Readonly<Record<string, string>> = { info: 'cubefs-read', cluster: 'cubefs-get:/admin/getCluster', create: 'cubefs-write' };

/** A --workloads list (comma-separated names of HOT_PATH_WRK_KINDS); throws on an unknown name. */
export function hotPathWorkloads(list: string): string[] {
  const names = list.split(',').filter((w) => w !== '');
  for (const w of names) if (HOT_PATH_WRK_KINDS[w] === undefined) throw new Error(`unknown workload ${w} (${Object.keys(HOT_PATH_WRK_KINDS).join(', ')})`);
  return names;
}
