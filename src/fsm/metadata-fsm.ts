// MetadataFsm: the replicated state machine of the master. Each member applies the same
// committed entries to the same in-memory model and the same RocksDB state:
// - per Ready, every entry is decided by the model's pure apply() (checks, then changes), the
//   changes go to the in-memory model at once (the next entry's apply depends on them) and into
//   ONE RocksDB write batch together with the applied index; the batch commits before any
//   result is handed back, so no proposer hears "done" before the store has it. A failed commit
//   is fatal (the member stops and replays from its durable applied index on restart).
// - a follower's snapshot is the model's records frozen at the applied index, encoded as they
//   stream, the users with no policy and their keys as packed tables (openSnapshot,
//   snapshot-stream.ts); a backup's is a consistent RocksDB view (openStoreSnapshot). A
//   received snapshot is built in a new database beside the live one and swapped in
//   (store-dir.ts).
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { setImmediate } from 'node:timers/promises';
import {
  apply as applyCommand,
  applyChanges,
  bytesEqualAt,
  changesToBatch,
  checkModel,
  decodeCommand,
  digestRecords,
  emptyState,
  freezeRecords,
  loadPut,
  loadRecord,
  modelDigest,
  recordCount,
  unpackUsers,
  type ApplyResult,
  type Change,
  type ModelState,
  type ModelView,
  type PackedUsers,
} from '../model/index.js';
import { applyConfChange, decodeConfChange, EntryType, type ConfState, type Entry, type NodeId, type SnapshotMeta } from '../raft/core/index.js';
import { decodeMemberContext, type MemberAddress } from '../raft/member-context.js';
import type { SnapshotSource, StateMachine } from '../raft/state-machine.js';
import type { DiskFaults } from '../storage/disk-faults.js';
import type { DiskSpaceReporter } from '../storage/disk-space.js';
import type { StoreLogger } from '../storage/logger.js';
import { StateStore } from '../storage/state-store.js';
import { assert } from '../util/assert.js';
import { OperatingError } from '../util/errors.js';
import {
  APPLIED_KEY,
  decodeApplied,
  decodeMembership,
  EMPTY_MEMBERSHIP,
  encodeApplied,
  IMAGE_KEY,
  encodeMembership,
  isFsmKey,
  MEMBERS_KEY,
  type Membership,
} from './fsm-keys.js';
import { readAhead } from '../util/read-ahead.js';
import { ModelImageError, newImageToken, readModelImage, writeModelImage } from './model-image.js';
import { decodeSnapshotChunks, encodeSnapshotChunks, SnapshotStreamError, type KeyValue } from './snapshot-codec.js';
import { modelSnapshotBatches, PackedIntake, packedRecordPairs, PairUse } from './snapshot-stream.js';
import { StoreDir } from './store-dir.js';
import { WriteBehind } from './write-behind.js';

/** Moments of a snapshot install where crash tests stop the process (test-only hook). */
export type InstallPoint = 'snapshot-staged' | 'snapshot-promoted';

export interface MetadataFsmOptions {
  readonly storeDir: string;
  /** Test-only: called at each install point; a crash test kills the process there. */
  readonly onInstallPoint?: (point: InstallPoint) => void;
  readonly logger: StoreLogger;
  readonly snapshotChunkSizeBytes?: number;
  readonly closeWarnAfterMs?: number;
  /** A store write failed after its entries were applied to the model: the member must stop. */
  readonly onWriteFailure?: (error: Error) => void;
  /** Hears every completed store write (ops, bytes, seconds), for metrics. */
  readonly onStoreWrite?: (ops: number, bytes: number, seconds: number) => void;
  /** Told when a store write is refused for lack of space (it is retried), and when writes succeed again. */
  readonly diskSpace?: DiskSpaceReporter;
  /** Chaos runs and tests only: injected slow, full or failing disk calls of the live store. */
  readonly faults?: DiskFaults;
  /**
   * A clean close writes the model image (model-image.ts) when the model holds at least this
   * many records; below it the start's scan is fast anyway, and the stop stays in milliseconds.
   * A follower's snapshot carries the users as packed tables from the same size on.
   */
  readonly modelImageMinRecords?: number;
}

/** Below ~20k records a scan loads in well under a second (bench/results/notes.md). */
export const MODEL_IMAGE_MIN_RECORDS_DEFAULT = 20_000;

const encoder = new TextEncoder();
/** Bytes of a staged snapshot's write batches. */
const STAGE_BATCH_BYTES = 4 * 1024 * 1024;
/** audit() gives up waiting for a quiet moment after this many drains (it reports what it saw). */
const AUDIT_DRAIN_ATTEMPTS_MAX = 100;

/** The result handed to a proposer: the command's own result, or null for entries without one. */
export type EntryResult = ApplyResult<unknown> | null;

export class MetadataFsm implements StateMachine {
  private store: StateStore;
  private model: ModelState;
  private applied = { index: 0, term: 0 };
  private membership: Membership = EMPTY_MEMBERSHIP;
  private staged: { path: string; store: StateStore | null; meta: SnapshotMeta; loaded: LoadedState | null } | null = null;
  private readonly membershipListeners: ((m: Membership) => void)[] = [];
  private readonly writer: WriteBehind;
  /** Aborts a model image being written at close (abandonModelImage). */
  private readonly imageAbort = new AbortController();

  private constructor(
    private readonly dir: StoreDir,
    store: StateStore,
    private readonly options: MetadataFsmOptions,
  ) {
    this.store = store;
    this.model = emptyState();
    this.writer = new WriteBehind({
      store: () => this.store,
      written: this.applied,
      endOps: (end, batch) => batch.put(APPLIED_KEY, encodeApplied(end)),
      onFailure: (error) => {
        options.logger.error({ err: error, applied: this.applied.index, written: this.writer.written.index }, 'state store write failed; the member must stop');
        options.onWriteFailure?.(error);
      },
      onWritten: options.onStoreWrite,
      diskSpace: options.diskSpace,
    });
  }

  /** Opens the live database named by CURRENT and loads the model from it. */
  static async open(options: MetadataFsmOptions): Promise<MetadataFsm> {
    const dir = await StoreDir.open(options.storeDir);
    const store = await StateStore.open(dir.livePath, { logger: options.logger, name: 'state', closeWarnAfterMs: options.closeWarnAfterMs, faults: options.faults });
    const fsm = new MetadataFsm(dir, store, options);
    try {
      await fsm.load();
    } catch (error) {
      await store.close();
      throw error;
    }
    return fsm;
  }

  /** The in-memory model, fully applied up to appliedIndex(). */
  get view(): ModelView {
    return this.model;
  }

  get members(): Membership {
    return this.membership;
  }

  onMembershipChange(listener: (m: Membership) => void): void {
    this.membershipListeners.push(listener);
  }

  appliedIndex(): number {
    return this.applied.index;
  }

  appliedTerm(): number {
    return this.applied.term;
  }

  confState(): ConfState {
    return this.membership.conf;
  }

  digest(): string {
    return modelDigest(this.model);
  }

  /** Digests of the model and of the store's records (from one consistent view), for audits. */
  async audit(): Promise<{ applied: number; modelDigest: string; storeDigest: string; storeApplied: number }> {
    // The store must hold what the model holds: wait until no write is pending, then read both
    // in the same turn of the event loop (an apply could otherwise slip in between).
    for (let attempt = 0; ; attempt++) {
      await this.writer.drain();
      if (this.writer.written.index === this.applied.index || attempt >= AUDIT_DRAIN_ATTEMPTS_MAX) break;
    }
    const applied = this.applied.index;
    const model = this.digest();
    const snapshot = this.store.snapshot();
    try {
      const appliedValue = await snapshot.get(APPLIED_KEY);
      const records: { key: Uint8Array; value: Uint8Array }[] = [];
      for await (const batch of snapshot.iterate().batches()) for (const { key, value } of batch) if (!isFsmKey(key)) records.push({ key, value });
      return { applied, modelDigest: model, storeDigest: digestRecords(records), storeApplied: appliedValue === null ? 0 : decodeApplied(appliedValue).index };
    } finally {
      await snapshot.release();
    }
  }

  async apply(entries: readonly Entry[]): Promise<readonly EntryResult[]> {
    if (entries.length === 0) return [];
    assert(entries[0].index === this.applied.index + 1, () => `apply ${entries[0].index} after ${this.applied.index}`);
    await this.writer.backpressure();
    const batch = this.writer.batch();
    const results: EntryResult[] = [];
    let membershipChanged = false;
    for (const e of entries) {
      if (e.type === EntryType.ConfChange) {
        this.membership = applyMembershipChange(this.membership, e.data);
        membershipChanged = true;
        results.push(null);
        continue;
      }
      if (e.data.byteLength === 0) {
        results.push(null); // a leader's no-op
        continue;
      }
      let command;
      try {
        command = decodeCommand(e.data);
      } catch (error) {
        // The same bytes fail the same way on every member: a deterministic error result.
        results.push({ ok: false, error: error instanceof OperatingError ? error : new OperatingError(6, String(error)) });
        continue;
      }
      const applied = applyCommand(this.model, command, { index: e.index, term: e.term });
      for (const op of changesToBatch(applied.changes)) {
        // Keys and records are encoded afresh for this batch and never touched again.
        if (op.type === 'put') batch.putOwned(Buffer.from(op.key, 'utf8'), ownedBuffer(op.value));
        else batch.delete(encoder.encode(op.key));
      }
      applyChanges(this.model, applied.changes);
      results.push(applied.result);
    }
    const last = entries[entries.length - 1];
    if (membershipChanged) batch.put(MEMBERS_KEY, encodeMembership(this.membership));
    this.applied = { index: last.index, term: last.term };
    // Written behind the model (write-behind.ts): the applied index goes in with the batch.
    this.writer.endApply(this.applied);
    if (membershipChanged) for (const listener of this.membershipListeners) listener(this.membership);
    return results;
  }

  async flush(): Promise<number> {
    // Every batch written before the flush starts is in the memtable the flush writes out.
    await this.writer.drain();
    const index = this.writer.written.index;
    await this.store.flush();
    return index;
  }

  /**
   * The snapshot a follower is sent: the model's records as of now (freezeRecords) with the
   * applied index and the membership of this moment, encoded as the stream goes (most users as
   * packed tables, from which the follower writes their records: snapshot-stream.ts). The model
   * is the store's exact content at its applied index, so the follower gets what a read of the
   * store would give at that index (in another order), without iterating RocksDB: that costs
   * ~7 µs per record in rocksdb-native (an external ArrayBuffer per key and per value), twice
   * what encoding a record from the model costs, and it was most of the leader's work in a
   * catch-up. Writes go on meanwhile; they change the model, never the frozen records.
   */
  async openSnapshot(): Promise<SnapshotSource> {
    // One synchronous turn: no apply can come between the records and the index they are at.
    const frozen = freezeRecords(this.model);
    // Packed tables where the image would use them: a small model is records only, as a scan loads it.
    const packUsersAt = recordCount(this.model) >= (this.options.modelImageMinRecords ?? MODEL_IMAGE_MIN_RECORDS_DEFAULT) ? this.model.users.size : null;
    const applied = this.applied;
    const membership = this.membership;
    assert(applied.index > 0, 'snapshot of a state that applied nothing');
    const fsmPairs: KeyValue[] = [{ key: APPLIED_KEY, value: encodeApplied(applied) }];
    // The store holds a membership once a configuration change was applied, as the model does.
    if (membership !== EMPTY_MEMBERSHIP) fsmPairs.push({ key: MEMBERS_KEY, value: encodeMembership(membership) });
    const chunkSizeBytes = this.options.snapshotChunkSizeBytes ?? 1024 * 1024;
    return Promise.resolve({
      meta: { index: applied.index, term: applied.term, conf: membership.conf },
      chunks: (signal) => encodeSnapshotChunks(abortable(modelSnapshotBatches(fsmPairs, frozen, packUsersAt), signal), chunkSizeBytes),
      release: () => Promise.resolve(),
    });
  }

  /**
   * The store's records in key order from one consistent RocksDB view, with the applied index and
   * membership read inside that view: what a backup file holds (state-export.ts), where the
   * order is part of the format.
   */
  async openStoreSnapshot(): Promise<SnapshotSource> {
    await this.writer.drain();
    const snapshot = this.store.snapshot();
    try {
      // The meta comes from inside the view, so that it describes exactly these bytes.
      const appliedValue = await snapshot.get(APPLIED_KEY);
      const membersValue = await snapshot.get(MEMBERS_KEY);
      assert(appliedValue !== null, 'snapshot of a state that applied nothing');
      const applied = decodeApplied(appliedValue);
      const membership = membersValue === null ? EMPTY_MEMBERSHIP : decodeMembership(membersValue);
      const chunkSizeBytes = this.options.snapshotChunkSizeBytes ?? 1024 * 1024;
      return {
        meta: { index: applied.index, term: applied.term, conf: membership.conf },
        // Read ahead: the next batch comes from RocksDB while this one is encoded and sent.
        chunks: (signal) => encodeSnapshotChunks(readAhead(abortable(snapshot.iterate().batches(), signal)), chunkSizeBytes),
        release: () => snapshot.release(),
      };
    } catch (error) {
      await snapshot.release();
      throw error;
    }
  }

  async stageSnapshot(meta: SnapshotMeta, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    assert(this.staged === null, 'a snapshot is already staged');
    const path = await this.dir.newStagingPath();
    const store = await StateStore.open(path, { logger: this.options.logger, name: 'state-staging' });
    this.staged = { path, store, meta, loaded: null };
    let batch = store.batch();
    // One batch is written while the next is decoded (the decoding is the work; waiting for
    // each write left the decoder idle); the next write waits for the one in flight.
    // (Set inside writeIfFull: declared wide, so that the checker does not narrow it to null.)
    let writing = null as Promise<void> | null;
    const writeIfFull = async (): Promise<void> => {
      if (batch.sizeBytes < STAGE_BATCH_BYTES) return;
      await writing;
      writing = batch.commit();
      writing.catch(() => undefined); // awaited at the next batch or below
      batch = store.batch();
    };
    let appliedSeen = null;
    // The model is built while the pairs stream in: the install then needs no second scan.
    const loader = new ModelLoader();
    // The packed users of a stream from a leader's model (snapshot-stream.ts).
    const intake = new PackedIntake();
    try {
      for await (const pairs of decodeSnapshotChunks(chunks)) {
        for (const pair of pairs) {
          // The decoder's pairs are views of chunks nobody writes again: no copies.
          const key = ownedBuffer(pair.key);
          const value = ownedBuffer(pair.value);
          if (intake.take(key, value) === PairUse.Table) {
            const tables = intake.takeTables();
            if (tables === null) continue;
            // Before the next pair, which may be a record: the model starts from the tables.
            loader.useTables(tables);
            // Their records go to the store as it encodes them; the event loop gets a turn per batch.
            for (const records of packedRecordPairs(tables)) {
              for (const record of records) batch.putOwned(ownedBuffer(record.key), ownedBuffer(record.value));
              await writeIfFull();
              await setImmediate();
            }
            continue;
          }
          if (bytesEqual(key, APPLIED_KEY)) appliedSeen = decodeApplied(value);
          loader.add(key, value);
          batch.putOwned(key, value);
        }
        await writeIfFull();
      }
      intake.finish();
    } catch (error) {
      // The staged store is closed by the caller's discard: no write may still be going on.
      await writing?.catch(() => undefined);
      throw error;
    }
    await writing;
    await batch.commit();
    if (appliedSeen === null || appliedSeen.index !== meta.index || appliedSeen.term !== meta.term) {
      throw new SnapshotStreamError(`snapshot stream holds applied ${JSON.stringify(appliedSeen)}, announced ${meta.term}/${meta.index}`);
    }
    const loaded = loader.finish();
    // Durable before it can become live: SST files and manifest synced.
    await store.flush();
    await store.close();
    this.staged.store = null;
    this.staged.loaded = loaded;
  }

  async discardStagedSnapshot(): Promise<void> {
    const staged = this.staged;
    this.staged = null;
    if (staged === null) return;
    if (staged.store !== null) await staged.store.close();
    await rm(staged.path, { recursive: true, force: true });
  }

  async installStagedSnapshot(meta: SnapshotMeta): Promise<void> {
    const staged = this.staged;
    assert(staged !== null && staged.store === null, 'install without a complete staged snapshot');
    assert(staged.meta.index === meta.index && staged.meta.term === meta.term, 'installing a different snapshot than staged');
    this.staged = null;
    this.options.onInstallPoint?.('snapshot-staged');
    await this.writer.drain();
    await this.store.close();
    const { livePath, oldPath } = await this.dir.promote(staged.path);
    this.options.onInstallPoint?.('snapshot-promoted');
    this.store = await StateStore.open(livePath, { logger: this.options.logger, name: 'state', closeWarnAfterMs: this.options.closeWarnAfterMs, faults: this.options.faults });
    assert(staged.loaded !== null, 'a complete staged snapshot has its model');
    this.adopt(staged.loaded);
    await rm(oldPath, { recursive: true, force: true });
    for (const listener of this.membershipListeners) listener(this.membership);
  }

  /**
   * For the stop: a state write waiting for disk space is abandoned, and nothing more is written
   * (writes already going through finish). Applies no longer wait for the store, so the Raft
   * loop can end; the log replays what was not written at the next start.
   */
  stopWaitingForSpace(): void {
    this.writer.close();
  }

  /** For a hurried stop: a model image being written is given up (the next start scans). */
  abandonModelImage(): void {
    this.imageAbort.abort(new Error('the stop was hurried'));
  }

  async close(): Promise<void> {
    await this.discardStagedSnapshot();
    // A failed write was reported when it happened; what is pending goes to the store first,
    // unless it waits for disk space: then it is dropped (the Raft log replays it at start).
    this.stopWaitingForSpace();
    await this.writer.drain().catch(() => undefined);
    await this.writeImage().catch((err: unknown) => this.options.logger.warn({ err }, 'model image not written; the next start scans the store'));
    await this.store.close();
  }

  /**
   * The model image for the next start, when the store holds exactly the model (every apply
   * written) and the model is large enough for a scan to be slow. The image goes first, then
   * its token into the store: a stop cut in between leaves an image without a token, unused.
   */
  private async writeImage(): Promise<void> {
    const minRecords = this.options.modelImageMinRecords ?? MODEL_IMAGE_MIN_RECORDS_DEFAULT;
    if (this.writer.written.index !== this.applied.index || this.applied.index === 0 || recordCount(this.model) < minRecords) return;
    const startedMs = performance.now();
    // Checked here rather than at the start that reads it: the start is what an operator waits
    // for. A model that breaks an invariant gets no image, and the next start's scan refuses it.
    const problems = checkModel(this.model);
    if (problems.length > 0) {
      this.options.logger.error({ problems: problems.slice(0, 5) }, 'model is inconsistent: no model image written');
      return;
    }
    const token = newImageToken();
    const bytes = await writeModelImage(this.dir.imagePath, this.model, { token, store: this.dir.live, applied: this.applied }, this.imageAbort.signal);
    this.dir.syncRoot();
    await this.store.batch().put(IMAGE_KEY, Buffer.from(token, 'latin1')).commit();
    this.options.logger.info({ applied: this.applied.index, bytes, ms: Math.round(performance.now() - startedMs) }, 'model image written');
  }

  /**
   * Rebuilds the model, applied index and membership: from the model image a clean stop left,
   * when it is the store's exact copy, else from a scan of the live store.
   */
  private async load(): Promise<void> {
    const fromImage = await this.loadImage();
    if (fromImage !== null) return this.adopt(fromImage);
    const loader = new ModelLoader();
    // Read ahead: RocksDB reads the next batch while this one is decoded.
    for await (const batch of readAhead(this.store.iterate().batches())) for (const { key, value } of batch) loader.add(key, value);
    this.adopt(loader.finish());
  }

  /** The image's state, or null (with the reason logged); the image and its token are gone after. */
  private async loadImage(): Promise<LoadedState | null> {
    const startedMs = performance.now();
    const file = this.dir.imagePath;
    const tokenValue = await this.store.get(IMAGE_KEY);
    try {
      if (tokenValue === null) return null;
      const appliedValue = await this.store.get(APPLIED_KEY);
      const membersValue = await this.store.get(MEMBERS_KEY);
      const expect = { token: tokenValue.toString('latin1'), store: this.dir.live, applied: appliedValue === null ? null : decodeApplied(appliedValue) };
      const image = await readModelImage(file);
      const { header } = image;
      if (header.token !== expect.token || header.store !== expect.store || header.applied.index !== expect.applied?.index || header.applied.term !== expect.applied.term) {
        throw new ModelImageError(`does not match the store (image ${header.store} at ${header.applied.index}, store ${expect.store} at ${expect.applied?.index ?? 0})`);
      }
      // The stop that wrote the image checked this very model (writeImage).
      const loader = new ModelLoader(unpackUsers(image.packed, { checked: true }));
      loader.add(APPLIED_KEY, appliedValue!);
      if (membersValue !== null) loader.add(MEMBERS_KEY, membersValue);
      for (const chunk of image.chunks) for (const change of chunk) loader.addChange(change);
      // The stop that wrote the image checked this very model (writeImage).
      const loaded = loader.finish({ checked: true });
      this.options.logger.info({ applied: header.applied.index, records: header.records, ms: Math.round(performance.now() - startedMs) }, 'model loaded from the image of the last clean stop');
      return loaded;
    } catch (error) {
      if (!(error instanceof ModelImageError) && (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.options.logger.warn({ reason: (error as Error).message }, 'model image not used; scanning the store');
      return null;
    } finally {
      // Used once at most: no later state of the store may ever meet this image.
      if (tokenValue !== null) await this.store.batch().delete(IMAGE_KEY).commit();
      // Most starts find no image: no unlink and no directory fsync for them.
      if (existsSync(file)) {
        await rm(file, { force: true });
        this.dir.syncRoot();
      }
    }
  }

  private adopt(loaded: LoadedState): void {
    this.model = loaded.model;
    this.applied = loaded.applied;
    this.membership = loaded.membership;
    this.writer.reset(loaded.applied);
  }
}

function applyMembershipChange(m: Membership, data: Uint8Array): Membership {
  const change = decodeConfChange(data);
  const addresses = new Map<NodeId, MemberAddress>(m.addresses);
  const address = decodeMemberContext(change.context);
  if (address !== null) addresses.set(change.nodeId, address);
  const conf = applyConfChange(m.conf, change);
  for (const id of [...addresses.keys()]) if (!conf.voters.includes(id) && !conf.learners.includes(id)) addresses.delete(id);
  return { conf, addresses };
}

async function* abortable<T>(source: AsyncIterable<T> & { release?: () => Promise<void> }, signal: AbortSignal): AsyncGenerator<T> {
  for await (const item of source) {
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('snapshot stream aborted');
    yield item;
  }
}

/** A Buffer over the same memory (records are Buffers already; a plain Uint8Array gets a view). */
function ownedBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && bytesEqualAt(a, 0, b, 0, a.byteLength);
}

interface LoadedState {
  readonly model: ModelState;
  readonly applied: { index: number; term: number };
  readonly membership: Membership;
}

/** Builds the model, applied index and membership from a store's pairs, in any order. */
class ModelLoader {
  private model: ModelState;
  private recordLoaded = false;
  private applied = { index: 0, term: 0 };
  private membership = EMPTY_MEMBERSHIP;

  /** `tables`: the maps of users and access keys to start from (a model image's packed tables). */
  constructor(tables?: Parameters<typeof emptyState>[0]) {
    this.model = emptyState(tables);
  }

  add(key: Uint8Array, value: Uint8Array): void {
    if (isFsmKey(key)) {
      if (bytesEqual(key, APPLIED_KEY)) this.applied = decodeApplied(value);
      else if (bytesEqual(key, MEMBERS_KEY)) this.membership = decodeMembership(value);
      return;
    }
    if (loadRecord(this.model, key, value)) this.recordLoaded = true;
  }

  /** Packed tables that were checked on arrival (a snapshot's), before any record. */
  useTables(packed: PackedUsers): void {
    if (this.recordLoaded) throw new SnapshotStreamError('packed tables after the records they stand for');
    this.model = emptyState(unpackUsers(packed, { checked: true }));
  }

  /** A record as the put that recreates it (a model image's content). */
  addChange(change: Change): void {
    loadPut(this.model, change);
  }

  /** The state, once its invariants hold (a store that breaks them is not used), unless already checked. */
  finish(options: { checked?: boolean } = {}): LoadedState {
    const problems = options.checked === true ? [] : checkModel(this.model);
    if (problems.length > 0) throw new Error(`state store is inconsistent: ${problems.slice(0, 5).join('; ')}`);
    return { model: this.model, applied: this.applied, membership: this.membership };
  }
}
