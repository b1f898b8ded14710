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
// File: [magic 8][u32 header length][header JSON][chunks: u32 length + msgpack array of puts]...
//       [sha256 of all the bytes before it, 32].
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';
import { putChangesOf, RECORD_VERSION, recordCount, type Change, type ModelView } from '../model/index.js';
import type { AppliedPosition } from './fsm-keys.js';

const MAGIC = Buffer.from('CMIMAGE1', 'latin1');
const FORMAT = 1;
const HASH_BYTES = 32;
/** Puts per msgpack chunk: bounds the memory of one encode or decode step. */
const CHUNK_CHANGES = 8192;
/** A header is a few hundred bytes; anything larger is a corrupt length. */
const HEADER_MAX_BYTES = 64 * 1024;

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
  const hash = createHash('sha256');
  let size = 0;
  const write = async (bytes: Buffer): Promise<void> => {
    hash.update(bytes);
    size += bytes.byteLength;
    await handle.write(bytes);
  };
  try {
    await write(Buffer.concat([MAGIC, u32(headerBytes.byteLength), headerBytes]));
    let chunk: Change[] = [];
    let written = 0;
    const flushChunk = async (): Promise<void> => {
      const packed = packr.pack(chunk);
      await write(Buffer.concat([u32(packed.byteLength), packed]));
      written += chunk.length;
      chunk = [];
    };
    for (const change of putChangesOf(model)) {
      chunk.push(change);
      if (chunk.length >= CHUNK_CHANGES) {
        signal?.throwIfAborted();
        await flushChunk();
      }
    }
    if (chunk.length > 0) await flushChunk();
    if (written !== full.records) throw new Error(`model image: wrote ${written} records, counted ${full.records}`);
    await handle.write(hash.digest());
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fsp.rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  await fsp.rename(tmp, file);
  return size + HASH_BYTES;
}

/**
 * Every put of the image, in chunks, after the whole file's checksum held. Throws
 * ModelImageError for a file that is not a whole image written by this model code.
 */
export async function readModelImage(file: string): Promise<{ header: ModelImageHeader; chunks: Iterable<readonly Change[]> }> {
  const bytes = await fsp.readFile(file);
  if (bytes.byteLength < MAGIC.byteLength + 4 + HASH_BYTES || !bytes.subarray(0, MAGIC.byteLength).equals(MAGIC)) throw new ModelImageError('not a model image');
  const end = bytes.byteLength - HASH_BYTES;
  if (!createHash('sha256').update(bytes.subarray(0, end)).digest().equals(bytes.subarray(end))) throw new ModelImageError('checksum mismatch');
  const headerLength = bytes.readUInt32BE(MAGIC.byteLength);
  const bodyStart = MAGIC.byteLength + 4 + headerLength;
  if (headerLength > HEADER_MAX_BYTES || bodyStart > end) throw new ModelImageError(`header length ${headerLength}`);
  const header = parseHeader(bytes.subarray(MAGIC.byteLength + 4, bodyStart));
  return { header, chunks: chunksOf(bytes, bodyStart, end, header.records) };
}

function* chunksOf(bytes: Buffer, start: number, end: number, records: number): Generator<readonly Change[]> {
  let at = start;
  let seen = 0;
  while (at < end) {
    if (at + 4 > end) throw new ModelImageError('truncated chunk length');
    const length = bytes.readUInt32BE(at);
    if (at + 4 + length > end) throw new ModelImageError('truncated chunk');
    const chunk = packr.unpack(bytes.subarray(at + 4, at + 4 + length)) as unknown;
    if (!Array.isArray(chunk)) throw new ModelImageError('a chunk is not a list of records');
    for (const change of chunk as unknown[]) {
      if (typeof change !== 'object' || change === null || (change as { op?: unknown }).op !== 'put') throw new ModelImageError('a chunk holds something other than a put');
    }
    seen += chunk.length;
    at += 4 + length;
    yield chunk as Change[];
  }
  if (seen !== records) throw new ModelImageError(`holds ${seen} records, header says ${records}`);
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

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
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
