// Every configuration key cubemaster honours, in one table: its type, default, bounds and
// meaning. config.ts parses and validates master.json and the command-line flags with it,
// `cubemaster check-config` prints the effective values by it, `server`'s flags are made from it
// and docs/config.md is generated from it (`npm run docs:config`), so none of these can drift.
//
// Adding a key is one entry here: the MasterConfig field (named `field`, or the key itself) and
// its type follow from the entry. Keys of CubeFS's master.json (spec/cubefs-master.md section 9)
// are marked `cubefs`; CubeFS reads some as strings and some as numbers and silently ignores a
// value of the other type: we accept either and reject what does not parse, naming the key.

import { ACCEPT_HANDLES_MAX } from '../api/accept-handles.js';
import { ACCESS_MODES } from '../api/access-rules.js';
import type { ApiLimits } from '../api/limits.js';

export interface PeerConfig {
  readonly id: number;
  readonly host: string;
  readonly httpPort: number;
  /** Our extension: a 4th field `id:ip:httpPort:raftPort`; CubeFS uses every node's own replicaPort. */
  readonly raftPort: number;
}

interface KeyCommon {
  /** What the key does, for docs/config.md and `check-config`. */
  readonly doc: string;
  /** A key of CubeFS's master.json (same name and meaning), or one of ours. */
  readonly cubefs?: true;
  /** The `server` / `check-config` command-line flag that overrides it (`--wal-dir`). */
  readonly flag?: string;
  /** The MasterConfig field, when it differs from the key (units in names: `tickIntervalMs`). */
  readonly field?: string;
}

/** An integer in [min, max]; `default: null` means "unset" (the field is `number | undefined`). */
export interface IntKey extends KeyCommon {
  readonly kind: 'int';
  readonly default: number | null;
  readonly min: number;
  readonly max: number;
}

/** A TCP port; CubeFS's rule: a value <= 1024 means "use the default". */
export interface PortKey extends KeyCommon {
  readonly kind: 'port';
  readonly default: number;
}

export interface BoolKey extends KeyCommon {
  readonly kind: 'bool';
  readonly default: boolean;
}

export interface StringKey extends KeyCommon {
  readonly kind: 'string';
  readonly default: string;
  /** Must not be empty (after the default applied). */
  readonly nonEmpty?: true;
}

/** A directory, resolved against the config file's directory (or the working directory). */
export interface DirKey extends KeyCommon {
  readonly kind: 'dir';
  readonly default: string;
}

export interface EnumKey extends KeyCommon {
  readonly kind: 'enum';
  readonly values: readonly string[];
  readonly default: string;
}

/** An optional file path, resolved like a dir; unset by default (the field is `string | undefined`). */
export interface FileKey extends KeyCommon {
  readonly kind: 'file';
  readonly default: null;
}

/** The API's input limits (docs/limits.md): an object, each limit optional; unset: the defaults. */
export interface ApiLimitsKey extends KeyCommon {
  readonly kind: 'apiLimits';
  readonly default: null;
}

/** `id:ip:httpPort[:raftPort],...`; the default is this master alone (`<id>:<ip>:<listen>`). */
export interface PeersKey extends KeyCommon {
  readonly kind: 'peers';
  readonly default: null;
}

export type KeySpec = IntKey | PortKey | BoolKey | StringKey | DirKey | FileKey | EnumKey | ApiLimitsKey | PeersKey;

const MAX_INT = Number.MAX_SAFE_INTEGER;
const DAY_MS = 86_400_000;

export const CONFIG_KEYS = {
  role: { kind: 'enum', values: ['master'], default: 'master', cubefs: true, doc: 'the CubeFS role; a master config must say "master"' },
  id: { kind: 'int', default: 1, min: 1, max: MAX_INT, cubefs: true, flag: '--id', doc: "this master's Raft id; must appear in `peers`" },
  ip: { kind: 'string', default: '127.0.0.1', nonEmpty: true, cubefs: true, flag: '--ip', doc: "the Raft listener's address; with `bindIp` also the HTTP one" },
  listen: { kind: 'int', default: 17010, min: 1, max: 65535, cubefs: true, flag: '--listen', doc: 'HTTP port of the CubeFS API (and the console)' },
  bindIp: { kind: 'bool', default: false, cubefs: true, doc: 'bind HTTP to `ip` instead of all interfaces, so masters can share port numbers on distinct addresses' },
  peers: {
    kind: 'peers',
    default: null,
    cubefs: true,
    flag: '--peers',
    doc: 'every member, `id:ip:httpPort` (CubeFS); our extension `id:ip:httpPort:raftPort` lets masters share one address. Default: this master alone',
  },
  join: {
    kind: 'bool',
    default: false,
    flag: '--join',
    doc: 'start as a new member of a running group: with an empty log, wait for the leader (`cubemaster members add`) instead of founding a group of `peers`',
  },
  replicaPort: { kind: 'port', default: 5902, cubefs: true, flag: '--replica-port', doc: 'Raft port, for members whose `peers` entry names none (<= 1024: the default)' },
  heartbeatPort: { kind: 'port', default: 5901, cubefs: true, doc: 'accepted for compatibility; all Raft traffic goes through `replicaPort`' },
  raftListenPort: {
    kind: 'int',
    default: null,
    min: 1,
    max: 65535,
    doc: 'the port the Raft listener binds when it differs from the one peers dial (a proxy in between); default: the port of this member\'s `peers` entry',
  },
  clusterName: { kind: 'string', default: 'cubemaster', nonEmpty: true, cubefs: true, flag: '--cluster-name', doc: 'name of the cluster; every member and the stored cluster record must agree' },
  walDir: { kind: 'dir', default: 'data/wal', cubefs: true, flag: '--wal-dir', doc: 'Raft log (checksummed segments, one fdatasync per Ready) and the lock that keeps a second process out' },
  storeDir: { kind: 'dir', default: 'data/store', cubefs: true, flag: '--store-dir', doc: 'RocksDB state' },
  retainLogs: { kind: 'int', default: 20000, min: 100, max: MAX_INT, cubefs: true, doc: 'entries kept after compaction for lagging followers' },
  tickInterval: {
    kind: 'int',
    field: 'tickIntervalMs',
    default: 100,
    min: 10,
    max: 10_000,
    cubefs: true,
    doc: 'ms per Raft tick (chosen by `npm run bench:election`: fails over in ~1.3 s with a 30x margin over the worst pause seen)',
  },
  electionTick: { kind: 'int', default: 10, min: 3, max: 1000, cubefs: true, doc: 'ticks before a follower campaigns (randomized up to 2x)' },
  heartbeatTick: { kind: 'int', default: 1, min: 1, max: 100, doc: 'ticks between leader heartbeats' },
  logLevel: {
    kind: 'enum',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    cubefs: true,
    flag: '--log-level',
    doc: 'pino level of the JSON log on stdout',
  },
  logDir: { kind: 'string', default: '', cubefs: true, doc: 'accepted for compatibility; the log goes to stdout' },
  nodeSetCap: { kind: 'int', default: 18, min: 3, max: MAX_INT, cubefs: true, doc: 'nodes per node set, as in CubeFS' },
  legacyDataMediaType: { kind: 'int', default: 0, min: 0, max: 2, cubefs: true, doc: 'media of data nodes that register without one: 0 none, 1 SSD, 2 HDD' },
  singleNodeMode: { kind: 'bool', default: false, cubefs: true, doc: 'as in CubeFS: vols get one meta partition replica (a one-node test cluster)' },
  shutdownTimeoutMs: { kind: 'int', default: 10_000, min: 0, max: 600_000, flag: '--shutdown-timeout-ms', doc: 'bound on waiting for proposals and requests in flight at stop' },
  walPreallocate: {
    kind: 'bool',
    default: false,
    doc: 'off by default: no end-to-end gain measured on the reference machine (bench/results/notes.md). Prepare each next Raft log segment ahead, in the background, as a synced file of zeros (a 4 MiB one once the log has written 64 KiB, then each twice the last, up to 64 MiB, at most 16 MiB/s), so that the fdatasync of a Ready overwrites allocated blocks instead of growing the file (3 processes on one disk: fdatasync p99 3.1-3.6 ms -> 1.2-1.75 ms); walDir then holds up to two 64 MiB files of zeros (the current segment\'s tail and `spare.ready`); skipped while less than 1 GiB would stay free',
  },
  modelImageMinRecords: {
    kind: 'int',
    default: 20_000,
    min: 0,
    max: MAX_INT,
    doc: 'a clean stop writes the model to storeDir/model.image when it holds at least this many records, and the next start loads it instead of scanning RocksDB (1M users: ~1 s instead of ~35 s: the users with no policy stay packed in memory and are decoded when read); the image is used once, and only if it is the store\'s exact copy',
  },
  proposalTimeoutMs: { kind: 'int', default: 10_000, min: 100, max: 600_000, doc: 'bound on one proposal or linearizable read' },
  transferLeaderTimeoutMs: { kind: 'int', default: 3_000, min: 0, max: 600_000, doc: 'bound on handing leadership over at stop' },
  memberCatchUpTimeoutMs: { kind: 'int', default: 60_000, min: 100, max: 3_600_000, doc: 'bound on a new master catching up before `/raftNode/add` promotes it' },
  maxPendingProposals: { kind: 'int', default: 20_000, min: 1, max: MAX_INT, doc: 'proposals queued or in flight, at most; more are refused with backpressure' },
  maxPendingReads: { kind: 'int', default: 20_000, min: 1, max: MAX_INT, doc: 'linearizable reads waiting, at most' },
  nodeHeartbeatIntervalMs: {
    kind: 'int',
    default: 6_000,
    min: 100,
    max: 600_000,
    doc: 'heartbeat tasks to every meta and data node (a node is inactive after 3 intervals without a report); lower only in tests',
  },
  dataPartitionTopUpDelayMs: {
    kind: 'int',
    default: 120_000,
    min: 0,
    max: 3_600_000,
    doc: 'a new leader starts adding data partitions to vols with fewer than 10 writable ones after this',
  },
  domainStopGraceMs: { kind: 'int', default: 5_000, min: 0, max: 600_000, doc: 'on stop or loss of leadership, volume and partition operations in flight get this long to finish before they roll back' },
  orphanPartitionGraceMs: { kind: 'int', default: 60_000, min: 0, max: DAY_MS, doc: 'a partition a node reports that no record names is deleted after this' },
  volRemovalDelayMs: { kind: 'int', default: 0, min: 0, max: 30 * DAY_MS, doc: 'a vol marked for deletion stays listed (Status 1) this long before its partitions are deleted and it is removed' },
  // Transport security (docs/security.md). The cross-key rules are in config.ts (checkSecurityKeys).
  raftTlsCaFile: { kind: 'file', default: null, doc: 'peer TLS: the cluster CA (PEM); with raftTlsCertFile and raftTlsKeyFile, all three or none' },
  raftTlsCertFile: { kind: 'file', default: null, doc: "peer TLS: this member's certificate (PEM), naming it `cubemaster://<clusterName>/member/<id>` (`cubemaster certs`)" },
  raftTlsKeyFile: { kind: 'file', default: null, doc: "peer TLS: this member's private key (PEM)" },
  raftSecretFile: { kind: 'file', default: null, doc: 'without peer TLS: a file holding the secret every member proves when it connects (at least 16 bytes); excludes raftTls*' },
  httpAcceptHandles: {
    kind: 'int',
    default: 32,
    min: 1,
    max: ACCEPT_HANDLES_MAX,
    doc: 'listening handles on the HTTP socket: a busy event loop accepts up to this many new connections per turn (one per handle); with 1, 256 clients connecting to a busy leader waited up to seconds for their first reply',
  },
  httpTlsCertFile: { kind: 'file', default: null, doc: "HTTPS for the API: this member's certificate (PEM); with httpTlsKeyFile" },
  httpTlsKeyFile: { kind: 'file', default: null, doc: "HTTPS for the API: this member's private key (PEM)" },
  httpTlsCaFile: { kind: 'file', default: null, doc: "the CA of the members' HTTPS certificates (forwarding verifies the leader) and of client certificates; needs HTTPS on" },
  httpTlsRequireClientCert: { kind: 'bool', default: false, doc: 'HTTPS clients must present a certificate signed by httpTlsCaFile' },
  apiAccess: {
    kind: 'enum',
    values: ACCESS_MODES,
    default: 'cubefs',
    doc: "who may call which route (docs/access-rules.md): `cubefs`, the Go master's rules, or `signed`, admin and root routes need a request signed with a user's secret key",
  },
  apiLimits: {
    kind: 'apiLimits',
    default: null,
    doc: 'limits on client input, each optional: sizes, counts, requests in flight per client and per route, per-route QPS (`qps`: path -> `{ limit, timeout }`), as in docs/limits.md',
  },
} as const satisfies Readonly<Record<string, KeySpec>>;

export type ConfigKey = keyof typeof CONFIG_KEYS;
type Schema = typeof CONFIG_KEYS;

type FieldOf<K extends ConfigKey> = Schema[K] extends { readonly field: infer F extends string } ? F : K;
type ValueOf<S> = S extends { readonly kind: 'int' }
  ? S extends { readonly default: null }
    ? number | undefined
    : number
  : S extends { readonly kind: 'port' }
    ? number
    : S extends { readonly kind: 'bool' }
      ? boolean
      : S extends { readonly kind: 'enum'; readonly values: readonly (infer V)[] }
        ? V
        : S extends { readonly kind: 'peers' }
          ? readonly PeerConfig[]
          : S extends { readonly kind: 'file' }
            ? string | undefined
            : S extends { readonly kind: 'apiLimits' }
              ? ApiLimits
              : string;

/** The parsed configuration: one field per schema entry. */
export type MasterConfig = { readonly [K in ConfigKey as FieldOf<K>]: ValueOf<Schema[K]> };

/**
 * CubeFS master.json keys cubemaster accepts and ignores (spec section 9): a CubeFS config runs
 * unchanged, and the warning says the key has no effect here rather than "unknown".
 */
export const CUBEFS_KEYS_IGNORED: readonly string[] = [
  'prof',
  'raftRecvBufSize',
  'metaNodeReservedMem',
  'faultDomain',
  'faultDomainGrpBatchCnt',
  'faultDomainBuildAsPossible',
  'missingDataPartitionInterval',
  'dataPartitionTimeOutSec',
  'metaPartitionTimeOutSec',
  'dpNoLeaderReportIntervalSec',
  'mpNoLeaderReportIntervalSec',
  'numberOfDataPartitionsToLoad',
  'secondsToFreeDataPartitionAfterLoad',
  'disableAutoCreate',
  'enableFollowerCache',
  'enableSnapshot',
  'enableDirectDeleteVol',
  'volDeletionDelayTime',
  'volForceDeletion',
  'volDeletionDentryThreshold',
  'maxWritableDataPartitionCnt',
  'raftPartitionCanUseDifferentPort',
  'allowMultipleReplicasOnSameMachine',
  'masterServiceKey',
  'authenticate',
  'authNodeHost',
  'ebsAddr',
  'bStoreAddr',
  'ebsServicePath',
  'httpReversePoolSize',
  'httpPoolSize',
  'metaNodeMemoryHighPer',
  'metaNodeMemoryLowPer',
  'autoMetaPartitionMigrate',
  'maxQuotaNumPerVol',
  'startLcScanTime',
  'monitorPushAddr',
  'exporterPort',
  'exporterEnable',
  'consulAddr',
  'port',
];

export function keySpec(key: ConfigKey): KeySpec {
  return CONFIG_KEYS[key];
}

export function configKeys(): ConfigKey[] {
  return Object.keys(CONFIG_KEYS) as ConfigKey[];
}

/** The MasterConfig field a key sets. */
export function fieldOf(key: ConfigKey): string {
  const spec: KeySpec = CONFIG_KEYS[key];
  return spec.field ?? key;
}

/** What a key allows, in words: for errors, check-config and the doc. */
export function allowedText(spec: KeySpec): string {
  switch (spec.kind) {
    case 'int':
      return spec.max === MAX_INT ? `an integer >= ${spec.min}` : `an integer in [${spec.min}, ${spec.max}]`;
    case 'port':
      return 'a port in [0, 65535] (<= 1024: the default)';
    case 'bool':
      return 'true or false';
    case 'string':
      return spec.nonEmpty === true ? 'a non-empty string' : 'a string';
    case 'dir':
      return 'a directory path (relative: to the config file)';
    case 'file':
      return 'a file path (relative: to the config file)';
    case 'enum':
      return spec.values.map((v) => JSON.stringify(v)).join(', ');
    case 'apiLimits':
      return 'an object of the limits in docs/limits.md';
    case 'peers':
      return '`id:ip:httpPort[:raftPort]`, comma separated';
  }
}

/** The default, in words. */
export function defaultText(key: ConfigKey): string {
  const spec: KeySpec = CONFIG_KEYS[key];
  if (spec.kind === 'peers') return '`<id>:<ip>:<listen>`';
  if (spec.kind === 'apiLimits') return 'the defaults in docs/limits.md';
  if (spec.default === null) return '(unset)';
  if (spec.kind === 'string' && spec.default === '') return '""';
  return String(spec.default);
}
