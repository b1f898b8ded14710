// Configuration: the CubeFS master.json keys (spec/cubefs-master.md, section 9) plus our own for
// what CubeFS lacks. CubeFS reads some keys as strings and some as numbers and silently ignores a
// value of the other type; we accept either and reject what does not parse, naming the key.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CubeCode, ParamError } from '../util/errors.js';
import type { AccessMode } from '../api/access-rules.js';
import { ACCESS_MODES } from '../api/access-rules.js';
import type { ApiLimits } from '../api/limits.js';
import { parseApiLimits } from '../api/limits.js';

export interface PeerConfig {
  readonly id: number;
  readonly host: string;
  readonly httpPort: number;
  /** Our extension: a 4th field `id:ip:httpPort:raftPort`; CubeFS uses every node's own replicaPort. */
  readonly raftPort: number;
}

export interface MasterConfig {
  readonly role: 'master';
  readonly id: number;
  readonly ip: string;
  readonly listen: number;
  readonly bindIp: boolean;
  readonly peers: readonly PeerConfig[];
  readonly clusterName: string;
  readonly walDir: string;
  readonly storeDir: string;
  readonly retainLogs: number;
  readonly heartbeatPort: number;
  readonly replicaPort: number;
  readonly tickIntervalMs: number;
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly logLevel: string;
  readonly logDir: string;
  readonly nodeSetCap: number;
  readonly legacyDataMediaType: number;
  /** CubeFS `singleNodeMode`: vols get one meta partition replica (a one-node test cluster). */
  readonly singleNodeMode: boolean;
  // Ours.
  /** The port the Raft listener binds, when it differs from the one peers dial (a proxy between). */
  readonly raftListenPort: number | undefined;
  readonly shutdownTimeoutMs: number;
  readonly proposalTimeoutMs: number;
  readonly transferLeaderTimeoutMs: number;
  readonly memberCatchUpTimeoutMs: number;
  readonly maxPendingProposals: number;
  readonly maxPendingReads: number;
  /** Heartbeat tasks to every node (spec 6: 6 s); lower only in tests. */
  readonly nodeHeartbeatIntervalMs: number;
  /** Data partition top-up starts this long after the member became leader (spec 3.2: 2 min). */
  readonly dataPartitionTopUpDelayMs: number;
  /** On stop or loss of leadership: how long running volume/partition operations may finish before they are aborted and rolled back. */
  readonly domainStopGraceMs: number;
  /** A partition a node reports that no record accounts for is deleted after this long (an orphan of a dead leader). */
  readonly orphanPartitionGraceMs: number;
  /** A vol marked for deletion stays visible (Status 1) this long before its removal starts. */
  readonly volRemovalDelayMs: number;
  /** Who may call which route (docs/access-rules.md): `cubefs` (the Go master's rules) or `signed`. */
  readonly apiAccess: AccessMode;
  /** Limits on client input (docs/limits.md): an object, each key optional. */
  readonly apiLimits: ApiLimits;
}

/** Defaults: `npm start` runs one master on 127.0.0.1:17010 with its data in ./data. */
export const DEFAULTS = {
  id: 1,
  ip: '127.0.0.1',
  listen: 17010,
  clusterName: 'cubemaster',
  walDir: 'data/wal',
  storeDir: 'data/store',
  retainLogs: 20000,
  heartbeatPort: 5901,
  replicaPort: 5902,
  // Chosen by `npm run bench:election` (3 masters, 64 writing clients, this machine): the event
  // loop's lag under load is p99 18 ms, max 33 ms, and no timeout from 200 ms up caused an
  // election under load; failover after SIGKILL of the leader took 363 / 590 / 1253 / 2163 ms
  // with 200 / 500 / 1000 / 2500 (CubeFS) ms timeouts. 100 ms x 10 keeps a 30x margin over the
  // worst pause seen (GC or a busier host can pause far longer) and fails over in ~1.3 s.
  tickIntervalMs: 100,
  electionTick: 10,
  heartbeatTick: 1,
  logLevel: 'info',
  logDir: '',
  nodeSetCap: 18,
  legacyDataMediaType: 0,
  shutdownTimeoutMs: 10_000,
  proposalTimeoutMs: 10_000,
  transferLeaderTimeoutMs: 3_000,
  memberCatchUpTimeoutMs: 60_000,
  maxPendingProposals: 20_000,
  maxPendingReads: 20_000,
  nodeHeartbeatIntervalMs: 6_000,
  dataPartitionTopUpDelayMs: 120_000,
  domainStopGraceMs: 5_000,
  orphanPartitionGraceMs: 60_000,
  volRemovalDelayMs: 0,
} as const;

type RawConfig = Record<string, unknown>;

/** Reads master.json (if given), then applies overrides (command-line flags), then defaults. */
export function loadConfig(file: string | undefined, overrides: RawConfig, baseDir = process.cwd()): MasterConfig {
  let raw: RawConfig = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ParamError('config', `cannot read config file ${file}: ${(error as Error).message}`, CubeCode.InvalidCfg);
    }
    try {
      raw = JSON.parse(text) as RawConfig;
    } catch (error) {
      throw new ParamError('config', `config file ${file} is not JSON: ${(error as Error).message}`, CubeCode.InvalidCfg);
    }
    baseDir = path.dirname(path.resolve(file));
  }
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) raw[key] = value;
  return parseConfig(raw, baseDir);
}

export function parseConfig(raw: RawConfig, baseDir: string): MasterConfig {
  const role = str(raw, 'role', 'master');
  if (role !== 'master') throw bad('role', `role must be "master", got "${role}"`);
  const id = int(raw, 'id', DEFAULTS.id, 1);
  const ip = str(raw, 'ip', DEFAULTS.ip);
  const listen = int(raw, 'listen', DEFAULTS.listen, 1, 65535);
  const replicaPort = port(raw, 'replicaPort', DEFAULTS.replicaPort);
  const peersText = str(raw, 'peers', `${id}:${ip}:${listen}`);
  const peers = parsePeers(peersText, replicaPort);
  if (!peers.some((p) => p.id === id)) throw bad('peers', `peers "${peersText}" does not list this master's id ${id}`);
  const resolveDir = (key: string, fallback: string): string => path.resolve(baseDir, str(raw, key, fallback));
  return {
    role: 'master',
    id,
    ip,
    listen,
    bindIp: bool(raw, 'bindIp', false),
    peers,
    clusterName: str(raw, 'clusterName', DEFAULTS.clusterName),
    walDir: resolveDir('walDir', DEFAULTS.walDir),
    storeDir: resolveDir('storeDir', DEFAULTS.storeDir),
    retainLogs: int(raw, 'retainLogs', DEFAULTS.retainLogs, 100),
    heartbeatPort: port(raw, 'heartbeatPort', DEFAULTS.heartbeatPort),
    replicaPort,
    tickIntervalMs: int(raw, 'tickInterval', DEFAULTS.tickIntervalMs, 10, 10_000),
    electionTick: int(raw, 'electionTick', DEFAULTS.electionTick, 3, 1000),
    heartbeatTick: int(raw, 'heartbeatTick', DEFAULTS.heartbeatTick, 1, 100),
    logLevel: str(raw, 'logLevel', DEFAULTS.logLevel),
    logDir: str(raw, 'logDir', DEFAULTS.logDir),
    nodeSetCap: int(raw, 'nodeSetCap', DEFAULTS.nodeSetCap, 3),
    legacyDataMediaType: int(raw, 'legacyDataMediaType', DEFAULTS.legacyDataMediaType, 0, 2),
    singleNodeMode: bool(raw, 'singleNodeMode', false),
    raftListenPort: present(raw, 'raftListenPort') === undefined ? undefined : int(raw, 'raftListenPort', 0, 1, 65535),
    shutdownTimeoutMs: int(raw, 'shutdownTimeoutMs', DEFAULTS.shutdownTimeoutMs, 0, 600_000),
    proposalTimeoutMs: int(raw, 'proposalTimeoutMs', DEFAULTS.proposalTimeoutMs, 100, 600_000),
    transferLeaderTimeoutMs: int(raw, 'transferLeaderTimeoutMs', DEFAULTS.transferLeaderTimeoutMs, 0, 600_000),
    memberCatchUpTimeoutMs: int(raw, 'memberCatchUpTimeoutMs', DEFAULTS.memberCatchUpTimeoutMs, 100, 3_600_000),
    maxPendingProposals: int(raw, 'maxPendingProposals', DEFAULTS.maxPendingProposals, 1),
    maxPendingReads: int(raw, 'maxPendingReads', DEFAULTS.maxPendingReads, 1),
    nodeHeartbeatIntervalMs: int(raw, 'nodeHeartbeatIntervalMs', DEFAULTS.nodeHeartbeatIntervalMs, 100, 600_000),
    dataPartitionTopUpDelayMs: int(raw, 'dataPartitionTopUpDelayMs', DEFAULTS.dataPartitionTopUpDelayMs, 0, 3_600_000),
    domainStopGraceMs: int(raw, 'domainStopGraceMs', DEFAULTS.domainStopGraceMs, 0, 600_000),
    orphanPartitionGraceMs: int(raw, 'orphanPartitionGraceMs', DEFAULTS.orphanPartitionGraceMs, 0, 86_400_000),
    volRemovalDelayMs: int(raw, 'volRemovalDelayMs', DEFAULTS.volRemovalDelayMs, 0, 30 * 86_400_000),
    apiAccess: oneOf(raw, 'apiAccess', ACCESS_MODES),
    apiLimits: apiLimits(raw),
  };
}

function oneOf<T extends string>(raw: RawConfig, key: string, allowed: readonly T[]): T {
  const value = str(raw, key, allowed[0]);
  if (!(allowed as readonly string[]).includes(value)) throw bad(key, `${key} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

function apiLimits(raw: RawConfig): ApiLimits {
  try {
    return parseApiLimits(raw.apiLimits);
  } catch (e) {
    throw bad('apiLimits', (e as Error).message);
  }
}

/** `id:ip:httpPort[:raftPort],...` (CubeFS: id:ip:httpPort, every raft port = our replicaPort). */
export function parsePeers(text: string, defaultRaftPort: number): PeerConfig[] {
  const peers: PeerConfig[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const fields = part.split(':');
    if (fields.length !== 3 && fields.length !== 4) throw bad('peers', `peer "${part}" is not id:ip:port`);
    const [idText, host, httpText, raftText] = fields;
    const id = Number(idText);
    const httpPort = Number(httpText);
    const raftPort = raftText === undefined ? defaultRaftPort : Number(raftText);
    if (!Number.isSafeInteger(id) || id <= 0) throw bad('peers', `peer "${part}": id must be a positive integer`);
    if (!validPort(httpPort) || !validPort(raftPort)) throw bad('peers', `peer "${part}": bad port`);
    if (host === '') throw bad('peers', `peer "${part}": empty host`);
    if (peers.some((p) => p.id === id)) throw bad('peers', `peer id ${id} listed twice`);
    peers.push({ id, host, httpPort, raftPort });
  }
  if (peers.length === 0) throw bad('peers', 'peers is empty');
  return peers;
}

function bad(key: string, message: string): ParamError {
  return new ParamError(key, `config: ${message}`, CubeCode.InvalidCfg);
}

function present(raw: RawConfig, key: string): unknown {
  const value = raw[key];
  return value === '' || value === null ? undefined : value;
}

function str(raw: RawConfig, key: string, fallback: string): string {
  const value = present(raw, key);
  if (value === undefined) return fallback;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw bad(key, `${key} must be a string`);
}

function int(raw: RawConfig, key: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const value = present(raw, key);
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw bad(key, `${key} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  return n;
}

function port(raw: RawConfig, key: string, fallback: number): number {
  // CubeFS: a port <= 1024 means "use the default".
  const n = int(raw, key, fallback, 0, 65535);
  return n <= 1024 ? fallback : n;
}

function bool(raw: RawConfig, key: string, fallback: boolean): boolean {
  const value = present(raw, key);
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw bad(key, `${key} must be true or false`);
}

function validPort(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 65535;
}
