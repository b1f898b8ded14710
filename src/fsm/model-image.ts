// The model image: the in-memory model written to one file by a clean stop, so that the next
// start loads it instead of scanning and decoding every record of RocksDB (1M users are 2M
// records: ~35 s to scan and decode, against ~2 s to read an image; bench/results/notes.md).
//
// The image is only a cache of what the store holds; the store stays the truth. It is used only
// when everything says it is the store's exact copy, and only once:
// - the stop writes it after the last store write (written == applied), then puts a random
//   token in the store (IMAGE_KEY); the image names that token, the live database and the
//   applied position;
// - the start uses it only if the store holds the same token and position, the live database
//   is the same, the checksum holds and the model code that wrote it is the code reading it
//   (a fingerprint of the model's compiled files: a new version never reads an old image);
// - either way the start then deletes the token from the store and the file from the disk
//   before anything is applied, so no later state of the store can meet an image again.
// Anything else falls back to the scan, which is always correct.
//
// File: [magic 8][u32 header length][header JSON][users table][access keys table]
//       [chunks: u32 length + msgpack array of puts]...[crc32 of all the bytes before it, u32].
// A table (packed-users.ts: the users with no policy, and their keys) is laid out as in
// packed-table-codec.ts. Integers of the frame are big-endian.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { Packr } from 'msgpackr';
import { packUsers, putChangesOf, RECORD_VERSION, recordCount, type Change, type ModelView, type PackedUsers } from '../model/index.js';
import type { AppliedPosition } from './fsm-keys.js';
import { readTable, tableParts, u32 } from './packed-table-codec.js';

const MAGIC = Buffer.from('CMIMAGE2', 'latin1');
const FORMAT = 2;
const CHECKSUM_BYTES = 4;
/** Puts per msgpack chunk: bounds the memory of one encode or decode step. */
const CHUNK_CHANGES = 8192;
/** A header is a few hundred bytes; anything larger is a corrupt length. */
const HEADER_MAX_BYTES = 64 * 1024;
const U32_BYTES = 4;

// Records keep their shapes (record extension), Maps stay Maps, Sets stay Sets, bigints are
// int64/uint64 and come back as bigints; numbers above 32 bits are float64 and stay numbers.
const packr = new Packr({ useRecords: true, moreTypes: true, mapsAsObjects: false });

export interface ModelImageHeader {
  readonly format: number;
  readonly recordVersion: number;
  /** Fingerprint of the model code that wrote the image (modelCodeFingerprint). */
  readonly code: string;
  /** The random token the stop put in the store beside it. */
  readonly token: string;
  /** The live database's directory name (store-dir.ts). */
  readonly store: string;
  readonly applied: AppliedPosition;
  readonly records: number;
}

/** The image cannot be used; the reason is logged and the start scans the store. */
export class ModelImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelImageError';
  }
}

export function newImageToken(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Writes the image of `model` at `file` durably (temporary file, fsync, rename; the caller
 * fsyncs the directory). Returns its size.
 */
export async function writeModelImage(
  file: string,
  model: ModelView,
  header: Omit<ModelImageHeader, 'format' | 'recordVersion' | 'code' | 'records'>,
  signal?: AbortSignal,
): Promise<number> {
  const full: ModelImageHeader = { format: FORMAT, recordVersion: RECORD_VERSION, code: modelCodeFingerprint(), records: recordCount(model), ...header };
  const headerBytes = Buffer.from(JSON.stringify(full), 'utf8');
  const tmp = `${file}.tmp`;
  const handle = await fsp.open(tmp, 'w');
  let checksum = 0;
  let size = 0;
  const write = async (bytes: Uint8Array): Promise<void> => {
    checksum = zlib.crc32(bytes, checksum);
    size += bytes.byteLength;
    await handle.write(bytes);
  };
  try {
    await write(Buffer.concat([MAGIC, u32(headerBytes.byteLength), headerBytes]));
    const { packed, puts: userPuts } = packUsers(model);
    for (const table of [packed.users, packed.accessKeys]) {
      signal?.throwIfAborted();
      for (const part of tableParts(table)) await write(part);
    }
    let written = packed.users.count + packed.accessKeys.count;
    let chunk: Change[] = [];
    const flushChunk = async (): Promise<void> => {
      const bytes = packr.pack(chunk);
      await write(Buffer.concat([u32(bytes.byteLength), bytes]));
      written += chunk.length;
      chunk = [];
    };
    for (const change of concat<Change>(putChangesOf(model, { users: false }), userPuts)) {
      chunk.push(change);
      if (chunk.length >= CHUNK_CHANGES) {
        signal?.throwIfAborted();
        await flushChunk();
      }
    }
    if (chunk.length > 0) await flushChunk();
    if (written !== full.records) throw new Error(`model image: wrote ${written} records, counted ${full.records}`);
    await handle.write(u32(checksum));
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fsp.rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  await fsp.rename(tmp, file);
  return size + CHECKSUM_BYTES;
}

function* concat<T>(...sources: Iterable<T>[]): Generator<T> {
  for (const source of sources) yield* source;
}

export interface ModelImage {
  readonly header: ModelImageHeader;
  /** The users with no policy and their access keys (packed-users.ts unpackUsers). */
  readonly packed: PackedUsers;
  /** Every other record, as puts. */
  readonly chunks: Iterable<readonly Change[]>;
}

/**
 * The image's contents, after the whole file's checksum held. Throws ModelImageError for a file
 * that is not a whole image written by this model code.
 */
export async function readModelImage(file: string): Promise<ModelImage> {
  const bytes = await fsp.readFile(file).catch((error: unknown) => {
    // Past 2 GiB (about 12M users) one read cannot hold the image: the start scans instead.
    if ((error as NodeJS.ErrnoException).code === 'ERR_FS_FILE_TOO_LARGE') throw new ModelImageError((error as Error).message);
    throw error;
  });
  if (bytes.byteLength < MAGIC.byteLength + U32_BYTES + CHECKSUM_BYTES || !bytes.subarray(0, MAGIC.byteLength).equals(MAGIC)) throw new ModelImageError('not a model image');
  const end = bytes.byteLength - CHECKSUM_BYTES;
  if (zlib.crc32(bytes.subarray(0, end)) !== bytes.readUInt32BE(end)) throw new ModelImageError('checksum mismatch');
  const headerLength = bytes.readUInt32BE(MAGIC.byteLength);
  const bodyStart = MAGIC.byteLength + U32_BYTES + headerLength;
  if (headerLength > HEADER_MAX_BYTES || bodyStart > end) throw new ModelImageError(`header length ${headerLength}`);
  const header = parseHeader(bytes.subarray(MAGIC.byteLength + U32_BYTES, bodyStart));
  const reader = { at: bodyStart };
  const fail = (message: string): Error => new ModelImageError(message);
  const users = readTable(bytes, reader, end, fail);
  const accessKeys = readTable(bytes, reader, end, fail);
  return { header, packed: { users, accessKeys }, chunks: chunksOf(bytes, reader.at, end, header.records - users.count - accessKeys.count) };
}

function* chunksOf(bytes: Buffer, start: number, end: number, records: number): Generator<readonly Change[]> {
  let at = start;
  let seen = 0;
  while (at < end) {
    if (at + U32_BYTES > end) throw new ModelImageError('truncated chunk length');
    const length = bytes.readUInt32BE(at);
    if (at + U32_BYTES + length > end) throw new ModelImageError('truncated chunk');
    const chunk = packr.unpack(bytes.subarray(at + U32_BYTES, at + U32_BYTES + length)) as unknown;
    if (!Array.isArray(chunk)) throw new ModelImageError('a chunk is not a list of records');
    for (const change of chunk as unknown[]) {
      if (typeof change !== 'object' || change === null || (change as { op?: unknown }).op !== 'put') throw new ModelImageError('a chunk holds something other than a put');
    }
    seen += chunk.length;
    at += U32_BYTES + length;
    yield chunk as Change[];
  }
  if (seen !== records) throw new ModelImageError(`holds ${seen} records besides its tables, header says ${records}`);
}

function parseHeader(bytes: Buffer): ModelImageHeader {
  let h: ModelImageHeader;
  try {
    h = JSON.parse(bytes.toString('utf8')) as ModelImageHeader;
  } catch {
    throw new ModelImageError('header is not JSON');
  }
  if (h.format !== FORMAT) throw new ModelImageError(`format ${String(h.format)}, this version reads ${FORMAT}`);
  if (h.recordVersion !== RECORD_VERSION) throw new ModelImageError(`record version ${String(h.recordVersion)}, this version reads ${RECORD_VERSION}`);
  if (h.code !== modelCodeFingerprint()) throw new ModelImageError('written by other model code (another version of cubemaster)');
  return h;
}

let fingerprint: string | null = null;

/**
 * A hash of the compiled model code (every .js file of the model folder): the in-memory shapes
 * of records are what that code makes, so an image is read only by the code that wrote it.
 */
export function modelCodeFingerprint(): string {
  if (fingerprint !== null) return fingerprint;
  const root = path.dirname(fileURLToPath(import.meta.resolve('../model/index.js')));
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.js')) hash.update(path.relative(root, full)).update('\0').update(readFileSync(full)).update('\0');
    }
  };
  walk(root);
  fingerprint = hash.digest('hex');
  return fingerprint;
}
