// Configuration: CubeFS master.json keys plus our own, read and validated by the table in
// config-schema.ts. Sources in order of precedence: command-line flags, the file, the defaults.
// A bad value is refused with a message naming the key, the value, where it came from and what
// is allowed; a key the table does not know is reported as a warning (the caller logs each once).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseApiLimits } from '../api/limits.js';
import { CubeCode, ParamError } from '../util/errors.js';
import {
  allowedText,
  CONFIG_KEYS,
  CUBEFS_KEYS_IGNORED,
  configKeys,
  fieldOf,
  keySpec,
  type ConfigKey,
  type KeySpec,
  type MasterConfig,
  type PeerConfig,
} from './config-schema.js';

export type { MasterConfig, PeerConfig } from './config-schema.js';

export type ConfigSource = 'flag' | 'file' | 'default';

/** A bad config value: names the key, the value given and what is allowed (CubeFS code 3). */
export class ConfigError extends ParamError {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(key, `config: ${message}`, CubeCode.InvalidCfg);
  }
}

export interface LoadedConfig {
  readonly config: MasterConfig;
  /** Keys that were given but have no effect, one line each. */
  readonly warnings: readonly string[];
  /** Where each key's effective value came from. */
  readonly sources: ReadonlyMap<ConfigKey, ConfigSource>;
  /** The config file read, resolved, or null. */
  readonly file: string | null;
}

type RawConfig = Record<string, unknown>;

/** Reads master.json (if given), then applies overrides (command-line flags), then defaults. */
export function loadConfig(file: string | undefined, overrides: RawConfig, baseDir = process.cwd()): MasterConfig {
  return readConfig(file, overrides, baseDir).config;
}

/** As loadConfig, with the warnings and the source of every value. */
export function readConfig(file: string | undefined, overrides: RawConfig, baseDir = process.cwd()): LoadedConfig {
  let fromFile: RawConfig = {};
  if (file !== undefined) {
    fromFile = readConfigFile(file);
    baseDir = path.dirname(path.resolve(file));
  }
  const fromFlags: RawConfig = {};
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) fromFlags[key] = value;
  const sources = new Map<ConfigKey, ConfigSource>();
  for (const key of configKeys()) {
    if (present(fromFlags, key) !== undefined) sources.set(key, 'flag');
    else if (present(fromFile, key) !== undefined) sources.set(key, 'file');
    else sources.set(key, 'default');
  }
  const raw = { ...fromFile, ...fromFlags };
  const config = parseConfig(raw, baseDir, (key) => (sources.get(key) === 'flag' ? `from ${keySpec(key).flag ?? 'a flag'}` : file !== undefined ? `in ${file}` : ''));
  return { config, warnings: unknownKeyWarnings(fromFile), sources, file: file === undefined ? null : path.resolve(file) };
}

function readConfigFile(file: string): RawConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError('config', `cannot read config file ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('config', `config file ${file} is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError('config', `config file ${file} must hold a JSON object`);
  return parsed as RawConfig;
}

/** Parses and validates every key of the schema; `where(key)` says where a bad value came from. */
export function parseConfig(raw: RawConfig, baseDir: string, where: (key: ConfigKey) => string = () => ''): MasterConfig {
  const values: Record<string, unknown> = {};
  const keys = configKeys();
  // peers' default and check need id, ip and listen: every other key first.
  for (const key of keys) if (key !== 'peers') values[fieldOf(key)] = parseValue(raw, key, CONFIG_KEYS[key], baseDir, where(key));
  const id = values.id as number;
  const defaultPeers = `${id}:${values.ip as string}:${values.listen as number}`;
  const peersText = present(raw, 'peers') === undefined ? defaultPeers : stringOf(raw, 'peers', where('peers'));
  const peers = parsePeers(peersText, values.replicaPort as number);
  if (!peers.some((p) => p.id === id)) throw new ConfigError('peers', `key "peers" = ${JSON.stringify(peersText)} does not list this master's id ${id} (key "id")`);
  values.peers = peers;
  const config = values as MasterConfig;
  checkSecurityKeys(config);
  return config;
}

/** The transport security keys that only make sense together (docs/security.md). */
function checkSecurityKeys(c: MasterConfig): void {
  const together = (keys: readonly ('raftTlsCaFile' | 'raftTlsCertFile' | 'raftTlsKeyFile' | 'httpTlsCertFile' | 'httpTlsKeyFile')[]): void => {
    const missing = keys.filter((k) => c[k] === undefined);
    if (missing.length > 0 && missing.length < keys.length) throw new ConfigError(missing[0], `config: ${keys.join(', ')} go together; missing ${missing.join(', ')}`);
  };
  together(['raftTlsCaFile', 'raftTlsCertFile', 'raftTlsKeyFile']);
  together(['httpTlsCertFile', 'httpTlsKeyFile']);
  if (c.raftSecretFile !== undefined && c.raftTlsCertFile !== undefined) {
    throw new ConfigError('raftSecretFile', 'config: raftSecretFile and peer TLS (raftTls*) exclude each other: TLS authenticates members already');
  }
  if (c.httpTlsCaFile !== undefined && c.httpTlsCertFile === undefined) throw new ConfigError('httpTlsCaFile', 'config: httpTlsCaFile needs HTTPS on (httpTlsCertFile, httpTlsKeyFile)');
  if (c.httpTlsRequireClientCert && c.httpTlsCaFile === undefined) {
    throw new ConfigError('httpTlsRequireClientCert', 'config: httpTlsRequireClientCert needs httpTlsCaFile (the CA client certificates must chain to)');
  }
}

function parseValue(raw: RawConfig, key: ConfigKey, spec: KeySpec, baseDir: string, where: string): unknown {
  const value = present(raw, key);
  switch (spec.kind) {
    case 'int':
      return value === undefined ? (spec.default ?? undefined) : intOf(key, value, spec, where);
    case 'port': {
      if (value === undefined) return spec.default;
      // CubeFS: a port <= 1024 means "use the default".
      const n = intOf(key, value, spec, where);
      return n <= 1024 ? spec.default : n;
    }
    case 'bool':
      if (value === undefined) return spec.default;
      if (value === true || value === 'true') return true;
      if (value === false || value === 'false') return false;
      throw invalid(key, value, spec, where);
    case 'string': {
      const text = value === undefined ? spec.default : stringOf(raw, key, where);
      if (spec.nonEmpty === true && text === '') throw invalid(key, value, spec, where);
      return text;
    }
    case 'dir':
      return path.resolve(baseDir, value === undefined ? spec.default : stringOf(raw, key, where));
    case 'file':
      return value === undefined ? undefined : path.resolve(baseDir, stringOf(raw, key, where));
    case 'enum': {
      const text = value === undefined ? spec.default : stringOf(raw, key, where);
      if (!spec.values.includes(text)) throw invalid(key, value, spec, where);
      return text;
    }
    case 'apiLimits':
      try {
        return parseApiLimits(value);
      } catch (e) {
        throw new ConfigError(key, `key "${key}"${where === '' ? '' : ` (${where})`}: ${(e as Error).message}`);
      }
    case 'peers':
      throw new Error('peers is parsed after the other keys');
  }
}

function intOf(key: ConfigKey, value: unknown, spec: KeySpec, where: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  const [min, max] = spec.kind === 'int' ? [spec.min, spec.max] : [0, 65535];
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalid(key, value, spec, where);
  return n;
}

function stringOf(raw: RawConfig, key: ConfigKey, where: string): string {
  const value = raw[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw invalid(key, value, CONFIG_KEYS[key], where);
}

function invalid(key: ConfigKey, value: unknown, spec: KeySpec, where: string): ConfigError {
  return new ConfigError(key, `key "${key}"${where === '' ? '' : ` (${where})`} = ${JSON.stringify(value)} is not allowed: must be ${allowedText(spec)}`);
}

/** `id:ip:httpPort[:raftPort],...` (CubeFS: id:ip:httpPort, every raft port = our replicaPort). */
export function parsePeers(text: string, defaultRaftPort: number): PeerConfig[] {
  const peers: PeerConfig[] = [];
  const bad = (message: string): ConfigError => new ConfigError('peers', `key "peers" = ${JSON.stringify(text)}: ${message}; must be ${allowedText(CONFIG_KEYS.peers)}`);
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const fields = part.split(':');
    if (fields.length !== 3 && fields.length !== 4) throw bad(`peer "${part}" is not id:ip:port`);
    const [idText, host, httpText, raftText] = fields;
    const id = Number(idText);
    const httpPort = Number(httpText);
    const raftPort = raftText === undefined ? defaultRaftPort : Number(raftText);
    if (!Number.isSafeInteger(id) || id <= 0) throw bad(`peer "${part}": id must be a positive integer`);
    if (!validPort(httpPort) || !validPort(raftPort)) throw bad(`peer "${part}": bad port`);
    if (host === '') throw bad(`peer "${part}": empty host`);
    if (peers.some((p) => p.id === id)) throw bad(`peer id ${id} listed twice`);
    peers.push({ id, host, httpPort, raftPort });
  }
  if (peers.length === 0) throw bad('empty');
  return peers;
}

/** One warning per key of the file that the schema does not honour. */
function unknownKeyWarnings(fromFile: RawConfig): string[] {
  const known = new Set<string>(configKeys());
  const warnings: string[] = [];
  for (const key of Object.keys(fromFile)) {
    if (known.has(key)) continue;
    if (CUBEFS_KEYS_IGNORED.includes(key)) {
      warnings.push(`config key "${key}" is a CubeFS key cubemaster does not use: ignored`);
      continue;
    }
    const near = nearestKey(key, [...known]);
    warnings.push(`config key "${key}" is unknown: ignored${near === null ? '' : ` (did you mean "${near}"?)`}`);
  }
  return warnings;
}

/** The known key within edit distance 2 (case-insensitive), for "did you mean". */
function nearestKey(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = row;
  }
  return previous[b.length];
}

function present(raw: RawConfig, key: string): unknown {
  const value = raw[key];
  return value === '' || value === null ? undefined : value;
}

function validPort(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 65535;
}
