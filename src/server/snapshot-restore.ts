// Seeds a new master group from a backup file (`cubemaster snapshot restore`): for each new
// member, a state store holding the file's records, and a Raft log that starts right after the
// backup's applied index, so that the group starts where the backup left off:
//
// - store: every record of the file except the FSM's two keys, which are rewritten: the applied
//   index and term stay the backup's, the membership becomes the NEW members (all voters, with
//   their addresses), whatever group the backup came from;
// - log: a snapshot record {index, term, conf = the new members} and a hard state {term, vote
//   none, commit index}. On start, the node finds its state machine exactly at the log's
//   snapshot (reconcileLogWithStateMachine has nothing to do), elects a leader among the new
//   members and appends from index + 1;
// - every target directory must be empty or absent: a restore never mixes with a live member's
//   data. On any failure what this restore created is removed.
//
// The file is read once and verified end to end (snapshot-file.ts); then each new store is
// opened as a master would open it (the model loaded and its invariants checked) and its digest
// compared with the file's.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { MetadataFsm } from '../fsm/metadata-fsm.js';
import { APPLIED_KEY, encodeApplied, encodeMembership, isFsmKey, MEMBERS_KEY, type Membership } from '../fsm/fsm-keys.js';
import { readSnapshotFile, type SnapshotFileHeader, type SnapshotFileTrailer } from '../fsm/snapshot-file.js';
import { StoreDir } from '../fsm/store-dir.js';
import { RaftLogStore } from '../raft/log/log-store.js';
import type { MemberAddress } from '../raft/member-context.js';
import type { StoreLogger } from '../storage/logger.js';
import { StateStore } from '../storage/state-store.js';
import type { PeerConfig } from './config.js';

export interface RestoreTarget {
  readonly id: number;
  readonly walDir: string;
  readonly storeDir: string;
}

export interface RestoreOptions {
  /** The new group: every member, voters all. */
  readonly members: readonly PeerConfig[];
  /** Whose directories to write (a subset of members: one per machine, or all on one). */
  readonly targets: readonly RestoreTarget[];
  readonly logger: StoreLogger;
  /** Records written so far (of about header.recordsEstimate). */
  readonly onRecords?: (written: number, header: SnapshotFileHeader) => void;
}

export interface RestoreReport {
  readonly header: SnapshotFileHeader;
  readonly trailer: SnapshotFileTrailer;
  readonly targets: readonly RestoreTarget[];
}

/** A restore that cannot go on; nothing of it is left behind. */
export class RestoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreError';
  }
}

const BATCH_BYTES = 4 * 1024 * 1024;

export async function restoreSnapshot(bytes: AsyncIterable<Uint8Array>, options: RestoreOptions): Promise<RestoreReport> {
  const { members, targets } = options;
  if (targets.length === 0) throw new RestoreError('no member to restore');
  for (const t of targets) if (!members.some((m) => m.id === t.id)) throw new RestoreError(`member ${t.id} is not in --members`);
  const claimed: Claimed[] = [];
  for (const t of targets) for (const dir of [t.walDir, t.storeDir]) claimed.push(await claimEmptyDir(dir));
  try {
    const { header, trailer } = await writeStores(bytes, options);
    const membership = membershipOf(members);
    for (const t of targets) await writeLog(t.walDir, header, membership, options.logger);
    for (const t of targets) await checkStore(t, trailer, options.logger);
    return { header, trailer, targets };
  } catch (error) {
    // Only what this restore created: the directories were empty or absent before.
    for (const c of claimed.reverse()) await undoClaim(c);
    throw error;
  }
}

/** The new group as the FSM records it: every member a voter, with its addresses. */
export function membershipOf(members: readonly PeerConfig[]): Membership {
  const addresses = new Map<number, MemberAddress>(members.map((m) => [m.id, { httpAddr: `${m.host}:${m.httpPort}`, raftAddr: `${m.host}:${m.raftPort}` }]));
  return { conf: { voters: members.map((m) => m.id).sort((a, b) => a - b), learners: [] }, addresses };
}

interface Claimed {
  readonly dir: string;
  /** The topmost directory this restore created, or null when `dir` existed (empty). */
  readonly createdRoot: string | null;
}

/** Creates `dir` if absent; refuses a non-empty one. */
async function claimEmptyDir(dir: string): Promise<Claimed> {
  let entries: string[];
  try {
    entries = await fsp.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new RestoreError(`cannot use ${dir}: ${(error as Error).message}`);
    const first = await fsp.mkdir(dir, { recursive: true });
    return { dir, createdRoot: first ?? dir };
  }
  if (entries.length > 0) throw new RestoreError(`${dir} is not empty: a restore writes only into empty or new directories (move the old data aside first)`);
  return { dir, createdRoot: null };
}

async function undoClaim(c: Claimed): Promise<void> {
  if (c.createdRoot !== null) {
    await fsp.rm(c.createdRoot, { recursive: true, force: true });
    return;
  }
  for (const name of await fsp.readdir(c.dir).catch(() => [])) await fsp.rm(path.join(c.dir, name), { recursive: true, force: true });
}

async function writeStores(bytes: AsyncIterable<Uint8Array>, options: RestoreOptions): Promise<{ header: SnapshotFileHeader; trailer: SnapshotFileTrailer }> {
  const stores: StateStore[] = [];
  try {
    for (const t of options.targets) {
      const dir = await StoreDir.open(t.storeDir);
      stores.push(await StateStore.open(dir.livePath, { logger: options.logger, name: `restore-${t.id}` }));
    }
    const reader = readSnapshotFile(bytes);
    let batches = stores.map((s) => s.batch());
    let written = 0;
    let pendingBytes = 0;
    for await (const { key, value } of reader.records()) {
      // The FSM's own keys are rewritten below for the new group.
      if (isFsmKey(key) && (equal(key, APPLIED_KEY) || equal(key, MEMBERS_KEY))) continue;
      for (const b of batches) b.put(key, value);
      pendingBytes += key.byteLength + value.byteLength;
      written++;
      if (pendingBytes >= BATCH_BYTES) {
        await Promise.all(batches.map((b) => b.commit()));
        batches = stores.map((s) => s.batch());
        pendingBytes = 0;
        options.onRecords?.(written, await reader.header);
      }
    }
    const header = await reader.header;
    const trailer = reader.trailer();
    const membership = membershipOf(options.members);
    for (const b of batches) {
      b.put(APPLIED_KEY, encodeApplied({ index: header.index, term: header.term }));
      b.put(MEMBERS_KEY, encodeMembership(membership));
    }
    await Promise.all(batches.map((b) => b.commit()));
    options.onRecords?.(written, header);
    await Promise.all(stores.map((s) => s.flush()));
    return { header, trailer };
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
}

async function writeLog(walDir: string, header: SnapshotFileHeader, membership: Membership, logger: StoreLogger): Promise<void> {
  const log = await RaftLogStore.open(walDir, { logger });
  try {
    await log.save({
      snapshot: { index: header.index, term: header.term, conf: membership.conf },
      entries: [],
      hardState: { term: header.term, vote: 0, commit: header.index },
    });
  } finally {
    await log.close();
  }
}

/** Opens the new store as a master would and compares its model with the file. */
async function checkStore(target: RestoreTarget, trailer: SnapshotFileTrailer, logger: StoreLogger): Promise<void> {
  const fsm = await MetadataFsm.open({ storeDir: target.storeDir, logger });
  try {
    const digest = fsm.digest();
    if (digest !== trailer.stateDigest) throw new RestoreError(`member ${target.id}: the restored state digests to ${digest}, the file to ${trailer.stateDigest}`);
  } finally {
    await fsm.close();
  }
}

/** The directories of member `id` under `dataDir`: `<dataDir>/<id>/{wal,store}`, or `<dataDir>/{wal,store}` for a lone target. */
export function targetDirs(dataDir: string, id: number, lone: boolean): RestoreTarget {
  const base = lone ? dataDir : path.join(dataDir, String(id));
  return { id, walDir: path.join(base, 'wal'), storeDir: path.join(base, 'store') };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}
