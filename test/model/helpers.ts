// Shared test fixtures for the model: command builders with fixed "non-deterministic" inputs,
// a runner that applies and commits like the FSM does, and an in-memory key/value store.

import assert from 'node:assert/strict';
import type {
  Applied,
  BatchOp,
  Command,
  CommandOf,
  ModelState,
  ResultOf,
} from '../../src/model/index.js';
import {
  DEFAULT_VOL_SETTINGS,
  apply,
  applyChanges,
  changesToBatch,
  emptyState,
  makeCommand,
  modelDigest,
  passwordSha1,
} from '../../src/model/index.js';
import type { OperatingError } from '../../src/util/errors.js';

/** 2026-11-25 18:40:41 UTC, the cluster create time of the wire samples. */
export const T_CLUSTER = Date.UTC(2026, 10, 25, 18, 40, 41) / 1000;
export const T_USERS = Date.UTC(2026, 10, 25, 18, 41, 11) / 1000;
export const PW = passwordSha1('pw123');
export const ROOT_AK = '7WgP0alY4SbpIPNL';
export const ROOT_SK = 'ClCvrTMW89UlflS2gVhh1VngU0JQ7vca';

/** A deterministic, well-formed access key / secret key from a small number. */
export function ak(n: number): string {
  return `AK${String(n).padStart(14, '0')}`;
}
export function sk(n: number): string {
  return `SK${String(n).padStart(30, '0')}`;
}

export function bootstrapCmd(clusterName = 'test', t = T_CLUSTER): CommandOf<'cluster.bootstrap'> {
  return makeCommand('cluster.bootstrap', {
    clusterName,
    createTimeUnixSec: t,
    root: { accessKey: ROOT_AK, secretKey: ROOT_SK, passwordSha1: passwordSha1('CubeFSRoot') },
  });
}

let nextKey = 1000;
export function userCreateCmd(
  userId: string,
  fields: Partial<Omit<CommandOf<'user.create'>, 'v' | 'type' | 'userId'>> = {},
): CommandOf<'user.create'> {
  const n = nextKey++;
  return makeCommand('user.create', {
    userId,
    accessKey: ak(n),
    secretKey: sk(n),
    passwordSha1: PW,
    userType: 3,
    description: '',
    createTimeUnixSec: T_USERS,
    ...fields,
  });
}

export function userUpdateCmd(
  userId: string,
  fields: Partial<Omit<CommandOf<'user.update'>, 'v' | 'type' | 'userId'>> = {},
): CommandOf<'user.update'> {
  return makeCommand('user.update', {
    userId,
    accessKey: null,
    secretKey: null,
    passwordSha1: null,
    userType: null,
    description: null,
    ...fields,
  });
}

export function metaNodeAddCmd(
  addr: string,
  fields: Partial<Omit<CommandOf<'metaNode.add'>, 'v' | 'type' | 'addr'>> = {},
): CommandOf<'metaNode.add'> {
  return makeCommand('metaNode.add', {
    addr,
    zoneName: 'default',
    heartbeatPort: '17230',
    replicaPort: '17231',
    nodeSetId: 0,
    nodeSetCapacity: 18,
    ...fields,
  });
}

export function dataNodeAddCmd(
  addr: string,
  fields: Partial<Omit<CommandOf<'dataNode.add'>, 'v' | 'type' | 'addr'>> = {},
): CommandOf<'dataNode.add'> {
  return makeCommand('dataNode.add', {
    addr,
    zoneName: 'default',
    heartbeatPort: '17330',
    replicaPort: '17331',
    nodeSetId: 0,
    nodeSetCapacity: 18,
    mediaType: 1,
    createTimeMs: Date.UTC(2026, 10, 25, 18, 42, 6, 869),
    ...fields,
  });
}

/** A key/value store standing in for RocksDB: batches applied in order, scans in key order. */
export class MemoryStore {
  readonly data = new Map<string, Uint8Array>();
  write(batch: readonly BatchOp[]): void {
    for (const op of batch) {
      if (op.type === 'put') this.data.set(op.key, op.value);
      else this.data.delete(op.key);
    }
  }
  entries(): { key: string; value: Uint8Array }[] {
    return [...this.data.entries()]
      .map(([key, value]) => ({ key, value }))
      .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  }
}

let index = 0;
/** Apply one command as the FSM would: apply, write the batch, take the changes. */
export function run<C extends Command>(state: ModelState, command: C, store?: MemoryStore): Applied<ResultOf<C>> {
  index += 1;
  const before = modelDigest(state);
  const applied = apply(state, command, { index, term: 1 });
  // apply never writes the model, whatever the outcome.
  assert.equal(modelDigest(state), before, 'apply must not mutate the state');
  if (!applied.result.ok) assert.equal(applied.changes.length, 0, 'a failed command has no changes');
  store?.write(changesToBatch(applied.changes));
  applyChanges(state, applied.changes);
  return applied;
}

/** Apply and expect success; returns the value. */
export function ok<C extends Command>(state: ModelState, command: C, store?: MemoryStore): ResultOf<C> {
  const applied = run(state, command, store);
  if (!applied.result.ok) assert.fail(`expected success, got ${applied.result.error.name}: ${applied.result.error.message}`);
  return applied.result.value;
}

/** Apply and expect an operating error with `code`; checks the model did not change. */
export function fails<C extends Command>(state: ModelState, command: C, code: number): OperatingError {
  const before = modelDigest(state);
  const applied = run(state, command);
  assert.equal(applied.result.ok, false, `expected error ${code}`);
  assert.equal(applied.changes.length, 0);
  assert.equal(modelDigest(state), before, 'a failed command changes nothing');
  if (applied.result.ok) throw new Error('unreachable');
  assert.equal(applied.result.error.code, code, `${applied.result.error.name}: ${applied.result.error.message}`);
  return applied.result.error;
}

/** A bootstrapped cluster named "test" with the root user. */
export function bootstrapped(store?: MemoryStore): ModelState {
  const state = emptyState();
  ok(state, bootstrapCmd(), store);
  return state;
}

/** A small seeded PRNG (xorshift32) for shuffles and generated command sequences. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The model without its live (heartbeat) part and change counter, for deep comparisons. */
export function replicated(state: ModelState): Omit<ModelState, 'live' | 'version'> {
  const { live: _live, version: _version, ...rest } = state;
  // A model loaded from an image holds its users in PackedMaps: compare entries, not classes.
  return { ...rest, users: new Map(rest.users), accessKeys: new Map(rest.accessKeys) };
}

/** A mixed sequence touching every record kind, with failures in between. */
export function scenarioCommands(): Command[] {
  return [
    bootstrapCmd(),
    userCreateCmd('alice', { accessKey: ak(1), secretKey: sk(1) }),
    userCreateCmd('bob', { accessKey: ak(2), secretKey: sk(2), userType: 2 }),
    userCreateCmd('alice', { accessKey: ak(50), secretKey: sk(50) }), // 45
    makeCommand('cluster.setFrozen', { frozen: true }),
    metaNodeAddCmd('127.0.0.1:17210'),
    metaNodeAddCmd('127.0.0.1:17211', { zoneName: 'z2', nodeSetCapacity: 3 }),
    metaNodeAddCmd('127.0.0.1:17212', { zoneName: 'z2', nodeSetCapacity: 3 }),
    metaNodeAddCmd('127.0.0.1:17213', { zoneName: 'z2', nodeSetCapacity: 3 }),
    metaNodeAddCmd('127.0.0.1:17214', { zoneName: 'z2', nodeSetCapacity: 3 }),
    metaNodeAddCmd('127.0.0.1:17210'), // existing
    dataNodeAddCmd('127.0.0.1:17310'),
    dataNodeAddCmd('127.0.0.1:17311', { mediaType: 2 }), // 1: media mismatch
    dataNodeAddCmd('127.0.0.1:17312', { zoneName: 'hdd', mediaType: 2 }),
    makeCommand('ids.reserve', { counter: 'metaPartition', count: 3 }),
    makeCommand('ids.reserve', { counter: 'dataPartition', count: 2 }),
    userUpdateCmd('alice', { accessKey: ak(3), description: 'moved' }),
    userUpdateCmd('bob', { passwordSha1: 'a'.repeat(40) }),
    makeCommand('user.delete', { userId: 'bob' }),
    userCreateCmd('carol', { accessKey: ak(2), secretKey: sk(4) }),
    makeCommand('user.delete', { userId: 'root' }), // 57
  ];
}

/** A vol.createBegin with `mps` meta and `dps` data partitions on the given nodes (ids, addrs). */
export function volCreateBeginCmd(
  name: string,
  owner: string,
  placement: { meta: readonly { nodeId: number; addr: string }[]; data: readonly { nodeId: number; addr: string }[]; mps?: number; dps?: number },
  fields: Partial<Omit<CommandOf<'vol.createBegin'>, 'v' | 'type' | 'name' | 'owner'>> = {},
): CommandOf<'vol.createBegin'> {
  const mps = placement.mps ?? 3;
  const dps = placement.dps ?? 3;
  return makeCommand('vol.createBegin', {
    name,
    owner,
    createTimeUnixSec: T_CLUSTER + 100,
    capacityGB: 10,
    mpReplicaNum: placement.meta.length,
    dpReplicaNum: placement.data.length,
    dpSizeBytes: 120n * 1_073_741_824n,
    volType: 0,
    volStorageClass: 1,
    allowedStorageClass: [1],
    settings: { ...DEFAULT_VOL_SETTINGS, zoneName: 'default' },
    mpPeers: Array.from({ length: mps }, () => [...placement.meta]),
    dpPeers: Array.from({ length: dps }, () => [...placement.data]),
    dpMediaType: 1,
    newOwner: { accessKey: ak(90), secretKey: sk(90), passwordSha1: passwordSha1('CubeFSUser') },
    proposerId: 1,
    ...fields,
  });
}

/** Register one meta and one data node and return their peers. */
export function withNodes(state: ModelState): { meta: { nodeId: number; addr: string }[]; data: { nodeId: number; addr: string }[] } {
  const m = ok(state, metaNodeAddCmd('127.0.0.1:17210'));
  const d = ok(state, dataNodeAddCmd('127.0.0.1:17310'));
  return { meta: [{ nodeId: m.id, addr: '127.0.0.1:17210' }], data: [{ nodeId: d.id, addr: '127.0.0.1:17310' }] };
}

// --- checked runners and vol fixtures (apply-vols, apply-partitions, codec-64bit) -------------
// (An import down here keeps this block an append to the file; imports are hoisted.)
import { assertModel } from '../../src/model/index.js';
import { parseJsonExact, stringifyJson } from '../../src/util/json.js';

/** `ok`, then every model invariant (invariants.ts) must hold. */
export function okChecked<C extends Command>(state: ModelState, command: C, store?: MemoryStore): ResultOf<C> {
  const value = ok(state, command, store);
  assertModel(state, `model after ${command.type}`);
  return value;
}

/** `fails` (code, nothing changed), then every model invariant must still hold. */
export function failsChecked<C extends Command>(state: ModelState, command: C, code: number): OperatingError {
  const error = fails(state, command, code);
  assertModel(state, `model after a refused ${command.type}`);
  return error;
}

export interface Peer {
  readonly nodeId: number;
  readonly addr: string;
}

/** Register `n` meta nodes 10.0.0.i:17210 and `n` data nodes 10.0.1.i:17310 (zone default). */
export function withNodesN(state: ModelState, n: number, store?: MemoryStore): { meta: Peer[]; data: Peer[] } {
  const meta: Peer[] = [];
  const data: Peer[] = [];
  for (let i = 1; i <= n; i++) {
    const addr = `10.0.0.${i}:17210`;
    meta.push({ nodeId: okChecked(state, metaNodeAddCmd(addr), store).id, addr });
  }
  for (let i = 1; i <= n; i++) {
    const addr = `10.0.1.${i}:17310`;
    data.push({ nodeId: okChecked(state, dataNodeAddCmd(addr), store).id, addr });
  }
  return { meta, data };
}

/** The disk paths a commit reports for an intent: `/disk<j>` for replica j of every dp. */
export function diskPathsFor(intent: { readonly dataPartitions: readonly { readonly peers: readonly unknown[] }[] }): string[][] {
  return intent.dataPartitions.map((dp) => dp.peers.map((_, j) => `/disk${j}`));
}

/** Begin and commit a vol (invariants checked after each step); returns the committed vol. */
export function createVol(
  state: ModelState,
  name: string,
  owner: string,
  placement: Parameters<typeof volCreateBeginCmd>[2],
  fields: Parameters<typeof volCreateBeginCmd>[3] = {},
  store?: MemoryStore,
): ResultOf<CommandOf<'vol.createCommit'>> {
  const intent = okChecked(state, volCreateBeginCmd(name, owner, placement, fields), store);
  return okChecked(state, makeCommand('vol.createCommit', { volId: intent.vol.id, dpDiskPaths: diskPathsFor(intent) }), store);
}

// --- comparing views with the captured replies (vol-views, topology-views tests) ---

/** `data` of a captured reply, with 64-bit integers exact. */
export function wireData(body: string): unknown {
  const envelope = parseJsonExact(body) as { code: number; data: unknown };
  assert.equal(envelope.code, 0);
  return envelope.data;
}

/**
 * Same values and JSON types (compared as parsed JSON, for a readable diff), then the same text:
 * key order and exact 64-bit numbers. `expected` may be a parsed sample or a literal.
 */
export function sameJson(actual: unknown, expected: unknown): void {
  const text = stringifyJson(actual);
  const expectedText = stringifyJson(expected);
  assert.deepEqual(parseJsonExact(text), parseJsonExact(expectedText));
  assert.equal(text, expectedText);
}
